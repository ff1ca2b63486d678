#!/bin/sh
# isim-vm appliance and isim-verify appliance against real parts: a VM
# made by isim-vm on a qcow2 image with an isim-build statement beside it,
# its disk written through qemu-io; the archive read back by GNU tar,
# qemu-img and qemu-io, its signature by minisign, its wg0.conf by
# wg-quick, its main.tf by HashiCorp's HCL parser (tests/tools/hclcheck,
# built from Debian's package); the same bytes twice under
# SOURCE_DATE_EPOCH; and archives changed afterwards (a member missing,
# added, changed, '..', absolute, a symlink; unsigned; another signer)
# refused, as are bad requests, with nothing left behind.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

for p in qemu-img qemu-io pigz minisign wg-quick go; do
	command -v "$p" >/dev/null 2>&1 || {
		skip "appliance archives" "$p is not installed (scripts/install-deps.sh)"
		finish
		exit
	}
done
S=$T/state
export ISIM_STATE_DIR="$S"
SOURCE_DATE_EPOCH=1700000000
export SOURCE_DATE_EPOCH
vmpids=""
cleanup() {
	for q in $vmpids; do
		kill -9 "-$q" 2>/dev/null
		kill -9 "$q" 2>/dev/null
	done
	umount "$T/ro" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
field() { jq -r "$1" "$T/out"; }
# leftovers DIR: what a failed appliance may have left in DIR (a staged
# archive or disk).
leftovers() { find "$1" -maxdepth 1 -name '.*' ! -name . | wc -l; }

# The HCL parser, built once from Debian's Go HCL package.
hclcheck=$T/hclcheck
(cd "$ISIM_ROOT/tests/tools/hclcheck" && GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE=$T/gocache \
	go build -o "$hclcheck" .) >"$T/go.log" 2>&1
check "hclcheck builds from Debian's HCL package" test -x "$hclcheck"

# An image with the statement isim-build writes beside it (the parts
# isim-vm reads: its subject, the vpn-wireguard feature's configuration,
# the boot-time inputs).
img=$T/img/mesh.qcow2
mkdir -p "$T/img" "$T/out-dir"
qemu-img create -q -f qcow2 "$img" 64M
qemu-io -f qcow2 -c "write -P 0x5a 1M 1M" "$img" >/dev/null
img_sha=$(sha256sum <"$img" | cut -d' ' -f1)
cat >"$T/img/mesh.provenance.json" <<EOF
{"_type":"https://in-toto.io/Statement/v1",
 "subject":[{"name":"mesh.qcow2","digest":{"sha256":"$img_sha"}}],
 "predicateType":"https://slsa.dev/provenance/v1",
 "predicate":{"buildDefinition":{"externalParameters":{"manifest":{
  "feature_config":{"vpn-wireguard":{"interface":"wg0","listen_port":51999,"network_cidr":"10.100.0.0/16"}},
  "inputs":[
   {"name":"wg_address","destination":"/etc/infrasim/wireguard/address","required":true,"secret":false},
   {"name":"wg_private_key","destination":"/etc/infrasim/secrets/wg_private_key","required":false,"secret":true}]}}}}}
EOF
stmt_sha=$(sha256sum <"$T/img/mesh.provenance.json" | cut -d' ' -f1)
echo 10.100.0.5 >"$T/addr"
wg genkey >"$T/wgkey" 2>/dev/null || head -c 32 /dev/urandom | base64 >"$T/wgkey"
cat >"$T/user-data" <<'UD'
#cloud-config
runcmd:
  - [sh, -c, "echo appliance-marker > /dev/console"]
UD
isim-sign keygen -W -o "$T/signer" >/dev/null
isim-sign keygen -W -o "$T/other" >/dev/null

expect 0 "create: a VM with a wg_address input" isim-vm create node1 --image "$img" --memory 256 --net none \
	--user-data "$T/user-data" --input "wg_address=$T/addr"
# What the VM wrote since: on its overlay, not the image.
qemu-io -f qcow2 -c "write -P 0xc3 4M 1M" "$S/vms/node1/disk.qcow2" >/dev/null
A=$T/out-dir/node1.tar.gz
expect 0 "appliance: a signed archive of the stopped VM" isim-vm appliance node1 -o "$A" -k "$T/signer"
same "... its JSON names every member" \
	"cloud-init/meta-data cloud-init/user-data disk.qcow2 terraform/main.tf wireguard/wg0.conf" \
	"$(field '.members | join(" ")')"
same "... signed, without secrets, its size and digest the file's" \
	"true false $(stat -c %s "$A") $(sha256sum <"$A" | cut -d' ' -f1)" \
	"$(field '"\(.signed) \(.secrets) \(.size) \(.sha256)"')"
same "... GNU tar lists the members in byte order, each folder first" \
	"cloud-init/ cloud-init/meta-data cloud-init/user-data disk.qcow2 manifest.json manifest.json.minisig terraform/ terraform/main.tf wireguard/ wireguard/wg0.conf" \
	"$(tar -tzf "$A" | tr '\n' ' ' | sed 's/ $//')"
same "... every entry root's, with SOURCE_DATE_EPOCH's time" "root/root 2023-11-14 22:13" \
	"$(tar --full-time -tvzf "$A" | awk '{ print $2, $4, substr($5, 1, 5) }' | sort -u)"
same "... the archive is readable by others (no secrets)" 644 "$(stat -c %a "$A")"
x=$T/x
mkdir -p "$x"
tar -xzf "$A" -C "$x"
check "... disk.qcow2 is qemu-img check clean" qemu-img check -q "$x/disk.qcow2"
same "... and flat: no backing file" "" "$(qemu-img info --output=json "$x/disk.qcow2" | jq -r '."backing-filename" // ""')"
check "... holding the image's data" qemu-io -f qcow2 -c "read -P 0x5a 1M 1M" "$x/disk.qcow2"
check "... and what the VM wrote on its overlay" qemu-io -f qcow2 -c "read -P 0xc3 4M 1M" "$x/disk.qcow2"
contains "... user-data is the VM's seed's (the operator's part)" "$x/cloud-init/user-data" "appliance-marker"
contains "... meta-data names the VM" "$x/cloud-init/meta-data" "node1"
check "... minisign verifies manifest.json" minisign -Vq -p "$T/signer.pub" -m "$x/manifest.json" -x "$x/manifest.json.minisig"
m=$x/manifest.json
listed=$(jq -r '.members[] | "\(.sha256)  \(.path)"' "$m")
same "... the manifest lists each member's SHA-256 as sha256sum finds it" \
	"$(cd "$x" && sha256sum cloud-init/meta-data cloud-init/user-data disk.qcow2 terraform/main.tf wireguard/wg0.conf)" "$listed"
same "... and each one's size" \
	"$(cd "$x" && stat -c %s cloud-init/meta-data cloud-init/user-data disk.qcow2 terraform/main.tf wireguard/wg0.conf | tr '\n' ' ')" \
	"$(jq -r '.members[].size' "$m" | tr '\n' ' ')"
same "... the image's digest, and its provenance's (the statement is this image's)" "$img_sha $stmt_sha mesh.qcow2" \
	"$(jq -r '"\(.image.sha256) \(.image.provenance_sha256) \(.image.name)"' "$m")"
same "... the VM: name, machine, created_at from SOURCE_DATE_EPOCH" "node1 256 1 67108864 2023-11-14T22:13:20Z false" \
	"$(jq -r '"\(.name) \(.machine.memory_mib) \(.machine.cpus) \(.machine.disk_size) \(.created_at) \(.secrets)"' "$m")"
check "... valid against schemas/appliance-manifest.schema.json" /usr/bin/python3 -c '
import json, sys, jsonschema
jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))' \
	"$ISIM_ROOT/schemas/appliance-manifest.schema.json" "$m"

# wireguard/wg0.conf: wg-quick's format, the feature's settings, no key.
w=$x/wireguard/wg0.conf
check "... wg-quick reads wg0.conf" wg-quick strip "$w"
same "... its address (with the mesh's prefix) and port from the image's feature" "10.100.0.5/16 51999" \
	"$(awk -F' = ' '$1 == "Address" { a = $2 } $1 == "ListenPort" { p = $2 } END { print a, p }' "$w")"
check "... the private key is not in it, but set from the node's file" sh -c \
	"! grep -qi '^PrivateKey' '$w' && grep -q 'private-key /etc/infrasim/secrets/wg_private_key' '$w'"

# terraform/main.tf, as HCL's parser reads it.
"$hclcheck" "$x/terraform/main.tf" >"$T/tf.json" 2>"$T/tf.err"
check "... HCL's parser reads main.tf" test -s "$T/tf.json"
same "... a libvirt volume, a cloud-init disk and a domain" \
	"libvirt_cloudinit_disk.seed libvirt_domain.vm libvirt_volume.disk" \
	"$(jq -r '[.blocks[] | select(.type == "resource") | .labels | join(".")] | sort | join(" ")' "$T/tf.json")"
same "... the domain has the VM's name, memory and CPUs, and its disk and seed" \
	"node1 256 1 libvirt_volume.disk.id libvirt_cloudinit_disk.seed.id" \
	"$(jq -r '.blocks[] | select(.labels == ["libvirt_domain", "vm"]) |
		"\(.attributes.name) \(.attributes.memory) \(.attributes.vcpu) \(.blocks[] | select(.type == "disk") | .attributes.volume_id.expr) \(.attributes.cloudinit.expr)"' "$T/tf.json")"
same "... the provider is the community libvirt one" "dmacvicar/libvirt" \
	"$(jq -r '.blocks[] | select(.type == "terraform") | .blocks[0].attributes.libvirt.source' "$T/tf.json")"
# Every file main.tf names (${path.module}/...) is in the archive.
# shellcheck disable=SC2016 # HCL's ${...}, not the shell's
refs=$(jq -r '.. | .expr? // empty' "$T/tf.json" | grep -o '\${path.module}/[^")]*' | sed 's|\${path.module}/||' | sort -u)
missing=""
for r in $refs; do
	[ -f "$x/terraform/$r" ] || missing="$missing $r"
done
same "... and every file it names is in the archive ($(echo "$refs" | wc -l) of them)" "" "$missing"

A2=$T/out-dir/node1-again.tar.gz
expect 0 "appliance again, the same SOURCE_DATE_EPOCH" isim-vm appliance node1 -o "$A2" -k "$T/signer"
check "... the same bytes" cmp "$A" "$A2"

# isim-verify appliance.
expect 0 "verify: the archive, by its signer" isim-verify appliance --pub "$T/signer.pub" "$A"
same "... its verdict" "true node1 5 true $(field .key_id)" "$(field '"\(.ok) \(.name) \(.members) \(.signed) \(.key_id)"')"
mkdir -p "$T/trust"
cp "$T/signer.pub" "$T/trust/"
chmod 700 "$T/trust"
expect 0 "... by a trusted signers folder" isim-verify appliance --trust "$T/trust" "$A"
expect 1 "... by another key: refused" isim-verify appliance --pub "$T/other.pub" "$A"
contains "... saying whose key it is" "$T/out" "signed by key"
isim-sign keygen -W -o "$T/revokee" >/dev/null
cp "$T/revokee.pub" "$T/trust/"
isim-vm appliance node1 -o "$T/out-dir/by-revokee.tar.gz" -k "$T/revokee" >/dev/null
expect 0 "... by a second trusted signer" isim-verify appliance --trust "$T/trust" "$T/out-dir/by-revokee.tar.gz"
field .key_id >"$T/trust/revoked"
expect 1 "... whose key is then revoked: refused" isim-verify appliance --trust "$T/trust" "$T/out-dir/by-revokee.tar.gz"
contains "... as revoked" "$T/out" "revoked"

U=$T/out-dir/unsigned.tar.gz
expect 0 "appliance without a key: unsigned" isim-vm appliance node1 -o "$U"
expect 1 "verify: unsigned is refused" isim-verify appliance --pub "$T/signer.pub" "$U"
contains "... as not signed" "$T/out" '"reason":"not signed (no manifest.json.minisig)"'
expect 0 "... unless --allow-unsigned" isim-verify appliance --allow-unsigned "$U"

# Archives changed after the fact, by Python's tarfile: each refused.
# retar IN OUT SKIP ADD-NAME ADD-KIND [DATA|TARGET]
retar() {
	/usr/bin/python3 - "$@" <<'PY'
import io, sys, tarfile
src, dst, skip, name, kind = sys.argv[1:6]
extra = sys.argv[6] if len(sys.argv) > 6 else ""
with tarfile.open(src, "r:gz") as i, tarfile.open(dst, "w:gz", format=tarfile.PAX_FORMAT) as o:
    for m in i.getmembers():
        if m.name.rstrip("/") == skip:
            continue
        o.addfile(m, i.extractfile(m) if m.isfile() else None)
    if name:
        t = tarfile.TarInfo(name)
        t.mtime = 1700000000
        if kind == "symlink":
            t.type, t.linkname = tarfile.SYMTYPE, extra
            o.addfile(t)
        elif kind == "dir":
            t.type = tarfile.DIRTYPE
            o.addfile(t)
        else:
            data = extra.encode()
            t.size = len(data)
            o.addfile(t, io.BytesIO(data))
PY
}
B=$T/out-dir/bad.tar.gz
# refused NAME REASON RETAR-ARGS...: the changed archive gets exit 1 and REASON.
refused() {
	t_name=$1
	t_reason=$2
	shift 2
	retar "$A" "$B" "$@"
	expect 1 "verify: $t_name: refused" isim-verify appliance --pub "$T/signer.pub" "$B"
	same "... $t_reason" "$t_reason" "$(field .reason)"
}
retar "$A" "$B" "" "" ""
expect 0 "verify: the archive rewritten by Python, unchanged, still checks" isim-verify appliance --pub "$T/signer.pub" "$B"
refused "a member missing" "member 'cloud-init/user-data' is missing" cloud-init/user-data "" ""
refused "a member added" "member 'run.sh' is not in the manifest" "" run.sh file '#!/bin/sh'
refused "a member changed" "member 'wireguard/wg0.conf' changed: 11 bytes, the manifest says $(stat -c %s "$w")" \
	wireguard/wg0.conf wireguard/wg0.conf file "[Interface]"
refused "a '..' member" "'../../etc/cron.d/x' leaves the archive ('..')" "" ../../etc/cron.d/x file x
refused "an absolute member" "'/etc/cron.d/x' is an absolute path" "" /etc/cron.d/x file x
refused "a symlink out" "'cloud-init/up' is a symbolic link" "" cloud-init/up symlink ../../../etc
refused "the manifest gone" "no manifest.json" manifest.json "" ""
refused "the signature changed" "manifest.json.minisig: expected a line starting with 'untrusted comment: '" \
	manifest.json.minisig manifest.json.minisig file "x"
# The manifest changed, its signature left: the signature no longer holds.
/usr/bin/python3 -c '
import json, sys
m = json.load(open(sys.argv[1])); m["machine"]["memory_mib"] = 8192
open(sys.argv[2], "w").write(json.dumps(m))' "$m" "$T/m2.json"
refused "the manifest changed" "$(isim-verify file --pub "$T/signer.pub" -x "$x/manifest.json.minisig" "$T/m2.json" | jq -r .reason)" \
	manifest.json manifest.json file "$(cat "$T/m2.json")"
printf 'not an archive\n' >"$T/out-dir/text.tar.gz"
expect 65 "verify: not a gzip'ed tar: exit 65" isim-verify appliance --pub "$T/signer.pub" "$T/out-dir/text.tar.gz"
contains "... saying so" "$T/err" "not a gzip'ed tar archive"
gzip -dc "$A" >"$T/out-dir/plain.tar"
expect 65 "verify: an uncompressed tar: exit 65" isim-verify appliance --pub "$T/signer.pub" "$T/out-dir/plain.tar"
expect 66 "verify: a missing file: exit 66" isim-verify appliance --pub "$T/signer.pub" "$T/out-dir/none.tar.gz"
head -c $(($(stat -c %s "$A") / 2)) "$A" >"$B"
expect 1 "verify: a truncated archive: refused" isim-verify appliance --pub "$T/signer.pub" "$B"
expect 64 "verify: no FILE: exit 64" isim-verify appliance --pub "$T/signer.pub"

# Secret inputs: refused unless asked for, then readable by the owner only.
expect 0 "create: a VM given its WireGuard private key" isim-vm create node2 --image "$img" --net none \
	--input "wg_address=$T/addr" --input "wg_private_key=$T/wgkey"
before=$(find "$T/out-dir" | sort)
expect 64 "appliance: secret inputs without --include-secrets: exit 64" isim-vm appliance node2 -o "$T/out-dir/n2.tar.gz"
contains "... naming the secret input" "$T/err" "wg_private_key"
same "... nothing written" "$before" "$(find "$T/out-dir" | sort)"
expect 0 "appliance --include-secrets" isim-vm appliance node2 -o "$T/out-dir/n2.tar.gz" --include-secrets
same "... the archive is 0600, and says it has secrets" "600 true" "$(stat -c %a "$T/out-dir/n2.tar.gz") $(field .secrets)"
same "... user-data carries the key" "$(base64 -w0 <"$T/wgkey")" \
	"$(tar -xzOf "$T/out-dir/n2.tar.gz" cloud-init/user-data | grep -o "$(base64 -w0 <"$T/wgkey")" | head -1)"
expect 0 "... and verifies unsigned, with secrets true" isim-verify appliance --allow-unsigned "$T/out-dir/n2.tar.gz"
same "... (its verdict)" "true true" "$(field '"\(.ok) \(.secrets)"')"

# Bad requests: each a message and its exit code, nothing left behind.
expect 66 "appliance: an unknown VM: exit 66" isim-vm appliance nosuch -o "$T/out-dir/x.tar.gz"
expect 64 "appliance: no -o: exit 64" isim-vm appliance node1
contains "... naming -o" "$T/err" "-o FILE is required"
expect 64 "appliance: no NAME: exit 64" isim-vm appliance -o "$T/out-dir/x.tar.gz"
old=$(sha256sum <"$U")
expect 73 "appliance: the output exists: exit 73" isim-vm appliance node1 -o "$U"
same "... it is left as it was" "$old" "$(sha256sum <"$U")"
expect 0 "... --force replaces it" isim-vm appliance node1 -o "$U" --force
expect 73 "appliance: a folder that does not exist: exit 73" isim-vm appliance node1 -o "$T/nodir/x.tar.gz"
expect 66 "appliance: a missing key: exit 66" isim-vm appliance node1 -o "$T/out-dir/x.tar.gz" -k "$T/none.key"
expect 64 "appliance: an unknown option: exit 64" isim-vm appliance node1 -o "$T/out-dir/x.tar.gz" --bogus
# A read-only file system (root writes through modes, not through this).
mkdir -p "$T/ro"
if need_root && mount -t tmpfs -o ro,size=1m tmpfs "$T/ro" 2>/dev/null; then
	expect 73 "appliance: a read-only file system: exit 73" isim-vm appliance node1 -o "$T/ro/x.tar.gz"
	contains "... naming the file" "$T/err" "$T/ro/x.tar.gz"
	umount "$T/ro"
else
	skip "appliance: a read-only file system" "needs root to mount one"
fi
# A running VM: its disk changes as it runs.
if isim-vm start node1 >/dev/null 2>&1; then
	vmpids="$vmpids $(isim-vm show node1 | jq -r .pid)"
	expect 69 "appliance: a running VM: exit 69" isim-vm appliance node1 -o "$T/out-dir/run.tar.gz"
	contains "... telling to stop it first" "$T/err" "isim-vm stop node1 first"
	isim-vm kill node1 >/dev/null 2>&1
else
	not_ok "appliance: a running VM (isim-vm start failed)"
fi
same "nothing left behind by the failures (no staged archive or disk)" 0 "$(leftovers "$T/out-dir")"
same "... and no archive from them" "" "$(find "$T/out-dir" -name x.tar.gz -o -name run.tar.gz)"
same "the image was never written" "$img_sha" "$(sha256sum <"$img" | cut -d' ' -f1)"
expect 0 "show records the appliances" isim-vm show node1
same "... as operations" "true" "$(field '[.operations[] | select(.op == "appliance")] | length > 0')"
finish
