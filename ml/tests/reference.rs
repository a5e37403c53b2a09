//! Property tests against small, obviously correct reference implementations: KMeans'
//! Lloyd iterations (naive loops over points and centers), the scalers (per-column
//! formulas) and the binary evaluator (AUC by counting pairs, KS and PR by recounting every
//! threshold from scratch).

use eddy_ml::clustering::KMeans;
use eddy_ml::evaluation::BinaryClassificationEvaluator;
use eddy_ml::feature::{MaxAbsScaler, MinMaxScaler, StandardScaler, SEMANTICS};
use eddy_ml::{Column, DenseMatrix, Estimator, Table, Transformer, WithParams};
use proptest::prelude::*;

fn matrix_strategy() -> impl Strategy<Value = DenseMatrix> {
    (1usize..4, 1usize..30).prop_flat_map(|(dim, rows)| {
        // Small integers and halves: sums are exact, so the comparison can be too.
        proptest::collection::vec((-20i32..20).prop_map(|v| f64::from(v) / 2.0), rows * dim)
            .prop_map(move |values| DenseMatrix::new(rows, dim, values).unwrap())
    })
}

fn table(m: &DenseMatrix, col: &str) -> Table {
    Table::new()
        .with_column(col, Column::Matrix(m.clone()))
        .unwrap()
}

/// Naive Lloyd: assign each point to the first nearest center, move each center to the
/// mean of its points (or leave it), stop early when nothing moves.
fn reference_lloyd(
    points: &DenseMatrix,
    mut centers: Vec<Vec<f64>>,
    max_iter: usize,
) -> Vec<Vec<f64>> {
    for _ in 0..max_iter {
        let mut sums = vec![vec![0.0; points.dim]; centers.len()];
        let mut counts = vec![0usize; centers.len()];
        for p in points.iter_rows() {
            let mut best = 0;
            let mut best_d = f64::INFINITY;
            for (j, c) in centers.iter().enumerate() {
                let d: f64 = p.iter().zip(c).map(|(a, b)| (a - b) * (a - b)).sum();
                if d < best_d {
                    best = j;
                    best_d = d;
                }
            }
            counts[best] += 1;
            for (s, x) in sums[best].iter_mut().zip(p) {
                *s += x;
            }
        }
        let next: Vec<Vec<f64>> = centers
            .iter()
            .enumerate()
            .map(|(j, c)| {
                if counts[j] == 0 {
                    c.clone()
                } else {
                    sums[j].iter().map(|s| s / counts[j] as f64).collect()
                }
            })
            .collect();
        if next == centers {
            break;
        }
        centers = next;
    }
    centers
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn kmeans_matches_naive_lloyd(m in matrix_strategy(), k_seed in 0usize..100, max_iter in 1usize..8) {
        let k = 1 + k_seed % m.rows;
        let initial = DenseMatrix::new(k, m.dim, m.values[..k * m.dim].to_vec()).unwrap();
        let model = KMeans::new().set(&KMeans::K, k).unwrap().set(&KMeans::MAX_ITER, max_iter).unwrap()
            .fit_from(&table(&m, "features"), initial).unwrap();
        let start: Vec<Vec<f64>> = m.iter_rows().take(k).map(<[f64]>::to_vec).collect();
        let want = reference_lloyd(&m, start, max_iter).concat();
        let got = &model.data().centroids.values;
        for (a, b) in got.iter().zip(&want) {
            prop_assert!((a - b).abs() <= 1e-12 * b.abs().max(1.0), "{got:?} vs {want:?}");
        }
    }

    #[test]
    fn scalers_match_per_column_formulas(m in matrix_strategy(), sklearn in any::<bool>()) {
        let t = table(&m, "input");
        let semantics = if sklearn { "scikit-learn" } else { "flink" };
        let n = m.rows as f64;
        for j in 0..m.dim {
            let col: Vec<f64> = m.iter_rows().map(|r| r[j]).collect();
            let mean = col.iter().sum::<f64>() / n;
            let ss: f64 = col.iter().map(|x| (x - mean) * (x - mean)).sum();
            let std = if sklearn { (ss / n).sqrt() } else if m.rows > 1 { (ss / (n - 1.0)).sqrt() } else { 0.0 };
            let lo = col.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = col.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let max_abs = col.iter().fold(0.0f64, |a, x| a.max(x.abs()));

            let standard = StandardScaler::new().set(&StandardScaler::WITH_MEAN, true).unwrap()
                .set(&SEMANTICS, semantics.into()).unwrap().fit(&t).unwrap().transform(&t).unwrap();
            let minmax = MinMaxScaler::new().set(&SEMANTICS, semantics.into()).unwrap().fit(&t).unwrap().transform(&t).unwrap();
            let maxabs = MaxAbsScaler::new().fit(&t).unwrap().transform(&t).unwrap();
            for (i, x) in col.iter().enumerate() {
                let want_std = if std == 0.0 { if sklearn { x - mean } else { 0.0 } } else { (x - mean) / std };
                let got = standard.matrix("output").unwrap().row(i)[j];
                prop_assert!((got - want_std).abs() <= 1e-12 * want_std.abs().max(1.0), "standard {got} vs {want_std}");
                let want_mm = if hi - lo == 0.0 { if sklearn { 0.0 } else { 0.5 } } else { (x - lo) / (hi - lo) };
                let got = minmax.matrix("output").unwrap().row(i)[j];
                prop_assert!((got - want_mm).abs() <= 1e-12, "minmax {got} vs {want_mm}");
                let want_ma = if max_abs == 0.0 { *x } else { x / max_abs };
                prop_assert_eq!(maxabs.matrix("output").unwrap().row(i)[j], want_ma);
            }
        }
    }

    #[test]
    fn evaluator_matches_recounting(rows in proptest::collection::vec((0u8..12, any::<bool>()), 1..60)) {
        let labels: Vec<f64> = rows.iter().map(|r| if r.1 { 1.0 } else { 0.0 }).collect();
        let scores: Vec<f64> = rows.iter().map(|r| f64::from(r.0) / 10.0).collect();
        let t = Table::new().with_column("label", Column::Double(labels.clone())).unwrap()
            .with_column("rawPrediction", Column::Double(scores.clone())).unwrap();
        let m = BinaryClassificationEvaluator::new().metrics(&t).unwrap();
        let pos: Vec<f64> = scores.iter().zip(&labels).filter(|(_, l)| **l == 1.0).map(|(s, _)| *s).collect();
        let neg: Vec<f64> = scores.iter().zip(&labels).filter(|(_, l)| **l == 0.0).map(|(s, _)| *s).collect();
        // AUC: the share of (positive, negative) pairs ranked right, ties counting half.
        if pos.is_empty() || neg.is_empty() {
            prop_assert!(m.area_under_roc.is_nan());
        } else {
            let mut wins = 0.0;
            for p in &pos { for n in &neg { wins += if p > n { 1.0 } else if p == n { 0.5 } else { 0.0 }; } }
            let auc = wins / (pos.len() * neg.len()) as f64;
            prop_assert!((m.area_under_roc - auc).abs() < 1e-12, "auc {} vs {auc}", m.area_under_roc);
        }
        // KS and PR: every distinct score as a threshold, counts recomputed from scratch.
        let mut thresholds = scores.clone();
        thresholds.sort_by(|a, b| b.total_cmp(a));
        thresholds.dedup();
        let (p, n) = (pos.len() as f64, neg.len() as f64);
        let (mut ks, mut pr, mut prev_recall, mut prev_precision) = (0.0f64, 0.0, 0.0, 1.0);
        for t in thresholds {
            let tp = pos.iter().filter(|s| **s >= t).count() as f64;
            let fp = neg.iter().filter(|s| **s >= t).count() as f64;
            let tpr = if p == 0.0 { 1.0 } else { tp / p };
            let fpr = if n == 0.0 { 1.0 } else { fp / n };
            ks = ks.max((tpr - fpr).abs());
            let precision = tp / (tp + fp);
            pr += (tpr - prev_recall) * (precision + prev_precision) / 2.0;
            prev_recall = tpr;
            prev_precision = precision;
        }
        prop_assert!((m.ks - ks).abs() < 1e-12, "ks {} vs {ks}", m.ks);
        prop_assert!((m.area_under_pr - pr).abs() < 1e-12, "pr {} vs {pr}", m.area_under_pr);
    }
}
