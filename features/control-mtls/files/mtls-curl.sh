#!/bin/sh
# mtls-curl.sh URL [CURL-OPTIONS...]: talk to the control plane over mutual
# TLS: this node's certificate and key, only servers that ca.pem vouches
# for, and no TLS older than control-mtls's min_tls_version.
set -u
. "${ISIM_LIBDIR:-/usr/local/lib/infrasim}/config.sh"
dir=${MTLS_DIR:-/etc/infrasim/mtls}
if [ $# -lt 1 ]; then
	echo "usage: mtls-curl.sh URL [CURL-OPTIONS...]" >&2
	exit 64
fi
version=$(isim_config control-mtls min_tls_version 2>/dev/null) || version=TLSv1.3
case $version in
TLSv1.2) tls=--tlsv1.2 ;;
*) tls=--tlsv1.3 ;;
esac
exec curl --fail --silent --show-error "$tls" --cacert "$dir/ca.pem" --cert "$dir/node.pem" \
	--key "$dir/node.key" "$@"
