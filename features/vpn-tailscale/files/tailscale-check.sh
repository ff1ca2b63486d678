#!/bin/sh
# tailscale-check.sh: one JSON line on tailscaled and on this node in the
# tailnet: {"ok", "state", "ips"}; exit 0 when joined, 1 when not.
set -u
if ! command -v tailscale >/dev/null 2>&1; then
	echo '{"ok":false,"state":"NotInstalled","ips":[]}'
	exit 1
fi
status=$(tailscale status --json 2>/dev/null) || status='{}'
printf '%s\n' "$status" | jq -c '{ok: (.BackendState == "Running"), state: (.BackendState // "Stopped"),
	ips: (.Self.TailscaleIPs // [])}' 2>/dev/null || echo '{"ok":false,"state":"Unknown","ips":[]}'
printf '%s\n' "$status" | jq -e '.BackendState == "Running"' >/dev/null 2>&1
