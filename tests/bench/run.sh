#!/bin/sh
# make bench: every tests/bench/*.sh but this one, in order. Each prints its
# figures (medians of several runs, and ratios against a baseline measured in
# the same run); none asserts a time.
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${ISIM_ROOT:=$(cd "$here/../.." && pwd)}"
: "${ISIM_BIN:=$ISIM_ROOT/build/release/bin}"
export ISIM_ROOT ISIM_BIN
rc=0
for b in "$here"/*.sh; do
	case ${b##*/} in run.sh | lib.sh) continue ;; esac
	echo "== ${b##*/}"
	sh "$b" || rc=1
done
exit $rc
