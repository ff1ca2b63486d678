#!/bin/sh
# control-mtls: the delivered certificates fit together and the key is
# private.
n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fail=1; echo "not ok $n - $1"; }
check() { d=$1; shift; if "$@" >/dev/null 2>&1; then ok "$d"; else not_ok "$d"; fi; }

dir=/etc/infrasim/mtls
echo "1..4"
check "openssl is installed" command -v openssl
check "the CA and node certificates are delivered" test -s "$dir/ca.pem" -a -s "$dir/node.pem"
if [ "$(stat -c %a "$dir/node.key" 2>/dev/null)" = 600 ]; then ok "the node key is 0600"; else not_ok "the node key is 0600"; fi
check "the certificate chain and key verify" verify-mtls.sh "$dir"
exit $fail
