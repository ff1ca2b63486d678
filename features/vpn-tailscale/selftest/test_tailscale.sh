#!/bin/sh
# vpn-tailscale: tailscaled installed, enabled and running on its port
# behind an open firewall, the join service enabled, the auth key private.
# Whether the tailnet answers depends on the network, so joining is not
# required here: tailscale-check.sh tells.
manifest=${ISIM_MANIFEST:-/etc/infrasim/manifest.json}
# shellcheck source=features/base-minimal/files/infrasim-tap.sh
. "${ISIM_LIBDIR:-/usr/local/lib/infrasim}/tap.sh"
cfg() { jq -er --arg k "$1" '.feature_config["vpn-tailscale"][$k] | tostring' "$manifest" 2>/dev/null || echo "$2"; }
listening() { # udp PORT
	cat "/proc/net/$1" "/proc/net/${1}6" 2>/dev/null |
		awk -v p="$(printf ':%04X' "$2")" 'substr($2, length($2) - 4) == p { f = 1 } END { exit !f }'
}

port=$(cfg port 41641)
key=/etc/infrasim/secrets/tailscale_auth_key

check "tailscale is installed" command -v tailscale
check "tailscaled is enabled" test -e /etc/runlevels/default/tailscale
check "the join service is enabled" test -e /etc/runlevels/default/infrasim-tailscale
check "tailscaled is running" rc-service tailscale status
check "tailscaled listens on UDP port $port" listening udp "$port"
if nft list chain inet infrasim input 2>/dev/null | grep -q "udp dport $port accept"; then
	ok "the firewall accepts UDP port $port"
else
	not_ok "the firewall accepts UDP port $port"
fi
case $(stat -c %a:%u "$key" 2>/dev/null) in
600:0 | 400:0) ok "the auth key is private to root" ;;
*) not_ok "the auth key is private to root" ;;
esac

tap_done
