#!/bin/sh
# Narrow admission holds at every instant: 1,000 descriptors, one in ten bad
# (forged, expired, untrusted signer, overlapping another node's range,
# outside the network, a replay, malformed), go to isim-wgadmit admit in
# small batches while a watcher reads `wg show dump` again and again. In no
# snapshot does a peer whose key is not a verified-good one have more than
# a host route, or an address outside 10.100.0.0/16, nor do two peers'
# allowed ips overlap; at the end the refused are absent, the good present.
# Then the same stream killed with SIGKILL mid-run, four times: the device
# keeps the invariant, and the next run makes the device and the state agree.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/lib-wg.sh
. "$(dirname "$0")/lib-wg.sh"

wg_require
wg_mesh 1
wg_signer signer >/dev/null
wg_signer other >/dev/null
wg_trust signer
I=$WG/inv
mkdir "$I" || exit 73
COUNT=${WG_INVARIANT_COUNT:-1000}
BATCH=${WG_INVARIANT_BATCH:-8}

# ---- the stream -------------------------------------------------------------------
# Line i (1..COUNT): good unless i % 10 == 0; then bad, of kind (i / 10) % 7.
# A good line: node g-i, host route 10.100.(16 + i / 256).(i % 256)/32 and,
# when i % 10 == 5, a /28 of its own in 10.100.128.0/17. A bad line: node
# b-i, host route 10.100.(64 + i / 256).(i % 256)/32 and a /28 in
# 10.100.200.0/21, so that a bad key with more than a host route shows.
wg_randkeys "$COUNT" >"$I/keys"
wg_randkeys "$COUNT" >"$I/edkeys"
paste "$I/keys" "$I/edkeys" | awk -F'\t' -v now1="$(wg_time '-1 hour')" -v now2="$(wg_time '-2 hours')" \
	-v day="$(wg_time '+1 day')" -v past2="$(wg_time '-2 days')" -v past1="$(wg_time '-1 day')" '
function host(base, j) { return sprintf("10.100.%d.%d/32", base + int(j / 256), j % 256) }
function r28(base, j) { return sprintf("10.100.%d.%d/28", base + int(j / 16), (j % 16) * 16) }
function d(id, ips, iss, ex) {
	return sprintf("{\"node_id\":\"%s\",\"identity\":{\"wg_public_key\":\"%s\",\"ed25519_public_key\":\"%s\"}," \
		"\"endpoints\":{\"wireguard\":\"10.99.0.200:51820\"},\"allowed_ips\":[%s],\"issued_at\":\"%s\",\"expires_at\":\"%s\"}",
		id, $1, $2, ips, iss, ex)
}
{
	i = NR
	signer = "signer"; post = "-"; kind = "good"
	if (i % 10 != 0) {
		ips = "\"" host(16, i) "\""
		if (i % 10 == 5) ips = ips ",\"" r28(128, int(i / 10)) "\""
		line = d("g-" i, ips, now1, day)
	} else {
		k = int(i / 10) % 7
		own = "\"" host(64, i) "\",\"" r28(200, int(i / 10)) "\""
		if (k == 0) { kind = "forged"; line = d("b-" i, own, now1, day); post = "forge" }
		if (k == 1) { kind = "expired"; line = d("b-" i, own, past2, past1) }
		if (k == 2) { kind = "untrusted"; line = d("b-" i, own, now1, day); signer = "other" }
		if (k == 3) {
			kind = "overlap"
			if (int(i / 70) % 2) ips = "\"" host(16, i - 1) "\""
			else ips = "\"" host(64, i) "\",\"" r28(128, int((i - 5) / 10)) "\""
			line = d("b-" i, ips, now1, day)
		}
		if (k == 4) {
			kind = "outside"
			line = d("b-" i, sprintf("\"10.101.%d.%d/32\",\"10.200.%d.0/24\"", int(i / 256), i % 256, i % 256), now1, day)
		}
		if (k == 5) { kind = "replay"; line = d("g-" (i - 5), own, now2, day) }
		if (k == 6) { kind = "malformed"; line = d("b-" i, own, now1, day); post = "cut" }
	}
	print i "\t" kind "\t" signer "\t" post "\t" $1 "\t" line
}' >"$I/plan.tsv"
for s in signer other; do
	awk -F'\t' -v s="$s" '$3 == s { print $1 }' "$I/plan.tsv" >"$I/$s.idx"
	awk -F'\t' -v s="$s" '$3 == s { print $6 }' "$I/plan.tsv" | isim-sign descriptor -k "$WG/$s" --stream >"$I/$s.jsonl"
	paste "$I/$s.idx" "$I/$s.jsonl"
done | sort -n >"$I/signed.tsv"
# The forgeries gain a range after signing; the malformed are cut short.
cut -f4 "$I/plan.tsv" | paste - "$I/signed.tsv" | while IFS="$(printf '\t')" read -r post _ line; do
	case $post in
	forge) printf '%s\n' "$line" | jq -c '.allowed_ips += ["10.100.250.0/24"]' ;;
	cut) printf '%s\n' "$line" | cut -c 1-80 ;;
	*) printf '%s\n' "$line" ;;
	esac
done >"$I/stream.jsonl"
awk -F'\t' '$2 == "good" { print $5 }' "$I/plan.tsv" | sort >"$I/good.keys"
same "the stream: $COUNT lines" "$COUNT" "$(wc -l <"$I/stream.jsonl" | tr -d ' ')"
same "... of which one in ten bad" "$((COUNT / 10))" "$(awk -F'\t' '$2 != "good"' "$I/plan.tsv" | wc -l | tr -d ' ')"

# ---- the watcher ------------------------------------------------------------------
# check SNAPSHOT: prints each violation of the invariant in one dump.
check_snap() {
	awk -F'\t' '
	FNR == NR { good[$1] = 1; next }
	FNR == 1 { next }
	{
		n = split($4, a, ",")
		for (j = 1; j <= n; j++) {
			p = a[j]
			if (p == "(none)") continue
			if (p !~ /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+\/[0-9]+$/) {
				if (!($1 in good)) print "not a good key, an address outside 10.100.0.0/16: " $1 " " p
				continue
			}
			split(p, q, /[.\/]/)
			lo = ((q[1] * 256 + q[2]) * 256 + q[3]) * 256 + q[4]
			size = 2 ^ (32 - q[5])
			if (!($1 in good)) {
				if (q[5] != 32) print "not a good key, a non-host route: " $1 " " p
				if (q[1] != 10 || q[2] != 100) print "not a good key, an address outside 10.100.0.0/16: " $1 " " p
			}
			print "R", lo, lo + size - 1, $1, p
		}
	}' "$I/good.keys" "$1" | awk '
	$1 != "R" { print; next }
	{ print $2, $3, $4, $5 | "sort -n -k1,1 -k2,2nr" }' | awk '
	NF != 4 { print; next }
	{
		if (seen && $1 <= end) print "overlap: " key " " pfx " and " $3 " " $4
		if (!seen || $2 > end) { end = $2; key = $3; pfx = $4 }
		seen = 1
	}'
}
watch() {
	w_n=0
	while [ ! -e "$I/stop" ]; do
		if wg_on 1 show wg1 dump >"$I/snap" 2>/dev/null; then
			check_snap "$I/snap" >"$I/v"
			if [ -s "$I/v" ]; then
				cat "$I/v" >>"$I/violations"
				cp "$I/snap" "$I/snap.bad.$w_n"
			fi
			w_n=$((w_n + 1))
		fi
	done
	echo "$w_n" >"$I/snapshots"
}
: >"$I/violations"
watch &
wpid=$!
wg_pids="$wg_pids $wpid"
while [ ! -e "$I/snap" ]; do sleep 0.05; done

# -k 0: no keepalive, so no handshakes towards the endpoint nobody has.
wgadmit 1 admit -d "$WG/trust" -k 0 -b "$BATCH" <"$I/stream.jsonl" >"$T/out" 2>"$T/err"
rc=$?
sleep 0.5
touch "$I/stop"
wait "$wpid"
echo "# admit exit $rc; $(cat "$I/snapshots") snapshots of wg show dump checked"
case $rc in
1 | 65) ok "admit in batches of $BATCH: exit $rc (some refused)" ;;
*) not_ok "admit in batches of $BATCH: exit 1 or 65" "exit $rc" "$(head -c 2000 "$T/err")" ;;
esac
check "the watcher checked some snapshots" test "$(cat "$I/snapshots")" -gt 0
same "no snapshot broke the invariant" "" "$(sort -u "$I/violations" | head -20)"

# ---- the verdicts -----------------------------------------------------------------
same "one verdict a line, in input order" "$(seq 1 "$COUNT" | tr '\n' ' ')" \
	"$(jq -r .line "$T/out" 2>/dev/null | tr '\n' ' ')"
jq -r '"\(.line)\t\(.admitted)\t\(.state)\t\((.reason // "null") | split(":")[0])"' "$T/out" 2>/dev/null >"$I/verdicts"
for kind in good forged expired untrusted overlap outside replay malformed; do
	case $kind in
	good) want="true	admitted	null" ;;
	forged) want="false	refused	signature" ;;
	untrusted) want="false	refused	untrusted" ;;
	outside) want="false	refused	outside network" ;;
	*) want="false	refused	$kind" ;;
	esac
	n=$(awk -F'\t' -v k="$kind" '$2 == k' "$I/plan.tsv" | wc -l | tr -d ' ')
	wrong=$(awk -F'\t' -v k="$kind" 'FNR == NR { if ($2 == k) want[$1] = 1; next } ($1 in want) { print }' \
		"$I/plan.tsv" "$I/verdicts" | cut -f2- | grep -vxF "$want" | sort | uniq -c | head -5)
	same "$kind: all $n as \"$(echo "$want" | tr '\t' ' ')\"" "" "$wrong"
done

# ---- the end state ---------------------------------------------------------------
wg_peers 1 >"$I/final.keys"
same "the device's peers are the good ones exactly" "" "$(diff "$I/good.keys" "$I/final.keys" | grep '^[<>]' | head -5)"
awk -F'\t' '$2 == "good" { print $5 "\t" $6 }' "$I/plan.tsv" | while IFS="$(printf '\t')" read -r k line; do
	printf '%s\t%s\n' "$k" "$(printf '%s\n' "$line" | jq -r '.allowed_ips | sort | join(",")')"
done | sort >"$I/want.ips"
wg_on 1 show wg1 allowed-ips | while IFS="$(printf '\t')" read -r k ips; do
	printf '%s\t%s\n' "$k" "$(printf '%s\n' "$ips" | tr ' ' '\n' | sort | paste -sd, -)"
done | sort >"$I/have.ips"
same "... each with its declared ranges" "" "$(diff "$I/want.ips" "$I/have.ips" | grep '^[<>]' | head -5)"

# ---- kill -9 ------------------------------------------------------------------------
# The same stream into an empty device and state, killed at a few moments
# while batches are at the device and not yet recorded (two at a time: the
# next is queued behind the one the device takes). Right after each kill
# the device still keeps the invariant; the next run, given nothing, makes
# the device and the state agree: the same keys, each with the AllowedIPs
# recorded, and nothing left pending. Then the whole stream is admitted.
printf '[Interface]\nPrivateKey = %s\n' "$(cat "$WG/n1/private")" >"$I/empty.conf"
db=$WG/n1/state/wgadmit.db
recorded() { # the keys and AllowedIPs the state records, one line a peer
	sqlite3 -separator ' ' "$db" "select wg_key, allowed_ips from nodes where dev = 'wg1'" | while read -r k ips; do
		printf '%s\t%s\n' "$k" "$(echo "$ips" | tr ' ' '\n' | sort | paste -sd, -)"
	done | sort
}
configured() { # the same of the device
	wg_on 1 show wg1 allowed-ips | while IFS="$(printf '\t')" read -r k ips; do
		printf '%s\t%s\n' "$k" "$(printf '%s\n' "$ips" | tr ' ' '\n' | grep -v '^(none)$' | sort | paste -sd, -)"
	done | sort
}
landed=0
for delay in 0.04 0.08 0.12 0.16; do
	wg_on 1 setconf wg1 "$I/empty.conf" || exit 1
	rm -rf "$WG/n1/state"
	ip netns exec "$(wg_ns 1)" isim-wgadmit admit --dev wg1 --uapi-dir "$(wg_uapi 1)" --state-dir "$WG/n1/state" \
		-n 10.100.0.0/16 -n fd10:100::/64 -d "$WG/trust" -k 0 -b "$BATCH" "$I/stream.jsonl" >"$I/killed.out" 2>&1 &
	kpid=$!
	sleep "$delay"
	if kill -KILL "$kpid" 2>/dev/null; then
		wait "$kpid" 2>/dev/null
		n=$(grep -c '"line"' "$I/killed.out")
		[ "$n" -lt "$COUNT" ] && landed=$((landed + 1))
		wg_on 1 show wg1 dump >"$I/snap.killed"
		same "killed after ${delay}s ($n verdicts out): the device keeps the invariant" "" \
			"$(check_snap "$I/snap.killed" | sort -u | head -5)"
	else
		wait "$kpid"
	fi
	expect 0 "... the next run, given nothing" wgadmit 1 admit -d "$WG/trust" -k 0 /dev/null
	same "... leaves the device with the keys and AllowedIPs the state records" "" \
		"$(recorded >"$I/rec"; configured >"$I/conf"; diff "$I/rec" "$I/conf" | grep '^[<>]' | head -5)"
	same "... and nothing pending" 0 "$(sqlite3 "$db" "select count(*) from pending")"
	echo "# ... $(sqlite3 "$db" "select count(*) from decisions where decision = 'reconciled'") peers reconciled"
done
echo "# $landed of 4 kills landed while admit was running"
check "at least one kill landed while admit was running" test "$landed" -gt 0
wgadmit 1 admit -d "$WG/trust" -k 0 -b "$BATCH" "$I/stream.jsonl" >"$T/out" 2>"$T/err"
wg_peers 1 >"$I/final.keys"
same "the whole stream after the kills: the device's peers are the good ones exactly" "" \
	"$(diff "$I/good.keys" "$I/final.keys" | grep '^[<>]' | head -5)"
finish
