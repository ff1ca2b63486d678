#!/bin/sh
# make demo: the main job on the built-in default. Composes the wg-mesh-ipv6
# profile, builds its image on the Debian base (Debian's archive is the one
# mirror this needs), signs its provenance, verifies it, boots the image
# under QEMU and runs its selftests: scripts/build-and-sign, then where
# everything is.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
profile=${1:-wg-mesh-ipv6}
out=${ISIM_DEMO_OUT:-$top/output}
cd "$top"
result=$(mktemp)
trap 'rm -f "$result"' EXIT
"$top/scripts/build-and-sign" "$profile" --base debian:bookworm --out "$out" >"$result" || {
	rc=$?
	echo "demo: the pipeline failed (exit $rc)" >&2
	exit "$rc"
}
jq . "$result"
echo >&2
echo "demo: $profile, built on debian:bookworm, signed and tested:" >&2
for f in "$profile.qcow2" "$profile.provenance.json" "$profile.provenance.json.sig" \
	"$profile.provenance.dsse.json" "$profile.selftest.json" "$profile.console.log"; do
	printf '  %-34s %s\n' "$f" "$out/$f" >&2
done
