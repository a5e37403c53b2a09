#!/usr/bin/env bash
# Throughput of `window_aggregate` with a checkpoint every second against none (heap backend),
# on the same generated CSV, back to back; prints medians and the loss.
#
#   benches/scripts/checkpoint_overhead.sh [ROWS] [RUNS] [PARALLELISM]
set -euo pipefail
cd "$(dirname "$0")/../.."
ROWS=${1:-5000000}
RUNS=${2:-3}
PARALLELISM=${3:-2}
DATA=${EDDY_BENCH_DATA:-$HOME/.cache/eddy-bench-data}
mkdir -p "$DATA"
INPUT="$DATA/window_events_$ROWS.csv"
if [ ! -f "$INPUT" ]; then
    python3 - "$ROWS" "$INPUT" <<'PY'
import random, sys
rows, path = int(sys.argv[1]), sys.argv[2]
rng = random.Random(42)
with open(path, "w") as f:
    f.write("key,ts,value\n")
    for i in range(rows):
        jitter = rng.randrange(3000) if rng.random() < 0.1 else rng.randrange(50)
        f.write(f"k{rng.randrange(10000)},{i * 2 - jitter},{rng.randrange(100000) / 100}\n")
PY
fi
cargo build --release -q -p eddy-examples --bin window_aggregate
BIN=${CARGO_TARGET_DIR:-target}/release/window_aggregate
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

run() { # label, extra flags...
    local label=$1
    shift
    local times=()
    for _ in $(seq "$RUNS"); do
        rm -rf "$WORK/ck" "$WORK/out.csv"
        local start end
        start=$(date +%s.%N)
        "$BIN" --input "$INPUT" --window tumbling:10s --out-of-orderness 100ms \
            --allowed-lateness 1s --output "$WORK/out.csv" --parallelism "$PARALLELISM" "$@" 2>/dev/null
        end=$(date +%s.%N)
        times+=("$(awk "BEGIN { print $end - $start }")")
    done
    local median
    median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    echo "$label: median ${median}s over $RUNS runs (${times[*]}), $(awk "BEGIN { printf \"%d\", $ROWS / $median }") rows/s" >&2
    echo "$median"
}

echo "window_aggregate, $ROWS rows, parallelism $PARALLELISM, load: $(cut -d' ' -f1-3 /proc/loadavg)"
NONE=$(run "no checkpoints")
WITH=$(run "checkpoint every 1s" --checkpoint-dir "$WORK/ck" --checkpoint-interval 1s)
echo "loss with checkpoints: $(awk "BEGIN { printf \"%.1f\", ($WITH - $NONE) * 100 / $NONE }")%"
