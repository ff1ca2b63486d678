#!/bin/sh
# isim-wgadmit's bad input, one case at a time: each gets its exit code of
# isim(7), a message on stderr naming the field, file or argument, and
# leaves the device (wg show dump) and the state database (sqlite3 .dump)
# as they were.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/lib-wg.sh
. "$(dirname "$0")/lib-wg.sh"

wg_require
wg_mesh 1 2
wg_signer signer >/dev/null
wg_trust signer
E=$WG/e
mkdir "$E" || exit 73
wg_descriptor 2 | wg_sign signer >"$E/n2.json"
if ! wgadmit 1 admit -d "$WG/trust" "$E/n2.json" >"$T/out" 2>"$T/err"; then
	not_ok "node 1 admits node 2 to start from" "$(cat "$T/out" "$T/err")"
	finish
	exit
fi
ok "node 1 admits node 2 to start from"

# snap: what must not change, the device's peers and the database.
snap() {
	wg_dump 1 | cut -f1-4,8
	echo ---
	wg_state 1
}

# bad CODE DESCRIPTION NEEDLES COMMAND...: COMMAND exits CODE, says on stderr
# one of NEEDLES ("a|b", fixed strings), and changes nothing.
bad() {
	b_code=$1
	b_d=$2
	b_needles=$3
	shift 3
	b_before=$(snap)
	expect "$b_code" "$b_d: exit $b_code" "$@"
	b_set=""
	b_old=$IFS
	IFS="|"
	for b_n in $b_needles; do
		b_set="$b_set$b_n
"
	done
	IFS=$b_old
	if printf '%s' "$b_set" | grep -qF -f - "$T/err"; then
		ok "... stderr names $b_needles"
	else
		not_ok "... stderr names $b_needles" "stderr: $(head -c 600 "$T/err")"
	fi
	same "... the device and the database are unchanged" "$b_before" "$(snap)"
}

# word WORDS: the first line says admitted false, its reason starting with
# one of WORDS ("a|b").
word() {
	w_r=$(head -n1 "$T/out" | jq -r '"\(.admitted) \(.reason // "null")"' 2>/dev/null)
	w_ok=no
	w_old=$IFS
	IFS="|"
	for w in $1; do
		case $w_r in "false $w:"*) w_ok=yes ;; esac
	done
	IFS=$w_old
	if [ "$w_ok" = yes ]; then
		ok "... its line says admitted false, reason $1"
	else
		not_ok "... its line says admitted false, reason $1" "stdout: $(head -c 600 "$T/out")"
	fi
}

admit() { wgadmit 1 admit -d "$WG/trust" "$@"; }
base=$(wg_descriptor 2 '.node_id = "node-50" | .identity.wg_public_key = "Rm9vYmFyRm9vYmFyRm9vYmFyRm9vYmFyRm9vYmFyMTI="')
# case NAME JQ-FILTER: $E/NAME.jsonl, the base descriptor changed, signed
# after the change (so only the change is wrong).
case_file() {
	printf '%s\n' "$base" | jq -c "$2" >"$E/$1.jsonl"
	isim-sign descriptor -k "$WG/signer" --stream <"$E/$1.jsonl" >"$E/$1.signed" 2>/dev/null &&
		mv "$E/$1.signed" "$E/$1.jsonl"
	rm -f "$E/$1.signed"
}

# ---- descriptors that are not JSON -----------------------------------------------
printf '%s\n' "$base" | wg_sign signer | cut -c 1-60 >"$E/trunc.jsonl"
bad 65 "a truncated line" "trunc.jsonl:1" admit "$E/trunc.jsonl"
word malformed
{ printf '{"node_id": "'; head -c 2097152 /dev/zero | tr '\0' a; printf '"}\n'; } >"$E/big.jsonl"
bad 65 "a 2 MB line" "big.jsonl:1" admit "$E/big.jsonl"
word malformed
printf '{"node_id": "node-50", "node_id": "node-51"}\n' >"$E/dup.jsonl"
bad 65 "a duplicate member" "dup.jsonl:1" admit "$E/dup.jsonl"
word "malformed|schema"
printf '[1, 2]\n' >"$E/array.jsonl"
bad 65 "an array, not an object" "array.jsonl:1" admit "$E/array.jsonl"
word "malformed|schema"
printf '%s\n' "$base" | sed 's/node-50/node-\o377/' >"$E/utf8.jsonl"
bad 65 "a byte that is not UTF-8" "utf8.jsonl:1" admit "$E/utf8.jsonl"
word "malformed|schema"
printf '{"node_id": "node-50"} {"node_id": "node-51"}\n' >"$E/two.jsonl"
bad 65 "two objects on one line" "two.jsonl:1" admit "$E/two.jsonl"
word "malformed"

# ---- fields the schema or the tool refuses --------------------------------------
case_file keylen '.identity.wg_public_key = "Rm9vYmFyRm9vYmFyRm9vYmFyRm9vYmFyRm9vYmFyMQ=="'
bad 65 "a wg key of 31 bytes" "/identity/wg_public_key" admit "$E/keylen.jsonl"
word "schema|malformed"
case_file b64 '.identity.wg_public_key = "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!="'
bad 65 "a wg key that is not base64" "/identity/wg_public_key" admit "$E/b64.jsonl"
word "schema|malformed"
case_file b64nc '.identity.wg_public_key = "Rm9vYmFyRm9vYmFyRm9vYmFyRm9vYmFyRm9vYmFyMTJ="'
bad 65 "a wg key in a non-canonical base64 spelling" "/identity/wg_public_key" admit "$E/b64nc.jsonl"
word "schema|malformed"
case_file cidr '.allowed_ips = ["10.100.0.300/32"]'
bad 65 "an invalid CIDR" "/allowed_ips/0" admit "$E/cidr.jsonl"
word "schema|malformed"
case_file len '.allowed_ips = ["10.100.0.50/33"]'
bad 65 "a prefix length of 33" "/allowed_ips/0" admit "$E/len.jsonl"
word "schema|malformed"
case_file hostbits '.allowed_ips = ["10.100.0.50/32", "10.100.50.1/24"]'
bad 65 "host bits set in 10.100.50.1/24" "/allowed_ips/1" admit "$E/hostbits.jsonl"
word "schema|malformed"
case_file v6 '.allowed_ips = ["fd10:100::zz/128"]'
bad 65 "an invalid IPv6 prefix" "/allowed_ips/0" admit "$E/v6.jsonl"
word "schema|malformed"
case_file noips 'del(.allowed_ips)'
bad 65 "no allowed_ips" "allowed_ips" admit "$E/noips.jsonl"
word "schema|malformed"
case_file when '.issued_at = "yesterday"'
bad 65 "an issued_at that is not a time" "/issued_at" admit "$E/when.jsonl"
word "schema|malformed"
case_file extra '.colour = "blue"'
bad 65 "an unknown member" "colour" admit "$E/extra.jsonl"
word "schema|malformed"

# ---- files, devices, the state folder --------------------------------------------
bad 66 "a FILE that does not exist" "$E/nosuch.jsonl" admit "$E/nosuch.jsonl"
case_file good '.node_id = "node-52" | .identity.wg_public_key = "Rm9vYmFyRm9vYmFyRm9vYmFyRm9vYmFyRm9vYmFyNTI="'
bad 66 "a good FILE, then one that does not exist: nothing is admitted" "$E/nosuch.jsonl" \
	admit "$E/good.jsonl" "$E/nosuch.jsonl"
bad 66 "a device that does not exist" "nosuch0" \
	in_ns 1 isim-wgadmit admit --dev nosuch0 --uapi-dir "$(wg_uapi 1)" --state-dir "$WG/n1/state" -d "$WG/trust" "$E/good.jsonl"
bad 65 "lo is not a WireGuard device" "lo" \
	in_ns 1 isim-wgadmit admit --dev lo --uapi-dir "$(wg_uapi 1)" --state-dir "$WG/n1/state" -d "$WG/trust" "$E/good.jsonl"
bad 65 "show: lo is not a WireGuard device" "lo" \
	in_ns 1 isim-wgadmit show --dev lo --uapi-dir "$(wg_uapi 1)" --state-dir "$WG/n1/state"
: >"$E/afile"
bad 73 "a state folder that cannot be created" "$E/afile/state" \
	in_ns 1 isim-wgadmit admit --dev wg1 --uapi-dir "$(wg_uapi 1)" --state-dir "$E/afile/state" -d "$WG/trust" "$E/good.jsonl"
cp -a "$WG/n1/state" "$E/ro"
ro_admit() {
	# shellcheck disable=SC2016 # the inner shell expands them
	in_ns 1 unshare -m --propagation private sh -c 'mount -o bind,ro "$1" "$1" && shift && exec isim-wgadmit "$@"' \
		sh "$E/ro" admit --dev wg1 --uapi-dir "$(wg_uapi 1)" --state-dir "$E/ro" -d "$WG/trust" "$E/good.jsonl"
}
bad 73 "a state folder that cannot be written (read-only mount)" "$E/ro" ro_admit
ro_sum=$(cat "$E/ro/"* 2>/dev/null | sha256sum)
cp -a "$WG/n1/state" "$E/corrupt"
head -c 8192 /dev/urandom >"$E/corrupt/wgadmit.db"
rm -f "$E/corrupt/wgadmit.db-wal" "$E/corrupt/wgadmit.db-shm"
c_sum=$(sha256sum <"$E/corrupt/wgadmit.db")
bad 78 "a corrupt state database" "wgadmit.db" \
	in_ns 1 isim-wgadmit admit --dev wg1 --uapi-dir "$(wg_uapi 1)" --state-dir "$E/corrupt" -d "$WG/trust" "$E/good.jsonl"
same "... left as it was" "$c_sum" "$(sha256sum <"$E/corrupt/wgadmit.db")"
cp -a "$WG/n1/state" "$E/future"
sqlite3 "$E/future/wgadmit.db" 'pragma user_version = 9999'
f_dump=$(sqlite3 "$E/future/wgadmit.db" .dump)
bad 78 "a state database from a newer version" "wgadmit.db" \
	in_ns 1 isim-wgadmit admit --dev wg1 --uapi-dir "$(wg_uapi 1)" --state-dir "$E/future" -d "$WG/trust" "$E/good.jsonl"
same "... left as it was" "$f_dump 9999" "$(sqlite3 "$E/future/wgadmit.db" .dump) $(sqlite3 "$E/future/wgadmit.db" 'pragma user_version')"
same "the read-only state folder was not changed either" "$ro_sum" "$(cat "$E/ro/"* 2>/dev/null | sha256sum)"

# ---- arguments ---------------------------------------------------------------
bad 64 "a --network prefix of 33" "10.100.0.0/33" admit -n 10.100.0.0/33 "$E/good.jsonl"
bad 64 "a --network that is not a prefix" "banana" admit --network banana "$E/good.jsonl"
bad 64 "a --network with host bits" "10.100.0.1/16" admit -n 10.100.0.1/16 "$E/good.jsonl"
bad 64 "a -t that is not a time" "yesterday" admit -t yesterday "$E/good.jsonl"
bad 64 "an unknown option" "--frobnicate" admit --frobnicate "$E/good.jsonl"
bad 64 "no --dev" "--dev" isim-wgadmit admit --uapi-dir "$(wg_uapi 1)" --state-dir "$WG/n1/state" "$E/good.jsonl"
bad 64 "--narrow-only with --no-narrow" "--narrow-only|--no-narrow" admit --narrow-only --no-narrow "$E/good.jsonl"
bad 64 "-b 0" "-b|--batch" admit -b 0 "$E/good.jsonl"
bad 64 "-b abc" "abc" admit -b abc "$E/good.jsonl"
bad 64 "-k -5" "-5" admit -k -5 "$E/good.jsonl"
bad 64 "-k 65536 (keepalive is 16 bits)" "65536" admit -k 65536 "$E/good.jsonl"
bad 64 "-d with -p" "-d|-p|--pub|--trust" admit -p "$WG/signer.pub" "$E/good.jsonl"
bad 66 "-d: no such folder" "$E/notrust" wgadmit 1 admit -d "$E/notrust" "$E/good.jsonl"
bad 66 "-p: no such key" "$E/nokey.pub" wgadmit 1 admit -p "$E/nokey.pub" "$E/good.jsonl"
bad 64 "an unknown subcommand" "frobnicate" isim-wgadmit frobnicate --dev wg1
bad 64 "no subcommand" "usage" isim-wgadmit
bad 64 "sweep -t that is not a time" "tomorrow" wgadmit 1 sweep -d "$WG/trust" -t tomorrow
bad 64 "remove without a NODE_ID" "NODE_ID|usage" wgadmit 1 remove

# ---- what is not an error ---------------------------------------------------------
: >"$E/empty.jsonl"
before=$(snap)
expect 0 "empty input: exit 0" admit "$E/empty.jsonl"
same "... nothing printed" "" "$(cat "$T/out")"
same "... nothing changed" "$before" "$(snap)"
finish
