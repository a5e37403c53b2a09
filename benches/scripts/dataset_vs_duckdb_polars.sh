#!/usr/bin/env bash
# Eddy's DataSet engines against DuckDB and Polars on the same data, in one run.
#
# In memory (2 threads each; data loaded first, the operation alone timed, median of REPEAT):
#   join: 10M (u64 key, u64 value) rows against 1M unique keys, every row matches;
#         count and sum of the 10M output rows.
#   sort: 10M random (u64, u64) pairs by the first field.
# Out of core (OUT_OF_CORE=1; long): dataset_sort of a 4 GB CSV with --memory 256, and
#   dataset_join of a 2 GB with a 1 GB CSV with --memory 256, against DuckDB with
#   memory_limit 256MB, both writing CSV; wall time and peak RSS (/usr/bin/time -v).
#
# Usage: benches/scripts/dataset_vs_duckdb_polars.sh
#        OUT_OF_CORE=1 REPEAT=5 THREADS=2 benches/scripts/dataset_vs_duckdb_polars.sh
# Needs: cargo, python3 (duckdb, polars, numpy and pyarrow are pip-installed into a venv under
# ~/.cache/eddy-bench-venv when missing). Data lives in $DATA (generated once, seeded).
set -euo pipefail

REPEAT="${REPEAT:-5}"
THREADS="${THREADS:-2}"
OUT_OF_CORE="${OUT_OF_CORE:-0}"
MEMORY_MB="${MEMORY_MB:-256}"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DATA="${DATA:-$HOME/.cache/eddy-bench-data/dataset}"
VENV="${VENV:-$HOME/.cache/eddy-bench-venv}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$REPO/target}"
mkdir -p "$DATA"

if ! "$VENV/bin/python" -c 'import duckdb, polars, numpy, pyarrow' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet duckdb polars numpy pyarrow
fi
PY="$VENV/bin/python"

(cd "$REPO" && cargo build --release --quiet -p eddy-benches --bin dataset_engines --bin dataset_csv_gen \
  && cargo build --release --quiet -p eddy-examples --bin dataset_sort --bin dataset_join)
BIN="$CARGO_TARGET_DIR/release"

echo "# machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); duckdb $("$PY" -c 'import duckdb; print(duckdb.__version__)'), polars $("$PY" -c 'import polars; print(polars.__version__)')"

[[ -f "$DATA/sort.bin" ]] || "$BIN/dataset_engines" gen --dir "$DATA"

# The peers: one line of key=value pairs per engine, like dataset_engines.
PEERS_PY='
import os, sys, time, statistics
op, data, threads, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
os.environ["POLARS_MAX_THREADS"] = str(threads)  # read when polars is imported
import numpy as np, polars as pl, duckdb

def load(name):
    pairs = np.fromfile(f"{data}/{name}.bin", dtype="<u8").reshape(-1, 2)
    return pairs[:, 0].copy(), pairs[:, 1].copy()

def median(f):
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = f()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result

con = duckdb.connect()
con.execute(f"SET threads={threads}")
if op == "join":
    bk, bv = load("build")
    pk, pv = load("probe")
    build = pl.DataFrame({"k": bk, "bv": bv})
    probe = pl.DataFrame({"k": pk, "pv": pv})
    build_arrow, probe_arrow = build.to_arrow(), probe.to_arrow()
    con.execute("CREATE TABLE build AS SELECT * FROM build_arrow")
    con.execute("CREATE TABLE probe AS SELECT * FROM probe_arrow")
    def polars_join():
        r = (probe.lazy().join(build.lazy(), on="k", how="inner")
             .select(pl.len().alias("n"), (pl.col("pv") + pl.col("bv")).sum().alias("s")).collect())
        return r["n"][0], r["s"][0]
    def duckdb_join():
        return con.execute("SELECT count(*), sum(p.pv + b.bv) FROM probe p JOIN build b ON p.k = b.k").fetchone()
    for name, f in (("polars", polars_join), ("duckdb", duckdb_join)):
        t, (n, s) = median(f)
        print(f"engine={name} op=join threads={threads} median_s={t:.4f} count={n} sum={s}", flush=True)
else:
    a, b = load("sort")
    frame = pl.DataFrame({"a": a, "b": b})
    frame_arrow = frame.to_arrow()
    con.execute("CREATE TABLE pairs AS SELECT * FROM frame_arrow")
    def polars_sort():
        return frame.sort("a").height
    def duckdb_sort():
        con.execute("CREATE OR REPLACE TEMP TABLE sorted AS SELECT * FROM pairs ORDER BY a")
        return con.execute("SELECT count(*) FROM sorted").fetchone()[0]
    for name, f in (("polars", polars_sort), ("duckdb", duckdb_sort)):
        t, rows = median(f)
        print(f"engine={name} op=sort threads={threads} median_s={t:.4f} rows={rows}", flush=True)
'

field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" <<<"$2"; }
ratio() { awk -v eddy="$1" -v a="$2" -v b="$3" 'BEGIN {
  best = (a < b) ? a : b; printf "%.2fx faster than the faster peer (%.3f s)", best / eddy, best }'; }

for op in join sort; do
  echo "## in memory: $op, $THREADS threads, median of $REPEAT"
  eddy_line="$("$BIN/dataset_engines" "$op" --dir "$DATA" --threads "$THREADS" --repeat "$REPEAT")"
  echo "$eddy_line"
  peers="$("$PY" -c "$PEERS_PY" "$op" "$DATA" "$THREADS" "$REPEAT")"
  echo "$peers"
  polars_s="$(field median_s "$(grep engine=polars <<<"$peers")")"
  duckdb_s="$(field median_s "$(grep engine=duckdb <<<"$peers")")"
  eddy_s="$(field median_s "$eddy_line")"
  echo "eddy $op: $(ratio "$eddy_s" "$polars_s" "$duckdb_s")"
done

[[ "$OUT_OF_CORE" == 1 ]] || { echo "(OUT_OF_CORE=1 runs the out-of-core comparison)"; exit 0; }

SORT_CSV="$DATA/sort-4g.csv"; LEFT_CSV="$DATA/join-left-2g.csv"; RIGHT_CSV="$DATA/join-right-1g.csv"
[[ -f "$SORT_CSV" ]] || "$BIN/dataset_csv_gen" sort --bytes 4000000000 --output "$SORT_CSV"
[[ -f "$RIGHT_CSV" ]] || "$BIN/dataset_csv_gen" join-right --bytes 1000000000 --output "$RIGHT_CSV"
[[ -f "$LEFT_CSV" ]] || "$BIN/dataset_csv_gen" join-left --bytes 2000000000 --right-bytes 1000000000 --output "$LEFT_CSV"
OUT="$DATA/out"; mkdir -p "$OUT"; TMP="$DATA/duckdb-tmp"; mkdir -p "$TMP"

# Runs a command under /usr/bin/time -v; prints "wall_s=... peak_rss_mb=...".
measure() {
  local log; log="$(mktemp)"
  /usr/bin/time -v "$@" 2>"$log" >/dev/null || { cat "$log" >&2; rm -f "$log"; return 1; }
  awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; wall = s }
              /Maximum resident set size/ { rss = $2 / 1024 }
              END { printf "wall_s=%.1f peak_rss_mb=%.0f", wall, rss }' "$log"
  rm -f "$log"
}
DUCK_PY='
import sys, duckdb
sql, threads, memory, tmp = sys.argv[1:5]
con = duckdb.connect()
quote = chr(39)  # this program sits in a single-quoted shell string
# preserve_insertion_order=false is what DuckDB advises for memory-limited runs (ORDER BY
# output stays sorted).
for setting in (f"threads={threads}", f"memory_limit={quote}{memory}MB{quote}",
                f"temp_directory={quote}{tmp}{quote}", "preserve_insertion_order=false"):
    con.execute(f"SET {setting}")
con.execute(sql)
'
echo "## out of core: --memory $MEMORY_MB MB, $THREADS threads"
sync
eddy="$(measure "$BIN/dataset_sort" --input "$SORT_CSV" --key 0 --numeric --memory "$MEMORY_MB" --parallelism "$THREADS" --output "$OUT/sorted.csv")"
echo "eddy   sort 4 GB: $eddy"
rm -f "$OUT/sorted.csv"
duck="$(measure "$PY" -c "$DUCK_PY" "COPY (SELECT * FROM read_csv('$SORT_CSV', header=true) ORDER BY key) TO '$OUT/sorted-duckdb.csv' (HEADER)" "$THREADS" "$MEMORY_MB" "$TMP")"
echo "duckdb sort 4 GB: $duck"
rm -f "$OUT/sorted-duckdb.csv"
eddy="$(measure "$BIN/dataset_join" --left "$LEFT_CSV" --right "$RIGHT_CSV" --left-key key --right-key key --memory "$MEMORY_MB" --parallelism "$THREADS" --output "$OUT/joined.csv")"
echo "eddy   join 2 GB x 1 GB: $eddy"
rm -f "$OUT/joined.csv"
duck="$(measure "$PY" -c "$DUCK_PY" "COPY (SELECT * FROM read_csv('$LEFT_CSV', header=true) l JOIN read_csv('$RIGHT_CSV', header=true) r ON l.key = r.key) TO '$OUT/joined-duckdb.csv' (HEADER)" "$THREADS" "$MEMORY_MB" "$TMP")"
echo "duckdb join 2 GB x 1 GB: $duck"
rm -f "$OUT/joined-duckdb.csv"
echo "budget + 64 MB = $((MEMORY_MB + 64)) MB"
