#!/bin/sh
# isim-memdump against real QEMU (TCG) with firmware-only guests (no disk,
# so QEMU is up in a second): ELF and kdump-zlib dumps of 512 MiB and 2 GiB
# guests, hashed in flight, that readelf accepts and whose SHA-256 is
# sha256sum's; the signed record and the audit log; a VM named in
# isim-vm's state (its uuid, its image's digest and provenance); verify
# and each tampering it must catch; faults (QEMU killed mid-dump, a full
# disk, an output that exists, a dead QMP socket, SIGINT), each with its
# message, exit code, no partial file and an audit entry; bad inputs.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

for x in jq isim-memdump isim-sign isim-vm qemu-img qemu-system-x86_64 readelf sha256sum socat timeout; do
	if ! command -v "$x" >/dev/null 2>&1; then
		echo "1..0 # SKIP $x is not installed"
		exit 0
	fi
done
S=$T/s
export ISIM_STATE_DIR="$S"
unset ISIM_SIGN_KEY ISIM_TRUST_DIR ISIM_OPERATOR
mounted=""
cleanup() {
	for f in "$T"/*.pid; do
		[ -s "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null
	done
	for q in $(isim-vm list 2>/dev/null | jq -r '.[].pid // empty' 2>/dev/null); do
		kill -9 "$q" 2>/dev/null
	done
	[ -n "$mounted" ] && umount "$mounted" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
md() { timeout 300 isim-memdump "$@"; }
field() { jq -r "$1" "$T/out"; }
# qemu NAME MIB: a firmware-only guest with its QMP socket at $T/NAME.sock.
qemu() {
	rm -f "$T/$1.sock"
	qemu-system-x86_64 -machine q35,accel=tcg -m "$2" -nodefaults -vga none -display none \
		-qmp "unix:$T/$1.sock,server=on,wait=off" -daemonize -pidfile "$T/$1.pid"
}
stop_qemu() { kill -9 "$(cat "$T/$1.pid")" 2>/dev/null && rm -f "$T/$1.pid"; }
# qmp_status NAME: the guest's status, through a QMP client of its own.
qmp_status() {
	printf '%s\n' '{"execute":"qmp_capabilities"}' '{"execute":"query-status"}' |
		socat -t 2 - "UNIX-CONNECT:$T/$1.sock" | sed -n 's/.*"status": *"\([a-z-]*\)".*/\1/p'
}
# The audit log, as isim-memdump log shows it: how many entries of a kind,
# and the newest one's kind and record (one line, its members sorted).
audit_count() { isim-memdump log list --kind "$1" | jq length; }
audit_last() { isim-memdump log show "$(isim-memdump log list | jq '.[-1].seq')" | jq -cS '"\(.kind) \(.record | tojson)"' -r; }
# nothing_in DIR: no file at all (no dump, record or temporary file).
nothing_in() { [ -z "$(ls -A "$1")" ]; }
# failed_attempt DESC CODE KIND TEXT: the newest audit entry is KIND with
# TEXT in its reason and exit CODE.
failed_attempt() {
	fa_last=$(audit_last)
	case $fa_last in
	"$3 {"*'"exit":'"$2,"*) ;;
	*) fa_last="! $fa_last" ;;
	esac
	case $fa_last in
	"$3 "*"$4"*) ok "$1" ;;
	*) not_ok "$1" "newest audit entry: $fa_last" ;;
	esac
}

kid=$(isim-sign keygen -W -o "$T/op.key" | jq -r .key_id)
isim-sign keygen -W -o "$T/other.key" >/dev/null
mkdir -p "$T/d"

# ---- a 512 MiB guest: ELF ------------------------------------------------------
qemu g1 512
expect 0 "dump a 512 MiB guest by its QMP socket" md --qmp "$T/g1.sock" -o "$T/d/g1.elf" -k "$T/op.key" --operator alice --dsse
r=$T/d/g1.elf.record.json
check "... readelf accepts the ELF dump" readelf -h -l "$T/d/g1.elf"
same "... an ELF64 core" "ELF64 CORE" "$(readelf -h "$T/d/g1.elf" | awk '/Class:/ { c = $2 } /Type:/ { t = $2 } END { print c, t }')"
same "... the record's SHA-256 is sha256sum's" "$(sha256sum <"$T/d/g1.elf" | cut -d' ' -f1)" "$(jq -r .dump.sha256 "$r")"
same "... and its size the file's" "$(stat -c %s "$T/d/g1.elf")" "$(jq -r .dump.size "$r")"
same "... the printed record is the file's" "$(jq -cS .record "$T/out")" "$(jq -cS . "$r")"
same "... hashed in flight, paused, from a running guest" "in-flight true running false" \
	"$(jq -r '"\(.dump.hashed) \(.dump.paused) \(.dump.status_before) \(.dump.flattened)"' "$r")"
same "... QEMU, machine, memory" "7 pc-q35 536870912" \
	"$(jq -r '"\(.vm.qemu_version | split(".")[0]) \(.vm.machine | sub("-[0-9.]*$"; "")) \(.vm.memory_bytes)"' "$r")"
same "... the QMP arguments used" '{"detach":true,"format":"elf","paging":false,"protocol":"fd:isim-memdump"}' \
	"$(jq -cS .qmp.arguments "$r")"
same "... the operator and their key" "alice $kid $kid" "$(jq -r '"\(.operator.name) \(.operator.key_id) \(.attestation.key_id)"' "$r")"
check "... start and end times in RFC 3339, in order" \
	jq -e '(.started_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\.[0-9]{3}Z$")) and .started_at <= .ended_at' "$r"
same "... the host" "$(hostname)" "$(jq -r .host "$r")"
same "... the dump's file by its absolute path" "$T/d/g1.elf" "$(jq -r .dump.file "$r")"
same "... the guest runs again after the dump" "running" "$(qmp_status g1)"
same "... the audit log has it, kind memdump" "1" "$(audit_count memdump)"
same "... the audit entry is the record" "$(field .record_sha256)" \
	"$(isim-memdump log show "$(field .audit_seq)" | jq -r .record_sha256)"
same "... its record the record, in its RFC 8785 form" "$(jq -cS . "$r")" \
	"$(isim-memdump log show "$(field .audit_seq)" | jq -cS .record)"
same "... a DSSE envelope of the record" "application/vnd.infrasim.memdump-record+json $kid" \
	"$(jq -r '"\(.payloadType) \(.signatures[0].keyid)"' "$T/d/g1.elf.record.dsse.json")"
check "... its payload the record without its attestation" test \
	"$(jq -r .payload "$T/d/g1.elf.record.dsse.json" | base64 -d | jq -cS .)" = "$(jq -cS 'del(.attestation)' "$r")"
check "... isim-verify dsse accepts the envelope" isim-verify dsse --pub "$T/op.key.pub" "$T/d/g1.elf.record.dsse.json"
same "... the dump is mode 0400, the record 0644" "400 644" "$(stat -c %a "$T/d/g1.elf") $(stat -c %a "$r")"

expect 0 "verify the dump" md verify "$T/d/g1.elf" --pub "$T/op.key.pub"
same "... ok, with the signer and the audit entry" "true $kid 1" "$(field '"\(.ok) \(.key_id) \(.audit_seq)"')"

# ---- kdump-zlib -------------------------------------------------------------------
expect 0 "a kdump-zlib dump" md --qmp "$T/g1.sock" -o "$T/d/g1.kdump" -k "$T/op.key" --format kdump-zlib
same "... makedumpfile's flattened format, hashed in flight" "kdump-zlib true in-flight" \
	"$(jq -r '"\(.dump.format) \(.dump.flattened) \(.dump.hashed)"' "$T/d/g1.kdump.record.json")"
same "... its signature" "makedumpfile" "$(head -c 12 "$T/d/g1.kdump")"
same "... SHA-256 as sha256sum" "$(sha256sum <"$T/d/g1.kdump" | cut -d' ' -f1)" "$(jq -r .dump.sha256 "$T/d/g1.kdump.record.json")"
expect 0 "... verified" md verify "$T/d/g1.kdump" --pub "$T/op.key.pub"

# ---- a paused guest stays paused ------------------------------------------------
printf '%s\n' '{"execute":"qmp_capabilities"}' '{"execute":"stop"}' | socat -t 1 - "UNIX-CONNECT:$T/g1.sock" >/dev/null
expect 0 "dump a paused guest" md --qmp "$T/g1.sock" -o "$T/d/p.elf" -k "$T/op.key"
same "... recorded as paused before" "paused true" "$(jq -r '"\(.dump.status_before) \(.dump.paused)"' "$T/d/p.elf.record.json")"
same "... and still paused after" "paused" "$(qmp_status g1)"
printf '%s\n' '{"execute":"qmp_capabilities"}' '{"execute":"cont"}' | socat -t 1 - "UNIX-CONNECT:$T/g1.sock" >/dev/null

# ---- tampering -------------------------------------------------------------------
cp "$T/d/g1.elf" "$T/t.elf" && chmod 600 "$T/t.elf" && cp "$r" "$T/t.elf.record.json"
printf 'X' | dd of="$T/t.elf" bs=1 seek=1000000 conv=notrunc 2>/dev/null
expect 1 "verify: a changed byte in the dump" md verify "$T/t.elf" --pub "$T/op.key.pub"
contains "... the reason: its SHA-256" "$T/err" "/dump/sha256: the dump's SHA-256 is"
same "... a verdict on stdout" "false" "$(field .ok)"
head -c 1000 "$T/d/g1.elf" >"$T/short.elf" && cp "$r" "$T/short.elf.record.json"
expect 1 "verify: a truncated dump" md verify "$T/short.elf" --pub "$T/op.key.pub"
contains "... the reason: its size" "$T/err" "/dump/size: the dump has 1000 bytes"
jq '.operator.name = "mallory"' "$r" >"$T/t2.json"
expect 1 "verify: a changed record" md verify "$T/d/g1.elf" --record "$T/t2.json" --pub "$T/op.key.pub"
contains "... the reason: the signature" "$T/err" "/attestation/signature: signature by $kid does not verify"
jq '.dump.sha256 = "'"$(printf %064d 0)"'"' "$r" >"$T/t3.json"
expect 1 "verify: a record naming another digest" md verify "$T/d/g1.elf" --record "$T/t3.json" --pub "$T/op.key.pub"
contains "... the signature fails first" "$T/err" "does not verify"
expect 0 "a dump signed by another key" md --qmp "$T/g1.sock" -o "$T/d/o.elf" -k "$T/other.key"
mkdir -p "$T/trust" && cp "$T/op.key.pub" "$T/trust/"
expect 1 "verify: a record signed by an untrusted key" md verify "$T/d/o.elf" --trust "$T/trust"
contains "... the reason: not a trusted signer" "$T/err" "is not a trusted signer"
expect 1 "... or not the one --pub gives" md verify "$T/d/o.elf" --pub "$T/op.key.pub"
contains "... the reason" "$T/err" "/attestation/key_id: signed by key"
expect 0 "... the operator's own verifies through the folder" md verify "$T/d/g1.elf" --trust "$T/trust"
expect 0 "... trusted with both keys given" md verify "$T/d/o.elf" --pub "$T/op.key.pub" --pub "$T/other.key.pub"
jq --arg k "$kid" '.operator.key_id = $k' "$T/d/o.elf.record.json" >"$T/t4.json"
expect 1 "verify: a record whose operator is not its signer" md verify "$T/d/o.elf" --record "$T/t4.json" --pub "$T/op.key.pub" --pub "$T/other.key.pub"
contains "... the reason" "$T/err" "/operator/key_id: the operator's key id"
ISIM_STATE_DIR=$T/s2 md --qmp "$T/g1.sock" -o "$T/d/s2.elf" -k "$T/op.key" >/dev/null 2>&1
expect 1 "verify: a record logged in another state only" md verify "$T/d/s2.elf" --pub "$T/op.key.pub"
contains "... the reason" "$T/err" "is not in the audit log"
expect 0 "... --no-audit checks the dump and signature alone" md verify "$T/d/s2.elf" --pub "$T/op.key.pub" --no-audit

# ---- a VM of isim-vm's state ----------------------------------------------------
qemu-img create -q -f qcow2 "$T/blank.qcow2" 64M
img_sha=$(sha256sum <"$T/blank.qcow2" | cut -d' ' -f1)
cat >"$T/blank.provenance.json" <<EOF
{"_type": "https://in-toto.io/Statement/v1",
 "subject": [{"name": "blank.qcow2", "digest": {"sha256": "$img_sha"}}],
 "predicateType": "https://slsa.dev/provenance/v1",
 "predicate": {"buildDefinition": {"buildType": "https://infrasim.invalid/test", "externalParameters": {}},
               "runDetails": {"builder": {"id": "https://infrasim.invalid/test"}}}}
EOF
timeout 60 isim-vm create x1 --image "$T/blank.qcow2" --net none --memory 256 >/dev/null
timeout 60 isim-vm create x2 --image "$T/blank.qcow2" --net none --memory 256 >/dev/null
timeout 60 isim-vm start x1 >/dev/null
expect 0 "dump a VM by its name in isim-vm's state" md x1 -o "$T/d/x1.elf" -k "$T/op.key"
rx=$T/d/x1.elf.record.json
same "... its name and uuid" "x1 $(timeout 60 isim-vm show x1 | jq -r .uuid)" "$(jq -r '"\(.vm.name) \(.vm.uuid)"' "$rx")"
same "... its image and the image's digest" "$T/blank.qcow2 $img_sha" "$(jq -r '"\(.vm.image) \(.vm.image_sha256)"' "$rx")"
same "... the provenance beside the image" "$(sha256sum <"$T/blank.provenance.json" | cut -d' ' -f1)" "$(jq -r .vm.provenance_sha256 "$rx")"
same "... its memory" "268435456" "$(jq -r .vm.memory_bytes "$rx")"
same "... its QMP socket" "$S/vms/x1/qmp.sock" "$(jq -r .qmp.socket "$rx")"
same "... the operator defaults to the login name" "$(id -un)" "$(jq -r .operator.name "$rx")"
check "... readelf accepts it" readelf -h -l "$T/d/x1.elf"
expect 0 "... verified" md verify "$T/d/x1.elf" --pub "$T/op.key.pub"
expect 0 "the dump command by name" md dump x1 -o "$T/d/x1b.elf" -k "$T/op.key" --operator "bob the operator"
same "... the same memory, the same digest (a firmware guest idles)" "bob the operator" "$(jq -r .operator.name "$T/d/x1b.elf.record.json")"
echo '{}' >"$T/blank.provenance.json"
expect 0 "a provenance that is not the image's is left out" md x1 -o "$T/d/x1c.elf" -k "$T/op.key"
same "... provenance_sha256 null" "null" "$(jq -r .vm.provenance_sha256 "$T/d/x1c.elf.record.json")"
contains "... with a note" "$T/err" "is not recorded"
expect 69 "a stopped VM is refused" md x2 -o "$T/d/x2.elf" -k "$T/op.key"
contains "... saying so" "$T/err" "VM 'x2' is not running (isim-vm start x2)"
failed_attempt "... logged as a failed attempt" 69 "memdump failed" "is not running"
expect 66 "no such VM" md nosuch -o "$T/d/n.elf" -k "$T/op.key"
contains "... saying so" "$T/err" "no VM 'nosuch'"
check "... and no lock file left for it" test ! -e "$S/vms/nosuch.lock"
timeout 60 isim-vm kill x1 >/dev/null

# ---- 2 GiB -------------------------------------------------------------------------
qemu g2 2048
expect 0 "dump a 2 GiB guest" md --qmp "$T/g2.sock" -o "$T/d/g2.elf" -k "$T/op.key"
check "... readelf accepts it" readelf -h -l "$T/d/g2.elf"
same "... its LOAD of RAM is 2 GiB" "$((2 << 30))" "$(($(readelf -l -W "$T/d/g2.elf" | awk '$1 == "LOAD" { print $5; exit }')))"
same "... the record's SHA-256 is sha256sum's" "$(sha256sum <"$T/d/g2.elf" | cut -d' ' -f1)" "$(jq -r .dump.sha256 "$T/d/g2.elf.record.json")"
expect 0 "... verified" md verify "$T/d/g2.elf" --pub "$T/op.key.pub"
rm -f "$T"/d/g2.elf*

# ---- faults ------------------------------------------------------------------------
mkdir -p "$T/f"
# SIGINT: cancelled, nothing kept, the guest runs on.
isim-memdump --qmp "$T/g2.sock" -o "$T/f/c.elf" -k "$T/op.key" >"$T/out" 2>"$T/err" &
p=$!
until [ -n "$(find "$T/f" -name '*c.elf*' -size +20M 2>/dev/null)" ] || ! kill -0 $p 2>/dev/null; do sleep 0.05; done
kill -INT $p
wait $p
same "SIGINT cancels the dump: exit 130" 130 $?
contains "... saying so" "$T/err" "cancelled (signal 2)"
check "... no partial dump" nothing_in "$T/f"
failed_attempt "... logged as cancelled" 130 "memdump cancelled" "no dump was kept"
same "... the guest runs again" "running" "$(qmp_status g2)"

# QEMU killed mid-dump.
isim-memdump --qmp "$T/g2.sock" -o "$T/f/k.elf" -k "$T/op.key" >"$T/out" 2>"$T/err" &
p=$!
until [ -n "$(find "$T/f" -name '*k.elf*' -size +20M 2>/dev/null)" ] || ! kill -0 $p 2>/dev/null; do sleep 0.05; done
stop_qemu g2
wait $p
same "the VM killed mid-dump: exit 69" 69 $?
contains "... saying so" "$T/err" "QEMU ended during the dump"
check "... no partial dump" nothing_in "$T/f"
failed_attempt "... logged as failed" 69 "memdump failed" "QEMU ended during the dump"

# A QMP socket nobody listens on (its QEMU dead).
expect 69 "a dead QEMU's QMP socket" md --qmp "$T/g2.sock" -o "$T/f/dead.elf" -k "$T/op.key"
contains "... saying so" "$T/err" "cannot connect to QMP"
check "... no file" nothing_in "$T/f"
failed_attempt "... logged as failed" 69 "memdump failed" "cannot connect to QMP"

# The output exists.
echo old >"$T/f/e.elf"
expect 73 "an output that exists" md --qmp "$T/g1.sock" -o "$T/f/e.elf" -k "$T/op.key"
contains "... saying so" "$T/err" "already exists (--force replaces it)"
same "... left as it was, no other file" "old e.elf" "$(cat "$T/f/e.elf") $(ls -A "$T/f")"
failed_attempt "... logged as failed" 73 "memdump failed" "already exists"
expect 0 "... replaced with --force" md --qmp "$T/g1.sock" -o "$T/f/e.elf" -k "$T/op.key" --force
check "... by a dump" readelf -h "$T/f/e.elf"
rm -f "$T"/f/*

# A full disk.
if need_root; then
	mkdir -p "$T/full"
	if mount -t tmpfs -o size=64m tmpfs "$T/full"; then
		mounted=$T/full
		expect 74 "a disk that fills up" md --qmp "$T/g1.sock" -o "$T/full/big.elf" -k "$T/op.key"
		contains "... saying so" "$T/err" "No space left on device"
		check "... no partial dump" nothing_in "$T/full"
		failed_attempt "... logged as failed" 74 "memdump failed" "No space left on device"
		same "... the guest runs again" "running" "$(qmp_status g1)"
		umount "$T/full" && mounted=""
	else
		skip "a disk that fills up" "cannot mount a tmpfs"
	fi
else
	skip "a disk that fills up" "needs root (a tmpfs)"
fi

# Where the file system takes O_DIRECT (ext4), the dump is written from the
# buffers straight to the disk, the last part block buffered; a tmpfs does
# not take it, and the dump is written through the page cache. Both give
# the bytes QEMU sent, and a full ext4 fails as a full tmpfs does.
if need_root && command -v mkfs.ext4 >/dev/null 2>&1; then
	mkdir -p "$T/ram" "$T/ext4"
	if mount -t tmpfs -o size=768m tmpfs "$T/ram"; then
		mounted=$T/ram
		expect 0 "a dump into a tmpfs (no O_DIRECT there)" md --qmp "$T/g1.sock" -o "$T/ram/g1.elf" -k "$T/op.key"
		same "... the record's SHA-256 is sha256sum's" "$(sha256sum <"$T/ram/g1.elf" | cut -d' ' -f1)" \
			"$(jq -r .dump.sha256 "$T/ram/g1.elf.record.json")"
		sz=$(stat -c %s "$T/ram/g1.elf")
		same "... as long as the dump written with O_DIRECT" "$(stat -c %s "$T/d/g1.elf")" "$sz"
		check "... both valid ELF with the same layout" \
			test "$(readelf -l -W "$T/ram/g1.elf" | grep LOAD)" = "$(readelf -l -W "$T/d/g1.elf" | grep LOAD)"
		check "... which ends in a part block (so the tail went buffered)" test $((sz % 4096)) -ne 0
		umount "$T/ram" && mounted=""
	else
		skip "a dump into a tmpfs" "cannot mount a tmpfs"
	fi
	truncate -s 64m "$T/ext4.img" && mkfs.ext4 -q -F "$T/ext4.img" >/dev/null 2>&1
	if mount -o loop "$T/ext4.img" "$T/ext4" 2>/dev/null; then
		mounted=$T/ext4
		rmdir "$T/ext4/lost+found"
		expect 74 "an ext4 that fills up (O_DIRECT writes)" md --qmp "$T/g1.sock" -o "$T/ext4/big.elf" -k "$T/op.key"
		contains "... saying so" "$T/err" "No space left on device"
		check "... no partial dump" nothing_in "$T/ext4"
		same "... the guest runs again" "running" "$(qmp_status g1)"
		umount "$T/ext4" && mounted=""
	else
		skip "an ext4 that fills up" "cannot mount a loop device"
	fi
	rm -f "$T/ext4.img"
else
	skip "O_DIRECT and buffered dumps" "needs root and mkfs.ext4"
fi

# Formats QEMU does not offer, or that fail on this guest.
expect 69 "--format kdump-lzo: not offered by this QEMU" md --qmp "$T/g1.sock" -o "$T/f/l" -k "$T/op.key" --format kdump-lzo
contains "... saying what it offers" "$T/err" "does not offer 'kdump-lzo' (it offers: elf, kdump-zlib"
expect 69 "--format kdump-snappy" md --qmp "$T/g1.sock" -o "$T/f/s" -k "$T/op.key" --format kdump-snappy
expect 69 "--format win-dmp on a guest that is not Windows" md --qmp "$T/g1.sock" -o "$T/f/w" -k "$T/op.key" --format win-dmp
contains "... QEMU's reason" "$T/err" "QEMU failed the dump: win-dump"
check "... no file" nothing_in "$T/f"
failed_attempt "... logged as failed" 69 "memdump failed" "win-dump"
expect 69 "--live is refused" md --qmp "$T/g1.sock" -o "$T/f/live" -k "$T/op.key" --live
contains "... saying why" "$T/err" "stops the guest's CPUs for every dump"

# ---- bad inputs ---------------------------------------------------------------------
bad() { # CODE DESC TEXT ARGS...
	b_code=$1 b_desc=$2 b_text=$3
	shift 3
	expect "$b_code" "bad input: $b_desc" md "$@"
	if [ -n "$b_text" ]; then
		contains "... $b_text" "$T/err" "$b_text"
	fi
}
chmod 644 "$T/other.key"
echo "not a key" >"$T/junk.key" && chmod 600 "$T/junk.key"
n_before=$(audit_count "memdump failed")
bad 64 "no arguments" "no VM given"
bad 64 "no output" "no output: give -o DUMP" --qmp "$T/g1.sock" -k "$T/op.key"
bad 64 "no key" "no secret key" --qmp "$T/g1.sock" -o "$T/f/x"
bad 64 "a VM and --qmp" "not both" x1 --qmp "$T/g1.sock" -o "$T/f/x" -k "$T/op.key"
bad 64 "a VM name with capitals" "is not a VM name" Bad_Name -o "$T/f/x" -k "$T/op.key"
bad 64 "two VMs" "one VM at most" x1 x2 -o "$T/f/x" -k "$T/op.key"
bad 64 "an unknown format" "--format: 'raw'" --qmp "$T/g1.sock" -o "$T/f/x" -k "$T/op.key" --format raw
bad 64 "--format twice" "--format given twice" --qmp "$T/g1.sock" -o "$T/f/x" -k "$T/op.key" --format elf --format elf
bad 64 "-o twice" "--output given twice" --qmp "$T/g1.sock" -o "$T/f/x" -o "$T/f/y" -k "$T/op.key"
bad 64 "an unknown option" "" --qmp "$T/g1.sock" -o "$T/f/x" -k "$T/op.key" --bogus
bad 64 "an operator with a control character" "--operator" --qmp "$T/g1.sock" -o "$T/f/x" -k "$T/op.key" --operator "$(printf 'a\tb')"
bad 64 "an operator of 300 characters" "--operator" --qmp "$T/g1.sock" -o "$T/f/x" -k "$T/op.key" --operator "$(head -c 300 /dev/zero | tr '\0' a)"
bad 64 "an output that is a folder name" "--output" --qmp "$T/g1.sock" -o "$T/f/" -k "$T/op.key"
bad 64 "an empty --qmp" "--qmp: empty path" --qmp "" -o "$T/f/x" -k "$T/op.key"
bad 64 "--password-fd that is no number" "" --qmp "$T/g1.sock" -o "$T/f/x" -k "$T/op.key" --password-fd x
same "... usage errors are not logged (nothing was attempted)" "$n_before" "$(audit_count "memdump failed")"
bad 66 "a key file that does not exist" "" --qmp "$T/g1.sock" -o "$T/f/x" -k "$T/nokey"
bad 77 "a key others may read" "" --qmp "$T/g1.sock" -o "$T/f/x" -k "$T/other.key"
bad 65 "a key file that is no key" "" --qmp "$T/g1.sock" -o "$T/f/x" -k "$T/junk.key"
bad 69 "a --qmp path that does not exist" "cannot connect to QMP" --qmp "$T/nosock" -o "$T/f/x" -k "$T/op.key"
bad 69 "a --qmp path that is a regular file" "cannot connect to QMP" --qmp "$T/junk.key" -o "$T/f/x" -k "$T/op.key"
bad 73 "an output in a folder that does not exist" "" --qmp "$T/g1.sock" -o "$T/nodir/x" -k "$T/op.key"
check "... no file left by any of them" nothing_in "$T/f"
same "... the attempts past the options are logged" "$((n_before + 6))" "$(audit_count "memdump failed")"
bad 64 "verify: no dump" "expected one DUMP" verify --pub "$T/op.key.pub"
bad 64 "verify: two dumps" "expected one DUMP" verify a b --pub "$T/op.key.pub"
bad 64 "verify: --pub and --trust" "not both" verify "$T/d/g1.elf" --pub "$T/op.key.pub" --trust "$T"
bad 64 "verify: an empty --record" "--record: empty" verify "$T/d/g1.elf" --record "" --pub "$T/op.key.pub"
bad 64 "verify: an unknown option" "" verify "$T/d/g1.elf" --bogus
bad 66 "verify: a dump that does not exist" "cannot read the dump" verify "$T/d/none.elf" --record "$r" --pub "$T/op.key.pub"
bad 66 "verify: no record beside the dump" "" verify "$T/f/none.elf" --pub "$T/op.key.pub"
bad 66 "verify: a --pub that does not exist" "" verify "$T/d/g1.elf" --pub "$T/none.pub"
bad 66 "verify: a dump that is a folder" "not a regular file" verify "$T/d" --record "$r" --pub "$T/op.key.pub"
bad 66 "verify: a record that is a folder" "" verify "$T/d/g1.elf" --record "$T/d" --pub "$T/op.key.pub"
echo '{"type": ' >"$T/bad1.json"
bad 65 "verify: a record that is not JSON" "" verify "$T/d/g1.elf" --record "$T/bad1.json" --pub "$T/op.key.pub"
jq '.extra = 1' "$r" >"$T/bad2.json"
bad 65 "verify: a record with a member the schema does not have" "" verify "$T/d/g1.elf" --record "$T/bad2.json" --pub "$T/op.key.pub"
jq '.dump.sha256 = "ABC"' "$r" >"$T/bad3.json"
bad 65 "verify: a record with a malformed digest" "/dump/sha256" verify "$T/d/g1.elf" --record "$T/bad3.json" --pub "$T/op.key.pub"
jq 'del(.operator)' "$r" >"$T/bad4.json"
bad 65 "verify: a record without its operator" "" verify "$T/d/g1.elf" --record "$T/bad4.json" --pub "$T/op.key.pub"
printf '{"a":1,"a":2}' >"$T/bad5.json"
bad 65 "verify: a record with a duplicate member" "" verify "$T/d/g1.elf" --record "$T/bad5.json" --pub "$T/op.key.pub"
jq 'del(.attestation)' "$r" >"$T/bad6.json"
bad 1 "verify: an unsigned record" "the record is not signed" verify "$T/d/g1.elf" --record "$T/bad6.json" --pub "$T/op.key.pub"

expect 0 "the audit log's chain verifies after all of it" md log verify
same "... every attempt in it, and isim-vm's operations" \
	"$(($(audit_count memdump) + $(audit_count "memdump failed") + $(audit_count "memdump cancelled") + $(audit_count vm)))" \
	"$(field .entries)"
check "... isim-vm's create and start among them" sh -c \
	"isim-memdump log export | jq -e -s '[.[] | select(.kind == \"vm\") | .record | fromjson? // . | .op] | index(\"create\") and index(\"start\")' >/dev/null"

stop_qemu g1
finish
