#!/bin/sh
# vpn-tailscale: tailscaled installed and enabled, the auth key delivered
# privately or already used.
. /usr/local/lib/infrasim/tap.sh

key=/etc/infrasim/secrets/tailscale_auth_key
echo "1..4"
check "tailscale is installed" command -v tailscale
check "tailscaled is enabled" test -e /etc/runlevels/default/tailscale
check "the join service is enabled" test -e /etc/runlevels/default/infrasim-tailscale
if [ ! -e "$key" ] || [ "$(stat -c %a "$key")" = 600 ]; then ok "the auth key is private or used"; else not_ok "the auth key is private or used"; fi
finish
