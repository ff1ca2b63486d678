#!/bin/sh
# isim-passkey check-registration and check-assertion on every recorded
# ceremony of tests/vectors/webauthn (SOURCE.md says what each is): the ok
# ones verify, with the credential the vector records; the refused ones
# give their reason; formats this tool does not check are refused naming
# them (and taken with --accept-unverified-attestation). Then the tampered
# cases of passkey-case.py, each refused with its reason, and a few
# ceremonies verified again by passkey-verify.py (Python's cryptography and
# cbor2), which must agree field by field.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
V=$ISIM_ROOT/tests/vectors/webauthn
CASE=$ISIM_ROOT/tests/integration/passkey-case.py
VERIFY=$ISIM_ROOT/tests/integration/passkey-verify.py
if ! $PY -c 'import cbor2, cryptography' 2>/dev/null; then
	skip "passkey vectors" "needs python3-cbor2 and python3-cryptography (make deps)"
	finish
	exit
fi

# The reason a vector's expected_error_contains names.
reason_of() {
	case $1 in
	"cross origin") echo cross_origin ;;
	"token binding") echo token_binding ;;
	cbor) echo malformed ;;
	"unsupported attestation" | "certificate chain" | km_origin_generated) echo attestation ;;
	"user verification") echo user_verification ;;
	*) echo "$1" ;;
	esac
}

# check KIND FILE [OPTION...]: run it on the vector, output in $T/out.
run() {
	r_kind=$1
	r_file=$2
	shift 2
	$PY "$CASE" "$r_file" >"$T/in" || return 70
	isim-passkey "check-$r_kind" "$@" <"$T/in" >"$T/out" 2>"$T/err"
}

# field NAME: a field of the last output, as jq -r prints it.
field() { jq -r ".$1" "$T/out"; }

for f in "$V"/registration/*.json "$V"/authentication/*.json; do
	n=${f##*/}
	kind=registration
	case $f in */authentication/*) kind=assertion ;; esac
	want=$(jq -r .expect "$f")
	fmt=$(jq -r '.expected_fmt // .fmt_in_data // ""' "$f")
	alg=$(jq -r '.expected_alg // 0' "$f")
	if [ "$want" = error ]; then
		reason=$(reason_of "$(jq -r .expected_error_contains "$f")")
	elif [ "$alg" -le -48 ] && [ "$alg" -ge -50 ]; then
		reason=algorithm # ML-DSA: not in Debian 12's OpenSSL
	else
		case $n in
		# Standard base64 and padding (SOURCE.md, "Base64 quirks"): a
		# strict base64url reader refuses them, as this one does.
		tpm__test_verify_attestation_dell_xps_13.json | tpm__test_verify_attestation_lenovo_carbon_x1.json)
			reason=malformed ;;
		*)
			case $kind:$fmt in
			registration:none | registration:packed | registration:fido-u2f | assertion:*) reason=ok ;;
			*) reason=attestation ;;
			esac
			;;
		esac
	fi
	run "$kind" "$f"
	rc=$?
	got=$(field reason 2>/dev/null)
	[ "$got" = null ] && got=ok
	if [ "$reason" = ok ] && [ "$rc" -eq 0 ] && [ "$got" = ok ]; then
		ok "$n verifies"
	elif [ "$reason" != ok ] && [ "$rc" -eq 1 ] && [ "$got" = "$reason" ]; then
		ok "$n is refused: $reason"
	else
		not_ok "$n: expected $reason, exit $rc" "$(cat "$T/out" "$T/err")"
		continue
	fi
	if [ "$reason" = ok ] && [ "$kind" = registration ]; then
		same "$n: credential id" "$(jq -r .expected_credential_id_b64url "$f")" "$(field credential_id)"
		same "$n: public key" "$(jq -r .expected_credential_public_key_b64url "$f")" "$(field public_key)"
		same "$n: sign count, alg, fmt" "$(jq -r '[.expected_sign_count, .expected_alg, .expected_fmt] | @tsv' "$f")" \
			"$(jq -r '[.sign_count, .alg, .fmt] | @tsv' "$T/out")"
		same "$n: aaguid" "$(jq -r .expected_aaguid "$f")" "$(field aaguid)"
	elif [ "$reason" = ok ]; then
		same "$n: new sign count" "$(jq -r .expected_sign_count "$f")" "$(field sign_count)"
		if [ "$(jq -r '.expected_user_verified // "x"' "$f")" != x ]; then
			same "$n: user verified" "$(jq -r .expected_user_verified "$f")" "$(field user_verified)"
		fi
	fi
	if [ "$reason" = attestation ] && [ "$want" = ok ]; then
		run "$kind" "$f" --accept-unverified-attestation
		same "$n: taken unverified with --accept-unverified-attestation" "0 unverified" \
			"$? $(field attestation_type)"
	fi
done

# ---- Chromium's virtual authenticator --------------------------------------
C=$V/chromium
run registration "$C/registration-none-es256.json"
same "chromium none ES256 registration verifies" "0 true none" "$? $(field ok) $(field fmt)"
key=$(field public_key)
run registration "$C/registration-direct.json"
same "chromium direct registration: packed, basic, untrusted, UV" "0 packed basic false true" \
	"$? $(field fmt) $(field attestation_type) $(field attestation_trusted) $(field user_verified)"
same "chromium direct registration: transports" internal "$(jq -r '.transports | join(",")' "$T/out")"
run assertion "$C/assertion-es256.json"
same "chromium assertion verifies under the registered key, counter 1 -> 2" "0 2 true" \
	"$? $(field sign_count) $(field user_verified)"
# The same key in the form getPublicKey() gives (SPKI), and as an option.
spki=$(jq -r .response.publicKey "$C/registration-none-es256.json")
$PY "$CASE" "$C/assertion-es256.json" | jq 'del(.expect.public_key)' >"$T/in"
expect 0 "check-assertion takes the stored key as SPKI (--public-key)" \
	isim-passkey check-assertion --public-key "$spki" <"$T/in"
expect 0 "... and as COSE" isim-passkey check-assertion --public-key "$key" <"$T/in"

# ---- tampered ceremonies ------------------------------------------------------
n=0
$PY "$CASE" --list >"$T/cases"
while read -r name kind reason; do
	n=$((n + 1))
	$PY "$CASE" --case "$name" >"$T/in"
	isim-passkey "check-$kind" <"$T/in" >"$T/out" 2>"$T/err"
	rc=$?
	got=$(field reason 2>/dev/null)
	if [ "$rc" -eq 1 ] && [ "$got" = "$reason" ]; then
		ok "tampered $name: refused, $reason"
	else
		not_ok "tampered $name: expected $reason, exit 1" "exit $rc" "$(cat "$T/out" "$T/err")"
	fi
done <"$T/cases"
if [ "$n" -ge 40 ]; then ok "$n tampered cases"; else not_ok "only $n tampered cases"; fi

# ---- a second verifier ----------------------------------------------------------
for c in registration:registration/gowebauthn-spec__NoneES256.json \
	registration:registration/gowebauthn-spec__PackedES256WithMDS.json \
	registration:registration/gowebauthn-spec__PackedRS256WithMDS.json \
	registration:registration/packed__test_verify_attestation_with_okp_public_key.json \
	registration:registration/fido-u2f__test_verify_attestation_from_yubikey_firefox.json \
	registration:chromium/registration-direct.json \
	assertion:authentication/gowebauthn-spec__PackedEdDSA.json \
	assertion:authentication/auth__test_verify_authentication_response_with_EC2_public_key.json \
	assertion:authentication/auth__test_supports_already_parsed_credential.json \
	assertion:chromium/assertion-es256.json; do
	kind=${c%%:*}
	f=$V/${c#*:}
	[ -f "$f" ] || continue
	$PY "$CASE" "$f" >"$T/in"
	fields='[.ok, .credential_id, .public_key // "-", .alg // "-", .sign_count] | @tsv'
	py=$($PY "$VERIFY" "$kind" <"$T/in" | jq -r "$fields")
	c_out=$(isim-passkey "check-$kind" <"$T/in" | jq -r "$fields")
	if [ "$kind" = assertion ]; then
		# check-assertion prints no key or alg; compare what it prints.
		py=$(printf '%s\n' "$py" | cut -f1,2,5)
		c_out=$(printf '%s\n' "$c_out" | cut -f1,2,5)
	fi
	same "${c#*:}: the Python verifier agrees" "$py" "$c_out"
	case $py in true*) ;; *) not_ok "${c#*:}: the Python verifier refused it" "$py" ;; esac
done
for name in as-signature-changed packed-signature-changed u2f-signature-changed as-counter-replayed cd-other-origin; do
	$PY "$CASE" --case "$name" >"$T/in"
	kind=assertion
	case $name in packed-* | u2f-* | cd-*) kind=registration ;; esac
	same "tampered $name: the Python verifier refuses it too" false \
		"$($PY "$VERIFY" "$kind" <"$T/in" | jq -r .ok)"
done

# ---- the command line -------------------------------------------------------------
$PY "$CASE" "$V/registration/gowebauthn-spec__NoneES256.json" | jq .credential >"$T/cred"
expect 64 "check-registration without --challenge: usage" isim-passkey check-registration --origin https://example.org --rp-id example.org <"$T/cred"
expect 64 "--challenge twice: usage" isim-passkey check-registration --challenge AAAA --challenge AAAA <"$T/cred"
expect 64 "--challenge not base64url: usage" isim-passkey check-registration --challenge 'a+b=' <"$T/cred"
expect 64 "--alg not supported: usage" isim-passkey check-registration --alg -48 <"$T/cred"
echo '{"x":' >"$T/bad"
expect 65 "stdin not JSON: 65" isim-passkey check-registration --challenge AAAA --origin o --rp-id r <"$T/bad"
ch=$(jq -r .expected_challenge_b64url "$V/registration/gowebauthn-spec__NoneES256.json")
WEBAUTHN_RP_ID=example.org WEBAUTHN_RP_ORIGIN=https://example.org \
	expect 0 "expectations as options and WEBAUTHN_RP_ID/WEBAUTHN_RP_ORIGIN" \
	isim-passkey check-registration --challenge "$ch" <"$T/cred"
$PY "$CASE" "$V/registration/gowebauthn-spec__NoneES256.json" | jq .expect >"$T/expect"
expect 0 "expectations from --expect FILE" isim-passkey check-registration --expect "$T/expect" <"$T/cred"
expect 64 "rp id given as --rp-id and in --expect: usage" \
	isim-passkey check-registration --expect "$T/expect" --rp-id example.org <"$T/cred"
expect 0 "--help" isim-passkey check-registration --help
expect 64 "unknown command" isim-passkey check-everything

finish
