//! [`RocksSnapshotManifest`]: the persisted description of one RocksDB snapshot, what a
//! restore needs to find, check and reopen its files.
//!
//! A snapshot is a RocksDB checkpoint: SST files (immutable, named by a number unique within
//! the database's lineage) plus small private files (`CURRENT`, `MANIFEST-*`, `OPTIONS-*`).
//! The manifest lists each with its size and CRC-32C, and says where it lives: in the
//! snapshot's own directory (private) or in the job's shared directory under a key, where
//! later incremental snapshots reference it instead of uploading it again.
//!
//! On disk the manifest is JSON wrapped in an envelope that carries a format tag and the
//! CRC-32C of the manifest's JSON, so a flipped byte, a truncated file and a file of another
//! program each give a clear error.
//!
//! ```
//! use eddy_runtime::partition::KeyGroupRange;
//! use eddy_runtime::state::RocksSnapshotManifest;
//!
//! let manifest = RocksSnapshotManifest::empty(7, KeyGroupRange { start: 0, end: 63 });
//! let dir = std::env::temp_dir().join(format!("eddy-manifest-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let path = dir.join("rocksdb-snapshot.json");
//! manifest.write(&path).unwrap();
//! assert_eq!(RocksSnapshotManifest::read(&path).unwrap(), manifest);
//! std::fs::remove_dir_all(&dir).unwrap();
//! ```

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::partition::KeyGroupRange;
use crate::{Error, Result};

/// The manifest format this build writes and reads; bumped on any incompatible change.
pub const ROCKSDB_SNAPSHOT_FORMAT_VERSION: u32 = 1;

/// The name of the manifest file in a snapshot's directory.
pub const MANIFEST_FILE_NAME: &str = "rocksdb-snapshot.json";

/// Tells Eddy's RocksDB snapshot manifests from any other JSON file.
const FORMAT_TAG: &str = "eddy-rocksdb-snapshot";

/// The persisted description of one RocksDB snapshot of one subtask.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RocksSnapshotManifest {
    /// [`ROCKSDB_SNAPSHOT_FORMAT_VERSION`] when written.
    pub format_version: u32,
    /// The checkpoint (or savepoint) this snapshot belongs to.
    pub checkpoint_id: u64,
    /// The key groups whose state the snapshot holds.
    pub key_groups: KeyGroupRange,
    /// The states (one column family each), in name order.
    pub states: Vec<SnapshotState>,
    /// Every file of the RocksDB checkpoint, in name order.
    pub files: Vec<SnapshotFile>,
}

/// A state of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotState {
    /// The state's name, as in its descriptor.
    pub name: String,
    /// The time-to-live when snapshotted; `Some` means values carry a write-time prefix.
    pub ttl_millis: Option<i64>,
}

/// A file of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotFile {
    /// The file's name in the database directory (`000042.sst`, `CURRENT`, ...).
    pub name: String,
    /// Its length in bytes.
    pub size: u64,
    /// The CRC-32C of its contents.
    pub crc32c: u32,
    /// Where it was uploaded.
    pub location: FileLocation,
}

/// Where a snapshot file lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FileLocation {
    /// In the snapshot's own directory, under its name.
    Private,
    /// In the shared directory, under `key`; uploaded by checkpoint `uploaded_by` and
    /// referenced by every later incremental checkpoint that still contains it.
    Shared {
        /// The file's name in the shared directory.
        key: String,
        /// The checkpoint whose upload wrote it.
        uploaded_by: u64,
    },
}

impl SnapshotFile {
    /// Whether it is an SST file (immutable data; the only kind that can be shared).
    pub fn is_sst(&self) -> bool {
        is_sst(&self.name)
    }

    /// Its key in the shared directory, if shared.
    pub fn shared_key(&self) -> Option<&str> {
        match &self.location {
            FileLocation::Shared { key, .. } => Some(key),
            FileLocation::Private => None,
        }
    }
}

/// Whether a database file name is an SST file's.
pub(super) fn is_sst(name: &str) -> bool {
    name.ends_with(".sst")
}

/// The manifest file: a format tag, the CRC-32C of the manifest's JSON, the manifest.
#[derive(Serialize, Deserialize)]
struct Envelope {
    format: String,
    crc32c: u32,
    manifest: RocksSnapshotManifest,
}

impl RocksSnapshotManifest {
    /// A manifest of a snapshot with no state and no files.
    pub fn empty(checkpoint_id: u64, key_groups: KeyGroupRange) -> Self {
        RocksSnapshotManifest {
            format_version: ROCKSDB_SNAPSHOT_FORMAT_VERSION,
            checkpoint_id,
            key_groups,
            states: Vec::new(),
            files: Vec::new(),
        }
    }

    /// Whether every file is in the snapshot's own directory (a savepoint: the directory can
    /// be moved anywhere and restored from there).
    pub fn is_self_contained(&self) -> bool {
        self.files
            .iter()
            .all(|f| matches!(f.location, FileLocation::Private))
    }

    /// The files in the shared directory.
    pub fn shared_files(&self) -> impl Iterator<Item = &SnapshotFile> {
        self.files.iter().filter(|f| f.shared_key().is_some())
    }

    /// Bytes of the whole snapshot, referenced shared files included.
    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }

    /// Bytes this snapshot's upload wrote: its private files and the shared files it
    /// uploaded, not those it references from earlier checkpoints.
    pub fn uploaded_bytes(&self) -> u64 {
        self.files
            .iter()
            .filter(|f| match &f.location {
                FileLocation::Private => true,
                FileLocation::Shared { uploaded_by, .. } => *uploaded_by == self.checkpoint_id,
            })
            .map(|f| f.size)
            .sum()
    }

    /// Checks what a restore relies on: the format version and a sensible key-group range.
    ///
    /// # Errors
    /// [`Error::Checkpoint`] naming `path` (where the manifest came from) and the problem.
    pub fn validate(&self, path: &Path) -> Result<()> {
        if self.format_version != ROCKSDB_SNAPSHOT_FORMAT_VERSION {
            return Err(corrupt(
                path,
                format!(
                    "RocksDB snapshot format version {}, this build reads version {}",
                    self.format_version, ROCKSDB_SNAPSHOT_FORMAT_VERSION
                ),
            ));
        }
        if self.key_groups.start > self.key_groups.end {
            return Err(corrupt(
                path,
                format!(
                    "empty key-group range {}..={}",
                    self.key_groups.start, self.key_groups.end
                ),
            ));
        }
        Ok(())
    }

    /// Writes the manifest to `path`: to a temporary file, synced, then renamed, so that a
    /// crash leaves the whole manifest or none.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be written.
    pub fn write(&self, path: &Path) -> Result<()> {
        let json = serde_json::to_vec(self).map_err(|e| Error::Internal(e.to_string()))?;
        let envelope = Envelope {
            format: FORMAT_TAG.to_string(),
            crc32c: crc32c::crc32c(&json),
            manifest: self.clone(),
        };
        let bytes =
            serde_json::to_vec_pretty(&envelope).map_err(|e| Error::Internal(e.to_string()))?;
        let tmp = path.with_extension("json.tmp");
        let mut file = std::fs::File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
        file.write_all(&bytes).map_err(|e| Error::io(&tmp, e))?;
        file.sync_all().map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
    }

    /// Reads and checks a manifest written by [`write`](Self::write).
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be read; [`Error::Checkpoint`] when it is not a
    /// manifest, is truncated or corrupt, or has another format version.
    pub fn read(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let envelope: Envelope = serde_json::from_slice(&bytes).map_err(|e| {
            corrupt(
                path,
                format!("not a readable RocksDB snapshot manifest (truncated or corrupt?): {e}"),
            )
        })?;
        if envelope.format != FORMAT_TAG {
            return Err(corrupt(
                path,
                format!(
                    "not a RocksDB snapshot manifest: format '{}'",
                    envelope.format
                ),
            ));
        }
        let json =
            serde_json::to_vec(&envelope.manifest).map_err(|e| Error::Internal(e.to_string()))?;
        let crc = crc32c::crc32c(&json);
        if crc != envelope.crc32c {
            return Err(corrupt(
                path,
                format!(
                    "manifest checksum mismatch: stored {:08x}, computed {crc:08x}",
                    envelope.crc32c
                ),
            ));
        }
        envelope.manifest.validate(path)?;
        Ok(envelope.manifest)
    }
}

/// A snapshot problem at `path`.
pub(super) fn corrupt(path: &Path, message: impl Into<String>) -> Error {
    Error::Checkpoint {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> RocksSnapshotManifest {
        let mut manifest = RocksSnapshotManifest::empty(3, KeyGroupRange { start: 4, end: 9 });
        manifest.states.push(SnapshotState {
            name: "count".into(),
            ttl_millis: Some(60_000),
        });
        manifest.files = vec![
            SnapshotFile {
                name: "000012.sst".into(),
                size: 1000,
                crc32c: 0xdead_beef,
                location: FileLocation::Shared {
                    key: "ab-000012.sst".into(),
                    uploaded_by: 2,
                },
            },
            SnapshotFile {
                name: "000013.sst".into(),
                size: 10,
                crc32c: 1,
                location: FileLocation::Shared {
                    key: "ab-000013.sst".into(),
                    uploaded_by: 3,
                },
            },
            SnapshotFile {
                name: "CURRENT".into(),
                size: 16,
                crc32c: 2,
                location: FileLocation::Private,
            },
        ];
        manifest
    }

    #[test]
    fn sizes_count_only_what_was_uploaded() {
        let manifest = sample();
        assert_eq!(manifest.total_bytes(), 1026);
        assert_eq!(manifest.uploaded_bytes(), 26);
        assert!(!manifest.is_self_contained());
        assert_eq!(manifest.shared_files().count(), 2);
    }

    #[test]
    fn corrupt_manifests_are_rejected_with_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(MANIFEST_FILE_NAME);
        sample().write(&path).unwrap();
        assert_eq!(RocksSnapshotManifest::read(&path).unwrap(), sample());

        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace("60000", "60001")).unwrap();
        let err = RocksSnapshotManifest::read(&path).unwrap_err().to_string();
        assert!(err.contains("checksum mismatch"), "{err}");

        std::fs::write(&path, &text.as_bytes()[..text.len() / 2]).unwrap();
        let err = RocksSnapshotManifest::read(&path).unwrap_err().to_string();
        assert!(err.contains("truncated or corrupt"), "{err}");

        std::fs::write(&path, text.replace(FORMAT_TAG, "something-else")).unwrap();
        let err = RocksSnapshotManifest::read(&path).unwrap_err().to_string();
        assert!(err.contains("not a RocksDB snapshot manifest"), "{err}");

        let mut future = sample();
        future.format_version = 99;
        future.write(&path).unwrap();
        let err = RocksSnapshotManifest::read(&path).unwrap_err().to_string();
        assert!(err.contains("format version 99"), "{err}");
    }
}
