#!/bin/sh
# isim-vm against real QEMU (TCG) and the image isim-build makes, with
# its state in a real SQLite file: create (an overlay and a cloud-init
# seed whose user-data the guest visibly applies), start, wait for a
# console line, pause and resume (QMP says so), stop by ACPI, QEMU killed
# behind isim-vm's back and isim-vm killed mid-command (list stays true),
# commands on one VM taking turns, live migration to a second state folder
# (the guest runs on there), destroy, and the image untouched.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

image_tests
command -v qemu-system-x86_64 >/dev/null 2>&1 || { skip "isim-vm runs QEMU" "qemu-system-x86 is not installed"; finish; exit; }
p=no-vpn-minimal
UP=${ISIM_BOOT_SECONDS:-600}
S=$T/state
export ISIM_STATE_DIR="$S"
vmpids=""
cleanup_vms() {
	for q in $(jq -r '.[].pid // empty' "$T/list.json" 2>/dev/null) $vmpids; do
		kill -9 "-$q" 2>/dev/null
		kill -9 "$q" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup_vms EXIT
# vmlist: isim-vm list, kept for the cleanup.
vmlist() { isim-vm list >"$T/list.json" && cat "$T/list.json"; }
field() { jq -r "$1" "$T/out"; }
# gone PID: no such process, or a zombie nobody reaped yet.
gone() { [ ! -e "/proc/$1" ] || [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" = Z ]; }

isim-compose -q -o "$T/comp" "$p"
expect 0 "builds $p on debian:bookworm" isim-build --base debian:bookworm -q -o "$T/img" "$T/comp"
img=$T/img/$p.qcow2
before=$(sha256sum <"$img")
isim-sign keygen -W -o "$T/signer" >/dev/null
port=$((20000 + $$ % 20000))
cat >"$T/user-data" <<'UD'
#cloud-config
write_files:
  - path: /etc/isim-vm-test
    content: "written by cloud-init from isim-vm's seed\n"
bootcmd:
  - [sh, -c, "echo isim-vm-boot marker=$(cat /root/marker 2>/dev/null || echo none) > /dev/console"]
runcmd:
  - [sh, -c, "echo isim-vm-marker host=$(hostname) file=$(cat /etc/isim-vm-test | wc -c) > /dev/console"]
  - [sh, -c, "setsid sh -c 'exec sh -i </dev/ttyS0 >/dev/ttyS0 2>&1' >/dev/null 2>&1 &"]
UD

# ---- create --------------------------------------------------------------------
expect 0 "create: an overlay on the image and a seed" isim-vm create web1 --image "$img" --memory 768 \
	--forward "tcp:127.0.0.1:$port:22" --user-data "$T/user-data" --input "trusted_signer=$T/signer.pub"
same "... the VM is stopped" stopped "$(field .state)"
same "... with its memory and forward" "768 $port 22" "$(field '"\(.memory_mib) \(.forwards[0].host_port) \(.forwards[0].guest_port)"')"
same "... a uuid" 1 "$(field .uuid | grep -cE '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$')"
disk=$(field .disk)
check "... its disk is a qcow2 overlay backed by the image" sh -c \
	"qemu-img info --output=json '$disk' | jq -e --arg b '$img' '.format == \"qcow2\" and .\"backing-filename\" == \$b' >/dev/null"
check "... qemu-img check passes on it" qemu-img check -q "$disk"
check "... the seed is an ISO 9660 volume 'cidata'" sh -c "file -b '$(field .seed)' | grep -qi \"ISO 9660 CD-ROM filesystem data 'cidata'\""
expect 73 "create again: the name is taken" isim-vm create web1 --image "$img"
contains "... and says so" "$T/err" "a VM 'web1' exists already"
same "list: one VM, stopped" "web1 stopped" "$(vmlist | jq -r '.[] | "\(.name) \(.state)"')"

# ---- start, wait, the guest applied the user-data ------------------------------------
expect 0 "start" isim-vm start web1
same "... running" running "$(field .state)"
pid=$(field .pid)
vmpids="$vmpids $pid"
check "... its QEMU is alive (pid $pid)" kill -0 "$pid"
check "... in a session of its own" sh -c "[ \"\$(ps -o sid= -p $pid | tr -d ' ')\" != \"\$(ps -o sid= -p $$ | tr -d ' ')\" ]"
# The default, auto, must not pick the KVM that fails on these machines.
check "... with TCG, never KVM" grep -q 'accel=tcg' "/proc/$pid/cmdline"
same "... as show says" "auto tcg" "$(isim-vm show web1 | jq -r '"\(.accel) \(.accel_used)"')"
expect 0 "start again: it runs already, left as it is" isim-vm start web1
same "... the same QEMU" "$pid" "$(field .pid)"
expect 0 "wait --for 'SELFTEST END': the guest booted and ran its selftests" \
	isim-vm wait web1 --for "SELFTEST END" --timeout "$UP"
same "... the line it saw" "true" "$(field '.reached and (.line | test("SELFTEST END"))')"
expect 0 "wait for the user-data's line" isim-vm wait web1 --for isim-vm-marker --timeout 120
same "... cloud-init applied the seed: hostname and write_files" "isim-vm-marker host=web1 file=42" "$(field .line)"
expect 0 "console --log holds what the guest printed" isim-vm console web1 --log
contains "... the selftests' summary" "$T/out" "SELFTEST END status=0"

# ---- snapshots, with a marker file the guest writes -----------------------------------
# guest_sh COMMAND: typed into the shell the user-data left on the serial
# console; what it prints lands in the console's log.
guest_sh() { printf '%s\n' "$1" | isim-vm console web1 >/dev/null; }
# shellcheck disable=SC2016 # the guest's shell expands it
guest_sh 'echo before >/root/marker; sync; echo "MARK-$((40 + 2))"'
expect 0 "console: a command typed into the guest's shell ran" isim-vm wait web1 --for MARK-42 --timeout 120
# On a terminal (a pty): keys go through raw, Ctrl-] leaves, and the
# terminal's settings are put back as they were.
/usr/bin/python3 - "$T/tty.out" <<'PY'
import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execvp("sh", ["sh", "-c", "stty -g; isim-vm console web1; echo rc=$?; stty -g"])
buf = b""
def until(pat, secs):
    global buf
    end = time.time() + secs
    while pat not in buf and time.time() < end:
        if select.select([fd], [], [], 0.2)[0]:
            try:
                d = os.read(fd, 4096)
            except OSError:
                break
            if not d:
                break
            buf += d
    return pat in buf
time.sleep(1)
os.write(fd, b'echo "TTY-$((40 + 5))"\r')
until(b"TTY-45", 120)
os.write(fd, b"\x1d")
until(b"rc=", 20)
until(b"\nEND-NEVER", 2)
os.waitpid(pid, 0)
open(sys.argv[1], "wb").write(buf)
PY
contains "console on a terminal: what was typed ran in the guest" "$T/tty.out" "TTY-45"
contains "... Ctrl-] left it, exit 0" "$T/tty.out" "rc=0"
same "... the terminal's settings are as they were" "$(head -n 1 "$T/tty.out" | tr -d '\r')" \
	"$(sed -n '/rc=/{n;p;}' "$T/tty.out" | tr -d '\r')"
expect 0 "snapshot create of the running VM" isim-vm snapshot create web1 s1
same "... with its memory" "s1 true" "$(field '"\(.tag) \(.vmstate)"')"
check "... qemu-img lists it in the overlay" sh -c "qemu-img snapshot -l -U '$disk' | grep -q ' s1 '"
# shellcheck disable=SC2016 # the guest's shell expands it
guest_sh 'echo after >/root/marker; sync; echo "CHANGED-$((40 + 3))"'
expect 0 "... the guest changes the marker after it" isim-vm wait web1 --for CHANGED-43 --timeout 120
expect 64 "snapshot revert of a running VM: refused without --force" isim-vm snapshot revert web1 s1
contains "... saying what it would lose" "$T/err" "reverting loses what it did since 's1'"
expect 0 "snapshot revert --force" isim-vm snapshot revert web1 s1 --force
# shellcheck disable=SC2016 # the guest's shell expands it
guest_sh 'echo "NOW-$(cat /root/marker)-$((40 + 4))"'
expect 0 "... the guest's marker is the one of the snapshot" isim-vm wait web1 --for NOW-before-44 --timeout 120
expect 0 "qmp: query-status after the revert" isim-vm qmp web1 '{"execute":"query-status"}'
same "... it runs" running "$(field .status)"
expect 0 "snapshot list" isim-vm snapshot list web1
same "... s1, with memory" "s1 true" "$(field '.[] | "\(.tag) \(.vmstate)"')"
expect 73 "snapshot create of a tag that exists" isim-vm snapshot create web1 s1
expect 0 "snapshot delete" isim-vm snapshot delete web1 s1
expect 0 "... list" isim-vm snapshot list web1
same "... none left" 0 "$(field length)"
check "... nor in the overlay" sh -c "! qemu-img snapshot -l -U '$disk' | grep -q ' s1 '"
# ---- an attested memory dump of the booted guest ---------------------------------------------
# The marker exists only as the guest's shell expands it, in the guest's RAM.
# shellcheck disable=SC2016 # the guest's shell expands it
guest_sh 'd=/dev/shm; [ -d $d ] || d=/run; echo "isim-$((6 * 7))-ram-marker" >$d/marker; echo "MEM-$((40 + 8))"'
expect 0 "... the guest keeps a marker in its memory" isim-vm wait web1 --for MEM-48 --timeout 120
if command -v isim-memdump >/dev/null 2>&1; then
	expect 0 "isim-memdump of the running VM" isim-memdump web1 -o "$T/web1.elf" -k "$T/signer" --operator ci
	same "... the record's digest is sha256sum's" "$(sha256sum <"$T/web1.elf" | cut -d' ' -f1)" "$(field .record.dump.sha256)"
	same "... of the VM" "web1 $(isim-vm show web1 | jq -r .uuid)" "$(field '"\(.record.vm.name) \(.record.vm.uuid)"')"
	check "... readelf reads an x86-64 core" sh -c "readelf -h '$T/web1.elf' | grep -q 'Advanced Micro Devices X86-64'"
	check "... the guest's marker is in the dump" grep -aqF "isim-42-ram-marker" "$T/web1.elf"
	expect 0 "... isim-memdump verify: the dump, its signed record, the audit log" \
		isim-memdump verify "$T/web1.elf" --pub "$T/signer.pub"
	expect 0 "... the guest runs on after it" isim-vm qmp web1 '{"execute":"query-status"}'
	same "... running" running "$(field .status)"
	rm -f "$T/web1.elf"
else
	skip "isim-memdump of the running VM" "isim-memdump is not built"
fi
# An external snapshot: the disk frozen as a layer while the guest runs,
# the guest changes the marker after it, and a revert --force restarts the
# guest on the frozen disk, which its boot (cloud-init's bootcmd) prints.
# shellcheck disable=SC2016 # the guest's shell expands it
guest_sh 'echo ext-before >/root/marker; sync; echo "EXT-$((40 + 6))"'
expect 0 "... the guest writes the marker before an external snapshot" isim-vm wait web1 --for EXT-46 --timeout 120
expect 0 "snapshot create --external of the running VM" isim-vm snapshot create web1 e1 --external
same "... disk only, its layer the overlay create made" "true false disk.qcow2" \
	"$(field '"\(.external) \(.vmstate) \(.layer)"')"
# shellcheck disable=SC2016 # the guest's shell expands it
guest_sh 'echo ext-after >/root/marker; sync; echo "EXT-$((40 + 7))"'
expect 0 "... the guest changes the marker after it" isim-vm wait web1 --for EXT-47 --timeout 120
expect 0 "snapshot revert --force to it" isim-vm snapshot revert web1 e1 --force
expect 0 "... the guest boots again on the frozen disk" isim-vm wait web1 --for "SELFTEST END" --timeout "$UP"
expect 0 "... whose marker is the one of the snapshot" isim-vm wait web1 --for "isim-vm-boot marker=" --timeout 60
same "... as the guest reads it at boot" "isim-vm-boot marker=ext-before" "$(field .line | tr -d '\r')"
pid=$(isim-vm show web1 | jq -r .pid)
vmpids="$vmpids $pid"
expect 0 "snapshot delete of it, the VM running: its layer streamed into the top" isim-vm snapshot delete web1 e1
top=$(isim-vm show web1 | jq -r .disk)
same "... the top lies on the image again" "$img" "$(qemu-img info -U --output=json "$top" | jq -r '."backing-filename"')"
check "... the overlay create made is gone" test ! -e "$disk"

# ---- pause and resume --------------------------------------------------------------------
expect 0 "pause" isim-vm pause web1
same "... paused" paused "$(field .state)"
expect 0 "qmp: query-status" isim-vm qmp web1 '{"execute":"query-status"}'
same "... QEMU says paused" "paused false" "$(field '"\(.status) \(.running)"')"
expect 0 "resume" isim-vm resume web1
same "... running" running "$(field .state)"
expect 0 "qmp: query-status again" isim-vm qmp web1 '{"execute":"query-status"}'
same "... QEMU says running" "running true" "$(field '"\(.status) \(.running)"')"
expect 1 "qmp: a command QEMU refuses is a negative answer" isim-vm qmp web1 '{"execute":"no-such-command"}'
contains "... with QEMU's error" "$T/err" "CommandNotFound"

# ---- commands on one VM take turns -------------------------------------------------------
isim-vm stop web1 --timeout 120 >"$T/stop.out" 2>"$T/stop.err" &
stopper=$!
sleep 0.5
expect 0 "start while a stop runs: it waits its turn, then starts" isim-vm start web1
wait $stopper
same "... the stop powered the guest off by ACPI" powerdown "$(jq -r .stopped_by "$T/stop.out")"
pid2=$(field .pid)
vmpids="$vmpids $pid2"
check "... and the start made a new QEMU ($pid2)" test "$pid2" != "$pid"
check "... the old one is gone" gone "$pid"

# ---- QEMU killed behind isim-vm's back -------------------------------------------------------
kill -9 "$pid2"
sleep 0.5
same "QEMU killed -9: list says stopped" "web1 stopped" "$(vmlist | jq -r '.[] | "\(.name) \(.state)"')"
expect 0 "show" isim-vm show web1
same "... and the correction is recorded" ended "$(field '.operations[-1].op')"

# ---- isim-vm killed mid-command ------------------------------------------------------------------
isim-vm create web2 --image "$img" >/dev/null 2>&1 &
k=$!
sleep 0.2
kill -9 "$k" 2>/dev/null
wait "$k" 2>/dev/null
consistent() {
	vmlist >/dev/null || return 1
	if jq -e '.[] | select(.name == "web2")' "$T/list.json" >/dev/null; then
		[ -f "$S/vms/web2/disk.qcow2" ] && [ -f "$S/vms/web2/cidata.iso" ]
	else
		[ ! -e "$S/vms/web2" ]
	fi
}
check "isim-vm create killed -9: list is consistent with the folders" consistent
# Killed before or after it was done: either way the name can be made.
isim-vm destroy web2 >/dev/null 2>&1
expect 0 "... and a new create of that name works" isim-vm create web2 --image "$img" --net none
check "... leaving no staging folder" sh -c "! ls -A '$S/vms' | grep -q '^\.web2'"
expect 0 "start web2" isim-vm start web2
vmpids="$vmpids $(field .pid)"
isim-vm stop web2 --timeout 300 >/dev/null 2>&1 &
k=$!
sleep 1
kill -9 "$k"
wait "$k" 2>/dev/null
check "isim-vm stop killed -9 mid-way: list is consistent with the QEMU that runs" sh -c "
	isim-vm list | jq -r '.[] | select(.name == \"web2\") | \"\(.state) \(.pid)\"' | {
		read -r st pid
		if [ \"\$st\" = stopped ]; then true; else kill -0 \"\$pid\"; fi
	}"

# ---- live migration, between two state folders over loopback -----------------------
expect 0 "start web1 again" isim-vm start web1
vmpids="$vmpids $(field .pid)"
expect 0 "... booted" isim-vm wait web1 --for "SELFTEST END" --timeout "$UP"
expect 1 "migrate to where nothing listens: it fails" isim-vm migrate web1 --to "127.0.0.1:$((port + 3))"
contains "... and says the VM still runs here" "$T/err" "it still runs here"
expect 0 "... qmp: query-status" isim-vm qmp web1 '{"execute":"query-status"}'
same "... it does" running "$(field .status)"
S2=$T/state2
isim-vm show web1 >"$T/web1.json"
mport=$((port + 2))
expect 0 "receive: the VM made from web1's description, waiting for it" \
	env ISIM_STATE_DIR="$S2" isim-vm receive web1 --listen "127.0.0.1:$mport" --from "$T/web1.json" \
	--forward "tcp:127.0.0.1:$((port + 1)):22"
same "... listening" "127.0.0.1:$mport" "$(field .listen)"
vmpids="$vmpids $(field .pid)"
expect 0 "migrate web1 there" isim-vm migrate web1 --to "127.0.0.1:$mport"
same "... completed" completed "$(field .status)"
expect 0 "show web1 here" isim-vm show web1
same "... stopped, the operation saying where it went" "stopped migrate to 127.0.0.1:$mport" \
	"$(field '"\(.state) \(.operations[-1].op) \(.operations[-1].detail)"')"
expect 0 "show web1 there" env ISIM_STATE_DIR="$S2" isim-vm show web1
same "... running, the same uuid" "running $(jq -r .uuid "$T/web1.json")" "$(field '"\(.state) \(.uuid)"')"
expect 0 "the guest kept running there: it powers off by ACPI on the destination" \
	env ISIM_STATE_DIR="$S2" isim-vm stop web1 --timeout 120
same "... by powerdown" powerdown "$(field .stopped_by)"
expect 0 "destroy it there" env ISIM_STATE_DIR="$S2" isim-vm destroy web1

# ---- an appliance of the stopped VM, on the image isim-build made ---------------------
expect 0 "appliance of web1, signed" isim-vm appliance web1 -o "$T/web1.tar.gz" -k "$T/signer"
expect 0 "... isim-verify appliance checks it" isim-verify appliance --pub "$T/signer.pub" "$T/web1.tar.gz"
same "... the manifest has the image's digest and its provenance's" \
	"$(sha256sum <"$img" | cut -d' ' -f1) $(sha256sum <"$T/img/$p.provenance.json" | cut -d' ' -f1)" \
	"$(tar -xzOf "$T/web1.tar.gz" manifest.json | jq -r '"\(.image.sha256) \(.image.provenance_sha256)"')"
same "... no wg0.conf: the image has no mesh" "" "$(tar -tzf "$T/web1.tar.gz" | grep wireguard)"
tar -xzOf "$T/web1.tar.gz" disk.qcow2 >"$T/web1-disk.qcow2"
check "... its disk is qemu-img check clean, with no backing file" sh -c \
	"qemu-img check -q '$T/web1-disk.qcow2' && ! qemu-img info '$T/web1-disk.qcow2' | grep -q backing"
rm -f "$T/web1-disk.qcow2" "$T/web1.tar.gz"

# ---- destroy ------------------------------------------------------------------------------------------
expect 0 "start web1 here again" isim-vm start web1
vmpids="$vmpids $(field .pid)"
expect 69 "destroy a running VM: refused without --force" isim-vm destroy web1
contains "... saying why" "$T/err" "VM 'web1' is running"
expect 0 "destroy --force" isim-vm destroy web1 --force
same "... destroyed" true "$(field .destroyed)"
check "... its folder is gone" test ! -e "$S/vms/web1"
expect 0 "destroy web2" isim-vm destroy web2 --force
same "list: no VM" 0 "$(vmlist | jq length)"
expect 66 "show of a destroyed VM" isim-vm show web1
same "the image was never written" "$before" "$(sha256sum <"$img")"
finish
