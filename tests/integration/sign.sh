#!/bin/sh
# isim-sign and isim-verify against Debian's minisign: keys and signatures
# go both ways, both programs refuse a changed file or a wrong key, and each
# exit code of isim(7) is the one a user gets.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

V=$ISIM_ROOT/tests/vectors/minisign
mkdir "$T/w" && cd "$T/w" || exit 70
printf 'pw-one\n' >pw1
printf 'wrong\n' >pwbad
printf 'a file to sign\n' >a.txt
printf 'another file\n' >b.txt
mode() { stat -c %a "$1"; }
json() { jq -r "$1" "$T/out"; }

# ---- keygen ------------------------------------------------------------------
expect 0 "keygen -W writes a key pair" isim-sign keygen -o k -W
same "secret key is mode 600" 600 "$(mode k)"
same "public key is mode 644" 644 "$(mode k.pub)"
kid=$(json .key_id)
same "JSON names the files" "k k.pub false" "$(json '"\(.secret_key) \(.public_key) \(.encrypted)"')"
same "public key's comment holds the key id, as minisign's" "untrusted comment: minisign public key $kid" \
	"$(head -n1 k.pub)"
same "JSON carries the public key line" "$(sed -n 2p k.pub)" "$(json .public_key_base64)"
sum=$(cat k k.pub | sha256sum)
expect 73 "keygen refuses to replace a key" isim-sign keygen -o k -W
contains "... and says why" "$T/err" "isim-sign keygen: k: already exists; not replaced"
contains "... and how to insist" "$T/err" "use --force to replace it"
same "... leaving both files as they were" "$sum" "$(cat k k.pub | sha256sum)"
: >only.pub
expect 73 "keygen refuses when only PATH.pub exists" isim-sign keygen -o only -W
same "... and writes no secret key" no "$([ -e only ] && echo yes || echo no)"
expect 0 "keygen --force replaces the pair" isim-sign keygen -o k -W --force
new_kid=$(json .key_id)
is_keyid() { printf '%s\n' "$1" | grep -Eqx '[0-9A-F]{16}'; }
check "... with a new key id ($new_kid), 16 hex digits" is_keyid "$new_kid"
check "... not the old one" test "$new_kid" != "$kid"
same "... still mode 600" 600 "$(mode k)"
kid=$(json .key_id)
same "no temporary files are left" "a.txt b.txt k k.pub only.pub pw1 pwbad" "$(echo *)"

expect 0 "keygen --password-fd encrypts the key" isim-sign keygen -o e --password-fd 3 3<pw1
same "... JSON says encrypted" true "$(json .encrypted)"
same "... in minisign's scrypt format (Ed Sc B2)" RWRTY0Iy "$(sed -n 2p e | cut -c1-8)"
ekid=$(json .key_id)
if command -v setsid >/dev/null; then
	expect 64 "keygen without a terminal or --password-fd is a usage error" setsid -w isim-sign keygen -o nt
	contains "... that says what to do" "$T/err" "no terminal to read a password from; give --password-fd N"
	same "... and writes nothing" no "$([ -e nt ] || [ -e nt.pub ] && echo yes || echo no)"
else
	skip "keygen without a terminal" "no setsid"
fi
# On a terminal (a pseudo-terminal from script(1)): asked twice, no echo.
# The pauses let each prompt come first; the terminal drops what was typed
# before the prompt, as readpassphrase(3) does.
if command -v script >/dev/null; then
	(sleep 2; printf 'tty-pass\n'; sleep 2; printf 'tty-pass\n') |
		script -qec "isim-sign keygen -o tty.key" /dev/null >tty.out 2>&1
	same "keygen asks the password twice on the terminal" yes \
		"$(grep -q 'Password for the new secret key:' tty.out && grep -q 'Password (again):' tty.out && echo yes)"
	same "... without echoing it" no "$(grep -q tty-pass tty.out && echo yes || echo no)"
	same "... and writes an encrypted key" RWRTY0Iy "$(sed -n 2p tty.key | cut -c1-8)"
	(sleep 2; printf 'one\n'; sleep 2; printf 'two\n') |
		script -qec "isim-sign keygen -o tty2.key" /dev/null >tty.out 2>&1
	same "two different passwords are refused" yes \
		"$(grep -q 'the two passwords differ' tty.out && [ ! -e tty2.key ] && echo yes)"
else
	skip "keygen on a terminal" "no script(1)"
fi
expect 64 "keygen -W with --password-fd" isim-sign keygen -o x -W --password-fd 3
expect 64 "keygen comment of two lines" isim-sign keygen -o x -W -c "$(printf 'a\nb')"

# ---- sign and verify -----------------------------------------------------------
expect 0 "sign two files" env SOURCE_DATE_EPOCH=1700000000 isim-sign -k k a.txt b.txt
same "one JSON line a file" 2 "$(wc -l <"$T/out")"
same "JSON names file, signature, key" "a.txt a.txt.sig $kid" "$(head -n1 "$T/out" | jq -r '"\(.file) \(.signature) \(.key_id)"')"
same "trusted comment as minisign's, with SOURCE_DATE_EPOCH" \
	"$(printf 'trusted comment: timestamp:1700000000\tfile:a.txt\thashed')" "$(sed -n 3p a.txt.sig)"
expect 0 "verify with --pub" isim-verify file a.txt --pub k.pub
same "verdict ok" "true a.txt a.txt.sig $kid k.pub" "$(json '"\(.ok) \(.file) \(.signature) \(.key_id) \(.signer)"')"
same "verdict carries the trusted comment and no reason" \
	"$(printf 'timestamp:1700000000\tfile:a.txt\thashed null')" "$(json '"\(.trusted_comment) \(.reason)"')"
mkdir -m 755 trust
cp k.pub trust/ci.pub
cp e.pub trust/operator.pub
expect 0 "verify two files against a trusted signers directory" isim-verify file a.txt b.txt --trust trust
same "... both ok, signed by ci.pub" "true trust/ci.pub true trust/ci.pub" \
	"$(jq -r '"\(.ok) \(.signer)"' "$T/out" | tr '\n' ' ' | sed 's/ $//')"
expect 0 "ISIM_TRUST_DIR names the directory" env ISIM_TRUST_DIR="$T/w/trust" isim-verify file a.txt
expect 0 "ISIM_SIGN_KEY names the key; -x and -t" env ISIM_SIGN_KEY=k isim-sign -x other.sig -t "release 1.0" b.txt
same "... the trusted comment given" "trusted comment: release 1.0" "$(sed -n 3p other.sig)"
expect 0 "... verifies with -x" isim-verify file b.txt -x other.sig --pub k.pub
same "... and reports it" "release 1.0" "$(json .trusted_comment)"
expect 0 "the sign subcommand is the default command" env SOURCE_DATE_EPOCH=1700000000 isim-sign sign -k k -x c.sig a.txt
check "... same key, same comment, same bytes (Ed25519 is deterministic)" cmp c.sig a.txt.sig

expect 0 "sign with an encrypted key and --password-fd" isim-sign -k e --password-fd 3 -x e.sig a.txt 3<pw1
expect 0 "... verifies" isim-verify file a.txt -x e.sig --trust trust
same "... by operator.pub" "true trust/operator.pub $ekid" "$(json '"\(.ok) \(.signer) \(.key_id)"')"
# While it waits for the password, the key is loaded: no core file then,
# though it was started with core files allowed.
mkfifo pwfifo
prlimit --core=unlimited isim-sign -k e --password-fd 3 -x fifo.sig a.txt 3<>pwfifo >/dev/null 2>&1 &
pid=$!
n=0
while [ "$n" -lt 50 ] && ! grep -q '^Max core file size *0 *0 ' "/proc/$pid/limits" 2>/dev/null; do
	sleep 0.1
	n=$((n + 1))
done
same "core files are off while a secret key is loaded" yes "$([ "$n" -lt 50 ] && echo yes)"
printf 'pw-one\n' >pwfifo
wait "$pid"
same "... and the password then read from the pipe signs" 0 "$?"
expect 77 "a wrong password is refused" isim-sign -k e --password-fd 3 -x e2.sig a.txt 3<pwbad
contains "... with a clear message" "$T/err" "isim-sign: e: wrong password for this secret key"
same "... and no signature" no "$([ -e e2.sig ] && echo yes || echo no)"

# ---- refusals ---------------------------------------------------------------
cp a.txt changed.txt
cp a.txt.sig changed.txt.sig
echo tampered >>changed.txt
expect 1 "a changed file is refused" isim-verify file changed.txt --trust trust
same "... with the reason in the verdict" \
	"false signature does not verify: the content was changed after signing, or the signature was altered" \
	"$(json '"\(.ok) \(.reason)"')"
same "... and no trusted comment" null "$(json .trusted_comment)"
sed '3s/hashed/hashed!/' a.txt.sig >tc.sig
expect 1 "a changed trusted comment is refused" isim-verify file a.txt -x tc.sig --pub k.pub
contains "... by its global signature" "$T/out" "trusted comment does not verify"
expect 1 "a wrong key is refused" isim-verify file a.txt --pub e.pub
same "... naming both keys" "signed by key $kid, but the public key is $ekid" "$(json .reason)"
mkdir -m 755 other
cp e.pub other/
expect 1 "a key not in the directory is refused" isim-verify file a.txt --trust other
contains "... as not a trusted signer" "$T/out" "which is not a trusted signer (1 key in other)"
printf '# rotated out\n%s  # ci key leaked\n' "$kid" >trust/revoked
expect 1 "a revoked key is refused" isim-verify file a.txt --trust trust
same "... saying so" "key $kid is revoked" "$(json .reason)"
expect 1 "one bad file of two gives exit 1 and two verdicts" isim-verify file a.txt changed.txt --trust other
same "... two JSON lines" 2 "$(wc -l <"$T/out")"
rm trust/revoked

# ---- bad input and exit codes ---------------------------------------------------
expect 66 "missing file" isim-sign -k k missing.txt
contains "... named" "$T/err" "isim-sign: missing.txt: cannot open: No such file or directory"
expect 66 "one missing file of two: no signature at all" isim-sign -k k -t x b.txt missing.txt
same "... b.txt.sig untouched" "$(printf 'trusted comment: timestamp:1700000000\tfile:b.txt\thashed')" \
	"$(sed -n 3p b.txt.sig)"
expect 66 "missing signature" isim-verify file missing.txt --pub k.pub
contains "... named" "$T/err" "isim-verify file: missing.txt.sig: cannot open signature: No such file or directory"
expect 66 "signature present, file missing" isim-verify file gone.txt -x a.txt.sig --pub k.pub
head -n 2 a.txt.sig >trunc.sig
expect 65 "truncated signature" isim-verify file a.txt -x trunc.sig --pub k.pub
contains "... where and why" "$T/err" "trunc.sig:3: ends after line 2; expected the trusted comment line"
sed '2s/^RU/R%/' a.txt.sig >nonb64.sig
expect 65 "non-base64 signature" isim-verify file a.txt -x nonb64.sig --pub k.pub
contains "... where and why" "$T/err" "nonb64.sig:2:2: a file signature: '%' is not a base64 character"
expect 65 "a secret key given as the public key" isim-verify file a.txt --pub k
contains "... is named so" "$T/err" "isim-verify file: k:2:1: this is a secret key, not a public key"
expect 65 "a public key given as the secret key" isim-sign -k k.pub a.txt
contains "... is named so" "$T/err" "k.pub:2:1: this is a public key, not a secret key"
cp k open.key
chmod 644 open.key
expect 77 "a secret key others may read is refused" isim-sign -k open.key -x o.sig a.txt
contains "... with the fix" "$T/err" \
	"open.key: secret key file is accessible by group or others (mode 0644); refusing it until 'chmod 600' is run on it"
expect 66 "missing trusted signers directory" isim-verify file a.txt --trust nodir
chmod 777 other
expect 77 "a world-writable trusted signers directory" isim-verify file a.txt --trust other
chmod 755 other
printf 'not a key id\n' >other/revoked
expect 78 "a malformed revocation list" isim-verify file a.txt --trust other
contains "... where and why" "$T/err" "other/revoked:1:1: expected a key id of up to 16 hex digits"
rm other/revoked
expect 64 "isim-sign without arguments" isim-sign
expect 64 "isim-sign with a bare word" isim-sign a.txt
contains "... says how to sign such a file" "$T/err" "unknown command 'a.txt' (to sign a file of that name: 'isim-sign sign a.txt')"
expect 64 "-x with two files" isim-sign -k k -x s.sig a.txt b.txt
expect 64 "no key" env -u ISIM_SIGN_KEY isim-sign sign a.txt
expect 64 "a trusted comment of two lines" isim-sign -k k -t "$(printf 'a\nb')" a.txt
expect 64 "--trust and --pub together" isim-verify file a.txt --trust trust --pub k.pub
expect 64 "isim-verify unknown command" isim-verify nope
expect 0 "isim-sign --help" isim-sign --help
contains "... lists keygen" "$T/out" "keygen"
expect 0 "isim-verify --version" isim-verify --version
contains "... prints the version" "$T/out" "isim-verify 0."

# ---- minisign, both ways ----------------------------------------------------------
if ! command -v minisign >/dev/null; then
	skip "minisign interop" "minisign is not installed"
	finish
	exit
fi
check "minisign -V accepts our signature with our public key" minisign -V -p k.pub -m a.txt -x a.txt.sig
same "... and shows our trusted comment" "Trusted comment: $(printf 'timestamp:1700000000\tfile:a.txt\thashed')" \
	"$(minisign -V -p k.pub -m a.txt -x a.txt.sig | sed -n 2p)"
check "minisign -V accepts a signature made with our encrypted key" minisign -V -p e.pub -m a.txt -x e.sig
if minisign -V -p k.pub -m changed.txt -x changed.txt.sig >/dev/null 2>&1; then
	not_ok "minisign -V refuses our signature on a changed file"
else
	ok "minisign -V refuses our signature on a changed file"
fi
if minisign -V -p e.pub -m a.txt -x a.txt.sig >/dev/null 2>&1; then
	not_ok "minisign -V refuses our signature with the wrong key"
else
	ok "minisign -V refuses our signature with the wrong key"
fi

minisign -G -W -p m.pub -s m.key >/dev/null 2>&1
# minisign 0.11 prints the key id without leading zeros; we print all 16.
mkid=$(head -n1 m.pub | sed 's/.* //')
while [ ${#mkid} -lt 16 ]; do mkid=0$mkid; done
cp a.txt m.txt
minisign -S -s m.key -m m.txt >/dev/null 2>&1
expect 0 "we verify minisign -S output (FILE.minisig found by itself)" isim-verify file m.txt --pub m.pub
same "... ok, with minisign's key id and trusted comment" "true m.txt.minisig $mkid" \
	"$(json '"\(.ok) \(.signature) \(.key_id)"')"
contains "... of minisign's form" "$T/out" 'file:m.txt\thashed'
cp m.txt.minisig changed.txt.minisig
expect 1 "we refuse minisign's signature on a changed file" isim-verify file changed.txt -x changed.txt.minisig --pub m.pub
expect 1 "we refuse minisign's signature with the wrong key" isim-verify file m.txt --pub k.pub

expect 0 "we sign with minisign's unencrypted secret key" isim-sign -k m.key -x ms.sig -t "same comment" a.txt
minisign -S -s m.key -m a.txt -x mm.sig -t "same comment" >/dev/null 2>&1
check "... byte for byte what minisign -S writes" cmp ms.sig mm.sig
check "... and minisign -V accepts it" minisign -V -p m.pub -m a.txt -x ms.sig

printf 'pw-two\npw-two\n' | minisign -G -p me.pub -s me.key >/dev/null 2>&1
printf 'pw-two\n' >pw2
expect 0 "we sign with minisign's encrypted secret key" isim-sign -k me.key --password-fd 3 -x me.sig a.txt 3<pw2
check "... minisign -V accepts it" minisign -V -p me.pub -m a.txt -x me.sig
printf 'pw-one\n' | minisign -S -s e -m b.txt -x eb.sig >/dev/null 2>&1
expect 0 "minisign signs with our encrypted secret key" isim-verify file b.txt -x eb.sig --pub e.pub
minisign -S -s k -m b.txt -x kb.sig >/dev/null 2>&1
expect 0 "minisign signs with our unencrypted secret key" isim-verify file b.txt -x kb.sig --pub k.pub

# What the tools print is UTF-8 whatever they read: a file name and a
# trusted comment that are not come out with U+FFFD for each bad sequence.
bad=$(printf 'bad\377name.txt')
printf 'odd name\n' >"$bad"
expect 0 "a file whose name is not UTF-8 is signed" isim-sign -k k -t "$(printf 'caf\303 \300\257')" "$bad"
check "... with a report that is UTF-8" iconv -f UTF-8 -t UTF-8 "$T/out"
expect 0 "... and verified" isim-verify file "$bad" --pub k.pub
check "... with a verdict that is UTF-8" iconv -f UTF-8 -t UTF-8 "$T/out"
same "... naming the file with U+FFFD" "$(printf 'bad\357\277\275name.txt')" "$(json .file)"
same "... and the comment" "$(printf 'caf\357\277\275 \357\277\275\357\277\275')" "$(json .trusted_comment)"
# Special files: inputs that are not regular files are refused at once
# (a FIFO with no writer would otherwise hang), and an output over a
# device node is refused, the node left as it was.
mkfifo fifo.key fifo.txt
expect 66 "a secret key on a FIFO is refused without waiting for a writer" \
	timeout 20 isim-sign -k fifo.key -x f.sig a.txt
contains "... and says what it is" "$T/err" "fifo.key: is a FIFO, not a secret key file"
expect 66 "a secret key on /dev/null is refused" isim-sign -k /dev/null -x f.sig a.txt
contains "... and says what it is" "$T/err" "/dev/null: is a character device, not a secret key file"
expect 66 "a file to sign on a FIFO is refused" timeout 20 isim-sign -k k -x f.sig fifo.txt
contains "... and says what it is" "$T/err" "fifo.txt: is a FIFO, not a regular file"
expect 66 "a file to verify on a FIFO is refused" timeout 20 isim-verify file fifo.txt -x a.txt.sig --pub k.pub
contains "... and says what it is" "$T/err" "fifo.txt: is a FIFO, not a regular file"
expect 0 "a file to sign on stdin still streams" sh -c 'cat a.txt | isim-sign -k k -x stdin.sig -'
if need_root; then
	mknod null.sig c 1 3
	expect 73 "a signature onto a device node is refused" isim-sign -k k -x null.sig a.txt
	contains "... and says why" "$T/err" "null.sig: is a character device, not a regular file; refusing to replace it"
	same "... the node is still a character device" "character special file 1,3" \
		"$(stat -c '%F %t,%T' null.sig)"
	same "... and no temporary file is left" 'null.sig.tmp.*' "$(echo null.sig.tmp.*)"
	rm -f null.sig
else
	skip "a signature onto a device node is refused" "mknod needs root"
fi
rm -f fifo.key fifo.txt f.sig stdin.sig

# The golden files: minisign accepts them, and we make them again.
cp "$V/golden.txt" "$V/golden.pub" .
cp "$V/golden.key" golden.key
chmod 600 golden.key
check "minisign -V accepts the golden signature" minisign -V -p golden.pub -m golden.txt -x "$V/golden.txt.sig"
expect 0 "isim-sign remakes it with SOURCE_DATE_EPOCH=1700000000" \
	env SOURCE_DATE_EPOCH=1700000000 isim-sign -k golden.key golden.txt
check "... byte for byte" cmp golden.txt.sig "$V/golden.txt.sig"
expect 78 "a malformed SOURCE_DATE_EPOCH is refused" env SOURCE_DATE_EPOCH=yesterday isim-sign -k golden.key golden.txt

finish
