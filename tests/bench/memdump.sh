#!/bin/sh
# isim-memdump: a dump hashed in flight, in one pass, against the two-pass
# way and against QEMU alone, of the same idle firmware-only guest
# (BENCH_MEMDUMP_MIB, default 2048 MiB; ELF, paging off):
#  - isim-memdump --qmp SOCKET -o FILE: the whole command (its start, QMP,
#    the dump through a pipe hashed and written in one pass, fsync, the
#    signed record, the audit log);
#  - baseline: QEMU's dump-guest-memory to a file (protocol file:, issued
#    by a minimal QMP client in Python's standard library and timed by its
#    own clock from the command to its reply), then `sha256sum` of the file;
#    target: 0.3x of it or less;
#  - QEMU's dump to a file alone; target: within 1.1x.
# The files go to BENCH_MEMDUMP_DIR (default build/bench/memdump). Medians
# of BENCH_MEMDUMP_RUNS runs (default 5). No figure is asserted.
#
# Here (2 cores, virtio disk, 2 GiB): isim-memdump about 1.5-1.8 s, QEMU to
# a file 1.8-2.2 s (after the warm-up below; 3.4-4 s without it), with
# sha256sum 7.8-8.3 s: ratios about 0.85 and 0.20. The hashing (SHA-NI,
# 1.8 GB/s) is the slowest stage, on a thread apart from the reads and the
# O_DIRECT writes; when one thread read and hashed and the writes went
# through the page cache it was 2.4-2.8 s, 1.05-1.3x QEMU alone.
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
PATH=$ISIM_BIN:$PATH
RUNS=${BENCH_MEMDUMP_RUNS:-5}
MIB=${BENCH_MEMDUMP_MIB:-2048}
command -v qemu-system-x86_64 >/dev/null 2>&1 || { echo "memdump: skipped (no QEMU)"; exit 0; }
W=${BENCH_MEMDUMP_DIR:-$B/memdump}
rm -rf "$W" && mkdir -p "$W" || exit 1
# shellcheck disable=SC2016 # expanded when the trap runs
trap '[ -s "$W/q.pid" ] && kill "$(cat "$W/q.pid")" 2>/dev/null' EXIT
ms() { echo $(($(date +%s%N) / 1000000)); }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

qemu-system-x86_64 -machine q35,accel=tcg -m "$MIB" -nodefaults -vga none -display none \
	-qmp "unix:$W/q.sock,server=on,wait=off" -daemonize -pidfile "$W/q.pid" || exit 1
isim-sign keygen -W -o "$W/k.key" >/dev/null || exit 1
cat >"$W/qmp.py" <<'EOF'
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
f = s.makefile("rw")
f.readline()
def run(cmd, args=None):
    m = {"execute": cmd, "id": 1}
    if args:
        m["arguments"] = args
    f.write(json.dumps(m) + "\n")
    f.flush()
    while True:
        r = json.loads(f.readline())
        if "return" in r or "error" in r:
            if "error" in r:
                sys.exit("qmp: " + r["error"]["desc"])
            return r
run("qmp_capabilities")
t = time.monotonic()
run("dump-guest-memory", {"paging": False, "protocol": "file:" + sys.argv[2], "format": "elf"})
print(int((time.monotonic() - t) * 1000))
EOF

# This machine hands memory freed by the guest back to its host (free page
# reporting): a buffered write into memory left idle a while pays for
# getting it back, one into memory just freed does not. QEMU's dump to a
# file is such a write; isim-memdump writes with O_DIRECT where it can and
# needs no page cache. So that the baseline has its best case each time,
# and both the same start, each is timed right after 2 GiB of page cache
# was filled and freed.
warm() { dd if=/dev/zero of="$W/warm" bs=1M count="$MIB" status=none && rm -f "$W/warm"; }
isim_t="" two_t="" qemu_t=""
r=0
while [ $r -lt "$RUNS" ]; do
	rm -f "$W"/d.elf* "$W/f.elf"
	warm || exit 1
	t=$(ms)
	isim-memdump --qmp "$W/q.sock" -o "$W/d.elf" -k "$W/k.key" --state-dir "$W/state" >/dev/null || exit 1
	isim_t="$isim_t $(($(ms) - t))"
	rm -f "$W"/d.elf*
	warm || exit 1
	q=$(/usr/bin/python3 "$W/qmp.py" "$W/q.sock" "$W/f.elf") || exit 1
	qemu_t="$qemu_t $q"
	t=$(ms)
	sha256sum "$W/f.elf" >/dev/null || exit 1
	two_t="$two_t $((q + $(ms) - t))"
	r=$((r + 1))
done
rm -f "$W/f.elf"
i=$(echo "$isim_t" | tr ' ' '\n' | grep . | median)
two=$(echo "$two_t" | tr ' ' '\n' | grep . | median)
qm=$(echo "$qemu_t" | tr ' ' '\n' | grep . | median)
echo "memdump: $MIB MiB guest, median of $RUNS runs (runs, ms:$isim_t |$qemu_t |$two_t)"
echo "  isim-memdump (dump + SHA-256 in one pass):  $i ms"
echo "  QEMU to a file, then sha256sum:            $two ms   ratio $(ratio "$i" "$two") (target <= 0.30)"
echo "  QEMU to a file alone:                      $qm ms   ratio $(ratio "$i" "$qm") (target <= 1.10)"
