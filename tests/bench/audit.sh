#!/bin/sh
# The audit log (tests/bench/audit_bench.c, timed in-process, medians):
# - 10,000 appends, each durable (WAL, synchronous=FULL, its own
#   transaction), against bare INSERTs of rows of the same shape with the
#   same pragmas: what canonical JSON and the hash chain add;
# - verifying logs of 10,000 and 100,000 entries against reading their
#   rows, and the cost per entry at both sizes: their ratio near 1.00 says
#   verification grows linearly.
set -eu
# shellcheck source=tests/bench/lib.sh
. "$(dirname "$0")/lib.sh"
RUNS=${BENCH_RUNS:-5}
APPENDS=${BENCH_APPENDS:-10000}
cd "$ISIM_ROOT"
W=$B/audit
rm -rf "$W"
mkdir -p "$W"
# shellcheck disable=SC2046 # pkg-config prints several words
cc -O2 -std=c11 -D_GNU_SOURCE -Ilib $(pkg-config --cflags libcjson sqlite3) -o "$B/audit_bench" \
	tests/bench/audit_bench.c build/release/libisim.a \
	$(pkg-config --libs libcjson yaml-0.1 libpcre2-8 libcrypto libsodium libarchive sqlite3 libmnl) -lm

aruns=$((RUNS < 3 ? RUNS : 3))
# shellcheck disable=SC2046 # four words: name, N, median, baseline
set -- $("$B/audit_bench" append "$W" "$APPENDS" "$aruns")
echo "$APPENDS appends, $aruns runs           isim ms  INSERT ms   ratio"
printf 'append, durable %18.1f %10.1f %7s\n' "$3" "$4" "$(ratio "$3" "$4")"
printf '  per append: %.1f us (bare INSERT %.1f us)\n' "$(awk -v t="$3" -v n="$2" 'BEGIN { print t * 1000 / n }')" \
	"$(awk -v t="$4" -v n="$2" 'BEGIN { print t * 1000 / n }')"

# shellcheck disable=SC2046 # four words: name, N, median, baseline
set -- $("$B/audit_bench" verify "$W" 10000 "$RUNS")
v10=$3
s10=$4
# shellcheck disable=SC2046 # four words: name, N, median, baseline
set -- $("$B/audit_bench" verify "$W" 100000 "$RUNS")
v100=$3
s100=$4
per10=$(awk -v t="$v10" 'BEGIN { printf "%.2f", t * 1000 / 10000 }')
per100=$(awk -v t="$v100" 'BEGIN { printf "%.2f", t * 1000 / 100000 }')
echo
echo "verify, $RUNS runs                    isim ms    scan ms   ratio   per entry us"
printf 'log of 10,000 entries %12.1f %10.1f %7s %14s\n' "$v10" "$s10" "$(ratio "$v10" "$s10")" "$per10"
printf 'log of 100,000 entries %11.1f %10.1f %7s %14s\n' "$v100" "$s100" "$(ratio "$v100" "$s100")" "$per100"
printf 'per-entry cost, 100k / 10k: %s (linear: near 1.00)\n' "$(ratio "$per100" "$per10")"
rm -rf "$W"
