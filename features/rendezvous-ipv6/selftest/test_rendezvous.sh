#!/bin/sh
# rendezvous-ipv6: the secret delivered privately, the daemon running, a
# link-local address on the rendezvous interface, and the derivation stable.
. /usr/local/lib/infrasim/tap.sh

. /usr/local/lib/infrasim/config.sh
iface=$(isim_config rendezvous-ipv6 interface 2>/dev/null) || iface=eth0
secret=/etc/infrasim/secrets/mesh_secret

echo "1..5"
check "the mesh secret is delivered" test -s "$secret"
if [ "$(stat -c %a "$secret" 2>/dev/null)" = 600 ]; then ok "the mesh secret is 0600"; else not_ok "the mesh secret is 0600"; fi
check "rendezvousd is running" rc-service rendezvousd status
if ip -6 addr show dev "$iface" scope link | grep -q 'inet6 fe80:'; then ok "$iface has a link-local address"; else not_ok "$iface has a link-local address"; fi
a=$(rendezvousd --print 1 0 2>/dev/null)
b=$(rendezvousd --print 1 0 2>/dev/null)
c=$(rendezvousd --print 1 1 2>/dev/null)
case $a in
fe80::*:*:*:*) if [ "$a" = "$b" ] && [ "$a" != "$c" ]; then ok "slot addresses are stable and distinct"; else not_ok "slot addresses are stable and distinct"; fi ;;
*) not_ok "slot addresses are stable and distinct (got '$a')" ;;
esac
finish
