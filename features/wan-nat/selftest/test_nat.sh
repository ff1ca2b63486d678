#!/bin/sh
# wan-nat: the STUN client and the detection script are in place. Whether a
# server answers depends on the network, so it is not tested here.
. /usr/local/lib/infrasim/tap.sh

echo "1..3"
check "the stun client is installed" command -v stun
check "nat-detect.sh is executable" test -x /usr/local/bin/nat-detect.sh
check "nat-detect.sh answers --help" /usr/local/bin/nat-detect.sh --help
finish
