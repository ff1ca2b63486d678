#!/bin/sh
# tailscale-up.sh: join the tailnet with the auth key delivered at boot
# (/etc/infrasim/secrets/tailscale_auth_key), then delete the key: it is
# needed once. Options follow vpn-tailscale's accept_routes and exit_node.
set -eu
. /usr/local/lib/infrasim/config.sh
keyfile=${TS_AUTH_KEY_FILE:-/etc/infrasim/secrets/tailscale_auth_key}

if tailscale status >/dev/null 2>&1; then
	echo "tailscale-up.sh: already connected"
	exit 0
fi
if [ ! -s "$keyfile" ]; then
	echo "tailscale-up.sh: $keyfile: missing; deliver auth_key through cloud-init" >&2
	exit 66
fi
routes=$(isim_config vpn-tailscale accept_routes) || routes=true
exit_node=$(isim_config vpn-tailscale exit_node) || exit_node=false
set -- --auth-key "file:$keyfile" --accept-routes="$routes"
[ "$exit_node" = true ] && set -- "$@" --advertise-exit-node
tailscale up "$@"
rm -f "$keyfile"
