#!/bin/sh
# The console's mesh and appliances against real parts: lighttpd serving
# isim-console.cgi (scripts/console-up), a wireguard-go gateway in a
# network namespace that the console admits peers to through isim-sign and
# isim-wgadmit, a second namespace that brings the downloaded wg-quick
# file up and pings the gateway across the tunnel, and an appliance built
# by isim-vm whose archive isim-verify accepts.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/lib-wg.sh
. "$(dirname "$0")/lib-wg.sh"

command -v lighttpd >/dev/null || wg_skip_all "lighttpd is not installed (scripts/install-deps.sh)"
command -v wg-quick >/dev/null || wg_skip_all "wg-quick is not installed (scripts/install-deps.sh)"
wg_mesh 1 2

PY=/usr/bin/python3
AUTH=$ISIM_ROOT/tests/integration/passkey-authenticator.py
PORT=$(free_port)
ORIGIN=http://localhost:$PORT
U=http://127.0.0.1:$PORT/api/meshnet
S=$T/state
mkdir -p "$S" "$T/www" "$T/templates"
echo '<!doctype html><title>console</title>' >"$T/www/index.html"
wg_signer console >/dev/null
wg_trust console
qemu-img create -q -f qcow2 "$S/templates/tiny.qcow2" 16M 2>/dev/null || mkdir -p "$S/templates"
[ -f "$S/templates/tiny.qcow2" ] || qemu-img create -q -f qcow2 "$S/templates/tiny.qcow2" 16M

# The gateway is node 1 (10.99.0.1, wg1); a /29 leaves five addresses for
# peers (.2 to .6).
CONSOLE_WG_DEV=wg1 CONSOLE_MESH_CIDR=10.100.0.0/29 CONSOLE_SIGN_KEY=$WG/console \
	CONSOLE_WG_PUBLIC_KEY=$(wg_pub 1) WG_GATEWAY_ENDPOINT=10.99.0.1:51820 \
	ISIM_WG_UAPI_DIR=$(wg_uapi 1) ISIM_TRUST_DIR=$WG/trust \
	"$ISIM_ROOT/scripts/console-up" --listen "127.0.0.1:$PORT" --state-dir "$S" --www "$T/www" --error-log "$T/error.log" \
	>"$T/url" 2>"$T/console-up.err" &
CUP=$!
trap 'kill "$CUP" 2>/dev/null; wait "$CUP" 2>/dev/null; wg_cleanup' EXIT
i=0
until [ -s "$T/url" ]; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 "$CUP" 2>/dev/null; then
		wg_bail "console-up starts: $(cat "$T/console-up.err")"
	fi
	sleep 0.1
done
same "console-up prints the console's URL" "$ORIGIN/" "$(cat "$T/url")"

# api METHOD PATH [BODY] [COOKIE]: the response body in $T/body, headers in
# $T/head; prints the status.
api() {
	set -- "$1" "$2" "${3:-}" "${4:-}"
	if [ "$1" = GET ]; then
		curl -s -o "$T/body" -D "$T/head" -w '%{http_code}' ${4:+-H "Cookie: isim_session=$4"} "$U$2"
	else
		curl -s -o "$T/body" -D "$T/head" -w '%{http_code}' -X "$1" -H "Origin: $ORIGIN" \
			-H 'Content-Type: application/json' ${4:+-H "Cookie: isim_session=$4"} --data-binary "${3:-{\}}" "$U$2"
	fi
}
cookie() { sed -n 's/^Set-Cookie: isim_session=\([^;]*\);.*/\1/p' "$T/head" | tr -d '\r'; }
body() { jq -r "$1" "$T/body"; }

# register USER AUTHSTATE: the session cookie of a new user.
register() {
	api POST /auth/register/options "{\"username\":\"$1\"}" >/dev/null &&
		jq -c .publicKey "$T/body" | $PY "$AUTH" create "$2" "$ORIGIN" >"$T/cred.json" &&
		[ "$(api POST /auth/register/verify "$(cat "$T/cred.json")")" = 200 ] && cookie
}
# login USER AUTHSTATE [AUTHENTICATOR-OPTS]: a new session cookie.
login() {
	api POST /auth/login/options "{\"username\":\"$1\",\"user_verification\":\"required\"}" >/dev/null &&
		jq -c .publicKey "$T/body" | $PY "$AUTH" get "$2" "$ORIGIN" ${3:+"$3"} >"$T/assert.json" &&
		[ "$(api POST /auth/login/verify "$(cat "$T/assert.json")")" = 200 ] && cookie
}

A=$(register alice "$T/alice.auth")
[ -n "$A" ] || wg_bail "alice registers: $(cat "$T/body")"
ok "alice registers and has a session"
B=$(register bob "$T/bob.auth")
[ -n "$B" ] || wg_bail "bob registers: $(cat "$T/body")"

# A peer with a key pair the server makes.
same "POST /mesh/peers (server key): 201" 201 "$(api POST /mesh/peers '{"name":"laptop"}' "$A")"
P1=$(body .peer.id)
same "... the first free address after the gateway's, admitted, server_key" "10.100.0.2 admitted true" \
	"$(body '"\(.peer.address) \(.peer.state) \(.peer.server_key)"')"
P1KEY=$(body .peer.public_key)
same "the gateway has the peer with its host route only" "10.100.0.2/32" "$(wg_allowed 1 "$P1KEY")"
same "isim-wgadmit shows it admitted by the console's signer" "console-$P1 admitted" \
	"$(in_ns 1 isim-wgadmit show --dev wg1 --uapi-dir "$(wg_uapi 1)" --state-dir "$S" | tee "$T/show.json" |
		jq -r --arg k "$P1KEY" '.peers[] | select(.public_key == $k) | "\(.node_id) \(.state)"')"
same "its config holds a private key: a session from registration is not enough (403 step_up_required)" \
	"403 step_up_required" "$(api GET "/mesh/peers/$P1/config" "" "$A") $(body .reason)"
A2=$(login alice "$T/alice.auth" --no-uv)
same "a login without user verification is refused when required" "" "$A2"
A=$(login alice "$T/alice.auth")
[ -n "$A" ] || wg_bail "alice logs in with user verification: $(cat "$T/body")"
same "after a user-verified login the config downloads (200)" 200 "$(api GET "/mesh/peers/$P1/config" "" "$A")"
cp "$T/body" "$T/laptop.conf"
contains "... as an attachment" "$T/head" "Content-Disposition: attachment"
check "wg-quick strip accepts it" sh -c "wg-quick strip '$T/laptop.conf' >'$T/laptop.stripped'"
same "... its PrivateKey is the pair of the public key the peer has" "$P1KEY" \
	"$(sed -n 's/^PrivateKey = //p' "$T/laptop.conf" | wg pubkey)"
same "... gateway key, endpoint and AllowedIPs" "$(wg_pub 1) 10.99.0.1:51820 10.100.0.0/29" \
	"$(awk -F' = ' '/^PublicKey/ { k = $2 } /^Endpoint/ { e = $2 } /^AllowedIPs/ { a = $2 } END { print k, e, a }' "$T/laptop.conf")"
same "?format=svg is the QR code of it (an SVG)" "200 image/svg+xml" \
	"$(api GET "/mesh/peers/$P1/config?format=svg" "" "$A") $(sed -n 's/^Content-Type: \([^;\r]*\).*/\1/p' "$T/head")"
contains "... an SVG document" "$T/body" "<svg xmlns"

# The device brings the file up (node 2) and reaches the gateway.
if ! { wg_on 2 setconf wg2 "$T/laptop.stripped" && ip -n "$(wg_ns 2)" addr flush dev wg2 &&
	ip -n "$(wg_ns 2)" addr add 10.100.0.2/29 dev wg2; }; then
	not_ok "node 2 takes the config"
fi
check "across the tunnel: node 2 pings the gateway 10.100.0.1" in_ns 2 ping -c 2 -W 5 10.100.0.1

# A peer whose key the browser made: the private key never reaches the server.
(umask 077 && wg genkey >"$T/phone.key")
PHONE=$(wg pubkey <"$T/phone.key")
same "POST /mesh/peers with the device's public key: 201, not server_key" "201 false 10.100.0.3" \
	"$(api POST /mesh/peers "{\"name\":\"phone\",\"public_key\":\"$PHONE\"}" "$A") $(body '"\(.peer.server_key) \(.peer.address)"')"
P2=$(body .peer.id)
same "its config needs no step-up and holds no private key" "200 0" \
	"$(api GET "/mesh/peers/$P2/config" "" "$B" >/dev/null; api GET "/mesh/peers/$P2/config" "" "$A") $(grep -c '^PrivateKey' "$T/body")"
same "bob cannot read alice's peer config (404)" 404 "$(api GET "/mesh/peers/$P2/config" "" "$B")"
same "bob cannot rotate or remove it (404, 404)" "404 404" \
	"$(api POST "/mesh/peers/$P2/rotate" '{}' "$B") $(api DELETE "/mesh/peers/$P2" '{}' "$B")"
same "bob's list does not show it" 0 "$(api GET /mesh/peers "" "$B" >/dev/null; body '.peers | length')"
same "a key that is not a WireGuard key: 400 /public_key" "400 /public_key" \
	"$(api POST /mesh/peers '{"name":"bad","public_key":"abc"}' "$A") $(body .field)"
same "the same name twice: 409 name_taken" "409 name_taken" \
	"$(api POST /mesh/peers "{\"name\":\"phone\",\"public_key\":\"$(wg genkey | wg pubkey)\"}" "$A") $(body .reason)"

# Rotation: a newer descriptor with the new key replaces the peer (a
# second after the last: descriptors are dated to the second).
sleep 1
(umask 077 && wg genkey >"$T/phone2.key")
PHONE2=$(wg pubkey <"$T/phone2.key")
same "rotate the phone's key: 200 and the new key" "200 $PHONE2" \
	"$(api POST "/mesh/peers/$P2/rotate" "{\"public_key\":\"$PHONE2\"}" "$A") $(body '.peer.public_key // .message')"
same "... the gateway has the new key at the same address, the old one gone" "10.100.0.3/32 none" \
	"$(wg_allowed 1 "$PHONE2") $(wg_peers 1 | grep -qx "$PHONE" && echo still || echo none)"
same "rotate again within the second: 409 too_soon, the key unchanged" "409 too_soon $PHONE2" \
	"$(api POST "/mesh/peers/$P2/rotate" '{}' "$A") $(body .reason) $(api GET /mesh/peers "" "$A" >/dev/null; body ".peers[] | select(.id == $P2) | .public_key")"

# The pool: .2 to .6.
for n in 3 4 5; do
	api POST /mesh/peers "{\"name\":\"d$n\",\"public_key\":\"$(wg genkey | wg pubkey)\"}" "$B" >/dev/null
done
same "the sixth peer of a /29: 409 pool_exhausted" "409 pool_exhausted" \
	"$(api POST /mesh/peers "{\"name\":\"d6\",\"public_key\":\"$(wg genkey | wg pubkey)\"}" "$B") $(body .reason)"
same "removing a peer: 200, gone from the gateway" "200 gone" \
	"$(api DELETE "/mesh/peers/$P2" '{}' "$A") $(wg_peers 1 | grep -qx "$PHONE" && echo still || echo gone)"
same "... and its address is free again" 201 \
	"$(api POST /mesh/peers "{\"name\":\"d6\",\"public_key\":\"$(wg genkey | wg pubkey)\"}" "$B")"

# Appliances: a template in the state's templates folder.
same "GET /appliances lists the template and the profiles" "tiny small,medium,large" \
	"$(api GET /appliances "" "$A" >/dev/null; body '"\(.templates | join(",")) \(.profiles | join(","))"')"
same "POST /appliances: 202 building" "202 building" \
	"$(api POST /appliances '{"name":"web","template":"tiny","profile":"small"}' "$A") $(body .appliance.state)"
AP=$(body .appliance.id)
same "an unknown template: 404 unknown_template" "404 unknown_template" \
	"$(api POST /appliances '{"name":"x","template":"nope","profile":"small"}' "$A") $(body .reason)"
i=0
while [ "$(api GET /appliances "" "$A" >/dev/null; body ".appliances[] | select(.id == $AP) | .state")" = building ] &&
	[ $i -lt 300 ]; do
	sleep 0.5
	i=$((i + 1))
done
same "the appliance becomes ready" ready "$(body ".appliances[] | select(.id == $AP) | .state")"
SHA=$(body ".appliances[] | select(.id == $AP) | .archive.sha256")
same "bob cannot download it (404)" 404 "$(api GET "/appliances/$AP/archive" "" "$B")"
same "alice downloads its archive (200)" 200 "$(api GET "/appliances/$AP/archive" "" "$A")"
cp "$T/body" "$T/web.tar.gz"
same "... its SHA-256 is the one listed and the one in X-Content-SHA256" "$SHA $SHA" \
	"$(sha256sum "$T/web.tar.gz" | cut -d' ' -f1) $(sed -n 's/^X-Content-SHA256: \([0-9a-f]*\).*/\1/p' "$T/head")"
same "... Content-Length is its size" "$(stat -c %s "$T/web.tar.gz")" \
	"$(sed -n 's/^Content-Length: \([0-9]*\).*/\1/p' "$T/head")"
check "isim-verify appliance accepts the archive, signed by the console" isim-verify appliance --pub "$WG/console.pub" "$T/web.tar.gz"

# Every change is in the audit log, with the user.
isim-memdump log export --state-dir "$S" >"$T/log.jsonl" 2>"$T/log.err"
same "the audit log has alice's changes with her name and session" "appliance.create appliance.ready peer.config peer.create peer.remove peer.rotate" \
	"$(jq -r 'select(.kind == "console") | .record | select(.user == "alice" and .ok and (.session_sha256 | length) == 64) | .action' "$T/log.jsonl" | grep -E '^(peer|appliance)[.]' | sort -u | paste -sd' ')"
check "isim-memdump log verify passes" isim-memdump log verify --state-dir "$S"
[ "$t_failed" -eq 0 ] || sed 's/^/# /' "$T/error.log" "$T/console-up.err" "$T/show.json"

# console-up stops cleanly on SIGTERM: it exits 0, lighttpd with it, the
# port is free again and its temporary folder is gone.
lt=$(pgrep -P "$CUP" lighttpd)
check "console-up's lighttpd is its child, running" kill -0 "${lt:-none}"
kill -TERM "$CUP"
wait "$CUP"
same "console-up exits 0 on SIGTERM" 0 "$?"
same "... its lighttpd is gone and the port is free" "gone free" \
	"$(kill -0 "$lt" 2>/dev/null && echo running || echo gone) $(curl -s -o /dev/null --max-time 2 "$U/me" && echo taken || echo free)"
finish
