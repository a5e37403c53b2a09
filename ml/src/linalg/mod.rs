//! Vectors and the numeric kernels every algorithm shares.
//!
//! Feature data lives in flat, row-major `f64` arrays ([`DenseMatrix`](crate::DenseMatrix)):
//! one allocation, cache-friendly, split into row chunks for rayon. Single [`Vector`]s (dense
//! or sparse) are what a table cell holds and what a model predicts on.
//!
//! ```
//! use eddy_ml::linalg::{kernels, Vector};
//!
//! let v = Vector::sparse(4, vec![1, 3], vec![2.0, -1.0]).unwrap();
//! assert_eq!(v.to_dense(), vec![0.0, 2.0, 0.0, -1.0]);
//! assert_eq!(kernels::dot(&[1.0, 2.0], &[3.0, 4.0]), 11.0);
//! ```

pub mod kernels;
mod vector;

pub use vector::{SparseVector, Vector};
