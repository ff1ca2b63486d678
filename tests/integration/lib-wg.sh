# shellcheck shell=sh
# WireGuard meshes for the integration tests, sourced after lib.sh: network
# namespaces joined by a bridge (underlay 10.99.0.0/24), a wireguard-go
# device wgN in each (overlay 10.100.0.N/16 and fd10:100::N/64), trusted
# signers and node descriptors. Nothing is configured outside the
# namespaces made here; they and the daemons are removed on exit, by name
# and by pid. See ../shared/notes/wireguard-netns.md for why each daemon has
# its own mount namespace: its UAPI socket lands in $T/wg/nN/uapi, which the
# tests pass to isim-wgadmit as --uapi-dir.

WG=$T/wg
WG_NS=isimwg$$
WG_BR=$WG_NS-br
wg_netns=""
wg_pids=""

# wg_skip_all REASON: the whole test is skipped (TAP "1..0 # SKIP").
wg_skip_all() {
	echo "1..0 # SKIP $1"
	exit 0
}

# wg_stop: the daemons by recorded pid (TERM, then KILL), the namespaces by
# name.
wg_stop() {
	for wg_p in $wg_pids; do
		kill "$wg_p" 2>/dev/null
	done
	for wg_p in $wg_pids; do
		wg_i=0
		while kill -0 "$wg_p" 2>/dev/null && [ "$(cut -d' ' -f3 "/proc/$wg_p/stat" 2>/dev/null)" != Z ] &&
			[ $wg_i -lt 20 ]; do
			sleep 0.1
			wg_i=$((wg_i + 1))
		done
		kill -9 "$wg_p" 2>/dev/null
	done
	for wg_x in $wg_netns; do
		ip netns delete "$wg_x" 2>/dev/null
	done
}

# wg_cleanup: wg_stop, then lib.sh's own cleanup of $T.
wg_cleanup() {
	wg_stop
	rm -rf "$T"
}

# wg_require: root, wireguard-go and the tools, else the test is skipped.
wg_require() {
	need_root || wg_skip_all "needs root"
	for wg_x in wireguard-go wg ip unshare nsenter ping jq sqlite3 isim-sign; do
		command -v "$wg_x" >/dev/null 2>&1 || wg_skip_all "$wg_x is not installed (scripts/install-deps.sh)"
	done
	[ -d /run/wireguard ] || mkdir -p /run/wireguard || wg_skip_all "no /run/wireguard to mount over"
	command -v isim-wgadmit >/dev/null 2>&1 || wg_skip_all "isim-wgadmit is not built"
}

trap 'wg_cleanup' EXIT
mkdir -p "$WG" || exit 73

wg_ns() { echo "$WG_NS-$1"; }          # N: namespace of node N
wg_pid() { cat "$WG/n$1/pid"; }       # N: pid of its wireguard-go
wg_uapi() { echo "$WG/n$1/uapi"; }    # N: its UAPI folder (--uapi-dir)
wg_pub() { cat "$WG/n$1/public"; }    # N: its WireGuard public key

# in_ns N COMMAND...: COMMAND in node N's network namespace.
in_ns() {
	wg_tns=$(wg_ns "$1")
	shift
	ip netns exec "$wg_tns" "$@"
}

# wg_on N ARGS...: wg(8) on node N, in its daemon's namespaces, so that
# /var/run/wireguard is that node's UAPI folder. Paths must be absolute.
wg_on() {
	wg_tpid=$(wg_pid "$1")
	shift
	nsenter -t "$wg_tpid" -m -n wg "$@"
}

# wg_dump N: `wg show wgN dump` without the interface line, sorted.
wg_dump() { wg_on "$1" show "wg$1" dump | sed 1d | sort; }

# wg_peers N: the public keys of node N's peers, sorted.
wg_peers() { wg_on "$1" show "wg$1" peers | sort; }

# wg_allowed N KEY: the allowed ips of one peer, sorted, one line.
wg_allowed() {
	wg_on "$1" show "wg$1" allowed-ips | awk -v k="$2" '$1 == k { for (i = 2; i <= NF; i++) print $i }' |
		grep -v '^(none)$' | sort | tr '\n' ' ' | sed 's/ $//'
}

# wgadmit N SUBCOMMAND ARGS...: isim-wgadmit in node N's network namespace,
# with its device, UAPI folder and state folder.
wgadmit() {
	wg_dn=$1
	wg_sub=$2
	shift 2
	# The mesh's networks, as a node's configuration names them: the
	# IPv4 network_cidr and the IPv6 one of the host routes (/128).
	[ "$wg_sub" = admit ] && set -- -n 10.100.0.0/16 -n fd10:100::/64 "$@"
	in_ns "$wg_dn" isim-wgadmit "$wg_sub" --dev "wg$wg_dn" --uapi-dir "$(wg_uapi "$wg_dn")" \
		--state-dir "$WG/n$wg_dn/state" "$@"
}

# wg_underlay: the namespace with the bridge.
wg_underlay() {
	ip netns add "$WG_BR" || return 1
	wg_netns="$wg_netns $WG_BR"
	ip -n "$WG_BR" link set lo up &&
		ip -n "$WG_BR" link add br0 type bridge &&
		ip -n "$WG_BR" link set br0 up
}

# wg_node N: namespace N on the bridge (eth0 10.99.0.N/24), a wireguard-go
# device wgN listening on 51820 with a new key, 10.100.0.N/16 and
# fd10:100::N/64, up. Returns nonzero if any of it fails.
wg_node() {
	wg_n=$1
	wg_nsn=$(wg_ns "$wg_n")
	wg_d=$WG/n$wg_n
	mkdir -p "$wg_d/uapi" "$wg_d/state" || return 1
	ip netns add "$wg_nsn" || return 1
	wg_netns="$wg_netns $wg_nsn"
	ip -n "$wg_nsn" link set lo up &&
		ip -n "$WG_BR" link add "v$wg_n" type veth peer name eth0 netns "$wg_nsn" &&
		ip -n "$WG_BR" link set "v$wg_n" master br0 up &&
		ip -n "$wg_nsn" addr add "10.99.0.$wg_n/24" dev eth0 &&
		ip -n "$wg_nsn" link set eth0 up || return 1
	(umask 077 && wg genkey >"$wg_d/private") && wg pubkey <"$wg_d/private" >"$wg_d/public" || return 1
	# The daemon in a mount namespace of its own, /run/wireguard there the
	# node's folder: its socket is $wg_d/uapi/wgN.sock for every process.
	# shellcheck disable=SC2016 # the inner shell expands them
	ip netns exec "$wg_nsn" unshare -m --propagation private sh -c \
		'mount --bind "$1" /run/wireguard && exec env WG_PROCESS_FOREGROUND=1 LOG_LEVEL="$3" wireguard-go "$2"' \
		sh "$wg_d/uapi" "wg$wg_n" "${WG_LOG_LEVEL:-error}" >"$wg_d/log" 2>&1 &
	echo $! >"$wg_d/pid"
	wg_pids="$wg_pids $!"
	wg_i=0
	while [ ! -S "$wg_d/uapi/wg$wg_n.sock" ]; do
		wg_i=$((wg_i + 1))
		if [ $wg_i -gt 100 ] || ! kill -0 "$(cat "$wg_d/pid")" 2>/dev/null; then
			echo "# wireguard-go wg$wg_n did not start:" && sed 's/^/# /' "$wg_d/log"
			return 1
		fi
		sleep 0.05
	done
	wg_on "$wg_n" set "wg$wg_n" private-key "$wg_d/private" listen-port 51820 &&
		ip -n "$wg_nsn" addr add "10.100.0.$wg_n/16" dev "wg$wg_n" &&
		ip -n "$wg_nsn" addr add "fd10:100::$wg_n/64" dev "wg$wg_n" nodad &&
		ip -n "$wg_nsn" link set "wg$wg_n" up
}

# wg_mesh N...: the underlay and nodes N..., after wg_require; skips the
# whole test if this kernel cannot make network namespaces. A daemon that
# does not start where everything it needs is present is a failure.
wg_mesh() {
	wg_require
	wg_underlay || wg_skip_all "cannot make network namespaces here"
	for wg_x in "$@"; do
		wg_node "$wg_x" || wg_bail "wireguard-go wg$wg_x starts in its namespace"
	done
}

# wg_bail DESCRIPTION: the test stops on a failed step: its "not ok",
# then the plan.
wg_bail() {
	not_ok "$1"
	finish
	exit 1
}

# wg_signer NAME: a minisign key pair $WG/NAME, NAME.pub; prints its key id.
wg_signer() {
	isim-sign keygen -W -o "$WG/$1" | jq -r .key_id
}

# wg_trust NAME...: the trusted signers folder $WG/trust with NAME.pub...
wg_trust() {
	mkdir -p "$WG/trust" && chmod 755 "$WG/trust"
	for wg_x in "$@"; do
		cp "$WG/$wg_x.pub" "$WG/trust/$wg_x.pub"
	done
}

# wg_time OFFSET: the time OFFSET from now (date -d syntax), RFC 3339 UTC.
wg_time() { date -u -d "$1" +%Y-%m-%dT%H:%M:%SZ; }

# wg_randkeys COUNT: COUNT random 32-byte values in standard base64, one a
# line (public keys for peers that never talk).
wg_randkeys() {
	od -An -v -tu1 -N $(($1 * 32)) /dev/urandom | tr -s ' ' '\n' | grep -v '^$' | awk '
	BEGIN { a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/" }
	{ b[n++] = $1 + 0 }
	n == 32 {
		s = ""
		for (i = 0; i < 30; i += 3) {
			v = b[i] * 65536 + b[i + 1] * 256 + b[i + 2]
			s = s substr(a, int(v / 262144) + 1, 1) substr(a, int(v / 4096) % 64 + 1, 1) \
				substr(a, int(v / 64) % 64 + 1, 1) substr(a, v % 64 + 1, 1)
		}
		v = b[30] * 65536 + b[31] * 256
		print s substr(a, int(v / 262144) + 1, 1) substr(a, int(v / 4096) % 64 + 1, 1) substr(a, int(v / 64) % 64 + 1, 1) "="
		n = 0
	}'
}

# wg_descriptor N [JQ-FILTER]: node N's unsigned descriptor, one line:
# node-N, its key, endpoint 10.99.0.N:51820, allowed ips its host routes and
# 10.100.(N+3).0/24, valid from an hour ago for a day; JQ-FILTER changes it.
wg_descriptor() {
	jq -n -c --arg n "$1" --arg k "$(wg_pub "$1")" --arg e "$(wg_randkeys 1)" \
		--arg i "$(wg_time '-1 hour')" --arg x "$(wg_time '+1 day')" '{
		node_id: ("node-" + $n),
		identity: {wg_public_key: $k, ed25519_public_key: $e},
		endpoints: {wireguard: ("10.99.0." + $n + ":51820")},
		allowed_ips: [("10.100.0." + $n + "/32"), ("fd10:100::" + $n + "/128"),
			("10.100." + (($n | tonumber) + 3 | tostring) + ".0/24")],
		issued_at: $i, expires_at: $x
	}' | jq -c "${2:-.}"
}

# wg_sign SIGNER: signs the descriptors on stdin (JSON Lines).
wg_sign() { isim-sign descriptor -k "$WG/$1" --stream; }

# wg_state N: the state database of node N as SQL text (empty if none).
wg_state() {
	if [ -e "$WG/n$1/state/wgadmit.db" ]; then
		sqlite3 "$WG/n$1/state/wgadmit.db" .dump
	fi
}
