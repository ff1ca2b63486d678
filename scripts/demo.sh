#!/bin/sh
# make demo: the main job on the built-in default. Composes the wg-mesh-ipv6
# profile into build/wg-mesh-ipv6/ and shows what came out.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${ISIM_BIN:-$top/build/release/bin}
profile=${1:-wg-mesh-ipv6}
cd "$top"
"$bin/isim-compose" -q "$profile"
out=build/$profile
jq . "$out/manifest.json"
echo >&2
echo "demo: composed profile $profile into $out/:" >&2
for f in packages.txt files.txt firewall.nft selftests.txt manifest.json; do
	printf '  %-14s %s lines\n' "$f" "$(wc -l <"$out/$f")" >&2
done
