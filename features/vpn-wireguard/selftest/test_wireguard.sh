#!/bin/sh
# vpn-wireguard: keys made and private, the interface up on its port, and
# the tools of admission in place.
. /usr/local/lib/infrasim/tap.sh

. /usr/local/lib/infrasim/config.sh
ifname=$(isim_config vpn-wireguard interface 2>/dev/null) || ifname=wg0
port=$(isim_config vpn-wireguard listen_port 2>/dev/null) || port=51820

echo "1..6"
check "wg is installed" command -v wg
check "the private key exists" test -s /etc/wireguard/private.key
if [ "$(stat -c %a /etc/wireguard/private.key 2>/dev/null)" = 600 ]; then ok "the private key is 0600"; else not_ok "the private key is 0600"; fi
check "interface $ifname is up" ip link show "$ifname" up
if [ "$(wg show "$ifname" listen-port 2>/dev/null)" = "$port" ]; then ok "$ifname listens on port $port"; else not_ok "$ifname listens on port $port"; fi
check "apply-peers.sh is executable" test -x /usr/local/bin/apply-peers.sh
finish
