#!/bin/sh
# isim-rendezvous against the real kernel: network namespaces on bridges,
# addresses added and removed by rtnetlink, UDP to solicited-node groups,
# and discovery piped into isim-wgadmit over wireguard-go.
#  - 8 nodes on one bridge discover each other within an epoch, and their
#    WireGuard tunnels carry pings once isim-wgadmit admitted them;
#  - on a second bridge, nodes with clocks up to a slot apart find each
#    other, lose nothing, and never see the first bridge's nodes;
#  - a node with another secret finds nothing and is found by nobody;
#    datagrams it injects (forged tags, replays, oversized, garbage) are
#    dropped and counted; a node signed by an untrusted key is found but
#    refused by isim-wgadmit;
#  - kill -9, link down and up, and the interface deleted and made again.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/lib-wg.sh
. "$(dirname "$0")/lib-wg.sh"

command -v isim-rendezvous >/dev/null 2>&1 || wg_skip_all "isim-rendezvous is not built"
[ -x /usr/bin/python3 ] || wg_skip_all "/usr/bin/python3 is not installed (scripts/install-deps.sh)"
MESH="1 2 3 4 5 6 7 8"
# shellcheck disable=SC2086 # a list of node numbers
wg_mesh $MESH

# Epochs of 2 s, 4 slots of 200 ms: an epoch's slots in 0.8 s.
E=2
L=200
SCHED="--epoch-seconds $E --slots 4 --slot-ms $L"
{ wg_signer mesh >/dev/null && wg_signer rogue >/dev/null && wg_trust mesh; } || wg_bail "signers"
secret() { # FILE: a new mesh secret, mode 0600
	(umask 077 && head -c 48 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$1")
}
{ secret "$WG/secret" && secret "$WG/other-secret"; } || wg_bail "secrets"

# A namespace on a bridge with eth0 up and nothing else (no WireGuard):
# plain_node NAME BRIDGE-NAMESPACE.
plain_node() {
	ip netns add "$WG_NS-$1" || return 1
	wg_netns="$wg_netns $WG_NS-$1"
	ip -n "$WG_NS-$1" link set lo up && 	ip -n "$2" link add "v$1" type veth peer name eth0 netns "$WG_NS-$1" && 	ip -n "$2" link set "v$1" master br0 up && 	ip -n "$WG_NS-$1" link set eth0 up
}
# A second bridge, in a namespace of its own.
BR2=$WG_NS-br2
ip netns add "$BR2" || wg_bail "the second bridge"
wg_netns="$wg_netns $BR2"
{ ip -n "$BR2" link add br0 type bridge && ip -n "$BR2" link set br0 up; } || wg_bail "the second bridge"
for n in 9 10; do plain_node "$n" "$WG_BR" || wg_bail "node $n on the first bridge"; done
for n in 21 22 23; do plain_node "$n" "$BR2" || wg_bail "node $n on the second bridge"; done

# Descriptors: the mesh's nodes with their WireGuard keys; node 10 signed
# by a key nobody trusts; nodes 9 and 2x with keys that are never used.
for n in $MESH; do
	wg_descriptor "$n" | wg_sign mesh >"$WG/d$n.json" || wg_bail "descriptor of node $n"
done
for n in 9 10 21 22 23; do
	mkdir -p "$WG/n$n" && wg_randkeys 1 >"$WG/n$n/public"
	s=mesh
	[ "$n" = 10 ] && s=rogue
	wg_descriptor "$n" | wg_sign "$s" >"$WG/d$n.json" || wg_bail "descriptor of node $n"
done

# rv N [OPTION...]: the daemon in node N's namespace, in the background,
# stdout to $WG/n$N/found (or the FIFO rv_admit made), stderr to .../err.
rv() {
	rv_n=$1
	shift
	rv_out=$WG/n$rv_n/found
	[ -p "$WG/n$rv_n/fifo" ] && rv_out=$WG/n$rv_n/fifo
	# shellcheck disable=SC2086 # SCHED is options
	ip netns exec "$WG_NS-$rv_n" isim-rendezvous run --dev eth0 --descriptor "$WG/d$rv_n.json" \
		--secret "$WG/secret" --trust "$WG/trust" $SCHED "$@" >"$rv_out" 2>>"$WG/n$rv_n/err" &
	echo $! >"$WG/n$rv_n/rvpid"
	wg_pids="$wg_pids $!"
}
# rv_admit N: what node N's daemon prints goes through a FIFO to tee
# ($WG/n$N/found) and on to isim-wgadmit admit (verdicts in .../verdicts).
rv_admit() {
	mkfifo "$WG/n$1/fifo" || return 1
	tee "$WG/n$1/found" <"$WG/n$1/fifo" | wgadmit "$1" admit --trust "$WG/trust" -k 0 \
		>"$WG/n$1/verdicts" 2>"$WG/n$1/admit.err" &
	wg_pids="$wg_pids $!"
}
rvpid() { cat "$WG/n$1/rvpid"; }
# found N: the node ids node N printed, sorted, one line.
found() { jq -r .node_id "$WG/n$1/found" 2>/dev/null | sort -u | tr '\n' ' ' | sed 's/ $//'; }
# counters N: node N's counters, asked for now (SIGUSR1), as one line.
counters() {
	c_before=$(grep -c '^{"sent"' "$WG/n$1/err")
	kill -USR1 "$(rvpid "$1")"
	c_i=0
	while [ "$(grep -c '^{"sent"' "$WG/n$1/err")" -le "$c_before" ] && [ $c_i -lt 50 ]; do
		sleep 0.05
		c_i=$((c_i + 1))
	done
	grep '^{"sent"' "$WG/n$1/err" | tail -n 1
}
count() { counters "$1" | jq "$2"; } # N JQ-PATH
# held N: the rendezvous addresses on node N's eth0 (those a daemon adds
# are nodad and noprefixroute; the kernel's own link-local is neither).
held() { ip -n "$WG_NS-$1" -6 -o addr show dev eth0 2>/dev/null | grep -c noprefixroute; }
# wait_for SECONDS COMMAND...: until COMMAND succeeds, at most SECONDS.
wait_for() {
	w_end=$(($(date +%s) + $1))
	shift
	until "$@"; do
		[ "$(date +%s)" -ge "$w_end" ] && return 1
		sleep 0.1
	done
}
ids() { # N...: "node-N ..." sorted as found prints them
	for i in "$@"; do echo "node-$i"; done | sort | tr '\n' ' ' | sed 's/ $//'
}
others() { # N: the mesh's nodes but N, and node-10 (found, refused)
	for i in $MESH 10; do [ "$i" = "$1" ] || echo "$i"; done
}

# ---- eight nodes find each other and admit each other ------------------
for n in $MESH; do rv_admit "$n" || wg_bail "the pipe of node $n"; done
start=$(date +%s%N)
for n in $MESH; do rv "$n"; done
rv 10
# Node 9 knows another secret.
# shellcheck disable=SC2086 # SCHED is options
ip netns exec "$WG_NS-9" isim-rendezvous run --dev eth0 --descriptor "$WG/d9.json" \
	--secret "$WG/other-secret" --trust "$WG/trust" $SCHED >"$WG/n9/found" 2>"$WG/n9/err" &
echo $! >"$WG/n9/rvpid"
wg_pids="$wg_pids $!"

all_found() {
	for a in $MESH; do
		# shellcheck disable=SC2046 # a list of node numbers
		[ "$(found "$a")" = "$(ids $(others "$a"))" ] || return 1
	done
}
if wait_for $((E + 3)) all_found; then
	ms=$((($(date +%s%N) - start) / 1000000))
	ok "8 nodes on a bridge: every node found every other (and node 10) in $ms ms"
	if [ $ms -le $((E * 1000 + 2 * L + 1500)) ]; then
		ok "... within an epoch of starting (with 1.5 s for the link-local addresses' DAD)"
	else
		not_ok "... within an epoch of starting" "$ms ms"
	fi
else
	not_ok "8 nodes on a bridge: every node found every other" "$(for a in $MESH; do echo "node $a: $(found "$a")"; done)"
fi
same "a found node's source is its own link-local address with the zone" \
	"$(ip -n "$WG_NS-2" -6 -o addr show dev eth0 scope link | grep -v noprefixroute | awk '{print $4}' | cut -d/ -f1)%eth0" \
	"$(jq -r 'select(.node_id == "node-2") | .source' "$WG/n1/found")"
same "... verified under the trusted signers" "true $(jq -r .attestation.key_id "$WG/d2.json")" \
	"$(jq -r 'select(.node_id == "node-2") | "\(.verified) \(.key_id)"' "$WG/n1/found")"
same "... carrying its descriptor as signed" "$(jq -cS . "$WG/d2.json")" \
	"$(jq -cS 'select(.node_id == "node-2") | .descriptor' "$WG/n1/found")"
same "... each node printed once" 8 "$(wc -l <"$WG/n1/found")"
same "node 10, signed by an untrusted key, is found but not verified" false \
	"$(jq -r 'select(.node_id == "node-10") | .verified' "$WG/n1/found")"
# Between an epoch's slots a node holds none; around them, 1 to 4.
if wait_for $((E + 1)) sh -c "[ \$(ip -n '$WG_NS-1' -6 -o addr show dev eth0 | grep -c noprefixroute) -ge 1 ]"; then
	held_now=$(held 1)
	if [ "$held_now" -le 4 ]; then
		ok "a node holds the addresses of its slots (1 to 4 at once; $held_now now)"
	else
		not_ok "a node holds the addresses of its slots (1 to 4 at once)" "$held_now"
	fi
else
	not_ok "a node holds the addresses of its slots" "none within an epoch"
fi
same "node 9, with another secret, found nobody" "" "$(found 9)"
nine=$(for a in $MESH 10; do grep -l node-9 "$WG/n$a/found"; done)
same "... and nobody found it" "" "$nine"

# Admission: every node's WireGuard device holds the others, widened.
admitted() {
	for a in $MESH; do
		[ "$(jq -r 'select(.admitted) | .node_id' "$WG/n$a/verdicts" | sort -u | wc -l)" -eq 7 ] || return 1
	done
}
if wait_for 10 admitted; then ok "isim-wgadmit admitted the 7 others on every node"; else not_ok "isim-wgadmit admitted the 7 others on every node" "$(for a in $MESH; do echo "node $a:"; cat "$WG/n$a/verdicts" "$WG/n$a/admit.err"; done)"; fi
same "... and refused node 10: its signer is not trusted" "false true" \
	"$(jq -r 'select(.node_id == "node-10") | "\(.admitted) \(.reason | test("not a trusted signer"))"' "$WG/n1/verdicts" | head -n 1)"
same "... which is not on node 1's device" 7 "$(wg_peers 1 | wc -l)"
pings=0
for a in 2 5 8; do
	in_ns 1 ping -c 1 -W 3 "10.100.0.$a" >/dev/null 2>&1 && pings=$((pings + 1))
done
in_ns 8 ping -c 1 -W 3 10.100.0.3 >/dev/null 2>&1 && pings=$((pings + 1))
same "the admitted nodes ping each other's tunnel addresses" 4 "$pings"

# ---- what nobody of the mesh should believe ------------------------------
cat >"$WG/inject.py" <<'PY'
# inject.py sniff SECONDS FILE | relay NETNS SECONDS | send FILE MODE:
# capture the rendezvous datagrams to a group that reach this namespace's
# eth0 (AF_PACKET, IPv6 in Ethernet), or another's and send them on at
# once, or send captures and made-up datagrams to ff02::1 port 51871.
import os, socket, struct, sys, time
PORT = 51871
if sys.argv[1] == "sniff":
    s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x86DD))
    s.bind(("eth0", 0))
    s.settimeout(0.1)
    end = time.time() + float(sys.argv[2])
    with open(sys.argv[3], "w") as out:
        while time.time() < end:
            try:
                p = s.recv(2048)
            except socket.timeout:
                continue
            if len(p) < 48 or p[6] != 17 or struct.unpack(">H", p[42:44])[0] != PORT:
                continue
            if p[24] == 0xff:  # to a group: every holder of it heard it
                out.write(p[48:].hex() + "\n")
    sys.exit(0)
ifi = socket.if_nametoindex("eth0")
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, ifi)
dst = ("ff02::1", PORT, 0, ifi)
if sys.argv[1] == "relay":
    # relay NETNS SECONDS: this socket stays here; a capturing one is made
    # in NETNS (setns(2)), and what it captures is sent on at once, while
    # it is still inside its window.
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    with open(sys.argv[2]) as ns:
        if libc.setns(ns.fileno(), 0x40000000) != 0:
            sys.exit("setns: " + os.strerror(ctypes.get_errno()))
    p = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x86DD))
    p.bind(("eth0", 0))
    p.settimeout(0.1)
    end, sent = time.time() + float(sys.argv[3]), 0
    while time.time() < end and sent < 3:
        try:
            d = p.recv(2048)
        except socket.timeout:
            continue
        if len(d) >= 48 and d[6] == 17 and struct.unpack(">H", d[42:44])[0] == PORT and d[24] == 0xff:
            s.sendto(d[48:], dst)
            sent += 1
    print(sent)
    sys.exit(0)
caps = [bytes.fromhex(l) for l in open(sys.argv[2]) if l.strip()]
mode = sys.argv[3]
if mode == "replay":
    for c in caps:
        s.sendto(c, dst)
elif mode == "forge":
    for c in caps:
        s.sendto(c[:-1] + bytes([c[-1] ^ 1]), dst)       # the tag
        s.sendto(c[:50] + bytes([c[50] ^ 1]) + c[51:], dst)  # the descriptor
elif mode == "oversized":
    c = caps[0]
    s.sendto(c[:6] + struct.pack(">H", 1300) + c[8:40] + b"x" * 1300 + c[-16:], dst)
elif mode == "garbage":
    for n in (0, 1, 20, 55, 56, 200, 1232):
        s.sendto(os.urandom(n), dst)
    s.sendto(b"iSRV\x01\x01" + os.urandom(100), dst)
PY
in_ns 8 /usr/bin/python3 "$WG/inject.py" sniff $((E + 1)) "$WG/caps" || wg_bail "capturing datagrams"
[ -s "$WG/caps" ] || wg_bail "datagrams to the slots' groups captured on node 8's link"
ok "datagrams to the slots' groups captured on node 8's link ($(wc -l <"$WG/caps"))"
sum() { # JQ-PATH: over the mesh's nodes
	t=0
	for a in $MESH; do t=$((t + $(count "$a" "$1"))); done
	echo "$t"
}
before_replay=$(sum .dropped.replay)
before_tag=$(sum .dropped.tag)
before_size=$(sum .dropped.size)
before_header=$(sum .dropped.header)
lines_before=$(cat "$WG"/n[1-8]/found | wc -l)
relayed=$(in_ns 9 /usr/bin/python3 "$WG/inject.py" relay "/run/netns/$WG_NS-8" $((E + 1)))
same "node 9 relayed 3 datagrams as node 8 heard them" 3 "$relayed"
in_ns 9 /usr/bin/python3 "$WG/inject.py" send "$WG/caps" forge
in_ns 9 /usr/bin/python3 "$WG/inject.py" send "$WG/caps" oversized
in_ns 9 /usr/bin/python3 "$WG/inject.py" send "$WG/caps" garbage
sleep 0.3
if [ "$(sum .dropped.replay)" -gt "$before_replay" ]; then ok "replayed captures are dropped as replays"; else not_ok "replayed captures are dropped as replays" "$(counters 1)"; fi
if [ "$(sum .dropped.tag)" -ge $((before_tag + 8 * 2 * $(wc -l <"$WG/caps"))) ]; then ok "forged tags and descriptors are dropped by every node (tag)"; else not_ok "forged tags and descriptors are dropped by every node (tag)" "$(counters 1)"; fi
if [ "$(sum .dropped.size)" -ge $((before_size + 8 * 5)) ]; then ok "oversized and short datagrams are dropped (size)"; else not_ok "oversized and short datagrams are dropped (size)" "$(counters 1)"; fi
if [ "$(sum .dropped.header)" -gt "$before_header" ]; then ok "garbage is dropped (header)"; else not_ok "garbage is dropped (header)" "$(counters 1)"; fi
same "nothing injected was printed" "$lines_before" "$(cat "$WG"/n[1-8]/found | wc -l)"
# Past its first epoch a node sends beacons, which draw replies only from
# nodes they are news to: in a mesh where all know all, none.
replies=$(count 7 .sent.reply)
beacons=$(count 7 .sent.beacon)
sleep $((E + 1))
same "steady state: node 7 sent no reply in an epoch" "$replies" "$(count 7 .sent.reply)"
if [ "$(count 7 .sent.beacon)" -gt "$beacons" ]; then ok "... while it sent beacons"; else not_ok "... while it sent beacons" "$(counters 7)"; fi
before_window=$(sum .dropped.window)
in_ns 9 /usr/bin/python3 "$WG/inject.py" send "$WG/caps" replay
sleep 0.3
if [ "$(sum .dropped.window)" -gt "$before_window" ]; then ok "captures replayed an epoch later are dropped (window)"; else not_ok "captures replayed an epoch later are dropped (window)" "$(counters 1)"; fi
same "node 9 still found nobody" "" "$(found 9)"
same "the injections cost no node anything it knew" "$lines_before" "$(cat "$WG"/n[1-8]/found | wc -l)"

# ---- clocks a slot apart, on the second bridge -----------------------------
rv 21 --clock-offset $((-L / 2))
rv 22 --clock-offset $((L / 2))
rv 23
bridge2_found() {
	[ "$(found 21)" = "node-22 node-23" ] && [ "$(found 22)" = "node-21 node-23" ] && [ "$(found 23)" = "node-21 node-22" ]
}
if wait_for $((E + 3)) bridge2_found; then ok "clocks a slot apart ($L ms): the second bridge's nodes find each other"; else not_ok "clocks a slot apart: the second bridge's nodes find each other" "21: $(found 21); 22: $(found 22); 23: $(found 23)"; fi
sleep "$E"
for n in 21 22 23; do
	same "... node $n dropped nothing for its window, nor lost a slot" "0" "$(count "$n" '.dropped.window')"
done
same "... and none of them saw the first bridge" "" "$(cat "$WG"/n2[123]/found | jq -r .node_id | grep -v 'node-2[123]')"

# ---- kill -9, link down and up, the interface deleted ----------------------
# Killed while it holds addresses (between an epoch's slots it holds none).
wait_for $((E + 1)) sh -c "[ \$(ip -n '$WG_NS-2' -6 -o addr show dev eth0 | grep -c noprefixroute) -ge 1 ]"
kill -9 "$(rvpid 2)"
sleep 0.2
left=$(held 2)
if [ "$left" -ge 1 ]; then ok "kill -9 leaves addresses behind ($left)"; else not_ok "kill -9 leaves addresses behind" "$left"; fi
sleep "$E"
stale=$(ip -n "$WG_NS-2" -6 -o addr show dev eth0 | grep noprefixroute | awk '{print $4}')
: >"$WG/n2/found"
rm -f "$WG/n2/fifo" # its reader is gone with it
rv 2
sleep 0.5
now=$(ip -n "$WG_NS-2" -6 -o addr show dev eth0 | grep noprefixroute | awk '{print $4}')
kept=$(for a in $stale; do echo "$now" | grep -qx "$a" && echo "$a"; done)
same "... which the next run removes at start" "" "$kept"
if kill -0 "$(rvpid 2)" 2>/dev/null; then ok "... and it runs"; else not_ok "... and it runs" "$(cat "$WG/n2/err")"; fi
# shellcheck disable=SC2046
if wait_for $((E + 2)) sh -c "[ \"\$(jq -r .node_id '$WG/n2/found' | sort -u | wc -l)\" -eq 8 ]"; then ok "... and finds every node again within an epoch"; else not_ok "... and finds every node again" "$(found 2)"; fi

ip -n "$WG_NS-3" link set eth0 down
sleep 0.2
same "link down: the kernel took the addresses" 0 "$(held 3)"
ip -n "$WG_NS-3" link set eth0 up
if wait_for $((E + 3)) sh -c "[ \$(ip -n '$WG_NS-3' -6 -o addr show dev eth0 | grep -c noprefixroute) -ge 1 ]"; then ok "link up: the daemon holds its addresses again"; else not_ok "link up: the daemon holds its addresses again" "$(cat "$WG/n3/err")"; fi
r3=$(count 3 .received)
sleep "$E"
if [ "$(count 3 .received)" -gt "$r3" ]; then ok "... and hears the mesh again"; else not_ok "... and hears the mesh again" "$(counters 3)"; fi

ip -n "$WG_NS-4" link del eth0
sleep 0.3
if kill -0 "$(rvpid 4)" 2>/dev/null; then ok "the interface deleted: the daemon waits"; else not_ok "the interface deleted: the daemon waits"; fi
contains "... and says so" "$WG/n4/err" "interface eth0 was removed; waiting for eth0 to come back"
ip -n "$WG_BR" link add v4 type veth peer name eth0 netns "$WG_NS-4" && ip -n "$WG_BR" link set v4 master br0 up && ip -n "$WG_NS-4" addr add 10.99.0.4/24 dev eth0 && ip -n "$WG_NS-4" link set eth0 up
if wait_for $((E + 3)) sh -c "[ \$(ip -n '$WG_NS-4' -6 -o addr show dev eth0 | grep -c noprefixroute) -ge 1 ]"; then ok "... made again: its addresses are back"; else not_ok "... made again: its addresses are back" "$(cat "$WG/n4/err")"; fi
contains "... said" "$WG/n4/err" "interface eth0 is back"
r4=$(count 4 .received)
sleep "$E"
if [ "$(count 4 .received)" -gt "$r4" ]; then ok "... and it hears the mesh again"; else not_ok "... and it hears the mesh again" "$(counters 4)"; fi

ip -n "$WG_NS-6" link set eth0 down && ip -n "$WG_NS-6" link set eth0 name lan0 && ip -n "$WG_NS-6" link set lan0 up
if wait_for $((E + 3)) sh -c "[ \$(ip -n '$WG_NS-6' -6 -o addr show dev lan0 | grep -c noprefixroute) -ge 1 ]"; then
	ok "the interface renamed (eth0 to lan0): the daemon follows it and holds its addresses there"
else
	not_ok "the interface renamed: the daemon follows it" "$(cat "$WG/n6/err")"
fi
r6=$(count 6 .received)
sleep "$E"
if [ "$(count 6 .received)" -gt "$r6" ]; then ok "... and hears the mesh there"; else not_ok "... and hears the mesh there" "$(counters 6)"; fi

# ---- the trusted signers change ------------------------------------------------
cp "$WG/rogue.pub" "$WG/trust/rogue.pub"
kill -HUP "$(rvpid 1)"
if wait_for $((E + 3)) sh -c "jq -e 'select(.node_id == \"node-10\" and .verified)' '$WG/n1/found' >/dev/null"; then
	ok "SIGHUP with node 10's signer now trusted: node 1 prints node 10 again, verified"
else
	not_ok "SIGHUP with node 10's signer now trusted: node 1 prints node 10 again, verified" "$(cat "$WG/n1/err")"
fi
same "... once" 1 "$(jq -r 'select(.node_id == "node-10" and .verified) | .node_id' "$WG/n1/found" | wc -l)"
rm -f "$WG/trust/rogue.pub"

# ---- stopping ------------------------------------------------------------------
kill -TERM "$(rvpid 5)"
wait_for 5 sh -c "! kill -0 $(rvpid 5) 2>/dev/null"
same "SIGTERM: the daemon removes its addresses" 0 "$(held 5)"
contains "... and prints its counters" "$WG/n5/err" '"dropped":{"size"'
finish
