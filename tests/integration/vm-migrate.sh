#!/bin/sh
# isim-vm migrate and receive between two hosts: two network namespaces
# joined by a veth pair, each with its own state folder, blank VMs (a
# qcow2 with no OS, firmware only) so that it is quick. A migration that
# completes (the source stopped and migrated_to, the destination running);
# one cancelled by --timeout; the receiving QEMU killed -9 mid-way (a migration slowed down by
# --max-bandwidth): the source runs on, unchanged; descriptions that differ
# (memory, a device): refused, the source runs on, unchanged.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

if ! need_root; then
	skip "migration between two network namespaces" "needs root"
	finish
	exit
fi
for p in qemu-system-x86_64 qemu-img qemu-io ip ss jq; do
	command -v "$p" >/dev/null 2>&1 || { skip "migration between two network namespaces" "$p is not installed"; finish; exit; }
done

NA=isim-mig-a-$$ # the destination host
NB=isim-mig-b-$$ # the source host
A_ADDR=10.251.$(($$ % 250)).1
B_ADDR=10.251.$(($$ % 250)).2
SA=$T/a # the destination's state
SB=$T/b # the source's
port=$((30000 + $$ % 20000))
qpids=""
cleanup() {
	for q in $qpids; do
		kill -9 "$q" 2>/dev/null
	done
	ip netns del "$NA" 2>/dev/null
	ip netns del "$NB" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

# A and B: isim-vm on either host.
A() { ip netns exec "$NA" isim-vm "$@" --state-dir "$SA"; }
B() { ip netns exec "$NB" isim-vm "$@" --state-dir "$SB"; }
field() { jq -r "$1" "$T/out"; }
gone() { [ ! -e "/proc/$1" ] || [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" = Z ]; }
# row HOST NAME: "state pid migrated_to" of NAME in HOST's list.
row() { "$1" list | jq -r --arg n "$2" '.[] | select(.name == $n) | "\(.state) \(.pid) \(.migrated_to)"'; }
# qmp_status HOST NAME: what the VM's QEMU says of itself.
qmp_status() { "$1" qmp "$2" '{"execute":"query-status"}' | jq -r .status; }
# kept_on_b: B's m2 runs on, the same QEMU, not migrated.
kept_on_b() {
	same "B's list: running, the same QEMU, not migrated" "running $spid null" "$(row B m2)"
	same "... QMP query-status on B: running" running "$(qmp_status B m2)"
}
# ended_on_a WHY: A's m2 ends up stopped (WHY), and is destroyed for the
# next case.
ended_on_a() {
	e_n=0
	until [ "$(row A m2)" = "stopped null null" ] || [ $e_n -ge 100 ]; do
		sleep 0.05
		e_n=$((e_n + 1))
	done
	same "A's list: stopped ($1)" "stopped null null" "$(row A m2)"
	expect 0 "destroy it on A" A destroy m2
}
# established PORT: the destination has taken the migration's connection.
established() {
	[ -n "$(ip netns exec "$NA" ss -Htn state established "( sport = :$1 )")" ]
}

check "two hosts: network namespaces joined by a veth pair" sh -c "
	ip netns add $NA && ip netns add $NB &&
	ip link add mig-a-$$ type veth peer name mig-b-$$ &&
	ip link set mig-a-$$ netns $NA && ip link set mig-b-$$ netns $NB &&
	ip -n $NA addr add $A_ADDR/24 dev mig-a-$$ && ip -n $NB addr add $B_ADDR/24 dev mig-b-$$ &&
	ip -n $NA link set lo up && ip -n $NB link set lo up &&
	ip -n $NA link set mig-a-$$ up && ip -n $NB link set mig-b-$$ up &&
	ip netns exec $NB ping -c 1 -W 5 $A_ADDR"
img=$T/blank.qcow2
qemu-img create -q -f qcow2 "$img" 64M

# ---- a migration that completes ------------------------------------------------------
expect 0 "create a blank VM on B" B create m1 --image "$img" --memory 64 --net none
expect 0 "start it on B" B start m1
spid=$(field .pid)
qpids="$qpids $spid"
B show m1 >"$T/m1.json"
expect 0 "receive on A from its description, listening on A's address" \
	A receive m1 --listen "$A_ADDR:$port" --from "$T/m1.json"
dpid=$(field .pid)
qpids="$qpids $dpid"
same "... listening" "$A_ADDR:$port" "$(field .listen)"
check "... its QEMU is in A's namespace" test "$(readlink "/proc/$dpid/ns/net")" = "$(ip netns exec "$NA" readlink /proc/self/ns/net)"
jq '.uuid = "0badc0de-0000-4000-8000-000000000001"' "$T/m1.json" >"$T/other.json"
expect 69 "receive another VM on A on that port: refused" A receive m9 --listen "$A_ADDR:$port" --from "$T/other.json"
contains "... naming --listen" "$T/err" "isim-vm receive: --listen $A_ADDR:$port: QEMU cannot wait for the migration there: "
expect 73 "receive m1's description again on A, as another name: refused" \
	A receive m9 --listen "$A_ADDR:$((port + 100))" --from "$T/m1.json"
contains "... naming the VM that has its uuid" "$T/err" "/uuid: VM 'm1' here has the uuid '$(jq -r .uuid "$T/m1.json")' already"
same "... neither left anything on A" "m1 m1.lock" "$(cd "$SA/vms" && echo *)"
same "... nor a row" m1 "$(A list | jq -r '.[].name')"
expect 0 "migrate from B to A" B migrate m1 --to "$A_ADDR:$port"
same "... completed" completed "$(field '.status')"
check "... the source's QEMU has ended" gone "$spid"
same "B's list: stopped, migrated to A" "stopped null $A_ADDR:$port" "$(row B m1)"
expect 0 "B's show" B show m1
same "... the operation says where it went" "migrate true to $A_ADDR:$port $A_ADDR:$port" \
	"$(field '"\(.operations[-1].op) \(.operations[-1].ok) \(.operations[-1].detail) \(.migrated_to)"')"
same "A's list: running, its QEMU, not migrated" "running $dpid null" "$(row A m1)"
same "... QMP query-status on A: running" running "$(qmp_status A m1)"
expect 0 "A's show: the same uuid" A show m1
same "... as B's" "$(jq -r .uuid "$T/m1.json")" "$(field .uuid)"
expect 0 "kill it on A" A kill m1
expect 0 "destroy it on A" A destroy m1
expect 0 "start it on B again" B start m1
qpids="$qpids $(field .pid)"
same "... migrated_to is gone" "running null" "$(B show m1 | jq -r '"\(.state) \(.migrated_to)"')"
expect 0 "destroy it on B" B destroy m1 --force

# ---- the receiving QEMU killed -9 mid-migration ------------------------------------
expect 64 "migrate --max-bandwidth 0: refused" B migrate m1 --to "$A_ADDR:$port" --max-bandwidth 0
contains "... naming the option" "$T/err" "--max-bandwidth: '0'"
expect 0 "create m2 on B (user networking)" B create m2 --image "$img" --memory 64
# 16 MiB in its disk, which the migration sends at 1 MiB/s: it lasts.
check "... 16 MiB written into its disk" qemu-io -f qcow2 -c "write -q -P 0xa5 0 16M" "$SB/vms/m2/disk.qcow2"
expect 0 "start m2 on B" B start m2
spid=$(field .pid)
qpids="$qpids $spid"
B show m2 >"$T/m2.json"
port=$((port + 1))
expect 0 "receive m2 on A" A receive m2 --listen "$A_ADDR:$port" --from "$T/m2.json"
dpid=$(field .pid)
qpids="$qpids $dpid"
expect 1 "migrate --timeout 1 at 1 MiB/s: cancelled" B migrate m2 --to "$A_ADDR:$port" --max-bandwidth 1M --timeout 1
contains "... saying so" "$T/err" "the migration to $A_ADDR:$port failed: not done within 1 s: cancelled; it still runs here"
kept_on_b
ended_on_a "its QEMU ended with the cancelled migration"
port=$((port + 1))
expect 0 "receive m2 on A again" A receive m2 --listen "$A_ADDR:$port" --from "$T/m2.json"
dpid=$(field .pid)
qpids="$qpids $dpid"
expect 0 "pause m2 on B" B pause m2
expect 69 "migrate a paused VM: refused" B migrate m2 --to "$A_ADDR:$port"
contains "... saying why" "$T/err" "isim-vm migrate: VM 'm2' is paused: resume it first (isim-vm resume m2)"
expect 0 "resume m2 on B" B resume m2
t0=$(date +%s)
B migrate m2 --to "$A_ADDR:$port" --max-bandwidth 1M >"$T/mig.out" 2>"$T/mig.err" &
mig=$!
n=0
until established "$port" || [ $n -ge 200 ]; do
	sleep 0.05
	n=$((n + 1))
done
check "... the migration has begun" established "$port"
sleep 0.5
kill -9 "$dpid"
wait "$mig"
rc=$?
t1=$(date +%s)
same "migrate, the receiver killed -9 mid-way: exit 1" 1 "$rc"
contains "... saying the migration failed" "$T/mig.err" "isim-vm migrate: VM 'm2': the migration to $A_ADDR:$port failed: "
contains "... and that the VM still runs here" "$T/mig.err" "it still runs here"
same "... nothing on standard output" "" "$(cat "$T/mig.out")"
check "... at once, not after a timeout ($((t1 - t0)) s)" test $((t1 - t0)) -lt 15
kept_on_b
same "... its migration settings put back (no block migration)" "false false" \
	"$(B qmp m2 '{"execute":"query-migrate-capabilities"}' | jq -r '[.[] | select(.capability == "block" or .capability == "return-path") | .state] | join(" ")')"
expect 0 "B's show" B show m2
same "... the failure recorded" false "$(field '[.operations[] | select(.op == "migrate")][-1].ok')"
expect 0 "... a snapshot of it can be made" B snapshot create m2 s1
same "A's list: stopped (its QEMU was killed)" "stopped null null" "$(row A m2)"
expect 0 "destroy it on A" A destroy m2

# ---- descriptions unlike the source -----------------------------------------------------
jq '.memory_mib = 128' "$T/m2.json" >"$T/m2-memory.json"
port=$((port + 1))
expect 0 "receive m2 on A with more memory than B's" A receive m2 --listen "$A_ADDR:$port" --from "$T/m2-memory.json"
qpids="$qpids $(field .pid)"
expect 1 "migrate: it fails" B migrate m2 --to "$A_ADDR:$port"
contains "... saying the migration failed" "$T/err" "the migration to $A_ADDR:$port failed: "
contains "... that the VM still runs here, and where the reason is" "$T/err" \
	"it still runs here (the receiving QEMU ended, or refused a VM unlike its own: its qemu.log there says why)"
contains "... which A's qemu.log has" "$SA/vms/m2/qemu.log" "Size mismatch: pc.ram"
kept_on_b
ended_on_a "its QEMU refused the VM and ended"

# A device B has and A has not: refused only at the end, with the device
# state, once everything else was sent. The source must not take that for
# a success and end the only copy of the guest.
jq '.network = "none"' "$T/m2.json" >"$T/m2-nonet.json"
port=$((port + 1))
expect 0 "receive m2 on A without B's network device" A receive m2 --listen "$A_ADDR:$port" --from "$T/m2-nonet.json"
qpids="$qpids $(field .pid)"
expect 1 "migrate: it fails at the end" B migrate m2 --to "$A_ADDR:$port"
contains "... saying that the VM still runs here" "$T/err" "it still runs here"
contains "... A's qemu.log has why" "$SA/vms/m2/qemu.log" "Unknown savevm section or instance"
kept_on_b
expect 0 "destroy it on A" A destroy m2 --force

# ---- and then a migration that completes ------------------------------------------------
port=$((port + 1))
expect 0 "receive m2 on A from B's own description" A receive m2 --listen "$A_ADDR:$port" --from "$T/m2.json"
dpid=$(field .pid)
qpids="$qpids $dpid"
expect 0 "migrate m2 (its disk goes along)" B migrate m2 --to "$A_ADDR:$port"
same "B's list: stopped, migrated to A" "stopped null $A_ADDR:$port" "$(row B m2)"
same "A's list: running" "running $dpid null" "$(row A m2)"
same "... QMP query-status on A: running" running "$(qmp_status A m2)"
expect 0 "stop it on A (QEMU quits, its disk flushed)" A stop m2 --timeout 1
check "... its disk holds what B's did" qemu-io -f qcow2 -r -c "read -q -P 0xa5 0 16M" "$SA/vms/m2/disk.qcow2"
expect 0 "destroy it on A" A destroy m2
expect 0 "destroy it on B" B destroy m2
same "no VM left on A" 0 "$(A list | jq length)"
same "no VM left on B" 0 "$(B list | jq length)"
finish
