#!/bin/sh
# The console's GET /api/meshnet/me (isim-console.cgi: the session from
# the cookie in passkey.db, console.db opened, the user's passkeys and
# identity read) in requests per second under lighttpd as console-up runs
# it, against a hello-world CGI in C (a status, a header and a small JSON
# body) under the same lighttpd configuration (console-up --cgi): the same
# keep-alive client (Python's http.client, CONNS connections, default 4),
# BENCH_RUNS runs (default 5) of BENCH_SECONDS (default 3) each,
# alternating, medians, and the ratio console/hello (target >= 0.70). No
# figure is asserted.
#
# console-up serves the console over FastCGI (a few processes answering
# request after request); the bench also runs it as a CGI program on the
# same state, like for like with the hello-world CGI.
#
# Here (2 cores, shared): FastCGI about 2,250 requests/s, 1.25x the hello
# CGI's 1,800; as a CGI 530 (0.3x): one GET /me as a process is 3.2 ms
# against hello's 0.6, 1.6 ms of it the dynamic loader (libcrypto and its
# constructor most of it), 1.3 ms opening console.db and passkey.db and
# reading them. Before the WAL of passkey.db was kept and the cookie hashed
# with libsodium, GET /me as a CGI was 4.5 ms.
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
RUNS=${BENCH_RUNS:-5}
SECS=${BENCH_SECONDS:-3}
CONNS=${BENCH_CONNS:-4}
PY=/usr/bin/python3
AUTH=$ISIM_ROOT/tests/integration/passkey-authenticator.py
command -v lighttpd >/dev/null || { echo "console: skipped (needs lighttpd)"; exit 0; }
W=$B/console
rm -rf "$W" && mkdir -p "$W/www" "$W/hello" || exit 1
printf '<!doctype html><title>bench</title>\n' >"$W/www/index.html"
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
}
trap cleanup EXIT INT TERM

cat >"$W/hello.c" <<'C'
#include <stdio.h>
int main(void)
{
	static const char body[] = "{\"ok\":true,\"user\":{\"name\":\"hello\"}}";

	printf("Status: 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
	       sizeof(body) - 1, body);
	return 0;
}
C
cc -O2 -o "$W/hello/hello.cgi" "$W/hello.c" || exit 1

cat >"$W/client.py" <<'PY'
import http.client, sys, threading, time
host, port, path, cookie, secs, conns = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], float(sys.argv[5]), int(sys.argv[6])
counts, bad = [0] * conns, [0]
def run(i, end):
    c = http.client.HTTPConnection(host, port, timeout=30)
    while time.monotonic() < end:
        c.request("GET", path, headers={"Cookie": "isim_session=" + cookie})
        r = c.getresponse()
        r.read()
        if r.status != 200:
            bad[0] += 1
        counts[i] += 1
    c.close()
start = time.monotonic()
ts = [threading.Thread(target=run, args=(i, start + secs)) for i in range(conns)]
[t.start() for t in ts]
[t.join() for t in ts]
if bad[0]:
    sys.exit("%d responses were not 200" % bad[0])
print("%.1f" % (sum(counts) / (time.monotonic() - start)))
PY

free_port() {
	$PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# serve NAME [ARG...]: console-up on a free port; its port in $port.
serve() {
	port=$(free_port)
	n=$1
	shift
	"$ISIM_ROOT/scripts/console-up" --listen "127.0.0.1:$port" --state-dir "$W/$n-state" --www "$W/www" "$@" \
		>"$W/$n.url" 2>"$W/$n.log" &
	pids="$pids $!"
	i=0
	while ! [ -s "$W/$n.url" ]; do
		i=$((i + 1))
		[ "$i" -le 100 ] || { echo "console: console-up did not start" >&2; cat "$W/$n.log" >&2; exit 1; }
		sleep 0.1
	done
}
export CONSOLE_RATE_LIMIT=1000000
serve console
cport=$port
serve hello --mode cgi --cgi "$W/hello/hello.cgi"
hport=$port
# The console again as a CGI program (a process a request), on the same
# state: the figure the hello-world CGI compares with like for like.
serve cgi --mode cgi --state-dir "$W/console-state"
gport=$port

H="Origin: http://localhost:$cport"
curl -s -H "$H" -H 'Content-Type: application/json' -d '{"username":"bench"}' \
	"http://127.0.0.1:$cport/api/meshnet/auth/register/options" | jq -c .publicKey |
	$PY "$AUTH" create "$W/keys.json" "http://localhost:$cport" >"$W/reg.json"
cookie=$(curl -s -D - -o /dev/null -H "$H" -H 'Content-Type: application/json' --data-binary "@$W/reg.json" \
	"http://127.0.0.1:$cport/api/meshnet/auth/register/verify" | tr -d '\r' |
	sed -n 's/^Set-Cookie: isim_session=\([^;]*\);.*/\1/p')
[ -n "$cookie" ] || { echo "console: the registration failed" >&2; exit 1; }
curl -sf -H "Cookie: isim_session=$cookie" "http://127.0.0.1:$cport/api/meshnet/me" >/dev/null ||
	{ echo "console: GET /me failed" >&2; exit 1; }

median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
rate() { $PY "$W/client.py" 127.0.0.1 "$1" /api/meshnet/me "$cookie" "$SECS" "$CONNS"; }
rate "$cport" >/dev/null && rate "$hport" >/dev/null && rate "$gport" >/dev/null # warm-up
crates=""
hrates=""
grates=""
r=0
while [ "$r" -lt "$RUNS" ]; do
	crates="$crates $(rate "$cport")" || exit 1
	hrates="$hrates $(rate "$hport")" || exit 1
	grates="$grates $(rate "$gport")" || exit 1
	r=$((r + 1))
done
cm=$(echo "$crates" | median)
hm=$(echo "$hrates" | median)
gm=$(echo "$grates" | median)
echo "GET /api/meshnet/me, $CONNS keep-alive connections, $RUNS runs of $SECS s   median req/s   ratio (target >= 0.70)"
printf 'isim-console.cgi (FastCGI, console-up)  %10.1f %8s\n' "$cm" "$(ratio "$cm" "$hm")"
printf 'isim-console.cgi (as a CGI)             %10.1f %8s\n' "$gm" "$(ratio "$gm" "$hm")"
printf 'hello-world CGI                         %10.1f\n' "$hm"
echo "runs: fastcgi$crates; cgi$grates; hello$hrates"
