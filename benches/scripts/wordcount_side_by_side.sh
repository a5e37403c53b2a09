#!/usr/bin/env bash
# WordCount on a 500 MB seeded Zipf text (100 000-word vocabulary): Eddy's `wordcount` at
# parallelism 1 and 2 against the floor (one thread, a plain std HashMap loop, the same
# tokenizer) and the everyday tool (`tr | sort | uniq -c`). Prints medians, words/s, MB/s and
# ratios. Usage: benches/scripts/wordcount_side_by_side.sh [RUNS]   (default 3 runs each)
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${1:-3}
TARGET=${CARGO_TARGET_DIR:-target}
DATA=${EDDY_BENCH_DATA:-$HOME/.cache/eddy-bench-data}
FILE=$DATA/zipf-500mb.txt
cargo build --release -q -p eddy-examples --bin wordcount -p eddy-benches --bin gen_zipf_text --bin wordcount_floor
mkdir -p "$DATA"
[ -f "$FILE" ] || "$TARGET/release/gen_zipf_text" --output "$FILE" --megabytes 500 --vocabulary 100000 --seed 42
BYTES=$(stat -c %s "$FILE")
WORDS=$("$TARGET/release/wordcount_floor" "$FILE" | sed -E 's/.* words=([0-9]+).*/\1/')
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

# median wall seconds of RUNS runs of a command
median() {
  local times=()
  for _ in $(seq "$RUNS"); do
    local t0 t1
    t0=$(date +%s.%N); "$@" > /dev/null; t1=$(date +%s.%N)
    times+=("$(echo "$t1 - $t0" | bc -l)")
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}
sort_uniq() { LC_ALL=C tr 'A-Z' 'a-z' < "$FILE" | LC_ALL=C tr -cs 'a-z0-9_' '\n' | LC_ALL=C sort -S 4G --parallel=2 | uniq -c; }

echo "file: $FILE ($BYTES bytes, $WORDS words); load: $(cut -d' ' -f1-3 /proc/loadavg); runs: $RUNS"
FLOOR=$(median "$TARGET/release/wordcount_floor" "$FILE")
P1=$(median "$TARGET/release/wordcount" --input "$FILE" --parallelism 1 --output "$OUT/p1.txt")
P2=$(median "$TARGET/release/wordcount" --input "$FILE" --parallelism 2 --output "$OUT/p2.txt")
SU=$(RUNS=1 median sort_uniq)
cmp -s <(sort "$OUT/p1.txt") <(sort "$OUT/p2.txt") || { echo "p1 and p2 outputs differ" >&2; exit 1; }
row() { printf '%-28s %8.2f s %12.0f words/s %8.1f MB/s\n' "$1" "$2" "$(echo "$WORDS / $2" | bc -l)" "$(echo "$BYTES / $2 / 1000000" | bc -l)"; }
row "floor (HashMap loop, 1 thr)" "$FLOOR"
row "eddy wordcount p1" "$P1"
row "eddy wordcount p2" "$P2"
row "tr | sort | uniq -c" "$SU"
printf 'ratio p1 / floor: %.2fx (target <= 1.5)\n' "$(echo "$P1 / $FLOOR" | bc -l)"
printf 'speedup p1 / p2: %.2fx (target >= 1.6)\n' "$(echo "$P1 / $P2" | bc -l)"
printf 'sort|uniq / p2:  %.2fx\n' "$(echo "$SU / $P2" | bc -l)"
