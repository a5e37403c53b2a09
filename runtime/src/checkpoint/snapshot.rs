//! What a subtask puts into a checkpoint, and what it gets back on restore.
//!
//! A subtask's share of a checkpoint is a [`SubtaskSnapshot`]: *keyed* state, stored per key
//! group so that a job restored at another parallelism can hand each group to its new owner,
//! and *operator* state (a source's read position, a sink's pending files), which is not tied
//! to keys and comes back as the union of what every old subtask wrote (Flink's union list
//! state): each new subtask picks what concerns it.
//!
//! Operators write through a [`SnapshotWriter`] and read back through a [`RestoredState`]:
//!
//! ```
//! use eddy_runtime::checkpoint::{RestoredState, SnapshotWriter};
//! use eddy_runtime::partition::KeyGroupRange;
//!
//! let all = KeyGroupRange { start: 0, end: 127 };
//! let mut writer = SnapshotWriter::new(all, 128);
//! writer.operator_state("offset", &42u64).unwrap();
//! writer.keyed_entries("timers", [(&"user-1".to_string(), &1000i64)]).unwrap();
//! let snapshot = writer.finish().unwrap();
//!
//! // Restore into the subtask that owns every key group.
//! let restored = RestoredState::assemble(all, [&snapshot]);
//! assert_eq!(restored.operator_state::<u64>("offset").unwrap(), vec![42]);
//! let timers: Vec<(String, i64)> = restored.keyed_entries("timers").unwrap();
//! assert_eq!(timers, vec![("user-1".to_string(), 1000)]);
//! ```

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;
use std::path::PathBuf;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::partition::{hash_key, key_group_for_hash, KeyGroupRange};
use crate::{Error, Result};

/// One subtask's share of a checkpoint for one operator.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SubtaskSnapshot {
    /// Keyed state by name: `(key group, serialized entries of that group)`.
    pub keyed: BTreeMap<String, Vec<(u32, Vec<u8>)>>,
    /// Operator state by name.
    pub operator: BTreeMap<String, Vec<u8>>,
    /// What a state backend that snapshots files (RocksDB) wrote: its manifest.
    #[serde(default)]
    pub backend: Option<Vec<u8>>,
}

impl SubtaskSnapshot {
    /// Whether the snapshot holds nothing (a stateless operator).
    pub fn is_empty(&self) -> bool {
        self.keyed.is_empty() && self.operator.is_empty() && self.backend.is_none()
    }
}

/// Where a deferred upload puts its files.
#[derive(Debug, Clone)]
pub struct UploadTarget {
    /// The subtask's own directory inside the checkpoint.
    pub dir: PathBuf,
    /// The job's directory of files shared between checkpoints (`None` for a savepoint,
    /// which must be self-contained).
    pub shared_dir: Option<PathBuf>,
}

/// What a deferred upload produced: the bytes stored as [`SubtaskSnapshot::backend`], and the
/// files of the shared directory it references (kept while a retained checkpoint needs them).
#[derive(Debug, Clone, Default)]
pub struct UploadedFiles {
    /// The backend's manifest.
    pub manifest: Vec<u8>,
    /// Names of the shared files the snapshot references.
    pub shared_files: Vec<String>,
}

/// The expensive part of a snapshot, run by the coordinator off the task's thread: copies
/// files and describes them.
pub type DeferredUpload = Box<dyn FnOnce(&UploadTarget) -> crate::Result<UploadedFiles> + Send>;

/// Keyed state serialized off the task's thread: from a copy taken at the barrier, the
/// `(key group, bytes)` blobs of one state.
pub type DeferredKeyed = Box<dyn FnOnce() -> crate::Result<Vec<(u32, Vec<u8>)>> + Send>;

/// What a snapshot leaves to finish off the task's thread.
#[derive(Default)]
pub struct Deferred {
    /// A state backend's file upload.
    pub upload: Option<DeferredUpload>,
    /// Keyed state still to serialize, by state name.
    pub keyed: Vec<(String, DeferredKeyed)>,
}

impl std::fmt::Debug for Deferred {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deferred")
            .field("upload", &self.upload.is_some())
            .field("keyed", &self.keyed.len())
            .finish()
    }
}

impl Deferred {
    /// Serializes the deferred keyed state into `snapshot`.
    ///
    /// # Errors
    /// [`Error::Internal`] when a value cannot be serialized.
    pub fn complete_keyed(&mut self, snapshot: &mut SubtaskSnapshot) -> Result<()> {
        for (name, serialize) in self.keyed.drain(..) {
            let blobs = serialize()?;
            snapshot.keyed.entry(name).or_default().extend(blobs);
        }
        Ok(())
    }
}

pub(crate) fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>> {
    bincode::serialize(value)
        .map_err(|e| Error::Internal(format!("cannot serialize state for a checkpoint: {e}")))
}

pub(crate) fn decode<T: DeserializeOwned>(what: &str, bytes: &[u8]) -> Result<T> {
    bincode::deserialize(bytes).map_err(|e| {
        Error::Internal(format!(
            "state '{what}' in the checkpoint does not match this job's types: {e}"
        ))
    })
}

/// Collects what an operator snapshots at a barrier.
pub struct SnapshotWriter {
    key_groups: KeyGroupRange,
    max_parallelism: u32,
    checkpoint_id: u64,
    savepoint: bool,
    snapshot: SubtaskSnapshot,
    deferred: Deferred,
}

impl std::fmt::Debug for SnapshotWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnapshotWriter")
            .field("checkpoint_id", &self.checkpoint_id)
            .field("key_groups", &self.key_groups)
            .finish()
    }
}

impl SnapshotWriter {
    /// A writer for a subtask owning `key_groups` of `max_parallelism`.
    pub fn new(key_groups: KeyGroupRange, max_parallelism: u32) -> Self {
        SnapshotWriter::for_checkpoint(key_groups, max_parallelism, 0, false)
    }

    /// A writer for checkpoint (or savepoint) `checkpoint_id`.
    pub fn for_checkpoint(
        key_groups: KeyGroupRange,
        max_parallelism: u32,
        checkpoint_id: u64,
        savepoint: bool,
    ) -> Self {
        SnapshotWriter {
            key_groups,
            max_parallelism,
            checkpoint_id,
            savepoint,
            snapshot: SubtaskSnapshot::default(),
            deferred: Deferred::default(),
        }
    }

    /// The checkpoint being taken.
    pub fn checkpoint_id(&self) -> u64 {
        self.checkpoint_id
    }

    /// Whether it is a savepoint (which must not reference files of other checkpoints).
    pub fn is_savepoint(&self) -> bool {
        self.savepoint
    }

    /// Hands the coordinator work to finish off the task's thread (a state backend's file
    /// upload); its result becomes [`SubtaskSnapshot::backend`].
    pub fn defer_upload(&mut self, upload: DeferredUpload) {
        self.deferred.upload = Some(upload);
    }

    /// Hands the coordinator the serialization of keyed state `name` (from a copy taken
    /// now), so that the barrier only waits for the copy.
    pub fn defer_keyed_blobs(&mut self, name: &str, serialize: DeferredKeyed) {
        self.deferred.keyed.push((name.to_string(), serialize));
    }

    /// The job's number of key groups.
    pub fn max_parallelism(&self) -> u32 {
        self.max_parallelism
    }

    /// The key groups of the subtask.
    pub fn key_groups(&self) -> KeyGroupRange {
        self.key_groups
    }

    /// The key group of `key`, as routing computes it.
    pub fn key_group_of<K: Hash + ?Sized>(&self, key: &K) -> u32 {
        key_group_for_hash(hash_key(key), self.max_parallelism)
    }

    /// Stores operator state `name` (replacing an earlier value of that name).
    ///
    /// # Errors
    /// [`Error::Internal`] when the value cannot be serialized.
    pub fn operator_state<T: Serialize + ?Sized>(&mut self, name: &str, value: &T) -> Result<()> {
        self.snapshot
            .operator
            .insert(name.to_string(), encode(value)?);
        Ok(())
    }

    /// Stores keyed entries under `name`, grouped by the key group of each key.
    ///
    /// # Errors
    /// [`Error::Internal`] when an entry cannot be serialized.
    pub fn keyed_entries<'a, K, V>(
        &mut self,
        name: &str,
        entries: impl IntoIterator<Item = (&'a K, &'a V)>,
    ) -> Result<()>
    where
        K: Hash + Serialize + 'a,
        V: Serialize + 'a,
    {
        let mut groups: BTreeMap<u32, Vec<(&K, &V)>> = BTreeMap::new();
        for (key, value) in entries {
            groups
                .entry(self.key_group_of(key))
                .or_default()
                .push((key, value));
        }
        let mut blobs = Vec::with_capacity(groups.len());
        for (group, entries) in groups {
            blobs.push((group, encode(&entries)?));
        }
        self.keyed_blobs(name, blobs);
        Ok(())
    }

    /// Stores already serialized keyed state: `(key group, bytes)` pairs.
    pub fn keyed_blobs(&mut self, name: &str, blobs: Vec<(u32, Vec<u8>)>) {
        self.snapshot
            .keyed
            .entry(name.to_string())
            .or_default()
            .extend(blobs);
    }

    /// The finished snapshot, deferred keyed state serialized here (for writers without a
    /// deferred upload).
    ///
    /// # Errors
    /// [`Error::Internal`] when a value cannot be serialized.
    pub fn finish(self) -> Result<SubtaskSnapshot> {
        let (mut snapshot, mut deferred) = self.into_parts();
        deferred.complete_keyed(&mut snapshot)?;
        Ok(snapshot)
    }

    /// The snapshot and what completes it off the task's thread.
    pub fn into_parts(self) -> (SubtaskSnapshot, Deferred) {
        (self.snapshot, self.deferred)
    }
}

/// The state a subtask starts from: its key groups' keyed state and every old subtask's
/// operator state. Empty for a fresh start.
#[derive(Debug, Default)]
pub struct RestoredState {
    keyed: HashMap<String, Vec<Vec<u8>>>,
    operator: HashMap<String, Vec<Vec<u8>>>,
    /// A file-based backend's snapshots overlapping this subtask's key groups: the
    /// manifest, its private directory, the job's shared directory.
    backend: Vec<(Vec<u8>, PathBuf, Option<PathBuf>)>,
    /// Whether the job is restored at all (an operator without state in the checkpoint still
    /// knows it is not starting fresh).
    pub is_restored: bool,
}

impl RestoredState {
    /// No state: a fresh start.
    pub fn empty() -> Self {
        RestoredState::default()
    }

    /// The state of a new subtask owning `key_groups`, from the snapshots of every old
    /// subtask of the operator (in old subtask order).
    pub fn assemble<'a>(
        key_groups: KeyGroupRange,
        snapshots: impl IntoIterator<Item = &'a SubtaskSnapshot>,
    ) -> Self {
        let mut restored = RestoredState {
            is_restored: true,
            ..RestoredState::default()
        };
        for snapshot in snapshots {
            for (name, blobs) in &snapshot.keyed {
                let mine = blobs
                    .iter()
                    .filter(|(group, _)| key_groups.contains(*group))
                    .map(|(_, bytes)| bytes.clone());
                restored.keyed.entry(name.clone()).or_default().extend(mine);
            }
            for (name, bytes) in &snapshot.operator {
                restored
                    .operator
                    .entry(name.clone())
                    .or_default()
                    .push(bytes.clone());
            }
        }
        restored
    }

    /// Every old subtask's value of operator state `name` (empty when there is none).
    ///
    /// # Errors
    /// [`Error::Internal`] when the stored bytes are not a `T`.
    pub fn operator_state<T: DeserializeOwned>(&self, name: &str) -> Result<Vec<T>> {
        self.operator
            .get(name)
            .into_iter()
            .flatten()
            .map(|bytes| decode(name, bytes))
            .collect()
    }

    /// The keyed entries of `name` in this subtask's key groups.
    ///
    /// # Errors
    /// [`Error::Internal`] when the stored bytes are not `(K, V)` pairs.
    pub fn keyed_entries<K: DeserializeOwned, V: DeserializeOwned>(
        &self,
        name: &str,
    ) -> Result<Vec<(K, V)>> {
        let mut all = Vec::new();
        for bytes in self.keyed.get(name).into_iter().flatten() {
            let entries: Vec<(K, V)> = decode(name, bytes)?;
            all.extend(entries);
        }
        Ok(all)
    }

    /// Takes the serialized keyed blobs of `name` (for state backends).
    pub fn take_keyed_blobs(&mut self, name: &str) -> Vec<Vec<u8>> {
        self.keyed.remove(name).unwrap_or_default()
    }

    /// Adds a file-based backend's snapshot (manifest bytes and where its files are).
    pub fn add_backend_snapshot(
        &mut self,
        manifest: Vec<u8>,
        dir: PathBuf,
        shared: Option<PathBuf>,
    ) {
        self.backend.push((manifest, dir, shared));
    }

    /// The file-based backend snapshots to restore from.
    pub fn backend_snapshots(&self) -> &[(Vec<u8>, PathBuf, Option<PathBuf>)] {
        &self.backend
    }

    /// Names of keyed states not yet taken by a backend.
    pub fn keyed_names(&self) -> impl Iterator<Item = &str> {
        self.keyed.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_entries_follow_their_key_groups_to_new_owners() {
        let all = KeyGroupRange { start: 0, end: 127 };
        let mut writer = SnapshotWriter::new(all, 128);
        let entries: Vec<(u64, u64)> = (0..1000).map(|k| (k, k * 10)).collect();
        writer
            .keyed_entries("s", entries.iter().map(|(k, v)| (k, v)))
            .unwrap();
        let snapshot = writer.finish().unwrap();
        let mut seen = Vec::new();
        for subtask in 0..3 {
            let range = KeyGroupRange::for_subtask(128, 3, subtask);
            let restored = RestoredState::assemble(range, [&snapshot]);
            let mine: Vec<(u64, u64)> = restored.keyed_entries("s").unwrap();
            for (k, _) in &mine {
                assert!(range.contains(key_group_for_hash(hash_key(k), 128)));
            }
            seen.extend(mine);
        }
        seen.sort();
        assert_eq!(seen, entries);
    }
}
