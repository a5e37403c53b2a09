//! [`PendingRocksSnapshot`]: the asynchronous part of a RocksDB snapshot, the upload of a
//! local RocksDB checkpoint's files, full or incremental.
//!
//! ## Algorithm
//! At the barrier the backend flushes its memtables and creates a RocksDB checkpoint: hard
//! links to the live SST files plus copies of the small metadata files, in a local directory.
//! That is cheap, and from then on the files are immutable, so the upload can run on another
//! thread while the task keeps processing records.
//!
//! An incremental upload compares the checkpoint's SST files with those of the last
//! *completed* checkpoint (the base): an SST file is immutable and its name is never reused
//! within a database's lineage, so a file of the same name and size is the same file, and the
//! new manifest references the base's copy in the shared directory. Only new SST files are
//! copied there, under a key prefixed by the instance's id. A savepoint or full snapshot
//! copies everything into its own directory, self-contained and relocatable.
//!
//! The base is the last *completed* checkpoint, never merely the last uploaded one: an
//! aborted checkpoint's files may be deleted at any time.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use super::files;
use super::instance::RemoveOnDrop;
use super::manifest::{
    is_sst, FileLocation, RocksSnapshotManifest, SnapshotFile, SnapshotState, MANIFEST_FILE_NAME,
    ROCKSDB_SNAPSHOT_FORMAT_VERSION,
};
use crate::partition::KeyGroupRange;
use crate::{Error, Result};

/// Shared SST files by their name in the database directory.
pub(super) type SharedFiles = BTreeMap<String, SnapshotFile>;

/// The shared files each uploaded but not yet completed incremental checkpoint wrote or
/// referenced, by checkpoint id; filled by uploads on background threads, consumed by the
/// backend when a checkpoint completes.
pub(super) type Uploads = Arc<Mutex<BTreeMap<u64, SharedFiles>>>;

/// A snapshot taken at a barrier whose files still have to be uploaded.
///
/// `Send + 'static`: hand it to a background thread and call [`upload`](Self::upload) there.
/// Dropping it without uploading discards the local checkpoint.
#[derive(Debug)]
pub struct PendingRocksSnapshot {
    /// The local RocksDB checkpoint; removed when this is dropped.
    pub(super) dir: RemoveOnDrop,
    pub(super) checkpoint_id: u64,
    pub(super) incremental: bool,
    pub(super) key_groups: KeyGroupRange,
    pub(super) states: Vec<SnapshotState>,
    /// Names of the checkpoint's files, in name order.
    pub(super) files: Vec<String>,
    /// The shared files of the base checkpoint (empty for a full snapshot).
    pub(super) base: SharedFiles,
    pub(super) instance_id: u64,
    pub(super) uploads: Uploads,
}

impl PendingRocksSnapshot {
    /// The checkpoint this snapshot belongs to.
    pub fn checkpoint_id(&self) -> u64 {
        self.checkpoint_id
    }

    /// Copies the snapshot's files and writes its manifest (last, as
    /// [`MANIFEST_FILE_NAME`](super::MANIFEST_FILE_NAME)) into `target_dir`.
    ///
    /// An incremental snapshot with a `shared_dir` puts its SST files there: new ones are
    /// copied, those of the base checkpoint only referenced. Otherwise (a savepoint, a full
    /// snapshot, or no shared directory) every file goes into `target_dir`, self-contained.
    /// Every file is synced before the manifest is written; the caller's metadata write is
    /// the commit point.
    ///
    /// # Errors
    /// [`Error::Io`] when a file cannot be read or written. Files written before the failure
    /// stay: the caller discards the failed checkpoint's directory, and
    /// [`SharedStateRegistry::delete_orphans`](super::SharedStateRegistry::delete_orphans)
    /// the shared files no checkpoint references.
    pub fn upload(
        self,
        target_dir: &Path,
        shared_dir: Option<&Path>,
    ) -> Result<RocksSnapshotManifest> {
        std::fs::create_dir_all(target_dir).map_err(|e| Error::io(target_dir, e))?;
        let shared_dir = shared_dir.filter(|_| self.incremental);
        if let Some(shared) = shared_dir {
            std::fs::create_dir_all(shared).map_err(|e| Error::io(shared, e))?;
        }
        let mut manifest = RocksSnapshotManifest {
            format_version: ROCKSDB_SNAPSHOT_FORMAT_VERSION,
            checkpoint_id: self.checkpoint_id,
            key_groups: self.key_groups,
            states: self.states.clone(),
            files: Vec::with_capacity(self.files.len()),
        };
        let mut shared_files = SharedFiles::new();
        for name in &self.files {
            let local = self.dir.path().join(name);
            let file = match shared_dir {
                Some(shared) if is_sst(name) => {
                    let file = self.upload_shared(name, &local, shared)?;
                    shared_files.insert(name.clone(), file.clone());
                    file
                }
                _ => {
                    let (size, crc32c) = files::copy_checksummed(&local, &target_dir.join(name))?;
                    SnapshotFile {
                        name: name.clone(),
                        size,
                        crc32c,
                        location: FileLocation::Private,
                    }
                }
            };
            manifest.files.push(file);
        }
        if let Some(shared) = shared_dir {
            files::sync_dir(shared)?;
        }
        files::sync_dir(target_dir)?;
        manifest.write(&target_dir.join(MANIFEST_FILE_NAME))?;
        if shared_dir.is_some() {
            let mut uploads = self.uploads.lock().unwrap_or_else(|e| e.into_inner());
            uploads.insert(self.checkpoint_id, shared_files);
        }
        Ok(manifest)
    }

    /// References the base's copy of SST file `name`, or copies it into `shared`.
    fn upload_shared(&self, name: &str, local: &Path, shared: &Path) -> Result<SnapshotFile> {
        let size = std::fs::metadata(local)
            .map_err(|e| Error::io(local, e))?
            .len();
        if let Some(base) = self.base.get(name).filter(|b| b.size == size) {
            return Ok(base.clone());
        }
        let key = format!("{:016x}-{name}", self.instance_id);
        let (size, crc32c) = files::copy_checksummed(local, &shared.join(&key))?;
        Ok(SnapshotFile {
            name: name.to_string(),
            size,
            crc32c,
            location: FileLocation::Shared {
                key,
                uploaded_by: self.checkpoint_id,
            },
        })
    }
}
