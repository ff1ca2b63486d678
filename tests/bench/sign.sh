#!/bin/sh
# isim-sign and isim-verify on a 1 GiB file against minisign -S and
# minisign -V on the same file with keys of the same kind (no password), in
# the same run: the file is hashed once, streaming, by both (BLAKE2b-512,
# minisign's prehash). Target: no slower than minisign, ratio <= 1.00.
set -eu
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
RUNS=${BENCH_RUNS:-7}
S=$ISIM_BIN/isim-sign
V=$ISIM_BIN/isim-verify

if ! command -v minisign >/dev/null; then
	echo "bench: minisign is not installed (scripts/install-deps.sh)" >&2
	exit 1
fi
big=$B/big.bin
if [ "$(stat -c %s "$big" 2>/dev/null || echo 0)" -ne 1073741824 ]; then
	head -c 1073741824 /dev/urandom >"$big"
fi
rm -f "$B/isim.key" "$B/isim.key.pub" "$B/minisign.key" "$B/minisign.pub"
"$S" keygen -W -o "$B/isim.key" >/dev/null
minisign -G -W -p "$B/minisign.pub" -s "$B/minisign.key" >/dev/null
"$S" -k "$B/isim.key" -x "$B/isim.sig" "$big" >/dev/null
minisign -S -s "$B/minisign.key" -m "$big" -x "$B/minisign.sig" >/dev/null

# CPU time (user + system, mean) of the runs median_ms NAME timed: on a
# machine shared with other work it shows what wall time may hide.
cpu_ms() { jq '(.results[0].user + .results[0].system) * 1000' "$B/$1.json"; }

# Warm runs: the file is in the page cache, so the hash is what is timed.
is=$(median_ms sign-isim "$S" -k "$B/isim.key" -x "$B/isim.sig" "$big")
ms=$(median_ms sign-minisign minisign -S -s "$B/minisign.key" -m "$big" -x "$B/minisign.sig")
iv=$(median_ms verify-isim "$V" file -x "$B/isim.sig" --pub "$B/isim.key.pub" "$big")
mv=$(median_ms verify-minisign minisign -V -q -p "$B/minisign.pub" -m "$big" -x "$B/minisign.sig")

echo "1 GiB file, $RUNS runs     isim ms  minisign ms   ratio (target <= 1.00)"
printf 'sign, wall median %10.1f %12.1f %7s\n' "$is" "$ms" "$(ratio "$is" "$ms")"
printf 'sign, CPU mean    %10.1f %12.1f %7s\n' "$(cpu_ms sign-isim)" "$(cpu_ms sign-minisign)" \
	"$(ratio "$(cpu_ms sign-isim)" "$(cpu_ms sign-minisign)")"
printf 'verify, wall median %8.1f %12.1f %7s\n' "$iv" "$mv" "$(ratio "$iv" "$mv")"
printf 'verify, CPU mean  %10.1f %12.1f %7s\n' "$(cpu_ms verify-isim)" "$(cpu_ms verify-minisign)" \
	"$(ratio "$(cpu_ms verify-isim)" "$(cpu_ms verify-minisign)")"
rm -f "$B"/isim.key* "$B"/minisign.* "$B"/isim.sig
