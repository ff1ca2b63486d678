#!/bin/sh
# isim-wgadmit on three wireguard-go nodes in network namespaces: signed
# descriptors are admitted, narrow first, then widened; traffic flows to
# the declared ranges and not outside a narrow peer's host routes; every
# bad descriptor is refused with its reason word and never reaches the
# device; `wg show dump` and `isim-wgadmit show` agree; sweep, remove, key
# rotation, replay, and the reconcile of a device and its state database.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/lib-wg.sh
. "$(dirname "$0")/lib-wg.sh"

wg_require
wg_mesh 1 2 3
kid=$(wg_signer signer)
oid=$(wg_signer other)
wg_trust signer
D=$WG/d
mkdir "$D" || exit 73
for n in 1 2 3; do
	wg_descriptor "$n" | wg_sign signer >"$D/n$n.json"
done
ip -n "$(wg_ns 2)" addr add 10.100.5.1/24 dev wg2
ip -n "$(wg_ns 3)" addr add 10.100.6.1/24 dev wg3
P1=$(wg_pub 1)
P2=$(wg_pub 2)
P3=$(wg_pub 3)

# at N FILTER: jq -r FILTER on line N of the last output.
at() { sed -n "$1p" "$T/out" | jq -r "$2"; }
# sorted JSON-ARRAY-FILTER: the array's strings sorted, on one line.
sorted() { jq -r "$1 | sort | join(\" \")"; }
# cfg N: node N's peers as wg show dump has them, without the counters.
cfg() { wg_dump "$1" | cut -f1-4,8; }
absent() { # N KEY: KEY is not a peer of node N
	if wg_on "$1" show "wg$1" dump | cut -f1 | grep -qxF -- "$2"; then return 1; fi
}
ping_ok() { in_ns "$1" ping -c 1 -W 3 "$2" >/dev/null 2>&1; }
ping_fails() { ! in_ns "$1" ping -c 2 -W 1 "$2" >/dev/null 2>&1; }

# ---- admission --------------------------------------------------------------
expect 0 "node 1 admits node 2's signed descriptor" wgadmit 1 admit -d "$WG/trust" "$D/n2.json"
cp "$T/out" "$WG/admit2.out"
same "... one JSON line" 1 "$(wc -l <"$T/out")"
same "... naming the node, its key, admitted, its signer, no reason, line 1" \
	"node-2 $P2 true admitted $kid null 1" \
	"$(at 1 '"\(.node_id) \(.wg_public_key) \(.admitted) \(.state) \(.key_id) \(.reason) \(.line)"')"
same "... allowed_ips: every declared range" "10.100.0.2/32 10.100.5.0/24 fd10:100::2/128" \
	"$(sed -n 1p "$T/out" | sorted .allowed_ips)"
same "... and the device has them" "10.100.0.2/32 10.100.5.0/24 fd10:100::2/128" "$(wg_allowed 1 "$P2")"
same "... with the declared endpoint" "10.99.0.2:51820" \
	"$(wg_on 1 show wg1 endpoints | awk -v k="$P2" '$1 == k { print $2 }')"
expect 0 "node 1 admits node 3 --narrow-only" wgadmit 1 admit --narrow-only -d "$WG/trust" "$D/n3.json"
same "... state narrow, allowed_ips its host routes" "narrow 10.100.0.3/32 fd10:100::3/128" \
	"$(at 1 '.state + " " + (.allowed_ips | sort | join(" "))')"
echo "# --narrow-only: \"admitted\": $(at 1 .admitted)"
same "... which is what the device has" "10.100.0.3/32 fd10:100::3/128" "$(wg_allowed 1 "$P3")"
wgadmit_stdin() { # N ARGS... <FILE
	wg_a=$1
	shift
	wgadmit "$wg_a" admit "$@"
}
expect 0 "node 2 admits node 1 from standard input" wgadmit_stdin 2 -d "$WG/trust" <"$D/n1.json"
expect 0 "node 3 admits node 1, with -p KEY.pub and -k 25" wgadmit 3 admit -p "$WG/signer.pub" -k 25 "$D/n1.json"
same "... persistent keepalive 25 on the device" 25 \
	"$(wg_on 3 show wg3 persistent-keepalive | awk -v k="$P1" '$1 == k { print $2 }')"

check "ping through the tunnel: node 1 to 10.100.0.2" ping_ok 1 10.100.0.2
check "... to fd10:100::2" ping_ok 1 fd10:100::2
check "... to 10.100.5.1, inside node 2's declared 10.100.5.0/24" ping_ok 1 10.100.5.1
check "... node 2 to 10.100.0.1" ping_ok 2 10.100.0.1
check "... to the narrow node 3's host route 10.100.0.3" ping_ok 1 10.100.0.3
check "... but not to 10.100.6.1, outside node 3's host routes" ping_fails 1 10.100.6.1

# ---- refusals -----------------------------------------------------------------
# One stream, one reason each, in order; none of their keys reach wg1.
fresh() { # N [JQ-FILTER]: a descriptor of an imaginary node N, unsigned
	jq -n -c --arg n "$1" --arg k "$(wg_randkeys 1)" --arg e "$(wg_randkeys 1)" \
		--arg i "$(wg_time '-1 hour')" --arg x "$(wg_time '+1 day')" '{
		node_id: ("node-" + $n), identity: {wg_public_key: $k, ed25519_public_key: $e},
		endpoints: {wireguard: ("10.99.0." + $n + ":51820")},
		allowed_ips: [("10.100.0." + $n + "/32"), ("10.100." + $n + ".0/24")],
		issued_at: $i, expires_at: $x }' | jq -c "${2:-.}"
}
{
	fresh 20 | wg_sign signer | jq -c '.allowed_ips += ["10.100.99.0/24"]'
	fresh 21 | wg_sign other
	fresh 22
	fresh 23 ".issued_at = \"$(wg_time '-2 days')\" | .expires_at = \"$(wg_time '-1 day')\"" | wg_sign signer
	fresh 24 ".issued_at = \"$(wg_time '+1 day')\" | .expires_at = \"$(wg_time '+2 days')\"" | wg_sign signer
	fresh 25 '.allowed_ips = ["10.100.0.25/32", "10.200.0.0/24"]' | wg_sign signer
	fresh 26 ".identity.wg_public_key = \"$P2\"" | wg_sign signer
	fresh 27 '.allowed_ips = ["10.100.0.27/32", "10.100.5.128/25"]' | wg_sign signer
	fresh 28 '.allowed_ips = ["10.100.0.2/32"]' | wg_sign signer
	echo '{"node_id": "node-29", "identity": {'
} >"$D/bad.jsonl"
# Their keys, but for node 2's own that the "key in use" one borrows.
head -n 9 "$D/bad.jsonl" | jq -r .identity.wg_public_key | grep -vxF -- "$P2" >"$D/bad.keys"
before=$(cfg 1)
wgadmit 1 admit -d "$WG/trust" "$D/bad.jsonl" >"$T/out" 2>"$T/err"
rc=$?
case $rc in
1 | 65) ok "a stream of bad descriptors: exit $rc (1 refused; 65 when a line is malformed)" ;;
*) not_ok "a stream of bad descriptors: exit 1 or 65" "exit $rc" "$(head -c 2000 "$T/err")" ;;
esac
same "... one line each, in input order" "1 2 3 4 5 6 7 8 9 10" \
	"$(jq -r .line "$T/out" 2>/dev/null | tr '\n' ' ' | sed 's/ $//')"
i=0
for w in signature untrusted unsigned expired "not yet valid" "outside network" "key in use" overlap overlap malformed; do
	i=$((i + 1))
	r=$(at "$i" '.reason // "null"' 2>/dev/null)
	case $r in
	"$w: "* | "$w:"*) ok "line $i refused as \"$w\" ($r)" ;;
	*) not_ok "line $i refused as \"$w\"" "$(sed -n "${i}p" "$T/out")" ;;
	esac
	same "... admitted false, state refused" "false refused" "$(at "$i" '"\(.admitted) \(.state)"' 2>/dev/null)"
done
same "the untrusted signer's key id is reported" "$oid" "$(at 2 .key_id)"
same "the unsigned descriptor's key_id is null" null "$(at 3 .key_id)"
same "the device is as it was: no refused key, no change to the admitted" "$before" "$(cfg 1)"
n_in=0
while read -r k; do
	absent 1 "$k" || n_in=$((n_in + 1))
done <"$D/bad.keys"
same "no refused key on wg1" 0 "$n_in"
same "node 2 still has its ranges" "10.100.0.2/32 10.100.5.0/24 fd10:100::2/128" "$(wg_allowed 1 "$P2")"
cp -r "$WG/trust" "$WG/revoked-trust"
printf '# compromised\n%s\n' "$kid" >"$WG/revoked-trust/revoked"
fresh 30 | wg_sign signer >"$D/n30.json"
expect 1 "a descriptor by a revoked signer is refused" wgadmit 1 admit -d "$WG/revoked-trust" "$D/n30.json"
same "... as revoked" revoked "$(at 1 '.reason | split(":")[0]')"
check "... its key absent from the device" absent 1 "$(jq -r .identity.wg_public_key "$D/n30.json")"
echo '{"node_id": "node-31", "allowed_ips": ["10.100.0.31/32"]}' >"$D/n31.json"
expect 65 "a descriptor the schema refuses: exit 65" wgadmit 1 admit -d "$WG/trust" "$D/n31.json"
same "... refused as schema" "schema false" "$(at 1 '"\(.reason | split(":")[0]) \(.admitted)"')"
expect 0 "-n adds a network: 10.200.0.0/24 is admitted inside -n 10.200.0.0/16" \
	wgadmit 1 admit -d "$WG/trust" -n 10.100.0.0/16 -n 10.200.0.0/16 "$(fresh 32 '.allowed_ips = ["10.100.0.32/32", "10.200.0.0/24"]' | wg_sign signer >"$D/n32.json" && echo "$D/n32.json")"
same "... with both ranges on the device" "10.100.0.32/32 10.200.0.0/24" "$(wg_allowed 1 "$(jq -r .identity.wg_public_key "$D/n32.json")")"
before=$(cfg 1)
wgadmit 1 admit -d "$WG/trust" "$D/n2.json" >"$T/out" 2>&1
echo "# the same descriptor again: exit $?, $(at 1 '"\(.state) \(.reason)"')"
same "the same descriptor again changes nothing on the device" "$before" "$(cfg 1)"

# ---- show agrees with wg show dump ------------------------------------------
expect 0 "show" wgadmit 1 show
cp "$T/out" "$WG/show.json"
same "... one JSON object: device, backend, key, port" "wg1 uapi $P1 51820" \
	"$(jq -r '"\(.device) \(.backend) \(.public_key) \(.listen_port)"' "$WG/show.json")"
fromshow=$(jq -r '.peers[] | [.public_key, (if (.allowed_ips | length) == 0 then "(none)" else (.allowed_ips | sort | join(",")) end),
	(.endpoint // "(none)")] | @tsv' "$WG/show.json" | sort)
fromwg=$(wg_dump 1 | while IFS="$(printf '\t')" read -r k _ ep ips _; do
	printf '%s\t%s\t%s\n' "$k" "$(printf '%s\n' "$ips" | tr , '\n' | sort | paste -sd, -)" "$ep"
done | sort)
same "... keys, allowed ips and endpoints as in wg show dump" "$fromwg" "$fromshow"
same "... node 2 admitted, node 3 narrow" "node-2 admitted node-3 narrow" \
	"$(jq -r --arg a "$P2" --arg b "$P3" '[.peers[] | select(.public_key == $a or .public_key == $b)] | sort_by(.node_id) |
		map("\(.node_id) \(.state)") | join(" ")' "$WG/show.json")"
same "... with node 2's signer, descriptor times and a SHA-256" \
	"$kid $(jq -r '"\(.issued_at) \(.expires_at)"' "$D/n2.json") yes" \
	"$(jq -r --arg a "$P2" '.peers[] | select(.public_key == $a) |
		"\(.key_id) \(.issued_at) \(.expires_at) \(if (.descriptor_sha256 | test("^[0-9a-f]{64}$")) then "yes" else .descriptor_sha256 end)"' "$WG/show.json")"
rfc3339() { printf '%s\n' "$1" | grep -Eqx '[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})'; }
check "... node 2's last handshake, RFC 3339" rfc3339 "$(jq -r --arg a "$P2" '.peers[] | select(.public_key == $a) | .last_handshake' "$WG/show.json")"
check "... and its admitted_at" rfc3339 "$(jq -r --arg a "$P2" '.peers[] | select(.public_key == $a) | .admitted_at' "$WG/show.json")"
same "... rx and tx bytes as wg shows (±1 handshake)" yes "$(
	wr=$(wg_dump 1 | awk -F'\t' -v k="$P2" '$1 == k { print $6 }')
	jq -r --arg a "$P2" --arg w "$wr" '.peers[] | select(.public_key == $a) |
		if (.rx_bytes > 0 and .tx_bytes > 0 and .rx_bytes <= ($w | tonumber)) then "yes" else "rx \(.rx_bytes) tx \(.tx_bytes) wg rx \($w)" end' "$WG/show.json")"
same "node 3's show: keepalive 25 for node 1" 25 \
	"$(wgadmit 3 show | jq -r --arg a "$P1" '.peers[] | select(.public_key == $a) | .persistent_keepalive')"
same "ISIM_STATE_DIR and ISIM_WG_UAPI_DIR stand for the options" "$(jq -c '.peers | map(.public_key) | sort' "$WG/show.json")" \
	"$(in_ns 1 env ISIM_STATE_DIR="$WG/n1/state" ISIM_WG_UAPI_DIR="$(wg_uapi 1)" isim-wgadmit show --dev wg1 |
		jq -c '.peers | map(.public_key) | sort')"

# ---- key rotation and replay ------------------------------------------------
(umask 077 && wg genkey >"$WG/n2/private.new")
wg pubkey <"$WG/n2/private.new" >"$WG/n2/public"
P2new=$(wg_pub 2)
wg_on 2 set wg2 private-key "$WG/n2/private.new"
wg_descriptor 2 ".issued_at = \"$(wg_time '-30 minutes')\" | .expires_at = \"$(wg_time '+3 days')\"" |
	wg_sign signer >"$D/n2-rotated.json"
expect 0 "a newer descriptor with a new key rotates node 2's key" wgadmit 1 admit -d "$WG/trust" "$D/n2-rotated.json"
same "... admitted with the new key" "node-2 $P2new admitted" "$(at 1 '"\(.node_id) \(.wg_public_key) \(.state)"')"
check "... the old key is gone from the device" absent 1 "$P2"
same "... the new one has every range" "10.100.0.2/32 10.100.5.0/24 fd10:100::2/128" "$(wg_allowed 1 "$P2new")"
check "... and traffic flows with it" ping_ok 1 10.100.5.1
expect 1 "the older descriptor again is a replay" wgadmit 1 admit -d "$WG/trust" "$D/n2.json"
same "... refused as replay" "replay false refused" "$(at 1 '"\(.reason | split(":")[0]) \(.admitted) \(.state)"')"
check "... the old key stays off the device" absent 1 "$P2"
same "... the new one keeps its ranges" "10.100.0.2/32 10.100.5.0/24 fd10:100::2/128" "$(wg_allowed 1 "$P2new")"
jq -c --arg k "$(wg_randkeys 1)" '.identity.wg_public_key = $k | del(.attestation)' "$D/n2-rotated.json" |
	wg_sign signer >"$D/n2-same-time.json"
expect 1 "a new key with an equal issued_at is a replay too" wgadmit 1 admit -d "$WG/trust" "$D/n2-same-time.json"
same "... refused as replay" replay "$(at 1 '.reason | split(":")[0]')"

# ---- sweep and remove -----------------------------------------------------------
expect 0 "sweep now removes nothing" wgadmit 1 sweep -d "$WG/trust"
same "... and prints nothing" "" "$(cat "$T/out")"
expect 0 "sweep -t two days ahead removes what expired by then" wgadmit 1 sweep -d "$WG/trust" -t "$(wg_time '+2 days')"
same "... node 3 (expires in a day), removed, reason expired" "node-3 $P3 true expired" \
	"$(jq -r 'select(.node_id == "node-3") | "\(.node_id) \(.wg_public_key) \(.removed) \(.reason | split(":")[0])"' "$T/out")"
same "... not node 2 (rotated, expires in 3 days)" "" "$(jq -r 'select(.node_id == "node-2") | .node_id' "$T/out")"
check "... node 3 is off the device" absent 1 "$P3"
same "... node 2 is not" "10.100.0.2/32 10.100.5.0/24 fd10:100::2/128" "$(wg_allowed 1 "$P2new")"
expect 0 "sweep with node 2's signer revoked removes node 2" wgadmit 1 sweep -d "$WG/revoked-trust"
same "... reason revoked" "node-2 true revoked" \
	"$(jq -r 'select(.node_id == "node-2") | "\(.node_id) \(.removed) \(.reason | split(":")[0])"' "$T/out")"
check "... off the device" absent 1 "$P2new"
for m in 20 10; do
	wg_descriptor 2 ".issued_at = \"$(wg_time "-$m minutes")\" | .expires_at = \"$(wg_time '+3 days')\"" |
		wg_sign signer >"$D/n2-$m.json"
done
fresh 34 | wg_sign signer >"$D/n34.json"
expect 0 "readmit node 2 (a newer descriptor), admit node-34" wgadmit 1 admit -d "$WG/trust" "$D/n2-20.json" "$D/n34.json"
expect 0 "remove node-2" wgadmit 1 remove node-2
same "... removed" "node-2 $P2new true" "$(at 1 '"\(.node_id) \(.wg_public_key) \(.removed)"')"
check "... off the device" absent 1 "$P2new"
expect 1 "remove of an unknown node and a known one: exit 1" wgadmit 1 remove node-404 node-34
same "... a line each, removed false then true" "node-404 false node-34 true" \
	"$(jq -r '"\(.node_id) \(.removed)"' "$T/out" | tr '\n' ' ' | sed 's/ $//')"
same "... with a reason for the unknown one" yes "$(at 1 'if .reason != null then "yes" else "no" end')"

# ---- reconcile: the device and the state database disagree -------------------
stray=$(wg_randkeys 1)
wg_on 1 set wg1 peer "$stray" allowed-ips 10.100.0.77/32
expect 0 "show with a peer set by wg that the state does not know" wgadmit 1 show
same "... shown unknown, node_id null" "unknown null 10.100.0.77/32" \
	"$(jq -r --arg a "$stray" '.peers[] | select(.public_key == $a) | "\(.state) \(.node_id) \(.allowed_ips | join(","))"' "$T/out")"
expect 0 "admit node 2 again (a newer descriptor)" wgadmit 1 admit -d "$WG/trust" "$D/n2-10.json"
same "... the unknown peer is left alone" "10.100.0.77/32" "$(wg_allowed 1 "$stray")"
db=$WG/n1/state/wgadmit.db
# Every row of every table that names node-2 or its key, deleted.
for tb in $(sqlite3 "$db" "select name from sqlite_master where type = 'table' and name not like 'sqlite_%'"); do
	for col in $(sqlite3 "$db" "select name from pragma_table_info('$tb')"); do
		sqlite3 "$db" "pragma foreign_keys = on; delete from \"$tb\" where \"$col\" in ('node-2', '$P2new')"
	done
done
expect 0 "show after node 2's rows were deleted with sqlite3" wgadmit 1 show
same "... its peer is unknown now, node_id null" "unknown null" \
	"$(jq -r --arg a "$P2new" '.peers[] | select(.public_key == $a) | "\(.state) \(.node_id)"' "$T/out")"
fresh 33 | wg_sign signer >"$D/n33.json"
expect 0 "the next admit" wgadmit 1 admit -d "$WG/trust" "$D/n33.json"
same "... leaves it alone on the device" "10.100.0.2/32 10.100.5.0/24 fd10:100::2/128" "$(wg_allowed 1 "$P2new")"
# A peer left pending, as a run killed between adding it narrow and its
# commit leaves it: on the device, its key in the pending table, no row of
# its own. The next run removes it from the device.
k33=$(jq -r .identity.wg_public_key "$D/n33.json")
check "node-33 is on the device" test -n "$(wg_allowed 1 "$k33")"
same "... its row made pending with sqlite3 (as a killed run leaves it)" 1 \
	"$(sqlite3 "$db" "delete from nodes where node_id = 'node-33'; insert into pending (dev, wg_key, node_id, since) values ('wg1', '$k33', 'node-33', 0); select count(*) from pending")"
expect 0 "the next admit" wgadmit 1 admit -d "$WG/trust" "$D/n1.json"
check "... removes the pending peer from the device" absent 1 "$k33"
same "... and clears the pending table" 0 "$(sqlite3 "$db" "select count(*) from pending")"
expect 0 "... show" wgadmit 1 show
same "... which no longer lists node-33" "" "$(jq -r '.peers[] | select(.node_id == "node-33") | .node_id' "$T/out")"

# ---- a narrow node comes back with another key ---------------------------------
fresh 43 | wg_sign signer >"$D/n43a.json"
fresh 43 ".issued_at = \"$(wg_time '-30 minutes')\"" | wg_sign signer >"$D/n43b.json"
expect 0 "node-43 is added narrow" wgadmit 1 admit --narrow-only "$D/n43a.json"
expect 0 "... and then admitted under a new key" wgadmit 1 admit -d "$WG/trust" "$D/n43b.json"
same "... which has its ranges, while the narrow key is gone" "10.100.0.43/32 10.100.43.0/24 yes" \
	"$(wg_allowed 1 "$(jq -r .identity.wg_public_key "$D/n43b.json")") $(absent 1 "$(jq -r .identity.wg_public_key "$D/n43a.json")" && echo yes)"

# ---- batches back to back ------------------------------------------------------
# While the device takes one batch, the next is already classified and
# sent behind it: one that touches a key or an address the batch before
# changes waits for it. --batch 1 makes each descriptor a batch of its own.
fresh 50 | wg_sign other >"$D/b50.json"
k50=$(jq -r .identity.wg_public_key "$D/b50.json")
# node-51 declares host routes only: its narrow change is its whole grant,
# so nothing after it would put its key back had node-50's removal come
# after it.
fresh 51 ".identity.wg_public_key = \"$k50\" | .allowed_ips = [\"10.100.0.51/32\"]" | wg_sign signer >"$D/b51.json"
fresh 52 | wg_sign other >"$D/b52.json"
fresh 53 '.allowed_ips = ["10.100.0.52/32", "10.100.53.0/24"]' | wg_sign signer >"$D/b53.json"
n=100
while [ "$n" -lt 130 ]; do
	fresh "$n" | wg_sign signer
	n=$((n + 1))
done >"$D/b60.jsonl"
cat "$D/b50.json" "$D/b51.json" "$D/b52.json" "$D/b53.json" "$D/b60.jsonl" >"$D/back.jsonl"
wgadmit 1 admit -d "$WG/trust" --batch 1 "$D/back.jsonl" >"$T/out" 2>"$T/err"
same "34 descriptors, a batch each: exit 1 (the two forged refused)" 1 "$?"
same "... verdicts in input order" "$(seq 1 34 | tr '\n' ' ')" "$(jq -r .line "$T/out" | tr '\n' ' ')"
same "... of which two refused" 2 "$(jq -r 'select(.admitted == false) | .line' "$T/out" | wc -l | tr -d ' ')"
same "... the forged node-50 refused, then node-51 admitted under the same key" "false true" \
	"$(at 1 .admitted) $(at 2 .admitted)"
same "... which has node-51's host route on the device" "10.100.0.51/32" "$(wg_allowed 1 "$k50")"
same "... the forged node-52 is off the device, node-53 has the host route it declared" "yes 10.100.0.52/32 10.100.53.0/24" \
	"$(absent 1 "$(jq -r .identity.wg_public_key "$D/b52.json")" && echo yes) $(wg_allowed 1 "$(jq -r .identity.wg_public_key "$D/b53.json")")"
n_ok=0
while read -r k; do
	[ -n "$(wg_allowed 1 "$k")" ] && n_ok=$((n_ok + 1))
done <<EOF2
$(jq -r .identity.wg_public_key "$D/b60.jsonl")
EOF2
same "... the 30 after them all on the device" 30 "$n_ok"
same "... admitted in the state, with nothing left pending" "32 0" \
	"$(sqlite3 "$db" "select count(*) from nodes where node_id in ('node-51', 'node-53') or node_id between 'node-100' and 'node-129'") $(sqlite3 "$db" "select count(*) from pending")"
same "... and the history says so, in order" "refused admitted refused admitted" \
	"$(sqlite3 "$db" "select decision from decisions where node_id in ('node-50', 'node-51', 'node-52', 'node-53') order by seq" | tr '\n' ' ' | sed 's/ $//')"

# A key that a batch rotates away, taken by another node in the batch after.
fresh 70 ".issued_at = \"$(wg_time '-50 minutes')\"" | wg_sign signer >"$D/r70a.json"
fresh 70 ".issued_at = \"$(wg_time '-40 minutes')\"" | wg_sign signer >"$D/r70b.json"
k70=$(jq -r .identity.wg_public_key "$D/r70a.json")
fresh 71 ".identity.wg_public_key = \"$k70\" | .allowed_ips = [\"10.100.0.71/32\"]" | wg_sign signer >"$D/r71.json"
cat "$D/r70a.json" "$D/r70b.json" "$D/r71.json" >"$D/rotate.jsonl"
expect 0 "node-70 admitted, rotated to a new key, and its old key taken by node-71, a batch each" \
	wgadmit 1 admit -d "$WG/trust" --batch 1 "$D/rotate.jsonl"
same "... the old key has node-71's host route, the new one node-70's ranges" "10.100.0.71/32|10.100.0.70/32 10.100.70.0/24" \
	"$(wg_allowed 1 "$k70")|$(wg_allowed 1 "$(jq -r .identity.wg_public_key "$D/r70b.json")")"

# In one batch: the later of two descriptors whose ranges overlap waits
# for the earlier's verdict, and is refused once that is admitted.
{
	fresh 54 '.allowed_ips = ["10.100.0.54/32", "10.100.54.0/24"]' | wg_sign signer
	fresh 55 '.allowed_ips = ["10.100.0.55/32", "10.100.54.128/25"]' | wg_sign signer
	fresh 56 '.allowed_ips = ["10.100.0.56/32", "fd10:100::5600/120"]' | wg_sign signer
	fresh 57 '.allowed_ips = ["10.100.0.57/32", "fd10:100::56ab/128"]' | wg_sign signer
	fresh 58 '.allowed_ips = ["10.100.0.58/32", "fd10:100::5700/120"]' | wg_sign signer
} >"$D/overlap.jsonl"
wgadmit 1 admit -d "$WG/trust" "$D/overlap.jsonl" >"$T/out" 2>"$T/err"
same "overlapping ranges in one batch: exit 1" 1 "$?"
same "... node-54, node-56 and node-58 admitted; node-55 and node-57 refused as overlap" \
	"true overlap true overlap true" \
	"$(jq -r 'if .admitted then "true" else (.reason | split(":")[0]) end' "$T/out" | tr '\n' ' ' | sed 's/ $//')"

# ---- vpn-wireguard's apply-peers.sh: isim-wgadmit with the node's config ------
mkdir -p "$WG/ap/lib"
cp "$ISIM_ROOT/features/base-minimal/files/infrasim-config.sh" "$WG/ap/lib/config.sh"
jq -n '{feature_config: {"vpn-wireguard": {interface: "wg3", network_cidr: "10.100.0.0/16",
	persistent_keepalive: 7, narrow_admission: true}}}' >"$WG/ap/manifest.json"
ap() { # FILE
	in_ns 3 env ISIM_MANIFEST="$WG/ap/manifest.json" ISIM_LIBDIR="$WG/ap/lib" ISIM_TRUST_DIR="$WG/trust" \
		ISIM_STATE_DIR="$WG/ap/state" ISIM_WG_UAPI_DIR="$(wg_uapi 3)" \
		sh "$ISIM_ROOT/features/vpn-wireguard/files/apply-peers.sh" "$1"
}
fresh 40 | wg_sign signer >"$D/ap-good.json"
fresh 41 | wg_sign signer | jq -c '.allowed_ips += ["10.100.141.0/24"]' >"$D/ap-forged.json"
expect 0 "apply-peers.sh admits a signed peer into the configured interface" ap "$D/ap-good.json"
same "... with its ranges, the configured keepalive, state in ISIM_STATE_DIR" "10.100.0.40/32 10.100.40.0/24 7 yes" \
	"$(wg_allowed 3 "$(jq -r .identity.wg_public_key "$D/ap-good.json")") $(wg_on 3 show wg3 persistent-keepalive |
		awk -v k="$(jq -r .identity.wg_public_key "$D/ap-good.json")" '$1 == k { print $2 }') $([ -s "$WG/ap/state/wgadmit.db" ] && echo yes)"
expect 1 "apply-peers.sh refuses a forged descriptor" ap "$D/ap-forged.json"
same "... as signature, and its key is not on wg3" "signature yes" \
	"$(at 1 '.reason | split(":")[0]') $(absent 3 "$(jq -r .identity.wg_public_key "$D/ap-forged.json")" && echo yes)"
jq '.feature_config["vpn-wireguard"].network_cidr = "10.100.40.0/24"' "$WG/ap/manifest.json" >"$WG/ap/m2" &&
	mv "$WG/ap/m2" "$WG/ap/manifest.json"
fresh 42 | wg_sign signer >"$D/ap-out.json"
expect 1 "apply-peers.sh passes network_cidr: a peer outside 10.100.40.0/24 is refused" ap "$D/ap-out.json"
same "... as outside network" "outside network" "$(at 1 '.reason | split(":")[0]')"

# ---- the netlink backend ----------------------------------------------------------
if ip -n "$(wg_ns 1)" link add isimwgt type wireguard 2>/dev/null; then
	ip -n "$(wg_ns 1)" link set isimwgt up
	fresh 40 | wg_sign signer >"$D/n40.json"
	mkdir -p "$WG/none"
	expect 0 "netlink: admit to a kernel WireGuard device" \
		in_ns 1 isim-wgadmit admit --dev isimwgt --uapi-dir "$WG/none" --state-dir "$WG/n1/nl" -d "$WG/trust" "$D/n40.json"
	expect 0 "netlink: show" in_ns 1 isim-wgadmit show --dev isimwgt --uapi-dir "$WG/none" --state-dir "$WG/n1/nl"
	same "... backend netlink, the peer admitted" "netlink admitted" \
		"$(jq -r '"\(.backend) \(.peers[0].state)"' "$T/out")"
	same "... as wg show has it" "$(jq -r '.allowed_ips | sort | join(" ")' "$D/n40.json")" \
		"$(in_ns 1 wg show isimwgt allowed-ips | cut -f2 | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ $//')"
	ip -n "$(wg_ns 1)" link del isimwgt
else
	skip "netlink backend" "no kernel WireGuard here (ip link add type wireguard fails)"
fi
finish
