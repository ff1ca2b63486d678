#!/bin/sh
# isim-build with its base cached, against the bare steps a user would
# script on the same tree in the same run: unpack the base, mke2fs -d, and
# qemu-img convert -c of a disk holding it (target: isim-build within 1.3x).
# Then one boot under TCG: QEMU start to the last selftest line, and the
# image's size. Needs root (the tree keeps its owners) and, the first time,
# Debian's archive to make the base.
set -eu
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
RUNS=${BENCH_BUILD_RUNS:-3}
WARMUP=1
: "${ISIM_CACHE_DIR:=$ISIM_ROOT/build/cache}"
SOURCE_DATE_EPOCH=1700000000
export ISIM_CACHE_DIR SOURCE_DATE_EPOCH
cd "$ISIM_ROOT"
if [ "$(id -u)" -ne 0 ]; then
	echo "build.sh: skipped (needs root)"
	exit 0
fi
p=${BENCH_PROFILE:-wg-mesh-ipv6}
"$ISIM_BIN/isim-compose" -q -o "$B/comp-$p" "$p"
# Once untimed: the base goes into the cache.
"$ISIM_BIN/isim-build" --base debian:bookworm -o "$B/img" "$B/comp-$p" >"$B/summary.json"
tar=$(jq -r .base_rootfs "$B/summary.json")
size=$(jq -r ".outputs[\"$p.qcow2\"].size" "$B/summary.json")

cat >"$B/bare.sh" <<BARE
#!/bin/sh
# The bare steps: the same tree, the same file system and image formats.
set -e
rm -rf "$B/bare" && mkdir -p "$B/bare/root"
tar -xpf "$tar" -C "$B/bare/root"
mke2fs -q -F -t ext4 -L root -m 0 -d "$B/bare/root" "$B/bare/root.img" 900M
truncate -s 1000M "$B/bare/disk.raw"
dd if="$B/bare/root.img" of="$B/bare/disk.raw" bs=1M seek=33 conv=notrunc,sparse status=none
qemu-img convert -q -f raw -O qcow2 -c "$B/bare/disk.raw" "$B/bare/disk.qcow2"
rm -rf "$B/bare"
BARE
b=$(median_ms build-bare sh "$B/bare.sh")
i=$(median_ms build-isim "$ISIM_BIN/isim-build" --base debian:bookworm -q -o "$B/img" "$B/comp-$p")
echo "profile $p, base cached, $RUNS runs each, medians"
printf '%-34s %10.0f ms\n' "isim-build" "$i"
printf '%-34s %10.0f ms\n' "bare: tar -x, mke2fs -d, qemu-img" "$b"
printf '%-34s %10sx (target <= 1.3x)\n' "ratio" "$(ratio "$i" "$b")"
printf '%-34s %10d bytes (%d MiB)\n' "image size" "$size" $((size / 1048576))

if [ "${BENCH_BOOT:-1}" = 1 ]; then
	"$ISIM_BIN/isim-build" --test "$B/img/$p.qcow2" >"$B/test.json" 2>/dev/null || true
	printf '%-34s %10.1f s (passed: %s)\n' "QEMU start to SELFTEST END (TCG)" \
		"$(jq -r '.boot_seconds // -1' "$B/test.json")" "$(jq -r .passed "$B/test.json")"
fi
