//! The crate's one error type: bad parameters, bad input (naming file, line and column),
//! schema mismatches, unreadable or foreign model directories, and failed DataSet jobs.

use std::path::PathBuf;

/// Everything that can go wrong in `eddy-ml`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A parameter value outside its domain (`k = 0`, `p < 1`, an unknown init mode).
    #[error("{stage}: invalid value for param '{param}': {message}")]
    InvalidParam {
        /// The stage (`KMeans`, `StandardScaler`, ...).
        stage: String,
        /// The parameter's name, as in Flink ML (`k`, `maxIter`).
        param: String,
        /// What is wrong with the value.
        message: String,
    },
    /// Malformed input data: a ragged CSV row, a non-numeric feature, a bad vector literal.
    #[error("{file}:{line}: column '{column}': {message}")]
    BadInput {
        /// The file (or `<table>` for in-memory tables).
        file: String,
        /// The 1-based line (the header is line 1).
        line: u64,
        /// The column's name.
        column: String,
        /// What is wrong.
        message: String,
    },
    /// A table lacks a column a stage needs, or the column has the wrong type or width.
    #[error("{0}")]
    Schema(String),
    /// Training data a stage cannot learn from (empty, one class only, ...).
    #[error("{0}")]
    Data(String),
    /// A model directory that is not one of ours, or of another format version.
    #[error("{}: {message}", path.display())]
    Format {
        /// The offending file or directory.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// An I/O failure on a named file.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file being read or written.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A DataSet job (the DataSet execution engine) failed.
    #[error(transparent)]
    Runtime(#[from] eddy_runtime::Error),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An [`Error::InvalidParam`].
    pub fn param(stage: &str, param: &str, message: impl Into<String>) -> Self {
        Error::InvalidParam {
            stage: stage.to_string(),
            param: param.to_string(),
            message: message.into(),
        }
    }

    /// An [`Error::Io`] on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
