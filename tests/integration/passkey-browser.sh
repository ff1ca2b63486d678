#!/bin/sh
# Passkeys made live by a real browser: headless Chromium with the DevTools
# protocol's virtual authenticator (ctap2, internal transport, resident
# keys, user verification) runs the test page (passkey-browser/index.html),
# served on localhost:8080 by lighttpd with a CGI around isim-passkey
# (passkey-browser/passkey.cgi): registration and login for ES256, EdDSA
# and RS256, attestation "direct" (packed, its x5c signature checked), the
# session cookie checked, and a login refused when the user is not verified.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
HERE=$ISIM_ROOT/tests/integration/passkey-browser
PORT=8080
CDP=9322
for p in chromium lighttpd; do
	if ! command -v "$p" >/dev/null; then
		skip "passkeys in Chromium" "needs $p (make deps)"
		finish
		exit
	fi
done
if ! $PY -c 'import websocket' 2>/dev/null; then
	skip "passkeys in Chromium" "needs python3-websocket (make deps)"
	finish
	exit
fi
if ss -ltn 2>/dev/null | grep -q ":$PORT \|:$CDP "; then
	skip "passkeys in Chromium" "port $PORT or $CDP is in use"
	finish
	exit
fi

# The server's tree, readable by the user lighttpd runs the CGI as.
W=$T/www
S=$T/state
mkdir -p "$W/api" "$S" "$T/log" "$T/home" || exit 73
cp "$HERE/index.html" "$W/"
cat >"$W/api/passkey.cgi" <<EOF
#!/bin/sh
ISIM_BIN='$ISIM_BIN' ISIM_STATE_DIR='$S' WEBAUTHN_RP_ID=localhost WEBAUTHN_RP_ORIGIN='http://localhost:$PORT'
PATH='$ISIM_BIN':/usr/bin:/bin
export ISIM_BIN ISIM_STATE_DIR WEBAUTHN_RP_ID WEBAUTHN_RP_ORIGIN PATH
exec '$HERE/passkey.cgi'
EOF
chmod 0755 "$W/api/passkey.cgi" "$T"
cat >"$T/lighttpd.conf" <<EOF
server.document-root = "$W"
server.port = $PORT
server.bind = "localhost"
server.errorlog = "$T/log/error.log"
server.modules = ( "mod_alias", "mod_cgi" )
mimetype.assign = ( ".html" => "text/html" )
index-file.names = ( "index.html" )
alias.url = ( "/api" => "$W/api/passkey.cgi" )
\$HTTP["url"] =~ "^/api(/|\$)" { cgi.assign = ( ".cgi" => "" ) }
EOF
if ! lighttpd -tt -f "$T/lighttpd.conf" >"$T/lt.out" 2>&1; then
	not_ok "lighttpd takes the configuration" "$(cat "$T/lt.out")"
	finish
	exit
fi
lighttpd -D -f "$T/lighttpd.conf" >"$T/log/lighttpd.out" 2>&1 &
LT=$!
HOME=$T/home XDG_CONFIG_HOME=$T/home XDG_CACHE_HOME=$T/home TMPDIR=$T/home chromium --headless --no-sandbox \
	--remote-debugging-port=$CDP --remote-debugging-address=127.0.0.1 --user-data-dir="$T/chromium" \
	--no-first-run about:blank >"$T/log/chromium.out" 2>&1 &
CH=$!
trap 'kill "$LT" "$CH" 2>/dev/null; wait "$LT" "$CH" 2>/dev/null; chromium_gone "$T/chromium"; rm -rf "$T"' EXIT
i=0
until curl -sf "http://127.0.0.1:$CDP/json/version" >/dev/null && curl -sf "http://localhost:$PORT/" >/dev/null; do
	i=$((i + 1))
	if [ "$i" -gt 100 ]; then
		not_ok "Chromium and lighttpd start" "$(cat "$T/log/"*)"
		finish
		exit
	fi
	sleep 0.2
done
ok "Chromium and lighttpd start"

# scenario NAME AUTHENTICATOR STEP...: the steps in a fresh tab with a
# fresh authenticator; their answers, one a line, in $T/NAME.
scenario() {
	s_name=$1
	s_auth=$2
	shift 2
	jq -n --argjson a "$s_auth" '{authenticator: $a, steps: $ARGS.positional}' --args "$@" >"$T/$s_name.json"
	$PY "$ISIM_ROOT/tests/integration/passkey-browser.py" "$CDP" "http://localhost:$PORT/" "$T/$s_name.json" \
		>"$T/$s_name" 2>"$T/$s_name.err"
}

# line NAME N FILTER: jq FILTER on the Nth answer of scenario NAME.
line() { sed -n "$2p" "$T/$1" | jq -r "$3"; }

for alg in -7 -8 -257; do
	scenario "alg$alg" '{}' "register('u$alg', $alg)" "login('u$alg')" "whoami()" "login()"
	case $alg in -7) name=ES256 ;; -8) name=EdDSA ;; *) name=RS256 ;; esac
	same "$name: Chromium registers" "200 true $name none" \
		"$(line "alg$alg" 1 '"\(.server.status) \(.server.body.ok) \(.server.body.alg_name) \(.server.body.fmt)"' 2>&1)"
	same "$name: and signs in" "200 true u$alg true" \
		"$(line "alg$alg" 2 '"\(.server.status) \(.server.body.ok) \(.server.body.user) \(.server.body.user_verified)"' 2>&1)"
	same "$name: the session cookie is checked" "200 u$alg" \
		"$(line "alg$alg" 3 '"\(.status) \(.body.user)"' 2>&1)"
	same "$name: a discoverable login (no user named)" "200 u$alg" \
		"$(line "alg$alg" 4 '"\(.server.status) \(.server.body.user)"' 2>&1)"
	same "$name: the counter rose" "2 3" \
		"$(line "alg$alg" 2 .server.body.sign_count) $(line "alg$alg" 4 .server.body.sign_count)"
done
[ -s "$T/alg-7" ] || not_ok "the browser ran" "$(cat "$T/alg-7.err" "$T/log/error.log" 2>/dev/null)"

scenario direct '{}' "register('d', -7, 'direct')"
same "attestation direct: packed, x5c signature checked, no root" "200 packed basic false" \
	"$(line direct 1 '"\(.server.status) \(.server.body.fmt) \(.server.body.attestation_type) \(.server.body.attestation_trusted)"' 2>&1)"
# The recorded answer verifies again, statelessly, from its options.
line direct 1 '{credential: .credential, expect: {challenge: .options.challenge, origins: "http://localhost:'"$PORT"'", rp_id: "localhost"}}' >"$T/direct.in"
expect 0 "check-registration verifies the browser's packed registration again" \
	isim-passkey check-registration <"$T/direct.in"

scenario nouv '{"isUserVerified": false}' "register('n', -7)"
same "an authenticator that cannot verify the user cannot register (UV required)" true \
	"$(line nouv 1 'has("error") or (.server.body.ok == false)' 2>&1)"

scenario be '{"defaultBackupEligibility": true, "defaultBackupState": true}' "register('b', -7)" "login('b')"
same "a synced passkey (BE, BS) registers and signs in" "true true true" \
	"$(line be 1 .server.body.backup_eligible) $(line be 2 .server.body.backed_up) $(line be 2 .server.body.ok)"

isim-passkey credentials --state-dir "$S" --rp-id localhost >"$T/out"
same "the state holds the browser's five credentials" 5 "$(jq '.credentials | length' "$T/out")"
same "... with transports internal" internal "$(jq -r '.credentials[0].transports[0]' "$T/out")"

finish
