#!/bin/sh
# Boot time under TCG, against a minimal boot of the same kernel in the
# same run: QEMU with that kernel and a tiny initramfs that prints a line
# and powers off (the baseline), and QEMU booting the built image as
# isim-build --test boots it, to the last selftest line. Each boot's
# console is timestamped on the host, and cut into phases: firmware and
# option ROMs, the boot loader, kernel and initramfs, OpenRC's sysinit and
# each service of the default runlevel (DHCP, cloud-init's stages...), up
# to SELFTEST END. Figures are medians of BENCH_BOOT_RUNS runs (default 3).
# Needs root (isim-build) and, the first time, Debian's archive.
set -eu
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
RUNS=${BENCH_BOOT_RUNS:-3}
WARMUP=0
: "${ISIM_CACHE_DIR:=$ISIM_ROOT/build/cache}"
SOURCE_DATE_EPOCH=1700000000
export ISIM_CACHE_DIR SOURCE_DATE_EPOCH
cd "$ISIM_ROOT"
if [ "$(id -u)" -ne 0 ]; then
	echo "boot.sh: skipped (needs root)"
	exit 0
fi
phases=$ISIM_ROOT/tests/bench/boot-phases.py
p=${BENCH_PROFILE:-no-vpn-minimal}
W=$B/boot
rm -rf "$W"
mkdir -p "$W/initramfs/bin" "$W/initramfs/dev" "$W/initramfs/proc"

"$ISIM_BIN/isim-compose" -q -o "$W/comp" "$p"
"$ISIM_BIN/isim-build" --base debian:bookworm -o "$W/img" "$W/comp" >"$W/summary.json"
img=$W/img/$p.qcow2
kver=$(jq -r .kernel "$W/summary.json")
tar=$(jq -r .base_rootfs "$W/summary.json")

# ---- the baseline: the image's kernel, a tiny initramfs ----------------------
tar -xOf "$tar" "./boot/vmlinuz-$kver" >"$W/vmlinuz"
tar -xOf "$tar" ./usr/bin/busybox >"$W/initramfs/bin/busybox"
chmod 0755 "$W/initramfs/bin/busybox"
cat >"$W/initramfs/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox mount -t devtmpfs devtmpfs /dev
echo "BASELINE UP" >/dev/console
/bin/busybox poweroff -f
EOF
chmod 0755 "$W/initramfs/init"
# The base's busybox makes the archive: the host may have no cpio.
cp "$W/initramfs/bin/busybox" "$W/busybox"
(cd "$W/initramfs" && find . | sort | "$W/busybox" cpio -o -H newc 2>/dev/null) | gzip -n >"$W/initrd.gz"

cat >"$W/baseline.sh" <<BASE
#!/bin/sh
exec qemu-system-x86_64 -machine q35,accel=tcg -m 1024 -nodefaults -nographic -serial stdio -no-reboot -kernel "$W/vmlinuz" -initrd "$W/initrd.gz" \\
	-append "console=ttyS0,115200 quiet panic=-1" </dev/null
BASE
base_ms=$(median_ms boot-baseline sh "$W/baseline.sh")
/usr/bin/python3 "$phases" run sh "$W/baseline.sh" >"$W/baseline.log"
grep -q "BASELINE UP" "$W/baseline.log" || {
	echo "boot.sh: the baseline did not print its line: $W/baseline.log" >&2
	exit 1
}

# ---- the image, as isim-build --test boots it --------------------------------
# The NoCloud seed: the one required input, as a FAT volume labelled CIDATA.
"$ISIM_BIN/isim-sign" keygen -W -o "$W/signer.key" >/dev/null
{
	echo '#cloud-config'
	echo 'write_files:'
	echo '  - path: /etc/infrasim/trusted-signers/control-plane.pub'
	echo '    encoding: b64'
	echo "    content: $(base64 -w0 <"$W/signer.key.pub")"
} >"$W/user-data"
printf 'instance-id: bench\nlocal-hostname: bench\n' >"$W/meta-data"
truncate -s 2M "$W/seed.img"
mformat -i "$W/seed.img" -v CIDATA ::
mcopy -i "$W/seed.img" "$W/user-data" "$W/meta-data" ::/

# The options of cmd/isim-build/boot.c's command line; BENCH_QEMU_OPTS
# replaces those after the machine (to time another command line).
opts=${BENCH_QEMU_OPTS:--nodefaults -nographic -serial stdio -no-reboot -snapshot \
-netdev user,id=net0,restrict=on -device virtio-net-pci,netdev=net0,romfile=}
i=1
while [ "$i" -le "$RUNS" ]; do
	# shellcheck disable=SC2086 # $opts is a list of options
	timeout 900 /usr/bin/python3 "$phases" run --until "SELFTEST END" \
		qemu-system-x86_64 -machine q35,accel=tcg -m 1024 $opts \
		-drive "file=$img,if=virtio,format=qcow2" \
		-drive "file=$W/seed.img,if=virtio,format=raw,readonly=on" >"$W/image-$i.log"
	grep -q "SELFTEST END status=0" "$W/image-$i.log" || echo "boot.sh: run $i: the selftests did not pass: $W/image-$i.log" >&2
	i=$((i + 1))
done

/usr/bin/python3 "$phases" phases "$W"/image-*.log >"$W/phases.txt"
img_s=$(sed -n 's/^TOTAL: QEMU start to SELFTEST END *\([0-9.]*\) s.*/\1/p' "$W/phases.txt")
echo "profile $p, kernel $kver, TCG, $RUNS runs each, medians"
printf '%-44s %8.2f s\n' "baseline: same kernel, tiny initramfs, to exit" "$(awk -v m="$base_ms" 'BEGIN { print m / 1000 }')"
cat "$W/phases.txt"
printf '%-44s %8sx\n' "ratio image / baseline" "$(ratio "$img_s" "$(awk -v m="$base_ms" 'BEGIN { print m / 1000 }')")"
