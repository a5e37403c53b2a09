//! One open RocksDB database and the local directory it lives in, shared by the backend and
//! every table handle, removed when the last of them is dropped.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use rocksdb::{ColumnFamilyDescriptor, DBWithThreadMode, MultiThreaded, ReadOptions, WriteOptions};

use crate::{Error, Result};

/// The database type: multi-threaded column-family handling lets tables create and look up
/// column families through a shared reference.
pub(super) type Db = DBWithThreadMode<MultiThreaded>;

/// An open database, the options every access uses, and its directory.
pub(super) struct Instance {
    pub(super) db: Db,
    /// Writes skip the write-ahead log: checkpoints make state durable.
    pub(super) write: WriteOptions,
    /// Point reads.
    pub(super) read: ReadOptions,
    /// Declared after `db`, so the directory is removed only once the database is closed.
    pub(super) dir: RemoveOnDrop,
}

impl Instance {
    /// Opens (or creates) the database in `dir` with the given column families.
    pub(super) fn open(
        dir: RemoveOnDrop,
        options: &rocksdb::Options,
        column_families: Vec<ColumnFamilyDescriptor>,
    ) -> Result<Instance> {
        let db = Db::open_cf_descriptors(options, dir.path(), column_families)
            .map_err(|e| rocks_error(dir.path(), e))?;
        let mut write = WriteOptions::default();
        write.disable_wal(true);
        Ok(Instance {
            db,
            write,
            read: ReadOptions::default(),
            dir,
        })
    }

    /// Wraps a RocksDB error with this instance's directory.
    pub(super) fn error(&self, e: rocksdb::Error) -> Error {
        rocks_error(self.dir.path(), e)
    }
}

/// A RocksDB failure as the runtime's I/O error, naming the database directory.
pub(super) fn rocks_error(dir: &Path, e: rocksdb::Error) -> Error {
    Error::io(dir, std::io::Error::other(format!("RocksDB: {e}")))
}

/// A directory deleted (with its contents) when this guard is dropped: the local working
/// copy of a database or of a snapshot is scratch space that must not outlive its owner.
#[derive(Debug)]
pub(super) struct RemoveOnDrop(PathBuf);

impl RemoveOnDrop {
    /// Guards `dir`, which need not exist yet.
    pub(super) fn new(dir: PathBuf) -> Self {
        RemoveOnDrop(dir)
    }

    pub(super) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.0) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!("cannot remove {}: {e}", self.0.display());
            }
        }
    }
}

/// A process-unique, run-unique identifier for a new instance: it names the local directory
/// and prefixes the shared files the instance uploads, so that files of different subtasks,
/// operators or runs never collide in a shared directory.
pub(super) fn new_instance_id() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.write_u32(std::process::id());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    hasher.write_u128(nanos);
    hasher.finish()
}
