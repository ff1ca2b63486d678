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
import sys
import urllib.request

import websocket


class Tab:
    def __init__(self, port, url):
        req = urllib.request.Request("http://127.0.0.1:%s/json/new?about:blank" % port, method="PUT")
        with urllib.request.urlopen(req, timeout=10) as r:
            info = json.load(r)
        self.port, self.id = port, info["id"]
        self.ws = websocket.create_connection(info["webSocketDebuggerUrl"], timeout=30)
        self.n = 0

    def call(self, method, **params):
        self.n += 1
        self.ws.send(json.dumps({"id": self.n, "method": method, "params": params}))
        while True:
            m = json.loads(self.ws.recv())
            if m.get("id") == self.n:
                if "error" in m:
                    raise RuntimeError("%s: %s" % (method, m["error"]))
                return m.get("result", {})

    def close(self):
        self.ws.close()
        urllib.request.urlopen("http://127.0.0.1:%s/json/close/%s" % (self.port, self.id), timeout=10).read()


def main(argv):
    port, url, path = argv[1:4]
    with open(path) as f:
        sc = json.load(f)
    tab = Tab(port, url)
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
