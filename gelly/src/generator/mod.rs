//! Synthetic graph generators: [`Kronecker`](crate::Kronecker) (Graph500 RMAT) and the
//! regular shapes of Flink Gelly ([`complete`], [`star`], [`path`], [`cycle`], [`grid`]).

pub(crate) mod kronecker;
mod regular;

pub use regular::{complete, cycle, grid, path, star, Generated};
