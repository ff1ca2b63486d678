#!/bin/sh
# Signed node descriptors, DSSE envelopes and provenance statements through
# isim-sign and isim-verify: what is signed verifies, every change and every
# wrong, unknown or revoked signer is refused with its reason, and the
# envelopes and statements of independent signers verify too.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

P=$ISIM_ROOT/tests/vectors/provenance
export ISIM_SCHEMAS_DIR="$ISIM_ROOT/schemas"
mkdir "$T/w" && cd "$T/w" || exit 70
json() { jq -r "$1" "$T/out"; }

isim-sign keygen -W -o signer >/dev/null
isim-sign keygen -W -o other >/dev/null
mkdir -m 755 trust
cp signer.pub trust/
kid=$(isim-sign keygen -W -o k3 | jq -r .key_id)
rm -f k3 k3.pub
sid=$(sed -n 's/^untrusted comment: minisign public key //p' signer.pub)

cat >node.json <<'JSON'
{
  "node_id": "node-a",
  "identity": {
    "wg_public_key": "mRbvLkGqjUjGnK9S8R1ve7AXgTTa4n9gMUyb5mDWKkU=",
    "ed25519_public_key": "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
  },
  "endpoints": {
    "rendezvous_ipv6": "fe80::1",
    "wireguard": "[2001:db8::1]:51820",
    "control_mtls": "[2001:db8::1]:8443"
  },
  "allowed_ips": ["10.100.0.5/32", "fd00:100::5/128"],
  "issued_at": "2026-01-01T00:00:00Z",
  "expires_at": "2026-02-01T00:00:00Z"
}
JSON
AT=2026-01-15T00:00:00Z

# ---- descriptors --------------------------------------------------------------
expect 0 "descriptor: signs" isim-sign descriptor -k signer node.json
cp "$T/out" signed.json
same "the attestation names the signer's key id" "$sid" "$(jq -r .attestation.key_id signed.json)"
same "everything else is as given" "$(jq -S . node.json)" "$(jq -S 'del(.attestation)' signed.json)"
expect 0 "descriptor: verifies against the trusted signers" \
	isim-verify descriptor --trust trust --at "$AT" signed.json
same "the verdict" "true node-a $sid null" "$(json '"\(.ok) \(.node_id) \(.key_id) \(.reason)"')"
expect 0 "descriptor: verifies from standard input" sh -c "isim-verify descriptor --trust trust --at $AT <signed.json"
expect 0 "descriptor: whitespace and member order do not matter" \
	sh -c "jq -S -c . signed.json | isim-verify descriptor --trust trust --at $AT"

# Endpoints are checked for what they are, not only their shape.
for e in '[2001:db8::1]:70000' '999.999.999.999:51820' '[:::::]:51820'; do
	jq --arg e "$e" '.endpoints.wireguard = $e' node.json >bad-endpoint.json
	expect 65 "descriptor: endpoint $e is refused" isim-sign descriptor -k signer bad-endpoint.json
	contains "... naming it" "$T/err" "/endpoints/wireguard: format: \"$e\" is not a valid host-port"
done

# One changed field each: refused, exit 1, the reason in the verdict.
for f in .node_id .identity.wg_public_key .identity.ed25519_public_key .endpoints.rendezvous_ipv6 \
	.endpoints.wireguard .endpoints.control_mtls '.allowed_ips[1]' .issued_at .expires_at; do
	case $f in
	.identity.*) v='"nRbvLkGqjUjGnK9S8R1ve7AXgTTa4n9gMUyb5mDWKkU="' ;;
	.endpoints.rendezvous_ipv6) v='"fe80::2"' ;;
	.endpoints.*) v='"[2001:db8::9]:1"' ;;
	.issued_at) v='"2025-12-31T00:00:00Z"' ;;
	.expires_at) v='"2036-01-01T00:00:00Z"' ;;
	'.allowed_ips[1]') v='"fd00::/8"' ;;
	*) v='"node-z"' ;;
	esac
	jq "$f = $v" signed.json >forged.json
	expect 1 "descriptor: a changed $f is refused" isim-verify descriptor --trust trust --at "$AT" forged.json
	same "... as a bad signature" "/attestation/signature: signature by $sid does not verify" "$(json .reason)"
done
jq '.attestation.signature |= (.[0:10] + (if .[10:11] == "A" then "B" else "A" end) + .[11:])' signed.json >forged.json
expect 1 "descriptor: a flipped signature is refused" isim-verify descriptor --trust trust --at "$AT" forged.json
expect 1 "descriptor: expired" isim-verify descriptor --trust trust --at 2026-02-01T00:00:00Z signed.json
same "... says when" "/expires_at: expired at 2026-02-01T00:00:00Z" "$(json .reason)"
expect 1 "descriptor: not yet valid" isim-verify descriptor --trust trust --at 2025-12-31T23:59:59Z signed.json
same "... says from when" "/issued_at: not valid before 2026-01-01T00:00:00Z" "$(json .reason)"
isim-sign descriptor -k other node.json >by-other.json
oid=$(jq -r .attestation.key_id by-other.json)
expect 1 "descriptor: an unknown signer is refused" isim-verify descriptor --trust trust --at "$AT" by-other.json
same "... naming its key" "/attestation/key_id: signed by key $oid, which is not a trusted signer (1 key in trust)" "$(json .reason)"
cp -r trust revoked-trust
printf '# compromised\n%s\n' "$sid" >revoked-trust/revoked
expect 1 "descriptor: a revoked signer is refused" isim-verify descriptor --trust revoked-trust --at "$AT" signed.json
same "... naming its key" "/attestation/key_id: key $sid is revoked" "$(json .reason)"
expect 1 "descriptor: an unsigned descriptor is refused" isim-verify descriptor --trust trust --at "$AT" node.json
same "... as not attested" "/attestation: the descriptor is not attested" "$(json .reason)"

jq '.allowed_ips = ["10.0.0.0/33"]' node.json >bad.json
expect 65 "descriptor: signing refuses what its schema refuses" isim-sign descriptor -k signer bad.json
contains "... naming the value and the keyword" "$T/err" "/allowed_ips/0: format: \"10.0.0.0/33\" is not a valid cidr"
same "... and prints nothing" "" "$(cat "$T/out")"
printf '{"node_id": "a", "node_id": "b"}' >dup.json
expect 65 "descriptor: duplicate members are malformed" isim-verify descriptor --trust trust dup.json
contains "... with the place" "$T/err" "dup.json:1:"
expect 64 "descriptor: --at must be a time" isim-verify descriptor --trust trust --at yesterday signed.json
expect 66 "descriptor: a missing file" isim-verify descriptor --trust trust nosuch.json

# Streams: one verdict a line, in order; a malformed line does not stop it.
{
	jq -c . signed.json
	echo '{"node_id":'
	jq -c '.node_id = "node-b"' signed.json
	jq -c . by-other.json
	jq -c . signed.json
} >peers.jsonl
expect 65 "descriptor --stream: the worst line decides the exit status" \
	isim-verify descriptor --stream --trust trust --at "$AT" peers.jsonl
same "... one verdict for each line" 5 "$(wc -l <"$T/out")"
same "... in order, with their lines" "true:1 false:2 false:3 false:4 true:5" \
	"$(jq -r '"\(.ok):\(.line)"' "$T/out" | tr '\n' ' ' | sed 's/ $//')"
contains "... and the malformed line told on stderr" "$T/err" "peers.jsonl:2:"
jq -c . signed.json signed.json signed.json >good.jsonl
expect 0 "descriptor --stream: all valid" isim-verify descriptor --stream --trust trust --at "$AT" good.jsonl
jq -c . node.json node.json | isim-sign descriptor -k signer --stream >streamed.jsonl
same "descriptor --stream: signing a stream" "2 2" \
	"$(wc -l <streamed.jsonl | tr -d ' ') $(isim-verify descriptor --stream --trust trust --at "$AT" streamed.jsonl | jq -s 'map(select(.ok)) | length')"

# The seed's troubleshooting command on a node, with a descriptor valid now.
jq --arg a "$(date -u -d '-1 day' +%Y-%m-%dT%H:%M:%SZ)" --arg b "$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)" \
	'.issued_at = $a | .expires_at = $b' node.json | isim-sign descriptor -k signer >current.json
mkdir bin
ln -s "$ISIM_BIN/isim-verify" bin/isim-verify
expect 0 "verify-signature.sh node-descriptor FILE" env PATH="$T/w/bin:$PATH" ISIM_TRUST_DIR="$T/w/trust" \
	sh "$ISIM_ROOT/features/base-minimal/files/verify-signature.sh" node-descriptor current.json
expect 1 "verify-signature.sh refuses a forged descriptor" env PATH="$T/w/bin:$PATH" ISIM_TRUST_DIR="$T/w/trust" \
	sh "$ISIM_ROOT/features/base-minimal/files/verify-signature.sh" node-descriptor forged.json

# ---- DSSE ---------------------------------------------------------------------
printf '{"hello": "world"}\n' >payload.json
expect 0 "dsse: wraps a payload" isim-sign dsse -k signer --type application/json payload.json
cp "$T/out" env.json
same "... with the signer's key id" "$sid" "$(jq -r '.signatures[0].keyid' env.json)"
same "... and the payload in base64" "$(base64 -w0 <payload.json)" "$(jq -r .payload env.json)"
expect 0 "dsse: verifies and prints the payload" isim-verify dsse --trust trust env.json
same "... byte for byte" "$(sha256sum <payload.json)" "$(sha256sum <"$T/out")"
expect 1 "dsse: another type is refused when one is required" isim-verify dsse --trust trust --type x/y env.json
jq '.payloadType = "text/plain"' env.json >env-type.json
expect 1 "dsse: a changed payloadType does not verify" isim-verify dsse --trust trust env-type.json
jq --arg p "$(printf '{"hello": "World"}\n' | base64 -w0)" '.payload = $p' env.json >env-payload.json
expect 1 "dsse: a changed payload does not verify" isim-verify dsse --trust trust env-payload.json
same "... and prints nothing" "" "$(cat "$T/out")"
expect 1 "dsse: a revoked signer is refused" isim-verify dsse --trust revoked-trust env.json
contains "... naming its key" "$T/err" "key $sid is revoked"
# The independent signer's envelope, its raw Ed25519 key made a minisign
# public key with an id of our choosing; its keyid is empty, so every
# trusted key is tried.
mkdir -m 755 dsse-trust
{
	echo "untrusted comment: independent DSSE signer"
	{ printf 'Ed\001\002\003\004\005\006\007\010'; xxd -r -p "$P/dsse-ed25519.pub.hex"; } | base64 -w0
	echo
} >dsse-trust/independent.pub
expect 0 "dsse: the independent signer's envelope verifies" isim-verify dsse --trust dsse-trust \
	--type application/vnd.in-toto+json "$P/image.provenance.dsse.json"
same "... and its payload is the statement" "$(sha256sum <"$P/image.provenance.json")" "$(sha256sum <"$T/out")"
expect 1 "dsse: its bad-type twin does not" isim-verify dsse --trust dsse-trust "$P/image.provenance.dsse.bad-type.json"
printf '{"payloadType":"t","payload":"%%%%","signatures":[{"sig":"AA=="}]}' >env-bad.json
expect 65 "dsse: a malformed envelope" isim-verify dsse --trust trust env-bad.json
contains "... named with the member" "$T/err" "env-bad.json: /payload: not valid base64"

# ---- provenance -----------------------------------------------------------------
expect 0 "provenance: the vector statement (minisign -S) verifies" isim-verify provenance --pub "$P/signer.pub" "$P/image.bin"
same "... naming the image's digest and signer" "510b126e1d4ced49107fe4ab03ee54cb1c8e4caf6064e1dd29c48d4a3e74c38b 2C4EB03A18E90271" \
	"$(json '"\(.sha256) \(.key_id)"')"
cp "$P/image.bin" img.bin
cp "$P/image.provenance.json" img.provenance.json
cp "$P/image.provenance.json.minisig" img.provenance.json.minisig
printf 'x' >>img.bin
expect 1 "provenance: a changed image is refused" isim-verify provenance --pub "$P/signer.pub" img.bin
same "... because the digest differs" "/subject: subject sha256 510b126e1d4ced49107fe4ab03ee54cb1c8e4caf6064e1dd29c48d4a3e74c38b does not match the image's sha256 $(sha256sum <img.bin | cut -d' ' -f1)" \
	"$(json .reason)"
cp "$P/image.bin" img.bin
sed 's/no-vpn-minimal/wg-mesh-ipv6/' "$P/image.provenance.json" >img.provenance.json
expect 1 "provenance: a changed statement is refused" isim-verify provenance --pub "$P/signer.pub" img.bin
expect 1 "provenance: another signer is refused" isim-verify provenance --trust trust "$P/image.bin"
# Our own statement, signed with isim-sign, beside an image of our own.
head -c 100000 /dev/urandom >disk.qcow2
d=$(sha256sum <disk.qcow2 | cut -d' ' -f1)
jq -n --arg d "$d" '{_type: "https://in-toto.io/Statement/v1", subject: [{name: "disk.qcow2", digest: {sha256: $d}}],
	predicateType: "https://slsa.dev/provenance/v1",
	predicate: {buildDefinition: {buildType: "https://infrasim.invalid/build/v1"}, runDetails: {builder: {id: "test"}}}}' \
	>disk.provenance.json
isim-sign -k signer disk.provenance.json >/dev/null
expect 0 "provenance: a statement signed by isim-sign verifies" isim-verify provenance --trust trust disk.qcow2
same "... by .sig" "disk.provenance.json.sig $sid" "$(json '"\(.signature) \(.key_id)"')"
expect 1 "provenance: with its signer revoked it does not" isim-verify provenance --trust revoked-trust disk.qcow2
expect 66 "provenance: a missing image" isim-verify provenance --trust trust nosuch.qcow2
expect 64 "provenance: no image" isim-verify provenance --trust trust

# A schemas/ folder where the verifier runs is not its schema: the one
# built into the program is, unless an option or variable says otherwise.
mkdir -p hostile/schemas
cp signed.json trust/signer.pub hostile/
echo '{"not": {}}' >hostile/schemas/node-descriptor.schema.json
# isim-verify descriptor run in hostile/, ISIM_SCHEMAS_DIR unset.
in_hostile() { (cd hostile && env -u ISIM_SCHEMAS_DIR isim-verify descriptor --pub signer.pub --at "$AT" "$@"); }
expect 0 "descriptor: a schemas/ folder in the working folder is ignored" in_hostile signed.json
same "... the verdict is ok" true "$(json .ok)"
sed 's/"node_id"/"node_name"/' signed.json >hostile/renamed.json
echo '{}' >hostile/schemas/node-descriptor.schema.json
expect 65 "descriptor: ... nor does a permissive one there admit what the built-in schema refuses" \
	in_hostile renamed.json
echo '{"not": {}}' >hostile/schemas/node-descriptor.schema.json
expect 65 "descriptor: an explicit --schemas-dir is used" in_hostile --schemas-dir schemas signed.json
contains "... and its refusal named" "$T/err" "signed.json: not: value must not match"

: "$kid"
finish
