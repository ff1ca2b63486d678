#!/bin/sh
# discovery-bonjour: avahi runs, listens for mDNS behind an open firewall,
# and announces the service type and port of the configuration.
manifest=${ISIM_MANIFEST:-/etc/infrasim/manifest.json}
# shellcheck source=features/base-minimal/files/infrasim-tap.sh
. "${ISIM_LIBDIR:-/usr/local/lib/infrasim}/tap.sh"
cfg() { jq -er --arg k "$1" '.feature_config["discovery-bonjour"][$k] | tostring' "$manifest" 2>/dev/null || echo "$2"; }
listening() { # udp PORT
	cat "/proc/net/$1" "/proc/net/${1}6" 2>/dev/null |
		awk -v p="$(printf ':%04X' "$2")" 'substr($2, length($2) - 4) == p { f = 1 } END { exit !f }'
}

type=$(cfg service_type _infrasim._udp)
port=$(cfg port 51820)
service=/etc/avahi/services/infrasim.service

check "avahi-daemon is installed" command -v avahi-daemon
check "avahi-daemon is running" rc-service avahi-daemon status
check "avahi listens for mDNS on UDP port 5353" listening udp 5353
check "the service announces type $type" grep -q "<type>$type</type>" "$service"
check "the service announces port $port" grep -q "<port>$port</port>" "$service"
if nft list chain inet infrasim input 2>/dev/null | grep -q 'udp dport 5353 accept'; then
	ok "the firewall accepts mDNS"
else
	not_ok "the firewall accepts mDNS"
fi

tap_done
