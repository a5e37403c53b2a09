//! [`VectorAssembler`]: concatenates numeric and vector columns into one dense vector
//! column.

use crate::error::{Error, Result};
use crate::param::{common, Param, Params};
use crate::stage::{stage_impl, Transformer};
use crate::table::{Column, DenseMatrix, Table};

/// Concatenates the columns `inputCols` (numbers or vectors) into the dense vector column
/// `outputCol` (Flink ML's VectorAssembler).
///
/// `handleInvalid` says what to do with rows holding NaN: `error` (default: fail, naming
/// the row's line and column), `skip` (drop the row) or `keep` (keep NaN).
///
/// ```
/// use eddy_ml::feature::VectorAssembler;
/// use eddy_ml::{Column, Table, Transformer, WithParams};
///
/// let t = Table::new()
///     .with_column("a", Column::Double(vec![1.0, 2.0]))?
///     .with_column("b", Column::Double(vec![3.0, 4.0]))?;
/// let out = VectorAssembler::new().set(&VectorAssembler::INPUT_COLS, vec!["b".into(), "a".into()])?.transform(&t)?;
/// assert_eq!(out.matrix("output")?.values, vec![3.0, 1.0, 4.0, 2.0]);
/// # Ok::<(), eddy_ml::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct VectorAssembler {
    params: Params,
}

stage_impl!(
    VectorAssembler,
    "VectorAssembler",
    [
        VectorAssembler::INPUT_COLS,
        common::OUTPUT_COL,
        VectorAssembler::HANDLE_INVALID
    ]
);

impl VectorAssembler {
    /// The columns to concatenate, in order.
    pub const INPUT_COLS: Param<Vec<String>> =
        Param::new("inputCols", "Input column names.", Vec::new, |v| {
            if v.iter().any(String::is_empty) {
                Err("column names must not be empty".into())
            } else {
                Ok(())
            }
        });
    /// What to do with NaN: `error`, `skip` or `keep`.
    pub const HANDLE_INVALID: Param<String> = Param::new(
        "handleInvalid",
        "Strategy for invalid (NaN) entries: error, skip or keep.",
        || "error".into(),
        |v| match v.as_str() {
            "error" | "skip" | "keep" => Ok(()),
            o => Err(format!("must be 'error', 'skip' or 'keep', got '{o}'")),
        },
    );

    /// A VectorAssembler with default params.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Transformer for VectorAssembler {
    fn transform(&self, input: &Table) -> Result<Table> {
        let cols = self.params.get(&Self::INPUT_COLS);
        if cols.is_empty() {
            return Err(Error::param(
                self_kind(),
                "inputCols",
                "no input columns set",
            ));
        }
        let parts: Vec<_> = cols
            .iter()
            .map(|c| input.matrix(c).map(|m| (c.as_str(), m)))
            .collect::<Result<_>>()?;
        let dim: usize = parts.iter().map(|(_, m)| m.dim).sum();
        let rows = input.num_rows();
        let mut values = Vec::with_capacity(rows * dim);
        let mut keep = Vec::with_capacity(rows);
        let policy = self.params.get(&Self::HANDLE_INVALID);
        for r in 0..rows {
            let start = values.len();
            let mut valid = true;
            for (name, m) in &parts {
                let row = m.row(r);
                if row.iter().any(|x| x.is_nan()) {
                    if policy == "error" {
                        return Err(Error::BadInput {
                            file: input.origin().to_string(),
                            line: r as u64 + 2,
                            column: name.to_string(),
                            message: "NaN value (set handleInvalid to skip or keep)".into(),
                        });
                    }
                    valid = false;
                }
                values.extend_from_slice(row);
            }
            if !valid && policy == "skip" {
                values.truncate(start);
            }
            keep.push(valid || policy != "skip");
        }
        let out_rows = values.len() / dim.max(1);
        let matrix = DenseMatrix::new(if dim == 0 { rows } else { out_rows }, dim, values)?;
        let out_col = self.params.get(&common::OUTPUT_COL);
        if out_rows == rows || dim == 0 {
            return input.clone().with_column(&out_col, Column::Matrix(matrix));
        }
        filter_rows(input, &keep)?.with_column(&out_col, Column::Matrix(matrix))
    }
}

fn self_kind() -> &'static str {
    "VectorAssembler"
}

/// The rows of `t` whose `keep` flag is set.
fn filter_rows(t: &Table, keep: &[bool]) -> Result<Table> {
    let mut out = Table::new();
    for name in t.names() {
        let col = match t.column(name)? {
            Column::Double(v) => Column::Double(pick(v, keep)),
            Column::Str(v) => Column::Str(pick(v, keep)),
            Column::Vectors(v) => Column::Vectors(pick(v, keep)),
            Column::Matrix(m) => {
                let rows: Vec<Vec<f64>> = m
                    .iter_rows()
                    .zip(keep)
                    .filter(|(_, k)| **k)
                    .map(|(r, _)| r.to_vec())
                    .collect();
                let mut dm = DenseMatrix::from_rows(&rows)?;
                dm.dim = m.dim;
                Column::Matrix(dm)
            }
        };
        out = out.with_column(name, col)?;
    }
    Ok(out)
}

fn pick<T: Clone>(v: &[T], keep: &[bool]) -> Vec<T> {
    v.iter()
        .zip(keep)
        .filter(|(_, k)| **k)
        .map(|(x, _)| x.clone())
        .collect()
}
