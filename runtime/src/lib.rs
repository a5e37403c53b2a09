//! Eddy runtime.
