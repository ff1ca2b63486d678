#!/bin/sh
# isim-vm's external snapshots against real QEMU (TCG) and qemu-img, on a
# blank qcow2 image (firmware only, so QEMU runs within a second): the disk
# is written at chosen offsets through QEMU's own block layer (HMP
# qemu-io on the disk's device) while the VM runs, and by qemu-io while it
# is stopped, and every layer's content is read back by qemu-io. Checked:
# each snapshot's layer holds the disk as it was when it was taken, the
# running QEMU writes to the new top at once and keeps every layer's file
# open by the right name, reverts and deletes (block-stream when running,
# qemu-img rebase when stopped) leave the disk reading what it should and
# the chain qemu-img check clean, internal snapshots live on in the layers
# they were taken in, and every refusal says why and changes nothing.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

for x in jq isim-vm qemu-img qemu-io qemu-system-x86_64 timeout; do
	if ! command -v "$x" >/dev/null 2>&1; then
		echo "1..0 # SKIP $x is not installed"
		exit 0
	fi
done
S=$T/s
export ISIM_STATE_DIR="$S"
cleanup() {
	for q in $(isim-vm list 2>/dev/null | jq -r '.[].pid // empty' 2>/dev/null); do
		kill -9 "-$q" 2>/dev/null
		kill -9 "$q" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT
vm() { timeout 120 isim-vm "$@"; }
field() { jq -r "$1" "$T/out"; }
top() { vm show x1 | jq -r .disk; }
# hmp COMMAND: a qemu-io command on the running VM's disk, as the guest
# would write it (through the device's block backend).
hmp() {
	vm qmp x1 "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"qemu-io virtio0 \\\"$1\\\"\"}}"
}
# has FILE PATTERN OFFSET: the disk through FILE has 4 KiB of PATTERN there.
has() { qemu-io -r -U -c "read -P $2 $3 4k" "$1" >"$T/io" 2>&1 && grep -q '^read 4096' "$T/io" && ! grep -q 'Pattern verification failed' "$T/io"; }
# reads FILE: which of the patterns 41..44 the disk through FILE has at 1
# MiB, and whether 51 is at 2 MiB ("41 51", say).
reads() {
	r_out=""
	for r_p in 41 42 43 44; do
		has "$1" "0x$r_p" 1M && r_out="$r_out $r_p"
	done
	has "$1" 0x51 2M && r_out="$r_out 51"
	echo "${r_out# }"
}
# chain FILE: the file names of the backing chain from FILE down.
chain() { qemu-img info -U --backing-chain --output=json "$1" | jq -r '[.[].filename | sub(".*/"; "")] | join(" ")'; }
# open_layers PID: the names of the qcow2 files QEMU has open, and how (rw or ro).
open_layers() {
	for o_fd in /proc/"$1"/fd/*; do
		o_l=$(readlink "$o_fd") || continue
		case $o_l in *.qcow2) ;; *) continue ;; esac
		o_flags=$(sed -n 's/^flags:[[:space:]]*//p' "/proc/$1/fdinfo/${o_fd##*/}")
		case $(((0$o_flags) & 3)) in 2) echo "${o_l##*/}:rw" ;; *) echo "${o_l##*/}:ro" ;; esac
	done | sort | tr '\n' ' '
}

qemu-img create -q -f qcow2 "$T/blank.qcow2" 64M
before=$(sha256sum <"$T/blank.qcow2")
vm create x1 --image "$T/blank.qcow2" --net none >/dev/null
expect 0 "start a VM on a blank image" vm start x1
pid=$(field .pid)

# ---- create, running ---------------------------------------------------------------------
hmp "write -P 0x41 1M 4k" >/dev/null
expect 0 "snapshot create --external of the running VM" vm snapshot create x1 e1 --external
same "... external, disk only, in the layer that was the top" "true false disk.qcow2" \
	"$(field '"\(.external) \(.vmstate) \(.layer)"')"
check "... its size is the layer's file's" test "$(field .size)" = "$(($(stat -c %b "$S/vms/x1/disk.qcow2") * 512))"
t1=$(top)
same "... the VM's disk is a new top layer over it, then the image" "${t1##*/} disk.qcow2 blank.qcow2" "$(chain "$t1")"
same "... QEMU writes the new top and only reads the frozen one" \
	"$(printf '%s\n' "${t1##*/}:rw" blank.qcow2:ro disk.qcow2:ro | sort | tr '\n' ' ')" \
	"$(open_layers "$pid")"
hmp "write -P 0x42 1M 4k" >/dev/null
hmp "write -P 0x51 2M 4k" >/dev/null
same "... what the VM writes after it goes to the top" "42 51" "$(reads "$t1")"
same "... the frozen layer holds the disk as it was" "41" "$(reads "$S/vms/x1/disk.qcow2")"
expect 0 "an internal snapshot on top of it, running" vm snapshot create x1 s2
same "... with memory, in the top layer" "false true null" "$(field '"\(.external) \(.vmstate) \(.layer)"')"
check "... qemu-img lists it in the top" sh -c "qemu-img snapshot -l -U '$t1' | grep -q ' s2 '"
expect 0 "a second external snapshot, running" vm snapshot create x1 e2 --external
t2=$(top)
same "... a chain of three layers" "${t2##*/} ${t1##*/} disk.qcow2 blank.qcow2" "$(chain "$t2")"
same "... QEMU has each open by its own name, only the top to write" \
	"$(printf '%s\n' "${t2##*/}:rw" "${t1##*/}:ro" blank.qcow2:ro disk.qcow2:ro | sort | tr '\n' ' ')" \
	"$(open_layers "$pid")"
hmp "write -P 0x43 1M 4k" >/dev/null
expect 0 "snapshot list" vm snapshot list x1
same "... oldest first; s2 now lives in the layer e2 froze" \
	"e1 true disk.qcow2|s2 false ${t1##*/}|e2 true ${t1##*/}" \
	"$(field '[.[] | "\(.tag) \(.external) \(.layer)"] | join("|")')"

# ---- what is refused, and changes nothing ---------------------------------------------------
# layers: the qcow2 files in the VM's folder.
layers() { (cd "$S/vms/x1" && for l in *.qcow2; do printf '%s ' "$l"; done); }
state() { echo "$(vm snapshot list x1 | jq -c 'map(.tag)') $(top) $(layers)"; }
s0=$(state)
expect 64 "revert to e1: e2 was taken over its layer" vm snapshot revert x1 e1 --force
contains "... says so" "$T/err" "snapshot 'e2' was taken after 'e1', over its layer (delete it first)"
expect 64 "revert to s2: it is in a frozen layer" vm snapshot revert x1 s2 --force
contains "... says which" "$T/err" "snapshot 's2' is in the layer that external snapshot 'e2' froze"
expect 64 "delete e2: s2 lives in its layer" vm snapshot delete x1 e2
contains "... says so" "$T/err" "snapshot 's2' lives in the layer of 'e2'"
expect 64 "delete s2 while QEMU holds its layer" vm snapshot delete x1 s2
contains "... says to stop the VM" "$T/err" "stop VM 'x1' first"
expect 64 "revert to e2 while running, without --force" vm snapshot revert x1 e2
contains "... says what it would lose" "$T/err" "reverting loses what it did since 'e2'"
expect 73 "create --external of a tag that exists" vm snapshot create x1 e1 --external
expect 64 "--external is for create" vm snapshot revert x1 e1 --external
expect 64 "migrate: the destination would lack the frozen layers" vm migrate x1 --to 127.0.0.1:9
contains "... says so" "$T/err" "has external snapshots"
same "... none of them changed the snapshots, the disk or its files" "$s0" "$(state)"
check "... and the VM runs on, the same QEMU" kill -0 "$pid"

# ---- delete, running: the layer streamed into the one over it -----------------------------------
expect 0 "delete e1 while running (its layer under another)" vm snapshot delete x1 e1
same "... the chain is one layer shorter" "${t2##*/} ${t1##*/} blank.qcow2" "$(chain "$t2")"
check "... its file is gone" test ! -e "$S/vms/x1/disk.qcow2"
same "... the disk reads the same" "43 51" "$(reads "$t2")"
same "... and e2's layer still holds the disk as it was at e2" "42 51" "$(reads "$t1")"
check "... qemu-img check passes on the chain" qemu-img check -U -q "$t2"
check "... the same QEMU runs" kill -0 "$pid"

# ---- revert, running, --force: restarted on the snapshot -----------------------------------------------
expect 64 "delete s2, VM stopped first" vm snapshot delete x1 s2 # still running: refused
vm stop x1 --timeout 1 >/dev/null
expect 0 "delete s2 in a frozen layer, the VM stopped" vm snapshot delete x1 s2
check "... gone from the layer" sh -c "! qemu-img snapshot -l -U '$t1' | grep -q ' s2 '"
vm start x1 >/dev/null
expect 0 "revert --force to e2 while running" vm snapshot revert x1 e2 --force
expect 0 "... show" vm show x1
t3=$(field .disk)
same "... running again, on a new top over e2's layer" "running ${t3##*/} ${t1##*/} blank.qcow2" \
	"$(field .state) $(chain "$t3")"
check "... a new QEMU" test "$(field .pid)" != "$pid"
pid=$(field .pid)
same "... the disk reads what it did at e2" "42 51" "$(reads "$t3")"
check "... the old top is removed" test ! -e "$t2"
same "... show records the stop, the start and the revert" "stop start snapshot revert" \
	"$(field '[.operations[-3:][] | .op] | join(" ")')"

# ---- stopped: create, delete (qemu-img rebase), revert ----------------------------------------
vm kill x1 >/dev/null
qemu-io -c "write -P 0x44 1M 4k" "$t3" >/dev/null
expect 0 "snapshot create --external of the stopped VM" vm snapshot create x1 e3 --external
t4=$(top)
same "... a new top over the old" "${t4##*/} ${t3##*/} ${t1##*/} blank.qcow2" "$(chain "$t4")"
qemu-io -c "write -P 0x43 1M 4k" "$t4" >/dev/null
expect 0 "delete e3, stopped: its layer folded into the top" vm snapshot delete x1 e3
same "... the chain is one shorter" "${t4##*/} ${t1##*/} blank.qcow2" "$(chain "$t4")"
same "... the disk reads the same" "43 51" "$(reads "$t4")"
check "... its file is gone" test ! -e "$t3"
expect 0 "revert to e2, stopped" vm snapshot revert x1 e2
t5=$(top)
same "... the disk reads what it did at e2" "42 51" "$(reads "$t5")"
expect 0 "delete e2, the last external snapshot" vm snapshot delete x1 e2
same "... the top lies on the image again" "${t5##*/} blank.qcow2" "$(chain "$t5")"
same "... reading the same" "42 51" "$(reads "$t5")"
check "... qemu-img check passes" qemu-img check -q "$t5"
same "... one qcow2 file left in the VM's folder" "${t5##*/} " "$(layers)"
expect 0 "it starts on it" vm start x1
vm kill x1 >/dev/null
expect 0 "an appliance of it has the disk as the VM reads it" vm appliance x1 -o "$T/x1.tar.gz" --force
tar -xzOf "$T/x1.tar.gz" disk.qcow2 >"$T/x1-disk.qcow2"
same "... flattened" "42 51 x1-disk.qcow2" "$(reads "$T/x1-disk.qcow2") $(chain "$T/x1-disk.qcow2")"

expect 0 "destroy" vm destroy x1
same "the image was never written" "$before" "$(sha256sum <"$T/blank.qcow2")"
finish
