#!/bin/sh
# isim-rendezvous, in network namespaces on a bridge (needs root):
#  - discovery: the time for N = 2, 8 and 32 nodes started together to all
#    find each other, against the physical floor: the wait for the next
#    slot to start, plus one round trip on the link;
#  - flood: forged datagrams per second the daemon authenticates and drops,
#    against the rate at which the same socket, bound the same way, merely
#    receives them (tests/bench/udp_flood.c), for a descriptor-sized and a
#    largest datagram.
# Medians of BENCH_RUNS runs (default 5). No figure is asserted.
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
RUNS=${BENCH_RUNS:-5}
FLOOD_SECONDS=${BENCH_FLOOD_SECONDS:-3}
[ "$(id -u)" -eq 0 ] || { echo "rendezvous: skipped (needs root)"; exit 0; }
PATH=$ISIM_BIN:$PATH
NS=isimrvb$$
W=$B/rendezvous
rm -rf "$W" && mkdir -p "$W" || exit 1
namespaces=""
cleanup() {
	for f in "$W"/*.pid; do
		[ -s "$f" ] && kill "$(cat "$f")" 2>/dev/null
	done
	for n in $namespaces; do ip netns delete "$n" 2>/dev/null; done
}
trap cleanup EXIT INT TERM

ip netns add "$NS-br" && namespaces="$NS-br" && ip -n "$NS-br" link add br0 type bridge &&
	ip -n "$NS-br" link set br0 up || exit 1
# node N: a namespace on the bridge, eth0 without DAD (the floor is about
# the protocol, not the kernel's wait for its own link-local address).
node() {
	ip netns add "$NS-$1" || return 1
	namespaces="$namespaces $NS-$1"
	ip -n "$NS-br" link add "v$1" type veth peer name eth0 netns "$NS-$1" &&
		ip -n "$NS-br" link set "v$1" master br0 up &&
		ip netns exec "$NS-$1" sysctl -qw net.ipv6.conf.eth0.accept_dad=0 &&
		ip -n "$NS-$1" link set lo up && ip -n "$NS-$1" link set eth0 up
}
i=1
while [ $i -le 32 ]; do node $i || exit 1; i=$((i + 1)); done

isim-sign keygen -W -o "$W/signer" >/dev/null || exit 1
mkdir -p "$W/trust" && cp "$W/signer.pub" "$W/trust/"
(umask 077 && head -c 48 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$W/secret")
key() { head -c 32 /dev/urandom | base64; }
i=1
while [ $i -le 32 ]; do
	jq -n -c --arg n "$i" --arg k "$(key)" --arg e "$(key)" \
		--arg a "$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)" --arg b "$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)" '{
		node_id: ("node-" + $n), identity: {wg_public_key: $k, ed25519_public_key: $e},
		endpoints: {wireguard: ("10.99.0." + $n + ":51820")},
		allowed_ips: [("10.100.0." + $n + "/32"), ("10.100." + $n + ".0/24")],
		issued_at: $a, expires_at: $b}' | isim-sign descriptor -k "$W/signer" --stream >"$W/d$i.json" || exit 1
	i=$((i + 1))
done
echo "descriptor: $(wc -c <"$W/d1.json") bytes signed, one datagram"

# The link's round trip: node 1 pings node 2's link-local address.
ll2=$(ip -n "$NS-2" -6 -o addr show dev eth0 scope link | awk '{print $4}' | cut -d/ -f1)
rtt=$(ip netns exec "$NS-1" ping -6 -q -c 20 -i 0.01 "$ll2%eth0" | awk -F/ '/^rtt/ { print $5 }')
echo "round trip on the bridge: $rtt ms"

# ---- discovery ---------------------------------------------------------------
cat >"$W/discover.py" <<'PY'
# discover.py N RUNS DIR NS RTT_MS: start N daemons together just after an
# epoch's slots have passed, time until each has printed every other, and
# print the medians of that time and of the floor, in ms.
import json, os, selectors, statistics, subprocess, sys, time
n, runs, d, ns, rtt = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], float(sys.argv[5])
E, S, L = 2000, 4, 200
took, floors = [], []
for r in range(runs):
    # Just after the slots of an epoch: 100 ms into the gap.
    t = time.time() * 1000
    start = (t // E) * E + S * L + 100
    if start < t:
        start += E
    time.sleep((start - t) / 1000)
    procs, sel = [], selectors.DefaultSelector()
    for i in range(1, n + 1):
        p = subprocess.Popen(["ip", "netns", "exec", "%s-%d" % (ns, i), "isim-rendezvous", "run", "--dev", "eth0",
                              "--descriptor", "%s/d%d.json" % (d, i), "--secret", d + "/secret", "--trust", d + "/trust",
                              "--epoch-seconds", "2", "--slots", str(S), "--slot-ms", str(L)],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        procs.append(p)
        sel.register(p.stdout, selectors.EVENT_READ, {"seen": set(), "buf": b""})
    t0 = time.time() * 1000
    nxt = ((t0 // E) + 1) * E  # the next epoch's slot 0
    floor = nxt - t0 + rtt
    done, deadline = 0, t0 + 3 * E
    while done < n and time.time() * 1000 < deadline:
        for key, _ in sel.select(timeout=0.1):
            st = key.data
            *lines, st["buf"] = (st["buf"] + os.read(key.fd, 65536)).split(b"\n")
            for line in lines:
                st["seen"].add(json.loads(line)["node_id"])
            if len(st["seen"]) == n - 1:
                done += 1
                sel.unregister(key.fileobj)
    t1 = time.time() * 1000
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait()
    if done < n:
        print("run %d: only %d of %d nodes found everyone" % (r, done, n), file=sys.stderr)
        sys.exit(1)
    took.append(t1 - t0)
    floors.append(floor)
print("%.1f %.1f" % (statistics.median(took), statistics.median(floors)))
PY
for n in 2 8 32; do
	fig=$(/usr/bin/python3 "$W/discover.py" $n "$RUNS" "$W" "$NS" "$rtt") || { echo "discovery of $n nodes failed"; exit 1; }
	took=${fig% *}
	floor=${fig#* }
	echo "discovery, $n nodes: $took ms, floor $floor ms (next slot + round trip): $(ratio "$took" "$floor")x"
done

# ---- flood -------------------------------------------------------------------
cc -O2 -std=c11 -D_GNU_SOURCE -o "$W/udp_flood" tests/bench/udp_flood.c || exit 1
ll1=$(ip -n "$NS-1" -6 -o addr show dev eth0 scope link | awk '{print $4}' | cut -d/ -f1)
counter() { # FIELD: node 1's daemon's counter, asked for with SIGUSR1
	before=$(grep -c '^{"sent"' "$W/flood.err")
	kill -USR1 "$(cat "$W/daemon.pid")"
	while [ "$(grep -c '^{"sent"' "$W/flood.err")" -le "$before" ]; do sleep 0.05; done
	grep '^{"sent"' "$W/flood.err" | tail -n 1 | jq "$1"
}
for size in 600 1232; do
	daemon_rates=""
	sink_rates=""
	r=0
	while [ $r -lt "$RUNS" ]; do
		# The daemon.
		: >"$W/flood.err"
		ip netns exec "$NS-1" isim-rendezvous run --dev eth0 --descriptor "$W/d1.json" --secret "$W/secret" \
			--trust "$W/trust" >/dev/null 2>"$W/flood.err" &
		echo $! >"$W/daemon.pid"
		sleep 0.5
		a=$(counter .dropped.tag)
		ip netns exec "$NS-2" "$W/udp_flood" send "$ll1%eth0" 51871 "$size" "$FLOOD_SECONDS" >/dev/null
		sleep 0.3
		b=$(counter .dropped.tag)
		kill "$(cat "$W/daemon.pid")"
		wait "$(cat "$W/daemon.pid")" 2>/dev/null
		daemon_rates="$daemon_rates $(awk -v a="$a" -v b="$b" -v s="$FLOOD_SECONDS" 'BEGIN { printf "%.0f", (b - a) / s }')"
		# The bare socket, on the same port.
		ip netns exec "$NS-1" "$W/udp_flood" sink 51871 "$FLOOD_SECONDS" >"$W/sink.out" &
		echo $! >"$W/sink.pid"
		while [ ! -s "$W/sink.out" ]; do sleep 0.05; done
		ip netns exec "$NS-2" "$W/udp_flood" send "$ll1%eth0" 51871 "$size" "$FLOOD_SECONDS" >/dev/null
		wait "$(cat "$W/sink.pid")"
		sink_rates="$sink_rates $(awk 'NR == 2 { printf "%.0f", $1 / $2 }' "$W/sink.out")"
		r=$((r + 1))
	done
	dm=$(echo "$daemon_rates" | tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
	sm=$(echo "$sink_rates" | tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
	echo "flood, $size-byte forged datagrams: dropped $dm/s, a bare socket receives $sm/s: $(ratio "$dm" "$sm")x"
done
