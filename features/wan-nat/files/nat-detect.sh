#!/bin/sh
# nat-detect.sh [SERVER]: ask a STUN server what kind of NAT this node is
# behind. Prints one JSON line {"ok":..,"server":..,"nat":..}; exit 0 when
# the server answered, 1 when it did not.
set -u
. /usr/local/lib/infrasim/config.sh
case ${1:-} in
-h | --help)
	echo "usage: nat-detect.sh [STUN_SERVER]"
	exit 0
	;;
esac
server=${1:-$(isim_config wan-nat stun_server 2>/dev/null || echo stun.l.google.com:19302)}
host=${server%:*}
out=$(stun "$host" 2>&1)
code=$?
nat=$(printf '%s\n' "$out" | sed -n 's/^Primary: *//p' | head -n 1 | sed 's/"/\\"/g')
if [ -z "$nat" ]; then
	printf '{"ok":false,"server":"%s","reason":"no answer (stun exit %d)"}\n' "$server" "$code"
	exit 1
fi
printf '{"ok":true,"server":"%s","nat":"%s"}\n' "$server" "$nat"
