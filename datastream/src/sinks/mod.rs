//! Sinks, one per file: stdout, files, and in-memory collection.

pub(crate) mod collect;
pub(crate) mod file;
pub(crate) mod print;
