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
check "isim-wgadmit is installed, to admit peers by their descriptors" command -v isim-wgadmit
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

# Admission itself, on a WireGuard device of this test's own (the kernel's,
# through netlink), so that the mesh's interface is left alone: a peer whose
# descriptor a trusted signer attested is admitted with its ranges; a forged
# one is refused and is not on the device.
st=$(mktemp -d)
dev=isimst$$
now=$(date -u +%s)
stamp() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
mkdir -p "$st/trust"
if ip link add "$dev" type wireguard 2>"$st/err" &&
	isim-sign keygen -W -o "$st/signer" >/dev/null 2>>"$st/err" &&
	mv "$st/signer.pub" "$st/trust/signer.pub" &&
	printf '{"node_id": "selftest-a", "identity": {"wg_public_key": "%s", "ed25519_public_key": "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="}, "endpoints": {"wireguard": "192.0.2.1:51820"}, "allowed_ips": ["10.100.200.1/32", "10.100.201.0/24"], "issued_at": "%s", "expires_at": "%s"}\n' \
		"$(wg genkey | wg pubkey)" "$(stamp $((now - 60)))" "$(stamp $((now + 86400)))" >"$st/node.json" &&
	isim-sign descriptor -k "$st/signer" "$st/node.json" >"$st/signed.json" 2>>"$st/err"; then
	wa() { isim-wgadmit admit --dev "$dev" --state-dir "$st/state" --trust "$st/trust" "$@"; }
	jq -c . "$st/signed.json" >"$st/good.jsonl"
	if wa "$st/good.jsonl" >"$st/out" 2>>"$st/err" &&
		[ "$(jq -r '"\(.admitted) \(.allowed_ips | join(","))"' "$st/out")" = "true 10.100.200.1/32,10.100.201.0/24" ] &&
		wg show "$dev" allowed-ips | grep -q "10.100.201.0/24"; then
		ok "isim-wgadmit admits a peer whose descriptor verifies, with its declared ranges"
	else
		not_ok "isim-wgadmit admits a peer whose descriptor verifies, with its declared ranges ($(cat "$st/out" "$st/err" | head -c 400))"
	fi
	# Another node's key, and a range more than it was signed with.
	jq -c --arg k "$(wg genkey | wg pubkey)" \
		'.node_id = "selftest-b" | .identity.wg_public_key = $k | .allowed_ips = ["10.100.210.1/32", "10.100.211.0/24"]' \
		"$st/signed.json" >"$st/forged.jsonl"
	wa "$st/forged.jsonl" >"$st/out" 2>>"$st/err"
	rc=$?
	fkey=$(jq -r .wg_public_key "$st/out" 2>/dev/null)
	if [ "$rc" = 1 ] && jq -e '.admitted == false and (.reason | startswith("signature"))' "$st/out" >/dev/null 2>&1 &&
		[ -n "$fkey" ] && ! wg show "$dev" peers | grep -qxF "$fkey" && [ "$(wg show "$dev" peers | wc -l)" = 1 ]; then
		ok "isim-wgadmit refuses a forged descriptor, and its peer is not on the device"
	else
		not_ok "isim-wgadmit refuses a forged descriptor, and its peer is not on the device (exit $rc: $(cat "$st/out" "$st/err" | head -c 400))"
	fi
else
	not_ok "a WireGuard device and a signer for the admission test ($(head -c 400 "$st/err"))"
fi
ip link del "$dev" 2>/dev/null
rm -rf "$st"

tap_done
