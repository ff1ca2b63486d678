#!/bin/sh
# wan-nat: the STUN client and the detection script are in place. Whether a
# server answers depends on the network, so it is not tested here.
n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fail=1; echo "not ok $n - $1"; }
check() { d=$1; shift; if "$@" >/dev/null 2>&1; then ok "$d"; else not_ok "$d"; fi; }

echo "1..3"
check "the stun client is installed" command -v stun
check "nat-detect.sh is executable" test -x /usr/local/bin/nat-detect.sh
check "nat-detect.sh answers --help" /usr/local/bin/nat-detect.sh --help
exit $fail
