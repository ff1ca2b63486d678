# Sourced by the selftests of every feature: TAP output helpers.
#   ok DESC | not_ok DESC | check DESC COMMAND... | finish
# check passes when COMMAND exits 0 (its output is discarded); finish exits
# 1 if anything failed.
# shellcheck shell=sh

tap_n=0
tap_failed=0

ok() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $1"
}

not_ok() {
	tap_n=$((tap_n + 1))
	tap_failed=1
	echo "not ok $tap_n - $1"
}

check() {
	tap_d=$1
	shift
	if "$@" >/dev/null 2>&1; then ok "$tap_d"; else not_ok "$tap_d"; fi
}

finish() {
	exit "$tap_failed"
}
