#!/bin/sh
# vpn-wireguard: the key pair made and private, the interface up with this
# node's address, listening on its port behind an open firewall, the mesh
# routed through it, and the tools of admission in place.
manifest=${ISIM_MANIFEST:-/etc/infrasim/manifest.json}
# shellcheck source=features/base-minimal/files/infrasim-tap.sh
. "${ISIM_LIBDIR:-/usr/local/lib/infrasim}/tap.sh"
cfg() { jq -er --arg k "$1" '.feature_config["vpn-wireguard"][$k] | tostring' "$manifest" 2>/dev/null || echo "$2"; }
listening() { # udp PORT
	cat "/proc/net/$1" "/proc/net/${1}6" 2>/dev/null |
		awk -v p="$(printf ':%04X' "$2")" 'substr($2, length($2) - 4) == p { f = 1 } END { exit !f }'
}
same() { # description expected actual
	if [ -n "$2" ] && [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (expected '$2', got '$3')"; fi
}

ifname=$(cfg interface wg0)
port=$(cfg listen_port 51820)
cidr=$(cfg network_cidr 10.100.0.0/16)
table=$(cfg routing_table 0)
[ "$table" = 0 ] && table=main
case $cidr in *:*) family=-6 ;; *) family=-4 ;; esac
key=/etc/wireguard/private.key
address=$(tr -d ' \n' 2>/dev/null </etc/infrasim/wireguard/address)

check "wg is installed" command -v wg
check "isim-verify is installed, to admit peers by their descriptors" command -v isim-verify
check "apply-peers.sh is executable" test -x /usr/local/bin/apply-peers.sh
same "the private key is private to root" "600:0" "$(stat -c %a:%u "$key" 2>/dev/null)"
check "interface $ifname is up" sh -c "ip -o link show dev '$ifname' up | grep -q ."
same "$ifname listens on port $port" "$port" "$(wg show "$ifname" listen-port 2>/dev/null)"
check "UDP port $port is bound" listening udp "$port"
same "$ifname holds the node's public key" "$(wg pubkey 2>/dev/null <"$key")" "$(wg show "$ifname" public-key 2>/dev/null)"
if [ -n "$address" ] && ip -o addr show dev "$ifname" 2>/dev/null | grep -q " ${address%/*}/"; then
	ok "$ifname has this node's address ${address:-?}"
else
	not_ok "$ifname has this node's address ${address:-(none delivered)}"
fi
if ip "$family" route show table "$table" "$cidr" 2>/dev/null | grep -q "dev $ifname"; then
	ok "$cidr is routed through $ifname (table $table)"
else
	not_ok "$cidr is routed through $ifname (table $table)"
fi
if nft list chain inet infrasim input 2>/dev/null | grep -q "udp dport $port accept"; then
	ok "the firewall accepts UDP port $port"
else
	not_ok "the firewall accepts UDP port $port"
fi

tap_done
