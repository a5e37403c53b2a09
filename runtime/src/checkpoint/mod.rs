//! Checkpoints and savepoints: consistent snapshots of a running job, and restoring from them.
//!
//! - [`format`]: the framing of every file (magic, version, length, CRC-32C) and atomic writes.
//! - [`snapshot`]: what a subtask contributes ([`SubtaskSnapshot`], written through a
//!   [`SnapshotWriter`]) and what it gets back ([`RestoredState`]), per key group so that a job
//!   can be restored at another parallelism.
//! - [`storage`]: the [`CheckpointStorage`] trait, the directory layout, loading with
//!   checks and fallback past damaged checkpoints ([`LoadedCheckpoint`]).
//! - [`store`]: where the files go: a local directory, or an `object_store` URL
//!   (`file:///...`, `memory://...`), as a [`Location`].
//! - [`metadata`]: the `_metadata` file, the commit point of a checkpoint.
//! - `coordinator`: triggers barriers and commits checkpoints while the job runs.
//! - [`control`]: savepoint, stop and cancel requests from a [`crate::client::JobClient`].
//! - [`config`]: [`CheckpointConfig`] and [`RestartStrategy`].
//!
//! Users switch checkpointing on through the APIs (the DataStream environment's
//! `enable_checkpointing`); operators take part by implementing
//! [`crate::Operator::snapshot_state`] for what they keep outside keyed state, while keyed
//! state declared through a [`crate::state::StateBackend`] is snapshotted for them.

pub mod config;
pub mod control;
pub(crate) mod coordinator;
pub mod format;
pub mod metadata;
pub mod snapshot;
pub mod storage;
pub mod store;

pub use config::{CheckpointConfig, CheckpointingMode, RestartStrategy};
pub use control::{CheckpointStats, JobControl};
pub use metadata::{CheckpointMetadata, SnapshotKind};
pub use snapshot::{
    Deferred, DeferredKeyed, DeferredUpload, RestoredState, SnapshotWriter, SubtaskSnapshot,
    UploadTarget, UploadedFiles,
};
pub use storage::{CheckpointStorage, DirectoryStorage, LoadedCheckpoint, LocalCheckpointStorage};
pub use store::Location;
