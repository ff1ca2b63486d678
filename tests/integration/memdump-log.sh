#!/bin/sh
# isim-memdump log: list, show, checkpoints, export verified offline; each
# kind of change made to the SQLite file by hand with the sqlite3 shell
# (triggers dropped) found and named; 1,000 appenders killed with SIGKILL
# at random moments losing no acknowledged entry; and bad input, each one
# line on stderr, its exit code, nothing written.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

for p in sqlite3 jq cc pkg-config; do
	if ! command -v "$p" >/dev/null; then
		skip "memdump-log" "$p is not installed (scripts/install-deps.sh)"
		finish
		exit
	fi
done
M=isim-memdump
S=$T/state
A=$T/audit-append
mkdir -p "$S"
# The appender links the library the tools are built from.
# shellcheck disable=SC2046
if ! cc -O2 -std=c11 -D_GNU_SOURCE -I"$ISIM_ROOT/lib" $(pkg-config --cflags libcjson) -o "$A" \
	"$ISIM_ROOT/tests/tools/audit-append.c" "$ISIM_ROOT/build/release/libisim.a" \
	$(pkg-config --libs libcjson yaml-0.1 libpcre2-8 libcrypto libsodium libarchive sqlite3 libmnl) -lm \
	>"$T/cc.err" 2>&1; then
	not_ok "the appender builds" "$(cat "$T/cc.err")"
	finish
	exit
fi
ok "the appender builds"
isim-sign keygen -W -o "$T/op.key" >/dev/null 2>&1 || exit 70
isim-sign keygen -W -o "$T/other.key" >/dev/null 2>&1 || exit 70
mkdir -p "$T/trust"
cp "$T/op.key.pub" "$T/trust/op.pub"
ISIM_TRUST_DIR=$T/trust
export ISIM_TRUST_DIR

# ---- list, show, verify, checkpoint ------------------------------------
"$A" "$S/audit.db" 5 >/dev/null
expect 0 "list" $M log list --state-dir "$S"
same "... five entries, oldest first" "1 2 3 4 5" "$(jq -r 'map(.seq) | join(" ")' "$T/out")"
same "... each with seq, at, kind, record_sha256, hash" '["at","hash","kind","record_sha256","seq"]' \
	"$(jq -c '.[0] | keys' "$T/out")"
mode=$(stat -c %a "$S/audit.db")
same "the log is mode 0600" 600 "$mode"
expect 0 "show 3" env ISIM_STATE_DIR="$S" $M log show 3
same "... every field" '["at","hash","kind","prev","record","record_sha256","seq"]' "$(jq -c 'keys' "$T/out")"
h2=$(ISIM_STATE_DIR=$S $M log show 2 | jq -r .hash)
same "... its prev is entry 2's hash" "$h2" "$(jq -r .prev "$T/out")"
expect 0 "list --kind test --from 4" $M log list --state-dir "$S" --kind test --from 4
same "... entries 4 and 5" "4 5" "$(jq -r 'map(.seq) | join(" ")' "$T/out")"
expect 0 "verify a log without checkpoints" $M log verify --state-dir "$S"
same "... ok, 5 entries" "true 5 null" "$(jq -r '"\(.ok) \(.entries) \(.checkpoint)"' "$T/out")"

expect 0 "checkpoint -k KEY" $M log checkpoint --state-dir "$S" -k "$T/op.key"
same "... entry 6 of kind checkpoint" "6 checkpoint" "$(jq -r '"\(.seq) \(.kind)"' "$T/out")"
same "... its record states entry 5" "5 $(jq -r .prev "$T/out")" "$(jq -r '"\(.record.seq) \(.record.hash)"' "$T/out")"
kid=$(jq -r .record.attestation.key_id "$T/out")
same "... signed by the operator's key" "$(sed -n 2p "$T/op.key.pub" | base64 -d | od -An -tx1 -j2 -N8 |
	tr -d ' \n' | sed 's/\(..\)/\1 /g' | awk '{for (i = NF; i > 0; i--) printf "%s", toupper($i)}')" "$kid"
same "... saved as $S/audit.checkpoint, mode 0600" "600" "$(stat -c %a "$S/audit.checkpoint" 2>&1)"
same "... which is its export line" "$(jq -c . "$T/out")" "$(jq -c . "$S/audit.checkpoint")"
"$A" "$S/audit.db" 3 >/dev/null
expect 0 "verify with the trusted signers folder" $M log verify --state-dir "$S"
same "... 9 entries, 1 checkpoint at 6 by the operator" "true 9 1 6 $kid" \
	"$(jq -r '"\(.ok) \(.entries) \(.checkpoints) \(.checkpoint.seq) \(.checkpoint.key_id)"' "$T/out")"
expect 0 "verify --pub KEY.pub" $M log verify --state-dir "$S" --pub "$T/op.key.pub"
expect 1 "verify --pub of another key: exit 1" $M log verify --state-dir "$S" --pub "$T/other.key.pub"
contains "... names the checkpoint and the untrusted key" "$T/err" "(entry 6) is signed by an untrusted key"
same "... on one line" 1 "$(wc -l <"$T/err")"
same "... and the JSON says so" "false 6" "$(jq -r '"\(.ok) \(.seq)"' "$T/out")"

# ---- triggers ------------------------------------------------------------
if sqlite3 "$S/audit.db" "UPDATE entries SET kind = 'x' WHERE seq = 2" 2>"$T/err"; then
	not_ok "the sqlite3 shell cannot UPDATE an entry"
else
	contains "the sqlite3 shell cannot UPDATE an entry" "$T/err" "append-only"
fi
if sqlite3 "$S/audit.db" "DELETE FROM entries WHERE seq = 9" 2>"$T/err"; then
	not_ok "the sqlite3 shell cannot DELETE an entry"
else
	contains "the sqlite3 shell cannot DELETE an entry" "$T/err" "append-only"
fi

# ---- export, verified offline ----------------------------------------------
expect 0 "export -o FILE" $M log export --state-dir "$S" -o "$T/log.jsonl"
same "... 9 lines" 9 "$(wc -l <"$T/log.jsonl")"
same "... each with every field" '["at","hash","kind","prev","record","record_sha256","seq"]' \
	"$(jq -c 'keys' "$T/log.jsonl" | sort -u)"
same "... mode 0600" 600 "$(stat -c %a "$T/log.jsonl")"
expect 0 "export to stdout" $M log export --state-dir "$S"
same "... the same lines" "$(cat "$T/log.jsonl")" "$(cat "$T/out")"
# Elsewhere: only the export and the public key, no state, no trust folder.
mkdir "$T/elsewhere"
cp "$T/log.jsonl" "$T/op.key.pub" "$T/elsewhere/"
expect 0 "verify --from FILE.jsonl --pub KEY.pub, elsewhere" env -u ISIM_STATE_DIR ISIM_TRUST_DIR=/nonexistent \
	$M log verify --from "$T/elsewhere/log.jsonl" --pub "$T/elsewhere/op.key.pub"
same "... ok, 9 entries, 1 checkpoint" "true 9 1" "$(jq -r '"\(.ok) \(.entries) \(.checkpoints)"' "$T/out")"
expect 0 "... from stdin" $M log verify --from - --pub "$T/op.key.pub" <"$T/log.jsonl"
jq -c 'if .seq == 4 then .record.i = 99 else . end' "$T/log.jsonl" >"$T/edited.jsonl"
expect 1 "an export with a record changed: exit 1" $M log verify --from "$T/edited.jsonl" --pub "$T/op.key.pub"
contains "... names entry 4" "$T/err" "entry 4 was changed"
sed '6,$d' "$T/log.jsonl" >"$T/cut.jsonl"
expect 1 "an export cut behind its checkpoint, with --checkpoint: exit 1" \
	$M log verify --from "$T/cut.jsonl" --pub "$T/op.key.pub" --checkpoint "$S/audit.checkpoint"
contains "... names entry 6" "$T/err" "entry 6 is missing: the log ends at entry 5"
expect 0 "... without --checkpoint, the cut is not seen (the man page says why)" \
	$M log verify --from "$T/cut.jsonl" --pub "$T/op.key.pub"
sed 5d "$T/log.jsonl" >"$T/gap.jsonl"
expect 1 "an export with a line removed: exit 1" $M log verify --from "$T/gap.jsonl" --pub "$T/op.key.pub"
contains "... names entry 5" "$T/err" "entry 5 was removed"
awk 'NR == 3 { held = $0; next } { print } NR == 4 { print held }' "$T/log.jsonl" >"$T/swap.jsonl"
expect 1 "an export with two lines swapped: exit 1" $M log verify --from "$T/swap.jsonl" --pub "$T/op.key.pub"
contains "... names entries 3 and 4" "$T/err" "entries 3 and 4 were swapped"

# ---- tampering with the database by hand ----------------------------------
cp -a "$S" "$T/pristine"
# tamper DESCRIPTION SQL NEEDLE: on a copy of the log, the triggers
# dropped, SQL run by the sqlite3 shell; verify exits 1 naming NEEDLE.
tamper() {
	rm -rf "$T/w"
	cp -a "$T/pristine" "$T/w"
	if ! sqlite3 "$T/w/audit.db" "DROP TRIGGER entries_no_update; DROP TRIGGER entries_no_delete; $2" \
		>"$T/sql.err" 2>&1; then
		not_ok "$1: the SQL runs" "$(cat "$T/sql.err")"
		return
	fi
	expect 1 "$1: verify exits 1" $M log verify --state-dir "$T/w"
	contains "... names it: '$3'" "$T/err" "$3"
	same "... in one line" 1 "$(wc -l <"$T/err")"
}
tamper "a record edited" "UPDATE entries SET record = '{\"i\":99}' WHERE seq = 4" \
	"entry 4 was changed: its record is not the one its hash covers"
tamper "a time edited" "UPDATE entries SET at = at - 3600 WHERE seq = 2" "entry 2 was changed"
tamper "a checkpoint's record edited" \
	"UPDATE entries SET record = replace(record, '\"seq\":5', '\"seq\":4') WHERE seq = 6" "entry 6 was changed"
tamper "an entry deleted" "DELETE FROM entries WHERE seq = 3" "entry 3 was removed"
tamper "the first entry deleted" "DELETE FROM entries WHERE seq = 1" "entry 1 was removed"
tamper "two entries swapped" "UPDATE entries SET seq = -1 WHERE seq = 2; UPDATE entries SET seq = 2 WHERE seq = 3;
	UPDATE entries SET seq = 3 WHERE seq = -1" "entries 2 and 3 were swapped"
tamper "an entry inserted, those after renumbered" "UPDATE entries SET seq = seq + 100 WHERE seq >= 5;
	UPDATE entries SET seq = seq - 99 WHERE seq >= 100;
	INSERT INTO entries SELECT 5, at, kind, '{\"i\":42}', record_sha256, hash, hash FROM entries WHERE seq = 4" \
	"entry 5 was inserted"
tamper "an entry inserted at 0" "INSERT INTO entries SELECT 0, at, kind, record, record_sha256, prev, hash
	FROM entries WHERE seq = 1" "entry 0 was inserted"
tamper "the newest entries, after the last checkpoint, deleted" "DELETE FROM entries WHERE seq > 7" \
	"entries 8 to 9 are missing: the log ends at entry 7, yet it once reached entry 9 (truncated)"
tamper "the log truncated behind its last checkpoint, its sequence reset" \
	"DELETE FROM entries WHERE seq >= 5; UPDATE sqlite_sequence SET seq = 4" \
	"entries 5 to 6 are missing: the log ends at entry 4, yet it held the checkpoint of"
tamper "the saved checkpoint's entry replaced" \
	"UPDATE entries SET hash = '$(printf '%064d' 0)' WHERE seq = 6" "entry 6 was changed"

# ---- crash safety ----------------------------------------------------------
# 1,000 appenders killed with SIGKILL after 0 to 20 ms: opening, amid an
# append, amid its fsync. Every entry whose append returned (its seq
# printed) must be there, the chain must verify, SQLite must find no fault.
C=$T/crash
mkdir "$C"
start=$(date +%s)
if "$A" crash "$C/audit.db" 1000 20000 >"$C/acked" 2>"$C/err"; then
	ok "1000 appenders killed at random moments ($(($(date +%s) - start)) s, $(wc -l <"$C/acked") acknowledged)"
else
	not_ok "1000 appenders killed at random moments" "$(cat "$C/err")"
fi
sqlite3 "$C/audit.db" "SELECT seq FROM entries ORDER BY seq" >"$C/present"
sort "$C/present" >"$C/present.sorted"
missing=$(sort "$C/acked" | comm -23 - "$C/present.sorted" | sort -n | head -5)
same "every acknowledged entry is there" "" "$missing"
same "SQLite's integrity check passes" ok "$(sqlite3 "$C/audit.db" 'PRAGMA integrity_check')"
expect 0 "the chain verifies" $M log verify --state-dir "$C"
same "... every entry in it" "$(wc -l <"$C/present")" "$(jq -r .entries "$T/out")"
same "no half entry: seqs run 1 to N without a gap" "$(wc -l <"$C/present")" \
	"$(sqlite3 "$C/audit.db" 'SELECT max(seq) FROM entries')"

# ---- bad input ---------------------------------------------------------------
snap() { (cd "$S" && find . -printf '%p %m %s\n' | sort && sha256sum ./*) 2>&1; }
# bad CODE DESCRIPTION NEEDLE COMMAND...: exits CODE, one line on stderr
# holding NEEDLE, stdout empty, and the state as it was.
bad() {
	b_code=$1
	b_d=$2
	b_needle=$3
	shift 3
	b_before=$(snap)
	expect "$b_code" "$b_d: exit $b_code" "$@"
	if [ "$(wc -l <"$T/err")" -eq 1 ] && grep -qF -- "$b_needle" "$T/err"; then
		ok "... one line naming '$b_needle'"
	else
		not_ok "... one line naming '$b_needle'" "stderr: $(head -c 600 "$T/err")"
	fi
	same "... nothing on stdout" "" "$(head -c 200 "$T/out")"
	same "... nothing written" "$b_before" "$(snap)"
}
L="$M log"
D="--state-dir $S"
: >"$T/exists"
mkdir -p "$T/dirdb" "$T/corrupt" "$T/future" "$T/empty"
mkdir "$T/dirdb/audit.db"
head -c 8192 /dev/urandom >"$T/corrupt/audit.db"
sqlite3 "$T/future/audit.db" "PRAGMA user_version = 99"
printf '{"seq":1}\n' >"$T/bad.jsonl"
printf 'not json\n' >"$T/notjson.jsonl"
printf '{"seq":1}\n' >"$T/bad.checkpoint"
cp "$T/op.key" "$T/open.key"
chmod 644 "$T/open.key"
# shellcheck disable=SC2086
{
	bad 64 "log without a command" "no command given" $L
	bad 64 "an unknown log command" "unknown command 'frob'" $L frob
	bad 64 "a command by prefix" "unknown command 'ver'" $L ver
	bad 64 "show without SEQ" "SEQ is required" $L show $D
	bad 64 "show abc" "SEQ: 'abc' is not an entry number" $L show $D abc
	bad 64 "show 0" "SEQ: '0' is not an entry number" $L show $D 0
	bad 64 "show -5" "bad option '-5'" $L show $D -5
	bad 64 "show ' 5'" "SEQ: ' 5' is not an entry number" $L show $D " 5"
	bad 64 "show 1 2" "unexpected argument '2'" $L show $D 1 2
	bad 66 "show of an entry that is not there" "no entry 999" $L show $D 999
	bad 64 "list with an argument" "unexpected argument 'x'" $L list $D x
	bad 64 "list --from x" "--from: 'x' is not an entry number" $L list $D --from x
	bad 64 "list --kind ''" "--kind: '' is not 1 to 63 printable characters" $L list $D --kind ""
	bad 64 "list --bogus" "bad option '--bogus'" $L list $D --bogus
	bad 64 "list --state-dir twice" "--state-dir given twice" $L list $D $D
	bad 64 "list --state-dir without its value" "bad option '--state-dir'" $L list --state-dir
	bad 66 "list of a folder with no log" "no audit log" $L list --state-dir "$T/empty"
	bad 78 "list of a log that is a folder" "not a regular file" $L list --state-dir "$T/dirdb"
	bad 78 "list of a corrupt log" "not an SQLite database" $L list --state-dir "$T/corrupt"
	bad 78 "list of a log from a newer version" "newer than this program" $L list --state-dir "$T/future"
	bad 78 "verify of a corrupt log" "not an SQLite database" $L verify --state-dir "$T/corrupt"
	bad 64 "checkpoint without a key" "KEY" env -u ISIM_SIGN_KEY $L checkpoint $D
	bad 66 "checkpoint with a missing key" "$T/missing.key" $L checkpoint $D -k "$T/missing.key"
	bad 77 "checkpoint with a key others may read" "$T/open.key" $L checkpoint $D -k "$T/open.key"
	bad 64 "checkpoint --password-fd abc" "--password-fd" $L checkpoint $D -k "$T/op.key" --password-fd abc
	bad 66 "checkpoint of a folder with no log" "no audit log" $L checkpoint --state-dir "$T/empty" -k "$T/op.key"
	bad 64 "verify --from and --state-dir" "--from and --state-dir" $L verify $D --from "$T/log.jsonl"
	bad 64 "verify --pub and --trust" "--trust" $L verify $D --pub "$T/op.key.pub" --trust "$T/trust"
	bad 66 "verify --from a missing export" "$T/missing.jsonl" $L verify --from "$T/missing.jsonl"
	bad 65 "verify --from a malformed export line" "$T/bad.jsonl:1" $L verify --from "$T/bad.jsonl"
	bad 65 "verify --from a line that is not JSON" "$T/notjson.jsonl:1" $L verify --from "$T/notjson.jsonl"
	bad 66 "verify --checkpoint of a missing file" "$T/missing.cp" $L verify $D --checkpoint "$T/missing.cp"
	bad 65 "verify --checkpoint of a malformed file" "$T/bad.checkpoint" $L verify $D --checkpoint "$T/bad.checkpoint"
	bad 66 "verify --pub of a missing key, for the checkpoint" "$T/missing.pub" $L verify $D --pub "$T/missing.pub"
	bad 66 "verify with a missing trusted signers folder" "$T/notrust" env ISIM_TRUST_DIR="$T/notrust" $L verify $D
	bad 73 "export -o to an existing file without --force" "already exists" $L export $D -o "$T/exists"
	bad 73 "export -o into a missing folder" "$T/nodir/x.jsonl" $L export $D -o "$T/nodir/x.jsonl"
	bad 64 "export --force without -o" "--force is for -o FILE" $L export $D --force
	bad 64 "export with an argument" "unexpected argument 'x'" $L export $D x
}
same "the file export refused is as it was" "" "$(cat "$T/exists")"
expect 0 "export --force replaces it" $M log export --state-dir "$S" -o "$T/exists" --force
same "... with every entry" 9 "$(wc -l <"$T/exists")"
finish
