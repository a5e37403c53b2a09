//! Synthetic graph generators.

pub(crate) mod kronecker;
