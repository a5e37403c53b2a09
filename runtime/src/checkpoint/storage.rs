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

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::format::{corrupt, frame, unframe};
use super::metadata::{CheckpointMetadata, SnapshotKind, SubtaskFile, METADATA_FILE};
use super::snapshot::{decode, encode, SubtaskSnapshot, UploadTarget, UploadedFiles};
use super::store::Location;
use super::DeferredUpload;
use crate::partition::KeyGroupRange;
use crate::{Error, Result};

/// The directory of a job's checkpoints holding files shared between checkpoints.
pub const SHARED_DIR: &str = "shared";

/// The directory, beside a subtask's state file `op-N-S.state`, of its state backend's files.
pub fn backend_dir_name(state_file: &str) -> String {
    let stem = state_file.strip_suffix(".state").unwrap_or(state_file);
    format!("{stem}.files")
}

/// Reads the framed file at `location` and returns its checked payload.
///
/// # Errors
/// [`Error::Checkpoint`] when it is missing or damaged; [`Error::Io`] when it cannot be read.
pub fn read_checked(location: &Location) -> Result<Vec<u8>> {
    let Some(bytes) = location.get()? else {
        return Err(corrupt(
            &location.display(),
            "missing (the checkpoint is incomplete)",
        ));
    };
    Ok(unframe(&location.display(), &bytes)?.to_vec())
}

/// Stores the files of checkpoints and savepoints.
pub trait CheckpointStorage: Send + Sync {
    /// Creates checkpoint `id`, or savepoint `id` under `savepoint_dir`, and returns its
    /// location.
    ///
    /// # Errors
    /// [`Error::Io`] when it cannot be created.
    fn begin(&self, id: u64, savepoint_dir: Option<&Location>) -> Result<Location>;

    /// Writes one subtask's snapshot into `location` as `file`.
    ///
    /// # Errors
    /// [`Error::Io`] naming the file.
    fn write_subtask(
        &self,
        location: &Location,
        file: &str,
        subtask: u32,
        key_groups: KeyGroupRange,
        snapshot: &SubtaskSnapshot,
    ) -> Result<SubtaskFile>;

    /// Runs a state backend's deferred upload of a subtask's files into `location`, beside
    /// its state file `file`; returns what it produced and the bytes it stored.
    ///
    /// # Errors
    /// The upload's error, or [`Error::Io`] naming the file that could not be stored.
    fn upload(
        &self,
        location: &Location,
        kind: SnapshotKind,
        file: &str,
        upload: DeferredUpload,
    ) -> Result<(UploadedFiles, u64)>;

    /// Writes the metadata (the commit point) and removes checkpoints beyond the retained
    /// count.
    ///
    /// # Errors
    /// [`Error::Io`] naming the file.
    fn commit(
        &self,
        location: &Location,
        metadata: &CheckpointMetadata,
        retained: usize,
    ) -> Result<()>;

    /// Removes an aborted checkpoint.
    fn abort(&self, location: &Location);

    /// This job's completed checkpoints, newest first.
    ///
    /// # Errors
    /// [`Error::Io`] when the job's directory cannot be listed.
    fn completed(&self) -> Result<Vec<Location>>;

    /// The highest checkpoint number ever begun for this job (complete or not), or 0.
    fn last_id(&self) -> u64;

    /// Removes every checkpoint of the job (it finished: its checkpoints have no further use).
    fn discard_all(&self);
}

/// Checkpoints under a directory: a local path, or an object-store URL (see
/// [`super::store`]). One layout, one framing and one commit point for both.
#[derive(Debug, Clone)]
pub struct DirectoryStorage {
    job_dir: Location,
    job_id: String,
}

/// The storage of checkpoints in a local directory (the name of earlier releases).
pub type LocalCheckpointStorage = DirectoryStorage;

impl DirectoryStorage {
    /// Checkpoints of `job_id` under the local directory `dir/<job_id>/`. Savepoints go where
    /// each request says; `_savepoint_dir` is kept for callers of earlier releases.
    pub fn new(dir: &Path, job_id: &str, _savepoint_dir: Option<PathBuf>) -> Self {
        let job_dir = Location::parse(&dir.join(job_id)).unwrap_or_else(|_| {
            // Only a path whose absolute form cannot be found (no working directory) fails.
            Location::parse(&std::env::temp_dir().join(dir).join(job_id))
                .expect("an absolute path parses")
        });
        DirectoryStorage {
            job_dir,
            job_id: job_id.to_string(),
        }
    }

    /// Checkpoints of `job_id` under `dir/<job_id>/`, where `dir` is a local path,
    /// `file:///abs/dir` or `memory://NAME/prefix`.
    ///
    /// # Errors
    /// [`Error::Checkpoint`] for an unknown or malformed URL.
    pub fn open(dir: &Path, job_id: &str) -> Result<Self> {
        Ok(DirectoryStorage {
            job_dir: Location::parse(dir)?.join(job_id),
            job_id: job_id.to_string(),
        })
    }

    /// The job's checkpoint directory, `dir/<job id>`.
    pub fn job_dir(&self) -> &Location {
        &self.job_dir
    }

    fn checkpoint_dirs(&self) -> Vec<(u64, Location)> {
        let mut dirs: Vec<(u64, Location)> = self
            .job_dir
            .children()
            .unwrap_or_default()
            .into_iter()
            .filter_map(|name| {
                let id = name.strip_prefix("chk-")?.parse().ok()?;
                Some((id, self.job_dir.join(&name)))
            })
            .collect();
        dirs.sort_by_key(|(id, _)| std::cmp::Reverse(*id));
        dirs
    }

    /// Removes the shared files that no retained checkpoint references any more. Runs after a
    /// commit, when no other checkpoint is in flight (at most one is).
    fn delete_unreferenced_shared_files(&self) {
        let shared = self.job_dir.join(SHARED_DIR);
        let Ok(names) = shared.children() else {
            return;
        };
        if names.is_empty() {
            return;
        }
        let mut referenced = HashSet::new();
        for dir in self.completed().unwrap_or_default() {
            let Ok(bytes) = read_checked(&dir.join(METADATA_FILE)) else {
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
        for name in names {
            if !referenced.contains(&name) {
                shared.join(&name).delete();
            }
        }
    }
}

impl CheckpointStorage for DirectoryStorage {
    fn begin(&self, id: u64, savepoint_dir: Option<&Location>) -> Result<Location> {
        let dir = match savepoint_dir {
            Some(savepoints) => savepoints.join(&format!("savepoint-{}-{id}", self.job_id)),
            None => self.job_dir.join(&format!("chk-{id}")),
        };
        // Left by a run that crashed before completing it: not a checkpoint.
        dir.delete_all();
        if let Some(path) = dir.local_path() {
            std::fs::create_dir_all(&path).map_err(|e| Error::io(&path, e))?;
        }
        Ok(dir)
    }

    fn write_subtask(
        &self,
        location: &Location,
        file: &str,
        subtask: u32,
        key_groups: KeyGroupRange,
        snapshot: &SubtaskSnapshot,
    ) -> Result<SubtaskFile> {
        let bytes = encode(snapshot)?;
        location.join(file).put(&frame(&bytes))?;
        Ok(SubtaskFile {
            subtask,
            key_groups,
            file: file.to_string(),
            size: bytes.len() as u64,
            shared_files: Vec::new(),
        })
    }

    fn upload(
        &self,
        location: &Location,
        kind: SnapshotKind,
        file: &str,
        upload: DeferredUpload,
    ) -> Result<(UploadedFiles, u64)> {
        let private = location.join(&backend_dir_name(file));
        let shared = (kind == SnapshotKind::Checkpoint).then(|| self.job_dir.join(SHARED_DIR));
        if let Some(dir) = private.local_path() {
            // A local directory: the backend writes its files in place.
            let shared_dir = shared.as_ref().and_then(Location::local_path);
            let before: HashSet<String> = shared_dir
                .as_deref()
                .map(|d| dir_sizes(d).into_iter().map(|(name, _)| name).collect())
                .unwrap_or_default();
            let uploaded = upload(&UploadTarget {
                dir: dir.clone(),
                shared_dir: shared_dir.clone(),
            })?;
            let new_shared: u64 = shared_dir
                .as_deref()
                .map(|d| {
                    dir_sizes(d)
                        .into_iter()
                        .filter(|(name, _)| !before.contains(name))
                        .map(|(_, size)| size)
                        .sum()
                })
                .unwrap_or(0);
            let private_bytes: u64 = dir_sizes(&dir).into_iter().map(|(_, size)| size).sum();
            return Ok((uploaded, private_bytes + new_shared));
        }
        // An object store: stage the files locally, then store each one.
        let staging = tempfile::tempdir().map_err(|e| Error::io(std::env::temp_dir(), e))?;
        let target = UploadTarget {
            dir: staging.path().join("private"),
            shared_dir: shared.as_ref().map(|_| staging.path().join(SHARED_DIR)),
        };
        let uploaded = upload(&target)?;
        let mut bytes = store_dir(&target.dir, &private)?;
        if let (Some(local), Some(shared)) = (&target.shared_dir, &shared) {
            bytes += store_dir(local, shared)?;
        }
        Ok((uploaded, bytes))
    }

    fn commit(
        &self,
        location: &Location,
        metadata: &CheckpointMetadata,
        retained: usize,
    ) -> Result<()> {
        location
            .join(METADATA_FILE)
            .put(&frame(&encode(metadata)?))?;
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
                    dir.delete_all();
                }
            }
            self.delete_unreferenced_shared_files();
        }
        Ok(())
    }

    fn abort(&self, location: &Location) {
        location.delete_all();
    }

    fn completed(&self) -> Result<Vec<Location>> {
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
        self.job_dir.delete_all();
    }
}

/// The files of a local directory and their sizes (none when it does not exist).
fn dir_sizes(dir: &Path) -> Vec<(String, u64)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| {
            let size = e.metadata().ok().filter(|m| m.is_file())?.len();
            Some((e.file_name().to_string_lossy().into_owned(), size))
        })
        .collect()
}

/// Stores every file of the local directory `from` under `to`; returns the bytes stored.
fn store_dir(from: &Path, to: &Location) -> Result<u64> {
    let mut bytes = 0;
    for (name, size) in dir_sizes(from) {
        to.join(&name).upload(&from.join(&name))?;
        bytes += size;
    }
    Ok(bytes)
}

/// A checkpoint or savepoint read back and checked: metadata and every subtask's snapshot.
#[derive(Debug)]
pub struct LoadedCheckpoint {
    /// Its directory (a path or a URL).
    pub dir: PathBuf,
    /// Where it is.
    pub location: Location,
    /// Its metadata.
    pub metadata: CheckpointMetadata,
    /// Snapshots by operator uid, in subtask order.
    pub operators: HashMap<String, Vec<(SubtaskFile, SubtaskSnapshot)>>,
    /// State backend files fetched from an object store, while the checkpoint is in use.
    downloads: Option<tempfile::TempDir>,
}

impl LoadedCheckpoint {
    /// Reads the checkpoint at `path` (its directory or its `_metadata` file; a local path
    /// or a URL), checking every file's frame and, when `job_id` is given, that it belongs to
    /// that job.
    ///
    /// # Errors
    /// [`Error::Checkpoint`] for a missing, corrupt, truncated, foreign or other-version file;
    /// [`Error::Io`] when a file cannot be read.
    pub fn load(path: &Path, job_id: Option<&str>) -> Result<Self> {
        let location = Location::parse(path)?;
        let location = if location.name() == METADATA_FILE {
            location.parent().unwrap_or(location)
        } else {
            location
        };
        LoadedCheckpoint::load_from(location, job_id)
    }

    /// [`load`](Self::load) from a [`Location`].
    ///
    /// # Errors
    /// As [`load`](Self::load).
    pub fn load_from(location: Location, job_id: Option<&str>) -> Result<Self> {
        let dir = location.display();
        let metadata_file = location.join(METADATA_FILE);
        if !metadata_file.exists() {
            return Err(corrupt(
                &dir,
                "no _metadata file: not a completed checkpoint or savepoint",
            ));
        }
        let metadata: CheckpointMetadata = decode("_metadata", &read_checked(&metadata_file)?)
            .map_err(|_| corrupt(&metadata_file.display(), "unreadable metadata"))?;
        if let Some(expected) = job_id {
            if metadata.job_id != expected {
                return Err(corrupt(
                    &metadata_file.display(),
                    format!("belongs to job '{}', not to '{expected}'", metadata.job_id),
                ));
            }
        }
        let mut operators = HashMap::new();
        for operator in &metadata.operators {
            let mut subtasks = Vec::with_capacity(operator.subtasks.len());
            for file in &operator.subtasks {
                let state = location.join(&file.file);
                let snapshot: SubtaskSnapshot = decode(&file.file, &read_checked(&state)?)
                    .map_err(|_| corrupt(&state.display(), "unreadable subtask state"))?;
                subtasks.push((file.clone(), snapshot));
            }
            operators.insert(operator.uid.clone(), subtasks);
        }
        let mut loaded = LoadedCheckpoint {
            dir,
            location,
            metadata,
            operators,
            downloads: None,
        };
        loaded.fetch_backend_files()?;
        Ok(loaded)
    }

    /// Where the state backend files of subtask file `file` are, locally: its own directory
    /// and the job's shared directory.
    pub fn backend_dirs(&self, file: &SubtaskFile) -> (PathBuf, Option<PathBuf>) {
        let name = backend_dir_name(&file.file);
        match &self.downloads {
            Some(local) => (
                local.path().join(&name),
                Some(local.path().join(SHARED_DIR)),
            ),
            None => (
                self.location
                    .join(&name)
                    .local_path()
                    .unwrap_or_else(|| self.dir.join(&name)),
                self.location
                    .parent()
                    .and_then(|job| job.join(SHARED_DIR).local_path()),
            ),
        }
    }

    /// Copies the state backend files of a checkpoint in an object store to a local
    /// temporary directory, where the backend restores from.
    fn fetch_backend_files(&mut self) -> Result<()> {
        if self.location.local_path().is_some() {
            return Ok(());
        }
        let with_files: Vec<&SubtaskFile> = self
            .operators
            .values()
            .flatten()
            .filter(|(_, snapshot)| snapshot.backend.is_some())
            .map(|(file, _)| file)
            .collect();
        if with_files.is_empty() {
            return Ok(());
        }
        let local = tempfile::tempdir().map_err(|e| Error::io(std::env::temp_dir(), e))?;
        let shared_local = local.path().join(SHARED_DIR);
        std::fs::create_dir_all(&shared_local).map_err(|e| Error::io(&shared_local, e))?;
        let shared = self.location.parent().map(|job| job.join(SHARED_DIR));
        for file in with_files {
            let name = backend_dir_name(&file.file);
            let private = self.location.join(&name);
            let target = local.path().join(&name);
            std::fs::create_dir_all(&target).map_err(|e| Error::io(&target, e))?;
            for child in private.children()? {
                private.join(&child).download(&target.join(&child))?;
            }
            for key in &file.shared_files {
                let Some(shared) = &shared else { break };
                let to = shared_local.join(key);
                if !to.exists() {
                    shared.join(key).download(&to)?;
                }
            }
        }
        self.downloads = Some(local);
        Ok(())
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
            match LoadedCheckpoint::load_from(dir, Some(job_id)) {
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

    fn checkpoint(storage: &DirectoryStorage, id: u64, value: u64) -> Location {
        let dir = storage.begin(id, None).unwrap();
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

    /// Retention, fallback past a flipped byte, an error when nothing loads, a foreign job:
    /// the same on every kind of store.
    fn retains_the_newest_and_falls_back_past_damage(root: &Path) {
        let storage = DirectoryStorage::open(root, "job").unwrap();
        for id in 1..=4 {
            checkpoint(&storage, id, id * 100);
        }
        // Two retained.
        let completed = storage.completed().unwrap();
        assert_eq!(completed.len(), 2);
        assert_eq!(completed[0].name(), "chk-4");
        assert_eq!(storage.last_id(), 4);
        assert_eq!(
            value(&LoadedCheckpoint::latest(&storage, "job").unwrap().unwrap()),
            400
        );
        // A flipped byte in the newest: the previous one is used.
        let state = completed[0].join("op-0-0.state");
        let mut bytes = state.get().unwrap().unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        state.put(&bytes).unwrap();
        let loaded = LoadedCheckpoint::latest(&storage, "job").unwrap().unwrap();
        assert_eq!(value(&loaded), 300);
        assert_eq!(loaded.location.name(), "chk-3");
        // Both damaged: the newest one's error, naming the file, not an empty start.
        let metadata = completed[1].join(METADATA_FILE);
        let bytes = metadata.get().unwrap().unwrap();
        metadata.put(&bytes[..bytes.len() / 2]).unwrap();
        assert!(LoadedCheckpoint::load_from(completed[1].clone(), None)
            .unwrap_err()
            .to_string()
            .contains("truncated"));
        let error = LoadedCheckpoint::latest(&storage, "job").unwrap_err();
        assert!(error.to_string().contains("checksum mismatch"), "{error}");
        assert!(error.to_string().contains("chk-4/op-0-0.state"), "{error}");
        // Another job's checkpoint is refused by name.
        let other = checkpoint(&storage, 5, 500);
        let error = LoadedCheckpoint::load_from(other.clone(), Some("other")).unwrap_err();
        assert!(
            error.to_string().contains("belongs to job 'job'"),
            "{error}"
        );
        // Loading by path or URL finds the same checkpoint.
        let loaded = LoadedCheckpoint::load(&other.display(), Some("job")).unwrap();
        assert_eq!(value(&loaded), 500);
        storage.discard_all();
        assert!(storage.completed().unwrap().is_empty());
    }

    #[test]
    fn a_local_directory_retains_and_falls_back() {
        let root = tempfile::tempdir().unwrap();
        retains_the_newest_and_falls_back_past_damage(root.path());
    }

    #[test]
    fn an_object_store_in_memory_retains_and_falls_back() {
        retains_the_newest_and_falls_back_past_damage(Path::new("memory://storage-test/ck"));
    }

    #[test]
    fn an_object_store_on_local_files_retains_and_falls_back() {
        let root = tempfile::tempdir().unwrap();
        let url = format!("file://{}/ck", root.path().display());
        retains_the_newest_and_falls_back_past_damage(Path::new(&url));
        assert!(!root.path().join("ck/job/chk-5").exists());
    }

    #[test]
    fn uploads_to_an_object_store_are_staged_and_fetched_back() {
        let storage = DirectoryStorage::open(Path::new("memory://upload-test/ck"), "job").unwrap();
        let location = storage.begin(1, None).unwrap();
        let upload: DeferredUpload = Box::new(|target: &UploadTarget| {
            std::fs::create_dir_all(&target.dir).unwrap();
            std::fs::write(target.dir.join("MANIFEST"), b"private").unwrap();
            let shared = target.shared_dir.as_ref().unwrap();
            std::fs::create_dir_all(shared).unwrap();
            std::fs::write(shared.join("7-000001.sst"), b"shared").unwrap();
            Ok(UploadedFiles {
                manifest: b"manifest".to_vec(),
                shared_files: vec!["7-000001.sst".into()],
            })
        });
        let (uploaded, bytes) = storage
            .upload(&location, SnapshotKind::Checkpoint, "op-0-0.state", upload)
            .unwrap();
        assert_eq!(bytes, 7 + 6);
        let snapshot = SubtaskSnapshot {
            backend: Some(uploaded.manifest),
            ..SubtaskSnapshot::default()
        };
        let range = KeyGroupRange { start: 0, end: 127 };
        let mut file = storage
            .write_subtask(&location, "op-0-0.state", 0, range, &snapshot)
            .unwrap();
        file.shared_files = uploaded.shared_files;
        let metadata = CheckpointMetadata {
            job_id: "job".into(),
            checkpoint_id: 1,
            kind: SnapshotKind::Checkpoint,
            completed_at: 0,
            max_parallelism: 128,
            operators: vec![OperatorFiles {
                uid: "op".into(),
                parallelism: 1,
                subtasks: vec![file.clone()],
            }],
        };
        storage.commit(&location, &metadata, 1).unwrap();
        let loaded = LoadedCheckpoint::latest(&storage, "job").unwrap().unwrap();
        let (private, shared) = loaded.backend_dirs(&file);
        assert_eq!(std::fs::read(private.join("MANIFEST")).unwrap(), b"private");
        assert_eq!(
            std::fs::read(shared.unwrap().join("7-000001.sst")).unwrap(),
            b"shared"
        );
        // Newer checkpoints without the shared file: it is deleted once none retained uses it.
        checkpoint(&storage, 2, 1);
        checkpoint(&storage, 3, 1);
        assert!(storage
            .job_dir()
            .join(SHARED_DIR)
            .children()
            .unwrap()
            .is_empty());
    }

    #[test]
    fn no_checkpoint_means_a_fresh_start() {
        let root = tempfile::tempdir().unwrap();
        let storage = DirectoryStorage::new(root.path(), "job", None);
        assert!(LoadedCheckpoint::latest(&storage, "job").unwrap().is_none());
        // An incomplete checkpoint (no metadata) does not count either.
        storage.begin(1, None).unwrap();
        assert!(LoadedCheckpoint::latest(&storage, "job").unwrap().is_none());
        assert_eq!(storage.last_id(), 1);
    }
}
