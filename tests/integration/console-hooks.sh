#!/bin/sh
# The console's provisioning hooks (cmd/isim-console/provision.d,
# isim-provision(8)), run as the console runs them: the identity as JSON on
# stdin, the configuration in the environment, and judged by their exit
# status, the last line of stderr and the JSON on stdout. 10-dns against
# Knot DNS with a TSIG key; 20-storage against s3rver (from the npm
# registry) and against a stand-in S3 that checks SigV4 signatures, which
# s3rver does not; 30-matrix against a stand-in of Synapse's shared-secret
# registration that checks the mac (no homeserver runs here). Each hook
# runs with every program it calls wrapped, so that the secrets can be
# looked for on their command lines as well as in what the hooks print.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
HOOKS=$ISIM_ROOT/cmd/isim-console/provision.d
STANDIN=$ISIM_ROOT/tests/integration/console-hooks-server.py

pids=""
cleanup() {
	for p in $pids; do
		kill "$p" 2>/dev/null
	done
	for p in $pids; do
		wait "$p" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT

# started PID: remember a process to stop at exit.
started() { pids="$pids $1"; }


# wait_for DESCRIPTION COMMAND...: until COMMAND succeeds, 10 s at most.
wait_for() {
	w_d=$1
	shift
	w_i=0
	while ! "$@" >/dev/null 2>&1; do
		w_i=$((w_i + 1))
		if [ "$w_i" -gt 100 ]; then
			not_ok "$w_d"
			return 1
		fi
		sleep 0.1
	done
}

# Every program the hooks run is a wrapper that logs its command line to
# $T/argv.log and runs the real one.
W=$T/wrap
mkdir "$W" || exit 73
# shellcheck disable=SC2016 # $0 and $* are the wrapper's
for c in cat jq nsupdate tr sed cut grep tail head od mktemp rm sha256sum curl python3; do
	real=$(command -v "$c") || continue
	printf '#!/bin/sh\nprintf "%%s\\n" "$0 $*" >>"%s"\nexec "%s" "$@"\n' "$T/argv.log" "$real" >"$W/$c"
	chmod +x "$W/$c"
done
: >"$T/argv.log"
: >"$T/said"

# run CODE DESCRIPTION HOOK IDENTITY [VAR=VALUE]...: the hook with the
# identity on stdin and that environment (VAR= for one not set; the hooks
# take an empty variable for a missing one), expected to exit CODE; its
# stdout in $T/out, stderr in $T/err, both kept in $T/said.
run() {
	r_code=$1
	r_d=$2
	r_hook=$3
	printf '%s\n' "$4" >"$T/identity"
	shift 4
	expect "$r_code" "$r_d" env PATH="$W:$PATH" "$@" "$HOOKS/$r_hook" <"$T/identity"
	cat "$T/out" "$T/err" >>"$T/said"
}

# message: the step's message as the console takes it (the last non-empty
# line of stderr).
message() { grep -v '^[[:space:]]*$' "$T/err" | tail -n 1; }

# said DESCRIPTION TEXT...: the message has each TEXT.
said() {
	s_d=$1
	shift
	s_m=$(message)
	for s_t in "$@"; do
		case $s_m in
		*"$s_t"*) ;;
		*)
			not_ok "$s_d" "'$s_t' not in the message:" "$s_m"
			return
			;;
		esac
	done
	ok "$s_d"
}

# kept_secret DESCRIPTION SECRET: not in anything a hook printed, nor on a
# command line a hook ran.
kept_secret() {
	if grep -qF -- "$2" "$T/said" "$T/argv.log"; then
		not_ok "$1" "$(grep -F -- "$2" "$T/said" "$T/argv.log" | head -n 3)"
	else
		ok "$1"
	fi
}

identity() { # USER
	jq -cn --arg u "$1" '{user: $u, handle: $u, subdomain: ($u + ".example.test"),
		matrix_id: ("@" + $u + ":matrix.example.test"), bucket: ("isim-" + $u),
		base_domain: "example.test", matrix_domain: "matrix.example.test"}'
}
ALICE=$(identity alice)
BOB=$(identity bob)

same "the hooks, in the order the console runs them, are executable" "10-dns 20-storage 30-matrix" \
	"$(for h in "$HOOKS"/*; do [ -x "$h" ] && printf '%s ' "${h##*/}"; done | sed 's/ $//')"

# ---- 10-dns against Knot DNS ------------------------------------------------
dns_tests() {
	K=$T/knot
	mkdir -p "$K/db"
	DNS_PORT=$(free_port)
	secret=$(openssl rand -base64 32)
	wrong=$(openssl rand -base64 32)
	cat >"$K/knot.conf" <<EOF
server:
    rundir: "$K"
    listen: 127.0.0.1@$DNS_PORT
database:
    storage: "$K/db"
key:
  - id: provision
    algorithm: hmac-sha256
    secret: $secret
acl:
  - id: update
    key: provision
    action: update
zone:
  - domain: example.test
    storage: "$K"
    file: "example.test.zone"
    acl: update
log:
  - target: stderr
    any: info
EOF
	cat >"$K/example.test.zone" <<'EOF'
$ORIGIN example.test.
$TTL 300
@ SOA ns.example.test. hostmaster.example.test. 1 3600 900 604800 300
@ NS ns
ns A 127.0.0.1
EOF
	# nsupdate -k takes a key statement (what tsig-keygen writes).
	printf 'key "provision" {\n\talgorithm hmac-sha256;\n\tsecret "%s";\n};\n' "$secret" >"$K/secret.key"
	printf 'key "provision" {\n\talgorithm hmac-sha256;\n\tsecret "%s";\n};\n' "$wrong" >"$K/wrong.key"
	sed 's/"provision"/"stranger"/' "$K/secret.key" >"$K/stranger.key"
	knotd -c "$K/knot.conf" >"$K/knotd.log" 2>&1 &
	started $!
	q() { dig +short +time=2 +tries=1 @127.0.0.1 -p "$DNS_PORT" "$1" "$2" | sort | tr '\n' ' ' | sed 's/ $//'; }
	serial() { q example.test SOA | cut -d ' ' -f 3; }
	soa_up() { [ -n "$(serial)" ]; }
	wait_for "knotd answers for example.test" soa_up || return

	set -- ISIM_DNS_SERVER=127.0.0.1 ISIM_DNS_PORT="$DNS_PORT" ISIM_DNS_KEY_FILE="$K/secret.key" \
		ISIM_DNS_TARGET="10.100.0.1 fd00::1" ISIM_DNS_ZONE= ISIM_DNS_TTL=
	run 0 "10-dns adds alice.example.test to the zone example.test" 10-dns "$ALICE" "$@"
	same "its result names the records" \
		'["alice.example.test. 300 IN A 10.100.0.1","alice.example.test. 300 IN AAAA fd00::1"]' \
		"$(jq -c .records "$T/out" 2>&1)"
	same "the server answers alice.example.test A" 10.100.0.1 "$(q alice.example.test A)"
	same "the server answers alice.example.test AAAA" fd00::1 "$(q alice.example.test AAAA)"
	s=$(serial)
	run 0 "run again, 10-dns succeeds (idempotent)" 10-dns "$ALICE" "$@"
	same "the second run changed nothing (SOA serial $s)" "$s 10.100.0.1" "$(serial) $(q alice.example.test A)"
	run 0 "a new target replaces alice's address records" 10-dns "$ALICE" "$@" ISIM_DNS_TARGET=10.100.0.2
	same "alice.example.test has only the new address" "10.100.0.2|" \
		"$(q alice.example.test A)|$(q alice.example.test AAAA)"
	run 0 "a host name as the target makes a CNAME" 10-dns "$BOB" "$@" ISIM_DNS_TARGET=web.example.net ISIM_DNS_TTL=60
	same "bob.example.test is a CNAME of web.example.net" web.example.net. "$(q bob.example.test CNAME)"

	s=$(serial)
	run 77 "a wrong TSIG secret is refused" 10-dns "$ALICE" "$@" ISIM_DNS_KEY_FILE="$K/wrong.key" ISIM_DNS_TARGET=10.9.9.9
	said "its message names the name, the zone, the server and the TSIG error" \
		alice.example.test "zone example.test" "127.0.0.1#$DNS_PORT" BADSIG
	run 77 "a TSIG key the server does not know is refused" 10-dns "$ALICE" "$@" ISIM_DNS_KEY_FILE="$K/stranger.key" ISIM_DNS_TARGET=10.9.9.9
	said "its message says BADKEY" BADKEY
	same "the refused updates changed nothing" "$s 10.100.0.2" "$(serial) $(q alice.example.test A)"

	for v in ISIM_DNS_SERVER ISIM_DNS_KEY_FILE ISIM_DNS_TARGET; do
		run 78 "without $v, 10-dns fails as misconfigured" 10-dns "$ALICE" "$@" "$v="
		said "its message names $v" "$v is not set"
	done
	run 66 "a key file that is not there" 10-dns "$ALICE" "$@" ISIM_DNS_KEY_FILE="$K/none.key"
	said "its message names the file" "$K/none.key"
	run 78 "a target that is no address (1.2.3.400) is refused before anything is sent" 10-dns "$ALICE" "$@" ISIM_DNS_TARGET=1.2.3.400
	said "its message quotes the target" "'1.2.3.400'"
	run 65 "a subdomain outside the zone is refused" 10-dns "$ALICE" "$@" ISIM_DNS_ZONE=other.test
	said "its message names the subdomain and the zone" "alice.example.test is not in the zone other.test"
	run 65 "a subdomain with a newline (nsupdate commands) is refused" 10-dns \
		"$(jq -cn '{subdomain: "evil.example.test\nupdate delete example.test. NS", base_domain: "example.test"}')" "$@"
	same "the zone still has its NS record and serial" "$s ns.example.test." "$(serial) $(q example.test NS)"
	closed=$(free_port)
	run 69 "a server that does not answer" 10-dns "$ALICE" "$@" ISIM_DNS_PORT="$closed"
	said "its message names the server" "127.0.0.1#$closed"

	contains "10-dns's command lines were recorded" "$T/argv.log" "nsupdate -k $K/secret.key"
	kept_secret "the TSIG secret is on no command line and in no output" "$secret"
	kept_secret "the wrong TSIG secret neither" "$wrong"
}

if command -v knotd >/dev/null && command -v nsupdate >/dev/null && command -v dig >/dev/null; then
	dns_tests
else
	skip "10-dns against Knot DNS" "needs knot and bind9-dnsutils (make deps)"
fi

# ---- 20-storage against s3rver ------------------------------------------------
# s3rver: its program, installed once from the npm registry into the cache
# that CI keeps (npm and node from scripts/install-deps.sh if missing).
s3rver() {
	cache=${ISIM_CACHE:-/var/cache/infrasim}/npm
	js=$cache/node_modules/s3rver/bin/s3rver.js
	if [ ! -f "$js" ]; then
		if ! command -v npm >/dev/null; then
			need_root || return 1
			"$ISIM_ROOT/scripts/install-deps.sh" >>"$T/npm.log" 2>&1 || return 1
		fi
		mkdir -p "$cache" || return 1
		npm install --no-audit --no-fund --prefix "$cache" s3rver@3.7.1 >>"$T/npm.log" 2>&1 || return 1
	fi
	[ -f "$js" ] && echo "$js"
}

# ls_buckets PORT ACCESS SECRET REGION: a signed ListBuckets.
ls_buckets() {
	printf 'user = "%s:%s"\n' "$2" "$3" | curl -sS -K - --aws-sigv4 "aws:amz:$4:s3" \
		-H "x-amz-content-sha256: $(printf '' | sha256sum | cut -d ' ' -f 1)" "http://127.0.0.1:$1/"
}

s3rver_tests() {
	S3_PORT=$(free_port)
	mkdir "$T/s3rver"
	node "$js" -d "$T/s3rver" -a 127.0.0.1 -p "$S3_PORT" -s >"$T/s3rver.log" 2>&1 &
	started $!
	s3_up() { [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$S3_PORT/")" != 000 ]; }
	wait_for "s3rver answers" s3_up || return
	# s3rver's one account.
	printf 'S3RVER\n' >"$T/s3rver.secret"
	set -- ISIM_S3_ENDPOINT="http://127.0.0.1:$S3_PORT" ISIM_S3_REGION=us-east-1 \
		ISIM_S3_ACCESS_KEY_ID=S3RVER ISIM_S3_SECRET_KEY_FILE="$T/s3rver.secret"
	run 0 "20-storage creates alice's bucket at s3rver" 20-storage "$ALICE" "$@"
	same "its result names the bucket, created" "isim-alice true" "$(jq -r '"\(.bucket) \(.created)"' "$T/out" 2>&1)"
	ls_buckets "$S3_PORT" S3RVER S3RVER us-east-1 >"$T/list" 2>&1
	contains "s3rver lists the bucket isim-alice" "$T/list" "<Name>isim-alice</Name>"
	run 0 "run again, 20-storage succeeds (s3rver's BucketAlreadyExists, and the bucket is ours)" 20-storage "$ALICE" "$@"
	same "its result says the bucket was there" "isim-alice false" "$(jq -r '"\(.bucket) \(.created)"' "$T/out" 2>&1)"
	# s3rver 3.7.1 checks the access key id but not SigV4 signatures (its
	# lib/middleware/authentication.js: "Signature version 4 calculation is
	# unimplemented"); a wrong secret is tried against the stand-in below.
	run 77 "an access key id s3rver does not know is refused" 20-storage "$BOB" "$@" ISIM_S3_ACCESS_KEY_ID=NOBODY
	said "its message names the server, the bucket and the HTTP status" "127.0.0.1:$S3_PORT" isim-bob "HTTP 403 InvalidAccessKeyId"
	ls_buckets "$S3_PORT" S3RVER S3RVER us-east-1 >"$T/list" 2>&1
	if grep -q isim-bob "$T/list"; then not_ok "no bucket isim-bob was made" "$(cat "$T/list")"; else ok "no bucket isim-bob was made"; fi
}

if js=$(s3rver) && command -v node >/dev/null; then
	s3rver_tests
else
	skip "20-storage against s3rver" "s3rver could not be installed from the npm registry: $(tail -n 1 "$T/npm.log" 2>/dev/null)"
fi

# ---- 20-storage against a stand-in that checks SigV4 ---------------------------
S3_SECRET='wJalr"XUtn\FEMI/K7MDENG+bPxRfiCYEXAMPLEKEY'
printf '%s\n' "$S3_SECRET" >"$T/s3.secret"
printf 'not-the-secret\n' >"$T/s3.wrong"
$PY "$STANDIN" s3 AKIDTEST "$T/s3.secret" eu-test-1 "$T/s3.port" "$T/s3.log" 2>"$T/s3.err" &
started $!
if wait_for "the S3 stand-in listens" test -s "$T/s3.port"; then
	S3_PORT=$(cat "$T/s3.port")
	set -- ISIM_S3_ENDPOINT="http://127.0.0.1:$S3_PORT/" ISIM_S3_REGION=eu-test-1 \
		ISIM_S3_ACCESS_KEY_ID=AKIDTEST ISIM_S3_SECRET_KEY_FILE="$T/s3.secret"
	run 0 "20-storage creates alice's bucket, its SigV4 signature checked" 20-storage "$ALICE" "$@"
	same "its result names the bucket, created" "isim-alice true" "$(jq -r '"\(.bucket) \(.created)"' "$T/out" 2>&1)"
	tail -n 1 "$T/s3.log" >"$T/req"
	same "the request was PUT /isim-alice, answered 200" "PUT /isim-alice 200" "$(jq -r '"\(.method) \(.path) \(.status)"' "$T/req")"
	same "it was signed AWS4-HMAC-SHA256 for eu-test-1/s3, over the payload's SHA-256" \
		"AWS4-HMAC-SHA256 Credential=AKIDTEST/eu-test-1/s3/aws4_request content-type;host;x-amz-content-sha256;x-amz-date" \
		"$(jq -r '.headers.authorization | capture("^(?<a>\\S+) Credential=(?<k>[^/]+)/[0-9]{8}/(?<s>[^,]+), ?SignedHeaders=(?<h>[^,]+),")
			| "\(.a) Credential=\(.k)/\(.s) \(.h)"' "$T/req" 2>&1)"
	contains "outside us-east-1 the body names the region" "$T/req" '<LocationConstraint>eu-test-1</LocationConstraint>'
	run 0 "run again, 20-storage succeeds (BucketAlreadyOwnedByYou)" 20-storage "$ALICE" "$@"
	same "its result says the bucket was there" "isim-alice false" "$(jq -r '"\(.bucket) \(.created)"' "$T/out" 2>&1)"
	run 77 "a wrong secret key is refused" 20-storage "$BOB" "$@" ISIM_S3_SECRET_KEY_FILE="$T/s3.wrong"
	said "its message names the server, the bucket and the HTTP status" "127.0.0.1:$S3_PORT" isim-bob "HTTP 403 SignatureDoesNotMatch"
	ls_buckets "$S3_PORT" AKIDTEST "$(printf '%s' "$S3_SECRET" | sed 's/[\\"]/\\&/g')" eu-test-1 >"$T/list" 2>&1
	same "the stand-in has alice's bucket and not bob's" "isim-alice" "$(grep -o '<Name>[^<]*</Name>' "$T/list" | sed 's/<[^>]*>//g' | tr '\n' ' ' | sed 's/ $//')"
	run 73 "another account's bucket is not taken for ours" 20-storage '{"bucket":"taken-carol"}' "$@"
	said "its message names the bucket and both statuses" taken-carol "HTTP 409 BucketAlreadyExists" "HeadBucket HTTP 403"
	run 69 "a region the server is not in" 20-storage "$BOB" "$@" ISIM_S3_REGION=us-west-9
	said "its message points at ISIM_S3_REGION" "HTTP 400 AuthorizationHeaderMalformed (check ISIM_S3_REGION)"
	for v in ISIM_S3_ENDPOINT ISIM_S3_ACCESS_KEY_ID ISIM_S3_SECRET_KEY_FILE; do
		run 78 "without $v, 20-storage fails as misconfigured" 20-storage "$ALICE" "$@" "$v="
		said "its message names $v" "$v is not set"
	done
	run 65 "a bucket name S3 does not allow" 20-storage '{"bucket":"Isim_Bob"}' "$@"
	said "its message quotes it" "'Isim_Bob' is not a valid S3 bucket name"
	closed=$(free_port)
	run 69 "an endpoint nobody listens on" 20-storage "$ALICE" "$@" ISIM_S3_ENDPOINT="http://127.0.0.1:$closed"
	said "its message names it" "cannot reach S3 at 127.0.0.1:$closed"
	contains "20-storage's command lines were recorded" "$T/argv.log" "curl -sS -K - --proto =http,https --max-time 30 --aws-sigv4 aws:amz:eu-test-1:s3"
	# (the part of the secret that curl's config does not escape)
	kept_secret "the S3 secret key is on no command line and in no output" "FEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
fi

# ---- 30-matrix against a stand-in of Synapse's registration ------------------
openssl rand -hex 32 >"$T/matrix.secret"
MX_SECRET=$(cat "$T/matrix.secret")
printf 'wrong\n' >"$T/matrix.wrong"
$PY "$STANDIN" matrix "$T/matrix.secret" matrix.example.test "$T/mx.port" "$T/mx.log" 2>"$T/mx.err" &
started $!
if wait_for "the Matrix stand-in listens" test -s "$T/mx.port"; then
	MX_PORT=$(cat "$T/mx.port")
	set -- ISIM_MATRIX_HOMESERVER="http://127.0.0.1:$MX_PORT" ISIM_MATRIX_SHARED_SECRET_FILE="$T/matrix.secret"
	run 0 "30-matrix registers @alice:matrix.example.test" 30-matrix "$ALICE" "$@"
	same "its result names the user, new" "@alice:matrix.example.test false" "$(jq -r '"\(.user_id) \(.existing)"' "$T/out" 2>&1)"
	grep '"POST"' "$T/mx.log" | tail -n 1 >"$T/req"
	same "the stand-in registered alice, not as an admin, and checked the mac" "alice false 200" \
		"$(jq -r '.body | fromjson | "\(.username) \(.admin)"' "$T/req") $(jq -r .status "$T/req")"
	# The mac again with openssl rather than Python's hmac.
	n=$(jq -r '.body | fromjson | .nonce' "$T/req")
	pw=$(jq -r '.body | fromjson | .password' "$T/req")
	mac=$(printf '%s\0%s\0%s\0notadmin' "$n" alice "$pw" | openssl dgst -sha1 -hmac "$MX_SECRET" -r | cut -d ' ' -f 1)
	same "the mac is HMAC-SHA1 over nonce, user, password and notadmin (openssl)" "$mac" \
		"$(jq -r '.body | fromjson | .mac' "$T/req")"
	same "the password is 32 random bytes in hex" 64 "$(printf '%s' "$pw" | tr -cd '0-9a-f' | wc -c)"
	token=$(jq -r '.answer | fromjson | .access_token' "$T/req")
	run 0 "run again, 30-matrix succeeds (M_USER_IN_USE)" 30-matrix "$ALICE" "$@"
	same "its result says the user was there" "@alice:matrix.example.test true" "$(jq -r '"\(.user_id) \(.existing)"' "$T/out" 2>&1)"
	same "the stand-in answered the second registration M_USER_IN_USE" "400 M_USER_IN_USE" \
		"$(grep '"POST"' "$T/mx.log" | tail -n 1 | jq -r '"\(.status) \(.answer | fromjson | .errcode)"')"
	pw2=$(grep '"POST"' "$T/mx.log" | tail -n 1 | jq -r '.body | fromjson | .password')
	run 77 "a wrong shared secret is refused" 30-matrix "$BOB" "$@" ISIM_MATRIX_SHARED_SECRET_FILE="$T/matrix.wrong"
	said "its message names the homeserver, the user and the HTTP status" "127.0.0.1:$MX_PORT" \
		"@bob:matrix.example.test" "HTTP 403 M_FORBIDDEN"
	same "bob was not registered" "" "$(jq -r 'select(.method == "POST" and .status == 200) | .body | fromjson | .username | select(. == "bob")' "$T/mx.log")"
	for v in ISIM_MATRIX_HOMESERVER ISIM_MATRIX_SHARED_SECRET_FILE; do
		run 78 "without $v, 30-matrix fails as misconfigured" 30-matrix "$ALICE" "$@" "$v="
		said "its message names $v" "$v is not set"
	done
	run 65 "a matrix_id not on the identity's matrix_domain" 30-matrix \
		"$(printf '%s' "$ALICE" | jq -c '.matrix_id = "@alice:elsewhere.test"')" "$@"
	said "its message names both" "@alice:elsewhere.test is not on its matrix_domain matrix.example.test"
	run 69 "a homeserver without the admin API" 30-matrix "$ALICE" "$@" ISIM_MATRIX_HOMESERVER="http://127.0.0.1:$MX_PORT/elsewhere"
	said "its message says so" "does not serve shared-secret registration (HTTP 404"
	closed=$(free_port)
	run 69 "a homeserver nobody listens on" 30-matrix "$ALICE" "$@" ISIM_MATRIX_HOMESERVER="http://127.0.0.1:$closed"
	said "its message names it" "cannot reach the homeserver 127.0.0.1:$closed"
	contains "30-matrix's command lines were recorded" "$T/argv.log" "python3 -c"
	kept_secret "the shared secret is on no command line and in no output" "$MX_SECRET"
	kept_secret "alice's password neither" "$pw"
	kept_secret "the second run's password neither" "$pw2"
	kept_secret "the access token the homeserver answered neither" "$token"
fi

finish
