//! [`MaxAbsScaler`]: divides each dimension by its largest absolute value, so values fall
//! in `[-1, 1]`; sparse vectors stay sparse.

use serde::{Deserialize, Serialize};

use super::{check_dim, fold_rows, map_rows, non_empty, with_matrix};
use crate::error::Result;
use crate::linalg::Vector;
use crate::param::{common, Params};
use crate::stage::{stage_impl, Estimator, Transformer};
use crate::table::{Column, Table};

/// Learns per-dimension maximum absolute values (Flink ML's MaxAbsScaler; a dimension
/// that is all zero is left as is, as in scikit-learn).
#[derive(Debug, Clone, Default)]
pub struct MaxAbsScaler {
    params: Params,
}

/// What a [`MaxAbsScalerModel`] learned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MaxAbsScalerModelData {
    /// Per-dimension maximum absolute value.
    pub max_vector: Vec<f64>,
}

/// Scales vectors by learned maximum absolute values.
#[derive(Debug, Clone)]
pub struct MaxAbsScalerModel {
    params: Params,
    data: MaxAbsScalerModelData,
}

stage_impl!(
    MaxAbsScaler,
    "MaxAbsScaler",
    [common::INPUT_COL, common::OUTPUT_COL]
);
stage_impl!(
    MaxAbsScalerModel,
    "MaxAbsScalerModel",
    [common::INPUT_COL, common::OUTPUT_COL],
    data
);

impl MaxAbsScaler {
    /// A MaxAbsScaler with default params.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Estimator for MaxAbsScaler {
    type Model = MaxAbsScalerModel;

    fn fit(&self, input: &Table) -> Result<MaxAbsScalerModel> {
        let m = input.matrix(&self.params.get(&common::INPUT_COL))?;
        non_empty("MaxAbsScaler", m.rows)?;
        let max_vector = fold_rows(
            &m,
            vec![0.0f64; m.dim],
            |acc, row| {
                acc.iter_mut()
                    .zip(row)
                    .for_each(|(a, x)| *a = a.max(x.abs()))
            },
            |mut a, b| {
                a.iter_mut().zip(&b).for_each(|(a, b)| *a = a.max(*b));
                a
            },
        );
        Ok(MaxAbsScalerModel {
            params: self.params.clone(),
            data: MaxAbsScalerModelData { max_vector },
        })
    }
}

impl MaxAbsScalerModel {
    /// The learned maxima.
    pub fn data(&self) -> &MaxAbsScalerModelData {
        &self.data
    }

    fn check_data(&self) -> std::result::Result<(), String> {
        Ok(())
    }
}

impl Transformer for MaxAbsScalerModel {
    fn transform(&self, input: &Table) -> Result<Table> {
        let in_col = self.params.get(&common::INPUT_COL);
        let out_col = self.params.get(&common::OUTPUT_COL);
        let div: Vec<f64> = self
            .data
            .max_vector
            .iter()
            .map(|m| if *m == 0.0 { 1.0 } else { *m })
            .collect();
        if let Column::Vectors(vs) = input.column(&in_col)? {
            let out: Vec<Vector> = vs.iter().map(|v| v.map_stored(|i, x| x / div[i])).collect();
            if let Some(v) = out.first() {
                check_dim("MaxAbsScalerModel", &in_col, v.len(), div.len())?;
            }
            return input.clone().with_column(&out_col, Column::Vectors(out));
        }
        let m = input.matrix(&in_col)?;
        check_dim("MaxAbsScalerModel", &in_col, m.dim, div.len())?;
        let out = map_rows(&m, |row, out| {
            for ((o, x), d) in out.iter_mut().zip(row).zip(&div) {
                *o = x / d;
            }
        });
        with_matrix(input, &out_col, out)
    }
}
