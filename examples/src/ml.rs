//! Helpers of the ML examples (`kmeans`, `ml_pipeline`): numeric columns of a CSV table as
//! one flat matrix, and running work on a thread pool of a given size.
//!
//! ```
//! use eddy_examples::ml::numeric_matrix;
//! use eddy_ml::{Column, Table};
//!
//! let t = Table::new()
//!     .with_column("a", Column::Double(vec![1.0, 2.0]))?
//!     .with_column("b", Column::Double(vec![3.0, 4.0]))?;
//! assert_eq!(numeric_matrix(&t, &["a", "b"])?.values, vec![1.0, 3.0, 2.0, 4.0]);
//! # Ok::<(), eddy_ml::Error>(())
//! ```

use eddy_ml::{DenseMatrix, Table};

/// The named numeric columns of `table` as a row-major matrix.
///
/// # Errors
/// A missing column, or a non-numeric one (naming file, line and column).
pub fn numeric_matrix(table: &Table, columns: &[&str]) -> eddy_ml::Result<DenseMatrix> {
    let cols: Vec<&[f64]> = columns
        .iter()
        .map(|c| table.doubles(c))
        .collect::<eddy_ml::Result<_>>()?;
    let rows = table.num_rows();
    let mut values = Vec::with_capacity(rows * cols.len());
    for r in 0..rows {
        values.extend(cols.iter().map(|c| c[r]));
    }
    DenseMatrix::new(rows, cols.len(), values)
}

/// Runs `work` on a rayon pool of `threads` threads (the machine's cores when `None`).
///
/// # Panics
/// If the pool cannot be built (no threads can be spawned).
pub fn with_threads<T: Send>(threads: Option<usize>, work: impl FnOnce() -> T + Send) -> T {
    match threads {
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .expect("cannot start worker threads")
            .install(work),
        None => work(),
    }
}
