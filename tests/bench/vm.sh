#!/bin/sh
# isim-vm:
#  - start: `isim-vm start` until QMP is ready, against the same QEMU
#    command line started by a shell script that waits for QMP's greeting
#    (a firmware-only guest, so that QEMU's own start is what is timed);
#  - list: `isim-vm list` with 1,000 VMs recorded (target: under 50 ms);
#  - migrate: `isim-vm migrate` of an idle 512 MiB guest (firmware only) over
#    loopback to what `isim-vm receive` started, against QEMU's own migrate
#    issued by a minimal QMP script (Python's standard library: the same
#    capabilities and parameters, then query-migrate every 2 ms until it
#    completes) between two QEMUs started with the same command lines
#    (target: within 1.1x). isim-vm's is the command's whole run (its start,
#    the state, QMP, and the source's QEMU ended); the script's is timed by
#    its own clock from its connect to "completed", without the interpreter's
#    start (60-120 ms here, more than the migration). Its runs:
#    BENCH_MIGRATE_RUNS (default 5).
# Medians of BENCH_RUNS runs (default 10). No figure is asserted.
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
RUNS=${BENCH_RUNS:-10}
PATH=$ISIM_BIN:$PATH
command -v qemu-system-x86_64 >/dev/null 2>&1 || { echo "vm: skipped (no QEMU)"; exit 0; }
W=$B/vm
rm -rf "$W" && mkdir -p "$W" || exit 1
export ISIM_STATE_DIR="$W/state"
S2=$W/state2
# shellcheck disable=SC2016 # expanded when the trap runs
trap 'isim-vm destroy --force b1 >/dev/null 2>&1; isim-vm destroy --force m1 >/dev/null 2>&1
	ISIM_STATE_DIR=$S2 isim-vm destroy --force m1 >/dev/null 2>&1
	for f in "$W"/*.pid; do [ -s "$f" ] && kill "$(cat "$f")" 2>/dev/null; done' EXIT
ms() { echo $(($(date +%s%N) / 1000000)); }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

qemu-img create -q -f qcow2 "$W/blank.qcow2" 64M
isim-vm create b1 --image "$W/blank.qcow2" --memory 256 --net none >/dev/null || exit 1
# The command line isim-vm gives QEMU, without -daemonize and its pid file.
pid=$(isim-vm start b1 | jq -r .pid)
tr '\0' '\n' <"/proc/$pid/cmdline" | grep -v -e '^-daemonize$' -e '^-pidfile$' -e 'qemu.pid$' >"$W/argv"
isim-vm kill b1 >/dev/null
qmp=$ISIM_STATE_DIR/vms/b1/qmp.sock

plain_start() {
	rm -f "$qmp" "$ISIM_STATE_DIR/vms/b1/console.sock"
	# shellcheck disable=SC2046 # one argument a line
	(IFS='
' && exec $(cat "$W/argv")) >/dev/null 2>&1 &
	echo $! >"$W/plain.pid"
	until printf '' | socat -t 5 - "UNIX-CONNECT:$qmp" 2>/dev/null | grep -q '"QMP"'; do :; done
}
# Each start on a quiet machine: the QEMU before it has gone.
settle() {
	while pgrep -f "$qmp" >/dev/null; do sleep 0.05; done
	sleep 0.2
}
isim_times=""
plain_times=""
r=0
while [ $r -lt "$RUNS" ]; do
	t=$(ms)
	isim-vm start b1 >/dev/null || exit 1
	isim_times="$isim_times $(($(ms) - t))"
	isim-vm kill b1 >/dev/null
	settle
	t=$(ms)
	plain_start
	plain_times="$plain_times $(($(ms) - t))"
	kill "$(cat "$W/plain.pid")"
	wait "$(cat "$W/plain.pid")" 2>/dev/null
	: >"$W/plain.pid"
	settle
	r=$((r + 1))
done
a=$(echo "$isim_times" | tr ' ' '\n' | grep . | median)
b=$(echo "$plain_times" | tr ' ' '\n' | grep . | median)
echo "start to QMP ready: isim-vm start $a ms, QEMU by a script $b ms: $(ratio "$a" "$b")x"

# 1,000 VMs in the record (stopped: list looks at each one's QEMU anyway).
isim-vm destroy --force b1 >/dev/null
isim-vm create b1 --image "$W/blank.qcow2" --net none >/dev/null || exit 1
sqlite3 "$ISIM_STATE_DIR/vm.db" "
	WITH RECURSIVE n(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
	INSERT INTO vms (name, uuid, config, state, pid, created_at, started_at)
	SELECT 'b' || i, lower(hex(randomblob(16))), v.config, 'stopped', 0, v.created_at, 0
	FROM n, (SELECT config, created_at FROM vms WHERE name = 'b1') v;" || exit 1
[ "$(isim-vm list | jq length)" -eq 1000 ] || { echo "list: not 1,000 VMs"; exit 1; }
l=$(median_ms vm-list isim-vm list)
echo "list with 1,000 VMs: $l ms (target under 50 ms)"

# ---- migration: an idle 512 MiB guest over loopback --------------------------------
MRUNS=${BENCH_MIGRATE_RUNS:-5}
mport=$((40000 + $$ % 20000))
isim-vm destroy --force b1 >/dev/null
isim-vm create m1 --image "$W/blank.qcow2" --memory 512 --net none >/dev/null || exit 1
isim-vm show m1 >"$W/m1.json"
src=$ISIM_STATE_DIR/vms/m1
dst=$S2/vms/m1
# The minimal QMP client of the baseline: "incoming QMP URI" readies the
# destination; "migrate QMP URI" migrates, as isim-vm does, and polls.
cat >"$W/qmp.py" <<'PY'
import json, socket, sys, time

def connect(path):
    end = time.monotonic() + 30
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            break
        except OSError:
            s.close()
            if time.monotonic() > end:
                raise
            time.sleep(0.002)
    f = s.makefile("r")
    json.loads(f.readline())
    return s, f

n = 0
def cmd(s, f, name, args=None):
    global n
    n += 1
    m = {"execute": name, "id": n}
    if args is not None:
        m["arguments"] = args
    s.sendall(json.dumps(m).encode() + b"\n")
    while True:
        r = json.loads(f.readline())
        if r.get("id") == n:
            if "error" in r:
                sys.exit(name + ": " + r["error"]["desc"])
            return r["return"]

mode, path, uri = sys.argv[1:4]
t0 = time.monotonic()
s, f = connect(path)
cmd(s, f, "qmp_capabilities")
caps = [{"capability": c, "state": True} for c in ("events", "block", "return-path")]
cmd(s, f, "migrate-set-capabilities", {"capabilities": caps})
if mode == "incoming":
    cmd(s, f, "migrate-incoming", {"uri": uri})
    sys.exit(0)
cmd(s, f, "migrate-set-parameters", {"block-incremental": True, "max-bandwidth": 10**10 // 8})
cmd(s, f, "migrate", {"uri": uri})
while True:
    st = cmd(s, f, "query-migrate").get("status")
    if st == "completed":
        print(round((time.monotonic() - t0) * 1000))
        sys.exit(0)
    if st in ("failed", "cancelled"):
        sys.exit("migration " + st)
    time.sleep(0.002)
PY
# Both command lines, as isim-vm start and receive give them to QEMU, the
# plain QEMUs' files in folders of their own.
pid=$(isim-vm start m1 | jq -r .pid) || exit 1
tr '\0' '\n' <"/proc/$pid/cmdline" | sed "s|$src/|$W/psrc/|g" >"$W/src.argv"
pid=$(ISIM_STATE_DIR=$S2 isim-vm receive m1 --listen "127.0.0.1:$mport" --from "$W/m1.json" | jq -r .pid) || exit 1
tr '\0' '\n' <"/proc/$pid/cmdline" | sed "s|$dst/|$W/pdst/|g" >"$W/dst.argv"
grep -qx -- -incoming "$W/dst.argv" || { echo "migrate: the receiver has no -incoming"; exit 1; }
isim-vm kill m1 >/dev/null
ISIM_STATE_DIR=$S2 isim-vm destroy --force m1 >/dev/null
rm -rf "$W/psrc" "$W/pdst" && mkdir "$W/psrc" "$W/pdst" || exit 1
cp "$src/cidata.iso" "$W/psrc/" && cp "$src/cidata.iso" "$W/pdst/" || exit 1

# plain_qemu ARGV PIDFILE: one of the two plain QEMUs, in the background.
plain_qemu() {
	# shellcheck disable=SC2046 # one argument a line
	(IFS='
' && exec $(cat "$1")) >/dev/null 2>&1 &
	echo $! >"$2"
}
plain_stop() {
	for f in "$W/psrc.pid" "$W/pdst.pid"; do
		[ -s "$f" ] || continue
		kill "$(cat "$f")" 2>/dev/null
		wait "$(cat "$f")" 2>/dev/null
		: >"$f"
	done
}
msettle() {
	while pgrep -f "$src/qmp.sock|$dst/qmp.sock|$W/psrc/qmp.sock|$W/pdst/qmp.sock" >/dev/null; do sleep 0.05; done
	sleep 0.2
}
isim_times=""
plain_times=""
r=0
while [ $r -lt "$MRUNS" ]; do
	isim-vm start m1 >/dev/null || exit 1
	ISIM_STATE_DIR=$S2 isim-vm receive m1 --listen "127.0.0.1:$mport" --from "$W/m1.json" >/dev/null || exit 1
	t=$(ms)
	isim-vm migrate m1 --to "127.0.0.1:$mport" >"$W/migrate.json" || exit 1
	isim_times="$isim_times $(($(ms) - t))"
	ISIM_STATE_DIR=$S2 isim-vm destroy --force m1 >/dev/null
	msettle
	for d in psrc pdst; do
		rm -f "$W/$d/disk.qcow2" "$W/$d/qmp.sock" "$W/$d/console.sock" "$W/$d/console.log"
		qemu-img create -q -f qcow2 -F qcow2 -b "$W/blank.qcow2" "$W/$d/disk.qcow2" || exit 1
	done
	plain_qemu "$W/src.argv" "$W/psrc.pid"
	plain_qemu "$W/dst.argv" "$W/pdst.pid"
	/usr/bin/python3 "$W/qmp.py" incoming "$W/pdst/qmp.sock" "tcp:127.0.0.1:$mport" || exit 1
	until printf '' | socat -t 5 - "UNIX-CONNECT:$W/psrc/qmp.sock" 2>/dev/null | grep -q '"QMP"'; do :; done
	p=$(/usr/bin/python3 "$W/qmp.py" migrate "$W/psrc/qmp.sock" "tcp:127.0.0.1:$mport") || exit 1
	plain_times="$plain_times $p"
	plain_stop
	msettle
	r=$((r + 1))
done
a=$(echo "$isim_times" | tr ' ' '\n' | grep . | median)
b=$(echo "$plain_times" | tr ' ' '\n' | grep . | median)
echo "migrate, idle 512 MiB guest over loopback: isim-vm migrate $a ms, QEMU's migrate by a QMP script $b ms: $(ratio "$a" "$b")x (target within 1.1x; runs:$isim_times /$plain_times ms)"
