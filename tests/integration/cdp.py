# SPDX-License-Identifier: MIT
"""A client of Chromium's DevTools protocol for the browser tests, on
Debian's python3-websocket: a tab, its commands and events, and what a
person does on a page (keys, typing, clicks), with waits for what the page
shows. Imported by console-browser.py and passkey-browser.py."""
import json
import time
import urllib.request

import websocket


class Timeout(Exception):
    pass


class Tab:
    def __init__(self, port):
        req = urllib.request.Request("http://127.0.0.1:%s/json/new?about:blank" % port, method="PUT")
        with urllib.request.urlopen(req, timeout=10) as r:
            info = json.load(r)
        self.port, self.id = port, info["id"]
        self.ws = websocket.create_connection(info["webSocketDebuggerUrl"], timeout=60)
        self.n = 0
        self.events = []

    def call(self, method, **params):
        self.n += 1
        self.ws.send(json.dumps({"id": self.n, "method": method, "params": params}))
        while True:
            m = json.loads(self.ws.recv())
            if m.get("id") == self.n:
                if "error" in m:
                    raise RuntimeError("%s: %s" % (method, m["error"]))
                return m.get("result", {})
            if "method" in m:
                self.events.append(m)

    def js(self, expr, await_promise=True):
        r = self.call("Runtime.evaluate", expression=expr, awaitPromise=await_promise, returnByValue=True)
        if "exceptionDetails" in r:
            ex = r["exceptionDetails"]
            raise RuntimeError(ex.get("exception", {}).get("description", ex.get("text")))
        return r["result"].get("value")

    def wait(self, expr, timeout=15.0, what=None):
        """Poll the page until expr is truthy; its value."""
        end = time.monotonic() + timeout
        while True:
            # A navigation to a page with Cross-Origin-Opener-Policy swaps
            # the renderer: for a moment there is a document without a body.
            try:
                v = self.js(expr)
            except RuntimeError as e:
                v, last = None, e
            else:
                last = None
            if v:
                return v
            if time.monotonic() > end:
                raise Timeout("%s: not true after %.0f s: %s%s" % (what or "wait", timeout, expr,
                              " (%s)" % last if last else ""))
            time.sleep(0.05)

    def wait_event(self, method, pred=lambda p: True, timeout=15.0):
        end = time.monotonic() + timeout
        while True:
            for i, e in enumerate(self.events):
                if e["method"] == method and pred(e["params"]):
                    del self.events[i]
                    return e["params"]
            if time.monotonic() > end:
                raise Timeout("no %s event after %.0f s" % (method, timeout))
            self.ws.settimeout(max(0.05, end - time.monotonic()))
            try:
                m = json.loads(self.ws.recv())
            except websocket.WebSocketTimeoutException:
                continue
            finally:
                self.ws.settimeout(60)
            if "method" in m:
                self.events.append(m)

    def key(self, key, code, vk, text=None):
        down = {"type": "keyDown", "key": key, "code": code, "windowsVirtualKeyCode": vk,
                "nativeVirtualKeyCode": vk}
        if text:
            down["text"] = text
        self.call("Input.dispatchKeyEvent", **down)
        self.call("Input.dispatchKeyEvent", type="keyUp", key=key, code=code, windowsVirtualKeyCode=vk,
                  nativeVirtualKeyCode=vk)

    def enter(self):
        self.key("Enter", "Enter", 13, "\r")

    def tab(self):
        self.key("Tab", "Tab", 9)

    def type_into(self, sel, text):
        """Focus the field, empty it, and type text as keystrokes would."""
        self.js("(() => { const e = document.querySelector(%s); e.focus(); e.value = ''; })()" % json.dumps(sel))
        if text:
            self.call("Input.insertText", text=text)

    def click(self, sel):
        self.js("document.querySelector(%s).click()" % json.dumps(sel))

    def text(self, sel):
        return self.js("(document.querySelector(%s) || {}).textContent || ''" % json.dumps(sel))

    def close(self):
        try:
            self.ws.close()
            urllib.request.urlopen("http://127.0.0.1:%s/json/close/%s" % (self.port, self.id), timeout=10).read()
        except Exception:
            pass
