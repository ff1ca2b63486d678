#!/bin/sh
# apply-peers.sh [FILE]: admit peers from node descriptors, one JSON object
# per line (JSON Lines; default stdin), as the seed's admission flow says:
#   1. add the peer with narrow AllowedIPs (its first address as /32 or /128)
#   2. verify its descriptor against the trusted signers
#   3. on success widen AllowedIPs to the declared ranges; on failure remove it
# Prints one JSON line per peer; exits 1 if any peer was refused.
set -eu
. /usr/local/lib/infrasim/config.sh

ifname=$(isim_config vpn-wireguard interface) || ifname=wg0
keepalive=$(isim_config vpn-wireguard persistent_keepalive) || keepalive=25
narrow=$(isim_config vpn-wireguard narrow_admission) || narrow=true
trust=$(isim_config base-minimal trusted_signers_dir) || trust=/etc/infrasim/trusted-signers
status=0

narrowed() {
	case $1 in
	*:*) echo "${1%/*}/128" ;;
	*) echo "${1%/*}/32" ;;
	esac
}

admit() {
	line=$1
	key=$(printf '%s\n' "$line" | jq -er '.identity.wg_public_key') || return 1
	node=$(printf '%s\n' "$line" | jq -r '.node_id // "?"')
	endpoint=$(printf '%s\n' "$line" | jq -r '.endpoints.wireguard // empty')
	ranges=$(printf '%s\n' "$line" | jq -r '.allowed_ips | join(",")')
	first=$(printf '%s\n' "$line" | jq -r '.allowed_ips[0]')
	if [ "$narrow" = true ]; then
		allowed=$(narrowed "$first")
	else
		allowed=$ranges
	fi
	set -- peer "$key" allowed-ips "$allowed" persistent-keepalive "$keepalive"
	[ -n "$endpoint" ] && set -- "$@" endpoint "$endpoint"
	wg set "$ifname" "$@"
	if printf '%s\n' "$line" | isim-verify descriptor --trust "$trust" >/dev/null 2>&1; then
		wg set "$ifname" peer "$key" allowed-ips "$ranges"
		printf '{"node_id":"%s","admitted":true,"allowed_ips":"%s"}\n' "$node" "$ranges"
	else
		wg set "$ifname" peer "$key" remove
		printf '{"node_id":"%s","admitted":false,"reason":"descriptor does not verify"}\n' "$node"
		return 1
	fi
}

while IFS= read -r line; do
	[ -n "$line" ] || continue
	admit "$line" || status=1
done <"${1:-/dev/stdin}"
exit $status
