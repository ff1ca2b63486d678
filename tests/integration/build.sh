#!/bin/sh
# isim-build on the Debian base, against the real parts: mmdebstrap and
# Debian's archive, mke2fs, mtools and syslinux, qemu-img, and QEMU under
# TCG. Builds no-vpn-minimal, checks the disk with qemu-img and sfdisk,
# verifies its signed provenance with isim-verify (and refuses a changed
# image or statement), rebuilds it byte for byte, boots it and requires
# every selftest to pass, with a signed test result bound to the image.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

image_tests
json() { jq -r "$1" "$T/out"; }
p=no-vpn-minimal

isim-sign keygen -W -o "$T/ci.key" >/dev/null
isim-compose -q -o "$T/comp" "$p"

# ---- build ---------------------------------------------------------------
expect 0 "builds $p on debian:bookworm, signed" \
	isim-build --base debian:bookworm -k "$T/ci.key" -o "$T/a" "$T/comp"
cp "$T/out" "$T/summary.json"
img=$T/a/$p.qcow2
same "the summary names the image and its SHA-256" "$(sha256sum <"$img" | cut -d' ' -f1)" \
	"$(json ".outputs[\"$p.qcow2\"].sha256")"
same "... its size" "$(stat -c %s "$img")" "$(json ".outputs[\"$p.qcow2\"].size")"
same "... the base" "debian:bookworm" "$(json .base)"
same "... the kernel" yes "$(json '.kernel | test("^[0-9.]+-[0-9]+-amd64$") | if . then "yes" else "no" end')"
same "... installed package versions" yes "$(json 'if .packages.openrc and .packages["cloud-init"] then "yes" else "no" end')"
same "the output folder holds the image, statement, signature and envelope and nothing else" \
	"$p.provenance.dsse.json $p.provenance.json $p.provenance.json.sig $p.qcow2" "$(cd "$T/a" && echo *)"
same "no working folder is left" "" "$(find "$T/a" -name '.isim-*')"
check "qemu-img check finds the qcow2 clean" qemu-img check -q "$img"
qemu-img convert -O raw "$img" "$T/disk.raw"
sfdisk --dump "$T/disk.raw" >"$T/parts" 2>&1
same "sfdisk reads an MBR with a bootable FAT16 partition at 1 MiB" 1 \
	"$(grep -c 'start= *2048, size= *[0-9]*, type=6, bootable' "$T/parts")"
same "... and a Linux root partition" 1 "$(grep -c 'type=83' "$T/parts")"
same "the boot record is syslinux's" "$(head -c 440 /usr/lib/syslinux/mbr/mbr.bin | sha256sum)" \
	"$(head -c 440 "$T/disk.raw" | sha256sum)"
start=$(sed -n 's/.*start= *\([0-9]*\), size= *\([0-9]*\), type=83.*/\1/p' "$T/parts")
dd if="$T/disk.raw" of="$T/root.img" bs=512 skip="$start" status=none
check "e2fsck finds the root file system clean" e2fsck -fn "$T/root.img"
debugfs -R 'stat /etc/infrasim/manifest.json' "$T/root.img" >"$T/stat" 2>/dev/null
contains "the manifest is in /etc/infrasim" "$T/stat" "Type: regular"
contains "... with SOURCE_DATE_EPOCH as its ctime" "$T/stat" "ctime: 0x6553f100"
debugfs -R 'cat /etc/infrasim/manifest.json' "$T/root.img" >"$T/manifest" 2>/dev/null
same "... the composed manifest, byte for byte" "$(sha256sum <"$T/comp/manifest.json")" "$(sha256sum <"$T/manifest")"
debugfs -R 'ls -l /etc/runlevels/default' "$T/root.img" >"$T/rl" 2>/dev/null
for s in $(jq -r '.services[]' "$T/comp/manifest.json"); do
	contains "service $s is in the default runlevel" "$T/rl" " $s"
done
debugfs -R 'stat /usr/local/bin/isim-verify' "$T/root.img" >"$T/stat" 2>/dev/null
contains "isim-verify is installed for the guest's features" "$T/stat" "Mode:  0755"
rm -f "$T/disk.raw" "$T/root.img"

# ---- provenance ----------------------------------------------------------
st=$T/a/$p.provenance.json
expect 0 "isim-verify accepts the provenance" isim-verify provenance --pub "$T/ci.key.pub" "$img"
same "... as ok" true "$(json .ok)"
same "the statement's subject is the image" "$p.qcow2 $(sha256sum <"$img" | cut -d' ' -f1)" \
	"$(jq -r '.subject[0] | "\(.name) \(.digest.sha256)"' "$st")"
same "the statement is SLSA Provenance v1" "https://slsa.dev/provenance/v1" "$(jq -r .predicateType "$st")"
same "its times are SOURCE_DATE_EPOCH" "2023-11-14T22:13:20Z 2023-11-14T22:13:20Z" \
	"$(jq -r '.predicate.runDetails.metadata | "\(.startedOn) \(.finishedOn)"' "$st")"
deps() { jq -r ".predicate.buildDefinition.resolvedDependencies[] | $1" "$st"; }
same "it names the profile by digest" "$(sha256sum <profiles/$p.yaml | cut -d' ' -f1)" \
	"$(deps "select(.name == \"profiles/$p.yaml\") | .digest.sha256")"
same "... each feature source file by digest" "$(cut -d' ' -f2 "$T/comp/files.txt" | sort)" \
	"$(deps 'select(.name | startswith("features/")) | .digest.sha256' | sort)"
same "... the base root file system" "$(sha256sum <"$(jq -r .base_rootfs "$T/summary.json")" | cut -d' ' -f1)" \
	"$(deps 'select(.name == "base-rootfs/debian-bookworm.tar") | .digest.sha256')"
same "... every installed package with its version, as a purl" yes \
	"$(deps 'select(.uri // "" | startswith("pkg:deb/debian/openrc@")) | .annotations.version' | grep -q . && echo yes)"
npk=$(jq '.packages | length' "$T/summary.json")
same "... all $npk of them" "$npk" "$(deps 'select(.uri // "" | startswith("pkg:deb/")) | .name' | wc -l)"
expect 0 "the DSSE envelope verifies" isim-verify dsse --pub "$T/ci.key.pub" "$T/a/$p.provenance.dsse.json"
same "... and carries the statement" "$(jq -cS . "$st")" "$(jq -cS . "$T/out")"
check "Debian's minisign verifies the statement's signature" \
	minisign -V -q -p "$T/ci.key.pub" -m "$st" -x "$st.sig"

cp "$img" "$T/changed.qcow2"
cp "$st" "$T/changed.provenance.json"
cp "$st.sig" "$T/changed.provenance.json.sig"
printf 'x' | dd of="$T/changed.qcow2" bs=1 seek=100000 conv=notrunc status=none
expect 1 "a changed image is refused" isim-verify provenance --pub "$T/ci.key.pub" "$T/changed.qcow2"
same "... with the reason" false "$(json .ok)"
cp "$img" "$T/changed.qcow2"
sed -i 's/"debian:bookworm"/"debian:bookwork"/' "$T/changed.provenance.json"
expect 1 "a changed statement is refused" isim-verify provenance --pub "$T/ci.key.pub" "$T/changed.qcow2"
cp "$st" "$T/changed.provenance.json"
isim-sign keygen -W -o "$T/other.key" >/dev/null
isim-sign -k "$T/other.key" "$T/changed.provenance.json" >/dev/null
expect 1 "a statement signed by another key is refused" isim-verify provenance --pub "$T/ci.key.pub" "$T/changed.qcow2"
awk 'NR == 4 { $0 = (substr($0, 1, 1) == "A" ? "B" : "A") substr($0, 2) } { print }' "$st.sig" >"$T/changed.provenance.json.sig"
expect 1 "a changed signature is refused" isim-verify provenance --pub "$T/ci.key.pub" "$T/changed.qcow2"
rm -f "$T/changed.qcow2"

# ---- reproducible --------------------------------------------------------
expect 0 "a second build of the same inputs succeeds" isim-build --base debian:bookworm -q -o "$T/b" "$T/comp"
same "... with a byte-identical qcow2" "$(sha256sum <"$img")" "$(sha256sum <"$T/b/$p.qcow2")"
same "... and a byte-identical provenance statement" "$(sha256sum <"$st")" "$(sha256sum <"$T/b/$p.provenance.json")"
rm -rf "$T/b"

# ---- boot and selftests --------------------------------------------------
expect 0 "the image boots under TCG and every selftest passes" \
	isim-build --test -k "$T/ci.key" "$img"
cp "$T/out" "$T/test.json"
same "the result says passed" true "$(jq -r .passed "$T/test.json")"
same "... every selftest of the manifest ran" "$(jq -r '.selftests[] | "\(.feature)/\(.name)"' "$T/comp/manifest.json" | sort | tr '\n' ' ')" \
	"$(jq -r '.report.selftests[] | "\(.feature)/\(.name)"' "$T/test.json" | sort | tr '\n' ' ')"
same "... none failed" 0 "$(jq -r .report.failed "$T/test.json")"
same "... the guest's status is 0" 0 "$(jq -r .report.status "$T/test.json")"
same "... and some tests passed" yes "$(jq -r 'if .report.passed > 10 then "yes" else "no" end' "$T/test.json")"
res=$T/a/$p.selftest.json
same "the test result is an in-toto test-result statement" "https://in-toto.io/attestation/test-result/v0.1 PASSED" \
	"$(jq -r '"\(.predicateType) \(.predicate.result)"' "$res")"
same "... bound to the image digest" "$(sha256sum <"$img" | cut -d' ' -f1)" "$(jq -r '.subject[0].digest.sha256' "$res")"
same "... and to its provenance" "$(sha256sum <"$st" | cut -d' ' -f1)" "$(jq -r '.predicate.configuration[0].digest.sha256' "$res")"
expect 0 "its signature verifies" isim-verify file --pub "$T/ci.key.pub" "$res"
contains "the console log holds the report" "$T/a/$p.console.log" "SELFTEST END status=0"
same "booting did not change the image" "$(jq -r ".outputs[\"$p.qcow2\"].sha256" "$T/summary.json")" \
	"$(sha256sum <"$img" | cut -d' ' -f1)"

finish
