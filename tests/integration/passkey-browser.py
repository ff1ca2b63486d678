#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Drive headless Chromium's virtual WebAuthn authenticator (DevTools
protocol, with Debian's python3-websocket) through the test page.

  passkey-browser.py PORT URL SCENARIO.json

SCENARIO is {"authenticator": {...options...}, "steps": ["register('a')", ...]}:
one fresh tab and authenticator, then each step's JavaScript (an async
function of the page) awaited in turn. Prints one JSON line a step: the
value it returned, or {"error": "..."} when it threw.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cdp import Tab  # noqa: E402 (beside this file)


def main(argv):
    port, url, path = argv[1:4]
    with open(path) as f:
        sc = json.load(f)
    tab = Tab(port)
    try:
        tab.call("Page.enable")
        tab.call("Runtime.enable")
        tab.call("WebAuthn.enable", enableUI=False)
        opts = {"protocol": "ctap2", "ctap2Version": "ctap2_1", "transport": "internal",
                "hasResidentKey": True, "hasUserVerification": True, "isUserVerified": True,
                "automaticPresenceSimulation": True}
        opts.update(sc.get("authenticator", {}))
        tab.call("WebAuthn.addVirtualAuthenticator", options=opts)
        tab.call("Page.navigate", url=url)
        for _ in range(50):
            r = tab.call("Runtime.evaluate", expression="typeof register === 'function'", returnByValue=True)
            if r["result"].get("value"):
                break
            __import__("time").sleep(0.1)
        for step in sc["steps"]:
            r = tab.call("Runtime.evaluate", expression=step, awaitPromise=True, returnByValue=True)
            if "exceptionDetails" in r:
                ex = r["exceptionDetails"]
                print(json.dumps({"error": ex.get("exception", {}).get("description", ex.get("text"))}))
            else:
                print(r["result"].get("value"))
            sys.stdout.flush()
    finally:
        tab.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
