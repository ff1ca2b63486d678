#!/bin/sh
# wg-keygen.sh [DIR]: make this node's WireGuard key pair once, in DIR
# (default /etc/wireguard): private.key (0600) and public.key. An existing
# key is kept. Prints the public key.
set -eu
dir=${1:-/etc/wireguard}
umask 077
mkdir -p "$dir"
if [ ! -s "$dir/private.key" ]; then
	wg genkey >"$dir/private.key.tmp"
	mv "$dir/private.key.tmp" "$dir/private.key"
fi
wg pubkey <"$dir/private.key" >"$dir/public.key.tmp"
chmod 0644 "$dir/public.key.tmp"
mv "$dir/public.key.tmp" "$dir/public.key"
cat "$dir/public.key"
