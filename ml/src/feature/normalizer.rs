//! [`Normalizer`]: scales each vector to unit p-norm.

use super::map_rows;
use crate::error::Result;
use crate::linalg::Vector;
use crate::param::{common, Param, Params};
use crate::stage::{stage_impl, Transformer};
use crate::table::{Column, Table};

/// Scales every vector of `inputCol` to unit `p`-norm (Flink ML's Normalizer, `p = 2` by
/// default, `p >= 1`). Unlike Flink ML, `p` must be finite (params are saved as JSON, which
/// has no infinity); a large `p` approaches the max norm. A zero vector stays zero. Sparse
/// vectors stay sparse.
///
/// ```
/// use eddy_ml::feature::Normalizer;
/// use eddy_ml::{Column, DenseMatrix, Table, Transformer, WithParams};
///
/// let t = Table::new().with_column("input", Column::Matrix(DenseMatrix::from_rows(&[vec![3.0, -4.0]])?))?;
/// let l1 = Normalizer::new().set(&Normalizer::P, 1.0)?.transform(&t)?;
/// assert_eq!(l1.matrix("output")?.values, vec![3.0 / 7.0, -4.0 / 7.0]);
/// # Ok::<(), eddy_ml::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Normalizer {
    params: Params,
}

stage_impl!(
    Normalizer,
    "Normalizer",
    [common::INPUT_COL, common::OUTPUT_COL, Normalizer::P]
);

impl Normalizer {
    /// The norm's `p`.
    pub const P: Param<f64> = Param::new(
        "p",
        "The p norm value.",
        || 2.0,
        |p| {
            if *p >= 1.0 && p.is_finite() {
                Ok(())
            } else {
                Err(format!("must be a finite number >= 1, got {p}"))
            }
        },
    );

    /// A Normalizer with default params.
    pub fn new() -> Self {
        Self::default()
    }
}

/// The p-norm of the stored values (zeros add nothing).
fn norm(values: &[f64], p: f64) -> f64 {
    if p == 1.0 {
        values.iter().map(|x| x.abs()).sum()
    } else if p == 2.0 {
        values.iter().map(|x| x * x).sum::<f64>().sqrt()
    } else {
        values
            .iter()
            .map(|x| x.abs().powf(p))
            .sum::<f64>()
            .powf(1.0 / p)
    }
}

impl Transformer for Normalizer {
    fn transform(&self, input: &Table) -> Result<Table> {
        let p = self.params.get(&Self::P);
        let in_col = self.params.get(&common::INPUT_COL);
        let out_col = self.params.get(&common::OUTPUT_COL);
        if let Column::Vectors(vs) = input.column(&in_col)? {
            let out: Vec<Vector> = vs
                .iter()
                .map(|v| {
                    let n = norm(v.stored_values(), p);
                    let n = if n == 0.0 { 1.0 } else { n };
                    v.map_stored(|_, x| x / n)
                })
                .collect();
            return input.clone().with_column(&out_col, Column::Vectors(out));
        }
        let m = input.matrix(&in_col)?;
        let out = map_rows(&m, |row, out| {
            let n = norm(row, p);
            let n = if n == 0.0 { 1.0 } else { n };
            for (o, x) in out.iter_mut().zip(row) {
                *o = x / n;
            }
        });
        input.clone().with_column(&out_col, Column::Matrix(out))
    }
}
