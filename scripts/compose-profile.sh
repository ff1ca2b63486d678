#!/bin/sh
# compose-profile.sh PROFILE [--validate-only]: the catalog's own command for
# composing a profile into build/PROFILE/, run from the source tree.
# Extra options are passed to isim-compose(1).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${ISIM_BIN:-$top/build/release/bin}
if [ ! -x "$bin/isim-compose" ]; then
	make -C "$top" --no-print-directory all >&2
fi
if [ $# -lt 1 ]; then
	echo "usage: compose-profile.sh PROFILE [--validate-only] [isim-compose options]" >&2
	exit 64
fi
cd "$top"
exec "$bin/isim-compose" "$@"
