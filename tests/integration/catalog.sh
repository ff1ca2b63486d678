#!/bin/sh
# The catalog itself: every feature and profile validates against its schema
# (checked by an independent validator), every file a feature installs
# exists, every guest script is POSIX sh that parses and is shellcheck-clean,
# no secret is in the catalog, every selftest prints well-formed TAP, and
# the guest tools that can run on this machine do what they say: the
# rendezvous HMAC against openssl's, signature checks against isim-sign's
# signatures and forgeries, narrow admission against a recording wg, the
# mTLS check against certificates made here, and NAT detection against STUN
# responders on the loopback interface.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

V="/usr/bin/python3 $ISIM_ROOT/tests/integration/validate.py"
cd "$ISIM_ROOT" || exit 70

FEATURES=$(cd features && for d in */; do [ -f "$d/feature.yaml" ] && echo "${d%/}"; done)
same "seven features" "base-minimal control-mtls discovery-bonjour rendezvous-ipv6 vpn-tailscale vpn-wireguard wan-nat" \
	"$(echo "$FEATURES" | tr '\n' ' ' | sed 's/ $//')"

# One feature's list (files, selftest, ...) as JSON Lines or text, by jq.
fq() { # feature jq-filter
	/usr/bin/python3 -c 'import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))' \
		"features/$1/feature.yaml" | jq -r "$2"
}

# ---- schemas ---------------------------------------------------------------
for f in $FEATURES; do
	# shellcheck disable=SC2086
	check "$f: feature.yaml matches feature.schema.json (python3-jsonschema)" \
		$V schemas/feature.schema.json "features/$f/feature.yaml"
	same "$f: its name is its folder's" "$f" "$(fq "$f" .name)"
done
for p in profiles/*.yaml; do
	# shellcheck disable=SC2086
	check "$(basename "$p" .yaml): matches profile.schema.json (python3-jsonschema)" \
		$V schemas/profile.schema.json "$p"
done

# ---- files and scripts -----------------------------------------------------
for f in $FEATURES; do
	missing=$(fq "$f" '.files[]?.source' | while read -r src; do
		[ -f "features/$f/$src" ] || echo "$src"
	done)
	same "$f: every files source exists" "" "$missing"
	bad=$(fq "$f" '.files[]? | select(.destination | startswith("/etc/init.d/")) | "\(.source) \(.mode)"' |
		while read -r src mode; do
			[ "$(head -n 1 "features/$f/$src")" = "#!/sbin/openrc-run" ] || echo "$src: not an openrc-run script"
			[ "$mode" = 0755 ] || echo "$src: mode $mode"
		done)
	same "$f: its OpenRC services are openrc-run scripts of mode 0755" "" "$bad"
	bad=$(fq "$f" '.files[]? | select(.mode == "0755") | .source' | while read -r src; do
		head -n 1 "features/$f/$src" | grep -q '^#!' || echo "$src"
	done)
	same "$f: every executable it installs starts with #!" "" "$bad"
	for t in $(fq "$f" '.selftest[]?'); do
		s=features/$f/selftest/$t.sh
		check "$f/$t: exists and is executable" test -x "$s"
		same "$f/$t: is a POSIX sh script" "#!/bin/sh" "$(head -n 1 "$s")"
		check "$f/$t: parses (sh -n)" sh -n "$s"
		check "$f/$t: parses in busybox ash, the guest's shell" busybox sh -n "$s"
		check "$f/$t: shellcheck -s sh" shellcheck -s sh "$s"
	done
	for s in features/"$f"/files/*; do
		case $(head -n 1 "$s") in
		'#!/bin/sh') check "$f/${s##*/}: parses in busybox ash" busybox sh -n "$s" ;;
		'#!/sbin/openrc-run') ;;
		*) grep -q '^# shellcheck shell=sh' "$s" || continue ;;
		esac
		check "$f/${s##*/}: shellcheck" shellcheck -s sh "$s"
	done
	clash=$(fq "$f" '([.inputs[]?.destination] - ([.inputs[]?.destination] - [.files[]?.destination]))[]')
	same "$f: no file it installs is where a boot-time input goes" "" "$clash"
done

# Secrets come at boot, never from the catalog.
found=$(grep -rlE 'PRIVATE KEY-----|tskey-[a-z]+-[A-Za-z0-9]{6}|^ *(mesh_secret|auth_key|private_key): ' \
	features profiles 2>/dev/null)
same "no key, auth key or secret value in features/ or profiles/" "" "$found"
same "every secret input lives under /etc/infrasim" "" \
	"$(for f in $FEATURES; do fq "$f" '.inputs[]? | select(.secret != false) | .destination'; done | grep -v '^/etc/infrasim/')"

# ---- every feature at once ---------------------------------------------------
mkdir -p "$T/profiles"
{
	printf 'name: everything\nversion: 1.0.0\nbase: alpine:3.19\nfeatures:\n'
	for f in $FEATURES; do printf '  - %s\n' "$f"; done
} >"$T/profiles/everything.yaml"
expect 0 "every feature composes into one profile" \
	isim-compose -q --profiles-dir "$T/profiles" -o "$T/everything" everything
M=$T/everything/manifest.json
# shellcheck disable=SC2086
check "... whose manifest matches manifest.schema.json" $V schemas/manifest.schema.json "$M"
if need_root && command -v nft >/dev/null; then
	check "... whose firewall nft -c -f accepts" unshare -n nft -c -f "$T/everything/firewall.nft"
else
	skip "... whose firewall nft -c -f accepts" "needs root and nftables"
fi
same "... with every feature's selftest" \
	"$(for f in $FEATURES; do fq "$f" '.selftest[]?' | sed "s|^|$f |"; done | sort)" \
	"$(cut -d' ' -f1,2 "$T/everything/selftests.txt" | sort)"

# ---- selftests print TAP -----------------------------------------------------
# Run where nothing of the guest is (in a new network namespace when root):
# most checks fail, and every line must still be TAP, the plan must match,
# and the exit status must say whether one failed.
tap_ok() { # file rc
	awk -v rc="$2" '
	/^ok [0-9]+ - / || /^not ok [0-9]+ - / {
		n++
		num = ($1 == "not") ? $3 : $2
		if (num != n) { print "test " num " out of order"; bad = 1 }
		if ($1 == "not") failed = 1
		next
	}
	/^1\.\.[0-9]+$/ { plans++; plan = substr($0, 4) + 0; next }
	/^#/ { next }
	{ print "not TAP: " $0; bad = 1 }
	END {
		if (plans != 1 || plan != n) { print "plan " plan " for " n " tests"; bad = 1 }
		if ((rc != 0) != failed) { print "exit " rc " but failed=" failed + 0; bad = 1 }
		exit bad
	}' "$1"
}
# One TAP library, installed by base-minimal, which every feature requires.
same "base-minimal installs the selftests' TAP library" "files/infrasim-tap.sh" \
	"$(fq base-minimal '.files[] | select(.destination == "/usr/local/lib/infrasim/tap.sh") | .source')"
own_helpers() { grep -Eq '^(ok|not_ok|skip|check)\(\)' "$1"; }
for s in features/*/selftest/*.sh; do
	# shellcheck disable=SC2016 # the line as the script spells it
	check "$s: sources the TAP library" grep -qx '\. "${ISIM_LIBDIR:-/usr/local/lib/infrasim}/tap.sh"' "$s"
	expect 1 "$s: defines no TAP helper of its own" own_helpers "$s"
done
mkdir -p "$T/lib"
cp features/base-minimal/files/infrasim-config.sh "$T/lib/config.sh"
cp features/base-minimal/files/infrasim-tap.sh "$T/lib/tap.sh"
while read -r f name _; do
	s=features/$f/selftest/$name.sh
	if need_root; then
		ISIM_MANIFEST=$M ISIM_LIBDIR=$T/lib unshare -n timeout 60 busybox sh "$s" >"$T/tap" 2>"$T/tap.err"
	else
		ISIM_MANIFEST=$M ISIM_LIBDIR=$T/lib timeout 60 busybox sh "$s" >"$T/tap" 2>"$T/tap.err"
	fi
	rc=$?
	check "$f/$name: prints well-formed TAP, its exit status agreeing" tap_ok "$T/tap" "$rc"
	same "$f/$name: prints nothing on stderr" "" "$(cat "$T/tap.err")"
done <"$T/everything/selftests.txt"

# ---- base-minimal: infrasim-selftest -----------------------------------------
mkdir -p "$T/st/a" "$T/st/b"
printf '#!/bin/sh\necho 1..1\necho ok 1 - a\n' >"$T/st/a/test_a.sh"
printf '#!/bin/sh\necho 1..1\necho "not ok 1 - b"\nexit 1\n' >"$T/st/b/test_b.sh"
printf 'b test_b %s\na test_a %s\n' "$T/st/b/test_b.sh" "$T/st/a/test_a.sh" >"$T/st/list"
run_st() { ISIM_SELFTESTS=$T/st/list ISIM_SELFTEST_DIR=$T/st busybox sh features/base-minimal/files/infrasim-selftest.sh "$@"; }
expect 1 "infrasim-selftest: exits 1 when a selftest fails" run_st
same "... runs them in the listed order, each between markers" \
	"# selftest b/test_b begin|# selftest b/test_b end failed|# selftest a/test_a begin|# selftest a/test_a end ok|# selftests: 2 run, 1 failed" \
	"$(grep '^# selftest' "$T/out" | tr '\n' '|' | sed 's/|$//')"
expect 0 "infrasim-selftest a: runs only feature a's, and passes" run_st a
expect 66 "infrasim-selftest nosuch: exits 66 with nothing to run" run_st nosuch

# ---- base-minimal: verify-signature.sh -----------------------------------------
mkdir -m 755 "$T/trust" "$T/keys"
isim-sign keygen -W -o "$T/keys/signer" >"$T/keys/signer.json"
isim-sign keygen -W -o "$T/keys/other" >/dev/null
cp "$T/keys/signer.pub" "$T/trust/"
chmod 644 "$T/trust/signer.pub"
kid=$(jq -r .key_id "$T/keys/signer.json")
echo "infrasim" >"$T/file.txt"
isim-sign sign -k "$T/keys/signer" "$T/file.txt" >/dev/null
VS=features/base-minimal/files/verify-signature.sh
# Without isim-verify on PATH: minisign against every trusted key.
vs_minisign() { ISIM_TRUST_DIR=$T/trust PATH=/usr/bin:/bin busybox sh "$VS" "$@"; }
expect 0 "verify-signature.sh file: minisign accepts isim-sign's signature" vs_minisign file "$T/file.txt"
same "... naming the signer by its key id" "$kid" "$(jq -r .signer "$T/out")"
echo "changed" >>"$T/file.txt"
expect 1 "verify-signature.sh file: a changed file is refused" vs_minisign file "$T/file.txt"
same "... with ok false" false "$(jq -r .ok "$T/out")"
echo "infrasim" >"$T/file.txt"
printf '# lost\n%s  # revoked here\n' "$(echo "$kid" | tr 'A-F' 'a-f')" >"$T/trust/revoked"
expect 1 "verify-signature.sh file: a revoked signer is refused (key id in lower case)" vs_minisign file "$T/file.txt"
rm -f "$T/trust/revoked"
expect 66 "verify-signature.sh: a missing file" vs_minisign file "$T/nosuch"
expect 64 "verify-signature.sh: usage" vs_minisign frobnicate "$T/file.txt"
expect 69 "verify-signature.sh node-descriptor: needs isim-verify" vs_minisign node-descriptor "$T/file.txt"

now=$(date -u +%s)
cat >"$T/node.json" <<EOF
{
  "node_id": "node-a",
  "identity": {
    "wg_public_key": "mRbvLkGqjUjGnK9S8R1ve7AXgTTa4n9gMUyb5mDWKkU=",
    "ed25519_public_key": "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
  },
  "endpoints": { "wireguard": "[2001:db8::1]:51820" },
  "allowed_ips": ["10.100.0.0/24", "10.100.0.5/32", "fd00:100::5/128"],
  "issued_at": "$(date -u -d "@$((now - 86400))" +%Y-%m-%dT%H:%M:%SZ)",
  "expires_at": "$(date -u -d "@$((now + 86400))" +%Y-%m-%dT%H:%M:%SZ)"
}
EOF
isim-sign descriptor -k "$T/keys/signer" "$T/node.json" >"$T/signed.json"
isim-sign descriptor -k "$T/keys/other" "$T/node.json" >"$T/by-other.json"
jq '.node_id = "node-z"' "$T/signed.json" >"$T/forged.json"
# shellcheck disable=SC2086
check "a descriptor isim-sign attested matches node-descriptor.schema.json (python3-jsonschema)" \
	$V schemas/node-descriptor.schema.json "$T/signed.json"
jq '.identity.wg_public_key = "mRbvLkGqjUjGnK9S8R1ve7AXgTTa4n9gMUyb5mDWKkV="' "$T/signed.json" >"$T/noncanon.json"
# shellcheck disable=SC2086
expect 1 "... and one whose key is base64 in a non-canonical spelling does not" \
	$V schemas/node-descriptor.schema.json "$T/noncanon.json"
export ISIM_SCHEMAS_DIR="$ISIM_ROOT/schemas"
vs() { ISIM_TRUST_DIR=$T/trust busybox sh "$VS" "$@"; }
expect 0 "verify-signature.sh node-descriptor: a trusted signer's descriptor verifies" vs node-descriptor "$T/signed.json"
expect 1 "verify-signature.sh node-descriptor: a changed one is refused" vs node-descriptor "$T/forged.json"
expect 1 "verify-signature.sh node-descriptor: another signer's is refused" vs node-descriptor "$T/by-other.json"

# vpn-wireguard's apply-peers.sh runs isim-wgadmit against a real
# WireGuard device: tests/integration/wgadmit.sh.

# ---- rendezvous-ipv6: rendezvousd ------------------------------------------------
# The wrapper runs isim-rendezvous with the feature's configuration; the
# protocol itself is tests/integration/rendezvous.sh's, and the known
# answers of tests/vectors/rendezvous/kat.tsv tests/unit/test_rendezvous.c's
# and rendezvous-errors.sh's.
RV=features/rendezvous-ipv6/files/rendezvousd
rvd() { # MANIFEST ARG...
	rvd_m=$1
	shift
	env ISIM_MANIFEST="$rvd_m" ISIM_LIBDIR="$T/lib" ISIM_MESH_SECRET="$T/secret" \
		ISIM_NODE_DESCRIPTOR="$T/signed.json" ISIM_RUNDIR="$T/run" busybox sh "$RV" "$@"
}
(umask 077 && printf 'x%.0s' 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 >"$T/secret")
printf 'name: tight\nversion: 1.0.0\nbase: alpine:3.19\nfeatures: [rendezvous-ipv6]\nfeature_config:\n  rendezvous-ipv6: {epoch_seconds: 10, slots_per_epoch: 4, slot_duration_ms: 5000}\n' \
	>"$T/profiles/tight.yaml"
isim-compose -q --profiles-dir "$T/profiles" -o "$T/tight" tight
expect 64 "rendezvousd: passes the feature's schedule on, which isim-rendezvous refuses when it does not fit" \
	rvd "$T/tight/manifest.json"
contains "... and says why" "$T/err" "4 slots of 5000 ms do not fit in an epoch of 10000 ms"
rm -f "$T/secret"
printf 'name: roomy\nversion: 1.0.0\nbase: alpine:3.19\nfeatures: [rendezvous-ipv6]\n' >"$T/profiles/roomy.yaml"
isim-compose -q --profiles-dir "$T/profiles" -o "$T/roomy" roomy
expect 66 "rendezvousd: exits 66 without the secret" rvd "$T/roomy/manifest.json"
contains "... naming it" "$T/err" "$T/secret"

# ---- control-mtls: verify-mtls.sh -------------------------------------------------
mkdir "$T/pki" "$T/mtls"
mkcert() { # dir cn ca-key ca-cert
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1/node.key" \
		-out "$1/node.csr" -subj "/CN=$2" 2>/dev/null &&
		openssl x509 -req -in "$1/node.csr" -CA "$4" -CAkey "$3" -CAcreateserial -days 30 \
			-out "$1/node.pem" 2>/dev/null
}
for ca in ca other; do
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/pki/$ca.key" \
		-out "$T/pki/$ca.pem" -subj "/CN=$ca" -days 30 2>/dev/null
done
cp "$T/pki/ca.pem" "$T/mtls/ca.pem"
mkcert "$T/mtls" node-a "$T/pki/ca.key" "$T/pki/ca.pem"
VM=features/control-mtls/files/verify-mtls.sh
expect 0 "verify-mtls.sh: a certificate of the CA with its key verifies" busybox sh "$VM" "$T/mtls"
same "... naming its subject" "true CN=node-a" "$(jq -r '"\(.ok) \(.subject)"' "$T/out")"
mkdir "$T/mtls2" && cp "$T/pki/ca.pem" "$T/mtls2/" && mkcert "$T/mtls2" node-b "$T/pki/ca.key" "$T/pki/ca.pem"
cp "$T/mtls2/node.key" "$T/mtls/node.key"
expect 1 "verify-mtls.sh: another certificate's key is refused" busybox sh "$VM" "$T/mtls"
same "... as not its key" "node.key is not the private key of node.pem" "$(jq -r .reason "$T/out")"
mkcert "$T/mtls" node-a "$T/pki/other.key" "$T/pki/other.pem"
expect 1 "verify-mtls.sh: a certificate of another CA is refused" busybox sh "$VM" "$T/mtls"
rm "$T/mtls/node.key"
expect 1 "verify-mtls.sh: a missing key is refused" busybox sh "$VM" "$T/mtls"
contains "... naming it" "$T/out" "node.key is missing"

# ---- wan-nat: nat-detect.sh against STUN responders on the loopback ---------
# A responder answers a Binding Request (RFC 8489) with the address it saw,
# or STUN_MAPPED_ADDR, and the port it saw plus STUN_PORT_OFFSET.
cat >"$T/stun-responder" <<'EOF'
#!/bin/sh
req=$(od -An -v -tx1 -N20 | tr -d ' \n')
txid=${req#????????????????}
addr=${STUN_MAPPED_ADDR:-$SOCAT_PEERADDR}
port=$((SOCAT_PEERPORT + ${STUN_PORT_OFFSET:-0}))
fmt=
byte() { fmt="$fmt\\$(($1 / 64))$(($1 / 8 % 8))$(($1 % 8))"; }
for b in 1 1 0 12 33 18 164 66; do byte "$b"; done
h=$txid
while [ -n "$h" ]; do byte $((0x${h%"${h#??}"})); h=${h#??}; done
for b in 0 32 0 8 0 1; do byte "$b"; done
byte $(((port >> 8) ^ 33))
byte $(((port & 255) ^ 18))
set -- $(echo "$addr" | tr . ' ')
byte $(($1 ^ 33)); byte $(($2 ^ 18)); byte $(($3 ^ 164)); byte $(($4 ^ 66))
# shellcheck disable=SC2059
printf "$fmt"
EOF
pids=
responder() { # port [env...]
	p=$1
	shift
	env "$@" socat "UDP4-RECVFROM:$p,bind=127.0.0.1,reuseaddr,fork" SYSTEM:"sh $T/stun-responder" 2>/dev/null &
	pids="$pids $!"
}
base=$((34000 + $$ % 20000))
responder $((base + 1))
responder $((base + 2)) STUN_MAPPED_ADDR=203.0.113.7 STUN_PORT_OFFSET=1000
responder $((base + 3)) STUN_MAPPED_ADDR=203.0.113.7 STUN_PORT_OFFSET=1000
responder $((base + 4)) STUN_MAPPED_ADDR=203.0.113.7 STUN_PORT_OFFSET=2000
trap 'for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$T"' EXIT
sleep 1
printf 'name: nat\nversion: 1.0.0\nbase: alpine:3.19\nfeatures: [wan-nat]\nfeature_config:\n  wan-nat: {timeout_seconds: 2, probe_port: %d}\n' \
	$((base + 10)) >"$T/profiles/nat.yaml"
isim-compose -q --profiles-dir "$T/profiles" -o "$T/nat" nat
nd() { ISIM_MANIFEST=$T/nat/manifest.json ISIM_LIBDIR=$T/lib busybox sh features/wan-nat/files/nat-detect.sh "$@"; }
expect 0 "nat-detect.sh: the loopback's own address means no NAT" nd "127.0.0.1:$((base + 1))"
same "... as the server saw it" "none 127.0.0.1:$((base + 10))" "$(jq -r '"\(.nat) \(.mappings[0].mapped)"' "$T/out")"
expect 0 "nat-detect.sh: two servers seeing one public mapping" nd "127.0.0.1:$((base + 2))" "127.0.0.1:$((base + 3))"
same "... is endpoint-independent" "endpoint-independent 203.0.113.7:$((base + 1010))" \
	"$(jq -r '"\(.nat) \(.mappings[1].mapped)"' "$T/out")"
expect 0 "nat-detect.sh: two servers seeing different ports" nd "127.0.0.1:$((base + 2))" "127.0.0.1:$((base + 4))"
same "... is endpoint-dependent" endpoint-dependent "$(jq -r .nat "$T/out")"
expect 0 "nat-detect.sh: one server answering of two" nd "127.0.0.1:$((base + 2))" "127.0.0.1:$((base + 9))"
same "... cannot tell the mapping" "unknown null" "$(jq -r '"\(.nat) \(.mappings[1].mapped)"' "$T/out")"
expect 1 "nat-detect.sh: no server answering" nd "127.0.0.1:$((base + 9))"
same "... says so" "false no STUN server answered" "$(jq -r '"\(.ok) \(.reason)"' "$T/out")"

finish
