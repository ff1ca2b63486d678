#!/bin/sh
# base-minimal: the system is up, reachable over SSH only with keys, and
# behind its firewall.
. /usr/local/lib/infrasim/tap.sh

echo "1..8"
check "loopback is up" ip link show lo up
if ip -o link show up | grep -v ' lo:' | grep -q .; then ok "a network interface besides lo is up"; else not_ok "a network interface besides lo is up"; fi
if [ "$(cat /proc/sys/net/ipv6/conf/all/disable_ipv6 2>/dev/null)" = 0 ]; then ok "IPv6 is enabled"; else not_ok "IPv6 is enabled"; fi
check "the infrasim firewall table is loaded" nft list table inet infrasim
check "the manifest is installed" test -s /etc/infrasim/manifest.json
check "sshd is enabled" test -e /etc/runlevels/default/sshd
check "sshd refuses passwords" grep -qx 'PasswordAuthentication no' /etc/ssh/sshd_config.d/10-infrasim.conf
bad=""
for k in /etc/ssh/ssh_host_*_key; do
	[ -e "$k" ] || continue
	case $(stat -c %a "$k") in 600 | 400) ;; *) bad="$bad $k" ;; esac
done
if [ -z "$bad" ]; then ok "SSH host keys are private"; else not_ok "SSH host keys are private:$bad"; fi
finish
