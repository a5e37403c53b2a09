#!/usr/bin/env bash
# eddy-ml against scikit-learn and linfa on the same data:
#   KMeans: 1,000,000 x 16, k = 8, 20 Lloyd iterations from the same initial centers;
#   LogisticRegression: 1,000,000 x 32, binomial with intercept, L2 (reg on the mean loss),
#   L-BFGS up to 100 iterations, gradient tolerance 1e-8.
# All three at THREADS threads (scikit-learn through threadpoolctl/OpenMP, linfa and Eddy
# through rayon). Only the fit is timed (data loading is not). Prints median fit times over
# REPEAT runs, ratios to Eddy, iterations, and the quality reached (inertia, objective).
#
# Usage: benches/scripts/ml_vs_sklearn_linfa.sh
#        REPEAT=5 THREADS=2 benches/scripts/ml_vs_sklearn_linfa.sh
#        TASKS=logreg TOOLS="eddy sklearn" benches/scripts/ml_vs_sklearn_linfa.sh   # a subset
# Needs: cargo, python3 with scikit-learn and numpy (`pip install scikit-learn numpy`).
# The data is generated once (seeded) into $WORK and reused by later runs.
set -euo pipefail

THREADS="${THREADS:-2}"
TASKS="${TASKS:-kmeans logreg}"
TOOLS="${TOOLS:-eddy sklearn linfa}"
REPEAT="${REPEAT:-3}"
KM_ROWS="${KM_ROWS:-1000000}"
LR_ROWS="${LR_ROWS:-1000000}"
REG="${REG:-0.001}"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK="${WORK:-${TMPDIR:-/tmp}/eddy-ml-bench}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$REPO/target}"
mkdir -p "$WORK"

python3 -c 'import sklearn, numpy' 2>/dev/null || { echo "scikit-learn missing: pip install scikit-learn numpy" >&2; exit 1; }
(cd "$REPO" && cargo build --release --quiet -p eddy-benches --features linfa --bin ml_eddy --bin ml_linfa)
EDDY="$CARGO_TARGET_DIR/release/ml_eddy"
LINFA="$CARGO_TARGET_DIR/release/ml_linfa"

python3 - "$WORK" "$KM_ROWS" "$LR_ROWS" <<'PY'
import os, sys
import numpy as np
work, km_rows, lr_rows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def save(name, x):
    x = np.ascontiguousarray(x, dtype="<f8")
    with open(os.path.join(work, name), "wb") as f:
        np.array(x.shape, dtype="<u8").tofile(f)
        x.tofile(f)
if not os.path.exists(os.path.join(work, f"km_x_{km_rows}.f64")) or os.environ.get("REGENERATE"):
    rng = np.random.default_rng(1)
    # Uniform points: no cluster structure, so Lloyd does not converge within 20 iterations
    # and every tool runs all of them.
    x = rng.uniform(-1.0, 1.0, size=(km_rows, 16))
    save(f"km_x_{km_rows}.f64", x)
    save(f"km_init_{km_rows}.f64", x[:8])
if not os.path.exists(os.path.join(work, f"lr_x_{lr_rows}.f64")):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(lr_rows, 32))
    beta = rng.normal(scale=0.5, size=32)
    y = (rng.uniform(size=lr_rows) < 1 / (1 + np.exp(-(x @ beta + 0.3)))).astype(float)
    save(f"lr_x_{lr_rows}.f64", x)
    save(f"lr_y_{lr_rows}.f64", y.reshape(-1, 1))
PY

# scikit-learn side: prints `fit_seconds=... n_iter=...` and writes its result.
SKLEARN_PY='
import os, sys, time
import numpy as np
from threadpoolctl import threadpool_limits
from sklearn.cluster import KMeans
from sklearn.linear_model import LogisticRegression
def load(p):
    with open(p, "rb") as f:
        r, c = np.fromfile(f, dtype="<u8", count=2)
        return np.fromfile(f, dtype="<f8").reshape(int(r), int(c))
def save(p, x):
    x = np.ascontiguousarray(np.atleast_2d(x), dtype="<f8")
    with open(p, "wb") as f:
        np.array(x.shape, dtype="<u8").tofile(f); x.tofile(f)
task, threads = sys.argv[1], int(sys.argv[2])
with threadpool_limits(limits=threads):
    if task == "kmeans":
        x, init, out = load(sys.argv[3]), load(sys.argv[4]), sys.argv[5]
        start = time.perf_counter()
        m = KMeans(n_clusters=len(init), init=init, n_init=1, max_iter=20, tol=0.0, algorithm="lloyd").fit(x)
        print(f"fit_seconds={time.perf_counter() - start:.6f} n_iter={m.n_iter_}")
        save(out, m.cluster_centers_)
    else:
        x, y, reg, out = load(sys.argv[3]), load(sys.argv[4]).ravel(), float(sys.argv[5]), sys.argv[6]
        start = time.perf_counter()
        m = LogisticRegression(C=1.0 / (len(y) * reg), tol=1e-8, max_iter=100).fit(x, y)
        print(f"fit_seconds={time.perf_counter() - start:.6f} n_iter={m.n_iter_[0]}")
        save(out, np.concatenate([m.coef_[0], m.intercept_]))
'

# Quality of each result: k-means inertia; the logistic objective (mean loss + reg/2 |w|^2).
SCORE_PY='
import sys
import numpy as np
def load(p):
    with open(p, "rb") as f:
        r, c = np.fromfile(f, dtype="<u8", count=2)
        return np.fromfile(f, dtype="<f8").reshape(int(r), int(c))
task = sys.argv[1]
if task == "kmeans":
    x, c = load(sys.argv[2]), load(sys.argv[3])
    d = (x * x).sum(1)[:, None] - 2 * x @ c.T + (c * c).sum(1)[None, :]
    print(f"{d.min(1).sum():.6e}")
else:
    x, y, reg, w = load(sys.argv[2]), load(sys.argv[3]).ravel(), float(sys.argv[4]), load(sys.argv[5]).ravel()
    m = x @ w[:-1] + w[-1]
    loss = np.mean(np.logaddexp(0, m) - y * m) + reg / 2 * (w[:-1] @ w[:-1])
    print(f"{loss:.10f}")
'

median() { python3 -c 'import sys, statistics; print(f"{statistics.median(float(v) for v in sys.argv[1:]):.3f}")' "$@"; }
field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p"; }

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)   threads: $THREADS   repeat: $REPEAT"
declare -A TIMES
for task in $TASKS; do
  if [[ $task == kmeans ]]; then
    X="$WORK/km_x_$KM_ROWS.f64"; INIT="$WORK/km_init_$KM_ROWS.f64"
  else
    X="$WORK/lr_x_$LR_ROWS.f64"; Y="$WORK/lr_y_$LR_ROWS.f64"
  fi
  for tool in $TOOLS; do
    OUT="$WORK/out_${task}_$tool.f64"
    times=()
    for _ in $(seq "$REPEAT"); do
      case "$tool/$task" in
        eddy/kmeans)    line=$("$EDDY" --threads "$THREADS" kmeans --points "$X" --init "$INIT" --iterations 20 --output "$OUT") ;;
        eddy/logreg)    line=$("$EDDY" --threads "$THREADS" logreg --x "$X" --y "$Y" --reg "$REG" --max-iter 100 --output "$OUT") ;;
        linfa/kmeans)   line=$(RAYON_NUM_THREADS="$THREADS" "$LINFA" kmeans --points "$X" --init "$INIT" --iterations 20 --output "$OUT") ;;
        linfa/logreg)   line=$(RAYON_NUM_THREADS="$THREADS" "$LINFA" logreg --x "$X" --y "$Y" --reg "$REG" --max-iter 100 --output "$OUT") ;;
        sklearn/kmeans) line=$(OMP_NUM_THREADS="$THREADS" python3 -c "$SKLEARN_PY" kmeans "$THREADS" "$X" "$INIT" "$OUT") ;;
        sklearn/logreg) line=$(OMP_NUM_THREADS="$THREADS" python3 -c "$SKLEARN_PY" logreg "$THREADS" "$X" "$Y" "$REG" "$OUT") ;;
      esac
      times+=("$(echo "$line" | field fit_seconds)")
      iters="$(echo "$line" | field n_iter)"
    done
    TIMES[$task/$tool]=$(median "${times[@]}")
    if [[ $task == kmeans ]]; then
      quality="inertia $(python3 -c "$SCORE_PY" kmeans "$X" "$OUT")"
    else
      quality="objective $(python3 -c "$SCORE_PY" logreg "$X" "$Y" "$REG" "$OUT")"
    fi
    printf '%-7s %-8s median fit %8ss  (runs: %s)  %s%s\n' "$task" "$tool" "${TIMES[$task/$tool]}" "${times[*]}" "$quality" "${iters:+  n_iter $iters}"
  done
  python3 -c '
import sys
e, s, l = (float(v) if v else None for v in sys.argv[1:])
ratio = lambda x: f"{x / e:.2f}x" if x and e else "n/a"
print(f"        ratios: scikit-learn/eddy {ratio(s)}   linfa/eddy {ratio(l)}")' \
    "${TIMES[$task/eddy]:-}" "${TIMES[$task/sklearn]:-}" "${TIMES[$task/linfa]:-}"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
