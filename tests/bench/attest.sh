#!/bin/sh
# isim-verify against the baselines the issue names, in the same run:
# - provenance of a 1 GiB image vs `openssl dgst -sha256` of it (target
#   within 1.1x: the image is hashed once, streaming, with OpenSSL);
# - 10,000 signed descriptors through one `isim-verify descriptor --stream`
#   vs the bare Ed25519 verifications they contain (target at most 2x).
set -eu
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
RUNS=${BENCH_RUNS:-7}
S=$ISIM_BIN/isim-sign
V=$ISIM_BIN/isim-verify
export ISIM_SCHEMAS_DIR="$ISIM_ROOT/schemas"
cd "$ISIM_ROOT"

rm -f "$B/att.key" "$B/att.key.pub"
"$S" keygen -W -o "$B/att.key" >/dev/null

# ---- provenance of 1 GiB ------------------------------------------------------
img=$B/big.bin
if [ "$(stat -c %s "$img" 2>/dev/null || echo 0)" -ne 1073741824 ]; then
	head -c 1073741824 /dev/urandom >"$img"
fi
d=$(openssl dgst -sha256 -r "$img" | cut -d' ' -f1)
jq -n --arg d "$d" '{_type: "https://in-toto.io/Statement/v1", subject: [{name: "big.bin", digest: {sha256: $d}}],
	predicateType: "https://slsa.dev/provenance/v1",
	predicate: {buildDefinition: {buildType: "bench"}, runDetails: {builder: {id: "bench"}}}}' >"$B/big.provenance.json"
"$S" -k "$B/att.key" "$B/big.provenance.json" >/dev/null
"$V" provenance --pub "$B/att.key.pub" "$img" | jq -e .ok >/dev/null
p=$(median_ms prov-isim "$V" provenance --pub "$B/att.key.pub" "$img")
o=$(median_ms prov-openssl openssl dgst -sha256 "$img")
echo "1 GiB image, $RUNS runs              isim ms   openssl ms   ratio (target <= 1.10)"
printf 'isim-verify provenance %14.1f %12.1f %7s\n' "$p" "$o" "$(ratio "$p" "$o")"

# ---- 10,000 descriptors ---------------------------------------------------------
N=${BENCH_DESCRIPTORS:-10000}
# shellcheck disable=SC2046 # pkg-config prints several words
cc -O2 -std=c11 -D_GNU_SOURCE -Ilib $(pkg-config --cflags libcjson libsodium) -o "$B/ed25519_verify" \
	tests/bench/ed25519_verify.c build/release/libisim.a \
	$(pkg-config --libs libcjson yaml-0.1 libpcre2-8 libcrypto libsodium) -lm
jq -nc --argjson n "$N" 'range($n) | {node_id: "node-\(.)",
	identity: {wg_public_key: "mRbvLkGqjUjGnK9S8R1ve7AXgTTa4n9gMUyb5mDWKkU=",
		ed25519_public_key: "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="},
	endpoints: {rendezvous_ipv6: "fe80::1", wireguard: "[2001:db8::1]:51820"},
	allowed_ips: ["10.100.\(. / 250 | floor).\(. % 250 + 1)/32", "fd00:100::\(.)/128"],
	issued_at: "2026-01-01T00:00:00Z", expires_at: "2027-01-01T00:00:00Z"}' >"$B/peers.jsonl"
"$S" descriptor -k "$B/att.key" --stream "$B/peers.jsonl" >"$B/signed.jsonl"
"$B/ed25519_verify" prepare "$B/signed.jsonl" "$B/att.key.pub" "$B/signed.bin"
ok=$("$V" descriptor --stream --pub "$B/att.key.pub" --at 2026-06-01T00:00:00Z "$B/signed.jsonl" |
	jq -s 'map(select(.ok)) | length')
[ "$ok" -eq "$N" ] || { echo "bench: only $ok of $N descriptors verified" >&2; exit 1; }
s=$(median_ms stream-isim "$V" descriptor --stream --pub "$B/att.key.pub" --at 2026-06-01T00:00:00Z "$B/signed.jsonl")
e=$(median_ms stream-ed25519 "$B/ed25519_verify" verify "$B/signed.bin")
echo
echo "$N descriptors, $RUNS runs         isim ms   Ed25519 ms   ratio (target <= 2.00)"
printf 'isim-verify descriptor --stream %5.1f %12.1f %7s\n' "$s" "$e" "$(ratio "$s" "$e")"
printf '  per descriptor: %.1f us, of which Ed25519 %.1f us\n' "$(awk -v s="$s" -v n="$N" 'BEGIN { print s * 1000 / n }')" \
	"$(awk -v e="$e" -v n="$N" 'BEGIN { print e * 1000 / n }')"
rm -f "$B"/att.key* "$B"/big.provenance.json* "$B"/peers.jsonl "$B"/signed.jsonl "$B"/signed.bin
