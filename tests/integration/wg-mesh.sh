#!/bin/sh
# The WireGuard test mesh of lib-wg.sh with wg(8) alone: three wireguard-go
# devices in their namespaces, each with its own UAPI socket; peers set by
# hand tunnel IPv4 and IPv6, AllowedIPs decide what a peer may receive, and
# everything is gone after the cleanup. The tests of isim-wgadmit stand on it.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/lib-wg.sh
. "$(dirname "$0")/lib-wg.sh"

need_root || wg_skip_all "needs root"
for c in wireguard-go wg ip unshare nsenter ping; do
	command -v "$c" >/dev/null 2>&1 || wg_skip_all "$c is not installed (scripts/install-deps.sh)"
done
wg_mesh 1 2 3

for n in 1 2 3; do
	same "node $n: its own UAPI socket" yes "$([ -S "$(wg_uapi "$n")/wg$n.sock" ] && echo yes)"
	same "node $n: wg show reads its key through it" "$(wg_pub "$n")" "$(wg_on "$n" show "wg$n" public-key)"
	same "node $n: listens on 51820" 51820 "$(wg_on "$n" show "wg$n" listen-port)"
done
same "no socket in the host's /run/wireguard" no \
	"$([ -e /run/wireguard/wg1.sock ] || [ -e /run/wireguard/wg2.sock ] || [ -e /run/wireguard/wg3.sock ] && echo yes || echo no)"
check "the underlay: node 1 pings node 2 at 10.99.0.2" in_ns 1 ping -c 1 -W 2 10.99.0.2

# Node 1 gives node 2 its host routes and 10.100.5.0/24, node 3 only its
# host routes; nodes 2 and 3 have node 1.
ip -n "$(wg_ns 2)" addr add 10.100.5.1/24 dev wg2
ip -n "$(wg_ns 3)" addr add 10.100.6.1/24 dev wg3
wg_on 1 set wg1 peer "$(wg_pub 2)" endpoint 10.99.0.2:51820 allowed-ips 10.100.0.2/32,fd10:100::2/128,10.100.5.0/24
wg_on 1 set wg1 peer "$(wg_pub 3)" endpoint 10.99.0.3:51820 allowed-ips 10.100.0.3/32,fd10:100::3/128
for n in 2 3; do
	wg_on "$n" set "wg$n" peer "$(wg_pub 1)" endpoint 10.99.0.1:51820 allowed-ips 10.100.0.1/32,fd10:100::1/128
done
check "through the tunnel: 10.100.0.2" in_ns 1 ping -c 1 -W 2 10.100.0.2
check "through the tunnel: fd10:100::2" in_ns 1 ping -c 1 -W 2 fd10:100::2
check "through the tunnel: 10.100.5.1, in node 2's range" in_ns 1 ping -c 1 -W 2 10.100.5.1
check "through the tunnel: 10.100.0.3" in_ns 1 ping -c 1 -W 2 10.100.0.3
if in_ns 1 ping -c 2 -W 1 10.100.6.1 >/dev/null 2>&1; then
	not_ok "node 3 receives nothing outside its host routes"
else
	ok "node 3 receives nothing outside its host routes"
fi
same "wg_allowed lists a peer's allowed ips" "10.100.0.2/32 10.100.5.0/24 fd10:100::2/128" "$(wg_allowed 1 "$(wg_pub 2)")"
same "wg_dump: one line a peer" 2 "$(wg_dump 1 | wc -l)"
same "wg_randkeys: 32-byte keys in canonical base64" 50 \
	"$(wg_randkeys 50 | grep -Ecx '[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=')"
k=$(wg_randkeys 1)
same "... that wg takes" "$k" "$(printf '%s\n' "$k" | base64 -d | base64)"

pids=$wg_pids
nss=$wg_netns
wg_stop
left=""
for p in $pids; do
	if kill -0 "$p" 2>/dev/null && [ "$(cut -d' ' -f3 "/proc/$p/stat")" != Z ]; then left="$left $p"; fi
done
same "the cleanup stops every daemon" "" "$left"
left=""
for ns in $nss; do
	if ip netns list | grep -q "^$ns\b"; then left="$left $ns"; fi
done
same "... and deletes every namespace" "" "$left"
finish
