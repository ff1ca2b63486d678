#!/bin/sh
# infrasim-selftest: run every feature's selftest of this image and print
# their TAP, each block between "# selftest FEATURE/NAME begin" and "end"
# lines, then one summary line. Exit 1 if any failed.
set -u

dir=${ISIM_SELFTEST_DIR:-/usr/share/infrasim/selftest}
failed=0
total=0
for t in "$dir"/*/*.sh; do
	[ -e "$t" ] || continue
	name=${t#"$dir"/}
	name=${name%.sh}
	total=$((total + 1))
	echo "# selftest $name begin"
	if sh "$t"; then
		echo "# selftest $name end ok"
	else
		echo "# selftest $name end failed"
		failed=$((failed + 1))
	fi
done
echo "# selftests: $total run, $failed failed"
[ "$failed" -eq 0 ]
