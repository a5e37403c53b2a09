//! [`MinMaxScaler`]: rescales each dimension linearly to `[min, max]` (default `[0, 1]`).

use serde::{Deserialize, Serialize};

use super::{check_dim, fold_rows, map_rows, non_empty, sklearn, with_matrix, SEMANTICS};
use crate::error::{Error, Result};
use crate::param::{common, Param, Params};
use crate::stage::{stage_impl, Estimator, Transformer};
use crate::table::Table;

/// Learns per-dimension minima and maxima (Flink ML's MinMaxScaler). A constant
/// dimension maps to the middle of the range under Flink ML semantics, to `min` under
/// scikit-learn's.
#[derive(Debug, Clone, Default)]
pub struct MinMaxScaler {
    params: Params,
}

/// What a [`MinMaxScalerModel`] learned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MinMaxScalerModelData {
    /// Per-dimension minimum of the training data.
    pub min_vector: Vec<f64>,
    /// Per-dimension maximum of the training data.
    pub max_vector: Vec<f64>,
}

/// Rescales vectors with learned minima and maxima.
#[derive(Debug, Clone)]
pub struct MinMaxScalerModel {
    params: Params,
    data: MinMaxScalerModelData,
}

stage_impl!(
    MinMaxScaler,
    "MinMaxScaler",
    [
        common::INPUT_COL,
        common::OUTPUT_COL,
        MinMaxScaler::MIN,
        MinMaxScaler::MAX,
        SEMANTICS
    ]
);
stage_impl!(
    MinMaxScalerModel,
    "MinMaxScalerModel",
    [
        common::INPUT_COL,
        common::OUTPUT_COL,
        MinMaxScaler::MIN,
        MinMaxScaler::MAX,
        SEMANTICS
    ],
    data
);

fn finite(v: &f64) -> std::result::Result<(), String> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(format!("must be finite, got {v}"))
    }
}

impl MinMaxScaler {
    /// Lower bound of the output range.
    pub const MIN: Param<f64> = Param::new(
        "min",
        "Lower bound of the output feature range.",
        || 0.0,
        finite,
    );
    /// Upper bound of the output range.
    pub const MAX: Param<f64> = Param::new(
        "max",
        "Upper bound of the output feature range.",
        || 1.0,
        finite,
    );

    /// A MinMaxScaler with default params.
    pub fn new() -> Self {
        Self::default()
    }
}

fn check_range(params: &Params) -> Result<(f64, f64)> {
    let (lo, hi) = (
        params.get(&MinMaxScaler::MIN),
        params.get(&MinMaxScaler::MAX),
    );
    if lo < hi {
        Ok((lo, hi))
    } else {
        Err(Error::param(
            "MinMaxScaler",
            "max",
            format!("must be above min ({lo}), got {hi}"),
        ))
    }
}

impl Estimator for MinMaxScaler {
    type Model = MinMaxScalerModel;

    fn fit(&self, input: &Table) -> Result<MinMaxScalerModel> {
        check_range(&self.params)?;
        let m = input.matrix(&self.params.get(&common::INPUT_COL))?;
        non_empty("MinMaxScaler", m.rows)?;
        let dim = m.dim;
        let (min_vector, max_vector) = fold_rows(
            &m,
            (vec![f64::INFINITY; dim], vec![f64::NEG_INFINITY; dim]),
            |(lo, hi), row| {
                for ((l, h), x) in lo.iter_mut().zip(hi.iter_mut()).zip(row) {
                    *l = l.min(*x);
                    *h = h.max(*x);
                }
            },
            |(mut lo, mut hi), (lo2, hi2)| {
                lo.iter_mut().zip(&lo2).for_each(|(a, b)| *a = a.min(*b));
                hi.iter_mut().zip(&hi2).for_each(|(a, b)| *a = a.max(*b));
                (lo, hi)
            },
        );
        Ok(MinMaxScalerModel {
            params: self.params.clone(),
            data: MinMaxScalerModelData {
                min_vector,
                max_vector,
            },
        })
    }
}

impl MinMaxScalerModel {
    /// The learned minima and maxima.
    pub fn data(&self) -> &MinMaxScalerModelData {
        &self.data
    }

    fn check_data(&self) -> std::result::Result<(), String> {
        if self.data.min_vector.len() == self.data.max_vector.len() {
            Ok(())
        } else {
            Err("min and max vectors differ in length".into())
        }
    }
}

impl Transformer for MinMaxScalerModel {
    fn transform(&self, input: &Table) -> Result<Table> {
        let (lo, hi) = check_range(&self.params)?;
        let sk = sklearn(&self.params.get(&SEMANTICS));
        // out = x * scale + offset, as both Flink ML and scikit-learn compute it.
        let (scale, offset): (Vec<f64>, Vec<f64>) = self
            .data
            .min_vector
            .iter()
            .zip(&self.data.max_vector)
            .map(|(mn, mx)| {
                let range = mx - mn;
                if sk {
                    let range = if range < 10.0 * f64::EPSILON {
                        1.0
                    } else {
                        range
                    };
                    let scale = (hi - lo) / range;
                    (scale, lo - mn * scale)
                } else if range.abs() < 1e-5 {
                    (0.0, (hi + lo) / 2.0)
                } else {
                    let scale = (hi - lo) / range;
                    (scale, lo - mn * scale)
                }
            })
            .unzip();
        let in_col = self.params.get(&common::INPUT_COL);
        let m = input.matrix(&in_col)?;
        check_dim("MinMaxScalerModel", &in_col, m.dim, scale.len())?;
        let out = map_rows(&m, |row, out| {
            for (i, (o, x)) in out.iter_mut().zip(row).enumerate() {
                *o = x * scale[i] + offset[i];
            }
        });
        with_matrix(input, &self.params.get(&common::OUTPUT_COL), out)
    }
}
