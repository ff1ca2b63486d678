#!/bin/sh
# The console's page in headless Chromium: the time from the start of a
# page load to the dashboard with every card filled, signing in with a
# discoverable passkey as soon as the login view shows (the page's own
# performance mark "dashboard-ready"), over several logins: min, median,
# max. There is no baseline to divide by: the figure is the user's wait.
set -u
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
RUNS=${BENCH_PAGE_RUNS:-15}
PY=/usr/bin/python3
for p in chromium lighttpd; do
	if ! command -v "$p" >/dev/null; then
		echo "bench: console-page skipped: needs $p (make deps)" >&2
		exit 0
	fi
done
T=$(mktemp -d "${TMPDIR:-/tmp}/isim-bench.XXXXXX")
PORT=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
CDP=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$T/state" "$T/home" "$T/log"
UP=
CH=
stop() {
	for p in $CH $UP; do kill "$p" 2>/dev/null; done
	for p in $CH $UP; do wait "$p" 2>/dev/null; done
	i=0
	until rm -rf "$T" 2>/dev/null || [ "$i" -gt 20 ]; do
		i=$((i + 1))
		sleep 0.1
	done
}
trap stop EXIT
trap 'exit 130' INT TERM
CONSOLE_RATE_LIMIT=100000 ISIM_BIN=$ISIM_BIN "$ISIM_ROOT/scripts/console-up" --listen "localhost:$PORT" \
	--state-dir "$T/state" --error-log "$T/log/error.log" >"$T/log/url" 2>"$T/log/up.err" &
UP=$!
HOME=$T/home XDG_CONFIG_HOME=$T/home XDG_CACHE_HOME=$T/home chromium --headless --no-sandbox \
	--remote-debugging-port="$CDP" --remote-debugging-address=127.0.0.1 --user-data-dir="$T/chromium" \
	--no-first-run about:blank >"$T/log/chromium.out" 2>&1 &
CH=$!
i=0
until curl -sf "http://127.0.0.1:$CDP/json/version" >/dev/null && curl -sf "http://localhost:$PORT/" >/dev/null; do
	i=$((i + 1))
	if [ "$i" -gt 150 ]; then
		echo "bench: console-page: the console or Chromium did not start" >&2
		cat "$T/log/up.err" >&2
		exit 1
	fi
	sleep 0.2
done
if ! $PY "$ISIM_ROOT/tests/integration/console-browser.py" "$CDP" "http://localhost:$PORT/" "$T/screens" "$T/dl" \
	--bench "$RUNS" >"$T/out" 2>"$T/err"; then
	echo "bench: console-page: the driver failed" >&2
	tail -n 20 "$T/err" >&2
	exit 1
fi
jq -r 'select(.bench) | .bench | sort | "page load to dashboard after login, \(length) logins: min \(.[0]) ms, median \(.[length / 2 | floor]) ms, max \(.[-1]) ms"' "$T/out"
