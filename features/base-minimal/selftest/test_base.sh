#!/bin/sh
# base-minimal: the system is up with IPv6, configured by cloud-init, behind
# its firewall, its services enabled, and reachable over SSH with keys only.
manifest=${ISIM_MANIFEST:-/etc/infrasim/manifest.json}
# shellcheck source=features/base-minimal/files/infrasim-tap.sh
. "${ISIM_LIBDIR:-/usr/local/lib/infrasim}/tap.sh"
cfg() { jq -er --arg k "$1" '.feature_config["base-minimal"][$k] | tostring' "$manifest" 2>/dev/null || echo "$2"; }
is_up() { ip -o link show dev "$1" up 2>/dev/null | grep -q .; }
# listening tcp|udp PORT: a socket is bound to PORT (listening, for TCP).
listening() {
	cat "/proc/net/$1" "/proc/net/${1}6" 2>/dev/null |
		awk -v p="$(printf ':%04X' "$2")" -v tcp="$([ "$1" = tcp ] && echo 1)" \
			'substr($2, length($2) - 4) == p && (!tcp || $4 == "0A") { f = 1 } END { exit !f }'
}

port=$(cfg ssh_port 22)

check "loopback is up" is_up lo
if ip -o link show up 2>/dev/null | grep -v ': lo:' | grep -q .; then
	ok "a network interface besides lo is up"
else
	not_ok "a network interface besides lo is up"
fi
check "IPv6 is enabled" grep -qx 0 /proc/sys/net/ipv6/conf/all/disable_ipv6
check "the manifest is installed" jq -e '.manifest_version == 1' "$manifest"
check "cloud-init finished its boot stages" test -e /var/lib/cloud/instance/boot-finished
check "the infrasim firewall table is loaded" nft list table inet infrasim
if nft list chain inet infrasim input 2>/dev/null | grep -q 'policy drop;'; then
	ok "the input chain drops what it does not accept"
else
	not_ok "the input chain drops what it does not accept"
fi
missing=
for s in $(jq -r '.services[]' "$manifest" 2>/dev/null); do
	[ -e "/etc/runlevels/default/$s" ] || missing="$missing $s"
done
if [ -s "$manifest" ] && [ -z "$missing" ]; then
	ok "the manifest's services are enabled"
else
	not_ok "the manifest's services are enabled (missing:${missing:- manifest})"
fi
check "sshd is running" rc-service sshd status
check "sshd listens on TCP port $port" listening tcp "$port"
if sshd -T 2>/dev/null | grep -qx 'passwordauthentication no'; then
	ok "sshd refuses passwords"
else
	not_ok "sshd refuses passwords"
fi
bad=
for k in /etc/ssh/ssh_host_*_key; do
	[ -e "$k" ] || continue
	case $(stat -c %a:%u "$k") in 600:0 | 400:0) ;; *) bad="$bad $k" ;; esac
done
if [ -z "$bad" ]; then ok "SSH host keys are private to root"; else not_ok "SSH host keys are private to root:$bad"; fi
broken=
for t in /usr/local/bin/isim-*; do
	[ -x "$t" ] || continue
	"$t" --version >/dev/null 2>&1 || broken="$broken ${t##*/}"
done
if [ -z "$broken" ]; then
	ok "the infrasim tools run (their libraries are installed)"
else
	not_ok "the infrasim tools run (their libraries are installed):$broken"
fi

tap_done
