#!/bin/sh
# rendezvous-ipv6: the secret long enough, the daemon running on an
# interface with IPv6, slot addresses stable and distinct, the HMAC right
# (RFC 4231's test case 2), and the firewall open to link-local peers.
manifest=${ISIM_MANIFEST:-/etc/infrasim/manifest.json}
# shellcheck source=features/base-minimal/files/infrasim-tap.sh
. "${ISIM_LIBDIR:-/usr/local/lib/infrasim}/tap.sh"
cfg() { jq -er --arg k "$1" '.feature_config["rendezvous-ipv6"][$k] | tostring' "$manifest" 2>/dev/null || echo "$2"; }

iface=$(cfg interface eth0)
port=$(cfg port 51871)
secret=${MESH_SECRET_FILE:-/etc/infrasim/secrets/mesh_secret}
rv=${RENDEZVOUSD:-/usr/local/bin/rendezvousd}

if [ "$(tr -d '\r\n' 2>/dev/null <"$secret" | wc -c)" -ge 32 ]; then
	ok "the mesh secret is at least 32 bytes"
else
	not_ok "the mesh secret is at least 32 bytes"
fi
check "rendezvousd is running" rc-service rendezvousd status
if ip -6 -o addr show dev "$iface" scope link 2>/dev/null | grep -q ' fe80:'; then
	ok "$iface has IPv6 link-local addresses"
else
	not_ok "$iface has IPv6 link-local addresses"
fi
a=$(sh "$rv" --print 1 0 2>/dev/null)
b=$(sh "$rv" --print 1 0 2>/dev/null)
c=$(sh "$rv" --print 1 1 2>/dev/null)
case $a in
fe80::*:*:*:*)
	if [ "$a" = "$b" ] && [ "$a" != "$c" ]; then
		ok "slot addresses are stable and distinct"
	else
		not_ok "slot addresses are stable and distinct ($a, $b, $c)"
	fi
	;;
*) not_ok "slot addresses are stable and distinct (got '$a')" ;;
esac
jefe=$(mktemp)
printf 'Jefe\n' >"$jefe"
mac=$(MESH_SECRET_FILE=$jefe sh "$rv" --hmac 7768617420646f2079612077616e7420666f72206e6f7468696e673f 2>/dev/null)
rm -f "$jefe"
if [ "$mac" = 5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843 ]; then
	ok "HMAC-SHA256 gives RFC 4231's test case 2"
else
	not_ok "HMAC-SHA256 gives RFC 4231's test case 2 (got '$mac')"
fi
if nft list chain inet infrasim input 2>/dev/null | grep -q "udp dport $port accept"; then
	ok "the firewall accepts link-local peers on UDP port $port"
else
	not_ok "the firewall accepts link-local peers on UDP port $port"
fi

tap_done
