#!/bin/sh
# tailscale-check.sh: one JSON line on the state of tailscaled and of this
# node in the tailnet; exit 0 when connected, 1 when not.
set -u
if ! command -v tailscale >/dev/null 2>&1; then
	echo '{"ok":false,"reason":"tailscale is not installed"}'
	exit 1
fi
state=$(tailscale status --json 2>/dev/null | jq -r '.BackendState // "Unknown"') || state=Unknown
if [ "$state" = Running ]; then
	printf '{"ok":true,"state":"%s"}\n' "$state"
	exit 0
fi
printf '{"ok":false,"state":"%s"}\n' "$state"
exit 1
