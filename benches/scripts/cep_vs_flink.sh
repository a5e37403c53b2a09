#!/usr/bin/env bash
# Eddy against Apache Flink CEP on Flink's own CEP benchmark workload (2 million events,
# key = i mod 1000, ts = i ms, pattern a followed_by b within 10 s, keyed;
# ../shared/peers/flink/java/CepBench.java), back to back, parallelism 1 and 2; checks that
# both count the same matches. Usage: benches/scripts/cep_vs_flink.sh [EVENTS]
set -euo pipefail
cd "$(dirname "$0")/../.."
EVENTS=${1:-2000000}
TARGET=${CARGO_TARGET_DIR:-target}
PEERS=$(cd ../shared/peers/flink && pwd)
FLINKPEER=${FLINKPEER:-${TMPDIR:-/tmp}/flinkpeer}
[ -x "$FLINKPEER/run_all.sh" ] || "$PEERS/setup.sh"
[ -f "$FLINKPEER/java/classes/CepBench.class" ] || "$FLINKPEER/run_all.sh" build
cargo build --release -q -p eddy-benches --bin cep_job
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/java-17-openjdk-amd64}
CP="$FLINKPEER/venv/lib/python3.11/site-packages/pyflink/lib/*:$FLINKPEER/java/classes"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%3s %16s %16s %8s %10s\n' par "flink events/s" "eddy events/s" ratio matches
for p in 1 2; do
  F=$(java -Xmx3g -Dlog4j.configurationFile="$FLINKPEER/java/log4j2.properties" -cp "$CP" CepBench "$EVENTS" "$p" 2>/dev/null | grep RESULT)
  E=$("$TARGET/release/cep_job" "$EVENTS" "$p" | grep RESULT)
  echo "  $F" >&2; echo "  $E" >&2
  fr=$(echo "$F" | sed -E 's/.*events_per_s=([0-9.]+).*/\1/'); er=$(echo "$E" | sed -E 's/.*events_per_s=([0-9.]+).*/\1/')
  fm=$(echo "$F" | sed -E 's/.*matches=([0-9]+).*/\1/'); em=$(echo "$E" | sed -E 's/.*matches=([0-9]+).*/\1/')
  [ "$fm" = "$em" ] || { echo "match counts differ: flink $fm eddy $em" >&2; exit 1; }
  printf '%3s %16.0f %16.0f %7.1fx %10s\n' "$p" "$fr" "$er" "$(echo "$er / $fr" | bc -l)" "$em"
done
