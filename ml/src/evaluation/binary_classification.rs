//! [`BinaryClassificationEvaluator`]: area under the ROC and precision-recall curves, KS
//! and area under the Lorenz curve, from scores and 0/1 labels.
//!
//! # Algorithm
//! Sort (in parallel) by score, descending; walk the distinct scores as thresholds,
//! accumulating (weighted) true and false positives. Curves are integrated with the
//! trapezoid rule: ROC from (0, 0) to (1, 1); PR from (recall 0, precision 1); KS is the
//! largest |TPR - FPR|.
//!
//! # Flink ML and scikit-learn
//! Flink ML steps the PR and Lorenz curves and KS one row at a time, so among tied scores
//! the result depends on row order; Eddy steps once per distinct score (as scikit-learn's
//! curves do), so ties count together. Without ties the two agree. areaUnderROC is the
//! same in all three (ties count half). With only one class present, areaUnderROC is NaN
//! (Flink ML's convention).

use std::collections::BTreeMap;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::param::{common, Param, Params};
use crate::stage::{stage_impl, AlgoOperator};
use crate::table::{Column, Table};

/// Computes binary classification metrics (Flink ML's BinaryClassificationEvaluator:
/// `metricsNames` defaults to areaUnderROC and areaUnderPR).
///
/// ```
/// use eddy_ml::evaluation::BinaryClassificationEvaluator;
/// use eddy_ml::{Column, Table};
///
/// let t = Table::new()
///     .with_column("label", Column::Double(vec![0.0, 0.0, 1.0, 1.0]))?
///     .with_column("rawPrediction", Column::Double(vec![0.1, 0.4, 0.35, 0.8]))?;
/// let m = BinaryClassificationEvaluator::new().metrics(&t)?;
/// assert_eq!(m.area_under_roc, 0.75);
/// assert_eq!(m.ks, 0.5);
/// # Ok::<(), eddy_ml::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct BinaryClassificationEvaluator {
    params: Params,
}

stage_impl!(
    BinaryClassificationEvaluator,
    "BinaryClassificationEvaluator",
    [
        common::LABEL_COL,
        common::RAW_PREDICTION_COL,
        common::WEIGHT_COL,
        BinaryClassificationEvaluator::METRICS_NAMES
    ]
);

const METRICS: [&str; 4] = ["areaUnderROC", "areaUnderPR", "ks", "areaUnderLorenz"];

/// Every metric the evaluator computes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BinaryMetrics {
    /// Area under the ROC curve (NaN with one class only).
    pub area_under_roc: f64,
    /// Area under the precision-recall curve.
    pub area_under_pr: f64,
    /// Kolmogorov-Smirnov statistic: max |TPR - FPR|.
    pub ks: f64,
    /// Area under the Lorenz curve (TPR against the share of rows predicted positive).
    pub area_under_lorenz: f64,
}

impl BinaryMetrics {
    /// The metric named `name` (one of `metricsNames`' values).
    pub fn get(&self, name: &str) -> Option<f64> {
        match name {
            "areaUnderROC" => Some(self.area_under_roc),
            "areaUnderPR" => Some(self.area_under_pr),
            "ks" => Some(self.ks),
            "areaUnderLorenz" => Some(self.area_under_lorenz),
            _ => None,
        }
    }
}

impl BinaryClassificationEvaluator {
    /// Which metrics the output table has, in order.
    pub const METRICS_NAMES: Param<Vec<String>> = Param::new(
        "metricsNames",
        "Names of the output metrics: areaUnderROC, areaUnderPR, ks, areaUnderLorenz.",
        || vec!["areaUnderROC".into(), "areaUnderPR".into()],
        |v| {
            if v.is_empty() {
                return Err("must name at least one metric".into());
            }
            match v.iter().find(|m| !METRICS.contains(&m.as_str())) {
                Some(bad) => Err(format!(
                    "unknown metric '{bad}' (known: {})",
                    METRICS.join(", ")
                )),
                None => Ok(()),
            }
        },
    );

    /// An evaluator with default params.
    pub fn new() -> Self {
        Self::default()
    }

    /// All metrics of `input`'s scores (`rawPredictionCol`: a number, or a vector whose
    /// entry 1 is the score of class 1) against its 0/1 labels.
    ///
    /// # Errors
    /// [`Error::Schema`] for missing columns, [`Error::BadInput`] for a label other than
    /// 0 or 1 or a NaN score.
    pub fn metrics(&self, input: &Table) -> Result<BinaryMetrics> {
        let label_col = self.params.get(&common::LABEL_COL);
        let labels = input.doubles(&label_col)?;
        let score_col = self.params.get(&common::RAW_PREDICTION_COL);
        let scores: Vec<f64> = match input.column(&score_col)? {
            Column::Double(v) => v.clone(),
            _ => {
                let m = input.matrix(&score_col)?;
                if m.dim < 2 {
                    return Err(Error::Schema(format!(
                        "column '{score_col}' must be a number or a vector of two entries"
                    )));
                }
                m.iter_rows().map(|r| r[1]).collect()
            }
        };
        let weights = match self.params.get(&common::WEIGHT_COL) {
            Some(c) => Some(input.doubles(&c)?),
            None => None,
        };
        let bad = |i: usize, column: &str, message: String| Error::BadInput {
            file: input.origin().to_string(),
            line: i as u64 + 2,
            column: column.to_string(),
            message,
        };
        let mut rows: Vec<(f64, bool, f64)> = Vec::with_capacity(labels.len());
        for (i, (l, s)) in labels.iter().zip(&scores).enumerate() {
            if *l != 0.0 && *l != 1.0 {
                return Err(bad(i, &label_col, format!("label {l} is not 0 or 1")));
            }
            if s.is_nan() {
                return Err(bad(i, &score_col, "score is NaN".into()));
            }
            rows.push((*s, *l == 1.0, weights.map_or(1.0, |w| w[i])));
        }
        Ok(compute(rows))
    }
}

/// The metrics of `(score, is positive, weight)` rows.
pub(crate) fn compute(mut rows: Vec<(f64, bool, f64)>) -> BinaryMetrics {
    rows.par_sort_unstable_by(|a, b| b.0.total_cmp(&a.0));
    let (p, n) = rows.iter().fold(
        (0.0, 0.0),
        |(p, n), r| if r.1 { (p + r.2, n) } else { (p, n + r.2) },
    );
    let total = p + n;
    let (mut tp, mut fp) = (0.0f64, 0.0f64);
    let (mut tpr0, mut fpr0, mut prec0, mut rate0) = (0.0, 0.0, 1.0, 0.0);
    let (mut roc, mut pr, mut ks, mut lorenz) = (0.0, 0.0, 0.0f64, 0.0);
    let mut i = 0;
    while i < rows.len() {
        let score = rows[i].0;
        while i < rows.len() && rows[i].0 == score {
            if rows[i].1 {
                tp += rows[i].2;
            } else {
                fp += rows[i].2;
            }
            i += 1;
        }
        let tpr = if p == 0.0 { 1.0 } else { tp / p };
        let fpr = if n == 0.0 { 1.0 } else { fp / n };
        let precision = if tp + fp == 0.0 { 1.0 } else { tp / (tp + fp) };
        let rate = if total == 0.0 { 0.0 } else { (tp + fp) / total };
        roc += (fpr - fpr0) * (tpr + tpr0) / 2.0;
        pr += (tpr - tpr0) * (precision + prec0) / 2.0;
        lorenz += (rate - rate0) * (tpr + tpr0) / 2.0;
        ks = ks.max((tpr - fpr).abs());
        (tpr0, fpr0, prec0, rate0) = (tpr, fpr, precision, rate);
    }
    BinaryMetrics {
        area_under_roc: if p > 0.0 && n > 0.0 { roc } else { f64::NAN },
        area_under_pr: pr,
        ks,
        area_under_lorenz: lorenz,
    }
}

impl AlgoOperator for BinaryClassificationEvaluator {
    /// One table of one row: a column per name in `metricsNames`.
    fn transform_tables(&self, inputs: &[&Table]) -> Result<Vec<Table>> {
        let input = inputs.first().ok_or_else(|| {
            Error::Schema("BinaryClassificationEvaluator needs one input table".into())
        })?;
        let metrics = self.metrics(input)?;
        let mut out = Table::new();
        let mut seen = BTreeMap::new();
        for name in self.params.get(&Self::METRICS_NAMES) {
            let value = metrics.get(&name).unwrap_or(f64::NAN);
            if seen.insert(name.clone(), value).is_none() {
                out = out.with_column(&name, Column::Double(vec![value]))?;
            }
        }
        Ok(vec![out])
    }
}
