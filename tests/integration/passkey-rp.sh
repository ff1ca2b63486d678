#!/bin/sh
# isim-passkey as a relying party with its state: registration and login
# for ES256, EdDSA and RS256 credentials made by passkey-authenticator.py
# (a software authenticator on Python's cryptography), sessions checked,
# expired and revoked; then each way a ceremony can be wrong, refused with
# its reason, its challenge used up, and nothing stored (users,
# credentials and sessions as they were).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
AUTH=$ISIM_ROOT/tests/integration/passkey-authenticator.py
if ! $PY -c 'import cbor2, cryptography' 2>/dev/null; then
	skip "passkey relying party" "needs python3-cbor2 and python3-cryptography (make deps)"
	finish
	exit
fi
ORIGIN=http://localhost:8080
ISIM_STATE_DIR=$T/state
WEBAUTHN_RP_ID=localhost
WEBAUTHN_RP_ORIGIN=$ORIGIN
export ISIM_STATE_DIR WEBAUTHN_RP_ID WEBAUTHN_RP_ORIGIN
mkdir "$ISIM_STATE_DIR" || exit 73
DB=$ISIM_STATE_DIR/passkey.db
KEYS=$T/authenticator.json

# auth create|get [OPTION...] < options: the software authenticator.
auth() {
	a_op=$1
	shift
	$PY "$AUTH" "$a_op" "${KEYFILE:-$KEYS}" "$ORIGIN" "$@"
}

# What a refusal must leave as it was (register-options makes the user; a
# user counts once a credential is stored).
snap() {
	sqlite3 "$DB" 'SELECT name, display_name, hex(handle) FROM users
		WHERE id IN (SELECT user_id FROM credentials) ORDER BY name;
		SELECT hex(id), user_id, sign_count, user_verified, backup_eligible, backed_up, possibly_cloned
		FROM credentials ORDER BY id; SELECT hex(token_sha256), expires_at FROM sessions ORDER BY 1;'
}

# register USER [OPTION...]: options, the authenticator's answer (OPTION
# are its), register-verify; its output in $T/out, the answer in $T/resp.
register() {
	r_user=$1
	shift
	isim-passkey register-options --user "$r_user" >"$T/opts" &&
		auth create "$@" <"$T/opts" >"$T/resp" &&
		isim-passkey register-verify <"$T/resp" >"$T/out" 2>"$T/err"
}

# login [--user USER] -- [OPTION...]: the same for a login.
login() {
	l_opts=""
	if [ "$1" = --user ]; then
		l_opts="--user $2"
		shift 2
	fi
	[ "$1" = -- ] && shift
	# shellcheck disable=SC2086
	isim-passkey login-options $l_opts >"$T/opts" &&
		auth get "$@" <"$T/opts" >"$T/resp" &&
		isim-passkey login-verify <"$T/resp" >"$T/out" 2>"$T/err"
}

field() { jq -r ".$1" "$T/out"; }

# verify register|login FILE [OPTION...]: the verify command on an answer
# made before.
verify() {
	v_kind=$1
	v_file=$2
	shift 2
	isim-passkey "$v_kind-verify" "$@" <"$v_file" >"$T/out" 2>"$T/err"
}

# answer register|login ORIGIN [OPTION...]: options ($T/opts, made before)
# answered from ORIGIN, and verified.
answer() {
	w_kind=$1
	w_origin=$2
	shift 2
	w_op="get"
	[ "$w_kind" = register ] && w_op=create
	$PY "$AUTH" "$w_op" "$KEYS" "$w_origin" "$@" <"$T/opts" >"$T/resp" && verify "$w_kind" "$T/resp"
}

# refused REASON DESCRIPTION COMMAND...: exit 1, that reason, and the state
# as it was (no user, credential or session added or changed).
refused() {
	f_reason=$1
	f_d=$2
	shift 2
	f_before=$(snap)
	"$@"
	f_rc=$?
	f_got=$(field reason 2>/dev/null)
	if [ "$f_rc" -eq 1 ] && [ "$f_got" = "$f_reason" ]; then
		ok "$f_d: refused, $f_reason"
	else
		not_ok "$f_d: refused, $f_reason" "exit $f_rc" "$(cat "$T/out" "$T/err" 2>/dev/null)"
	fi
	same "$f_d: nothing stored" "$f_before" "$(snap)"
}

# ---- the ceremonies that work ----------------------------------------------
register alice
same "alice registers an ES256 credential" "0 true ES256 none 1" "$? $(field ok) $(field alg_name) $(field fmt) $(field sign_count)"
ES=$(field credential_id)
same "the user's name in the answer" alice "$(field user)"
same "the options offered ES256, EdDSA and RS256" "-7 -8 -257" "$(jq -r '[.pubKeyCredParams[].alg] | join(" ")' "$T/opts")"
same "the challenge is 32 bytes, the user handle 16" "43 22" \
	"$(jq -r '[(.challenge | length), (.user.id | length)] | join(" ")' "$T/opts")"
register alice --alg -8
same "alice registers an EdDSA credential" "0 EdDSA" "$? $(field alg_name)"
ED=$(field credential_id)
register alice --alg -257 --att packed
same "alice registers an RS256 credential with packed self attestation" "0 RS256 packed self" \
	"$? $(field alg_name) $(field fmt) $(field attestation_type)"
RS=$(field credential_id)
isim-passkey register-options --user alice >"$T/opts"
same "register-options excludes alice's three credentials" 3 "$(jq '.excludeCredentials | length' "$T/opts")"
same "... with their transports" internal "$(jq -r '.excludeCredentials[0].transports[0]' "$T/opts")"
same "the same user handle each time" "$(sqlite3 "$DB" "SELECT count(*) FROM users")" 1

login --user alice -- --cred "$ES"
same "alice signs in with ES256" "0 true alice 2" "$? $(field ok) $(field user) $(field sign_count)"
TOKEN=$(field session)
same "the session token is 32 bytes" 43 "${#TOKEN}"
same "the state keeps its SHA-256 only" 0 "$(sqlite3 "$DB" "SELECT count(*) FROM sessions WHERE hex(token_sha256) LIKE '%$TOKEN%'")"
same "allowCredentials lists alice's credentials" 3 "$(jq '.allowCredentials | length' "$T/opts")"
login --user alice -- --cred "$ED"
same "alice signs in with EdDSA" "0 true" "$? $(field ok)"
login -- --cred "$RS"
same "a discoverable login (empty allowCredentials) with RS256" "0 true alice []" \
	"$? $(field ok) $(field user) $(jq -c .allowCredentials "$T/opts")"
TOKEN2=$(field session)

printf '{"session":"%s"}' "$TOKEN" >"$T/tok"
expect 0 "session-check takes the token" isim-passkey session-check <"$T/tok"
same "... and names its user and credential" "alice $ES" "$(jq -r '"\(.user) \(.credential_id)"' "$T/out")"
expect 0 "session-revoke ends it" isim-passkey session-revoke <"$T/tok"
same "... one" 1 "$(jq .revoked "$T/out")"
expect 1 "a revoked session is refused" isim-passkey session-check <"$T/tok"
same "... reason session" session "$(jq -r .reason "$T/out")"
expect 1 "revoking it again: no such session" isim-passkey session-revoke <"$T/tok"
printf '{"session":"%s"}' "$TOKEN2" >"$T/tok2"
sqlite3 "$DB" "UPDATE sessions SET expires_at = strftime('%s', 'now') - 1"
expect 1 "a session past its 24 hours is refused" isim-passkey session-check <"$T/tok2"
same "... reason expired" expired "$(jq -r .reason "$T/out")"
expect 0 "session-revoke --all --user alice" isim-passkey session-revoke --all --user alice
same "... ended the rest" 2 "$(jq .revoked "$T/out")"
same "sessions expire 24 h after the login" 86400 \
	"$(login --user alice -- --cred "$ES" && sqlite3 "$DB" 'SELECT expires_at - created_at FROM sessions')"

# Counters of 0 mean none (section 6.1.1); BE may become 1 (a synced passkey).
register bob --counter 0
Z=$(field credential_id)
login --user bob -- --cred "$Z" --counter 0
same "a credential without a counter (0, 0) signs in" "0 0" "$? $(field sign_count)"
login --user bob -- --cred "$Z" --counter 0
same "... again" 0 "$?"
login --user bob -- --cred "$Z" --counter 0 --be --bs
same "BE going from 0 to 1 is taken" "0 true true" "$? $(field backup_eligible) $(field backed_up)"
isim-passkey credentials --user bob >"$T/out"
same "... and stored" "true true" "$(jq -r '.credentials[0] | "\(.backup_eligible) \(.backed_up)"' "$T/out")"
refused backup_eligibility "BE going from 1 to 0" login --user bob -- --cred "$Z" --counter 0

isim-passkey credentials >"$T/out"
same "credentials lists four" 4 "$(jq '.credentials | length' "$T/out")"
same "... with their fields" "alice ES256 3 false" \
	"$(jq -r --arg id "$ES" '.credentials[] | select(.credential_id == $id) |
		"\(.user) \(.alg_name) \(.sign_count) \(.possibly_cloned)"' "$T/out")"
expect 1 "credentials --user nobody: unknown_user" isim-passkey credentials --user nobody

# ---- registrations refused ----------------------------------------------------
isim-passkey register-options --user carol >"$T/opts"
auth create <"$T/opts" >"$T/good"
refused origin "registration from another origin" answer register http://evil.example:8080
refused challenge "the right answer to a challenge a refused ceremony used" \
	verify register "$T/good"
register dave
refused challenge "a registration replayed" verify register "$T/resp"
refused user_presence "registration without user presence" register erin --no-up
isim-passkey register-options --user erin --user-verification required >"$T/opts"
auth create --no-uv <"$T/opts" >"$T/resp"
refused user_verification "registration without UV when required" \
	verify register "$T/resp"
refused algorithm "a key of an algorithm not offered (ES384)" register erin --alg -35
# A second authenticator, so that the first keeps its key for that id.
KEYFILE=$T/other-authenticator.json
refused credential_exists "a credential id registered before" register erin --cred "$ES"
KEYFILE=
refused type "a registration signed as webauthn.get" register erin --type webauthn.get
isim-passkey register-options --user erin >"$T/opts"
auth create <"$T/opts" >"$T/resp"
sqlite3 "$DB" "UPDATE challenges SET expires_at = strftime('%s', 'now') - 1"
refused expired "a registration after its 5 minutes" \
	verify register "$T/resp"
isim-passkey login-options --user alice >"$T/opts"
jq '.rp = {id: "localhost"} | .user = {id: "AAAA"} | .pubKeyCredParams = [{alg: -7}]' "$T/opts" |
	auth create >"$T/resp"
refused challenge "a login's challenge answered by a registration" \
	verify register "$T/resp"
isim-passkey register-options --user erin >"$T/opts"
auth create <"$T/opts" | jq '.response.attestationObject |= .[0:40]' >"$T/resp"
refused malformed "a truncated attestation object" \
	verify register "$T/resp"
isim-passkey register-options --user erin >"$T/opts"
auth create <"$T/opts" >"$T/resp"
refused rp_id "a registration for another relying party id" verify register "$T/resp" --rp-id example.org
refused challenge "... whose challenge is then gone" \
	verify register "$T/resp"

# ---- logins refused -----------------------------------------------------------------
isim-passkey login-options --user alice >"$T/opts"
refused origin "a login from another origin" answer login http://localhost:8081 --cred "$ES"
login --user alice -- --cred "$ES"
refused challenge "a login replayed" verify login "$T/resp"
refused user_presence "a login without user presence" login --user alice -- --cred "$ES" --no-up
isim-passkey login-options --user alice --user-verification required >"$T/opts"
refused user_verification "a login without UV when required" answer login "$ORIGIN" --cred "$ES" --no-uv
refused unknown_credential "another user's credential" login --user bob -- --cred "$ES"
isim-passkey register-options --user frank >"$T/opts"
auth create --cred AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA <"$T/opts" >/dev/null
refused unknown_credential "a credential never registered" login -- --cred AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
refused user_handle "a discoverable login without a user handle" login -- --cred "$ES" --no-user-handle
isim-passkey login-options >"$T/opts"
auth get --cred "$ES" <"$T/opts" | jq '.response.userHandle = "AAAAAAAAAAAAAAAAAAAAAA"' >"$T/resp"
refused user_handle "a discoverable login with another user's handle" \
	verify login "$T/resp"
isim-passkey login-options --user alice >"$T/opts"
auth get --cred "$ES" <"$T/opts" | jq '.response.signature |= (.[0:10] + (if .[10:11] == "A" then "B" else "A" end) + .[11:])' >"$T/resp"
refused signature "a login whose signature was changed" \
	verify login "$T/resp"
isim-passkey login-options --user alice >"$T/opts"
auth get --cred "$ES" <"$T/opts" >"$T/resp"
sqlite3 "$DB" "UPDATE challenges SET expires_at = strftime('%s', 'now') - 1"
refused expired "a login after its 5 minutes" \
	verify login "$T/resp"
refused type "a login signed as webauthn.create" login --user alice -- --cred "$ES" --type webauthn.create

# The counter going back marks the credential (section 7.2 step 22), which
# is the one change a refused login makes.
n=$(sqlite3 "$DB" "SELECT sign_count FROM credentials WHERE id = (SELECT id FROM credentials ORDER BY created_at, id LIMIT 1)")
login --user alice -- --cred "$ES" --counter 1
same "a counter going back is refused" "1 counter" "$? $(field reason)"
same "... and marks the credential as possibly cloned" "true" \
	"$(isim-passkey credentials --user alice | jq -r --arg id "$ES" '.credentials[] | select(.credential_id == $id) | .possibly_cloned')"
refused counter "then a counter going on is refused too" login --user alice -- --cred "$ES" --counter $((n + 10))
login --user alice -- --cred "$ED" --counter "$(sqlite3 "$DB" "SELECT sign_count FROM credentials WHERE alg = -8")"
same "a counter that stays is refused (the other copy signed)" "1 counter" "$? $(field reason)"

expect 1 "login-options --user nobody: unknown_user" isim-passkey login-options --user nobody
same "... reason unknown_user" unknown_user "$(jq -r .reason "$T/out")"
same "every ceremony is recorded, refused ones with their reason" "$(sqlite3 "$DB" "SELECT count(*) FROM ceremonies WHERE ok = 0 AND reason IS NOT NULL")" \
	"$(sqlite3 "$DB" "SELECT count(*) FROM ceremonies WHERE ok = 0")"
same "... the ones that worked too (5 registrations, 8 logins)" 13 "$(sqlite3 "$DB" "SELECT count(*) FROM ceremonies WHERE ok = 1")"

AUDIT=$ISIM_STATE_DIR/audit.db
same "the audit log has every ceremony too (kind passkey)" "$(sqlite3 "$DB" "SELECT count(*) FROM ceremonies")" \
	"$(sqlite3 "$AUDIT" "SELECT count(*) FROM entries WHERE kind = 'passkey'")"
same "... the refused ones with their reason" "$(sqlite3 "$DB" "SELECT reason FROM ceremonies ORDER BY seq DESC LIMIT 1")" \
	"$(sqlite3 "$AUDIT" "SELECT record FROM entries WHERE kind = 'passkey' ORDER BY seq DESC LIMIT 1" | jq -r .reason)"
if command -v isim-memdump >/dev/null; then
	expect 0 "the audit log's hash chain verifies" isim-memdump log verify
fi

# ---- the command line ------------------------------------------------------------------
expect 64 "session-check refuses a token in argv" isim-passkey session-check "$TOKEN"
echo '{"session":"short"}' >"$T/bad"
expect 65 "session-check: a malformed token is bad input" isim-passkey session-check <"$T/bad"
expect 64 "register-options without --user" isim-passkey register-options
expect 64 "register-options --user-verification sometimes" isim-passkey register-options --user x --user-verification sometimes
expect 64 "login-verify without an origin" env -u WEBAUTHN_RP_ORIGIN isim-passkey login-verify </dev/null
expect 64 "session-revoke --all without --user" isim-passkey session-revoke --all
mkdir "$T/empty"
expect 66 "a state folder that does not exist" isim-passkey credentials --state-dir "$T/nonexistent"
same "the state's schema version" 1 "$(sqlite3 "$DB" 'PRAGMA user_version')"
sqlite3 "$DB" 'PRAGMA user_version = 7'
expect 78 "a state from a newer version is refused" isim-passkey credentials
sqlite3 "$DB" 'PRAGMA user_version = 1'

finish
