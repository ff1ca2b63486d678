#!/bin/sh
# verify-mtls.sh [DIR]: check this node's mTLS material in DIR (default
# /etc/infrasim/mtls): ca.pem is a CA certificate, node.pem is issued by it,
# valid now and fit for TLS clients, and node.key is its private key.
# Prints one JSON line {"ok", "subject", "not_after", "reason"}; exit 0 or 1.
set -u
dir=${1:-/etc/infrasim/mtls}

fail() {
	jq -cn --arg r "$1" '{ok: false, reason: $r}'
	exit 1
}

for f in ca.pem node.pem node.key; do
	[ -s "$dir/$f" ] || fail "$dir/$f is missing"
done
openssl x509 -in "$dir/ca.pem" -noout 2>/dev/null || fail "ca.pem is not a PEM certificate"
openssl verify -CAfile "$dir/ca.pem" -purpose sslclient "$dir/node.pem" >/dev/null 2>&1 ||
	fail "node.pem is not issued by ca.pem, not valid now, or not fit for TLS clients"
cert=$(openssl x509 -in "$dir/node.pem" -noout -pubkey 2>/dev/null | openssl sha256 -r)
key=$(openssl pkey -in "$dir/node.key" -pubout 2>/dev/null | openssl sha256 -r)
if [ -z "$key" ] || [ "$cert" != "$key" ]; then
	fail "node.key is not the private key of node.pem"
fi
subject=$(openssl x509 -in "$dir/node.pem" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')
not_after=$(openssl x509 -in "$dir/node.pem" -noout -enddate | sed 's/^notAfter=//')
jq -cn --arg s "$subject" --arg e "$not_after" '{ok: true, subject: $s, not_after: $e}'
