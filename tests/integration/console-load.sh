#!/bin/sh
# The console under load: CLIENTS (200) users at once for SECONDS (30) on
# loopback against lighttpd and isim-console.cgi (console-up), each with
# its own passkey and keep-alive connection, GET /me and the login
# ceremony in turn (console-load.py, the software authenticator in
# process). Every response 2xx, no connection error, every session a
# login opened accepted afterwards (no lost write), each credential's sign
# counter 1 + its logins, the three databases intact and the audit log's
# chain whole. The rate is printed, not judged.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/lib-console.sh
. "$(dirname "$0")/lib-console.sh"
console_needs

CLIENTS=${CONSOLE_LOAD_CLIENTS:-200}
SECONDS_=${CONSOLE_LOAD_SECONDS:-30}
up "$T/a" CONSOLE_RATE_LIMIT=1000000
$PY "$ISIM_ROOT/tests/integration/console-load.py" 127.0.0.1 "$PORT" "$ORIGIN" "$T/keys" "$CLIENTS" "$SECONDS_" \
	>"$T/load.json" 2>"$T/load.err"
same "the driver ran" "0" "$?$(head -c 2000 "$T/load.err")"
r() { jq -r "$1" "$T/load.json"; }
failures=$(r '.failures[]' 2>/dev/null)
same "$CLIENTS users register at once" "$CLIENTS" "$(r .registered)"
same "$CLIENTS requests in flight at once" "$CLIENTS" "$(r .in_flight_max)"
echo "# $(r .load_requests) requests in $(r .seconds) s by $CLIENTS clients: $(r .rps) requests/s ($(r .me) GET /me, $(r .logins) logins)"
[ "$(r .logins)" -gt 0 ] && [ "$(r .me)" -gt 0 ]
same "logins and GET /me were answered" 0 "$?"
same "no response but 2xx" 0 "$(r .non2xx)"
same "no connection error" 0 "$(r .conn_errors)"
if [ -n "$failures" ]; then
	echo "$failures" | head -10 | sed 's/^/# /'
	errlog "$T/a" | sort | uniq -c | sort -rn | head -10 | sed 's/^/# log: /'
fi
same "every session a login opened is accepted by GET /me afterwards" 0 "$(r .lost_sessions)"
same "... and names its user" 0 "$(r .wrong_user)"
sqlite3 "$STATE/passkey.db" "SELECT hex(id), sign_count FROM credentials" |
	$PY -c 'import base64, sys
for line in sys.stdin:
    h, n = line.strip().split("|")
    print(base64.urlsafe_b64encode(bytes.fromhex(h)).rstrip(b"=").decode(), n)' | sort >"$T/got"
# per KEY DEFAULT: "credential value stored-counter" of the driver's KEY,
# DEFAULT for a credential that never signed in.
per() {
	r ".$1 | to_entries[] | \"\(.key) \(.value)\"" | sort >"$T/per.$1"
	join -a 2 -e "$2" -o 0,1.2,2.2 "$T/per.$1" "$T/got"
}
same "each credential's sign counter is the last one a successful login signed (no write lost)" "" \
	"$(per counter_by_credential 1 | awk '$2 != $3' | head -5)"
if [ "$(r .non2xx)" -eq 0 ]; then
	same "... which is 1 + its logins" "" "$(per logins_by_credential 0 | awk '$2 + 1 != $3' | head -5)"
else
	skip "... which is 1 + its logins" "some logins failed after the authenticator signed"
fi
same "... for $CLIENTS credentials" "$CLIENTS" "$(wc -l <"$T/got" | tr -d ' ')"
for db in passkey console audit; do
	same "$db.db: PRAGMA integrity_check" ok "$(sqlite3 "$STATE/$db.db" 'PRAGMA integrity_check')"
done
expect 0 "isim-memdump log verify passes" isim-memdump log verify --state-dir "$STATE"
same "... and has an entry for each login" "$(r .logins)" \
	"$(isim-memdump log export --state-dir "$STATE" | jq -s '[.[] | select(.kind == "console" and .record.action == "passkey.login" and .record.ok)] | length')"
finish
