#!/bin/sh
# base-minimal: every input the manifest lists arrived through cloud-init
# (or, when optional, is absent), secrets are private to root, the trusted
# signer is a minisign public key, and this node's descriptor verifies.
manifest=${ISIM_MANIFEST:-/etc/infrasim/manifest.json}
# shellcheck source=features/base-minimal/files/infrasim-tap.sh
. "${ISIM_LIBDIR:-/usr/local/lib/infrasim}/tap.sh"

tab=$(printf '\t')
if inputs=$(jq -er '.inputs[] | [.name, .destination, .required, .secret] | @tsv' "$manifest" 2>/dev/null) ||
	jq -e '.inputs == []' "$manifest" >/dev/null 2>&1; then
	ok "the manifest lists the inputs"
else
	not_ok "the manifest lists the inputs"
fi
while IFS=$tab read -r name dest required secret; do
	[ -n "$name" ] || continue
	if [ ! -s "$dest" ]; then
		if [ "$required" = true ]; then
			not_ok "input $name is delivered at $dest"
		else
			skip "input $name is delivered at $dest" "optional, not given"
		fi
		continue
	fi
	ok "input $name is delivered at $dest"
	if [ "$secret" = true ]; then
		case $(stat -c %a:%u "$dest") in
		600:0 | 400:0) ok "secret $name is private to root" ;;
		*) not_ok "secret $name is private to root (mode and owner $(stat -c %a:%u "$dest"))" ;;
		esac
	fi
done <<INPUTS
$inputs
INPUTS

signer=/etc/infrasim/trusted-signers/control-plane.pub
if [ "$(sed -n 2p "$signer" 2>/dev/null | base64 -d 2>/dev/null | head -c 2)" = Ed ] &&
	[ "$(sed -n 2p "$signer" | base64 -d 2>/dev/null | wc -c)" -eq 42 ]; then
	ok "the trusted signer is a minisign Ed25519 public key"
else
	not_ok "the trusted signer is a minisign Ed25519 public key"
fi
descriptor=/etc/infrasim/node-descriptor.json
if [ ! -s "$descriptor" ]; then
	skip "this node's descriptor verifies" "no descriptor delivered"
elif verify-signature.sh node-descriptor "$descriptor" >/dev/null 2>&1; then
	ok "this node's descriptor verifies"
else
	not_ok "this node's descriptor verifies"
fi

tap_done
