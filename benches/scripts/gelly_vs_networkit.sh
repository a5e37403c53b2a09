#!/usr/bin/env bash
# Eddy Gelly (CSR path) against NetworKit on the same Graph500 Kronecker graph:
# PageRank (20 iterations, damping 0.85, dangling mass distributed) and label propagation
# (Eddy's LDBC CDLP, 10 iterations; NetworKit's PLP, at most 10 iterations), at 1 and 2 threads.
# Prints load and algorithm time separately, ns per edge per iteration, peak RSS, and ratios.
#
# Usage: benches/scripts/gelly_vs_networkit.sh            # scale 20
#        SCALES="20 22" REPEAT=3 benches/scripts/gelly_vs_networkit.sh
# REPEAT runs every configuration that many times and keeps the run with the smallest algorithm
# time (on a shared machine the minimum is the least disturbed run).
# Needs: cargo, python3 with networkit (`pip install networkit`).
# The graph is generated once per scale (seeded) into $WORK and reused by later runs.
set -euo pipefail

SCALES="${SCALES:-20}"
EDGE_FACTOR="${EDGE_FACTOR:-16}"
SEED="${SEED:-1}"
THREADS="${THREADS:-1 2}"
REPEAT="${REPEAT:-1}"
PR_ITERATIONS=20
CDLP_ITERATIONS=10
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK="${WORK:-${TMPDIR:-/tmp}/eddy-gelly-bench}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$REPO/target}"
mkdir -p "$WORK"

python3 -c 'import networkit' 2>/dev/null || { echo "networkit missing: pip install networkit" >&2; exit 1; }
# GELLY_BENCH=/path/to/gelly_bench skips the build (e.g. a binary built elsewhere).
if [[ -z "${GELLY_BENCH:-}" ]]; then
  (cd "$REPO" && cargo build --release --quiet -p eddy-examples --bin gelly_bench)
fi
BENCH="${GELLY_BENCH:-$CARGO_TARGET_DIR/release/gelly_bench}"

# NetworKit side: prints one key=value line like `gelly_bench run`.
NETWORKIT_PY='
import resource, sys, time
import networkit as nk
algorithm, vertices, edges, iterations, threads = sys.argv[1:6]
iterations, threads = int(iterations), int(threads)
nk.setNumberOfThreads(threads)
nk.engineering.setLogLevel("ERROR")
start = time.perf_counter()
with open(vertices, "rb") as f:
    n = sum(1 for _ in f)
graph = nk.graphio.EdgeListReader(" ", 0, continuous=True, directed=False).read(edges)
if graph.numberOfNodes() < n:
    graph.addNodes(n - graph.numberOfNodes())
load_s = time.perf_counter() - start
start = time.perf_counter()
if algorithm == "pr":
    # tol=0: never converged early, so exactly `iterations` iterations run.
    run = nk.centrality.PageRank(graph, damp=0.85, tol=0.0,
                                 distributeSinks=nk.centrality.SinkHandling.DistributeSinks)
    run.maxIterations = iterations
    run.run()
    checksum = sum(run.scores())
else:
    run = nk.community.PLP(graph, updateThreshold=0, maxIterations=iterations)
    run.run()
    checksum = run.getPartition().numberOfSubsets()
algo_s = time.perf_counter() - start
done = run.numberOfIterations()
m = graph.numberOfEdges()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(f"networkit algorithm={algorithm} threads={threads} vertices={graph.numberOfNodes()} "
      f"edges={m} arcs={2 * m} load_s={load_s:.3f} algo_s={algo_s:.3f} iterations={done} "
      f"ns_per_edge_iter={algo_s * 1e9 / (m * max(done, 1)):.3f} "
      f"ns_per_arc_iter={algo_s * 1e9 / (2 * m * max(done, 1)):.3f} "
      f"peak_rss_bytes={peak} peak_bytes_per_edge={peak / m:.2f} checksum={checksum}")
'

# Of several result lines, the one with the smallest algo_s.
best() {
  awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^algo_s=/) { split($i, kv, "="); print kv[2], $0 } }' |
    sort -g | head -n 1 | cut -d' ' -f2-
}

RESULTS="$WORK/results.txt"
: > "$RESULTS"
for scale in $SCALES; do
  prefix="$WORK/kron$scale-ef$EDGE_FACTOR-seed$SEED"
  if [[ ! -s "$prefix.e" ]]; then
    echo "== generating scale $scale, edge factor $EDGE_FACTOR, seed $SEED -> $prefix.{v,e}"
    "$BENCH" generate --scale "$scale" --edge-factor "$EDGE_FACTOR" --seed "$SEED" --prefix "$prefix"
  fi
  for algorithm in pr cdlp; do
    iterations=$PR_ITERATIONS
    [[ $algorithm == cdlp ]] && iterations=$CDLP_ITERATIONS
    for threads in $THREADS; do
      eddy=$(for _ in $(seq "$REPEAT"); do
        "$BENCH" run --algorithm "$algorithm" --vertices "$prefix.v" --edges "$prefix.e" \
          --iterations "$iterations" --threads "$threads"
      done | best)
      nk=$(for _ in $(seq "$REPEAT"); do
        python3 -c "$NETWORKIT_PY" "$algorithm" "$prefix.v" "$prefix.e" "$iterations" "$threads"
      done | best)
      echo "scale=$scale $eddy" | tee -a "$RESULTS"
      echo "scale=$scale $nk" | tee -a "$RESULTS"
    done
  done
done

# Side by side, with ratios (NetworKit time / Eddy time; > 1 means Eddy is faster).
python3 - "$RESULTS" <<'PY'
import sys
rows = []
for line in open(sys.argv[1]):
    tokens = line.split()
    if tokens:
        row = dict(kv.split("=", 1) for kv in tokens[:1] + tokens[2:])
        row["system"] = tokens[1]
        rows.append(row)
print()
print(f"{'scale':>5} {'alg':>4} {'thr':>3} | {'eddy load s':>11} {'eddy alg s':>10} "
      f"{'eddy ns/e/it':>12} {'eddy MB':>8} | {'nk load s':>9} {'nk alg s':>8} {'nk it':>5} "
      f"{'nk ns/e/it':>10} {'nk MB':>7} | {'alg ratio':>9} {'ns/e/it ratio':>13}")
for e in [r for r in rows if r["system"] == "eddy"]:
    key = lambda r: (r["scale"], r["algorithm"].lower(), r["threads"])
    nk = next(r for r in rows if r["system"] == "networkit" and key(r) == key(e))
    f = lambda r, k: float(r[k])
    print(f"{e['scale']:>5} {e['algorithm'].lower():>4} {e['threads']:>3} | "
          f"{f(e,'load_s'):>11.3f} {f(e,'algo_s'):>10.3f} {f(e,'ns_per_edge_iter'):>12.3f} "
          f"{f(e,'peak_rss_bytes')/2**20:>8.0f} | {f(nk,'load_s'):>9.3f} {f(nk,'algo_s'):>8.3f} "
          f"{nk['iterations']:>5} {f(nk,'ns_per_edge_iter'):>10.3f} "
          f"{f(nk,'peak_rss_bytes')/2**20:>7.0f} | {f(nk,'algo_s')/f(e,'algo_s'):>9.2f} "
          f"{f(nk,'ns_per_edge_iter')/f(e,'ns_per_edge_iter'):>13.2f}")
print("\nns/e/it: nanoseconds per undirected edge per iteration (per stored arc: half of it).")
print("MB: peak resident set size of the whole process, load included.")
PY
