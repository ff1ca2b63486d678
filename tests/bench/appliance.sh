#!/bin/sh
# isim-vm appliance of a VM with a 1 GiB disk, fully allocated with data
# that compresses as a system's files do (this machine's /usr, read in
# order), against `tar czf` of the same members (the disk already
# flattened, the cloud-init files, main.tf, manifest.json). isim-vm's figure
# includes what tar's does not: flattening the disk (qemu-img convert),
# hashing it and the image, writing the manifest. Target: at most 1.0x.
# Medians of BENCH_RUNS runs (default 3). No figure is asserted.
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
RUNS=${BENCH_RUNS:-3}
PATH=$ISIM_BIN:$PATH
for p in qemu-img pigz hyperfine; do
	command -v "$p" >/dev/null 2>&1 || {
		echo "appliance: skipped (no $p)"
		exit 0
	}
done
W=$B/appliance
rm -rf "$W" && mkdir -p "$W" || exit 1
export ISIM_STATE_DIR="$W/state"
trap 'rm -rf "$W"' EXIT
size=$((1024 * 1024 * 1024))

# The image: 1 GiB of /usr's files, end to end (repeated if /usr is
# smaller), as a fully allocated qcow2.
find /usr -xdev -type f -size +4k 2>/dev/null | sort | head -n 200000 | xargs cat 2>/dev/null |
	head -c "$size" >"$W/raw.img"
while [ "$(stat -c %s "$W/raw.img")" -lt "$size" ]; do
	have=$(stat -c %s "$W/raw.img")
	cp "$W/raw.img" "$W/part.img"
	head -c "$((size - have))" "$W/part.img" >>"$W/raw.img"
done
rm -f "$W/part.img"
qemu-img convert -f raw -O qcow2 "$W/raw.img" "$W/base.qcow2" || exit 1
rm -f "$W/raw.img"
isim-vm create b1 --image "$W/base.qcow2" --memory 512 --net none >/dev/null || exit 1
export SOURCE_DATE_EPOCH=1700000000
isim-vm appliance b1 -o "$W/first.tar.gz" >/dev/null || exit 1
# The same members, for tar.
mkdir -p "$W/members"
tar -xzf "$W/first.tar.gz" -C "$W/members"
gz_ratio=$(awk -v a="$(stat -c %s "$W/first.tar.gz")" -v b="$size" 'BEGIN { printf "%.2f", a / b }')
rm -f "$W/first.tar.gz"

isim=$(median_ms appliance-isim "$ISIM_BIN/isim-vm appliance b1 -o $W/a.tar.gz --force") || exit 1
tarz=$(median_ms appliance-tar "tar czf $W/t.tar.gz -C $W/members .") || exit 1
printf 'appliance: 1 GiB disk (compressed to %s of its size): isim-vm appliance %.0f ms, tar czf %.0f ms: %sx (target <= 1.0x)\n' \
	"$gz_ratio" "$isim" "$tarz" "$(ratio "$isim" "$tarz")"
