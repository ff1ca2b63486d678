#!/bin/sh
# wan-nat: the STUN client tools and the detection script are in place and
# the script parses its configuration. Whether a STUN server answers depends
# on the network, so the verdict itself is not required here.
manifest=${ISIM_MANIFEST:-/etc/infrasim/manifest.json}
# shellcheck source=features/base-minimal/files/infrasim-tap.sh
. "${ISIM_LIBDIR:-/usr/local/lib/infrasim}/tap.sh"

check "socat is installed" command -v socat
check "nat-detect.sh answers --help" /usr/local/bin/nat-detect.sh --help
if jq -e '.feature_config["wan-nat"].stun_servers | length > 0' "$manifest" >/dev/null 2>&1; then
	ok "STUN servers are configured"
else
	not_ok "STUN servers are configured"
fi

tap_done
