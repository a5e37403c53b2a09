#!/usr/bin/env bash
# Eddy CEP throughput and peak memory, RUNS runs each (default 3), medians, parallelism 1 and 2:
#   fraud:        fraud_detection over EVENTS generated transactions (default 10 000 000),
#                 100 000 accounts, 0.1% fraud (small followed_by large within 60 s);
#   flink:        Flink's CEP workload (2 000 000 events, key = i mod 1000, ts = i ms,
#                 a followed_by b within 10 s; benches/src/bin/cep_job.rs);
#   pathological: the same events, a followed_by_any b one_or_more within 10 s.
# Prints events/s by wall clock, the CPU seconds of the whole process (user + system) and the
# peak RSS, as /usr/bin/time reports them. Usage: benches/scripts/cep_bench.sh [EVENTS] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/../.."
EVENTS=${1:-10000000}
RUNS=${2:-3}
TARGET=${CARGO_TARGET_DIR:-target}
cargo build --release -q -p eddy-benches --bin cep_job
cargo build --release -q -p eddy-examples --bin fraud_detection
median() { sort -n | sed -n "$(( (RUNS + 1) / 2 ))p"; }
# run NAME EVENTS CMD...: one row of medians
run() {
  local name=$1 events=$2; shift 2
  local walls=() cpus=() rss=()
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f "TIME %e %U %S %M" -o /tmp/cep_bench.time "$@" >/tmp/cep_bench.out 2>/tmp/cep_bench.err
    read -r _ wall user sys kb < <(grep TIME /tmp/cep_bench.time)
    walls+=("$wall"); cpus+=("$(echo "$user + $sys" | bc -l)"); rss+=("$kb")
    echo "  $name: $(grep -h -E 'RESULT|alerts' /tmp/cep_bench.out /tmp/cep_bench.err | head -1) [wall $wall s, cpu $user+$sys s, $kb KB]" >&2
  done
  local w c m
  w=$(printf '%s\n' "${walls[@]}" | median); c=$(printf '%s\n' "${cpus[@]}" | median); m=$(printf '%s\n' "${rss[@]}" | median)
  printf '%-22s %10s %12.0f %8.2f %12.0f %9.1f\n' "$name" "$events" "$(echo "$events / $w" | bc -l)" "$c" \
    "$(echo "$events / $c" | bc -l)" "$(echo "$m / 1024" | bc -l)"
}
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-22s %10s %12s %8s %12s %9s\n' job events "events/s" "cpu s" "events/cpu-s" "RSS MiB"
for p in 1 2; do
  run "fraud p$p" "$EVENTS" "$TARGET/release/fraud_detection" --transactions "$EVENTS" --accounts 100000 --parallelism "$p"
done
for p in 1 2; do
  run "flink workload p$p" 2000000 "$TARGET/release/cep_job" 2000000 "$p" 1000 flink
done
for p in 1 2; do
  run "pathological p$p" 2000000 "$TARGET/release/cep_job" 2000000 "$p" 1000 pathological
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
