#!/bin/sh
# isim-passkey login-verify for an ES256 credential, in one process, against
# the bare cost of its parts (SHA-256 of clientDataJSON, one OpenSSL ECDSA
# verify, one SQLite read and one write), medians in the same run: target
# within 3x. In-process means the relying party's pk_login_verify on a state
# opened once, as a server keeping its databases open runs it, just as the
# parts keep their connection: each call parses the JSON, runs the ceremony
# in one transaction of passkey.db (sweep, challenge taken, credential read,
# counter and session written, ceremony recorded), appends it durably to the
# audit log and formats the reply. Then 1,000 login-verify calls through the
# CLI, each answering a fresh challenge: the per-process cost a CGI request
# pays, which adds exec, the libraries' start, opening both databases and
# checkpointing their WAL at close.
#
# Here (2 cores, virtio disk): in-process about 2.2x its parts (0.6 ms of
# 0.28 ms); the CLI 3-7 ms a call. Earlier, when the in-process figure
# called the whole CLI main (opening and closing both databases each call),
# it was 8-10x.
set -eu
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
N=${BENCH_LOGINS:-200}
CALLS=${BENCH_CALLS:-1000}
PY=/usr/bin/python3
AUTH=$ISIM_ROOT/tests/integration/passkey-authenticator.py
W=$B/passkey
rm -rf "$W"
mkdir -p "$W/state" "$W/in" "$W/cli"
export ISIM_STATE_DIR="$W/state" WEBAUTHN_RP_ID=localhost WEBAUTHN_RP_ORIGIN=http://localhost:8080
P=$ISIM_BIN/isim-passkey

objs=""
for o in build/release/cmd/isim-passkey/*.o build/release/cmd/common/*.o; do
	case $o in */main.o) ;; *) objs="$objs $o" ;; esac
done
# shellcheck disable=SC2046,SC2086 # word lists: the flags, the objects
cc -O2 -std=c11 -D_GNU_SOURCE -Ilib -Icmd $(pkg-config --cflags libcjson libsodium) -o "$W/passkey_parts" \
	tests/bench/passkey_parts.c $objs build/release/libisim.a \
	$(pkg-config --libs libcjson yaml-0.1 libpcre2-8 libcrypto libsodium libarchive sqlite3 libmnl libcbor) -lm

"$P" register-options --user bench | $PY "$AUTH" create "$W/keys.json" http://localhost:8080 --alg -7 >"$W/reg.json"
"$P" register-verify <"$W/reg.json" >/dev/null
key=$(jq -r '.response.attestationObject' "$W/reg.json" | $PY -c '
import base64, sys, cbor2, io
s = sys.stdin.read().strip()
ad = cbor2.loads(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))["authData"]
n = int.from_bytes(ad[53:55], "big")
d = cbor2.CBORDecoder(io.BytesIO(ad[55 + n:])); d.decode()
print(base64.urlsafe_b64encode(ad[55 + n:55 + n + d.fp.tell()]).rstrip(b"=").decode())')

# answers COUNT DIR: COUNT fresh challenges answered, DIR/1.json ...
answers() {
	i=0
	while [ "$i" -lt "$1" ]; do
		"$P" login-options --user bench
		i=$((i + 1))
	done | $PY "$AUTH" get "$W/keys.json" http://localhost:8080 --lines |
		awk -v d="$2" '{ f = d "/" NR ".json"; print > f; close(f) }'
}

answers "$N" "$W/in"
# shellcheck disable=SC2046 # one argument a file
login_us=$("$W/passkey_parts" login $(seq -f "$W/in/%g.json" 1 "$N"))
parts_us=$("$W/passkey_parts" parts "$N" "$W/state/passkey.db" "$W/in/1.json" "$key")

answers "$CALLS" "$W/cli"
t0=$(date +%s%N)
i=1
while [ "$i" -le "$CALLS" ]; do
	"$P" login-verify <"$W/cli/$i.json" >/dev/null
	i=$((i + 1))
done
t1=$(date +%s%N)
cli_ms=$(awk -v a="$t0" -v b="$t1" -v n="$CALLS" 'BEGIN { printf "%.2f", (b - a) / 1e6 / n }')

echo "login-verify, ES256, $N runs      median us   ratio (target <= 3.00)"
printf 'in-process login-verify   %12.1f %8s\n' "$login_us" "$(ratio "$login_us" "$parts_us")"
printf 'its parts (hash, verify, read, write) %.1f\n' "$parts_us"
printf '%d login-verify calls via the CLI: %s ms each\n' "$CALLS" "$cli_ms"
