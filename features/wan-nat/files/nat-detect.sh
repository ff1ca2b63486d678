#!/bin/sh
# nat-detect.sh [SERVER...]: what stands between this node and the
# Internet. Sends a STUN Binding Request (RFC 8489) from one local UDP port
# to each server (host:port; default wan-nat's stun_servers) and compares
# the public address and port each one saw (XOR-MAPPED-ADDRESS):
#   "none"                  the address seen is this node's own
#   "endpoint-independent"  every server saw the same address and port: a
#                           NAT that WireGuard peers can reach through keepalives
#   "endpoint-dependent"    the servers saw different ports (RFC 4787, 4.1):
#                           peers behind it need a relay
#   "unknown"               behind a NAT, but only one server answered
# Prints one JSON line {"ok", "nat", "local_port", "mappings", "reason"};
# exit 0 when a server answered, 1 when none did, 64 on usage errors, 69
# without socat.
set -u
. "${ISIM_LIBDIR:-/usr/local/lib/infrasim}/config.sh"

case ${1:-} in
-h | --help)
	echo "usage: nat-detect.sh [STUN_SERVER:PORT...]"
	exit 0
	;;
-*)
	echo "usage: nat-detect.sh [STUN_SERVER:PORT...]" >&2
	exit 64
	;;
esac
if ! command -v socat >/dev/null 2>&1; then
	echo "nat-detect.sh: socat is not installed" >&2
	exit 69
fi
if [ $# -eq 0 ]; then
	servers=$(isim_config wan-nat stun_servers 2>/dev/null | jq -r '.[]' 2>/dev/null)
	# shellcheck disable=SC2086
	set -- ${servers:-stun.l.google.com:19302}
fi
lport=$(isim_config wan-nat probe_port 2>/dev/null) || lport=3479
timeout=$(isim_config wan-nat timeout_seconds 2>/dev/null) || timeout=3

unhex() {
	h=$1
	fmt=
	while [ -n "$h" ]; do
		b=$((0x${h%"${h#??}"}))
		fmt="$fmt\\$((b / 64))$((b / 8 % 8))$((b % 8))"
		h=${h#??}
	done
	# shellcheck disable=SC2059
	printf "$fmt"
}

# The address and port in a Binding success response (hex on stdin) to
# the transaction $1, as ADDR:PORT ([ADDR]:PORT for IPv6); nothing if the
# response is not one.
mapped() {
	awk -v txid="$1" '
	function hexval(s,   i, v) {
		v = 0
		for (i = 1; i <= length(s); i++)
			v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
		return v
	}
	function xor8(a, b,   r, bit) {
		r = 0
		for (bit = 128; bit >= 1; bit /= 2) {
			if ((a >= bit) != (b >= bit))
				r += bit
			if (a >= bit) a -= bit
			if (b >= bit) b -= bit
		}
		return r
	}
	{ for (i = 1; i <= NF; i++) byte[n++] = hexval($i) }
	END {
		# Header: Binding success (0x0101), length, magic cookie, transaction.
		if (n < 20 || byte[0] != 1 || byte[1] != 1) exit 1
		if (byte[4] != 33 || byte[5] != 18 || byte[6] != 164 || byte[7] != 66) exit 1
		for (i = 0; i < 12; i++)
			if (byte[8 + i] != hexval(substr(txid, 2 * i + 1, 2))) exit 1
		key[0] = 33; key[1] = 18; key[2] = 164; key[3] = 66
		for (i = 0; i < 12; i++) key[4 + i] = byte[8 + i]
		for (p = 20; p + 4 <= n; p += 4 + len + (4 - len % 4) % 4) {
			type = byte[p] * 256 + byte[p + 1]
			len = byte[p + 2] * 256 + byte[p + 3]
			if (p + 4 + len > n) exit 1
			if (type != 32 && type != 1) continue
			fam = byte[p + 5]
			x = (type == 32)
			port = x ? xor8(byte[p + 6], 33) * 256 + xor8(byte[p + 7], 18) : byte[p + 6] * 256 + byte[p + 7]
			if (fam == 1 && len == 8) {
				addr = ""
				for (i = 0; i < 4; i++)
					addr = addr (i ? "." : "") (x ? xor8(byte[p + 8 + i], key[i]) : byte[p + 8 + i])
				found = addr ":" port
			} else if (fam == 2 && len == 20) {
				addr = ""
				for (i = 0; i < 16; i += 2) {
					hi = x ? xor8(byte[p + 8 + i], key[i]) : byte[p + 8 + i]
					lo = x ? xor8(byte[p + 9 + i], key[i + 1]) : byte[p + 9 + i]
					addr = addr (i ? ":" : "") sprintf("%x", hi * 256 + lo)
				}
				found = "[" addr "]:" port
			}
			if (x && found != "") break
		}
		if (found == "") exit 1
		print found
	}'
}

# ask SERVER: the mapping SERVER reports for local port $lport.
ask() {
	host=${1%:*}
	port=${1##*:}
	[ "$host" != "$1" ] || port=3478
	host=${host#[}
	host=${host%]}
	txid=$(od -An -v -tx1 -N12 /dev/urandom | tr -d ' \n')
	unhex "000100002112a442$txid" |
		socat -T "$timeout" -t "$timeout" - "UDP:$host:$port,sourceport=$lport,reuseaddr" 2>/dev/null |
		od -An -v -tx1 | mapped "$txid"
}

mappings=
answered=0
first=
differ=false
for server in "$@"; do
	if m=$(ask "$server") && [ -n "$m" ]; then
		answered=$((answered + 1))
		[ -z "$first" ] && first=$m
		[ "$m" != "$first" ] && differ=true
	else
		m=
	fi
	mappings="$mappings$server $m
"
done
list=$(printf '%s' "$mappings" | jq -R -s -c 'split("\n") | map(select(length > 0) | split(" ") |
	{server: .[0], mapped: (if (.[1] // "") == "" then null else .[1] end)})')
if [ "$answered" -eq 0 ]; then
	jq -cn --argjson m "$list" --argjson p "$lport" \
		'{ok: false, nat: "unknown", local_port: $p, mappings: $m, reason: "no STUN server answered"}'
	exit 1
fi
addr=${first%:*}
addr=${addr#[}
addr=${addr%]}
if [ "${first##*:}" = "$lport" ] && ip -o addr show 2>/dev/null | grep -q "inet6\{0,1\} $addr/"; then
	nat=none
elif [ "$differ" = true ]; then
	nat=endpoint-dependent
elif [ "$answered" -ge 2 ]; then
	nat=endpoint-independent
else
	nat=unknown
fi
jq -cn --arg n "$nat" --argjson m "$list" --argjson p "$lport" \
	'{ok: true, nat: $n, local_port: $p, mappings: $m}'
