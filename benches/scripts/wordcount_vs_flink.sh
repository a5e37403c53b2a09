#!/usr/bin/env bash
# Eddy against Apache Flink on Flink's own generated WordCount workload (10 million words,
# 10 000-word vocabulary, keyBy + sum; ../shared/peers/flink/java/WordCountBench.java), both
# run back to back on this machine, streaming and batch mode, parallelism 1 and 2.
# Usage: benches/scripts/wordcount_vs_flink.sh [WORDS]   (default 10000000)
set -euo pipefail
cd "$(dirname "$0")/../.."
WORDS=${1:-10000000}
TARGET=${CARGO_TARGET_DIR:-target}
PEERS=$(cd ../shared/peers/flink && pwd)
FLINKPEER=${FLINKPEER:-${TMPDIR:-/tmp}/flinkpeer}
[ -x "$FLINKPEER/run_all.sh" ] || "$PEERS/setup.sh"
[ -f "$FLINKPEER/java/classes/WordCountBench.class" ] || "$FLINKPEER/run_all.sh" build
cargo build --release -q -p eddy-benches --bin wordcount_generated
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/java-17-openjdk-amd64}
CP="$FLINKPEER/venv/lib/python3.11/site-packages/pyflink/lib/*:$FLINKPEER/java/classes"
rate() { sed -E 's/.*words_per_s=([0-9.]+).*/\1/'; }
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-10s %3s %16s %16s %8s\n' mode par "flink words/s" "eddy words/s" ratio
for mode in streaming batch; do
  for p in 1 2; do
    F=$(java -Xmx3g -Dlog4j.configurationFile="$FLINKPEER/java/log4j2.properties" -cp "$CP" WordCountBench "$WORDS" "$p" "$mode" 2>/dev/null | grep RESULT)
    E=$("$TARGET/release/wordcount_generated" "$WORDS" "$p" "$mode" | grep RESULT)
    echo "  $F" >&2; echo "  $E" >&2
    fr=$(echo "$F" | rate); er=$(echo "$E" | rate)
    if [ "$mode" = batch ]; then
      fd=$(echo "$F" | sed -E 's/.*distinct=([0-9]+) total=([0-9]+).*/\1 \2/')
      ed=$(echo "$E" | sed -E 's/.*distinct=([0-9]+) total=([0-9]+).*/\1 \2/')
      [ "$fd" = "$ed" ] || { echo "distinct/total differ: flink $fd eddy $ed" >&2; exit 1; }
    fi
    printf '%-10s %3s %16.0f %16.0f %7.1fx\n' "$mode" "$p" "$fr" "$er" "$(echo "$er / $fr" | bc -l)"
  done
done
