#!/bin/sh
# verify-signature.sh: check a signed node descriptor or a signed file
# against the trusted signers of this node.
#
#   verify-signature.sh node-descriptor FILE   descriptor signed by a trusted signer
#   verify-signature.sh file FILE [SIG]        FILE.sig (minisign format) by a trusted signer
#
# Prints isim-verify's JSON verdict; exits 0 when it verifies, 1 when it does
# not, 64 on usage errors and 69 when no verifier is installed.
set -eu

trust=${ISIM_TRUST_DIR:-/etc/infrasim/trusted-signers}

usage() {
	echo "usage: verify-signature.sh node-descriptor FILE | file FILE [SIG]" >&2
	exit 64
}

[ $# -ge 2 ] || usage
kind=$1
file=$2
[ -r "$file" ] || { echo "verify-signature.sh: $file: cannot read" >&2; exit 66; }

case $kind in
node-descriptor)
	[ $# -eq 2 ] || usage
	if command -v isim-verify >/dev/null 2>&1; then
		exec isim-verify descriptor --trust "$trust" "$file"
	fi
	echo "verify-signature.sh: isim-verify is not installed; descriptors need it" >&2
	exit 69
	;;
file)
	[ $# -le 3 ] || usage
	sig=${3:-$file.sig}
	if command -v isim-verify >/dev/null 2>&1; then
		exec isim-verify file --trust "$trust" -x "$sig" "$file"
	fi
	if command -v minisign >/dev/null 2>&1; then
		for pub in "$trust"/*.pub; do
			[ -e "$pub" ] || continue
			if minisign -V -q -p "$pub" -x "$sig" -m "$file" 2>/dev/null; then
				printf '{"ok":true,"file":"%s","signer":"%s"}\n' "$file" "$pub"
				exit 0
			fi
		done
		printf '{"ok":false,"file":"%s","reason":"no trusted signer verifies %s"}\n' "$file" "$sig"
		exit 1
	fi
	echo "verify-signature.sh: neither isim-verify nor minisign is installed" >&2
	exit 69
	;;
*)
	usage
	;;
esac
