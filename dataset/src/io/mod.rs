//! Reading and writing files: text lines and CSV rows typed with serde, in and out.
//!
//! Readers fail the job with [`eddy_runtime::Error::InvalidInput`] naming the file, the line
//! and (for CSV) the column; writers write a hidden temporary file and rename it into place
//! only when the job succeeded, so a failed job leaves no output.

pub(crate) mod csv;
pub(crate) mod sink;
pub(crate) mod text;

pub use self::csv::CsvOptions;
