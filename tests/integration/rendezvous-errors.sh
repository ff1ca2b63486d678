#!/bin/sh
# isim-rendezvous's bad input, one case at a time: each gets the exit code
# its --help and isim(7) give, one line on stderr naming the file, option or
# argument, and nothing on stdout. Known answers first (the addresses of
# tests/vectors/rendezvous/kat.tsv), so that a refusal is not all it can
# do. The run cases fail before touching a link, on an interface that does
# not exist; those that need the kernel's answer run as root in a network
# namespace of their own (isimrvPID), removed at exit.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

for x in jq isim-sign isim-rendezvous timeout mkfifo; do
	if ! command -v "$x" >/dev/null 2>&1; then
		echo "1..0 # SKIP $x is not installed"
		exit 0
	fi
done

NS=isimrv$$
ns_made=no
cleanup() {
	[ "$ns_made" = yes ] && ip netns delete "$NS" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
unset ISIM_MESH_SECRET ISIM_TRUST_DIR
umask 077
E=$T/rv
mkdir "$E" || exit 73
# An interface no host has: a run that got past its checks would stop there.
NODEV=rvnone$$
KAT=$ISIM_ROOT/tests/vectors/rendezvous/kat.tsv

# hexfile HEX FILE: the bytes HEX spells, written with printf.
hexfile() {
	h_rest=$1
	h_esc=""
	while [ -n "$h_rest" ]; do
		h_esc="$h_esc\\0$(printf '%03o' "0x${h_rest%"${h_rest#??}"}")"
		h_rest=${h_rest#??}
	done
	printf '%b' "$h_esc" >"$2"
}

# rendezvous ARGS...: the tool, stopped if it hangs (a FIFO, a daemon that
# should not have started).
rendezvous() { timeout 20 isim-rendezvous "$@"; }
# sub_addr / sub_run ARGS...: the subcommand with what it needs besides
# ARGS, all of it good: an epoch for addr; for run a trusted signer, an
# interface that does not exist and a signed descriptor.
sub_addr() { rendezvous addr --epoch 1 --count 1 "$@"; }
sub_run() { rendezvous run --trust "$E/trust" --dev "$NODEV" --descriptor "$E/signed.json" "$@"; }

# bad CODE DESCRIPTION NEEDLES COMMAND...: COMMAND exits CODE, says on
# stderr every one of NEEDLES ("a|b", fixed strings) in one line that starts
# with the program's name, and prints nothing on stdout.
bad() {
	b_code=$1
	b_d=$2
	b_needles=$3
	shift 3
	expect "$b_code" "$b_d: exit $b_code" "$@"
	b_miss=""
	b_old=$IFS
	IFS="|"
	for b_n in $b_needles; do
		grep -qF -- "$b_n" "$T/err" || b_miss="$b_miss '$b_n'"
	done
	IFS=$b_old
	if [ -z "$b_miss" ]; then
		ok "... stderr names $b_needles"
	else
		not_ok "... stderr names $b_needles" "missing:$b_miss" "stderr: $(head -c 600 "$T/err")"
	fi
	same "... one line on stderr from isim-rendezvous, nothing on stdout" "1 line, 0 bytes, isim-rendezvous" \
		"$(($(wc -l <"$T/err"))) line, $(($(wc -c <"$T/out"))) bytes, $(head -c 15 "$T/err")"
}

# ---- what the cases share ----------------------------------------------------------
S=$E/secret
printf 'mesh secret of the demo mesh, 32+ bytes' >"$S"
isim-sign keygen -W -o "$E/signer" >/dev/null || exit 70
mkdir "$E/trust" && cp "$E/signer.pub" "$E/trust/" || exit 73
# descriptor JQ-FILTER: a node descriptor, unsigned, one line, changed by
# JQ-FILTER; fixed keys and times (nothing here checks them).
descriptor() {
	jq -n -c --arg k "Rm9vYmFyRm9vYmFyRm9vYmFyRm9vYmFyRm9vYmFyMTI=" '{
		node_id: "node-7",
		identity: {wg_public_key: $k, ed25519_public_key: $k},
		endpoints: {wireguard: "10.99.0.7:51820"},
		allowed_ips: ["10.100.0.7/32", "fd10:100::7/128"],
		issued_at: "2024-01-01T00:00:00Z", expires_at: "2099-01-01T00:00:00Z"
	}' | jq -c "${1:-.}"
}
signed() { descriptor "$1" | isim-sign descriptor -k "$E/signer" --stream; }
signed >"$E/signed.json" || exit 70
descriptor >"$E/unsigned.json"

# ---- known answers: the addresses of kat.tsv -------------------------------------------
# Every row the CLI can say: a secret of at least 32 bytes once its trailing
# newlines are dropped, an epoch a JSON number holds exactly, a slot of the
# default 4.
kat_n=0
tab=$(printf '\t')
while IFS=$tab read -r k_epoch k_slot k_hex k_addr; do
	case $k_epoch in '#'* | "") continue ;; esac
	k_key=$k_hex
	while :; do
		case ${k_key#"${k_key%??}"} in
		0a | 0d | 0A | 0D) k_key=${k_key%??} ;;
		*) break ;;
		esac
	done
	if [ $((${#k_key} / 2)) -lt 32 ] || [ "${#k_epoch}" -gt 16 ] || [ "$k_epoch" -gt 9007199254740991 ] ||
		[ "$k_slot" -ge 4 ]; then
		continue
	fi
	kat_n=$((kat_n + 1))
	hexfile "$k_hex" "$E/kat$kat_n"
	expect 0 "kat.tsv: addr --epoch $k_epoch --slot $k_slot with a $((${#k_hex} / 2))-byte secret" \
		rendezvous addr --secret "$E/kat$kat_n" --epoch "$k_epoch" --slot "$k_slot"
	same "... prints $k_addr" "$k_epoch $k_slot $k_addr" \
		"$(jq -r '.slots[0] | "\(.epoch) \(.slot) \(.address)"' "$T/out")"
done <"$KAT"
if [ "$kat_n" -ge 8 ]; then
	ok "kat.tsv: $kat_n rows checked"
else
	not_ok "kat.tsv: $kat_n rows checked, expected at least 8" "$KAT"
fi
# The demo mesh's secret, and the address of its slot 3 in epoch 29500000.
demo_hex=$(printf '%s' 'mesh secret of the demo mesh, 32+ bytes' | od -An -v -tx1 | tr -d ' \n')
demo_addr=$(awk -F '\t' -v h="$demo_hex" '$1 == 29500000 && $2 == 3 && $3 == h { print $4 }' "$KAT")
same "kat.tsv has the demo mesh's epoch 29500000 slot 3" "fe80::e3e7:189d:32cc:21d0" "$demo_addr"
expect 0 "addr --count 6 from slot 3" rendezvous addr --secret "$S" --epoch 29500000 --slot 3 --count 6
same "... 6 slots, crossing into the next epochs" \
	"[[29500000,3],[29500001,0],[29500001,1],[29500001,2],[29500001,3],[29500002,0]]" \
	"$(jq -c '[.slots[] | [.epoch, .slot]]' "$T/out")"
same "... the first of them kat.tsv's" "$demo_addr" "$(jq -r '.slots[0].address' "$T/out")"
expect 0 "addr --dev eth0" rendezvous addr --secret "$S" --epoch 29500000 --slot 3 --dev eth0
same "... appends %eth0 to the address and the group" "$demo_addr%eth0 ff02::1:ffcc:21d0%eth0" \
	"$(jq -r '.slots[0] | "\(.address) \(.group)"' "$T/out")"
printf 'mesh secret of the demo mesh, 32+ bytes\r\n\n' >"$E/newlines"
expect 0 "a secret with trailing CR and LF" rendezvous addr --secret "$E/newlines" --epoch 29500000 --slot 3
same "... is the same secret" "$demo_addr" "$(jq -r '.slots[0].address' "$T/out")"
cp "$S" "$E/s640" && chmod 0640 "$E/s640"
expect 0 "a secret readable by its group (0640)" rendezvous addr --secret "$E/s640" --epoch 29500000 --slot 3
same "... is used" "$demo_addr" "$(jq -r '.slots[0].address' "$T/out")"
expect 0 "4 slots of 15000 ms fill an epoch of 60 s" sub_addr --secret "$S" --slot-ms 15000
same "... nothing on stderr" "" "$(cat "$T/err")"

# ---- the secret file, for both subcommands ------------------------------------------------
: >"$E/empty"
printf 'short\n' >"$E/short"
printf 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n\r\n' >"$E/s31"
for m in 0604 0644 0602; do
	cp "$S" "$E/s$m" && chmod "$m" "$E/s$m"
done
mkdir "$E/sdir"
mkfifo "$E/sfifo"
head -c 5000 /dev/zero | tr '\0' x >"$E/huge"
for sub in addr run; do
	bad 66 "$sub: no secret file" "$E/nosuch" "sub_$sub" --secret "$E/nosuch"
	bad 78 "$sub: an empty secret" "$E/empty|0 bytes" "sub_$sub" --secret "$E/empty"
	bad 78 "$sub: a 5-byte secret" "$E/short|5 bytes" "sub_$sub" --secret "$E/short"
	bad 78 "$sub: 31 bytes, then newlines (which do not count)" "$E/s31|31 bytes" "sub_$sub" --secret "$E/s31"
	bad 77 "$sub: a secret readable by others (0604)" "$E/s0604|0604" "sub_$sub" --secret "$E/s0604"
	bad 77 "$sub: a secret readable by all (0644)" "$E/s0644|0644" "sub_$sub" --secret "$E/s0644"
	bad 77 "$sub: a secret writable by others (0602)" "$E/s0602|0602" "sub_$sub" --secret "$E/s0602"
	bad 66 "$sub: a folder as the secret" "$E/sdir" "sub_$sub" --secret "$E/sdir"
	bad 66 "$sub: a FIFO as the secret (not waited on)" "$E/sfifo" "sub_$sub" --secret "$E/sfifo"
	bad 64 "$sub: --secret - (standard input)" "standard input" "sub_$sub" --secret -
	bad 64 "$sub: --secret ''" "--secret" "sub_$sub" --secret ""
	bad 65 "$sub: a 5000-byte secret (over 4096)" "$E/huge|4096" "sub_$sub" --secret "$E/huge"
	bad 64 "$sub: --secret given twice" "--secret" "sub_$sub" --secret "$S" --secret "$S"
done
bad 66 "addr: \$ISIM_MESH_SECRET names no file" "$E/nosuch-env" \
	env ISIM_MESH_SECRET="$E/nosuch-env" timeout 20 isim-rendezvous addr --epoch 1

# ---- the schedule and the shared options, for both subcommands -------------------------------
for sub in addr run; do
	bad 64 "$sub: 200 slots do not fit an epoch" "--slots, --slot-ms, --epoch-seconds|200 slots of 500 ms" \
		"sub_$sub" --secret "$S" --slots 200
	bad 64 "$sub: 4 slots of 20 s do not fit an epoch" "--slots, --slot-ms, --epoch-seconds|20000 ms" \
		"sub_$sub" --secret "$S" --slot-ms 20000
	bad 64 "$sub: 4 slots of 15001 ms do not fit 60 s" "--slots, --slot-ms, --epoch-seconds|15001 ms" \
		"sub_$sub" --secret "$S" --slot-ms 15001
	bad 64 "$sub: an epoch of 1 s is too short for 4 slots" "--slots, --slot-ms, --epoch-seconds|1000 ms" \
		"sub_$sub" --secret "$S" --epoch-seconds 1
	for opt in --slots --slot-ms --epoch-seconds --clock-offset; do
		case $opt in
		--slots) big=1025 ;;
		--slot-ms) big=3600001 ;;
		--epoch-seconds) big=86401 ;;
		--clock-offset) big=86400001 ;;
		esac
		[ "$opt" = --clock-offset ] ||
			bad 64 "$sub: $opt 0" "$opt: '0'" "sub_$sub" --secret "$S" "$opt" 0
		[ "$opt" = --clock-offset ] ||
			bad 64 "$sub: $opt -5" "$opt: '-5'" "sub_$sub" --secret "$S" "$opt" -5
		bad 64 "$sub: $opt four" "$opt: 'four'" "sub_$sub" --secret "$S" "$opt" four
		bad 64 "$sub: $opt 5x" "$opt: '5x'" "sub_$sub" --secret "$S" "$opt" 5x
		bad 64 "$sub: $opt $big (too large)" "$opt: '$big'" "sub_$sub" --secret "$S" "$opt" "$big"
		bad 64 "$sub: $opt 99999999999999999999 (past a long)" "$opt: '99999999999999999999'" \
			"sub_$sub" --secret "$S" "$opt" 99999999999999999999
		bad 64 "$sub: $opt given twice" "$opt given twice" "sub_$sub" --secret "$S" "$opt" 10 "$opt" 10
	done
	bad 64 "$sub: an unknown option" "'--frobnicate'" "sub_$sub" --secret "$S" --frobnicate
	bad 64 "$sub: an unknown short option" "'-x'" "sub_$sub" --secret "$S" -x
	bad 64 "$sub: an option without its value" "--slots" "sub_$sub" --secret "$S" --slots
	bad 64 "$sub: an unexpected argument" "'extra'" "sub_$sub" --secret "$S" extra
done

# ---- addr ---------------------------------------------------------------------------------
addr() { rendezvous addr --secret "$S" "$@"; }
bad 64 "addr: --at yesterday" "--at: 'yesterday'" addr --at yesterday
bad 64 "addr: --at in month 13" "--at: '2024-13-01T00:00:00Z'" addr --at 2024-13-01T00:00:00Z
bad 64 "addr: --at @abc" "--at: '@abc'" addr --at @abc
bad 64 "addr: --at @-1 (before 1970)" "--at: '@-1'" addr --at @-1
bad 64 "addr: --at 1969-12-31T23:59:59Z (before 1970, as @-1)" "--at: '1969-12-31T23:59:59Z'" \
	addr --at 1969-12-31T23:59:59Z
bad 64 "addr: --at given twice" "--at given twice" addr --at @0 --at @0
bad 64 "addr: --at and --epoch" "--at|--epoch" addr --at @0 --epoch 1
bad 64 "addr: --slot without --epoch" "--slot needs --epoch" addr --slot 1
bad 64 "addr: --slot 4 of 4 slots" "--slot: '4'" addr --epoch 1 --slot 4
bad 64 "addr: --slot 8 of 8 slots" "--slot: '8'|0 to 7" addr --epoch 1 --slots 8 --slot 8
bad 64 "addr: --slot -1" "--slot: '-1'" addr --epoch 1 --slot -1
bad 64 "addr: --slot given twice" "--slot given twice" addr --epoch 1 --slot 1 --slot 1
bad 64 "addr: --count 0" "--count: '0'" addr --epoch 1 --count 0
bad 64 "addr: --count -1" "--count: '-1'" addr --epoch 1 --count -1
bad 64 "addr: --count 100001" "--count: '100001'" addr --epoch 1 --count 100001
bad 64 "addr: --count six" "--count: 'six'" addr --epoch 1 --count six
bad 64 "addr: --count given twice" "--count given twice" addr --epoch 1 --count 1 --count 1
bad 64 "addr: --epoch abc" "--epoch: 'abc'" addr --epoch abc
bad 64 "addr: --epoch -1" "--epoch: '-1'" addr --epoch -1
bad 64 "addr: --epoch 1x" "--epoch: '1x'" addr --epoch 1x
bad 64 "addr: --epoch ''" "--epoch: ''" addr --epoch ""
bad 64 "addr: --epoch 2^53 (past what JSON counts exactly)" "--epoch: '9007199254740992'" addr --epoch 9007199254740992
bad 64 "addr: --epoch given twice" "--epoch given twice" addr --epoch 1 --epoch 2
bad 64 "addr: --dev with '/'" "--dev: 'a/b'" addr --epoch 1 --dev a/b
bad 64 "addr: --dev of 16 bytes" "--dev: 'abcdefghijklmnop'" addr --epoch 1 --dev abcdefghijklmnop
bad 64 "addr: --dev ''" "--dev: ''" addr --epoch 1 --dev ""
bad 64 "addr: --dev given twice" "--dev given twice" addr --epoch 1 --dev eth0 --dev eth0
expect 0 "addr: --dev of 15 bytes" addr --epoch 1 --count 1 --dev abcdefghijklmno

# ---- run ------------------------------------------------------------------------------------
run() { rendezvous run --secret "$S" --trust "$E/trust" "$@"; }
bad 64 "run: no --dev" "--dev" run --descriptor "$E/signed.json"
bad 64 "run: no --descriptor" "--descriptor" run --dev "$NODEV"
bad 64 "run: --dev with '/'" "--dev: 'a/b'" run --dev a/b --descriptor "$E/signed.json"
bad 64 "run: --dev of 16 bytes" "--dev: 'abcdefghijklmnop'" run --dev abcdefghijklmnop --descriptor "$E/signed.json"
bad 64 "run: --dev given twice" "--dev given twice" sub_run --secret "$S" --dev "$NODEV"
bad 64 "run: --descriptor given twice" "--descriptor given twice" sub_run --secret "$S" --descriptor "$E/signed.json"
bad 64 "run: --port 0" "--port: '0'" sub_run --secret "$S" --port 0
bad 64 "run: --port 70000" "--port: '70000'" sub_run --secret "$S" --port 70000
bad 64 "run: --port 65536" "--port: '65536'" sub_run --secret "$S" --port 65536
bad 64 "run: --port -1" "--port: '-1'" sub_run --secret "$S" --port -1
bad 64 "run: --port http" "--port: 'http'" sub_run --secret "$S" --port http
bad 64 "run: --port given twice" "--port given twice" sub_run --secret "$S" --port 5000 --port 5000
bad 64 "run: --trust and --pub" "--trust|--pub" sub_run --secret "$S" --pub "$E/signer.pub"
bad 66 "run: --trust names no folder" "$E/notrust" \
	rendezvous run --secret "$S" --trust "$E/notrust" --dev "$NODEV" --descriptor "$E/signed.json"
bad 66 "run: --pub names no file" "$E/nokey.pub" \
	rendezvous run --secret "$S" --pub "$E/nokey.pub" --dev "$NODEV" --descriptor "$E/signed.json"
# The descriptor, read before the secret and the interface.
dr() { run --dev "$NODEV" --descriptor "$@"; }
bad 66 "run: no descriptor file" "$E/nosuch.json" dr "$E/nosuch.json"
bad 66 "run: a folder as the descriptor" "$E/sdir" dr "$E/sdir"
: >"$E/empty.json"
bad 65 "run: an empty descriptor" "$E/empty.json" dr "$E/empty.json"
printf 'not json\n' >"$E/text.json"
bad 65 "run: a descriptor that is not JSON" "$E/text.json:1" dr "$E/text.json"
cut -c 1-60 "$E/signed.json" >"$E/trunc.json"
bad 65 "run: a truncated descriptor" "$E/trunc.json:1" dr "$E/trunc.json"
{ cat "$E/signed.json" "$E/signed.json"; } >"$E/two.json"
bad 65 "run: two descriptors in one file" "$E/two.json:2" dr "$E/two.json"
printf '[1, 2]\n' >"$E/array.json"
bad 65 "run: JSON, but an array" "$E/array.json" dr "$E/array.json"
printf '{"node_id": "node-7"}\n' >"$E/partial.json"
bad 65 "run: JSON, but not a node descriptor (members missing)" "$E/partial.json|identity" dr "$E/partial.json"
# (isim-sign would not sign these: the schema comes before the signature.)
descriptor '.allowed_ips = ["10.100.0.300/32"]' >"$E/cidr.json"
bad 65 "run: a descriptor whose allowed_ips the schema refuses" "$E/cidr.json|/allowed_ips/0" dr "$E/cidr.json"
descriptor '.colour = "blue"' >"$E/extra.json"
bad 65 "run: a descriptor with an unknown member" "$E/extra.json|colour" dr "$E/extra.json"
bad 65 "run: an unsigned descriptor" "$E/unsigned.json|not signed" dr "$E/unsigned.json"
signed '.allowed_ips = [range(64) | "fd10:100:0:\(.)::/64"]' >"$E/long.json"
long_len=$(jq -c . "$E/long.json" | tr -d '\n' | wc -c)
if [ "$long_len" -gt 1176 ] && jq -e .attestation.signature "$E/long.json" >/dev/null; then
	ok "the long descriptor is signed and past 1176 bytes ($long_len)"
else
	not_ok "the long descriptor is signed and past 1176 bytes ($long_len)" "$(head -c 300 "$E/long.json")"
fi
bad 65 "run: a signed descriptor too long for a datagram" "$E/long.json|1176" dr "$E/long.json"

# ---- run, as far as the interface: root, in a namespace of its own ----------------------------
if ! need_root; then
	skip "run: an interface that does not exist" "needs root for a network namespace"
	skip "run --once on lo, a 0640 secret" "needs root for a network namespace"
elif ! command -v ip >/dev/null 2>&1 || ! ip netns add "$NS" 2>/dev/null; then
	skip "run: an interface that does not exist" "cannot make a network namespace here"
	skip "run --once on lo, a 0640 secret" "cannot make a network namespace here"
else
	ns_made=yes
	ns() { ip netns exec "$NS" "$@"; }
	bad 66 "run: an interface that does not exist" "'nosuch0'" \
		ns timeout 20 isim-rendezvous run --secret "$S" --trust "$E/trust" --dev nosuch0 \
		--descriptor "$E/signed.json"
	ip -n "$NS" link set lo up
	expect 0 "run --once on lo, a 0640 secret, a short epoch" \
		ns timeout 20 isim-rendezvous run --secret "$E/s640" --trust "$E/trust" --dev lo \
		--descriptor "$E/signed.json" --once --epoch-seconds 1 --slots 1 --slot-ms 100
	same "... nothing on stdout (no other node)" "" "$(cat "$T/out")"
	contains "... its counters on stderr" "$T/err" '"sent":{'
	same "... and no rendezvous address left on lo" "" "$(ip -n "$NS" -6 addr show dev lo | grep fe80)"
fi
finish
