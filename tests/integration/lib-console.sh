# shellcheck shell=sh disable=SC2034 # PORT, U, STATE... are the tests'
# What the console's HTTP tests share: console-up on a free port (lighttpd
# and isim-console.cgi as they are deployed), curl as the browser, and the
# software authenticator (passkey-authenticator.py) as the passkey.
# Sourced after lib.sh; sets PY, AUTH, WWW; `console_needs` skips the
# test when a part is missing.

PY=/usr/bin/python3
AUTH=$ISIM_ROOT/tests/integration/passkey-authenticator.py
WWW=$T/www
unset CONSOLE_WG_DEV CONSOLE_SIGN_KEY CONSOLE_TEMPLATES_DIR

console_needs() {
	if ! command -v lighttpd >/dev/null 2>&1; then
		skip "the console over HTTP" "needs lighttpd (scripts/install-deps.sh)"
		finish
		exit
	fi
	if ! $PY -c 'import cbor2, cryptography' 2>/dev/null; then
		skip "the console over HTTP" "needs python3-cbor2 and python3-cryptography (make deps)"
		finish
		exit
	fi
	mkdir -p "$WWW" || exit 73
	printf '<!doctype html><title>console</title>\n' >"$WWW/index.html"
}

up_pids=""
console_cleanup() {
	for p in $up_pids; do
		kill "$p" 2>/dev/null
	done
	for p in $up_pids; do
		wait "$p" 2>/dev/null
	done
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap console_cleanup EXIT


# up DIR [VAR=VALUE...]: console-up on a free port with that environment,
# its state in DIR/state; sets PORT, ORIGIN, U (the API's URL), STATE and
# UP_PID. Exits the test when it does not start.
up() {
	u_dir=$1
	shift
	mkdir -p "$u_dir" || exit 73
	PORT=$(free_port)
	env "$@" "$ISIM_ROOT/scripts/console-up" --listen "127.0.0.1:$PORT" --state-dir "$u_dir/state" \
		--www "$WWW" --error-log "$u_dir/error.log" >"$u_dir/url" 2>"$u_dir/log" &
	UP_PID=$!
	up_pids="$up_pids $UP_PID"
	u_i=0
	while ! [ -s "$u_dir/url" ]; do
		u_i=$((u_i + 1))
		if [ "$u_i" -gt 100 ] || ! kill -0 "$UP_PID" 2>/dev/null; then
			not_ok "console-up starts on port $PORT" "$(cat "$u_dir/log")"
			finish
			exit 1
		fi
		sleep 0.1
	done
	ORIGIN=http://localhost:$PORT
	U=http://127.0.0.1:$PORT/api/meshnet
	STATE=$u_dir/state
}

# auth create|get KEYS [OPTION...] < options: the software authenticator.
auth() {
	a_op=$1
	a_keys=$2
	shift 2
	$PY "$AUTH" "$a_op" "$a_keys" "$ORIGIN" "$@"
}

# The session cookie's token of the last response, or nothing.
cookie() {
	sed -n 's/^[Ss]et-[Cc]ookie: isim_session=\([^;]*\);.*/\1/p' "$T/h" | tr -d '\r'
}

# token_hex TOKEN: the SHA-256 the state keeps of a session token.
token_hex() {
	$PY -c 'import base64, hashlib, sys; t = sys.argv[1]
print(hashlib.sha256(base64.urlsafe_b64decode(t + "=" * (-len(t) % 4))).hexdigest().upper())' "$1"
}

# errlog DIR: what the console (the CGI and its tools, on lighttpd's
# stderr, which is console-up's) and lighttpd said, of the console-up in DIR.
errlog() {
	cat "$1/log" "$1/error.log" 2>/dev/null | grep -v '^console-up: serving\|(server.c\|(configfile.c'
}
