//! Sources, one per file: collections, generators, text files and sockets.

pub(crate) mod collection;
pub(crate) mod csv_file;
pub(crate) mod generator;
pub(crate) mod socket;
pub(crate) mod text_file;
