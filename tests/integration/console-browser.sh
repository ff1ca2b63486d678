#!/bin/sh
# The meshnet console's page (cmd/isim-console/www) in a real browser:
# headless Chromium with the DevTools protocol's virtual authenticator
# (ctap2, internal, resident keys, user verification) against the console
# that scripts/console-up serves on localhost. console-browser.py plays the
# person: registers alice, signs out and in (Enter, with and without a
# username), chooses a handle and provisions it through two hooks, adds a
# peer whose key the server makes (step-up login, download, QR code),
# rotates and removes peers, creates an appliance, adds a passkey, and meets
# the server's refusals on the page. Screenshots at 1024 and 375 pixels wide
# go to $ISIM_TEST_LOGS/console-screens; the downloaded config goes through
# `wg-quick strip`.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
PORT=8090
CDP=9330
UP=$ISIM_ROOT/scripts/console-up
LOGS=${ISIM_TEST_LOGS:-$ISIM_ROOT/build/test-logs}
SCREENS=$LOGS/console-screens

for p in chromium lighttpd jq wg wg-quick; do
	if ! command -v "$p" >/dev/null; then
		skip "the console in Chromium" "needs $p (make deps)"
		finish
		exit
	fi
done
if ! $PY -c 'import websocket' 2>/dev/null; then
	skip "the console in Chromium" "needs python3-websocket (make deps)"
	finish
	exit
fi
if [ ! -x "$UP" ]; then
	skip "the console in Chromium" "needs scripts/console-up"
	finish
	exit
fi
if ss -ltn 2>/dev/null | grep -q ":$PORT \|:$CDP "; then
	skip "the console in Chromium" "port $PORT or $CDP is in use"
	finish
	exit
fi

# The mesh's gateway: wireguard-go wg1 in a network namespace of its own
# (lib-wg.sh; 10.100.0.1/16, listening on 10.99.0.1:51820), its UAPI
# socket in a folder the console's isim-wgadmit is pointed at, and the
# console's signing key the one trusted signer.
# shellcheck source=tests/integration/lib-wg.sh
. "$ISIM_ROOT/tests/integration/lib-wg.sh"
wg_mesh 1 2
wg_signer console >/dev/null || wg_bail "a signing key for the console"
SIGNPUB=$WG/console.pub
wg_trust console

# A template for appliances: an empty qcow2 image is enough for isim-vm
# create and appliance, which never boot it.
mkdir -p "$T/templates" || exit 73
if command -v qemu-img >/dev/null; then
	qemu-img create -q -f qcow2 "$T/templates/tiny.qcow2" 16M || exit 73
fi

# Two provisioning hooks, given the identity on stdin: the first takes a
# moment, so that the page shows it running; the second refuses the handle
# "bobby" (the page then shows the failed step and its message).
mkdir -p "$T/hooks" "$T/state" "$T/log" "$T/home" "$T/downloads" || exit 73
cat >"$T/hooks/10-dns" <<'HOOK'
#!/bin/sh
sleep 1
jq -c '{record: .subdomain}'
HOOK
cat >"$T/hooks/20-matrix" <<'HOOK'
#!/bin/sh
h=$(jq -r .handle)
if [ "$h" = bobby ]; then
	echo "the Matrix server refused @$h" >&2
	exit 1
fi
jq -cn --arg h "$h" '{room: ("#welcome:" + $h)}'
HOOK
chmod 0755 "$T/hooks/10-dns" "$T/hooks/20-matrix" "$T"
rm -rf "$SCREENS"
mkdir -p "$SCREENS" || exit 73

UPPID=
CH=
stop() {
	for p in $CH $UPPID; do kill "$p" 2>/dev/null; done
	for p in $CH $UPPID; do wait "$p" 2>/dev/null; done
	wg_stop
	chromium_gone "$T/chromium"
	rm -rf "$T"
}
trap stop EXIT

# The scenario makes about 15 sign-in requests in a few seconds, half the
# default rate limit: CONSOLE_RATE_LIMIT keeps a slow machine clear of it.
WEBAUTHN_RP_ID=localhost WEBAUTHN_RP_ORIGIN=http://localhost:$PORT CONSOLE_PROVISION_DIR=$T/hooks \
	CONSOLE_HOOK_TIMEOUT=20 CONSOLE_RATE_LIMIT=300 \
	CONSOLE_WG_DEV=wg1 ISIM_WG_UAPI_DIR=$(wg_uapi 1) CONSOLE_WG_PUBLIC_KEY=$(wg_pub 1) \
	WG_GATEWAY_ENDPOINT=10.99.0.1:51820 CONSOLE_MESH_CIDR=10.100.0.0/16 \
	CONSOLE_SIGN_KEY=$WG/console ISIM_TRUST_DIR=$WG/trust CONSOLE_TEMPLATES_DIR=$T/templates TMPDIR=$T "$UP" --listen "localhost:$PORT" --state-dir "$T/state" \
	>"$T/log/console-up.out" 2>&1 &
UPPID=$!
HOME=$T/home XDG_CONFIG_HOME=$T/home XDG_CACHE_HOME=$T/home TMPDIR=$T/home chromium --headless --no-sandbox \
	--remote-debugging-port=$CDP --remote-debugging-address=127.0.0.1 --user-data-dir="$T/chromium" \
	--no-first-run about:blank >"$T/log/chromium.out" 2>&1 &
CH=$!
i=0
until curl -sf "http://127.0.0.1:$CDP/json/version" >/dev/null && curl -sf "http://localhost:$PORT/" >/dev/null; do
	i=$((i + 1))
	if [ "$i" -gt 150 ] || ! kill -0 "$UPPID" 2>/dev/null; then
		not_ok "the console and Chromium start" "$(tail -n 20 "$T/log/"*)"
		finish
		exit
	fi
	sleep 0.2
done
ok "the console and Chromium start"

curl -s -D "$T/headers" -o "$T/index.html" "http://localhost:$PORT/"
contains "the page comes with the Content-Security-Policy" "$T/headers" "default-src 'self'"
if grep -qi '<script>\|<style\|style="\| on[a-z]*="' "$T/index.html"; then
	not_ok "the page has no inline script or style" "$(grep -ni '<script>\|<style\|style="\| on[a-z]*="' "$T/index.html")"
else
	ok "the page has no inline script or style"
fi

$PY "$ISIM_ROOT/tests/integration/console-browser.py" "$CDP" "http://localhost:$PORT/" "$SCREENS" "$T/downloads" \
	>"$T/driver.out" 2>"$T/driver.err"
rc=$?
[ "$rc" -eq 0 ] || not_ok "the browser driver runs" "exit $rc" "$(tail -n 30 "$T/driver.err")"

configs=
while IFS= read -r line; do
	case $(printf '%s' "$line" | jq -r 'keys[0]') in
	check)
		what=$(printf '%s' "$line" | jq -r .check)
		if [ "$(printf '%s' "$line" | jq -r .ok)" = true ]; then
			ok "$what"
		else
			not_ok "$what" "$(printf '%s' "$line" | jq -r .detail)"
		fi
		;;
	comment) printf '# %s\n' "$(printf '%s' "$line" | jq -r .comment)" ;;
	screenshot) printf '# screenshot: %s\n' "$(printf '%s' "$line" | jq -r .screenshot)" ;;
	archive)
		printf '%s' "$line" | jq -r '"\(.archive) \(.sha256)"' >>"$T/archives"
		;;
	config)
		# Its file, which download, and the peer's key as the page showed it.
		printf '%s' "$line" | jq -r '"\(.config) \(.which) \(.public_key)"' >>"$T/configs"
		configs=yes
		;;
	esac
done <"$T/driver.out"

if [ -z "$configs" ]; then
	not_ok "wg-quick strip takes the downloaded config" "no config was downloaded" "$(tail -n 30 "$T/driver.err")"
	configs=/dev/null
else
	configs=$T/configs
fi
last=
while read -r config which key; do
	last=$config
	chmod 0600 "$config"
	expect 0 "wg-quick strip takes the downloaded config ($which)" wg-quick strip "$config"
	cp "$T/out" "$T/stripped.conf"
	contains "... with an [Interface] and a [Peer]" "$T/out" "[Peer]"
	priv=$(sed -n 's/^PrivateKey *= *//p' "$config")
	same "... whose private key is the peer's, as the page showed it" "$key" \
		"$(printf '%s\n' "$priv" | wg pubkey 2>&1)"
done <"$configs"

# The appliance's archive, as the browser saved it.
if [ -s "$T/archives" ]; then
	read -r archive sha <"$T/archives"
	same "the downloaded archive's SHA-256 is the one the page shows" "$sha" \
		"$(sha256sum "$archive" | cut -d' ' -f1)"
	expect 0 "isim-verify appliance accepts the downloaded archive, signed by the console" \
		isim-verify appliance --pub "$SIGNPUB" "$archive"
else
	not_ok "the appliance's archive is downloaded" "$(tail -n 30 "$T/driver.err")"
fi

# The last config on a device: node 2's wireguard-go takes it (its key, the
# gateway as its peer), with the address and route it names, and pings the
# gateway's mesh address through the tunnel.
if [ -n "$last" ]; then
	ns2=$(wg_ns 2)
	addr=$(sed -n 's/^Address *= *//p' "$last")
	allowed=$(sed -n 's/^AllowedIPs *= *//p' "$last")
	if wg_on 2 setconf wg2 "$T/stripped.conf" >"$T/err" 2>&1 &&
		ip -n "$ns2" addr flush dev wg2 && ip -n "$ns2" addr add "$addr" dev wg2 &&
		ip -n "$ns2" route replace "$allowed" dev wg2 2>>"$T/err"; then
		check "a device with the downloaded config pings the gateway (10.100.0.1) through the mesh" \
			in_ns 2 ping -c 3 -i 0.3 -W 3 10.100.0.1
	else
		not_ok "a device with the downloaded config pings the gateway" "$(cat "$T/err")"
	fi
fi

# The server's error log (the CGI's stderr), kept beside the screenshots.
cat "$T/log/console-up.out" "$T"/console-up.*/log/error.log >"$LOGS/console-browser-server.log" 2>/dev/null
if [ "$t_failed" -gt 0 ]; then
	echo "# the server's error log ($LOGS/console-browser-server.log):"
	tail -n 40 "$LOGS/console-browser-server.log" | sed 's/^/#   /'
fi
finish
