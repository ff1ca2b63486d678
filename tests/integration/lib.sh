# shellcheck shell=sh
# A small assertion library for the shell integration tests: each check
# prints one TAP line; `finish` prints the plan and sets the exit status.
# Tests get the built tools in $ISIM_BIN and the source tree in $ISIM_ROOT.

: "${ISIM_ROOT:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${ISIM_BIN:=$ISIM_ROOT/build/release/bin}"
PATH=$ISIM_BIN:$PATH
export ISIM_ROOT ISIM_BIN PATH

t_n=0
t_failed=0
T=$(mktemp -d "${TMPDIR:-/tmp}/isim-test.XXXXXX")
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT TERM

ok() { # description
	t_n=$((t_n + 1))
	echo "ok $t_n - $1"
}

not_ok() { # description [detail...]
	t_n=$((t_n + 1))
	t_failed=$((t_failed + 1))
	echo "not ok $t_n - $1"
	shift
	for t_line in "$@"; do
		printf '%s\n' "$t_line" | sed 's/^/# /'
	done
}

skip() { # description reason
	t_n=$((t_n + 1))
	echo "ok $t_n - $1 # SKIP $2"
}

check() { # description command...: passes when the command exits 0
	t_d=$1
	shift
	if t_output=$("$@" 2>&1); then
		ok "$t_d"
	else
		not_ok "$t_d" "command: $*" "$t_output"
	fi
}

# expect CODE DESCRIPTION command...: runs it with stdout in $T/out and
# stderr in $T/err, and passes when it exits CODE.
expect() {
	t_code=$1
	t_d=$2
	shift 2
	"$@" >"$T/out" 2>"$T/err"
	t_rc=$?
	if [ "$t_rc" -eq "$t_code" ]; then
		ok "$t_d"
	else
		not_ok "$t_d" "command: $*" "exit $t_rc, expected $t_code" "$(head -c 2000 "$T/err")"
	fi
}

# same DESCRIPTION EXPECTED ACTUAL
same() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1" "expected: $2" "actual:   $3"
	fi
}

# contains DESCRIPTION FILE TEXT: FILE has TEXT (fixed string)
contains() {
	if grep -qF -- "$3" "$2"; then
		ok "$1"
	else
		not_ok "$1" "'$3' not in $2:" "$(head -c 2000 "$2")"
	fi
}

need_root() { [ "$(id -u)" -eq 0 ]; }

# free_port: a TCP port of 127.0.0.1 that the kernel just gave out and
# nobody listens on.
free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# chromium_gone DIR: no process left of the Chromium whose profile is DIR.
# Its helpers (network service, renderers) outlive the browser a moment,
# writing the profile; each names it in its --user-data-dir.
chromium_gone() {
	cg_i=0
	while pgrep -f -- "--user-data-dir=$1" >/dev/null && [ "$cg_i" -lt 50 ]; do
		pkill -KILL -f -- "--user-data-dir=$1"
		cg_i=$((cg_i + 1))
		sleep 0.1
	done
}

# image_tests: the start of a test that builds images. Without root it
# reports one skip and ends; else the tests share the base cache
# (build/cache, made once) and one SOURCE_DATE_EPOCH, from the source tree.
image_tests() {
	if ! need_root; then
		skip "isim-build builds root file systems" "needs root"
		finish
		exit
	fi
	: "${ISIM_CACHE_DIR:=$ISIM_ROOT/build/cache}"
	SOURCE_DATE_EPOCH=1700000000
	export ISIM_CACHE_DIR SOURCE_DATE_EPOCH
	cd "$ISIM_ROOT" || exit 70
}

finish() {
	echo "1..$t_n"
	[ "$t_failed" -eq 0 ]
}
