#!/bin/sh
# build-profile.sh PROFILE [--sign-key KEY] [isim-build options]: the
# catalog's own command for building a profile's image into output/,
# composed first into build/PROFILE/. Run from the source tree; the options
# are isim-build(1)'s.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${ISIM_BIN:-$top/build/release/bin}
if [ ! -x "$bin/isim-build" ]; then
	make -C "$top" --no-print-directory all >&2
fi
if [ $# -lt 1 ]; then
	echo "usage: build-profile.sh PROFILE [--sign-key KEY] [isim-build options]" >&2
	exit 64
fi
profile=$1
shift
cd "$top"
"$bin/isim-compose" -q "$profile"
exec "$bin/isim-build" "$@" "build/${profile##*/}"
