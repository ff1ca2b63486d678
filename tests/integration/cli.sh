#!/bin/sh
# What every tool's command line does the same way (isim(7)): --version and
# --help on the tool and on each of its commands, a usage error as one line
# and exit 64, a full stdout as one message and exit 74, and the signing
# key's options. Fast: no image is built or booted.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

mkdir "$T/w" && cd "$T/w" || exit 70
printf 'a file to sign\n' >a.txt

# lines FILE: how many lines FILE has
lines() { wc -l <"$1" | tr -d ' '; }

# one_line DESCRIPTION: $T/err holds exactly one line
one_line() {
	same "$1" 1 "$(lines "$T/err")"
}

# full DESCRIPTION PROG command...: with stdout on /dev/full, exit 74 and
# one line on stderr, "PROG: cannot write to stdout: No space left on device"
full() {
	f_d=$1
	f_prog=$2
	shift 2
	"$@" >/dev/full 2>"$T/err"
	same "$f_d: exit 74" 74 "$?"
	same "... one message, naming stdout" "$f_prog: cannot write to stdout: No space left on device" \
		"$(cat "$T/err")"
}

# Every tool built, so a new one is held to the same conventions.
tools=$(cd "$ISIM_BIN" && ls isim-*)
same "the tools are found" "isim-build isim-compose isim-sign isim-verify" \
	"$(echo "$tools" | grep -xE 'isim-(build|compose|sign|verify)' | tr '\n' ' ' | sed 's/ $//')"
for tool in $tools; do
	expect 0 "$tool --version" "$tool" --version
	same "... one line: the name and the version" "$tool 0." "$(cut -c1-$((${#tool} + 3)) "$T/out")"
	same "... and nothing else" 1 "$(lines "$T/out")"
	cp "$T/out" "$T/version"
	expect 0 "$tool -V" "$tool" -V
	same "... the same line" "$(cat "$T/version")" "$(cat "$T/out")"
	expect 0 "$tool --help" "$tool" --help
	contains "... prints a usage on stdout" "$T/out" "usage: $tool"
	expect 64 "$tool --no-such-option" "$tool" --no-such-option
	one_line "... says so in one line"
	contains "... naming the option and --help" "$T/err" \
		"$tool: bad option '--no-such-option' (unknown, or missing its value) (see $tool --help)"
	same "... and prints nothing on stdout" "" "$(cat "$T/out")"
	full "$tool --version >/dev/full" "$tool" "$tool" --version
	full "$tool --help >/dev/full" "$tool" "$tool" --help
done

# Each command: its --version is the tool's line; --help, -h; a bad option.
# The commands are those each tool's --help lists under "Commands:", and
# isim-build's test (its build is the default, so it has no such list).
commands=$(for tool in $tools; do
	"$tool" --help | awk -v t="$tool" '/^Commands:/ { on = 1; next } on && /^  [a-z]/ { print t "/" $1; next } on { on = 0 }'
done)
same "the commands are found" "isim-sign/keygen isim-sign/sign isim-sign/descriptor isim-sign/dsse" \
	"$(echo "$commands" | grep '^isim-sign/' | tr '\n' ' ' | sed 's/ $//')"
for tc in isim-build/test $commands; do
	tool=${tc%/*}
	cmd=${tc#*/}
	"$tool" --version >"$T/version"
	expect 0 "$tool $cmd --version" "$tool" "$cmd" --version
	same "... the same line as $tool --version" "$(cat "$T/version")" "$(cat "$T/out")"
	expect 0 "$tool $cmd -V" "$tool" "$cmd" -V
	same "... the same line" "$(cat "$T/version")" "$(cat "$T/out")"
	expect 0 "$tool $cmd --help" "$tool" "$cmd" --help
	contains "... its own usage" "$T/out" "usage: $tool"
	contains "... naming the command" "$T/out" "$cmd"
	expect 0 "$tool $cmd -h" "$tool" "$cmd" -h
	expect 64 "$tool $cmd --no-such-option" "$tool" "$cmd" --no-such-option x
	one_line "... says so in one line"
	contains "... as the command, pointing to its --help" "$T/err" \
		"$tool $cmd: bad option '--no-such-option' (unknown, or missing its value) (see $tool $cmd --help)"
	full "$tool $cmd --version >/dev/full" "$tool" "$tool" "$cmd" --version
	full "$tool $cmd --help >/dev/full" "$tool $cmd" "$tool" "$cmd" --help
done

# Missing operands and unknown commands: one line, exit 64.
expect 64 "isim-sign without arguments" isim-sign
one_line "... one line"
contains "... says what is missing" "$T/err" "isim-sign: no command given"
expect 64 "isim-verify with an unknown command" isim-verify frob
one_line "... one line"
expect 64 "isim-compose without a profile" isim-compose
one_line "... one line"
contains "... says what is missing" "$T/err" "isim-compose: no PROFILE given (see isim-compose --help)"
expect 64 "isim-build without a profile" isim-build
one_line "... one line"
expect 64 "isim-build test without an image" isim-build test
one_line "... one line"
contains "... named as the command" "$T/err" "isim-build test: no IMAGE given (see isim-build test --help)"
expect 64 "isim-sign sign with two -k" isim-sign sign -k x --key y a.txt
one_line "... one line"
contains "... --key is -k" "$T/err" "--sign-key given twice"

# A bad option value is said the same way by every tool.
expect 64 "isim-build test --memory abc" isim-build test --memory abc x.qcow2
same "... the option, the value, what it must be" \
	"isim-build test: --memory: 'abc' is not 128 to 65536 MiB (see isim-build test --help)" "$(cat "$T/err")"
expect 64 "isim-build --test --memory abc (the older spelling)" isim-build --test --memory abc x.qcow2
contains "... the same message" "$T/err" "--memory: 'abc' is not 128 to 65536 MiB"
for tc in "isim-build test" "isim-sign sign" "isim-sign descriptor" "isim-sign dsse" "isim-sign keygen"; do
	tool=${tc% *}
	cmd=${tc#* }
	expect 64 "$tc --password-fd x1" "$tool" "$cmd" --password-fd x1 x
	same "... the same message" \
		"$tc: --password-fd: 'x1' is not a descriptor number (0 to 1023) (see $tc --help)" "$(cat "$T/err")"
done
expect 64 "isim-build --size 12Q" isim-build --size 12Q profile
same "... the same form" "isim-build: --size: '12Q' is not a size (512M, 2G, bytes) (see isim-build --help)" \
	"$(cat "$T/err")"

# --help and --version among other options, as getopt reads them.
isim-sign --version >"$T/version"
expect 0 "isim-sign sign -k KEY --version" isim-sign sign -k k --version
same "... prints the version" "$(cat "$T/version")" "$(cat "$T/out")"
expect 0 "isim-verify file --pub KEY -h" isim-verify file --pub k.pub -h
contains "... prints the command's usage" "$T/out" "usage: isim-verify file"
expect 0 "isim-compose -q --help" isim-compose -q --help
contains "... prints the usage" "$T/out" "usage: isim-compose"

# isim-build test and isim-build --test are the same command.
expect 66 "isim-build test with a missing image" isim-build test missing.qcow2
contains "... says which file" "$T/err" "missing.qcow2: cannot open"
expect 66 "isim-build --test with a missing image" isim-build --test missing.qcow2
contains "... the same" "$T/err" "missing.qcow2: cannot open"

# The signing key: -k, --sign-key, --key and ISIM_SIGN_KEY in every command
# that signs.
check "a key to sign with" isim-sign keygen -W -o k
for opt in -k --sign-key --key; do
	expect 0 "isim-sign sign $opt" isim-sign sign -x "a$opt.sig" "$opt" k a.txt
	check "... the signature verifies" isim-verify file -x "a$opt.sig" --pub k.pub a.txt
	expect 0 "isim-sign dsse $opt" isim-sign dsse "$opt" k --type text/plain a.txt
done
expect 0 "isim-sign dsse with ISIM_SIGN_KEY" env ISIM_SIGN_KEY=k isim-sign dsse --type text/plain a.txt
cp "$T/out" env.json
check "... the envelope verifies" isim-verify dsse --pub k.pub env.json
expect 64 "isim-sign dsse without a key" env -u ISIM_SIGN_KEY isim-sign dsse --type text/plain a.txt
contains "... names both ways to give one" "$T/err" "no secret key: give -k KEY or set ISIM_SIGN_KEY"
expect 64 "isim-build test --password-fd without a key" env -u ISIM_SIGN_KEY isim-build test --password-fd 3 x.qcow2
contains "... says what it goes with" "$T/err" "--password-fd goes with --sign-key"
expect 66 "isim-build test with ISIM_SIGN_KEY that is missing" env ISIM_SIGN_KEY=nokey isim-build test x.qcow2
contains "... reads the key it names" "$T/err" "nokey"

# Real output on a full stdout: one message, exit 74, in every tool.
full "isim-sign sign >/dev/full" "isim-sign" isim-sign -k k -x full.sig a.txt
full "isim-sign dsse >/dev/full" "isim-sign dsse" isim-sign dsse -k k --type text/plain a.txt
full "isim-sign keygen >/dev/full" "isim-sign keygen" isim-sign keygen -W -o k2
full "isim-verify file >/dev/full" "isim-verify file" isim-verify file --pub k.pub -x a-k.sig a.txt
full "isim-verify dsse >/dev/full" "isim-verify dsse" isim-verify dsse --pub k.pub env.json
cat >node.json <<'JSON'
{"node_id": "node-a",
 "identity": {"wg_public_key": "mRbvLkGqjUjGnK9S8R1ve7AXgTTa4n9gMUyb5mDWKkU=",
              "ed25519_public_key": "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="},
 "endpoints": {"rendezvous_ipv6": "fe80::1", "wireguard": "[2001:db8::1]:51820",
               "control_mtls": "[2001:db8::1]:8443"},
 "allowed_ips": ["10.100.0.5/32", "fd00:100::5/128"],
 "issued_at": "2026-01-01T00:00:00Z", "expires_at": "2026-02-01T00:00:00Z"}
JSON
S=$ISIM_ROOT/schemas
expect 0 "isim-sign descriptor with ISIM_SIGN_KEY" env ISIM_SIGN_KEY=k isim-sign descriptor node.json
cp "$T/out" signed.json
jq -c . signed.json >signed.jsonl
full "isim-sign descriptor >/dev/full" "isim-sign descriptor" isim-sign descriptor -k k node.json
full "isim-sign descriptor --stream >/dev/full" "isim-sign descriptor" \
	isim-sign descriptor -k k --stream signed.jsonl
full "isim-verify descriptor >/dev/full" "isim-verify descriptor" \
	isim-verify descriptor --schemas-dir "$S" --pub k.pub --at 2026-01-15T00:00:00Z signed.json
full "isim-verify descriptor --stream >/dev/full" "isim-verify descriptor" \
	isim-verify descriptor --schemas-dir "$S" --pub k.pub --at 2026-01-15T00:00:00Z --stream signed.jsonl
P=$ISIM_ROOT/tests/vectors/provenance
full "isim-verify provenance >/dev/full" "isim-verify provenance" \
	isim-verify provenance --pub "$P/signer.pub" "$P/image.bin"
cd "$ISIM_ROOT" || exit 70
full "isim-compose --list >/dev/full" "isim-compose" isim-compose --list
full "isim-compose -n >/dev/full" "isim-compose" isim-compose -n --profiles-dir "$ISIM_ROOT/profiles" \
	"$(find "$ISIM_ROOT/profiles" -name '*.yaml' | sort | head -n 1)"

finish
