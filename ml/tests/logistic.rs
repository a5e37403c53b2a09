//! Logistic regression beyond the scikit-learn golden test: Flink ML's mini-batch SGD
//! against a plain re-implementation of its update rule, and OWL-QN (L1) solutions checked
//! against the lasso optimality conditions computed with naive loops.

// The references index rows and dimensions the way the formulas are written.
#![allow(clippy::needless_range_loop)]

use eddy_ml::classification::LogisticRegression;
use eddy_ml::param::common;
use eddy_ml::{Column, DenseMatrix, Estimator, Table, Transformer, WithParams};

fn data() -> (DenseMatrix, Vec<f64>) {
    let mut rows = Vec::new();
    let mut labels = Vec::new();
    let mut state = 7u64;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    };
    for _ in 0..200 {
        let x = [next() * 2.0, next(), next() * 0.5];
        let margin = 1.5 * x[0] - 2.0 * x[1] + 0.3 * x[2] + 0.2;
        labels.push(if margin + next() * 0.8 > 0.0 {
            1.0
        } else {
            0.0
        });
        rows.push(x.to_vec());
    }
    (DenseMatrix::from_rows(&rows).unwrap(), labels)
}

fn table(x: &DenseMatrix, y: &[f64]) -> Table {
    Table::new()
        .with_column("features", Column::Matrix(x.clone()))
        .unwrap()
        .with_column("label", Column::Double(y.to_vec()))
        .unwrap()
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

#[test]
fn sgd_follows_flink_mls_update_rule() {
    let (x, y) = data();
    for (reg, elastic_net) in [(0.0, 0.0), (0.1, 0.0), (0.1, 1.0), (0.2, 0.4)] {
        let (lr, batch, iters) = (0.1, 32, 25);
        let model = LogisticRegression::new()
            .set(&common::REG, reg)
            .unwrap()
            .set(&common::ELASTIC_NET, elastic_net)
            .unwrap()
            .set(&common::MAX_ITER, iters)
            .unwrap()
            .set(&common::TOL, 0.0)
            .unwrap()
            .fit(&table(&x, &y))
            .unwrap();
        // The reference: batches of 32 rows in order, wrapping around; mean gradient step;
        // then L2 shrinkage and L1 soft-thresholding by the learning rate.
        let mut w = vec![0.0; 3];
        let mut start = 0;
        for _ in 0..iters {
            let end = (start + batch).min(x.rows);
            let mut g = [0.0; 3];
            for i in start..end {
                let r = x.row(i);
                let p = sigmoid(r.iter().zip(&w).map(|(a, b)| a * b).sum());
                for d in 0..3 {
                    g[d] += (p - y[i]) * r[d];
                }
            }
            for d in 0..3 {
                w[d] -= lr * g[d] / (end - start) as f64;
                w[d] -= lr * reg * (1.0 - elastic_net) * w[d];
                let t = lr * reg * elastic_net;
                w[d] = w[d].signum() * (w[d].abs() - t).max(0.0);
            }
            start = end % x.rows;
        }
        for (a, b) in model.data().coefficient.iter().zip(&w) {
            assert!(
                (a - b).abs() < 1e-12,
                "reg {reg} elasticNet {elastic_net}: {a} vs {b}"
            );
        }
        assert_eq!(model.data().intercept, 0.0, "Flink ML fits no intercept");
    }
}

#[test]
fn owlqn_solutions_meet_the_optimality_conditions() {
    let (x, y) = data();
    for (reg, elastic_net) in [(0.05, 1.0), (0.3, 0.5), (0.02, 0.8)] {
        let model = LogisticRegression::new()
            .set(&LogisticRegression::SOLVER, "lbfgs".into())
            .unwrap()
            .set(&LogisticRegression::FIT_INTERCEPT, true)
            .unwrap()
            .set(&common::REG, reg)
            .unwrap()
            .set(&common::ELASTIC_NET, elastic_net)
            .unwrap()
            .set(&common::MAX_ITER, 1000)
            .unwrap()
            .set(&common::TOL, 1e-10)
            .unwrap()
            .fit(&table(&x, &y))
            .unwrap();
        let (w, b) = (&model.data().coefficient, model.data().intercept);
        let (l1, l2) = (reg * elastic_net, reg * (1.0 - elastic_net));
        // Gradient of the smooth part: mean logistic loss + l2/2 |w|^2.
        let n = x.rows as f64;
        let mut g = [0.0; 4];
        for i in 0..x.rows {
            let r = x.row(i);
            let p = sigmoid(r.iter().zip(w).map(|(a, c)| a * c).sum::<f64>() + b);
            for d in 0..3 {
                g[d] += (p - y[i]) * r[d] / n;
            }
            g[3] += (p - y[i]) / n;
        }
        for d in 0..3 {
            g[d] += l2 * w[d];
            if w[d] != 0.0 {
                assert!(
                    (g[d] + l1 * w[d].signum()).abs() < 1e-7,
                    "coef {d} = {}: gradient {}",
                    w[d],
                    g[d]
                );
            } else {
                assert!(
                    g[d].abs() <= l1 + 1e-7,
                    "zero coef {d}: |gradient| {} > {l1}",
                    g[d].abs()
                );
            }
        }
        assert!(g[3].abs() < 1e-7, "intercept gradient {}", g[3]);
        let out = model.transform(&table(&x, &y)).unwrap();
        assert_eq!(out.matrix("rawPrediction").unwrap().dim, 2);
    }
    // A strong L1 penalty zeroes every coefficient.
    let model = LogisticRegression::new()
        .set(&LogisticRegression::SOLVER, "lbfgs".into())
        .unwrap()
        .set(&common::REG, 10.0)
        .unwrap()
        .set(&common::ELASTIC_NET, 1.0)
        .unwrap()
        .fit(&table(&x, &y))
        .unwrap();
    assert_eq!(model.data().coefficient, vec![0.0; 3]);
}

#[test]
fn labels_other_than_zero_and_one_are_rejected() {
    let (x, mut y) = data();
    y[4] = 2.0;
    let e = LogisticRegression::new()
        .fit(&table(&x, &y))
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "<table>:6: column 'label': label 2 is not 0 or 1 (binomial logistic regression)"
    );
}
