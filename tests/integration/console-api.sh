#!/bin/sh
# The meshnet console's API (isim-console.cgi under lighttpd, started by
# scripts/console-up) driven with curl as a browser would, the passkeys made
# by the software authenticator: every endpoint refuses a request without a
# session; users register, sign in, add a passkey, sign out; a session
# revoked or expired is refused; one user never sees nor reaches another's
# identity, peers or appliances; cross-site requests are refused; bad
# bodies are refused with their status and reason and change nothing; the
# rate limit; provisioning through hooks; the audit log; the security
# headers and the cookie's attributes on every response.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/lib-console.sh
. "$(dirname "$0")/lib-console.sh"
console_needs

HOOKS=$T/hooks
mkdir "$HOOKS" || exit 73
up "$T/a" CONSOLE_PROVISION_DIR="$HOOKS" CONSOLE_RATE_LIMIT=1000
: >"$T/bodies"
: >"$T/badheaders"
: >"$T/tokens"
nresp=0

# call METHOD PATH [CURL-ARG...]: a request with the cookie $CK (when set);
# the status in $S, the body in $T/b, the headers in $T/h. Every response's
# headers are checked here and its body kept, for the checks at the end.
CK=
call() {
	c_m=$1
	c_p=$2
	shift 2
	if [ -n "$CK" ]; then
		set -- -H "Cookie: isim_session=$CK" "$@"
	fi
	S=$(curl -s -o "$T/b" -D "$T/h" -w '%{http_code}' -X "$c_m" "$@" "$U$c_p")
	nresp=$((nresp + 1))
	cat "$T/b" >>"$T/bodies"
	echo >>"$T/bodies"
	tr -d '\r' <"$T/h" >"$T/h.lf"
	if ! grep -q "^Content-Security-Policy: .*frame-ancestors 'none'" "$T/h.lf" ||
		grep -qi 'unsafe-inline' "$T/h.lf" || ! grep -qi '^X-Content-Type-Options: nosniff$' "$T/h.lf"; then
		echo "$c_m $c_p: $S" >>"$T/badheaders"
	fi
	c_tok=$(cookie)
	if [ -n "$c_tok" ]; then
		echo "$c_tok" >>"$T/tokens"
		grep -i '^Set-Cookie:' "$T/h.lf" >>"$T/cookies"
	fi
}

# post PATH BODY [CURL-ARG...]: a POST from the console's page (its Origin,
# a JSON body; BODY @FILE for a file's).
post() {
	p_p=$1
	p_b=$2
	shift 2
	call POST "$p_p" -H "Origin: $ORIGIN" -H "Content-Type: application/json" --data-binary "$p_b" "$@"
}

reason() { jq -r .reason "$T/b" 2>/dev/null; }

# What a refused request must leave as it was: the console's records and
# the relying party's users (once they have a credential), credentials
# and sessions.
snap() {
	sqlite3 "$STATE/console.db" 'SELECT * FROM identities ORDER BY 1; SELECT * FROM provisions ORDER BY 1;
		SELECT * FROM provision_steps ORDER BY 1, 2; SELECT * FROM peers ORDER BY 1;
		SELECT * FROM appliances ORDER BY 1; SELECT hex(token_sha256), user_verified, expires_at FROM sessions ORDER BY 1;'
	sqlite3 "$STATE/passkey.db" 'SELECT id, name, display_name FROM users
		WHERE id IN (SELECT user_id FROM credentials) ORDER BY 1;
		SELECT hex(id), user_id, sign_count, last_used_at FROM credentials ORDER BY 1;
		SELECT hex(token_sha256), user_id, expires_at FROM sessions ORDER BY 1;'
}

# refused STATUS REASON DESCRIPTION METHOD PATH [CURL-ARG...]: the request
# answered STATUS with REASON, and nothing changed.
refused() {
	f_s=$1
	f_r=$2
	f_d=$3
	shift 3
	f_before=$(snap)
	call "$@"
	if [ "$S $(reason)" = "$f_s $f_r" ]; then
		ok "$f_d: $f_s $f_r"
	else
		not_ok "$f_d: $f_s $f_r" "got $S: $(head -c 600 "$T/b")"
	fi
	same "$f_d: nothing changed" "$f_before" "$(snap)"
}

# bad STATUS REASON DESCRIPTION PATH BODY [CURL-ARG...]: refused, for a POST
# from the page.
bad() {
	b_s=$1
	b_r=$2
	b_d=$3
	b_p=$4
	b_b=$5
	shift 5
	refused "$b_s" "$b_r" "$b_d" POST "$b_p" -H "Origin: $ORIGIN" -H "Content-Type: application/json" \
		--data-binary "$b_b" "$@"
}

# register USER KEYS: a new user with a passkey of the authenticator KEYS;
# the session's token in $TOKEN.
register() {
	CK=
	post /auth/register/options "{\"username\":\"$1\"}"
	jq -c .publicKey "$T/b" | auth create "$2" >"$T/reg.json"
	post /auth/register/verify "@$T/reg.json"
	TOKEN=$(cookie)
}

# login KEYS [BODY]: login-options (BODY, default {}) and login-verify
# with the cookie $CK, the answer kept in $T/login.json; the new token in
# $TOKEN.
login() {
	post /auth/login/options "${2:-"{}"}"
	jq -c .publicKey "$T/b" | auth get "$1" >"$T/login.json"
	post /auth/login/verify "@$T/login.json"
	TOKEN=$(cookie)
}

me() { # the signed-in user's name and passkey count, by GET /me
	call GET /me
	jq -r '"\(.user.name) \(.passkeys | length)"' "$T/b" 2>/dev/null
}

# ---- users, sessions ----------------------------------------------------------
register alice "$T/ka.json"
same "alice registers" "200 true alice" "$S $(jq -r '"\(.ok) \(.user)"' "$T/b")"
A=$TOKEN
same "a session cookie of 32 bytes" 43 "${#A}"
register bob "$T/kb.json"
same "bob registers with another authenticator" "200 true bob" "$S $(jq -r '"\(.ok) \(.user)"' "$T/b")"
B=$TOKEN
CK=$A
same "GET /me: alice, one passkey" "alice 1" "$(me)"
# The program holds sessions' tokens and private keys: it makes no core
# file (each FastCGI process of this console, found by its state folder).
cores=""
for p in $(pgrep -f isim-console.cgi); do
	if tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "ISIM_STATE_DIR=$T/a/state"; then
		cores="$cores$(awk '/^Max core file size/ { print $5 }' "/proc/$p/limits")"
	fi
done
check "the console's FastCGI processes make no core file ($cores)" test -n "$cores" -a -z "$(echo "$cores" | tr -d 0)"
same "... no identity yet, a session of 24 hours" "null true" \
	"$(jq -r '"\(.identity) \((.session.expires_at | fromdate) - (.session.created_at | fromdate) == 86400)"' "$T/b")"
CK=$B
same "GET /me with bob's cookie: bob" "bob 1" "$(me)"

CK=
login "$T/ka.json" '{"username":"alice"}'
same "alice signs in again (login-options, login-verify)" "200 true alice" "$S $(jq -r '"\(.ok) \(.user)"' "$T/b")"
A2=$TOKEN
[ -n "$A2" ] && [ "$A2" != "$A" ]
same "... a new session cookie" 0 "$?"
CK=$A
same "... a login without the cookie leaves the first session valid" "alice 1" "$(me)"
CK=$A2
same "... and the new one is valid" "alice 1" "$(me)"
CK=$A2
login "$T/ka.json"
A3=$TOKEN
same "a login while signed in (a step-up, discoverable): a new cookie" "200 alice 43" \
	"$S $(jq -r .user "$T/b") ${#A3}"
CK=$A2
call GET /me
same "... and the session it replaces is ended" "401 session" "$S $(reason)"
CK=$A3
same "... the new one is valid" "alice 1" "$(me)"

CK=
bad 409 username_taken "register-options for alice again, signed out" /auth/register/options '{"username":"alice"}'
CK=$A
post /auth/register/options '{}'
same "register-options {} signed in as alice: alice's options" "200 1" \
	"$S $(jq '.publicKey.excludeCredentials | length' "$T/b")"
jq -c .publicKey "$T/b" | auth create "$T/ka2.json" >"$T/reg2.json"
post /auth/register/verify "@$T/reg2.json"
same "... a second passkey, no new session" "200 alice " "$S $(jq -r .user "$T/b") $(cookie)"
same "GET /me shows alice's two passkeys" "alice 2" "$(me)"
CK=
login "$T/ka2.json" '{"username":"alice"}'
same "alice signs in with the second passkey" "200 alice" "$S $(jq -r .user "$T/b")"
A4=$TOKEN
CK=$A
bad 403 forbidden "register-options for bob, signed in as alice" /auth/register/options '{"username":"bob"}'

# ---- no session -------------------------------------------------------------
CK=
for e in "GET /me" "POST /identity" "POST /identity/provision" "GET /mesh/peers" "POST /mesh/peers" \
	"GET /mesh/peers/1/config" "POST /mesh/peers/1/rotate" "DELETE /mesh/peers/1" "GET /appliances" \
	"POST /appliances" "GET /appliances/1/archive" "POST /auth/logout"; do
	# shellcheck disable=SC2086 # METHOD PATH
	set -- $e
	if [ "$1" = POST ]; then
		set -- "$@" -H "Content-Type: application/json" --data-binary '{}'
	fi
	refused 401 session "$e without a session" "$@" -H "Origin: $ORIGIN"
done
CK=nonsense
refused 401 session "GET /me with a cookie that is not a token" GET /me
CK=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
refused 401 session "GET /me with a token no session has" GET /me
CK=$A
refused 404 not_found "an unknown path" GET /nope
refused 404 not_found "a path with a trailing slash" GET /me/
refused 404 not_found "peer id 0" GET /mesh/peers/0/config
refused 404 not_found "peer id 01" GET /mesh/peers/01/config
refused 405 method "PUT /me" PUT /me -H "Origin: $ORIGIN"
contains "... Allow: GET" "$T/h.lf" "Allow: GET"
refused 405 method "GET /mesh/peers/1" GET /mesh/peers/1
contains "... Allow: DELETE" "$T/h.lf" "Allow: DELETE"
refused 405 method "DELETE /mesh/peers" DELETE /mesh/peers -H "Origin: $ORIGIN"
contains "... Allow: GET, POST" "$T/h.lf" "Allow: GET, POST"
refused 405 method "GET /auth/login/options" GET /auth/login/options
contains "... Allow: POST" "$T/h.lf" "Allow: POST"

# ---- one user's objects, another's ------------------------------------------
CK=$A
post /identity '{"handle":"alice"}'
same "alice takes the handle alice" "201 alice alice.localhost @alice:localhost isim-alice" \
	"$S $(jq -r '.identity | "\(.handle) \(.subdomain) \(.matrix_id) \(.bucket)"' "$T/b")"
CK=$B
call GET /me
same "bob's GET /me: bob, no identity" "bob null" "$(jq -r '"\(.user.name) \(.identity)"' "$T/b")"
CK=$A
bad 503 unavailable "a peer without a WireGuard device (CONSOLE_WG_DEV unset)" /mesh/peers '{"name":"laptop"}'
# A peer and an appliance of alice's, as the mesh and isim-vm would leave
# them (the lead's tests make them for real).
AID=$(sqlite3 "$STATE/passkey.db" "SELECT id FROM users WHERE name = 'alice'")
mkdir -p "$STATE/archives"
sqlite3 "$STATE/console.db" "INSERT INTO peers (user_id, name, address, node_id, public_key, state, created_at, issued_at)
	VALUES ($AID, 'laptop', '10.100.0.2', 'node-alice', 'uE5zJbG8P1Z7s3SKXXnFMz7pJ0zDpcpA8aSeEBkW/HY=', 'active', 1, 1);
	INSERT INTO appliances (user_id, name, vm, template, profile, state, archive_size, archive_sha256, created_at)
	VALUES ($AID, 'notes', 'app-0123456789AB', 'alpine', 'small', 'building', NULL, NULL, 1);"
PID=$(sqlite3 "$STATE/console.db" "SELECT id FROM peers WHERE name = 'laptop'")
APP=$(sqlite3 "$STATE/console.db" "SELECT id FROM appliances WHERE name = 'notes'")
call GET /mesh/peers
same "alice's peer list has her peer" "200 laptop" "$S $(jq -r '[.peers[].name] | join(" ")' "$T/b")"
call GET /appliances
same "alice's appliance list has her appliance" "200 notes" "$S $(jq -r '[.appliances[].name] | join(" ")' "$T/b")"
refused 409 not_ready "alice's archive while it builds" GET "/appliances/$APP/archive"
CK=$B
call GET /mesh/peers
same "bob's peer list is empty" "200 0" "$S $(jq '.peers | length' "$T/b")"
call GET /appliances
same "bob's appliance list is empty" "200 0" "$S $(jq '.appliances | length' "$T/b")"
refused 404 not_found "bob asks for alice's peer's configuration" GET "/mesh/peers/$PID/config"
refused 404 not_found "bob rotates alice's peer" POST "/mesh/peers/$PID/rotate" -H "Origin: $ORIGIN" \
	-H "Content-Type: application/json" --data-binary '{}'
refused 404 not_found "bob deletes alice's peer" DELETE "/mesh/peers/$PID" -H "Origin: $ORIGIN"
refused 404 not_found "bob downloads alice's appliance" GET "/appliances/$APP/archive"
refused 404 not_found "an unknown peer" GET /mesh/peers/999999/config
refused 404 not_found "deleting an unknown peer" DELETE /mesh/peers/999999 -H "Origin: $ORIGIN"
refused 404 not_found "an unknown appliance" GET /appliances/999999/archive
bad 404 no_identity "bob provisions without an identity" /identity/provision '{}'

# ---- sessions that end ------------------------------------------------------
CK=$A4
post /auth/logout '{}'
same "POST /auth/logout" "200 true" "$S $(jq -r .ok "$T/b")"
contains "... clears the cookie" "$T/h.lf" "Set-Cookie: isim_session=; Max-Age=0"
refused 401 session "the signed-out cookie" GET /me
refused 401 session "logging out twice" POST /auth/logout -H "Origin: $ORIGIN" -H "Content-Type: application/json" \
	--data-binary '{}'
same "... the console forgets the session too" 0 \
	"$(sqlite3 "$STATE/console.db" "SELECT count(*) FROM sessions WHERE hex(token_sha256) = '$(token_hex "$A4")'")"
CK=
login "$T/kb.json" '{"username":"bob"}'
B2=$TOKEN
CK=$B2
same "bob's second session" "bob 1" "$(me)"
sqlite3 "$STATE/passkey.db" "UPDATE sessions SET expires_at = strftime('%s', 'now') - 1
	WHERE hex(token_sha256) = '$(token_hex "$B2")'"
refused 401 session "a session past its expiry" GET /me
CK=$B
same "... bob's other session is valid" "bob 1" "$(me)"

# ---- cross-site -------------------------------------------------------------
CK=$B
bad_origin() { # DESCRIPTION METHOD PATH [CURL-ARG...]
	o_d=$1
	shift
	refused 403 origin "$o_d" "$@" -H "Content-Type: application/json" --data-binary '{"handle":"bobby"}'
}
bad_origin "POST /identity from http://evil.example" POST /identity -H "Origin: http://evil.example"
bad_origin "POST /identity without an Origin" POST /identity
bad_origin "POST /identity from Origin null" POST /identity -H "Origin: null"
bad_origin "POST /identity from another port" POST /identity -H "Origin: http://localhost:1"
bad_origin "POST /identity from https://localhost:PORT" POST /identity -H "Origin: https://localhost:$PORT"
bad_origin "POST /identity, Sec-Fetch-Site cross-site" POST /identity -H "Origin: $ORIGIN" -H "Sec-Fetch-Site: cross-site"
bad_origin "POST /auth/logout from http://evil.example" POST /auth/logout -H "Origin: http://evil.example"
bad_origin "DELETE a peer without an Origin" DELETE "/mesh/peers/$PID"
refused 403 origin "GET /me from http://evil.example" GET /me -H "Origin: http://evil.example"
refused 403 origin "GET /me, Sec-Fetch-Site cross-site" GET /me -H "Sec-Fetch-Site: cross-site"
CK=
bad_origin "register-options from http://evil.example" POST /auth/register/options -H "Origin: http://evil.example"
bad_origin "login-options without an Origin" POST /auth/login/options
CK=$B
same "bob is still signed in" "bob 1" "$(me)"

# ---- bad bodies -------------------------------------------------------------
CK=$B
bad 400 malformed "malformed JSON" /identity '{"handle":'
bad 400 malformed "a JSON array" /identity '["bobby"]'
bad 400 malformed "a JSON string" /identity '"bobby"'
bad 400 malformed "trailing bytes after the object" /identity '{"handle":"bobby"} x'
bad 400 malformed "two objects" /identity '{"handle":"bobby"}{"handle":"bobby"}'
bad 400 malformed "nesting 5000 deep" /identity "$(printf '%5000s' '' | tr ' ' '[')"
bad 400 malformed "not UTF-8" /identity "$(printf '{"handle":"bob\377"}')"
bad 400 type "handle 5" /identity '{"handle":5}'
bad 400 type "handle null" /identity '{"handle":null}'
bad 400 type "handle an object" /identity '{"handle":{"name":"bobby"}}'
bad 400 type "handle true" /identity '{"handle":true}'
bad 400 missing "no handle" /identity '{}'
bad 400 unknown_member "an unknown member" /identity '{"handle":"bobby","admin":true}'
bad 400 length "an empty handle" /identity '{"handle":""}'
for h in ab 012345678901234567890123456789012 Bobby BOB -bob bob- b--b bob.b bob_b "bob b" admin www matrix api \
	postmaster; do
	bad 400 handle "handle '$h'" /identity "{\"handle\":\"$h\"}"
done
bad 400 malformed "handle with a NUL (\\u0000)" /identity '{"handle":"bobby\u0000x"}'
bad 400 handle "handle with a newline" /identity '{"handle":"bobby\nx"}'
bad 409 handle_taken "bob takes alice's handle" /identity '{"handle":"alice"}'
CK=$A
bad 409 identity_exists "alice's second identity" /identity '{"handle":"alice2"}'
CK=$B
# The largest body taken, and one byte more.
$PY -c 'import sys; n = int(sys.argv[1]); b = "{\"handle\":\"ab\"}"; sys.stdout.write(b + " " * (n - len(b)))' 65536 >"$T/max.json"
$PY -c 'import sys; n = int(sys.argv[1]); b = "{\"handle\":\"ab\"}"; sys.stdout.write(b + " " * (n - len(b)))' 65537 >"$T/over.json"
bad 400 handle "a body of CONSOLE_MAX_BODY (64 KiB) bytes is read" /identity "@$T/max.json"
bad 413 too_large "a body of CONSOLE_MAX_BODY+1 bytes" /identity "@$T/over.json"
refused 415 content_type "Content-Type text/plain" POST /identity -H "Origin: $ORIGIN" -H "Content-Type: text/plain" \
	--data-binary '{"handle":"bobby"}'
refused 415 content_type "a form's Content-Type" POST /identity -H "Origin: $ORIGIN" --data-binary '{"handle":"bobby"}'
refused 415 content_type "Content-Type application/jsonp" POST /identity -H "Origin: $ORIGIN" \
	-H "Content-Type: application/jsonp" --data-binary '{"handle":"bobby"}'
refused 415 content_type "no Content-Type" POST /identity -H "Origin: $ORIGIN" -H "Content-Type:" \
	--data-binary '{"handle":"bobby"}'
refused 400 handle "Content-Type application/json; charset=utf-8 is JSON" POST /identity -H "Origin: $ORIGIN" \
	-H "Content-Type: application/json; charset=utf-8" --data-binary '{"handle":"ab"}'
bad 400 unknown_member "provision with a member" /identity/provision '{"now":true}'
bad 400 malformed "logout with an array" /auth/logout '[]'
same "... bob is still signed in" "bob 1" "$(me)"
CK=
bad 400 type "username null" /auth/register/options '{"username":null}'
bad 400 type "username 5" /auth/register/options '{"username":5}'
bad 400 missing "register-options without a username, signed out" /auth/register/options '{}'
bad 400 length "an empty username" /auth/register/options '{"username":""}'
bad 400 length "a username of 65 bytes" /auth/register/options \
	"{\"username\":\"$(printf '%65s' '' | tr ' ' a)\"}"
bad 400 username "a username with a space" /auth/register/options '{"username":"carol smith"}'
bad 400 username "a username with a slash" /auth/register/options '{"username":"../carol"}'
bad 400 unknown_member "register-options with an unknown member" /auth/register/options '{"username":"carol","role":"admin"}'
bad 400 type "display_name 5" /auth/register/options '{"username":"carol","display_name":5}'
bad 400 user_verification "login-options, user_verification always" /auth/login/options '{"user_verification":"always"}'
bad 404 unknown_user "login-options for nobody" /auth/login/options '{"username":"nobody"}'

# A registration answer with one byte of its clientDataJSON changed (the
# challenge's first character, to another of base64url).
post /auth/register/options '{"username":"carol"}'
jq -c .publicKey "$T/b" | auth create "$T/kc.json" >"$T/carol.json"
$PY -c 'import base64, json, sys
r = json.load(open(sys.argv[1]))
s = r["response"]["clientDataJSON"]
cd = bytearray(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))
i = cd.index(b"\"challenge\":\"") + 13
cd[i] = ord("B") if cd[i] == ord("A") else ord("A")
r["response"]["clientDataJSON"] = base64.urlsafe_b64encode(bytes(cd)).rstrip(b"=").decode()
json.dump(r, sys.stdout)' "$T/carol.json" >"$T/carol-bad.json"
bad 400 challenge "a registration whose clientDataJSON was changed" /auth/register/verify "@$T/carol-bad.json"
same "... no Set-Cookie" "" "$(cookie)"
bad 400 malformed "register-verify with a JSON array" /auth/register/verify '[1]'
bad 400 malformed "register-verify with an empty object" /auth/register/verify '{}'
post /auth/register/verify "@$T/carol.json"
same "the untouched answer registers carol (its challenge was not used up by the bad one)" "200 carol" \
	"$S $(jq -r .user "$T/b")"
# A login answer sent twice.
login "$T/kb.json" '{"username":"bob"}'
same "bob signs in" "200 bob" "$S $(jq -r .user "$T/b")"
bad 401 challenge "the same login answer again (a replay)" /auth/login/verify "@$T/login.json"
same "... no Set-Cookie" "" "$(cookie)"
post /auth/login/options '{"username":"bob"}'
jq -c .publicKey "$T/b" | auth get "$T/kb.json" --counter 1 >"$T/clone.json"
bad 401 counter "a login with a sign counter that went back" /auth/login/verify "@$T/clone.json"

# ---- the rate limit ---------------------------------------------------------
MAIN_U=$U MAIN_STATE=$STATE MAIN_ORIGIN=$ORIGIN
up "$T/r" CONSOLE_RATE_LIMIT=5 CONSOLE_PROVISION_DIR="$HOOKS"
# Not across a minute's end (the limit counts a minute's requests).
sec=$(date +%S)
sec=${sec#0}
[ "$sec" -lt 50 ] || sleep $((61 - sec))
CK=
n=0
for _ in 1 2 3 4 5; do
	post /auth/login/options '{}'
	[ "$S" = 200 ] && n=$((n + 1))
done
same "CONSOLE_RATE_LIMIT=5: five auth requests in a minute are answered" 5 "$n"
post /auth/register/options '{"username":"dave"}'
same "... the sixth is refused" "429 rate_limited" "$S $(reason)"
contains "... with Retry-After" "$T/h.lf" "Retry-After: 60"
same "... and made no user" 0 "$(sqlite3 "$STATE/passkey.db" "SELECT count(*) FROM users WHERE name = 'dave'" 2>/dev/null || echo 0)"
call GET /me
same "... GET /me is not limited" "401 session" "$S $(reason)"
U=$MAIN_U STATE=$MAIN_STATE ORIGIN=$MAIN_ORIGIN

# ---- provisioning -----------------------------------------------------------
printf '#!/bin/sh\nenv >"%s"\n' "$T/hookenv" >"$HOOKS/10-ok"
cat >>"$HOOKS/10-ok" <<'EOF'
in=$(cat)
h=$(printf '%s' "$in" | jq -r .handle)
[ "$h" = alice ] || { echo "the handle is '$h', not alice" >&2; exit 1; }
printf '{"record":"%s"}\n' "$(printf '%s' "$in" | jq -r .subdomain)"
EOF
cat >"$HOOKS/20-fail" <<'EOF'
#!/bin/sh
cat >/dev/null
echo "bucket isim-alice: 403 Forbidden" >&2
exit 1
EOF
chmod +x "$HOOKS/10-ok" "$HOOKS/20-fail"

# provisioned: GET /me until the provisioning is no longer running (20 s at
# most); its state printed.
provisioned() {
	w_i=0
	while :; do
		call GET /me
		w_s=$(jq -r .identity.provisioning.state "$T/b")
		if [ "$w_s" != running ] || [ "$w_i" -ge 200 ]; then
			echo "$w_s"
			return
		fi
		w_i=$((w_i + 1))
		sleep 0.1
	done
}

CK=$A
post /identity/provision '{}'
same "POST /identity/provision: 202, running, two steps pending" "202 running ok:pending fail:pending" \
	"$S $(jq -r '.provisioning | "\(.state) \([.steps[] | "\(.name):\(.state)"] | join(" "))"' "$T/b")"
same "the provisioning ends failed" failed "$(provisioned)"
same "... ok done with its result, fail failed with its message" \
	'ok done {"record":"alice.localhost"} null|fail failed null bucket isim-alice: 403 Forbidden' \
	"$(jq -r '[.identity.provisioning.steps[] | "\(.name) \(.state) \(.result | tojson) \(.message)"] | join("|")' "$T/b")"
same "... the hooks' environment has no session token (no HTTP_COOKIE)" "0 0" \
	"$(grep -cFf "$T/tokens" "$T/hookenv") $(grep -c '^HTTP_COOKIE=' "$T/hookenv")"
same "... with its times" "true" "$(jq '.identity.provisioning | .ended_at >= .started_at and .ended_at != null' "$T/b")"

rm "$HOOKS/20-fail"
cat >"$HOOKS/10-ok" <<'EOF'
#!/bin/sh
cat >/dev/null
sleep 3
echo '{"slept":3}'
EOF
post /identity/provision '{}'
same "provisioning again (a hook that sleeps 3 s): 202" "202 running" "$S $(jq -r .provisioning.state "$T/b")"
started=$(sqlite3 "$STATE/console.db" "SELECT started_at FROM provisions WHERE user_id = $AID")
post /identity/provision '{}'
same "... a second provision while it runs: 409 provisioning" "409 provisioning" "$S $(reason)"
same "... the running one kept" "running $started" \
	"$(sqlite3 "$STATE/console.db" "SELECT state, started_at FROM provisions WHERE user_id = $AID" | tr '|' ' ')"
same "... it ends done" "done" "$(provisioned)"
same "... one step, done" 'ok done {"slept":3}' \
	"$(jq -r '[.identity.provisioning.steps[] | "\(.name) \(.state) \(.result | tojson)"] | join("|")' "$T/b")"
# A run whose worker died (the machine restarted) stays "running" in
# console.db; once its hooks' time is up it is over.
sqlite3 "$STATE/console.db" "UPDATE provisions SET state = 'running', started_at = strftime('%s', 'now') - 3600,
	ended_at = NULL WHERE user_id = $AID"
post /identity/provision '{}'
same "a run left running an hour ago (its worker gone) does not refuse a new one" "202 running" \
	"$S $(jq -r .provisioning.state "$T/b")"
same "... which ends done" "done" "$(provisioned)"

# ---- the audit log ----------------------------------------------------------
isim-memdump log export --state-dir "$STATE" >"$T/log.jsonl"
actions() { # ACTION: "user ok" of its console entries, one a line
	jq -r --arg a "$1" 'select(.kind == "console" and .record.action == $a) | "\(.record.user) \(.record.ok)"' "$T/log.jsonl" |
		sort -u | tr '\n' ' '
}
same "the log has identity.create by alice" "alice true " "$(actions identity.create)"
same "... identity.provision by alice" "alice true " "$(actions identity.provision)"
same "... identity.provisioned, failed then done" "alice false alice true " "$(actions identity.provisioned)"
same "... logout by alice" "alice true " "$(actions logout)"
same "... passkey.register, each with its user (the refused one without)" " false alice true bob true carol true " "$(actions passkey.register)"
same "... passkey.login, each with its user (the refused ones without)" " false alice true bob true " "$(actions passkey.login)"
same "... a login's entry names the session it opened, by SHA-256" 1 \
	"$(jq -r 'select(.record.action == "passkey.login") | .record.session_sha256' "$T/log.jsonl" |
		grep -ci "^$(token_hex "$A2")$")"
same "... the sessions by their SHA-256, never the token" 0 "$(grep -cFf "$T/tokens" "$T/log.jsonl")"
expect 0 "isim-memdump log verify passes" isim-memdump log verify --state-dir "$STATE"

# ---- headers ----------------------------------------------------------------
same "all $nresp responses carry CSP (frame-ancestors 'none', no 'unsafe-inline') and nosniff" "" \
	"$(cat "$T/badheaders")"
same "every Set-Cookie is HttpOnly, Secure, SameSite=Strict, Path=/api/meshnet" "" \
	"$(grep -v 'Path=/api/meshnet; HttpOnly; Secure; SameSite=Strict$' "$T/cookies")"
same "no session token in any response body" 0 "$(grep -cFf "$T/tokens" "$T/bodies")"
curl -s -D "$T/h" -o /dev/null "${U%/api/meshnet}/"
tr -d '\r' <"$T/h" >"$T/h.lf"
contains "the page has the CSP too" "$T/h.lf" "frame-ancestors 'none'"
contains "... and nosniff" "$T/h.lf" "X-Content-Type-Options: nosniff"
finish
