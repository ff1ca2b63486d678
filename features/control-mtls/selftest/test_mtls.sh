#!/bin/sh
# control-mtls: the delivered certificates fit together and the key is
# private.
. /usr/local/lib/infrasim/tap.sh

dir=/etc/infrasim/mtls
echo "1..4"
check "openssl is installed" command -v openssl
check "the CA and node certificates are delivered" test -s "$dir/ca.pem" -a -s "$dir/node.pem"
if [ "$(stat -c %a "$dir/node.key" 2>/dev/null)" = 600 ]; then ok "the node key is 0600"; else not_ok "the node key is 0600"; fi
check "the certificate chain and key verify" verify-mtls.sh "$dir"
finish
