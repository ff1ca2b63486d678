#!/bin/sh
# mtls-setup.sh: put the certificates delivered at boot in order: key 0600,
# certificates 0644, and refuse a node certificate that the CA did not
# issue or that does not match the key.
set -eu
dir=${MTLS_DIR:-/etc/infrasim/mtls}
for f in ca.pem node.pem node.key; do
	if [ ! -s "$dir/$f" ]; then
		echo "mtls-setup.sh: $dir/$f: missing; deliver it through cloud-init" >&2
		exit 66
	fi
done
chmod 0600 "$dir/node.key"
chmod 0644 "$dir/ca.pem" "$dir/node.pem"
verify-mtls.sh "$dir"
