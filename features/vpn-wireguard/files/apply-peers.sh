#!/bin/sh
# apply-peers.sh [FILE...]: admit peers from their node descriptors, one JSON
# object a line (JSON Lines; default standard input), into this node's mesh
# interface by the seed's narrow admission, with isim-wgadmit(1): a new peer
# gets its host routes (/32, /128) only, its descriptor is verified against
# the trusted signers, and it then gets every range it declares, or is
# removed. The interface, network_cidr, persistent_keepalive and
# narrow_admission come from the feature's configuration. Prints
# isim-wgadmit's verdicts, one JSON line a peer; exits as it does (0 every
# peer admitted, 1 one refused), or 69 without isim-wgadmit.
set -u
. "${ISIM_LIBDIR:-/usr/local/lib/infrasim}/config.sh"

ifname=$(isim_config vpn-wireguard interface) || ifname=wg0
cidr=$(isim_config vpn-wireguard network_cidr) || cidr=10.100.0.0/16
keepalive=$(isim_config vpn-wireguard persistent_keepalive) || keepalive=25
narrow=$(isim_config vpn-wireguard narrow_admission) || narrow=true
trust=${ISIM_TRUST_DIR:-/etc/infrasim/trusted-signers}

if ! command -v isim-wgadmit >/dev/null 2>&1; then
	echo "apply-peers.sh: isim-wgadmit is not installed" >&2
	exit 69
fi
set -- --dev "$ifname" --network "$cidr" --keepalive "$keepalive" --trust "$trust" "$@"
[ "$narrow" = true ] || set -- --no-narrow "$@"
exec isim-wgadmit admit "$@"
