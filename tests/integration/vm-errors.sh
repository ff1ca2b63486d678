#!/bin/sh
# isim-vm's bad input, one case at a time: each gets the exit code its
# --help gives, one line on stderr from isim-vm naming the VM, file, option
# or value, nothing on stdout, and leaves the state as it found it: the
# same VMs in isim-vm list, the same folders under STATE/vms (no staging
# .NAME.new), and no lock file for a VM that does not exist. The images are
# blank qcow2 files (firmware only, which boots in a second); every QEMU
# runs with its state under $T and is killed at exit, and the read-only
# state is a tmpfs (root only) unmounted at exit.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

for x in jq isim-vm qemu-img timeout; do
	if ! command -v "$x" >/dev/null 2>&1; then
		echo "1..0 # SKIP $x is not installed"
		exit 0
	fi
done
have_qemu=no
command -v qemu-system-x86_64 >/dev/null 2>&1 && have_qemu=yes

S=$T/s
F=$T/f
RO=$T/ro
export ISIM_STATE_DIR="$S"
qpids=""
socat_pid=""
mounted=no

# kill_qemus: every QEMU this test started, and the process group of each
# where it leads one: the pids the states list, those recorded, and any
# QEMU whose command line names a file under $T.
kill_qemus() {
	for d in "$S" "$T"/*; do
		[ -f "$d/vm.db" ] || continue
		qpids="$qpids $(isim-vm list --state-dir "$d" 2>/dev/null | jq -r '.[].pid // empty' 2>/dev/null)"
	done
	for p in /proc/[0-9]*; do
		read -r k_comm <"$p/comm" 2>/dev/null || continue
		case $k_comm in
		qemu-system*) tr '\0' '\n' <"$p/cmdline" 2>/dev/null | grep -qF "$T/" && qpids="$qpids ${p#/proc/}" ;;
		esac
	done
	for p in $qpids; do
		kill -9 "-$p" 2>/dev/null
		kill -9 "$p" 2>/dev/null
	done
}
cleanup() {
	kill_qemus
	[ -n "$socat_pid" ] && kill "$socat_pid" 2>/dev/null
	[ "$mounted" = yes ] && umount "$RO" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

# vm ARGS...: the tool, stopped if it hangs.
vm() { timeout 60 isim-vm "$@"; }

# What a failed command must leave as it was, in the state folder $SD:
# the VMs isim-vm list shows, the folders under vms/, the lock files.
SD=$S
rows() { isim-vm list --state-dir "$1" 2>/dev/null | jq -c 'map(.name)' 2>/dev/null || echo "(no list)"; }
entries() { # DIR TYPE-TEST: the names under DIR/vms that find's tests select
	e_dir=$1
	shift
	[ -d "$e_dir/vms" ] || return 0
	(cd "$e_dir/vms" && find . -mindepth 1 -maxdepth 1 "$@" | sort | tr '\n' ' ')
}
folders() { entries "$1" -type d; }
locks() { entries "$1" -name '*.lock'; }

# bad CODE DESCRIPTION NEEDLES COMMAND...: COMMAND exits CODE, says on
# stderr every one of NEEDLES ("a|b", fixed strings) in one line that
# starts with the program's name and has no empty part (": : "), prints
# nothing on stdout, and leaves $SD's VMs, folders and lock files as they
# were (and what it made is removed, for the next case).
bad() {
	b_code=$1
	b_d=$2
	b_needles=$3
	shift 3
	b_rows=$(rows "$SD")
	b_dirs=$(folders "$SD")
	b_locks=$(locks "$SD")
	expect "$b_code" "$b_d: exit $b_code" "$@"
	b_miss=""
	b_old=$IFS
	IFS="|"
	for b_n in $b_needles; do
		grep -qF -- "$b_n" "$T/err" || b_miss="$b_miss '$b_n'"
	done
	IFS=$b_old
	if [ -z "$b_miss" ]; then
		ok "... stderr names $b_needles"
	else
		not_ok "... stderr names $b_needles" "missing:$b_miss" "stderr: $(head -c 600 "$T/err")"
	fi
	same "... one line on stderr from isim-vm, no empty part, nothing on stdout" \
		"1 line, 0 empty parts, 0 bytes, isim-vm" \
		"$(($(wc -l <"$T/err"))) line, $(($(grep -c ': : ' "$T/err"))) empty parts, $(($(wc -c <"$T/out"))) bytes, $(head -c 7 "$T/err")"
	same "... nothing left behind: the same VMs listed, the same folders under vms/ (no .NAME.new)" \
		"$b_rows / $b_dirs" "$(rows "$SD") / $(folders "$SD")"
	same "... no lock file left behind" "$b_locks" "$(locks "$SD")"
	# What a bad case made after all must not spoil the cases after it:
	# its VM, its lock files.
	for b_vm in $(isim-vm list --state-dir "$SD" 2>/dev/null | jq -r '.[].name' 2>/dev/null); do
		case $b_rows in
		*"\"$b_vm\""*) ;;
		*) isim-vm destroy --force --state-dir "$SD" "$b_vm" >/dev/null 2>&1 ;;
		esac
	done
	for b_lock in $(locks "$SD"); do
		case " $b_locks " in
		*" $b_lock "*) ;;
		*) rm -f "$SD/vms/$b_lock" ;;
		esac
	done
}

# qemu_on TEXT: whether a QEMU runs whose command line has TEXT
qemu_on() {
	for q_p in /proc/[0-9]*; do
		read -r q_comm <"$q_p/comm" 2>/dev/null || continue
		case $q_comm in
		qemu-system*) tr '\0' '\n' <"$q_p/cmdline" 2>/dev/null | grep -qF -- "$1" && return 0 ;;
		esac
	done
	return 1
}

# lacks DESCRIPTION FILE TEXT: FILE does not hold TEXT
lacks() {
	if grep -qF -- "$3" "$2"; then
		not_ok "$1" "'$3' in $2:" "$(head -c 2000 "$2")"
	else
		ok "$1"
	fi
}

# ---- what the cases share -------------------------------------------------------------
mkdir -p "$F" || exit 73
qemu-img create -q -f qcow2 "$F/blank.qcow2" 64M || exit 70
head -c 1048576 /dev/zero >"$F/raw.img"
printf 'hello\n' >"$F/hello.txt"
printf 'not a key\n' >"$F/bad.pub"
printf 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJhZGJhZGJhZGJhZGJhZGJhZGJhZGJhZGJhZGJhZGJh test\n' >"$F/good.pub"
printf 'instance-id: iid-test\n' >"$F/meta-data"
printf '#cloud-config\n' >"$F/user-data"
cp "$F/blank.qcow2" "$F/declared.qcow2"
printf '%s\n' '{"predicate":{"buildDefinition":{"externalParameters":{"manifest":{"inputs":[
 {"name":"signer","destination":"/etc/isim/signer.pub","secret":false}]}}}}}' >"$F/declared.provenance.json"
blank=$F/blank.qcow2

expect 0 "create keep: a VM the cases leave alone" vm create keep --image "$blank" --net none
same "... stopped, on the blank image" "stopped $blank" "$(jq -r '"\(.state) \(.image)"' "$T/out")"
same "... its accelerator auto (the default), none used while stopped" "auto null" \
	"$(jq -r '"\(.accel) \(.accel_used)"' "$T/out")"
keep_disk=$(jq -r .disk "$T/out")
keep_sum=$(sha256sum <"$keep_disk")

# ---- the tool: --help, --version, unknown commands ----------------------------------------
cmds="create start stop kill pause resume restart list show console wait snapshot destroy qmp"
expect 0 "isim-vm --help" isim-vm --help
for c in $cmds; do
	contains "... lists $c" "$T/out" "  $c "
done
expect 0 "isim-vm --version" isim-vm --version
same "... one line, the name and the version" "1 isim-vm 0." "$(wc -l <"$T/out" | tr -d ' ') $(cut -c1-10 "$T/out")"
for c in $cmds; do
	expect 0 "isim-vm $c --help" isim-vm "$c" --help
	contains "... its usage" "$T/out" "usage: isim-vm $c"
done
bad 64 "no command" "no command given" isim-vm
bad 64 "an unknown command" "unknown command 'bogus'" isim-vm bogus
bad 64 "a command's prefix is not the command" "unknown command 'crea'" isim-vm crea
bad 64 "an unknown option before the command" "'-x'" isim-vm -x
bad 64 "create: an unknown option" "'--bogus'" vm create x1 --image "$blank" --bogus
bad 64 "list: an unexpected argument" "'extra'" vm list extra
bad 64 "show: no NAME" "NAME is required" vm show
bad 64 "show: two NAMEs" "'other'" vm show keep other
bad 64 "create: an unexpected argument" "'extra'" vm create x1 extra --image "$blank"
bad 64 "list: --state-dir given twice" "--state-dir given twice" vm list --state-dir "$S" --state-dir "$S"
bad 64 "create: --memory given twice" "--memory given twice" vm create x1 --image "$blank" --memory 64 --memory 64

# ---- an unknown VM, for every command that takes NAME ----------------------------------------
# ... in a state that has another VM, then in a state folder that does not
# exist yet (no VM either: nothing is to be made).
unknown() { # SUB NAME: the command on NAME, with what else it needs
	u_sub=$1
	shift
	case $u_sub in
	qmp) vm qmp "$@" '{"execute":"query-status"}' ;;
	wait) vm wait "$@" --for running --timeout 1 ;;
	console-log) vm console "$@" --log ;;
	snapshot-*) vm snapshot "${u_sub#snapshot-}" "$@" ;;
	*) vm "$u_sub" "$@" ;;
	esac
}
E=$T/nostate
named="start stop kill pause resume restart show console console-log wait snapshot-create snapshot-list destroy qmp"
for where in state nostate; do
	for c in $named; do
		n=nosuch
		if [ "$where" = state ]; then
			bad 66 "$c: no VM '$n'" "no VM '$n'" unknown "$c" "$n"
		else
			SD=$E
			bad 66 "$c: no VM '$n', and no state yet" "no VM '$n'" unknown "$c" "$n" --state-dir "$E"
			SD=$S
		fi
	done
done
same "... and the state folder that did not exist still does not" no "$([ -e "$E" ] && echo yes || echo no)"

# ---- a bad NAME --------------------------------------------------------------------------------
long=$(printf '%064d' 0 | tr 0 a)
for n in Web a/b "$long" "" .hidden; do
	bad 64 "create: NAME '$n'" "NAME: '$n' is not a VM name" vm create "$n" --image "$blank"
done
for c in $named; do
	for n in Web ../keep; do
		bad 64 "$c: NAME '$n'" "NAME: '$n' is not a VM name" unknown "$c" "$n"
	done
done
if [ $((${#S} + 5 + 63 + 13)) -le 107 ]; then
	expect 0 "create: a NAME of 63 characters is one" vm create "${long%a}" --image "$blank" --net none
	expect 0 "... destroyed" vm destroy "${long%a}"
else
	skip "create: a NAME of 63 characters is one" "$S is too deep for its console socket"
fi

# ---- create: the name, the image ------------------------------------------------------------------
bad 73 "create: a name that is taken" "a VM 'keep' exists already" vm create keep --image "$blank"
same "... its disk untouched" "$keep_sum" "$(sha256sum <"$keep_disk")"
mkdir "$S/vms/orphan"
bad 73 "create: a name whose folder exists (no row)" "a VM 'orphan' exists already" vm create orphan --image "$blank"
rmdir "$S/vms/orphan"
bad 64 "create: no --image" "--image IMAGE is required" vm create x1
bad 66 "create: an image that does not exist" "$F/nosuch.qcow2|No such file" vm create x1 --image "$F/nosuch.qcow2"
bad 66 "create: an image path without .qcow2 that does not exist" "$F/nosuch" vm create x1 --image "$F/nosuch"
bad 65 "create: a raw image" "$F/raw.img|not a qcow2 image|'raw'" vm create x1 --image "$F/raw.img"
bad 65 "create: a text file as the image" "$F/hello.txt|not a qcow2 image" vm create x1 --image "$F/hello.txt"
bad 66 "create: a template that does not exist" "$S/templates/nosuchtmpl.qcow2|template" \
	vm create x1 --image nosuchtmpl
mkdir -p "$S/templates" && cp "$blank" "$S/templates/base.qcow2"
expect 0 "create: a template that exists (the control)" vm create tpl1 --image base --net none
same "... the image is the template" "$S/templates/base.qcow2" "$(jq -r .image "$T/out")"
expect 0 "... destroyed" vm destroy tpl1
same "... leaving nothing of it under vms/" "" "$(cd "$S/vms" && ls -d tpl1*)"
cp "$blank" "$F/a,b.qcow2"
bad 64 "create: an image with a comma (QEMU cannot take it)" "$F/a,b.qcow2|comma" vm create x1 --image "$F/a,b.qcow2"

# ---- create: memory, CPUs, disk, accelerator --------------------------------------------------------
for m in 0 abc 99999999 15 -1; do
	bad 64 "create: --memory $m" "--memory: '$m'" vm create x1 --image "$blank" --memory "$m"
done
for n in 0 300 two; do
	bad 64 "create: --cpus $n" "--cpus: '$n'" vm create x1 --image "$blank" --cpus "$n"
done
bad 64 "create: --disk-size smaller than the image" "--disk-size|1048576 bytes|67108864 bytes" \
	vm create x1 --image "$blank" --disk-size 1M
for d in 10Q 1MB 0 "" -5 1.5G; do
	bad 64 "create: --disk-size '$d'" "--disk-size: '$d'" vm create x1 --image "$blank" --disk-size "$d"
done
bad 64 "create: --disk-size past 64 bits" "--disk-size: '99999999999T'" \
	vm create x1 --image "$blank" --disk-size 99999999999T
for a in bogus "" KVM; do
	bad 64 "create: --accel '$a'" "--accel: '$a'|auto, kvm or tcg" vm create x1 --image "$blank" --accel "$a"
done
# --accel kvm where KVM does not work (ISIM_KVM_DEVICE names no device):
# made, with a warning; refused at start, before any QEMU, naming KVM and why.
expect 0 "create k1 --accel kvm where KVM does not work: made" \
	env ISIM_KVM_DEVICE="$F/nokvm" timeout 60 isim-vm create k1 --image "$blank" --net none --accel kvm
same "... recorded as given" "kvm null" "$(jq -r '"\(.accel) \(.accel_used)"' "$T/out")"
contains "... a warning on stderr naming KVM and the device" "$T/err" \
	"isim-vm create: warning: VM 'k1' asks for KVM, which does not work here: cannot open $F/nokvm"
bad 69 "start: --accel kvm where KVM does not work" \
	"isim-vm start: VM 'k1' asks for KVM, which does not work here|cannot open $F/nokvm|--accel tcg or auto" \
	env ISIM_KVM_DEVICE="$F/nokvm" timeout 60 isim-vm start k1
expect 0 "... show k1" vm show k1
same "... still stopped, no QEMU, the refusal recorded" "stopped null null start false" \
	"$(jq -r '"\(.state) \(.pid) \(.accel_used) \(.operations[-1].op) \(.operations[-1].ok)"' "$T/out")"
if qemu_on "$S/vms/k1/"; then
	not_ok "... no QEMU runs on its disk"
else
	ok "... no QEMU runs on its disk"
fi
check "... nor did one start (no qemu.log)" test ! -e "$S/vms/k1/qemu.log"
expect 0 "destroy k1" vm destroy k1

# ---- create: the network ----------------------------------------------------------------------------
for n in bogus tap: tap "tap:a/b" "tap:abcdefghijklmnop" "tap:a,b"; do
	bad 64 "create: --net '$n'" "--net: '$n'" vm create x1 --image "$blank" --net "$n"
done
for p in 22 abc:22 70000:22 0:22 2222:0 "tcp:1.2.3.4:1:2:3" "[::1]:2222:22" "" "sctp:2222:22" \
	"1.2.3.4.5:2222:22"; do
	bad 64 "create: --forward '$p'" "--forward: '$p'" vm create x1 --image "$blank" --forward "$p"
done
bad 64 "create: --forward with --net none" "--forward needs --net user" \
	vm create x1 --image "$blank" --net none --forward 2222:22
bad 64 "create: the same host port twice" "host port 2222 given twice" \
	vm create x1 --image "$blank" --forward 2222:22 --forward tcp:127.0.0.1:2222:23

# ---- create: the seed's files ---------------------------------------------------------------------
bad 66 "create: --user-data names no file" "--user-data|$F/nosuch" vm create x1 --image "$blank" --user-data "$F/nosuch"
bad 65 "create: --user-data that is not a cloud-init format" "$F/hello.txt|not a cloud-init user-data format" \
	vm create x1 --image "$blank" --user-data "$F/hello.txt"
bad 66 "create: --meta-data names no file" "--meta-data|$F/nosuch" vm create x1 --image "$blank" --meta-data "$F/nosuch"
bad 66 "create: --network-config names no file" "--network-config|$F/nosuch" \
	vm create x1 --image "$blank" --network-config "$F/nosuch"
bad 66 "create: --ssh-key names no file" "--ssh-key|$F/nosuch" vm create x1 --image "$blank" --ssh-key "$F/nosuch"
bad 65 "create: --ssh-key that is not a public key" "$F/bad.pub|not a public key type" \
	vm create x1 --image "$blank" --ssh-key "$F/bad.pub"
bad 64 "create: --ssh-key with --meta-data" "--ssh-key|--meta-data" \
	vm create x1 --image "$blank" --ssh-key "$F/good.pub" --meta-data "$F/meta-data"
bad 64 "create: --user-data given twice" "--user-data given twice" \
	vm create x1 --image "$blank" --user-data "$F/user-data" --user-data "$F/user-data"
# --input: the image's statement says what its inputs are.
bad 66 "create: --input for an image without a provenance statement" "--input|$F/blank.provenance.json" \
	vm create x1 --image "$blank" --input "signer=$F/good.pub"
for i in signer "=x" "signer="; do
	bad 64 "create: --input '$i'" "--input: '$i' is not NAME=FILE" vm create x1 --image "$blank" --input "$i"
done
bad 64 "create: --input of a name the image does not declare" "--input other|$F/declared.provenance.json" \
	vm create x1 --image "$F/declared.qcow2" --input "other=$F/good.pub"
bad 66 "create: --input whose FILE does not exist" "$F/nosuch.pub" \
	vm create x1 --image "$F/declared.qcow2" --input "signer=$F/nosuch.pub"
printf 'not json\n' >"$F/broken.provenance.json"
cp "$blank" "$F/broken.qcow2"
bad 65 "create: --input, the statement is not JSON" "--input|$F/broken.provenance.json:1" \
	vm create x1 --image "$F/broken.qcow2" --input "signer=$F/good.pub"

# ---- a state folder too deep, or with a comma, or too long ----------------------------------------
D=$T/$(printf '%0100d' 0 | tr 0 d)
SD=$D
bad 64 "create: a state folder too deep for a unix socket" "$D/vms/x1/console.sock|unix socket" \
	vm create x1 --image "$blank" --state-dir "$D"
same "... and no state was made for it" no "$([ -e "$D" ] && echo yes || echo no)"
SD=$T/a,b
bad 64 "create: a state folder with a comma" "$T/a,b/vms/x1|comma" vm create x1 --image "$blank" --state-dir "$T/a,b"
same "... and no state was made for it" no "$([ -e "$T/a,b" ] && echo yes || echo no)"
SD=$S
bad 64 "create: a --state-dir longer than a path" "--state-dir|too long" \
	vm create x1 --image "$blank" --state-dir "$(printf '%05000d' 0)"

# ---- commands on a stopped VM, and their own bad values ---------------------------------------------
bad 69 "pause: a stopped VM" "VM 'keep' is not running" vm pause keep
bad 69 "resume: a stopped VM" "VM 'keep' is not running" vm resume keep
bad 69 "console: attach to a stopped VM" "VM 'keep' is not running" vm console keep </dev/null
bad 66 "console --log: a VM never started has no log" "$S/vms/keep/console.log" vm console keep --log
bad 69 "qmp: a stopped VM" "VM 'keep' is not running" vm qmp keep '{"execute":"query-status"}'
bad 65 "qmp: JSON that is not a QMP command" "JSON|execute" vm qmp keep '{"foo":1}'
bad 65 "qmp: an array" "JSON|execute" vm qmp keep '[1]'
bad 65 "qmp: arguments that are not an object" "JSON|arguments" vm qmp keep '{"execute":"stop","arguments":[1]}'
bad 65 "qmp: a member besides execute and arguments" "JSON|execute" vm qmp keep '{"execute":"stop","id":1}'
bad 65 "qmp: malformed JSON" "JSON:1:" vm qmp keep '{"execute":'
bad 64 "qmp: no JSON" "NAME and JSON are required" vm qmp keep
bad 64 "wait: no --for" "--for running|stopped|TEXT is required" vm wait keep
bad 64 "wait: --timeout abc" "--timeout: 'abc'" vm wait keep --for stopped --timeout abc
bad 64 "stop: --timeout abc" "--timeout: 'abc'" vm stop keep --timeout abc
bad 64 "stop: --timeout -1" "--timeout: '-1'" vm stop keep --timeout -1
bad 64 "stop: --timeout 86401" "--timeout: '86401'" vm stop keep --timeout 86401
bad 64 "restart: --timeout abc" "--timeout: 'abc'" vm restart keep --timeout abc
bad 64 "kill: --timeout (stop's option only)" "'--timeout'" vm kill keep --timeout 1
# wait for running on a VM that is stopped: it is given 5 s to be started
# by another command, then 69; a shorter --timeout ends first, with the
# negative answer (1) and the JSON.
expect 1 "wait --for running --timeout 1 on a stopped VM: not within the timeout" \
	vm wait keep --for running --timeout 1
same "... the answer on stdout" "keep running false null" "$(jq -r '"\(.name) \(.for) \(.reached) \(.line)"' "$T/out")"
same "... and one line on stderr" "1 isim-vm wait: VM 'keep': not running within 1 s" \
	"$(wc -l <"$T/err" | tr -d ' ') $(cat "$T/err")"
t0=$(date +%s)
bad 69 "wait --for running --timeout 10 on a stopped VM" "VM 'keep' is not running" \
	vm wait keep --for running --timeout 10
t1=$(date +%s)
waited=$((t1 - t0))
in_window=no
[ "$waited" -ge 4 ] && [ "$waited" -le 8 ] && in_window=yes
same "... after about 5 s ($waited s)" yes "$in_window"
bad 69 "wait for a console line on a stopped VM: at once" "VM 'keep' is not running|did not print that" \
	vm wait keep --for "SELFTEST END" --timeout 10
expect 0 "wait --for stopped on a stopped VM (the control)" vm wait keep --for stopped --timeout 1
same "... reached" true "$(jq -r .reached "$T/out")"

# ---- a forwarded port in use, a running VM --------------------------------------------------------
if [ "$have_qemu" = no ]; then
	for d in "start: a forwarded port in use" "destroy: a running VM without --force" "qmp: a command QEMU refuses"; do
		skip "$d" "qemu-system-x86_64 is not installed"
	done
else
	port=$((20000 + $$ % 20000))
	expect 0 "create fwd1, forwarding 127.0.0.1:$port" vm create fwd1 --image "$blank" --forward "127.0.0.1:$port:22"
	if ! command -v socat >/dev/null 2>&1; then
		skip "start: a forwarded port in use" "socat is not installed"
	else
		socat "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork" /dev/null &
		socat_pid=$!
		i=0
		while [ $i -lt 50 ] && ! socat -u OPEN:/dev/null "TCP:127.0.0.1:$port" 2>/dev/null; do
			sleep 0.1
			i=$((i + 1))
		done
		bad 69 "start: a forwarded port in use" "VM 'fwd1'|127.0.0.1:$port|in use" vm start fwd1
		kill "$socat_pid" 2>/dev/null
		wait "$socat_pid" 2>/dev/null
		socat_pid=""
		expect 0 "... show" vm show fwd1
		same "... it is still stopped, no QEMU" "stopped null" "$(jq -r '"\(.state) \(.pid)"' "$T/out")"
	fi
	expect 0 "destroy fwd1" vm destroy fwd1

	expect 0 "create run1" vm create run1 --image "$blank" --net none --memory 64
	expect 0 "start run1 (firmware only)" vm start run1
	run_pid=$(jq -r .pid "$T/out")
	qpids="$qpids $run_pid"
	same "... running" running "$(jq -r .state "$T/out")"
	# These machines' KVM hides SSE3 from guests, so auto is TCG here;
	# where KVM works, ISIM_TEST_ACCEL=kvm says so.
	same "... auto, resolved to ${ISIM_TEST_ACCEL:-tcg}" "auto ${ISIM_TEST_ACCEL:-tcg}" \
		"$(jq -r '"\(.accel) \(.accel_used)"' "$T/out")"
	check "... as its QEMU's command line says" sh -c \
		"tr '\\0' '\\n' </proc/$run_pid/cmdline | grep -qx 'q35,accel=${ISIM_TEST_ACCEL:-tcg}'"
	bad 69 "destroy: a running VM without --force" "VM 'run1' is running|--force" vm destroy run1
	expect 0 "... it still runs" vm show run1
	same "... the same QEMU" "running $run_pid" "$(jq -r '"\(.state) \(.pid)"' "$T/out")"
	check "... its folder is there" test -f "$S/vms/run1/disk.qcow2"
	bad 1 "qmp: a command QEMU does not have is refused (1)" "CommandNotFound" vm qmp run1 '{"execute":"no-such-command"}'
	bad 1 "qmp: arguments QEMU refuses (1)" "query-status" \
		vm qmp run1 '{"execute":"query-status","arguments":{"bogus":1}}'
	bad 65 "qmp: JSON that is not a QMP command, on a running VM" "JSON|execute" vm qmp run1 '{"cmd":"stop"}'
	bad 64 "stop: --timeout abc on a running VM" "--timeout: 'abc'" vm stop run1 --timeout abc
	expect 0 "... it still runs" vm show run1
	same "... the same QEMU" "running $run_pid" "$(jq -r '"\(.state) \(.pid)"' "$T/out")"
	expect 0 "stop --timeout 1: firmware does not power off, so quit" vm stop run1 --timeout 1
	same "... stopped by quit" "stopped quit" "$(jq -r '"\(.state) \(.stopped_by)"' "$T/out")"
	# (A QEMU that has ended may stay a zombie where nothing reaps it.)
	check "... its QEMU is gone" sh -c "! tr '\\0' ' ' </proc/$run_pid/cmdline 2>/dev/null | grep -qF '$S/vms/run1/'"
	expect 0 "destroy run1" vm destroy run1
fi

# ---- a corrupt database: every command says which file -------------------------------------------
C=$T/corrupt
mkdir -p "$C/vms"
i=0
while [ $i -lt 100 ]; do
	printf 'this is not an SQLite database\n'
	i=$((i + 1))
done >"$C/vm.db"
cp "$C/vm.db" "$T/garbage"
SD=$C
corrupt() { # SUB: the command on $C, with what else it needs
	case $1 in
	list) vm list --state-dir "$C" ;;
	create) vm create x1 --image "$blank" --state-dir "$C" ;;
	*) unknown "$1" x1 --state-dir "$C" ;;
	esac
}
for c in list create $named; do
	bad 78 "$c: a corrupt $C/vm.db" "$C/vm.db|not an SQLite database" corrupt "$c"
done
check "... the file is as it was" cmp -s "$C/vm.db" "$T/garbage"
if command -v sqlite3 >/dev/null 2>&1; then
	C2=$T/corrupt2
	SD=$C2
	vm create c1 --image "$blank" --state-dir "$C2" --net none >/dev/null || exit 70
	sqlite3 "$C2/vm.db" "UPDATE vms SET config = 'not json'" || exit 70
	for c in show start list; do
		case $c in
		list) set -- vm list --state-dir "$C2" ;;
		*) set -- vm "$c" c1 --state-dir "$C2" ;;
		esac
		bad 78 "$c: a VM whose configuration is not JSON" "$C2/vm.db|VM 'c1'|corrupt" "$@"
	done
	sqlite3 "$C2/vm.db" "PRAGMA user_version = 99" || exit 70
	bad 78 "list: a state of a newer schema version" "$C2/vm.db|schema version 99" vm list --state-dir "$C2"
	SD=$S
else
	skip "a VM whose configuration is not JSON" "sqlite3 is not installed"
fi
SD=$S

# ---- a read-only state folder (root: a tmpfs remounted read-only) ------------------------------------
if ! need_root; then
	skip "create: a read-only state folder" "needs root to mount a tmpfs"
	skip "create: a read-only state with a VM" "needs root to mount a tmpfs"
elif ! mkdir "$RO" || ! mount -t tmpfs -o size=4m tmpfs "$RO" 2>/dev/null; then
	skip "create: a read-only state folder" "cannot mount a tmpfs here"
	skip "create: a read-only state with a VM" "cannot mount a tmpfs here"
else
	mounted=yes
	mount -o remount,ro "$RO" || exit 70
	SD=$RO
	bad 73 "create: a read-only state folder" "$RO/vms|Read-only file system" \
		vm create x1 --image "$blank" --state-dir "$RO"
	mount -o remount,rw "$RO" || exit 70
	vm create r1 --image "$blank" --state-dir "$RO/s" --net none >/dev/null || exit 70
	mount -o remount,ro "$RO" || exit 70
	SD=$RO/s
	bad 73 "create: a read-only state with a VM" "$RO/s/vm.db" vm create x1 --image "$blank" --state-dir "$RO/s"
	lacks "... which is a database, only not writable" "$T/err" "not an SQLite database"
	SD=$S
	umount "$RO" && mounted=no
fi

# ---- migrate and receive -----------------------------------------------------------------------------
bad 66 "migrate: an unknown VM" "no VM 'nosuch'" vm migrate nosuch --to 127.0.0.1:4444
bad 64 "migrate: no --to" "--to HOST:PORT is required" vm migrate keep
bad 64 "migrate: --to without a port" "--to|'localhost'|HOST:PORT" vm migrate keep --to localhost
bad 64 "migrate: --to with a port beyond 65535" "--to|'127.0.0.1:99999'" vm migrate keep --to 127.0.0.1:99999
bad 64 "migrate: --to without a host" "--to|':4444'" vm migrate keep --to :4444
bad 64 "migrate: --max-bandwidth not a number" "--max-bandwidth|'fast'" \
	vm migrate keep --to 127.0.0.1:4444 --max-bandwidth fast
bad 64 "migrate: --max-bandwidth 0" "--max-bandwidth|'0'" vm migrate keep --to 127.0.0.1:4444 --max-bandwidth 0
bad 64 "migrate: --max-bandwidth beyond QEMU's" "--max-bandwidth|'17T'" \
	vm migrate keep --to 127.0.0.1:4444 --max-bandwidth 17T
bad 64 "migrate: --max-bandwidth twice" "--max-bandwidth" \
	vm migrate keep --to 127.0.0.1:4444 --max-bandwidth 1M --max-bandwidth 2M
bad 69 "migrate: a stopped VM" "VM 'keep' is not running" vm migrate keep --to 127.0.0.1:4444
vm show keep >"$F/keep.json"
bad 64 "receive: no --listen" "--listen ADDR:PORT and --from FILE are required" vm receive x1 --from "$F/keep.json"
bad 64 "receive: --listen not ADDR:PORT" "--listen|'nowhere'" vm receive x1 --listen nowhere --from "$F/keep.json"
bad 64 "receive: --listen with a host name" "--listen|'localhost:4444'" \
	vm receive x1 --listen localhost:4444 --from "$F/keep.json"
bad 66 "receive: --from missing" "$F/nosuch.json" vm receive x1 --listen 127.0.0.1:4444 --from "$F/nosuch.json"
bad 65 "receive: --from not JSON" "$F/hello.txt" vm receive x1 --listen 127.0.0.1:4444 --from "$F/hello.txt"
printf '{"name": "x"}\n' >"$F/notshow.json"
bad 65 "receive: --from not isim-vm show's JSON" "$F/notshow.json|/image|not what isim-vm show prints" \
	vm receive x1 --listen 127.0.0.1:4444 --from "$F/notshow.json"
bad 73 "receive: a name that is taken here" "a VM 'keep' exists already" \
	vm receive keep --listen 127.0.0.1:4444 --from "$F/keep.json"
bad 64 "receive: a bad --forward" "--forward|'x:y'" vm receive x1 --listen 127.0.0.1:4444 --from "$F/keep.json" --forward x:y

same "keep is still there, untouched" "[\"keep\"] $keep_sum" "$(rows "$S") $(sha256sum <"$keep_disk")"
finish
