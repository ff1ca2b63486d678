#!/bin/sh
# isim-wgadmit admit of 10,000 signed descriptors into one wireguard-go
# device (fresh state each run) against what a shell would do without it:
# `wg setconf` of the equivalent configuration, and `wg set DEV peer ...`
# once a peer (timed for 1,000, scaled x10: linear, see
# ../shared/notes/wireguard-netns.md). Then sweep of 10,000 admitted peers
# of which 100 expired, against one `wg show dump` plus one `wg set` that
# removes the 100. Medians of several runs and their ratios; no time is
# asserted. Needs root and wireguard-go, as the integration tests do.
set -u
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
RUNS=${BENCH_RUNS:-3}
PEERS=${BENCH_WG_PEERS:-10000}
PATH=$ISIM_BIN:$PATH
T=$(mktemp -d "${TMPDIR:-/tmp}/isim-bench.XXXXXX")
need_root() { [ "$(id -u)" -eq 0 ]; }
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
# shellcheck source=tests/integration/lib-wg.sh
. "$ISIM_ROOT/tests/integration/lib-wg.sh"
wg_skip_all() {
	echo "bench: wgadmit skipped: $1" >&2
	exit 0
}
wg_bail() {
	echo "bench: wgadmit: this failed: $1" >&2
	exit 1
}
wg_require
if ! isim-sign descriptor --help 2>&1 | grep -q -- --stream; then
	echo "bench: isim-sign descriptor has no --stream" >&2
	exit 1
fi
wg_mesh 1
wg_signer signer >/dev/null
wg_trust signer
X=$WG/bench
mkdir "$X" || exit 73

# ms COMMAND...: wall time of COMMAND in milliseconds.
ms() {
	m_0=$(date +%s%N)
	"$@" >/dev/null 2>"$X/err" || { echo "bench: '$*' failed: $(head -c 500 "$X/err")" >&2; return 1; }
	m_1=$(date +%s%N)
	echo $(((m_1 - m_0) / 1000000))
}
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
npeers() { wg_on 1 show wg1 peers | wc -l | tr -d ' '; }

# ---- the descriptors and the equivalent configuration, once ----------------
# Peer i: 10.100.(16 + i / 256).(i % 256)/32, endpoint 10.99.0.200:51820;
# the first 100 expire in an hour (for sweep), the rest in a day.
wg_randkeys "$PEERS" >"$X/keys"
wg_randkeys "$PEERS" >"$X/edkeys"
paste "$X/keys" "$X/edkeys" | awk -F'\t' -v iss="$(wg_time '-1 hour')" -v soon="$(wg_time '+1 hour')" \
	-v day="$(wg_time '+1 day')" '{
	printf "{\"node_id\":\"p-%d\",\"identity\":{\"wg_public_key\":\"%s\",\"ed25519_public_key\":\"%s\"},", NR, $1, $2
	printf "\"endpoints\":{\"wireguard\":\"10.99.0.200:51820\"},\"allowed_ips\":[\"10.100.%d.%d/32\"],", 16 + int(NR / 256), NR % 256
	printf "\"issued_at\":\"%s\",\"expires_at\":\"%s\"}\n", iss, (NR <= 100) ? soon : day
}' >"$X/unsigned.jsonl"
s0=$(date +%s)
isim-sign descriptor -k "$WG/signer" --stream <"$X/unsigned.jsonl" >"$X/signed.jsonl" || exit 1
echo "($PEERS descriptors signed in $(($(date +%s) - s0)) s, not timed below)"
printf '[Interface]\nPrivateKey = %s\nListenPort = 51820\n' "$(cat "$WG/n1/private")" >"$X/base.conf"
cp "$X/base.conf" "$X/full.conf"
awk '{ printf "\n[Peer]\nPublicKey = %s\nAllowedIPs = 10.100.%d.%d/32\nEndpoint = 10.99.0.200:51820\n", $1, 16 + int(NR / 256), NR % 256 }' \
	"$X/keys" >>"$X/full.conf"
awk 'NR <= 1000 { printf "%s 10.100.%d.%d/32\n", $1, 16 + int(NR / 256), NR % 256 }' "$X/keys" >"$X/set1000.txt"
awk 'NR <= 100 { printf " peer %s remove", $1 }' "$X/keys" >"$X/remove100.args"

# The floor here: `wg setconf` with the 10,000 Ed25519 verifications the
# descriptors need running beside it, on the same two cores, and nothing
# else (no parsing, no state, no narrowing). An admit that verifies cannot
# beat it; it tells how much of the ratio is the machine's.
# shellcheck disable=SC2046 # pkg-config prints several words
cc -O2 -std=c11 -D_GNU_SOURCE -I"$ISIM_ROOT/lib" $(pkg-config --cflags libcjson libsodium) -o "$X/ed25519_verify" \
	"$ISIM_ROOT/tests/bench/ed25519_verify.c" "$ISIM_ROOT/build/release/libisim.a" \
	$(pkg-config --libs libcjson yaml-0.1 libpcre2-8 libcrypto libsodium) -lm || exit 1
"$X/ed25519_verify" prepare "$X/signed.jsonl" "$WG/signer.pub" "$X/signed.bin" || exit 1
floor() {
	"$X/ed25519_verify" verify "$X/signed.bin" &
	f_pid=$!
	setconf_all || return 1
	wait "$f_pid"
}

reset() { wg_on 1 setconf wg1 "$X/base.conf" && rm -rf "$WG/n1/state" && mkdir "$WG/n1/state"; }
# -k 0, as the configuration setconf loads: no handshakes to start.
admit_all() { wgadmit 1 admit -d "$WG/trust" -k 0 <"$X/signed.jsonl"; }
setconf_all() { wg_on 1 setconf wg1 "$X/full.conf"; }
# One shell in the daemon's namespaces runs the 1,000 `wg set`s.
set_each() {
	# shellcheck disable=SC2016 # the inner shell expands them
	nsenter -t "$(wg_pid 1)" -m -n sh -c 'while read -r k ip; do
		wg set wg1 peer "$k" allowed-ips "$ip" endpoint 10.99.0.200:51820 || exit 1
	done <"$1"' sh "$X/set1000.txt"
}
sweep_now() { wgadmit 1 sweep -d "$WG/trust" -t "$(wg_time '+2 hours')"; }
# What a script without isim-wgadmit does: read the device, remove the 100.
dump_remove() {
	wg_on 1 show wg1 dump >/dev/null || return 1
	# shellcheck disable=SC2046 # the words are the arguments
	wg_on 1 set wg1 $(cat "$X/remove100.args")
}

a="" s="" e="" w="" b="" f=""
r=0
while [ "$r" -lt "$RUNS" ]; do
	r=$((r + 1))
	reset && a="$a $(ms admit_all)" || exit 1
	[ "$(npeers)" = "$PEERS" ] || { echo "bench: admit left $(npeers) of $PEERS peers" >&2; exit 1; }
	reset && s="$s $(ms setconf_all)" || exit 1
	reset && f="$f $(ms floor)" || exit 1
	[ "$(npeers)" = "$PEERS" ] || { echo "bench: the floor left $(npeers) of $PEERS peers" >&2; exit 1; }
	reset && e="$e $(ms set_each)" || exit 1
	[ "$(npeers)" = 1000 ] || { echo "bench: wg set left $(npeers) of 1000 peers" >&2; exit 1; }
	reset && admit_all >/dev/null 2>&1 && w="$w $(ms sweep_now)" || exit 1
	[ "$(npeers)" = $((PEERS - 100)) ] || { echo "bench: sweep left $(npeers) of $((PEERS - 100)) peers" >&2; exit 1; }
	reset && setconf_all && b="$b $(ms dump_remove)" || exit 1
done
# The CPU one run of each takes, ours and the daemon's: on two cores a run
# lasts at least half their sum. times(1) tells what the shell that runs
# it has waited for: cpu_of runs it before and after, in one shell.
children_ms() { sed -n 2p "$1" | awk '{ t = 0; for (i = 1; i <= 2; i++) { split($i, p, "m"); t += p[1] * 60 + p[2] } printf "%d\n", t * 1000 }'; }
daemon_ms() { awk '{ print ($14 + $15) * 10 }' "/proc/$(wg_pid 1)/stat"; }
cpu_of() { # NAME COMMAND...: "NAME: its children's CPU ms, the daemon's ms"
	c_name=$1
	shift
	reset || exit 1
	times >"$X/times"
	c_o0=$(children_ms "$X/times")
	c_d0=$(daemon_ms)
	"$@" >/dev/null 2>&1 || exit 1
	times >"$X/times"
	c_o1=$(children_ms "$X/times")
	c_d1=$(daemon_ms)
	echo "$c_name $((c_o1 - c_o0)) ms, wireguard-go $((c_d1 - c_d0)) ms"
}
C1=$(cpu_of "isim-wgadmit admit" admit_all)
C2=$(cpu_of "wg setconf" setconf_all)
reset
A=$(echo "$a" | median)
S=$(echo "$s" | median)
E=$(echo "$e" | median)
E10=$(awk -v e="$E" -v p="$PEERS" 'BEGIN { print e * p / 1000 }')
W=$(echo "$w" | median)
B=$(echo "$b" | median)
F=$(echo "$f" | median)
echo "$PEERS peers into one wireguard-go device, median of $RUNS runs (runs, ms:$a |$s |$f |$e |$w |$b)"
printf '%-44s %10s %8s\n' "" "ms" "ratio"
printf '%-44s %10.0f %8s\n' "isim-wgadmit admit (verify, narrow, widen)" "$A" 1.00
printf '%-44s %10.0f %8s\n' "wg setconf, the same peers" "$S" "$(ratio "$A" "$S")"
printf '%-44s %10.0f %8s\n' "  the floor: setconf + the Ed25519 verifies" "$F" "$(ratio "$A" "$F")"
printf '%-44s %10.0f %8s\n' "wg set once a peer (1,000 timed, x$((PEERS / 1000)))" "$E10" "$(ratio "$A" "$E10")"
printf '%-44s %10.0f %8s\n' "isim-wgadmit sweep, 100 of $PEERS expired" "$W" 1.00
printf '%-44s %10.0f %8s\n' "wg show dump + one wg set removing 100" "$B" "$(ratio "$W" "$B")"
echo "(ratio: isim-wgadmit's time over the baseline's)"
echo "CPU of one run (two cores): $C1; $C2"
