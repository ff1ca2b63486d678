#!/bin/sh
# verify-signature.sh: check a signed node descriptor or a signed file
# against this node's trusted signers.
#
#   verify-signature.sh node-descriptor FILE   descriptor attested by a trusted signer
#   verify-signature.sh file FILE [SIG]        minisign signature (FILE.sig) by a trusted signer
#
# Prints one JSON verdict; exits 0 when it verifies, 1 when it does not,
# 64 on usage errors, 66 when FILE cannot be read and 69 when no verifier is
# installed. isim-verify does the work; without it, files are checked with
# minisign against every trusted key that is not revoked.
set -u

trust=${ISIM_TRUST_DIR:-/etc/infrasim/trusted-signers}

usage() {
	echo "usage: verify-signature.sh node-descriptor FILE | file FILE [SIG]" >&2
	exit 64
}

verdict() { # ok file [signer|reason]
	if [ "$1" = true ]; then
		jq -cn --arg f "$2" --arg s "$3" '{ok: true, file: $f, signer: $s}'
	else
		jq -cn --arg f "$2" --arg r "$3" '{ok: false, file: $f, reason: $r}'
	fi
}

# The key id of a minisign public key, as minisign shows it: bytes 2..9 of
# the key read as a little-endian integer, in upper-case hex.
key_id() {
	hex=$(sed -n 2p "$1" | base64 -d 2>/dev/null | od -An -v -tx1 -j2 -N8 | tr -d ' \n')
	id=
	while [ -n "$hex" ]; do
		id=${hex%"${hex#??}"}$id
		hex=${hex#??}
	done
	echo "$id" | tr 'a-f' 'A-F'
}

revoked() {
	[ -n "$1" ] && [ -f "$trust/revoked" ] &&
		sed 's/#.*//' "$trust/revoked" | tr 'a-f' 'A-F' | grep -qw -- "$1"
}

[ $# -ge 2 ] || usage
kind=$1
file=$2
if [ ! -r "$file" ]; then
	echo "verify-signature.sh: $file: cannot read" >&2
	exit 66
fi

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
	if ! command -v minisign >/dev/null 2>&1; then
		echo "verify-signature.sh: neither isim-verify nor minisign is installed" >&2
		exit 69
	fi
	for pub in "$trust"/*.pub; do
		[ -f "$pub" ] || continue
		kid=$(key_id "$pub")
		revoked "$kid" && continue
		if minisign -V -q -p "$pub" -x "$sig" -m "$file" >/dev/null 2>&1; then
			verdict true "$file" "$kid"
			exit 0
		fi
	done
	verdict false "$file" "no trusted signer that is not revoked verifies $sig"
	exit 1
	;;
*)
	usage
	;;
esac
