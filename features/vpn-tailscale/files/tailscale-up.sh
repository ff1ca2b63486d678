#!/bin/sh
# tailscale-up.sh: join the tailnet with the auth key cloud-init delivered
# (/etc/infrasim/secrets/tailscale_auth_key), read by tailscale from the
# file so that it never appears on a command line. Options follow
# vpn-tailscale's accept_routes and exit_node. Exit 0 when joined (or
# already), 66 without a key, else tailscale's status.
set -u
. "${ISIM_LIBDIR:-/usr/local/lib/infrasim}/config.sh"
keyfile=${TS_AUTH_KEY_FILE:-/etc/infrasim/secrets/tailscale_auth_key}

if tailscale status --json 2>/dev/null | jq -e '.BackendState == "Running"' >/dev/null 2>&1; then
	echo "tailscale-up.sh: already joined"
	exit 0
fi
if [ ! -s "$keyfile" ]; then
	echo "tailscale-up.sh: $keyfile: missing; deliver auth_key through cloud-init" >&2
	exit 66
fi
routes=$(isim_config vpn-tailscale accept_routes) || routes=true
exit_node=$(isim_config vpn-tailscale exit_node) || exit_node=false
set -- --auth-key "file:$keyfile" --accept-routes="$routes" --timeout=120s
[ "$exit_node" = true ] && set -- "$@" --advertise-exit-node
exec tailscale up "$@"
