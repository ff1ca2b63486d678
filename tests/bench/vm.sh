#!/bin/sh
# isim-vm:
#  - start: `isim-vm start` until QMP is ready, against the same QEMU
#    command line started by a shell script that waits for QMP's greeting
#    (a firmware-only guest, so that QEMU's own start is what is timed);
#  - list: `isim-vm list` with 1,000 VMs recorded (target: under 50 ms).
# Medians of BENCH_RUNS runs (default 10). No figure is asserted.
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
RUNS=${BENCH_RUNS:-10}
PATH=$ISIM_BIN:$PATH
command -v qemu-system-x86_64 >/dev/null 2>&1 || { echo "vm: skipped (no QEMU)"; exit 0; }
W=$B/vm
rm -rf "$W" && mkdir -p "$W" || exit 1
export ISIM_STATE_DIR="$W/state"
trap 'isim-vm destroy --force b1 >/dev/null 2>&1; [ -s "$W/plain.pid" ] && kill "$(cat "$W/plain.pid")" 2>/dev/null' EXIT
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
