//! [`SharedStateRegistry`]: which retained checkpoints use each shared SST file, so that
//! dropping a checkpoint deletes exactly the shared files no retained checkpoint still uses.
//!
//! The registry lives with the checkpoint coordinator (one per job and shared directory). It
//! is not persisted: on restart it is rebuilt from the manifests of the retained checkpoints,
//! which are the source of truth, and [`delete_orphans`](SharedStateRegistry::delete_orphans)
//! then removes what failed or aborted uploads left behind.
//!
//! ## Ordering contract
//! Register every manifest of a completed checkpoint *before* releasing the checkpoints it
//! subsumes: the new checkpoint may reference their files. A manifest that references a file
//! the registry already deleted (a subtask learned of a completion late and built on an
//! older base) is refused by [`register`](SharedStateRegistry::register); the coordinator
//! must then decline that checkpoint.
//!
//! ```
//! use eddy_runtime::partition::KeyGroupRange;
//! use eddy_runtime::state::{FileLocation, RocksSnapshotManifest, SharedStateRegistry, SnapshotFile};
//!
//! let shared = std::env::temp_dir().join(format!("eddy-registry-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&shared).unwrap();
//! std::fs::write(shared.join("a-000007.sst"), b"sst").unwrap();
//! let file = SnapshotFile {
//!     name: "000007.sst".into(),
//!     size: 3,
//!     crc32c: 0, // the registry counts references; restores check checksums
//!     location: FileLocation::Shared { key: "a-000007.sst".into(), uploaded_by: 1 },
//! };
//! let mut first = RocksSnapshotManifest::empty(1, KeyGroupRange { start: 0, end: 127 });
//! first.files.push(file);
//! let mut second = first.clone();
//! second.checkpoint_id = 2; // references the file checkpoint 1 uploaded
//!
//! let mut registry = SharedStateRegistry::new(&shared);
//! registry.register(&first).unwrap();
//! registry.register(&second).unwrap();
//! assert!(registry.release(1).unwrap().is_empty()); // checkpoint 2 still uses it
//! assert_eq!(registry.release(2).unwrap(), vec!["a-000007.sst".to_string()]);
//! assert!(!shared.join("a-000007.sst").exists());
//! std::fs::remove_dir_all(&shared).unwrap();
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::manifest::{corrupt, FileLocation, RocksSnapshotManifest};
use crate::{Error, Result};

/// Reference counts of the files in one shared directory, by retained checkpoint.
#[derive(Debug, Clone)]
pub struct SharedStateRegistry {
    shared_dir: PathBuf,
    /// The checkpoints using each shared file, by its key.
    users: BTreeMap<String, BTreeSet<u64>>,
    /// The shared files each checkpoint uses.
    by_checkpoint: BTreeMap<u64, BTreeSet<String>>,
}

impl SharedStateRegistry {
    /// An empty registry of the files in `shared_dir`.
    pub fn new(shared_dir: &Path) -> Self {
        SharedStateRegistry {
            shared_dir: shared_dir.to_path_buf(),
            users: BTreeMap::new(),
            by_checkpoint: BTreeMap::new(),
        }
    }

    /// The registry of the retained checkpoints whose manifests are given (after a restart).
    pub fn rebuild<'a>(
        shared_dir: &Path,
        manifests: impl IntoIterator<Item = &'a RocksSnapshotManifest>,
    ) -> Self {
        let mut registry = SharedStateRegistry::new(shared_dir);
        for manifest in manifests {
            registry.add(manifest);
        }
        registry
    }

    /// Records that checkpoint `manifest.checkpoint_id` uses the manifest's shared files.
    /// Registering a manifest twice, or several manifests of one checkpoint (one per subtask),
    /// is fine.
    ///
    /// # Errors
    /// [`Error::Checkpoint`] when the manifest references a shared file, uploaded by an
    /// earlier checkpoint, that no registered checkpoint uses any more: it may be deleted
    /// already, so the checkpoint must be declined. Nothing is registered then.
    pub fn register(&mut self, manifest: &RocksSnapshotManifest) -> Result<()> {
        for file in &manifest.files {
            if let FileLocation::Shared { key, uploaded_by } = &file.location {
                let known = self.users.get(key).is_some_and(|users| !users.is_empty());
                if *uploaded_by != manifest.checkpoint_id && !known {
                    return Err(corrupt(
                        &self.shared_dir.join(key),
                        format!(
                            "checkpoint {} references a shared file of checkpoint {uploaded_by} \
                             that no retained checkpoint uses any more; decline checkpoint {}",
                            manifest.checkpoint_id, manifest.checkpoint_id
                        ),
                    ));
                }
            }
        }
        self.add(manifest);
        Ok(())
    }

    fn add(&mut self, manifest: &RocksSnapshotManifest) {
        let id = manifest.checkpoint_id;
        let keys = self.by_checkpoint.entry(id).or_default();
        for key in manifest.shared_files().filter_map(|f| f.shared_key()) {
            keys.insert(key.to_string());
            self.users.entry(key.to_string()).or_default().insert(id);
        }
    }

    /// Forgets checkpoint `checkpoint_id` and deletes the shared files no other registered
    /// checkpoint uses; returns their keys, sorted.
    ///
    /// # Errors
    /// [`Error::Io`] when a file cannot be deleted (one already gone is not an error). The
    /// files of a failed call stay unregistered, for [`delete_orphans`](Self::delete_orphans).
    pub fn release(&mut self, checkpoint_id: u64) -> Result<Vec<String>> {
        let Some(keys) = self.by_checkpoint.remove(&checkpoint_id) else {
            return Ok(Vec::new());
        };
        let mut unused = Vec::new();
        for key in keys {
            if let Some(users) = self.users.get_mut(&key) {
                users.remove(&checkpoint_id);
                if users.is_empty() {
                    self.users.remove(&key);
                    unused.push(key);
                }
            }
        }
        for key in &unused {
            remove_file(&self.shared_dir.join(key))?;
        }
        Ok(unused)
    }

    /// How many registered checkpoints use the shared file `key`.
    pub fn reference_count(&self, key: &str) -> usize {
        self.users.get(key).map_or(0, BTreeSet::len)
    }

    /// The registered checkpoints, in order.
    pub fn checkpoints(&self) -> impl Iterator<Item = u64> + '_ {
        self.by_checkpoint.keys().copied()
    }

    /// Deletes every file in the shared directory that no registered checkpoint uses (left by
    /// failed or aborted uploads); returns their names, sorted. Call it only while no upload
    /// is in flight, such as right after a restart.
    ///
    /// # Errors
    /// [`Error::Io`] when the directory cannot be listed or a file deleted.
    pub fn delete_orphans(&self) -> Result<Vec<String>> {
        let dir = &self.shared_dir;
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io(dir, e)),
        };
        let mut orphans = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(dir, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.path().is_file() && !self.users.contains_key(&name) {
                remove_file(&entry.path())?;
                orphans.push(name);
            }
        }
        orphans.sort();
        Ok(orphans)
    }
}

fn remove_file(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(path, e)),
    }
}
