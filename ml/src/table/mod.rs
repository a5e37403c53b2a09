//! [`Table`]: the feature table stages read and write (Flink ML's `Table`): named columns of
//! equal length, each of numbers, strings or vectors.
//!
//! Dense vector columns are stored as one flat, row-major [`DenseMatrix`], which is what the
//! numeric kernels work on; sparse (or mixed) vector columns as a list of [`Vector`]s.
//!
//! ```
//! use eddy_ml::{Column, Table};
//!
//! let table = Table::new()
//!     .with_column("x", Column::Double(vec![1.0, 2.0]))?
//!     .with_column("name", Column::Str(vec!["a".into(), "b".into()]))?;
//! assert_eq!(table.num_rows(), 2);
//! assert_eq!(table.doubles("x")?, &[1.0, 2.0]);
//! assert!(table.doubles("name").unwrap_err().to_string().contains("not numeric"));
//! # Ok::<(), eddy_ml::Error>(())
//! ```

mod csv;

use std::borrow::Cow;

pub use self::csv::{read_csv, read_csv_with, write_csv, CsvReadOptions};
use crate::error::{Error, Result};
use crate::linalg::Vector;

/// A row-major matrix in one flat array: row `i` is `values[i*dim..(i+1)*dim]`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DenseMatrix {
    /// Number of rows.
    pub rows: usize,
    /// Number of columns (the vectors' dimension).
    pub dim: usize,
    /// `rows * dim` entries, row after row.
    pub values: Vec<f64>,
}

impl DenseMatrix {
    /// A matrix from its flat values.
    ///
    /// # Errors
    /// [`Error::Data`] if `values.len() != rows * dim`.
    pub fn new(rows: usize, dim: usize, values: Vec<f64>) -> Result<Self> {
        if values.len() != rows * dim {
            return Err(Error::Data(format!(
                "a {rows} x {dim} matrix needs {} values, got {}",
                rows * dim,
                values.len()
            )));
        }
        Ok(DenseMatrix { rows, dim, values })
    }

    /// A matrix from rows of equal length.
    ///
    /// # Errors
    /// [`Error::Data`] if the rows differ in length.
    pub fn from_rows(rows: &[Vec<f64>]) -> Result<Self> {
        let dim = rows.first().map_or(0, Vec::len);
        let mut values = Vec::with_capacity(rows.len() * dim);
        for (i, r) in rows.iter().enumerate() {
            if r.len() != dim {
                return Err(Error::Data(format!(
                    "row {i} has {} values, row 0 has {dim}",
                    r.len()
                )));
            }
            values.extend_from_slice(r);
        }
        Ok(DenseMatrix {
            rows: rows.len(),
            dim,
            values,
        })
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.values[i * self.dim..(i + 1) * self.dim]
    }

    /// The rows, in order.
    pub fn iter_rows(&self) -> impl Iterator<Item = &[f64]> {
        self.values.chunks_exact(self.dim.max(1)).take(self.rows)
    }
}

/// One column of a [`Table`].
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    /// Numbers (features, labels, predictions, probabilities).
    Double(Vec<f64>),
    /// Text.
    Str(Vec<String>),
    /// Dense vectors of one dimension, flat.
    Matrix(DenseMatrix),
    /// Vectors, sparse or mixed.
    Vectors(Vec<Vector>),
}

impl Column {
    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            Column::Double(v) => v.len(),
            Column::Str(v) => v.len(),
            Column::Matrix(m) => m.rows,
            Column::Vectors(v) => v.len(),
        }
    }

    /// Whether the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The cell at `row` as text (what CSV output writes).
    pub fn cell_text(&self, row: usize) -> String {
        match self {
            Column::Double(v) => format_f64(v[row]),
            Column::Str(v) => v[row].clone(),
            Column::Matrix(m) => Vector::Dense(m.row(row).to_vec()).to_string(),
            Column::Vectors(v) => v[row].to_string(),
        }
    }

    fn type_name(&self) -> &'static str {
        match self {
            Column::Double(_) => "numeric",
            Column::Str(_) => "text",
            Column::Matrix(_) | Column::Vectors(_) => "vector",
        }
    }
}

/// Formats a number the shortest way that parses back to the same `f64`.
pub fn format_f64(x: f64) -> String {
    format!("{x:?}")
}

/// Named columns of equal length. Cloning copies the data.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    columns: Vec<(String, Column)>,
    rows: usize,
    origin: Option<String>,
}

impl Table {
    /// A table with no columns.
    pub fn new() -> Self {
        Table::default()
    }

    /// Number of rows.
    pub fn num_rows(&self) -> usize {
        self.rows
    }

    /// The column names, in order.
    pub fn names(&self) -> Vec<&str> {
        self.columns.iter().map(|(n, _)| n.as_str()).collect()
    }

    /// Where the table was read from (a file), for error messages.
    pub fn origin(&self) -> &str {
        self.origin.as_deref().unwrap_or("<table>")
    }

    pub(crate) fn set_origin(&mut self, origin: String) {
        self.origin = Some(origin);
    }

    /// This table with the column `name` added at the end, or replaced where it exists.
    ///
    /// # Errors
    /// [`Error::Schema`] if the column's length differs from the table's.
    pub fn with_column(mut self, name: &str, column: Column) -> Result<Self> {
        if !self.columns.is_empty() && column.len() != self.rows {
            return Err(Error::Schema(format!(
                "column '{name}' has {} rows, the table has {}",
                column.len(),
                self.rows
            )));
        }
        self.rows = column.len();
        match self.columns.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = column,
            None => self.columns.push((name.to_string(), column)),
        }
        Ok(self)
    }

    /// The column `name`.
    ///
    /// # Errors
    /// [`Error::Schema`] naming the table's columns if there is none of that name.
    pub fn column(&self, name: &str) -> Result<&Column> {
        self.columns
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, c)| c)
            .ok_or_else(|| {
                Error::Schema(format!(
                    "{}: no column '{name}' (columns: {})",
                    self.origin(),
                    self.names().join(",")
                ))
            })
    }

    /// Whether there is a column `name`.
    pub fn has_column(&self, name: &str) -> bool {
        self.columns.iter().any(|(n, _)| n == name)
    }

    /// The numbers of column `name`.
    ///
    /// # Errors
    /// [`Error::Schema`] if there is no such column or it is not numeric.
    pub fn doubles(&self, name: &str) -> Result<&[f64]> {
        match self.column(name)? {
            Column::Double(v) => Ok(v),
            other => Err(self.wrong_type(name, other, "numeric")),
        }
    }

    /// The vectors of column `name` as a dense matrix (borrowed when stored dense; a numeric
    /// column is a matrix of width 1).
    ///
    /// # Errors
    /// [`Error::Schema`] if there is no such column, it holds text, or its vectors differ in
    /// dimension.
    pub fn matrix(&self, name: &str) -> Result<Cow<'_, DenseMatrix>> {
        match self.column(name)? {
            Column::Matrix(m) => Ok(Cow::Borrowed(m)),
            Column::Double(v) => Ok(Cow::Owned(DenseMatrix {
                rows: v.len(),
                dim: 1,
                values: v.clone(),
            })),
            Column::Vectors(vs) => {
                let dim = vs.first().map_or(0, Vector::len);
                let mut values = vec![0.0; vs.len() * dim];
                for (i, v) in vs.iter().enumerate() {
                    if v.len() != dim {
                        return Err(Error::Schema(format!(
                            "{}: column '{name}': row {i} has dimension {}, row 0 has {dim}",
                            self.origin(),
                            v.len()
                        )));
                    }
                    v.write_dense(&mut values[i * dim..(i + 1) * dim]);
                }
                Ok(Cow::Owned(DenseMatrix {
                    rows: vs.len(),
                    dim,
                    values,
                }))
            }
            other => Err(self.wrong_type(name, other, "vector")),
        }
    }

    /// The vectors of column `name`, one per row (dense rows copied).
    ///
    /// # Errors
    /// As [`matrix`](Self::matrix).
    pub fn vectors(&self, name: &str) -> Result<Cow<'_, [Vector]>> {
        match self.column(name)? {
            Column::Vectors(v) => Ok(Cow::Borrowed(v)),
            Column::Matrix(m) => Ok(Cow::Owned(
                m.iter_rows().map(|r| Vector::Dense(r.to_vec())).collect(),
            )),
            Column::Double(v) => Ok(Cow::Owned(
                v.iter().map(|x| Vector::Dense(vec![*x])).collect(),
            )),
            other => Err(self.wrong_type(name, other, "vector")),
        }
    }

    /// The table with only the named columns, in that order.
    ///
    /// # Errors
    /// [`Error::Schema`] if a column is missing.
    pub fn select(&self, names: &[&str]) -> Result<Table> {
        let mut out = Table {
            origin: self.origin.clone(),
            ..Table::default()
        };
        for name in names {
            out = out.with_column(name, self.column(name)?.clone())?;
        }
        out.rows = self.rows;
        Ok(out)
    }

    fn wrong_type(&self, name: &str, column: &Column, wanted: &str) -> Error {
        if let (Column::Str(cells), "numeric") = (column, wanted) {
            if let Some((i, cell)) = cells
                .iter()
                .enumerate()
                .find(|(_, c)| c.trim().parse::<f64>().is_err())
            {
                return Error::BadInput {
                    file: self.origin().to_string(),
                    line: i as u64 + 2,
                    column: name.to_string(),
                    message: format!("'{cell}' is not numeric"),
                };
            }
        }
        Error::Schema(format!(
            "{}: column '{name}' is {}, not {wanted}",
            self.origin(),
            column.type_name()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_views_of_every_vector_column() {
        let t = Table::new()
            .with_column(
                "v",
                Column::Vectors(vec![
                    Vector::Dense(vec![1.0, 2.0]),
                    Vector::sparse(2, vec![1], vec![5.0]).unwrap(),
                ]),
            )
            .unwrap();
        let m = t.matrix("v").unwrap();
        assert_eq!(m.values, vec![1.0, 2.0, 0.0, 5.0]);
        assert!(Table::new()
            .with_column("a", Column::Double(vec![1.0]))
            .unwrap()
            .with_column("b", Column::Double(vec![]))
            .is_err());
        let err = t.column("w").unwrap_err().to_string();
        assert!(
            err.contains("no column 'w'") && err.contains("columns: v"),
            "{err}"
        );
    }
}
