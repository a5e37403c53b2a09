//! Shared helpers for Eddy benchmarks.
