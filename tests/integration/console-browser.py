#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Drive the meshnet console's page (cmd/isim-console/www) in headless
Chromium with a virtual WebAuthn authenticator, over the DevTools protocol
(Debian's python3-websocket), as a person would: typing, Enter, buttons.

  console-browser.py CDP_PORT URL SCREENS DOWNLOADS
  console-browser.py CDP_PORT URL SCREENS DOWNLOADS --bench N
      (tests/bench/console-page.sh) a user registered, then N times: signed
      out, the page loaded anew, signed in; prints {"bench": [ms...]}, the
      page's own "dashboard-ready" mark of each, from navigation start.

Prints one JSON line per finding, for console-browser.sh to turn into TAP:
  {"check": "what", "ok": true|false, "detail": "..."}
  {"screenshot": "SCREENS/NAME-WIDTH.png"}
  {"comment": "dashboard after login: N ms"}
  {"config": "DOWNLOADS/laptop.conf", "public_key": "the peer's, as shown"}
The peer's wg-quick file is saved into DOWNLOADS by the page's own link.
"""
import base64
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

SCREENS = DOWNLOADS = None


def emit(obj):
    print(json.dumps(obj))
    sys.stdout.flush()


def check(what, cond, detail=""):
    emit({"check": what, "ok": bool(cond), "detail": "" if cond else str(detail)})
    return bool(cond)


from cdp import Tab, Timeout  # noqa: E402 (beside this file)


def viewport(tab, width):
    tab.call("Emulation.setDeviceMetricsOverride", width=width, height=800, deviceScaleFactor=1,
             mobile=width < 600)


def shot(tab, name):
    """Screenshots of the whole page at 1024 and 375 CSS pixels wide; at
    375, a check that nothing makes the page scroll sideways."""
    for width in (1024, 375):
        viewport(tab, width)
        tab.js("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        if width == 375:
            sw = tab.js("document.documentElement.scrollWidth")
            check("%s: fits 375px (no sideways scrolling)" % name, sw <= 375, "scrollWidth %s" % sw)
        h = tab.js("Math.ceil(document.documentElement.scrollHeight)")
        r = tab.call("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                     clip={"x": 0, "y": 0, "width": width, "height": max(h, 200), "scale": 1})
        path = os.path.join(SCREENS, "%s-%d.png" % (name, width))
        with open(path, "wb") as f:
            f.write(base64.b64decode(r["data"]))
        emit({"screenshot": path})
    viewport(tab, 1024)


def visible(sel):
    return "(() => { const e = document.querySelector(%s); return !!e && e.offsetParent !== null; })()" % json.dumps(sel)


DASHBOARD = "document.body.dataset.view === 'dashboard' && document.body.dataset.loaded === 'true'"
LOGIN = "document.body.dataset.view === 'login'"


def error_of(tab, card):
    """The text of the card's role=alert paragraph, once it has one."""
    sel = "%s [role=alert]" % card
    return tab.wait("(document.querySelector(%s) || {}).textContent" % json.dumps(sel), what=sel + " shows an error")


def wg_key():
    priv = subprocess.run(["wg", "genkey"], capture_output=True, text=True, check=True).stdout
    return subprocess.run(["wg", "pubkey"], input=priv, capture_output=True, text=True, check=True).stdout.strip()


def sign_out(tab):
    tab.js("document.body.dataset.loaded = ''")
    tab.click("#sign-out")
    tab.wait(LOGIN, what="the login view after sign out")


def scenario(tab, url):
    tab.call("Page.navigate", url=url)
    tab.wait(LOGIN, what="the login view")
    check("signed out, the page shows the login view", True)
    check("the username field has the focus", tab.js("document.activeElement.id") == "login-username",
          tab.js("document.activeElement.outerHTML"))
    # Tab goes through the form in order, and the focus ring shows.
    order = []
    for _ in range(3):
        tab.tab()
        order.append(tab.js("document.activeElement.id"))
    check("Tab walks the login form in order", order == ["login-display-name", "sign-in", "create-passkey"], order)
    ring = tab.js("getComputedStyle(document.activeElement).outlineStyle")
    check("a focused button shows a focus ring", ring not in (None, "", "none"), ring)
    shot(tab, "login")

    # Register alice with "Create passkey".
    tab.type_into("#login-username", "alice")
    tab.type_into("#login-display-name", "Alice")
    tab.click("#create-passkey")
    tab.wait(DASHBOARD, what="the dashboard after registration")
    check("Create passkey registers alice and shows the dashboard",
          "alice" in tab.text("#whoami").lower(), tab.text("#whoami"))
    check("the passkeys card lists one passkey", tab.js("document.querySelector('#passkeys').dataset.passkeys") == "1",
          tab.text("#passkeys"))
    shot(tab, "dashboard")

    sign_out(tab)
    check("Sign out shows the login view", tab.text("#status") == "Signed out.", tab.text("#status"))

    # A refusal: the username is taken (409), said on the page.
    tab.type_into("#login-username", "alice")
    tab.click("#create-passkey")
    msg = error_of(tab, "#login-view")
    check("registering a taken username shows the server's message (role=alert)", len(msg) > 5, msg)
    shot(tab, "login-error")

    # Reload, then sign in with Enter and no username (a discoverable
    # passkey); the page's mark "dashboard-ready" is taken from navigation
    # start, the click on "sign in" coming as soon as the view is there.
    tab.call("Page.navigate", url=url)
    tab.wait(LOGIN, what="the login view after reload")
    t0 = time.monotonic()
    tab.type_into("#login-username", "")
    tab.enter()
    tab.wait(DASHBOARD, timeout=30, what="the dashboard after a discoverable login")
    wall = (time.monotonic() - t0) * 1000
    mark = tab.js("(performance.getEntriesByName('dashboard-ready')[0] || {}).startTime")
    check("Enter in the empty login form signs in with a discoverable passkey", "alice" in tab.text("#whoami").lower(),
          tab.text("#whoami"))
    if mark:
        emit({"comment": "dashboard after login: %d ms" % round(mark)})
    emit({"comment": "sign-in keystroke to dashboard: %d ms" % round(wall)})

    # ... and with the username typed.
    sign_out(tab)
    tab.type_into("#login-username", "alice")
    tab.enter()
    tab.wait(DASHBOARD, timeout=30, what="the dashboard after a login naming alice")
    check("Enter with the username typed signs alice in", "alice" in tab.text("#whoami").lower(), tab.text("#whoami"))

    identity(tab)
    mesh(tab)
    appliances(tab)
    passkeys(tab)
    other_user(tab)


def identity(tab):
    check("without an identity the card asks for a handle", tab.js(visible("#identity-form")))
    shot(tab, "identity-empty")
    tab.type_into("#identity-handle", "Not a handle!")
    tab.enter()
    msg = error_of(tab, "#identity")
    check("a malformed handle is refused on the page", len(msg) > 5, msg)
    check("... the handle field is marked invalid and focused",
          tab.js("document.activeElement.id === 'identity-handle' && "
                 "document.activeElement.getAttribute('aria-invalid') === 'true'"),
          tab.js("document.activeElement.outerHTML"))
    shot(tab, "identity-error")
    tab.type_into("#identity-handle", "alice")
    tab.enter()
    tab.wait(visible("#identity-details"), what="the identity's details")
    facts = [tab.text(s) for s in ("#identity-subdomain", "#identity-matrix", "#identity-bucket")]
    check("handle alice: subdomain, Matrix ID and bucket shown", all(facts) and "alice" in facts[1], facts)
    check("... and no error left", tab.text("#identity [role=alert]") == "", tab.text("#identity [role=alert]"))
    shot(tab, "identity-created")
    tab.click("#provision")
    try:
        tab.wait("['done', 'failed'].includes(document.querySelector('#provision-state').dataset.state)",
                 timeout=60, what="provisioning")
    except Timeout as e:
        check("provisioning ends", False, "%s\n%s" % (e, tab.text("#identity")))
        return
    steps = tab.js("[...document.querySelectorAll('#provision-steps > li')].map(l => l.dataset.state)")
    state = tab.js("document.querySelector('#provision-state').dataset.state")
    check("Provision: progress polled until done, every step done",
          state == "done" and steps and all(s == "done" for s in steps),
          "%s %s %s" % (state, steps, tab.text("#identity")))
    check("... and the Provision button is gone", not tab.js(visible("#provision")))
    shot(tab, "identity-provisioned")


def download(tab, li, which, what):
    """Click the peer's Download config and wait for the file; emits it
    (renamed laptop-WHICH.conf, so that the next download has the name
    again) with the public key the page shows."""
    tab.click(li + " [data-action=config]")
    try:
        ev = tab.wait_event("Browser.downloadProgress", lambda p: p["state"] in ("completed", "canceled"),
                            timeout=30)
    except Timeout as e:
        check(what, False, "%s; the card says: %s; status: %s" % (e, tab.text("#mesh [role=alert]"),
                                                                 tab.text("#status")))
        return
    path = ev.get("filePath") or os.path.join(DOWNLOADS, "laptop.conf")
    if not check(what, ev["state"] == "completed" and os.path.exists(path), "%s %s" % (ev, tab.text("#mesh"))):
        return
    dest = os.path.join(DOWNLOADS, "laptop-%s.conf" % which)
    os.rename(path, dest)
    emit({"config": dest, "which": which, "public_key": tab.text(li + " dd.mono")})


def peer_count(tab):
    return tab.js("Number(document.querySelector('#mesh').dataset.peers)")


def mesh(tab):
    check("the mesh card lists no peers at first", peer_count(tab) == 0, tab.text("#mesh"))
    tab.type_into("#peer-name", "laptop")
    tab.type_into("#peer-key", "")
    tab.enter()
    tab.wait("Number(document.querySelector('#mesh').dataset.peers) === 1", what="the peer laptop")
    li = "#peer-list li[data-peer]"
    check("Add peer without a key: listed with a server-made key",
          "the server" in tab.text(li) and "laptop" in tab.text(li), tab.text(li))
    shot(tab, "mesh-peer")

    # A refusal with its field: a public key that is not one.
    tab.type_into("#peer-name", "phone")
    tab.type_into("#peer-key", "not-a-key")
    tab.enter()
    msg = error_of(tab, "#mesh")
    check("a malformed public key is refused on the page", len(msg) > 5, msg)
    check("... the key field is marked invalid",
          tab.js("document.querySelector('#peer-key').getAttribute('aria-invalid')") == "true")
    shot(tab, "mesh-error")

    # Download: the server wants a user-verified login first (step-up);
    # the page runs it and retries, and the file lands in DOWNLOADS.
    download(tab, li, "first", "Download config: step-up login, then the file is saved")
    tab.click(li + " [data-action=qr]")
    try:
        tab.wait("(() => { const i = document.querySelector('.qr img'); "
                 "return i && i.complete && i.naturalWidth > 0; })()", what="the QR code")
        check("Show QR code: the SVG is shown as an image with alt text",
              tab.js("document.querySelector('.qr img').alt.length > 0"))
    except Timeout as e:
        check("Show QR code: the SVG is shown as an image with alt text", False,
              "%s; %s" % (e, tab.text("#mesh [role=alert]")))
    shot(tab, "mesh-qr")

    before = tab.text(li + " dd.mono")
    tab.click(li + " [data-action=rotate]")
    tab.wait("document.activeElement.name === 'public_key' && document.activeElement.id.startsWith('rotate-key-')",
             what="the rotate form's focus")
    tab.enter()
    tab.wait("(document.querySelector(%s) || {}).textContent !== %s" % (json.dumps(li + " dd.mono"), json.dumps(before)),
             what="a new public key")
    check("Rotate key: a new public key is shown", tab.text(li + " dd.mono") not in ("", before))
    download(tab, li, "rotated", "Download config after the rotation (no second step-up)")

    key = wg_key()
    tab.type_into("#peer-name", "phone")
    tab.type_into("#peer-key", key)
    tab.enter()
    tab.wait("Number(document.querySelector('#mesh').dataset.peers) === 2", what="the peer phone")
    check("Add peer with its own public key: listed with that key", key in tab.text("#peer-list"))
    shot(tab, "mesh-two-peers")
    phone = "#peer-list li[data-peer]:nth-child(2)"
    tab.click(phone + " [data-action=remove]")
    tab.click(phone + " [data-action=confirm-remove]")
    tab.wait("Number(document.querySelector('#mesh').dataset.peers) === 1", what="phone removed")
    check("Remove: the peer is gone", "phone" not in tab.text("#peer-list"), tab.text("#peer-list"))


def appliances(tab):
    templates = tab.js("[...document.querySelectorAll('#appliance-template option')].map(o => o.value)")
    profiles = tab.js("[...document.querySelectorAll('#appliance-profile option')].map(o => o.value)")
    check("the appliance form offers the API's templates and profiles", templates and profiles,
          "%s %s %s" % (templates, profiles, tab.text("#appliances")))
    shot(tab, "appliances-empty")
    if not (templates and profiles):
        return
    tab.type_into("#appliance-name", "web1")
    tab.enter()
    try:
        tab.wait("Number(document.querySelector('#appliances').dataset.appliances) === 1", what="the appliance")
        check("Create appliance: it is listed with its state", "web1" in tab.text("#appliance-list"),
              tab.text("#appliances"))
    except Timeout as e:
        check("Create appliance: it is listed with its state", False, "%s; %s" % (e, tab.text("#appliances")))
        return
    try:
        tab.wait("!!document.querySelector('#appliance-list a[href]')", timeout=60, what="the archive link")
    except Timeout as e:
        check("... and then its archive link with size and SHA-256", False, "%s; %s" % (e, tab.text("#appliances")))
        return
    t = tab.text("#appliance-list")
    check("... and then its archive link with size and SHA-256", "SHA-256" in t and "(" in t, t)
    shot(tab, "appliances")
    # The link downloads the archive; the shell checks it with isim-verify.
    tab.click("#appliance-list a[href]")
    try:
        ev = tab.wait_event("Browser.downloadProgress", lambda p: p["state"] in ("completed", "canceled"),
                            timeout=60)
    except Timeout as e:
        check("Download archive: the file is saved", False, e)
        return
    path = ev.get("filePath") or ""
    if check("Download archive: the file is saved", ev["state"] == "completed" and os.path.exists(path), ev):
        sha = tab.js("(document.querySelector('#appliance-list .hash') || {}).textContent || ''")
        emit({"archive": path, "sha256": sha})


def passkeys(tab):
    # A second authenticator (a security key, say) for "Add another passkey";
    # the first already holds one of alice's and the server excludes it.
    r = tab.call("WebAuthn.addVirtualAuthenticator", options={
        "protocol": "ctap2", "ctap2Version": "ctap2_1", "transport": "usb", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True, "automaticPresenceSimulation": True})
    tab.click("#add-passkey")
    try:
        tab.wait("document.querySelector('#passkeys').dataset.passkeys === '2' || "
                 "document.querySelector('#passkeys [role=alert]').textContent", timeout=30, what="a second passkey")
        check("Add another passkey: two passkeys listed",
              tab.js("document.querySelector('#passkeys').dataset.passkeys") == "2", tab.text("#passkeys"))
    except Timeout as e:
        check("Add another passkey: two passkeys listed", False, e)
    shot(tab, "passkeys")
    tab.call("WebAuthn.removeVirtualAuthenticator", authenticatorId=r["authenticatorId"])


def other_user(tab):
    # bob, on the same authenticator, cannot take alice's handle.
    sign_out(tab)
    tab.type_into("#login-username", "bob")
    tab.click("#create-passkey")
    tab.wait(DASHBOARD, what="bob's dashboard")
    tab.type_into("#identity-handle", "alice")
    tab.enter()
    msg = error_of(tab, "#identity")
    check("a handle already taken is refused with the server's message", len(msg) > 5, msg)
    shot(tab, "identity-taken")
    # A hook that fails: the step, its message, and "Provision again".
    tab.type_into("#identity-handle", "bobby")
    tab.enter()
    tab.wait(visible("#provision"), what="bobby's Provision button")
    tab.click("#provision")
    try:
        tab.wait("['done', 'failed'].includes(document.querySelector('#provision-state').dataset.state)",
                 timeout=60, what="bobby's provisioning")
    except Timeout as e:
        check("a failing hook: the page shows the failed step", False, e)
        return
    steps = tab.js("[...document.querySelectorAll('#provision-steps > li')].map(l => l.dataset.state)")
    check("a failing hook: the page shows the failed step and its message",
          steps and steps[-1] == "failed" and tab.text("#provision-steps > li:last-child .hint"),
          "%s %s" % (steps, tab.text("#identity")))
    check("... and offers to provision again", tab.js(visible("#provision")) and
          tab.text("#provision") == "Provision again", tab.text("#provision"))
    shot(tab, "identity-failed")


def bench(tab, url, n):
    tab.call("Page.navigate", url=url)
    tab.wait(LOGIN, what="the login view")
    tab.type_into("#login-username", "bench")
    tab.click("#create-passkey")
    tab.wait(DASHBOARD, timeout=30, what="the dashboard after registering")
    times = []
    for _ in range(n):
        sign_out(tab)
        tab.call("Page.navigate", url=url)
        tab.wait(LOGIN, what="the login view after reload")
        tab.type_into("#login-username", "")
        tab.enter()
        tab.wait(DASHBOARD, timeout=30, what="the dashboard after login")
        mark = tab.js("(performance.getEntriesByName('dashboard-ready')[0] || {}).startTime")
        if not mark:
            raise RuntimeError("the page set no dashboard-ready mark")
        times.append(round(mark, 1))
    emit({"bench": times})


def main(argv):
    global SCREENS, DOWNLOADS
    port, url, SCREENS, DOWNLOADS = argv[1:5]
    runs = int(argv[6]) if len(argv) > 6 and argv[5] == "--bench" else 0
    os.makedirs(SCREENS, exist_ok=True)
    os.makedirs(DOWNLOADS, exist_ok=True)
    tab = Tab(port)
    try:
        tab.call("Page.enable")
        tab.call("Runtime.enable")
        tab.call("Log.enable")
        tab.call("WebAuthn.enable", enableUI=False)
        tab.call("WebAuthn.addVirtualAuthenticator", options={
            "protocol": "ctap2", "ctap2Version": "ctap2_1", "transport": "internal",
            "hasResidentKey": True, "hasUserVerification": True, "isUserVerified": True,
            "automaticPresenceSimulation": True})
        tab.call("Browser.setDownloadBehavior", behavior="allow", eventsEnabled=True,
                 downloadPath=os.path.abspath(DOWNLOADS))
        viewport(tab, 1024)
        if runs:
            bench(tab, url, runs)
            return 0
        try:
            scenario(tab, url)
        except (Timeout, RuntimeError) as e:
            check("the scenario runs to its end", False,
                  "%s\nstatus: %s\nalerts: %s" % (e, tab.text("#status"),
                    tab.js("[...document.querySelectorAll('[role=alert]')].map(e => e.textContent).join(' | ')")))
            try:
                shot(tab, "failure")
            except Exception:
                pass
        problems = [e["params"] for e in tab.events if e["method"] == "Runtime.exceptionThrown" or
                    (e["method"] == "Log.entryAdded" and e["params"]["entry"]["level"] == "error" and
                     "Content Security Policy" in e["params"]["entry"].get("text", ""))]
        check("no script errors and no Content-Security-Policy violations", not problems,
              json.dumps(problems)[:2000])
    finally:
        tab.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
