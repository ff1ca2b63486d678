#!/bin/sh
# mtls-setup.sh [DIR]: put the mTLS material cloud-init delivered in order
# (the key 0600, the certificates 0644, all owned by root) and refuse it,
# exit 1, when verify-mtls.sh does not accept it; exit 66 when a file is
# missing.
set -u
dir=${1:-${MTLS_DIR:-/etc/infrasim/mtls}}
for f in ca.pem node.pem node.key; do
	if [ ! -s "$dir/$f" ]; then
		echo "mtls-setup.sh: $dir/$f: missing; deliver it through cloud-init" >&2
		exit 66
	fi
done
chown root:root "$dir/ca.pem" "$dir/node.pem" "$dir/node.key" 2>/dev/null
chmod 0600 "$dir/node.key"
chmod 0644 "$dir/ca.pem" "$dir/node.pem"
exec "${0%/*}/verify-mtls.sh" "$dir"
