#!/bin/sh
# verify-mtls.sh [DIR]: check the node's mTLS material: the CA certificate
# parses, the node certificate is issued by it and currently valid, and the
# private key belongs to the certificate. One JSON line; exit 0 or 1.
set -u
dir=${1:-/etc/infrasim/mtls}
fail() {
	printf '{"ok":false,"reason":"%s"}\n' "$1"
	exit 1
}
openssl x509 -in "$dir/ca.pem" -noout 2>/dev/null || fail "ca.pem is not a PEM certificate"
openssl verify -CAfile "$dir/ca.pem" "$dir/node.pem" >/dev/null 2>&1 || fail "node.pem is not issued by ca.pem or is not valid now"
cert=$(openssl x509 -in "$dir/node.pem" -noout -pubkey 2>/dev/null | openssl sha256 -r)
key=$(openssl pkey -in "$dir/node.key" -pubout 2>/dev/null | openssl sha256 -r)
if [ -z "$cert" ] || [ "$cert" != "$key" ]; then
	fail "node.key does not match node.pem"
fi
subject=$(openssl x509 -in "$dir/node.pem" -noout -subject -nameopt RFC2253 | sed 's/^subject=//; s/"/\\"/g')
printf '{"ok":true,"subject":"%s"}\n' "$subject"
