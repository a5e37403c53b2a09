#!/usr/bin/env bash
# MATCH_RECOGNIZE on Flink's CEP workload (2 million events, key = i mod 1000, ts = i ms,
# a followed by b within 10 s; benches/src/bin/cep_sql_job.rs), parallelism 1 and 2, RUNS runs
# each (default 3), median events/s; every run checks its match count against the NFA path.
# Usage: benches/scripts/match_recognize_bench.sh [EVENTS] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/../.."
EVENTS=${1:-2000000}
RUNS=${2:-3}
TARGET=${CARGO_TARGET_DIR:-target}
cargo build --release -q -p eddy-benches --bin cep_sql_job
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%3s %14s  %-40s %10s\n' par "median ev/s" "runs (events/s)" matches
for p in 1 2; do
  rates=()
  for _ in $(seq "$RUNS"); do
    R=$("$TARGET/release/cep_sql_job" "$EVENTS" "$p" | grep RESULT)
    echo "  $R" >&2
    rates+=("$(echo "$R" | sed -E 's/.* events_per_s=([0-9]+).*/\1/')")
    m=$(echo "$R" | sed -E 's/.* matches=([0-9]+) .*/\1/')
  done
  median=$(printf '%s\n' "${rates[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p")
  printf '%3s %14s  %-40s %10s\n' "$p" "$median" "${rates[*]}" "$m"
done
