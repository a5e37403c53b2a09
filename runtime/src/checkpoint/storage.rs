//! Where checkpoints live: the [`CheckpointStorage`] trait and its local-directory
//! implementation.
//!
//! Layout of a checkpoint directory:
//!
//! ```text
//! DIR/<job id>/chk-<n>/op-<node>-<subtask>.state   one file per subtask of every operator
//! DIR/<job id>/chk-<n>/_metadata                   written last: the commit point
//! ```
//!
//! A savepoint has the same layout in a directory of its own (`savepoint-<job id>-<n>`), with
//! file names relative to it, so it can be moved or copied anywhere. Every file is framed
//! ([`super::format`]): version and checksum are checked on load, and a damaged checkpoint is
//! skipped in favour of the previous complete one, never replaced by an empty state.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::format::{corrupt, read_framed, write_framed};
use super::metadata::{CheckpointMetadata, SnapshotKind, SubtaskFile, METADATA_FILE};
use super::snapshot::{decode, encode, SubtaskSnapshot};
use crate::partition::KeyGroupRange;
use crate::{Error, Result};

/// The directory of a job's checkpoints holding files shared between checkpoints.
pub const SHARED_DIR: &str = "shared";

/// The directory, beside a subtask's state file `op-N-S.state`, of its state backend's files.
pub fn backend_dir_name(state_file: &str) -> String {
    let stem = state_file.strip_suffix(".state").unwrap_or(state_file);
    format!("{stem}.files")
}

/// Stores the files of checkpoints and savepoints.
pub trait CheckpointStorage: Send + Sync {
    /// Creates the directory of checkpoint or savepoint `id` and returns it.
    ///
    /// # Errors
    /// [`Error::Io`] when it cannot be created.
    fn begin(&self, kind: SnapshotKind, id: u64) -> Result<PathBuf>;

    /// Writes one subtask's snapshot into `location` as `file`.
    ///
    /// # Errors
    /// [`Error::Io`] naming the file.
    fn write_subtask(
        &self,
        location: &Path,
        file: &str,
        subtask: u32,
        key_groups: KeyGroupRange,
        snapshot: &SubtaskSnapshot,
    ) -> Result<SubtaskFile>;

    /// Writes the metadata (the commit point) and removes checkpoints beyond the retained
    /// count.
    ///
    /// # Errors
    /// [`Error::Io`] naming the file.
    fn commit(&self, location: &Path, metadata: &CheckpointMetadata, retained: usize)
        -> Result<()>;

    /// Removes an aborted checkpoint's directory.
    fn abort(&self, location: &Path);

    /// The directory of files shared between checkpoints of kind `kind` (`None` for
    /// savepoints, which are self-contained).
    fn shared_dir(&self, kind: SnapshotKind) -> Option<PathBuf>;

    /// The directories of this job's completed checkpoints, newest first.
    ///
    /// # Errors
    /// [`Error::Io`] when the job's directory cannot be listed.
    fn completed(&self) -> Result<Vec<PathBuf>>;

    /// The highest checkpoint number ever begun for this job (complete or not), or 0.
    fn last_id(&self) -> u64;

    /// Removes every checkpoint of the job (it finished: its checkpoints have no further use).
    fn discard_all(&self);
}

/// Checkpoints in a local (or mounted) directory.
#[derive(Debug, Clone)]
pub struct LocalCheckpointStorage {
    job_dir: PathBuf,
    savepoint_dir: Option<PathBuf>,
    job_id: String,
}

impl LocalCheckpointStorage {
    /// Checkpoints of `job_id` under `dir/<job_id>/`; savepoints under `savepoint_dir`.
    pub fn new(dir: &Path, job_id: &str, savepoint_dir: Option<PathBuf>) -> Self {
        LocalCheckpointStorage {
            job_dir: dir.join(job_id),
            savepoint_dir,
            job_id: job_id.to_string(),
        }
    }

    /// The job's checkpoint directory, `dir/<job id>`.
    pub fn job_dir(&self) -> &Path {
        &self.job_dir
    }

    fn checkpoint_dirs(&self) -> Vec<(u64, PathBuf)> {
        let Ok(entries) = std::fs::read_dir(&self.job_dir) else {
            return Vec::new();
        };
        let mut dirs: Vec<(u64, PathBuf)> = entries
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let id = name.strip_prefix("chk-")?.parse().ok()?;
                Some((id, e.path()))
            })
            .collect();
        dirs.sort_by_key(|(id, _)| std::cmp::Reverse(*id));
        dirs
    }
}

impl LocalCheckpointStorage {
    /// Removes the shared files that no retained checkpoint references any more. Runs after a
    /// commit, when no other checkpoint is in flight (at most one is).
    fn delete_unreferenced_shared_files(&self) {
        let shared = self.job_dir.join(SHARED_DIR);
        let Ok(entries) = std::fs::read_dir(&shared) else {
            return;
        };
        let mut referenced = std::collections::HashSet::new();
        for dir in self.completed().unwrap_or_default() {
            let Ok(bytes) = read_framed(&dir.join(METADATA_FILE)) else {
                return; // unreadable metadata: keep every file rather than guess
            };
            let Ok(metadata) = decode::<CheckpointMetadata>("_metadata", &bytes) else {
                return;
            };
            for operator in metadata.operators {
                for subtask in operator.subtasks {
                    referenced.extend(subtask.shared_files);
                }
            }
        }
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !referenced.contains(&name) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

impl CheckpointStorage for LocalCheckpointStorage {
    fn begin(&self, kind: SnapshotKind, id: u64) -> Result<PathBuf> {
        let dir = match (kind, &self.savepoint_dir) {
            (SnapshotKind::Savepoint, Some(savepoints)) => {
                savepoints.join(format!("savepoint-{}-{id}", self.job_id))
            }
            _ => self.job_dir.join(format!("chk-{id}")),
        };
        if dir.exists() {
            // Left by a run that crashed before completing it: not a checkpoint.
            let _ = std::fs::remove_dir_all(&dir);
        }
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        Ok(dir)
    }

    fn write_subtask(
        &self,
        location: &Path,
        file: &str,
        subtask: u32,
        key_groups: KeyGroupRange,
        snapshot: &SubtaskSnapshot,
    ) -> Result<SubtaskFile> {
        let bytes = encode(snapshot)?;
        write_framed(&location.join(file), &bytes)?;
        Ok(SubtaskFile {
            subtask,
            key_groups,
            file: file.to_string(),
            size: bytes.len() as u64,
            shared_files: Vec::new(),
        })
    }

    fn commit(
        &self,
        location: &Path,
        metadata: &CheckpointMetadata,
        retained: usize,
    ) -> Result<()> {
        write_framed(&location.join(METADATA_FILE), &encode(metadata)?)?;
        if metadata.kind == SnapshotKind::Checkpoint {
            let mut complete = 0;
            for (id, dir) in self.checkpoint_dirs() {
                let is_complete = dir.join(METADATA_FILE).exists();
                if is_complete {
                    complete += 1;
                }
                // Keep the newest `retained` complete ones; older incomplete ones are debris.
                let expired = is_complete && complete > retained.max(1);
                let debris = !is_complete && id < metadata.checkpoint_id;
                if expired || debris {
                    let _ = std::fs::remove_dir_all(&dir);
                }
            }
            self.delete_unreferenced_shared_files();
        }
        Ok(())
    }

    fn abort(&self, location: &Path) {
        let _ = std::fs::remove_dir_all(location);
    }

    fn shared_dir(&self, kind: SnapshotKind) -> Option<PathBuf> {
        (kind == SnapshotKind::Checkpoint).then(|| self.job_dir.join(SHARED_DIR))
    }

    fn completed(&self) -> Result<Vec<PathBuf>> {
        Ok(self
            .checkpoint_dirs()
            .into_iter()
            .filter(|(_, dir)| dir.join(METADATA_FILE).exists())
            .map(|(_, dir)| dir)
            .collect())
    }

    fn last_id(&self) -> u64 {
        self.checkpoint_dirs().first().map_or(0, |(id, _)| *id)
    }

    fn discard_all(&self) {
        let _ = std::fs::remove_dir_all(&self.job_dir);
    }
}

/// A checkpoint or savepoint read back and checked: metadata and every subtask's snapshot.
#[derive(Debug)]
pub struct LoadedCheckpoint {
    /// Its directory.
    pub dir: PathBuf,
    /// Its metadata.
    pub metadata: CheckpointMetadata,
    /// Snapshots by operator uid, in subtask order.
    pub operators: HashMap<String, Vec<(SubtaskFile, SubtaskSnapshot)>>,
}

impl LoadedCheckpoint {
    /// Reads the checkpoint at `path` (its directory or its `_metadata` file), checking every
    /// file's frame and, when `job_id` is given, that it belongs to that job.
    ///
    /// # Errors
    /// [`Error::Checkpoint`] for a missing, corrupt, truncated, foreign or other-version file;
    /// [`Error::Io`] when a file cannot be read.
    pub fn load(path: &Path, job_id: Option<&str>) -> Result<Self> {
        let dir = if path.file_name().is_some_and(|n| n == METADATA_FILE) {
            path.parent().unwrap_or(Path::new(".")).to_path_buf()
        } else {
            path.to_path_buf()
        };
        let metadata_path = dir.join(METADATA_FILE);
        if !metadata_path.exists() {
            return Err(corrupt(
                &dir,
                "no _metadata file: not a completed checkpoint or savepoint",
            ));
        }
        let metadata: CheckpointMetadata = decode("_metadata", &read_framed(&metadata_path)?)
            .map_err(|_| corrupt(&metadata_path, "unreadable metadata"))?;
        if let Some(expected) = job_id {
            if metadata.job_id != expected {
                return Err(corrupt(
                    &metadata_path,
                    format!("belongs to job '{}', not to '{expected}'", metadata.job_id),
                ));
            }
        }
        let mut operators = HashMap::new();
        for operator in &metadata.operators {
            let mut subtasks = Vec::with_capacity(operator.subtasks.len());
            for file in &operator.subtasks {
                let path = dir.join(&file.file);
                let bytes = read_framed(&path).map_err(|e| match e {
                    Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                        corrupt(&path, "missing (the checkpoint is incomplete)")
                    }
                    other => other,
                })?;
                let snapshot: SubtaskSnapshot = decode(&file.file, &bytes)
                    .map_err(|_| corrupt(&path, "unreadable subtask state"))?;
                subtasks.push((file.clone(), snapshot));
            }
            operators.insert(operator.uid.clone(), subtasks);
        }
        Ok(LoadedCheckpoint {
            dir,
            metadata,
            operators,
        })
    }

    /// The newest completed checkpoint of `storage` that loads cleanly. A damaged one is
    /// reported (as a warning) and the previous one tried; `Ok(None)` only when there is no
    /// completed checkpoint at all.
    ///
    /// # Errors
    /// The newest checkpoint's error when none of them loads: the job must not silently start
    /// from empty state.
    pub fn latest(storage: &dyn CheckpointStorage, job_id: &str) -> Result<Option<Self>> {
        let mut first_error = None;
        for dir in storage.completed()? {
            match LoadedCheckpoint::load(&dir, Some(job_id)) {
                Ok(loaded) => return Ok(Some(loaded)),
                Err(error) => {
                    tracing::warn!(%error, "skipping a damaged checkpoint; trying the previous one");
                    first_error.get_or_insert(error);
                }
            }
        }
        match first_error {
            Some(error) => Err(error),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::metadata::OperatorFiles;

    fn checkpoint(storage: &LocalCheckpointStorage, id: u64, value: u64) -> PathBuf {
        let dir = storage.begin(SnapshotKind::Checkpoint, id).unwrap();
        let mut snapshot = SubtaskSnapshot::default();
        snapshot
            .operator
            .insert("v".into(), encode(&value).unwrap());
        let range = KeyGroupRange { start: 0, end: 127 };
        let file = storage
            .write_subtask(&dir, "op-0-0.state", 0, range, &snapshot)
            .unwrap();
        let metadata = CheckpointMetadata {
            job_id: "job".into(),
            checkpoint_id: id,
            kind: SnapshotKind::Checkpoint,
            completed_at: 0,
            max_parallelism: 128,
            operators: vec![OperatorFiles {
                uid: "source".into(),
                parallelism: 1,
                subtasks: vec![file],
            }],
        };
        storage.commit(&dir, &metadata, 2).unwrap();
        dir
    }

    fn value(loaded: &LoadedCheckpoint) -> u64 {
        let snapshot = &loaded.operators["source"][0].1;
        decode("v", &snapshot.operator["v"]).unwrap()
    }

    #[test]
    fn retains_the_newest_and_falls_back_past_damage() {
        let root = tempfile::tempdir().unwrap();
        let storage = LocalCheckpointStorage::new(root.path(), "job", None);
        for id in 1..=4 {
            checkpoint(&storage, id, id * 100);
        }
        // Two retained.
        let completed = storage.completed().unwrap();
        assert_eq!(completed.len(), 2);
        assert!(completed[0].ends_with("chk-4"));
        assert_eq!(
            value(&LoadedCheckpoint::latest(&storage, "job").unwrap().unwrap()),
            400
        );
        // A flipped byte in the newest: the previous one is used.
        let state = completed[0].join("op-0-0.state");
        let mut bytes = std::fs::read(&state).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(&state, bytes).unwrap();
        assert_eq!(
            value(&LoadedCheckpoint::latest(&storage, "job").unwrap().unwrap()),
            300
        );
        // Both damaged: an error, not an empty start.
        let metadata = completed[1].join(METADATA_FILE);
        let bytes = std::fs::read(&metadata).unwrap();
        std::fs::write(&metadata, &bytes[..bytes.len() / 2]).unwrap();
        let error = LoadedCheckpoint::latest(&storage, "job").unwrap_err();
        assert!(error.to_string().contains("checksum mismatch"), "{error}");
        // Another job's checkpoint is refused by name.
        let error = LoadedCheckpoint::load(&completed[0], Some("other")).unwrap_err();
        assert!(error.to_string().contains("corrupt") || error.to_string().contains("job"));
    }

    #[test]
    fn no_checkpoint_means_a_fresh_start() {
        let root = tempfile::tempdir().unwrap();
        let storage = LocalCheckpointStorage::new(root.path(), "job", None);
        assert!(LoadedCheckpoint::latest(&storage, "job").unwrap().is_none());
        // An incomplete checkpoint (no metadata) does not count either.
        storage.begin(SnapshotKind::Checkpoint, 1).unwrap();
        assert!(LoadedCheckpoint::latest(&storage, "job").unwrap().is_none());
        assert_eq!(storage.last_id(), 1);
    }
}
