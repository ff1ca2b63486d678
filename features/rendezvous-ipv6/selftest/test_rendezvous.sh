#!/bin/sh
# rendezvous-ipv6: the secret long enough, the daemon running under
# supervise-daemon and started again when it is killed, the addresses the
# known answers say, and a real exchange: two namespaces on a veth pair,
# each running isim-rendezvous with this node's secret and descriptor, find
# each other, verified under the trusted signers. The firewall is open to
# link-local peers.
manifest=${ISIM_MANIFEST:-/etc/infrasim/manifest.json}
# shellcheck source=features/base-minimal/files/infrasim-tap.sh
. "${ISIM_LIBDIR:-/usr/local/lib/infrasim}/tap.sh"
cfg() { jq -er --arg k "$1" '.feature_config["rendezvous-ipv6"][$k] | tostring' "$manifest" 2>/dev/null || echo "$2"; }

port=$(cfg port 51871)
secret=${MESH_SECRET_FILE:-/etc/infrasim/secrets/mesh_secret}
descriptor=/etc/infrasim/node-descriptor.json
work=$(mktemp -d)
ns=isimrv$$
cleanup() {
	for f in "$work"/pid.*; do
		[ -s "$f" ] && kill "$(cat "$f")" 2>/dev/null
	done
	ip netns delete "${ns}a" 2>/dev/null
	ip netns delete "${ns}b" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

if [ "$(tr -d '\r\n' 2>/dev/null <"$secret" | wc -c)" -ge 32 ]; then
	ok "the mesh secret is at least 32 bytes"
else
	not_ok "the mesh secret is at least 32 bytes"
fi
check "rendezvousd is running" rc-service rendezvousd status
check "... under supervise-daemon" pgrep -f "supervise-daemon rendezvousd"
first=$(pgrep -x isim-rendezvous | head -n 1)
if [ -n "$first" ]; then
	ok "isim-rendezvous runs (pid $first)"
	kill -9 "$first"
	i=0
	again=
	while [ $i -lt 100 ]; do
		again=$(pgrep -x isim-rendezvous | head -n 1)
		[ -n "$again" ] && [ "$again" != "$first" ] && break
		sleep 0.1
		i=$((i + 1))
	done
	if [ -n "$again" ] && [ "$again" != "$first" ]; then
		ok "killed, it is started again (pid $again)"
	else
		not_ok "killed, it is started again"
	fi
else
	not_ok "isim-rendezvous runs" "$(tail -n 5 /var/log/rendezvousd.log 2>/dev/null)"
fi

# tests/vectors/rendezvous/kat.tsv's first row: 32 bytes of 'x'.
printf 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n' >"$work/kat"
chmod 600 "$work/kat"
a=$(isim-rendezvous addr --secret "$work/kat" --epoch 0 --slot 0 --count 1 | jq -r '.slots[0].address')
if [ "$a" = fe80::182b:486b:25a8:a227 ]; then
	ok "the address of epoch 0, slot 0 is the known answer"
else
	not_ok "the address of epoch 0, slot 0 is the known answer (got '$a')"
fi

# Two nodes on a link of their own: the veth pair, no DAD to wait for.
ex() { ip netns exec "$@"; }
if ip netns add "${ns}a" && ip netns add "${ns}b" &&
	ip link add rva netns "${ns}a" type veth peer name rvb netns "${ns}b" &&
	ex "${ns}a" sysctl -qw net.ipv6.conf.rva.accept_dad=0 && ex "${ns}b" sysctl -qw net.ipv6.conf.rvb.accept_dad=0 &&
	ex "${ns}a" ip link set rva up && ex "${ns}b" ip link set rvb up; then
	for s in a b; do
		ex "${ns}$s" isim-rendezvous run --dev "rv$s" --descriptor "$descriptor" --secret "$secret" \
			--epoch-seconds 2 --slots 4 --slot-ms 250 --once >"$work/found.$s" 2>"$work/err.$s" &
		echo $! >"$work/pid.$s"
	done
	wait "$(cat "$work/pid.a")" "$(cat "$work/pid.b")"
	src_b=$(ex "${ns}b" ip -6 -o addr show dev rvb scope link | grep -v noprefixroute | awk '{print $4}' | cut -d/ -f1)
	got=$(jq -r 'select(.verified) | .source' "$work/found.a" 2>/dev/null | head -n 1)
	if [ -n "$src_b" ] && [ "$got" = "$src_b%rva" ]; then
		ok "a real exchange: one node found the other, verified, at its own link-local address"
	else
		not_ok "a real exchange: one node found the other, verified (got '$got', want '$src_b%rva')" \
			"$(cat "$work/err.a" "$work/found.a")"
	fi
	if [ "$(jq -r .verified "$work/found.b" 2>/dev/null | head -n 1)" = true ]; then
		ok "... and the other the first"
	else
		not_ok "... and the other the first" "$(cat "$work/err.b")"
	fi
else
	not_ok "two namespaces on a veth pair"
fi

if nft list chain inet infrasim input 2>/dev/null | grep -q "udp dport $port accept"; then
	ok "the firewall accepts link-local peers on UDP port $port"
else
	not_ok "the firewall accepts link-local peers on UDP port $port"
fi

tap_done
