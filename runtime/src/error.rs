//! The runtime's error type: one enum, variants by cause.

use std::path::PathBuf;

/// Everything that can make a job fail.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be opened, read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file at fault.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// A network endpoint could not be reached or read.
    #[error("{endpoint}: {source}")]
    Network {
        /// `host:port` of the endpoint.
        endpoint: String,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// A line of an input file is malformed.
    #[error("{}:{line}: {message}", path.display())]
    InvalidInput {
        /// The file at fault.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// What is wrong, naming the field.
        message: String,
    },
    /// A user function panicked or returned an error.
    #[error("operator '{operator}' failed: {message}")]
    UserFunction {
        /// Name of the operator whose function failed.
        operator: String,
        /// The panic message or the error's text.
        message: String,
    },
    /// The job graph is not valid (for example a cycle, or an edge between mismatched types).
    #[error("invalid job graph: {0}")]
    InvalidGraph(String),
    /// A channel's other side went away because another task failed or the job was cancelled.
    /// This is a consequence, never the root cause; [`crate::JobResult`] reports the cause.
    #[error("channel disconnected (another task failed or the job was cancelled)")]
    Disconnected,
    /// The job was cancelled.
    #[error("job cancelled")]
    Cancelled,
    /// A checkpoint or savepoint file is missing, corrupt, truncated, of another format
    /// version, or of another job.
    #[error("{}: {message}", path.display())]
    Checkpoint {
        /// The file or directory at fault.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A savepoint (or a stop with a savepoint) was refused or failed: another checkpoint is
    /// in progress, the job has finished, a source has ended, or the savepoint timed out.
    #[error("savepoint not taken: {0}")]
    Savepoint(String),
    /// A bug in Eddy: an invariant that should hold did not.
    #[error("internal error (a bug in Eddy): {0}")]
    Internal(String),
}

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// A user function's failure, attributed to `operator`.
    pub fn user(operator: impl Into<String>, message: impl Into<String>) -> Self {
        Error::UserFunction {
            operator: operator.into(),
            message: message.into(),
        }
    }

    /// True for errors that only follow from another task's failure.
    pub fn is_secondary(&self) -> bool {
        matches!(self, Error::Disconnected | Error::Cancelled)
    }
}

/// The runtime's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
