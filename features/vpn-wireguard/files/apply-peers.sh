#!/bin/sh
# apply-peers.sh [FILE]: admit peers from their node descriptors, one JSON
# object a line (JSON Lines; default standard input), by the seed's narrow
# admission:
#   1. add the peer with narrow AllowedIPs: its /32 and /128 entries, or the
#      first address it declares as /32 or /128;
#   2. verify its descriptor against the trusted signers (isim-verify);
#   3. widen AllowedIPs to every range it declares when it verifies, remove
#      the peer when it does not.
# With narrow_admission false a peer is added only once it verifies, with
# all its ranges. Prints one JSON line a peer; exits 0 when every peer was
# admitted, 1 when one was refused, 69 without wg or isim-verify.
set -u
. "${ISIM_LIBDIR:-/usr/local/lib/infrasim}/config.sh"

ifname=$(isim_config vpn-wireguard interface) || ifname=wg0
keepalive=$(isim_config vpn-wireguard persistent_keepalive) || keepalive=25
narrow=$(isim_config vpn-wireguard narrow_admission) || narrow=true
trust=${ISIM_TRUST_DIR:-/etc/infrasim/trusted-signers}

for tool in wg isim-verify jq; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "apply-peers.sh: $tool is not installed" >&2
		exit 69
	fi
done

report() { # node admitted allowed-ips|reason
	if [ "$2" = true ]; then
		jq -cn --arg n "$1" --arg a "$3" '{node_id: $n, admitted: true, allowed_ips: ($a | split(","))}'
	else
		jq -cn --arg n "$1" --arg r "$3" '{node_id: $n, admitted: false, reason: $r}'
	fi
}

# The /32 and /128 entries of the declared ranges, else the first range's
# address as a host route.
narrowed() {
	printf '%s\n' "$1" | jq -r '
		[.allowed_ips[] | select(endswith("/32") or endswith("/128"))] as $hosts
		| if ($hosts | length) > 0 then $hosts
		  else [.allowed_ips[0] | split("/")[0] | if contains(":") then . + "/128" else . + "/32" end]
		  end | join(",")'
}

admit() {
	line=$1
	node=$(printf '%s\n' "$line" | jq -r '.node_id // "?"' 2>/dev/null) || node="?"
	if ! key=$(printf '%s\n' "$line" | jq -er '.identity.wg_public_key' 2>/dev/null) ||
		! ranges=$(printf '%s\n' "$line" | jq -er '.allowed_ips | join(",")' 2>/dev/null); then
		report "$node" false "not a node descriptor"
		return 1
	fi
	endpoint=$(printf '%s\n' "$line" | jq -r '.endpoints.wireguard // empty')
	set -- persistent-keepalive "$keepalive"
	[ -n "$endpoint" ] && set -- "$@" endpoint "$endpoint"
	if [ "$narrow" = true ]; then
		wg set "$ifname" peer "$key" allowed-ips "$(narrowed "$line")" "$@" || {
			report "$node" false "wg refused the peer"
			return 1
		}
	fi
	if verdict=$(printf '%s\n' "$line" | isim-verify descriptor --trust "$trust" 2>/dev/null); then
		wg set "$ifname" peer "$key" allowed-ips "$ranges" "$@"
		report "$node" true "$ranges"
		return 0
	fi
	[ "$narrow" = true ] && wg set "$ifname" peer "$key" remove
	reason=$(printf '%s\n' "$verdict" | jq -r '.reason // empty' 2>/dev/null)
	report "$node" false "${reason:-descriptor does not verify}"
	return 1
}

status=0
while IFS= read -r line; do
	[ -n "$line" ] || continue
	admit "$line" || status=1
done <"${1:-/dev/stdin}"
exit $status
