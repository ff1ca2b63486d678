#!/bin/sh
# infrasim-selftest [FEATURE...]: run this image's selftests, those of every
# feature or of the features named, in the order of
# /etc/infrasim/selftests.txt (isim-compose's "FEATURE NAME PATH" lines).
# Each test's TAP is printed between "# selftest FEATURE/NAME begin" and
# "# selftest FEATURE/NAME end ok|failed"; a summary line follows. Exit 0
# when all passed, 1 when one failed, 66 when there is none to run.
set -u
# Services start with a PATH that may lack /usr/local, where the features'
# tools are.
PATH=/usr/local/sbin:/usr/local/bin:${PATH:-/usr/sbin:/usr/bin:/sbin:/bin}
export PATH

list=${ISIM_SELFTESTS:-/etc/infrasim/selftests.txt}
dir=${ISIM_SELFTEST_DIR:-/usr/share/infrasim/selftest}

wanted() { # FEATURE -- [FEATURE...]: no names wants them all
	f=$1
	shift 2
	[ $# -eq 0 ] && return 0
	for w in "$@"; do
		[ "$w" = "$f" ] && return 0
	done
	return 1
}

# FEATURE NAME PATH, one a line: the list when there is one, else what is
# installed, by feature and name.
tests() {
	if [ -r "$list" ]; then
		cat "$list"
		return
	fi
	for t in "$dir"/*/*.sh; do
		[ -f "$t" ] || continue
		f=${t%/*}
		f=${f##*/}
		n=${t##*/}
		echo "$f ${n%.sh} $t"
	done
}

total=0
failed=0
tmp=$(mktemp) || exit 70
trap 'rm -f "$tmp"' EXIT
tests >"$tmp"
while read -r feature name path; do
	[ -n "$path" ] || continue
	wanted "$feature" -- "$@" || continue
	total=$((total + 1))
	echo "# selftest $feature/$name begin"
	if sh "$path" </dev/null; then
		echo "# selftest $feature/$name end ok"
	else
		echo "# selftest $feature/$name end failed"
		failed=$((failed + 1))
	fi
done <"$tmp"
echo "# selftests: $total run, $failed failed"
[ "$total" -gt 0 ] || exit 66
[ "$failed" -eq 0 ]
