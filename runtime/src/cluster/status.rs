//! The status file a job writes in worker mode (version 1 of the format).
//!
//! A taskmanager starts a job's executable with `EDDY_STATUS_FILE` set; the runtime rewrites
//! that file (temporary name, then rename, so a reader never sees half of it) about twice a
//! second with every operator's record counts, and once more when each `execute` ends, with
//! the error if it failed. The taskmanager reads it for metrics and for the failure cause.
//!
//! ```
//! use eddy_runtime::cluster::status::WorkerStatus;
//!
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("status.json");
//! let status = WorkerStatus { jobs_finished: 1, ..WorkerStatus::default() };
//! status.write(&path).unwrap();
//! assert_eq!(WorkerStatus::read(&path).unwrap(), status);
//! ```

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::executor::OperatorMetrics;

/// What a worker process reports about the job it runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerStatus {
    /// The protocol version of the runtime writing it.
    pub protocol_version: u32,
    /// How many `execute` calls have ended successfully.
    pub jobs_finished: u32,
    /// Record counts of the job running (or last run), per operator in plan order.
    pub operators: Vec<OperatorCounts>,
    /// The root cause, when an `execute` call failed.
    pub error: Option<String>,
    /// How often the job restarted after a task failure.
    pub restarts: u32,
}

/// Record counts of one operator, summed over its subtasks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorCounts {
    /// The operator's name.
    pub name: String,
    /// Its number of subtasks.
    pub parallelism: u32,
    /// Records it received.
    pub records_in: u64,
    /// Records it emitted.
    pub records_out: u64,
}

impl From<&OperatorMetrics> for OperatorCounts {
    fn from(m: &OperatorMetrics) -> Self {
        OperatorCounts {
            name: m.name.clone(),
            parallelism: m.parallelism,
            records_in: m.records_in,
            records_out: m.records_out,
        }
    }
}

impl WorkerStatus {
    /// Writes the status to `path` atomically (a temporary file renamed into place).
    ///
    /// # Errors
    /// The I/O error of the write or the rename.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let tmp = path.with_extension("json.tmp");
        std::fs::write(
            &tmp,
            serde_json::to_vec(self).map_err(std::io::Error::other)?,
        )?;
        std::fs::rename(&tmp, path)
    }

    /// Reads a status written by [`WorkerStatus::write`].
    ///
    /// # Errors
    /// The I/O error, or invalid data when the file is not a status.
    pub fn read(path: &Path) -> std::io::Result<Self> {
        let bytes = std::fs::read(path)?;
        serde_json::from_slice(&bytes)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
    }
}
