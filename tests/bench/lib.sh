# shellcheck shell=sh
# Helpers for benchmarks: medians through hyperfine, figures as plain lines.
: "${ISIM_ROOT:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${ISIM_BIN:=$ISIM_ROOT/build/release/bin}"
B=$ISIM_ROOT/build/bench
mkdir -p "$B"
RUNS=${BENCH_RUNS:-20}

# median_ms NAME COMMAND...: median wall time of RUNS runs, in milliseconds
# (printed to stdout), measured without a shell in between.
median_ms() {
	name=$1
	shift
	hyperfine -N --style none --warmup "${WARMUP:-3}" --runs "$RUNS" --export-json "$B/$name.json" -- "$*" >/dev/null 2>&1 ||
		{ echo "bench: '$*' failed" >&2; return 1; }
	jq '.results[0].median * 1000' "$B/$name.json"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
