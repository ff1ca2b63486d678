# shellcheck shell=sh
# TAP for the selftests (installed as /usr/local/lib/infrasim/tap.sh and
# sourced by each): one "ok N - ..." or "not ok N - ..." line a check,
# then tap_done prints the plan ("1..N") and returns 1 when one failed.
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
# check DESCRIPTION COMMAND...: ok when the command exits 0.
check() {
	d=$1
	shift
	if "$@" >/dev/null 2>&1; then ok "$d"; else not_ok "$d"; fi
}
tap_done() {
	echo "1..$n"
	[ "$failed" -eq 0 ]
}
