//! Feature transformers: [`VectorAssembler`] (columns to one vector), the scalers
//! ([`StandardScaler`], [`MinMaxScaler`], [`MaxAbsScaler`]) and [`Normalizer`].
//!
//! # Flink ML and scikit-learn
//!
//! Defaults follow Flink ML. Where scikit-learn differs, the stage's `semantics` param
//! ([`SEMANTICS`]) set to `"scikit-learn"` gives scikit-learn's behaviour:
//!
//! | stage | Flink ML (default) | scikit-learn |
//! |---|---|---|
//! | StandardScaler std | sample std (divides by n - 1) | population std (divides by n) |
//! | StandardScaler, constant column (std 0) | output 0 | output unscaled (scale 1) |
//! | StandardScaler defaults | `withMean = false`, `withStd = true` | centers by default: set `withMean = true` |
//! | MinMaxScaler, constant column | `(min + max) / 2`, "constant" meaning a range below 1e-5 | `min`, for a range below 10 ε |
//!
//! MaxAbsScaler and Normalizer behave alike in both (a zero max-abs scales by 1; a zero
//! vector stays zero).
//!
//! ```
//! use eddy_ml::feature::{MinMaxScaler, SEMANTICS};
//! use eddy_ml::{Column, DenseMatrix, Estimator, Table, Transformer, WithParams};
//!
//! let x = DenseMatrix::from_rows(&[vec![1.0, 5.0], vec![3.0, 5.0]])?;
//! let table = Table::new().with_column("input", Column::Matrix(x))?;
//! let flink = MinMaxScaler::new().fit(&table)?.transform(&table)?;
//! assert_eq!(flink.matrix("output")?.values, vec![0.0, 0.5, 1.0, 0.5]);
//! let sklearn = MinMaxScaler::new().set(&SEMANTICS, "scikit-learn".into())?.fit(&table)?.transform(&table)?;
//! assert_eq!(sklearn.matrix("output")?.values, vec![0.0, 0.0, 1.0, 0.0]);
//! # Ok::<(), eddy_ml::Error>(())
//! ```

mod max_abs_scaler;
mod min_max_scaler;
mod normalizer;
mod standard_scaler;
mod vector_assembler;

pub use max_abs_scaler::{MaxAbsScaler, MaxAbsScalerModel, MaxAbsScalerModelData};
pub use min_max_scaler::{MinMaxScaler, MinMaxScalerModel, MinMaxScalerModelData};
pub use normalizer::Normalizer;
pub use standard_scaler::{StandardScaler, StandardScalerModel, StandardScalerModelData};
pub use vector_assembler::VectorAssembler;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::linalg::kernels::chunk_rows;
use crate::param::Param;
use crate::table::{Column, DenseMatrix, Table};

/// Whose semantics a stage follows where Flink ML and scikit-learn differ: `"flink"`
/// (default) or `"scikit-learn"`.
pub const SEMANTICS: Param<String> = Param::new(
    "semantics",
    "Where Flink ML and scikit-learn differ, whose behaviour to follow: flink or scikit-learn.",
    || "flink".into(),
    |v| match v.as_str() {
        "flink" | "scikit-learn" => Ok(()),
        other => Err(format!("must be 'flink' or 'scikit-learn', got '{other}'")),
    },
);

/// Whether `semantics` asks for scikit-learn's behaviour.
pub(crate) fn sklearn(semantics: &str) -> bool {
    semantics == "scikit-learn"
}

/// Applies `f(row_in, row_out)` to every row of `input`, in parallel, into a new matrix.
pub(crate) fn map_rows(input: &DenseMatrix, f: impl Fn(&[f64], &mut [f64]) + Sync) -> DenseMatrix {
    let dim = input.dim;
    let mut out = vec![0.0; input.values.len()];
    if dim > 0 {
        let rows = chunk_rows(dim);
        out.par_chunks_mut(rows * dim)
            .zip(input.values.par_chunks(rows * dim))
            .for_each(|(o, i)| {
                for (orow, irow) in o.chunks_exact_mut(dim).zip(i.chunks_exact(dim)) {
                    f(irow, orow);
                }
            });
    }
    DenseMatrix {
        rows: input.rows,
        dim,
        values: out,
    }
}

/// Per-column fold over the rows of `m`, in parallel: `init` per chunk, `step(acc, row)`,
/// `merge(a, b)`.
pub(crate) fn fold_rows<A: Send + Sync + Clone>(
    m: &DenseMatrix,
    init: A,
    step: impl Fn(&mut A, &[f64]) + Sync,
    merge: impl Fn(A, A) -> A,
) -> A {
    let dim = m.dim.max(1);
    let rows = chunk_rows(dim);
    // Per-chunk partials merged in chunk order: the result does not depend on the number
    // of threads or on scheduling.
    let partials: Vec<A> = m
        .values
        .par_chunks(rows * dim)
        .map(|chunk| {
            let mut acc = init.clone();
            for row in chunk.chunks_exact(dim) {
                step(&mut acc, row);
            }
            acc
        })
        .collect();
    partials.into_iter().fold(init, merge)
}

/// Checks that a model's input has the dimension it was fitted on.
pub(crate) fn check_dim(stage: &str, column: &str, got: usize, expected: usize) -> Result<()> {
    if got == expected {
        Ok(())
    } else {
        Err(Error::Schema(format!(
            "{stage}: column '{column}' has dimension {got}, the model was fitted on {expected}"
        )))
    }
}

/// The input with a matrix output column added.
pub(crate) fn with_matrix(input: &Table, column: &str, m: DenseMatrix) -> Result<Table> {
    input.clone().with_column(column, Column::Matrix(m))
}

/// Fails with a clear message when fitting on no rows.
pub(crate) fn non_empty(stage: &str, rows: usize) -> Result<()> {
    if rows == 0 {
        Err(Error::Data(format!("{stage}: the training set is empty")))
    } else {
        Ok(())
    }
}
