//! The metadata file of a checkpoint or savepoint: which operators and subtasks wrote which
//! files. Written last; its presence is what makes a checkpoint complete.

use serde::{Deserialize, Serialize};

use crate::partition::KeyGroupRange;

/// The name of the metadata file in a checkpoint's directory.
pub const METADATA_FILE: &str = "_metadata";

/// Whether a snapshot was taken on schedule or on request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SnapshotKind {
    /// Periodic, owned by the job: retained up to a count, removed when the job finishes.
    Checkpoint,
    /// Requested, owned by the user: self-contained, never removed by Eddy.
    Savepoint,
}

/// The metadata of one completed checkpoint or savepoint.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CheckpointMetadata {
    /// The job that wrote it; a restore of another job refuses it.
    pub job_id: String,
    /// The checkpoint's number.
    pub checkpoint_id: u64,
    /// Checkpoint or savepoint.
    pub kind: SnapshotKind,
    /// When it completed, in milliseconds since the epoch.
    pub completed_at: i64,
    /// The job's number of key groups (a restore must use the same).
    pub max_parallelism: u32,
    /// Every operator's files, by stable uid.
    pub operators: Vec<OperatorFiles>,
}

/// The files of one operator in a checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OperatorFiles {
    /// The operator's stable uid.
    pub uid: String,
    /// Its parallelism when the checkpoint was taken.
    pub parallelism: u32,
    /// One file per subtask.
    pub subtasks: Vec<SubtaskFile>,
}

/// The file of one subtask, relative to the checkpoint's directory (so a savepoint can move).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SubtaskFile {
    /// The subtask's index.
    pub subtask: u32,
    /// The key groups it owned.
    pub key_groups: KeyGroupRange,
    /// File name within the checkpoint directory.
    pub file: String,
    /// Size in bytes.
    pub size: u64,
    /// Files of the job's shared directory that this subtask's state references (RocksDB's
    /// incremental checkpoints).
    #[serde(default)]
    pub shared_files: Vec<String>,
}
