#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The load driver of console-load.sh: CLIENTS threads, each a user with
its own passkey (the software authenticator, passkey-authenticator.py,
imported) and its own keep-alive connection, for SECONDS: GET /me with the
user's session, then a login ceremony (login/options, the assertion,
login/verify) without a cookie, again and again. Then each session a login
opened is shown to GET /me once more. Prints one JSON object: counts, the
first failures, and each credential's logins and the highest counter one
of them signed.

  console-load.py HOST PORT ORIGIN KEYDIR CLIENTS SECONDS
"""
import http.client
import importlib.util
import json
import os
import sys
import threading
import time
import types

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("authenticator", os.path.join(here, "passkey-authenticator.py"))
authn = importlib.util.module_from_spec(spec)
spec.loader.exec_module(authn)

host, port, origin, keydir = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
clients, seconds = int(sys.argv[5]), float(sys.argv[6])
API = "/api/meshnet"

lock = threading.Lock()
stats = {"requests": 0, "non2xx": 0, "conn_errors": 0, "logins": 0, "me": 0, "lost_sessions": 0,
         "wrong_user": 0, "failures": [], "in_flight_max": 0}
in_flight = [0]
logins = {}  # credential id: logins that got 200
counters = {}  # credential id: the highest counter a login that got 200 signed


def note_failure(what):
    with lock:
        if len(stats["failures"]) < 20:
            stats["failures"].append(what)


class Client:
    def __init__(self, n):
        self.n = n
        self.user = "load%d" % n
        self.conn = None
        self.keys = types.SimpleNamespace(state=os.path.join(keydir, "%d.json" % n), origin=origin, alg=None,
                                          no_up=False, no_uv=False, be=False, bs=False, counter=None, cred=None,
                                          att="none", type=None, no_user_handle=False)
        self.cookie = None
        self.tokens = []

    def request(self, method, path, body=None, cookie=None):
        """(status, headers, JSON body), or None after a connection error."""
        headers = {}
        if body is not None:
            body = json.dumps(body).encode()
            headers = {"Origin": origin, "Content-Type": "application/json"}
        if cookie:
            headers["Cookie"] = "isim_session=" + cookie
        with lock:
            stats["requests"] += 1
            in_flight[0] += 1
            stats["in_flight_max"] = max(stats["in_flight_max"], in_flight[0])
        try:
            for attempt in (0, 1):
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(host, port, timeout=60)
                try:
                    self.conn.request(method, API + path, body=body, headers=headers)
                    r = self.conn.getresponse()
                    data = r.read()
                    break
                except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as e:
                    # A keep-alive connection the server closed between two
                    # requests is reopened once; any other failure counts.
                    self.conn.close()
                    self.conn = None
                    if attempt or not isinstance(e, http.client.RemoteDisconnected):
                        raise
        except Exception as e:  # noqa: BLE001 (every failure is counted)
            with lock:
                stats["conn_errors"] += 1
            note_failure("%s %s: %s" % (method, path, e))
            if self.conn:
                self.conn.close()
            self.conn = None
            return None
        finally:
            with lock:
                in_flight[0] -= 1
        if r.status // 100 != 2:
            with lock:
                stats["non2xx"] += 1
            note_failure("%s %s: %d %s" % (method, path, r.status, data[:200].decode("utf-8", "replace")))
        try:
            doc = json.loads(data)
        except ValueError:
            doc = None
        return r.status, r, doc

    def token(self, r):
        c = r.getheader("Set-Cookie") or ""
        if c.startswith("isim_session="):
            return c[len("isim_session="):].split(";")[0]
        return None

    def register(self):
        res = self.request("POST", "/auth/register/options", {"username": self.user})
        if not res or res[0] != 200:
            return False
        cred = authn.create(self.keys, res[2]["publicKey"])
        res = self.request("POST", "/auth/register/verify", cred)
        if not res or res[0] != 200:
            return False
        self.cookie = self.token(res[1])
        return self.cookie is not None

    def login(self):
        res = self.request("POST", "/auth/login/options", {"username": self.user})
        if not res or res[0] != 200:
            return
        assertion = authn.get(self.keys, res[2]["publicKey"])
        res = self.request("POST", "/auth/login/verify", assertion)
        if not res or res[0] != 200:
            return
        tok = self.token(res[1])
        if not tok:
            note_failure("login-verify 200 without a cookie")
            return
        self.tokens.append(tok)
        signed = int.from_bytes(authn.b64d(assertion["response"]["authenticatorData"])[33:37], "big")
        with lock:
            stats["logins"] += 1
            logins[assertion["id"]] = logins.get(assertion["id"], 0) + 1
            counters[assertion["id"]] = max(counters.get(assertion["id"], 0), signed)

    def me(self, cookie):
        res = self.request("GET", "/me", cookie=cookie)
        if res and res[0] == 200 and (res[2] or {}).get("user", {}).get("name") != self.user:
            with lock:
                stats["wrong_user"] += 1
            note_failure("GET /me for %s named %r" % (self.user, (res[2] or {}).get("user")))
        return res

    def run(self, deadline):
        while time.monotonic() < deadline:
            self.me(self.cookie)
            with lock:
                stats["me"] += 1
            self.login()

    def check_sessions(self):
        for tok in self.tokens:
            res = self.me(tok)
            if not res or res[0] != 200:
                with lock:
                    stats["lost_sessions"] += 1


def parallel(fn, cs):
    ts = [threading.Thread(target=fn, args=(c,)) for c in cs]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


def main():
    os.makedirs(keydir, exist_ok=True)
    cs = [Client(n) for n in range(clients)]
    ok = []
    parallel(lambda c: ok.append(c.register()), cs)
    registered = sum(ok)
    base = dict(stats)
    start = time.monotonic()
    parallel(lambda c: c.run(start + seconds), cs)
    elapsed = time.monotonic() - start
    loaded = stats["requests"] - base["requests"]
    parallel(lambda c: c.check_sessions(), cs)
    out = dict(stats)
    out.update({"registered": registered, "clients": clients, "seconds": round(elapsed, 2),
                "load_requests": loaded, "rps": round(loaded / elapsed, 1), "logins_by_credential": logins,
                "counter_by_credential": counters,
                "setup_requests": base["requests"]})
    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    main()
