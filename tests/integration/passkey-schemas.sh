#!/bin/sh
# The passkey documents of schemas/ against what isim-passkey really writes
# and reads, checked by python3-jsonschema (a validator the tools do not
# share): every document of a run through both ceremonies and the session
# commands (passkey-authenticator.py answering), every recorded ceremony of
# tests/vectors/webauthn with its expectations and the verdict on it, and
# every tampered case's refusal. Then documents broken by hand, one thing
# each, are refused; and where a schema and the program both read a
# document (responses, expectations), they agree.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
AUTH=$ISIM_ROOT/tests/integration/passkey-authenticator.py
CASE=$ISIM_ROOT/tests/integration/passkey-case.py
VALIDATE=$ISIM_ROOT/tests/integration/validate.py
S=$ISIM_ROOT/schemas
V=$ISIM_ROOT/tests/vectors/webauthn
if ! $PY -c 'import cbor2, cryptography, jsonschema' 2>/dev/null; then
	skip "passkey schemas" "needs python3-cbor2, python3-cryptography and python3-jsonschema (make deps)"
	finish
	exit
fi
ORIGIN=http://localhost:8080
ISIM_STATE_DIR=$T/state
WEBAUTHN_RP_ID=localhost
WEBAUTHN_RP_ORIGIN=$ORIGIN
export ISIM_STATE_DIR WEBAUTHN_RP_ID WEBAUTHN_RP_ORIGIN
mkdir "$ISIM_STATE_DIR" "$T/doc" || exit 73
KEYS=$T/authenticator.json

# valid NAME DESCRIPTION FILE...: every FILE matches schemas/passkey-NAME.schema.json.
valid() {
	v_schema=$S/passkey-$1.schema.json
	v_d=$2
	shift 2
	check "$v_d" $PY "$VALIDATE" "$v_schema" "$@"
}

# refused NAME POINTER DESCRIPTION FILE: the schema refuses FILE, and says so
# at POINTER (the JSON pointer of the value that is wrong).
refused() {
	r_schema=$S/passkey-$1.schema.json
	r_ptr=$2
	r_d=$3
	$PY "$VALIDATE" "$r_schema" "$4" >"$T/vout" 2>&1
	r_rc=$?
	if [ "$r_rc" -eq 1 ] && grep -qF -- "$4: $r_ptr: " "$T/vout"; then
		ok "$r_d"
	else
		not_ok "$r_d" "exit $r_rc, expected 1 and a message at $r_ptr" "$(head -c 2000 "$T/vout")"
	fi
}

# keep NAME: the last output ($T/out) kept as $T/doc/NAME.json.
keep() { cp "$T/out" "$T/doc/$1.json"; }

# broken NAME JQ: $T/doc/NAME.json changed by JQ, in $T/broken.json.
broken() { jq "$2" "$T/doc/$1.json" >"$T/broken.json"; }

auth() {
	a_op=$1
	shift
	$PY "$AUTH" "$a_op" "$KEYS" "$ORIGIN" "$@"
}

# ---- a run: every document the commands write -----------------------------
isim-passkey register-options --user alice >"$T/out"
keep reg-options
auth create <"$T/out" >"$T/doc/reg-response.json"
isim-passkey register-verify --session <"$T/doc/reg-response.json" >"$T/out"
same "register-verify --session stores the credential and opens a session" "0 true true" \
	"$? $(jq -r '.ok, (.session | length == 43)' "$T/out" | paste -sd' ')"
keep reg-verify
ES=$(jq -r .credential_id "$T/out")
isim-passkey register-options --user alice --display-name "Alice Liddell" --resident-key required \
	--user-verification required --attestation direct >"$T/out"
keep reg-options-2
auth create --alg -8 --att packed <"$T/out" >"$T/doc/reg-response-2.json"
isim-passkey register-verify <"$T/doc/reg-response-2.json" >"$T/out"
same "register-verify without --session: EdDSA, packed self attestation" "0 EdDSA self null" \
	"$? $(jq -r '.alg_name, .attestation_type, .session' "$T/out" | paste -sd' ')"
keep reg-verify-2
isim-passkey register-options --user alice >"$T/out"
keep reg-options-3
same "... and register-options excludes both credentials" 2 "$(jq '.excludeCredentials | length' "$T/out")"
valid creation-options "register-options' output (3 runs, options varied) matches passkey-creation-options" \
	"$T"/doc/reg-options*.json
valid registration-response "the authenticator's registration responses match passkey-registration-response" \
	"$T"/doc/reg-response*.json
valid verdict "register-verify's output, with and without --session, matches passkey-verdict" \
	"$T"/doc/reg-verify*.json

isim-passkey login-options --user alice >"$T/out"
keep login-options
auth get --cred "$ES" <"$T/out" >"$T/doc/login-response.json"
isim-passkey login-verify <"$T/doc/login-response.json" >"$T/out"
same "login-verify signs alice in" "0 true" "$? $(jq -r .ok "$T/out")"
keep login-verify
TOKEN=$(jq -r .session "$T/out")
isim-passkey login-options >"$T/out"
keep login-options-any
same "... and login-options without --user allows any credential" 0 "$(jq '.allowCredentials | length' "$T/out")"
auth get --cred "$ES" <"$T/out" >"$T/doc/login-response-any.json"
isim-passkey login-verify <"$T/doc/login-response-any.json" >"$T/out"
keep login-verify-any
valid request-options "login-options' output, with and without --user, matches passkey-request-options" \
	"$T"/doc/login-options*.json
valid authentication-response "the authenticator's assertions match passkey-authentication-response" \
	"$T"/doc/login-response*.json
valid verdict "login-verify's output matches passkey-verdict" "$T"/doc/login-verify*.json

printf '{"session":"%s"}' "$TOKEN" >"$T/tok"
isim-passkey session-check <"$T/tok" >"$T/out"
keep session-check
isim-passkey session-revoke <"$T/tok" >"$T/out"
keep session-revoke
isim-passkey session-revoke --all --user alice >"$T/out"
keep session-revoke-all
same "session-revoke --all ended the other two (register-verify's and the second login's)" 2 \
	"$(jq .revoked "$T/out")"
valid verdict "session-check's and session-revoke's output (a token, --all) match passkey-verdict" \
	"$T"/doc/session-*.json

isim-passkey credentials >"$T/out"
keep credentials
isim-passkey credentials --user alice >"$T/out"
keep credentials-alice
same "credentials lists one used credential and one never used" "null string" \
	"$(jq -r '[.credentials[].last_used_at | type] | sort | join(" ")' "$T/out")"
valid credentials "credentials' output, of everyone and of --user, matches passkey-credentials" \
	"$T"/doc/credentials*.json

# Refusals, from every command that gives one.
isim-passkey session-check <"$T/tok" >"$T/doc/refused-session.json"
isim-passkey session-revoke <"$T/tok" >"$T/doc/refused-revoke.json"
isim-passkey login-verify <"$T/doc/login-response.json" >"$T/doc/refused-replay.json"
isim-passkey register-verify <"$T/doc/reg-response.json" >"$T/doc/refused-reg-replay.json"
isim-passkey register-options --user alice --new-user >"$T/doc/refused-new-user.json"
isim-passkey login-options --user nobody >"$T/doc/refused-login-options.json"
isim-passkey credentials --user nobody >"$T/doc/refused-credentials.json"
same "the refusals' reasons" "session session challenge challenge user_exists unknown_user unknown_user" \
	"$(for f in session revoke replay reg-replay new-user login-options credentials; do
		jq -r .reason "$T/doc/refused-$f.json"
	done | paste -sd' ')"
valid verdict "each command's refusal matches passkey-verdict" "$T"/doc/refused-*.json

# ---- the recorded ceremonies: what check-* reads and writes ---------------------
# Each credential, with the expectations passkey-case.py gives it, and
# check-*'s verdict on it. A credential the schema refuses is one whose
# base64url check-* refuses too (malformed), and none other.
mkdir "$T/vec" || exit 73
for f in "$V"/registration/*.json "$V"/authentication/*.json "$V"/chromium/*.json; do
	n=${f##*/}
	n=${n%.json}
	kind=registration
	case $f in */authentication/* | */chromium/assertion*) kind=assertion ;; esac
	$PY "$CASE" "$f" >"$T/in" || {
		not_ok "$n: passkey-case.py"
		continue
	}
	jq .credential "$T/in" >"$T/vec/$n.cred.json"
	jq .expect "$T/in" >"$T/vec/$n.expect.json"
	isim-passkey "check-$kind" <"$T/in" >"$T/vec/$n.verdict.json" 2>/dev/null
	reason=$(jq -r '.reason // "ok"' "$T/vec/$n.verdict.json")
	schema=$S/passkey-registration-response.schema.json
	[ $kind = assertion ] && schema=$S/passkey-authentication-response.schema.json
	if $PY "$VALIDATE" "$schema" "$T/vec/$n.cred.json" 2>"$T/vout"; then
		if [ "$reason" = malformed ]; then
			not_ok "$n: the schema takes a credential check-$kind refuses as malformed" "$(cat "$T/vec/$n.verdict.json")"
		else
			ok "$n: the credential matches passkey-$([ $kind = assertion ] && echo authentication || echo registration)-response ($reason)"
		fi
	elif [ "$reason" = malformed ]; then
		ok "$n: the schema refuses it, as check-$kind does (malformed): $(sed -n '1s|^[^:]*: ||p' "$T/vout" | cut -c1-60)"
	else
		not_ok "$n: the schema refuses what check-$kind takes ($reason)" "$(head -c 2000 "$T/vout")"
	fi
	if [ "$kind:$reason" = registration:attestation ]; then
		isim-passkey check-registration --accept-unverified-attestation <"$T/in" \
			>"$T/vec/$n.unverified.verdict.json" 2>/dev/null
	fi
done
same "... those are the two TPM vectors in standard base64 and the empty attestation object" \
	"core__test_raises_useful_error_on_bad_attestation_object tpm__test_verify_attestation_dell_xps_13 tpm__test_verify_attestation_lenovo_carbon_x1" \
	"$(grep -l '"malformed"' "$T"/vec/*.verdict.json | sed 's|.*/||; s|\.verdict\.json$||' | sort | paste -sd' ')"
valid expect "every vector's expectations match passkey-expect" "$T"/vec/*.expect.json
valid verdict "check-registration's and check-assertion's verdicts on every vector match passkey-verdict" \
	"$T"/vec/*.verdict.json
same "... among them registrations taken unverified, and assertions without a user handle" "true true" \
	"$(cat "$T"/vec/*.verdict.json | jq -rs '[any(.[]; .attestation_type == "unverified"),
		any(.[]; .ok and has("user_handle") and .user_handle == null)] | join(" ")')"

n=0
$PY "$CASE" --list >"$T/cases"
mkdir "$T/case" || exit 73
while read -r name kind reason; do
	n=$((n + 1))
	$PY "$CASE" --case "$name" >"$T/in"
	jq .expect "$T/in" >"$T/case/$name.expect.json"
	isim-passkey "check-$kind" <"$T/in" >"$T/case/$name.verdict.json" 2>/dev/null
done <"$T/cases"
valid verdict "the refusals of the $n tampered cases match passkey-verdict" "$T"/case/*.verdict.json
valid expect "... and their expectations match passkey-expect" "$T"/case/*.expect.json

# ---- reason words -----------------------------------------------------------------
same "the verdict's reasons are lib/webauthn.c's table, less ok and internal (never printed)" \
	"$(sed -n '/reason_names\[\] = {/,/^};/p' "$ISIM_ROOT/lib/webauthn.c" | sed -n 's/.*= "\([a-z_]*\)",/\1/p' |
		grep -vx 'ok\|internal' | sort | paste -sd' ')" \
	"$(jq -r '."$defs".reason.enum[]' "$S/passkey-verdict.schema.json" | sort | paste -sd' ')"
printf '{"ok":false,"reason":"bad_signature","message":"The signature does not verify."}' >"$T/broken.json"
refused verdict "/" "a refusal with a reason word isim-passkey does not have" "$T/broken.json"
printf '{"ok":false,"reason":"internal","message":"out of memory"}' >"$T/broken.json"
refused verdict "/" "a refusal with reason internal (that is exit 70, on stderr)" "$T/broken.json"
broken refused-new-user 'del(.message)'
refused verdict "/" "a refusal without its message" "$T/broken.json"
broken login-verify '.reason = "challenge"'
refused verdict "/" "an ok verdict with a reason" "$T/broken.json"
broken session-revoke '.revoked = -1'
refused verdict "/" "session-revoke's count below zero" "$T/broken.json"
broken reg-verify 'del(.expires_at)'
refused verdict "/" "register-verify's session without its expires_at" "$T/broken.json"

# ---- the options, broken by hand -------------------------------------------------------
broken reg-options 'del(.challenge)'
refused creation-options "/" "registration options without a challenge" "$T/broken.json"
broken reg-options '.challenge += "="'
refused creation-options "/challenge" "... with padding in the challenge" "$T/broken.json"
broken reg-options '.challenge |= (.[0:42] | gsub("[-_]"; "A")) + "+"'
refused creation-options "/challenge" "... with the standard alphabet in the challenge" "$T/broken.json"
broken reg-options '.challenge |= .[0:42] + "B"'
refused creation-options "/challenge" "... with a challenge that is not 32 bytes in its one spelling" "$T/broken.json"
broken reg-options '.user.id = "AAAA"'
refused creation-options "/user/id" "... with a user handle that is not 16 bytes" "$T/broken.json"
broken reg-options '.hints = ["security-key"]'
refused creation-options "/" "... with a member isim-passkey does not write (hints)" "$T/broken.json"
broken reg-options '.pubKeyCredParams += [{type: "public-key", alg: -999}]'
refused creation-options "/pubKeyCredParams/3/alg" "... offering an algorithm it cannot verify" "$T/broken.json"
broken reg-options-2 '.authenticatorSelection.requireResidentKey = false'
refused creation-options "/authenticatorSelection/requireResidentKey" \
	"... residentKey required but requireResidentKey false" "$T/broken.json"
broken login-options 'del(.challenge)'
refused request-options "/" "login options without a challenge" "$T/broken.json"
broken login-options '.mediation = "conditional"'
refused request-options "/" "... with a member of CredentialRequestOptions, not of its publicKey (mediation)" "$T/broken.json"
broken login-options '.allowCredentials[0].id += "=="'
refused request-options "/allowCredentials/0/id" "... with padding in a credential id" "$T/broken.json"
broken credentials '.credentials[0].extra = 1'
refused credentials "/credentials/0" "a credential listed with a member isim-passkey does not write" "$T/broken.json"
broken credentials '.credentials[0].last_used_at = "yesterday"'
refused credentials "/credentials/0/last_used_at" "... with a time that is not RFC 3339" "$T/broken.json"

# ---- what both the schema and check-* read: they agree -------------------------------------
R=$V/registration/gowebauthn-spec__NoneES256.json
A=$V/chromium/assertion-es256.json
$PY "$CASE" "$R" >"$T/reg-in.json"
$PY "$CASE" "$A" >"$T/as-in.json"
# agree KIND NAME POINTER CODE DESCRIPTION JQ: the vector's credential changed
# by JQ; POINTER "-" when the schema takes it, and check-KIND's exit CODE.
agree() {
	g_kind=$1
	g_name=$2
	g_ptr=$3
	g_code=$4
	g_d=$5
	g_in=$T/reg-in.json
	[ "$g_kind" = assertion ] && g_in=$T/as-in.json
	jq ".credential | $6" "$g_in" >"$T/broken.json"
	if [ "$g_ptr" = - ]; then
		valid "$g_name" "$g_d: the schema takes it" "$T/broken.json"
	else
		refused "$g_name" "$g_ptr" "$g_d: the schema refuses it" "$T/broken.json"
	fi
	jq --slurpfile c "$T/broken.json" '.credential = $c[0]' "$g_in" >"$T/in"
	expect "$g_code" "... and check-$g_kind exits $g_code" isim-passkey "check-$g_kind" <"$T/in"
}
agree registration registration-response /rawId 1 "a registration whose id and rawId have padding" \
	'.rawId += "=" | .id = .rawId'
agree registration registration-response /response 1 "a registration without an attestation object" \
	'del(.response.attestationObject)'
agree registration registration-response /type 1 "a registration of type password" '.type = "password"'
agree registration registration-response - 0 "a registration with members WebAuthn does not list" \
	'.extra = {a: 1} | .response.extra = true'
agree registration registration-response - 0 "a registration with every member section 5.1 lists" \
	'.authenticatorAttachment = "cross-platform" | .clientExtensionResults = {credProps: {rk: true}} |
	.response.transports = ["usb", "hybrid"] | .response.publicKeyAlgorithm = -7'
agree registration registration-response /response/transports 1 "a registration with 17 transports" \
	'.response.transports = [range(17) | "usb"]'
agree assertion authentication-response - 0 "an assertion whose userHandle is null" '.response.userHandle = null'
agree assertion authentication-response /response/signature 1 "an assertion whose signature has padding" \
	'.response.signature += "=="'
agree assertion authentication-response /response/userHandle 1 "an assertion whose userHandle is a number" \
	'.response.userHandle = 7'

jq .expect "$T/reg-in.json" >"$T/exp-reg.json"
jq .expect "$T/as-in.json" >"$T/exp-as.json"
jq .credential "$T/reg-in.json" >"$T/cred-reg.json"
jq .credential "$T/as-in.json" >"$T/cred-as.json"
# expectation NAME POINTER CODE DESCRIPTION JQ: --expect FILE, FILE the
# vector's expectations changed by JQ.
expectation() {
	x_in=$T/exp-reg.json
	x_cred=$T/cred-reg.json
	x_kind=registration
	if [ "$1" = assertion ]; then
		x_in=$T/exp-as.json
		x_cred=$T/cred-as.json
		x_kind=assertion
	fi
	jq "$5" "$x_in" >"$T/broken.json"
	if [ "$2" = - ]; then
		valid expect "$4: the schema takes it" "$T/broken.json"
	else
		refused expect "$2" "$4: the schema refuses it" "$T/broken.json"
	fi
	expect "$3" "... and check-$x_kind --expect exits $3" isim-passkey "check-$x_kind" --expect "$T/broken.json" <"$x_cred"
}
expectation registration - 0 "registration expectations with origins as one string" '.origins |= (if type == "array" then .[0] else . end)'
expectation registration / 65 "registration expectations with a member misspelt (challange)" '.challange = .challenge | del(.challenge)'
expectation assertion / 65 "assertion expectations with require_user_presence (a registration's)" '.require_user_presence = true'
expectation assertion / 65 "assertion expectations with the challenge padded" '.challenge += "="'
expectation registration / 64 "registration expectations both requiring attestation and taking it unverified" \
	'.require_attestation = true | .accept_unverified_attestation = true'

finish
