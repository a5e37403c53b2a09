//! [`StandardScaler`]: removes the mean and scales to unit standard deviation, per
//! dimension.
//!
//! # Algorithm
//! Two parallel passes over row chunks: the means, then the sums of squared deviations
//! (more accurate than Flink ML's single pass of sums and squared sums, same result in exact
//! arithmetic). `std` is the sample standard deviation (n - 1) under Flink ML semantics and
//! the population one (n) under scikit-learn's; see [the module](crate::feature).

use serde::{Deserialize, Serialize};

use super::{check_dim, fold_rows, map_rows, non_empty, sklearn, with_matrix, SEMANTICS};
use crate::error::Result;
use crate::linalg::Vector;
use crate::param::{checks, common, Param, Params};
use crate::stage::{stage_impl, Estimator, Transformer};
use crate::table::{Column, Table};

/// Learns per-dimension means and standard deviations (Flink ML's StandardScaler:
/// `withMean` false, `withStd` true by default).
#[derive(Debug, Clone, Default)]
pub struct StandardScaler {
    params: Params,
}

/// What a [`StandardScalerModel`] learned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StandardScalerModelData {
    /// Per-dimension mean.
    pub mean: Vec<f64>,
    /// Per-dimension standard deviation (sample or population, per `semantics`).
    pub std: Vec<f64>,
}

/// Scales vectors with a learned mean and standard deviation.
#[derive(Debug, Clone)]
pub struct StandardScalerModel {
    params: Params,
    data: StandardScalerModelData,
}

stage_impl!(
    StandardScaler,
    "StandardScaler",
    [
        common::INPUT_COL,
        common::OUTPUT_COL,
        StandardScaler::WITH_MEAN,
        StandardScaler::WITH_STD,
        SEMANTICS
    ]
);
stage_impl!(
    StandardScalerModel,
    "StandardScalerModel",
    [
        common::INPUT_COL,
        common::OUTPUT_COL,
        StandardScaler::WITH_MEAN,
        StandardScaler::WITH_STD,
        SEMANTICS
    ],
    data
);

impl StandardScaler {
    /// Whether to subtract the mean (densifies sparse input).
    pub const WITH_MEAN: Param<bool> = Param::new(
        "withMean",
        "Whether centers the data with mean before scaling.",
        || false,
        checks::any,
    );
    /// Whether to divide by the standard deviation.
    pub const WITH_STD: Param<bool> = Param::new(
        "withStd",
        "Whether scales the data with standard deviation.",
        || true,
        checks::any,
    );

    /// A StandardScaler with default params.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Estimator for StandardScaler {
    type Model = StandardScalerModel;

    fn fit(&self, input: &Table) -> Result<StandardScalerModel> {
        let m = input.matrix(&self.params.get(&common::INPUT_COL))?;
        non_empty("StandardScaler", m.rows)?;
        let dim = m.dim;
        let n = m.rows as f64;
        let sums = fold_rows(
            &m,
            vec![0.0; dim],
            |acc, row| acc.iter_mut().zip(row).for_each(|(a, x)| *a += x),
            |mut a, b| {
                a.iter_mut().zip(&b).for_each(|(a, b)| *a += b);
                a
            },
        );
        let mean: Vec<f64> = sums.iter().map(|s| s / n).collect();
        let squares = fold_rows(
            &m,
            vec![0.0; dim],
            |acc, row| {
                for ((a, x), mu) in acc.iter_mut().zip(row).zip(&mean) {
                    let d = x - mu;
                    *a += d * d;
                }
            },
            |mut a, b| {
                a.iter_mut().zip(&b).for_each(|(a, b)| *a += b);
                a
            },
        );
        let population = sklearn(&self.params.get(&SEMANTICS));
        let std = squares
            .iter()
            .map(|s| match (population, m.rows) {
                (true, _) => (s / n).sqrt(),
                (false, 1) => 0.0,
                (false, _) => (s / (n - 1.0)).sqrt(),
            })
            .collect();
        Ok(StandardScalerModel {
            params: self.params.clone(),
            data: StandardScalerModelData { mean, std },
        })
    }
}

impl StandardScalerModel {
    /// The learned means and standard deviations.
    pub fn data(&self) -> &StandardScalerModelData {
        &self.data
    }

    fn check_data(&self) -> std::result::Result<(), String> {
        if self.data.mean.len() == self.data.std.len() {
            Ok(())
        } else {
            Err("mean and std differ in length".into())
        }
    }

    /// The multiplier of each dimension.
    fn scale(&self) -> Vec<f64> {
        let with_std = self.params.get(&StandardScaler::WITH_STD);
        let sk = sklearn(&self.params.get(&SEMANTICS));
        self.data
            .std
            .iter()
            .map(|s| match (with_std, *s == 0.0, sk) {
                (false, _, _) => 1.0,
                (true, true, true) => 1.0,
                (true, true, false) => 0.0,
                (true, false, _) => 1.0 / s,
            })
            .collect()
    }
}

impl Transformer for StandardScalerModel {
    fn transform(&self, input: &Table) -> Result<Table> {
        let in_col = self.params.get(&common::INPUT_COL);
        let out_col = self.params.get(&common::OUTPUT_COL);
        let with_mean = self.params.get(&StandardScaler::WITH_MEAN);
        let scale = self.scale();
        let mean = &self.data.mean;
        let sk = sklearn(&self.params.get(&SEMANTICS));
        let with_std = self.params.get(&StandardScaler::WITH_STD);
        let std = &self.data.std;
        // scikit-learn divides by the std, Flink ML multiplies by its inverse.
        let apply = |i: usize, x: f64| -> f64 {
            let centered = if with_mean { x - mean[i] } else { x };
            if sk && with_std && std[i] != 0.0 {
                centered / std[i]
            } else {
                centered * scale[i]
            }
        };
        if let (Column::Vectors(vs), false) = (input.column(&in_col)?, with_mean) {
            let out: Vec<Vector> = vs.iter().map(|v| v.map_stored(apply)).collect();
            if let Some(v) = out.first() {
                check_dim("StandardScalerModel", &in_col, v.len(), mean.len())?;
            }
            return input.clone().with_column(&out_col, Column::Vectors(out));
        }
        let m = input.matrix(&in_col)?;
        check_dim("StandardScalerModel", &in_col, m.dim, mean.len())?;
        let out = map_rows(&m, |row, out| {
            for (i, (o, x)) in out.iter_mut().zip(row).enumerate() {
                *o = apply(i, *x);
            }
        });
        with_matrix(input, &out_col, out)
    }
}
