#!/bin/sh
# control-mtls: the delivered CA, certificate and key fit together, the key
# is private, the certificate does not expire within a week, the check runs
# at boot, and the firewall is open on the endpoint's port.
manifest=${ISIM_MANIFEST:-/etc/infrasim/manifest.json}
# shellcheck source=features/base-minimal/files/infrasim-tap.sh
. "${ISIM_LIBDIR:-/usr/local/lib/infrasim}/tap.sh"
cfg() { jq -er --arg k "$1" '.feature_config["control-mtls"][$k] | tostring' "$manifest" 2>/dev/null || echo "$2"; }

dir=${MTLS_DIR:-/etc/infrasim/mtls}
port=$(cfg port 8443)

check "openssl is installed" command -v openssl
check "the CA certificate, node certificate and key are delivered" \
	test -s "$dir/ca.pem" -a -s "$dir/node.pem" -a -s "$dir/node.key"
case $(stat -c %a:%u "$dir/node.key" 2>/dev/null) in
600:0 | 400:0) ok "the node key is private to root" ;;
*) not_ok "the node key is private to root" ;;
esac
if out=$(/usr/local/bin/verify-mtls.sh "$dir" 2>&1); then
	ok "the certificate chain and key verify"
else
	not_ok "the certificate chain and key verify: $out"
fi
check "the node certificate is valid for another week" openssl x509 -in "$dir/node.pem" -noout -checkend 604800
check "the check runs at boot" test -e /etc/runlevels/default/infrasim-mtls
if nft list chain inet infrasim input 2>/dev/null | grep -q "tcp dport $port accept"; then
	ok "the firewall accepts TCP port $port"
else
	not_ok "the firewall accepts TCP port $port"
fi

tap_done
