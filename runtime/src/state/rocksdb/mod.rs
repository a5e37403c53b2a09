//! The RocksDB state backend: keyed state in an embedded RocksDB database per subtask, on
//! local disk, bounded by a memory budget rather than by the heap, with incremental
//! checkpoints (Flink's `EmbeddedRocksDBStateBackend`).
//!
//! This module is the storage layer: [`RocksTable`] reads and writes raw bytes per key group;
//! typed state handles serialize keys and values on top of it.
//!
//! ## Layout
//! - One column family per state, created when the state is first declared.
//! - Keys are `[key group: u16 big-endian][key bytes]`: a key-group range is a contiguous key
//!   range, which a restore at another parallelism copies or deletes as a whole.
//! - Values of a state with a time-to-live are prefixed by their write time; reads hide
//!   expired values and a compaction filter deletes them (see the `ttl` module).
//!
//! ## Snapshots
//! [`RocksDbStateBackend::snapshot`] runs at the barrier: it flushes the memtables and makes a
//! RocksDB checkpoint (hard links) in a local directory. The returned
//! [`PendingRocksSnapshot`] uploads the files on another thread while records keep flowing:
//! incrementally (only SST files the last completed checkpoint does not have, into a shared
//! directory whose files a [`SharedStateRegistry`] reference-counts) or self-contained (a
//! savepoint). [`RocksDbStateBackend::restore`] rebuilds a backend from one or more
//! snapshots, checking every file's size and CRC-32C first.
//!
//! ## Memory
//! Block cache and memtables share one budget per instance ([`RocksDbConfig`]); writes skip
//! the write-ahead log, since checkpoints make state durable and a failed subtask is always
//! rebuilt from a checkpoint in a fresh directory.
//!
//! ```
//! use std::sync::Arc;
//! use eddy_runtime::partition::KeyGroupRange;
//! use eddy_runtime::state::{RocksDbStateBackend, SnapshotSource, StateDescriptor};
//! use eddy_runtime::time::ManualClock;
//!
//! let dir = std::env::temp_dir().join(format!("eddy-rocksdb-doc-{}", std::process::id()));
//! let groups = KeyGroupRange { start: 0, end: 127 };
//! let clock = Arc::new(ManualClock::new(0));
//! let mut backend = RocksDbStateBackend::open(&dir.join("work"), groups, clock.clone()).unwrap();
//! let counts = backend.table(&StateDescriptor::new("count")).unwrap();
//! counts.put(7, b"apple", &3u64.to_le_bytes()).unwrap();
//!
//! // At a barrier: a cheap local snapshot, then the upload (normally on another thread).
//! let pending = backend.snapshot(1, true).unwrap();
//! let manifest = pending.upload(&dir.join("chk-1"), Some(&dir.join("shared"))).unwrap();
//! backend.notify_checkpoint_complete(1);
//!
//! let source = SnapshotSource::new(manifest, dir.join("chk-1"), Some(dir.join("shared")));
//! let mut restored =
//!     RocksDbStateBackend::restore(&dir.join("work2"), groups, clock, &[source]).unwrap();
//! let counts = restored.table(&StateDescriptor::new("count")).unwrap();
//! assert_eq!(counts.get(7, b"apple").unwrap(), Some(3u64.to_le_bytes().to_vec()));
//! # drop((counts, restored, backend));
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

mod config;
mod files;
mod instance;
mod manifest;
mod registry;
mod restore;
mod snapshot;
mod table;
mod ttl;

pub use config::RocksDbConfig;
pub use manifest::{
    FileLocation, RocksSnapshotManifest, SnapshotFile, SnapshotState, MANIFEST_FILE_NAME,
    ROCKSDB_SNAPSHOT_FORMAT_VERSION,
};
pub use registry::SharedStateRegistry;
pub use restore::SnapshotSource;
pub use snapshot::PendingRocksSnapshot;
pub use table::{Entries, Entry, RocksTable};

use std::any::Any;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use rocksdb::checkpoint::Checkpoint;
use rocksdb::{ColumnFamilyDescriptor, FlushOptions, Options};

use config::Resources;
use instance::{new_instance_id, Instance, RemoveOnDrop};
use snapshot::{SharedFiles, Uploads};
use ttl::TtlFilterFactory;

use super::{StateBackend, StateDescriptor};
use crate::partition::KeyGroupRange;
use crate::time::Clock;
use crate::{Error, Result};

/// The number of key groups (the max parallelism) this backend supports, as Flink's: keys
/// carry their key group in two bytes, and one past the last group still bounds every range
/// deletion from above.
pub const MAX_KEY_GROUPS: u32 = 32_768;

/// Keyed state of one subtask in an embedded RocksDB database, in a local working directory.
///
/// The database lives in a fresh subdirectory of the working directory, removed when the
/// backend and all its tables are dropped.
pub struct RocksDbStateBackend {
    instance: Arc<Instance>,
    instance_id: u64,
    working_dir: PathBuf,
    key_groups: KeyGroupRange,
    clock: Arc<dyn Clock>,
    config: RocksDbConfig,
    resources: Resources,
    /// The states with a column family, by name.
    states: BTreeMap<String, StateColumn>,
    /// Names declared through [`StateBackend::register`].
    declared: HashSet<String>,
    /// The last completed checkpoint and its shared files: what incremental snapshots reuse.
    base: (Option<u64>, SharedFiles),
    uploads: Uploads,
}

/// What the backend knows of a state's column family.
struct StateColumn {
    /// With TTL, the time-to-live the compaction filter applies (updated when the state is
    /// declared again after a restore).
    ttl_millis: Option<Arc<AtomicI64>>,
}

impl std::fmt::Debug for RocksDbStateBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RocksDbStateBackend")
            .field("dir", &self.instance.dir.path())
            .field("key_groups", &self.key_groups)
            .field("states", &self.states.keys().collect::<Vec<_>>())
            .field("base_checkpoint", &self.base.0)
            .finish()
    }
}

impl RocksDbStateBackend {
    /// An empty backend for the subtask owning `key_groups`, with the default
    /// [`RocksDbConfig`], in a new subdirectory of `working_dir`; state TTL follows `clock`.
    ///
    /// # Errors
    /// [`Error::InvalidGraph`] when the key groups exceed [`MAX_KEY_GROUPS`];
    /// [`Error::Io`] when the database cannot be created.
    pub fn open(
        working_dir: &Path,
        key_groups: KeyGroupRange,
        clock: Arc<dyn Clock>,
    ) -> Result<Self> {
        Self::open_with_config(working_dir, key_groups, clock, RocksDbConfig::default())
    }

    /// [`open`](Self::open) with explicit tuning.
    ///
    /// # Errors
    /// As [`open`](Self::open).
    pub fn open_with_config(
        working_dir: &Path,
        key_groups: KeyGroupRange,
        clock: Arc<dyn Clock>,
        config: RocksDbConfig,
    ) -> Result<Self> {
        Self::build(working_dir, key_groups, clock, config, |_| Ok(Vec::new()))
    }

    /// Creates the instance directory and opens a database in it: `populate` fills the new
    /// directory (a restore puts snapshot files there) and names the states it holds, with
    /// their TTL.
    fn build(
        working_dir: &Path,
        key_groups: KeyGroupRange,
        clock: Arc<dyn Clock>,
        config: RocksDbConfig,
        populate: impl FnOnce(&Path) -> Result<Vec<(String, Option<i64>)>>,
    ) -> Result<Self> {
        check_key_groups(key_groups)?;
        std::fs::create_dir_all(working_dir).map_err(|e| Error::io(working_dir, e))?;
        let instance_id = new_instance_id();
        let dir = RemoveOnDrop::new(working_dir.join(format!("rocksdb-{instance_id:016x}")));
        std::fs::create_dir_all(dir.path()).map_err(|e| Error::io(dir.path(), e))?;
        let existing = populate(dir.path())?;
        let resources = config.resources();
        let mut states = BTreeMap::new();
        let mut descriptors = Vec::new();
        for (name, ttl) in existing {
            let column = StateColumn {
                ttl_millis: ttl.map(|t| Arc::new(AtomicI64::new(t))),
            };
            let options = column_options(&config, &resources, &clock, &column);
            descriptors.push(ColumnFamilyDescriptor::new(column_family(&name), options));
            states.insert(name, column);
        }
        let instance = Instance::open(dir, &config.db_options(&resources), descriptors)?;
        Ok(RocksDbStateBackend {
            instance: Arc::new(instance),
            instance_id,
            working_dir: working_dir.to_path_buf(),
            key_groups,
            clock,
            config,
            resources,
            states,
            declared: HashSet::new(),
            base: (None, SharedFiles::new()),
            uploads: Arc::new(Mutex::new(BTreeMap::new())),
        })
    }

    /// The key groups this backend owns.
    pub fn key_groups(&self) -> KeyGroupRange {
        self.key_groups
    }

    /// The database's local directory.
    pub fn directory(&self) -> &Path {
        self.instance.dir.path()
    }

    /// The names of the states that have a column family, in order.
    pub fn state_names(&self) -> impl Iterator<Item = &str> {
        self.states.keys().map(String::as_str)
    }

    /// A handle to the column family of state `descriptor`, created on first use; a state
    /// restored from a snapshot keeps its entries.
    ///
    /// # Errors
    /// [`Error::InvalidGraph`] when a restored state had a TTL and `descriptor` has none, or
    /// the other way round (their values are stored differently); [`Error::Io`] when the
    /// column family cannot be created.
    pub fn table(&mut self, descriptor: &StateDescriptor) -> Result<RocksTable> {
        let name = &descriptor.name;
        match self.states.get(name) {
            Some(column) => match (&column.ttl_millis, &descriptor.ttl) {
                (Some(cell), Some(ttl)) => cell.store(ttl.ttl_millis, Ordering::Relaxed),
                (None, None) => {}
                (had, _) => {
                    let (declared, snapshotted) = if had.is_some() {
                        ("without", "with one")
                    } else {
                        ("with", "without")
                    };
                    return Err(Error::InvalidGraph(format!(
                        "state '{name}' is declared {declared} a time-to-live, but its \
                         snapshot was taken {snapshotted}"
                    )));
                }
            },
            None => {
                let column = StateColumn {
                    ttl_millis: descriptor
                        .ttl
                        .map(|ttl| Arc::new(AtomicI64::new(ttl.ttl_millis))),
                };
                self.create_column_family(name, column)?;
            }
        }
        Ok(RocksTable::new(
            self.instance.clone(),
            column_family(name),
            name.clone(),
            descriptor.ttl.map(|ttl| (ttl, self.clock.clone())),
        ))
    }

    fn create_column_family(&mut self, name: &str, column: StateColumn) -> Result<()> {
        let options = column_options(&self.config, &self.resources, &self.clock, &column);
        self.instance
            .db
            .create_cf(column_family(name), &options)
            .map_err(|e| self.instance.error(e))?;
        self.states.insert(name.to_string(), column);
        Ok(())
    }

    /// The synchronous part of a snapshot, run at the barrier: flushes the memtables and
    /// creates a RocksDB checkpoint (hard links to the immutable SST files) in a local
    /// directory. Cheap; the returned [`PendingRocksSnapshot`] does the expensive upload.
    ///
    /// With `incremental`, the upload reuses the shared files of the last checkpoint reported
    /// by [`notify_checkpoint_complete`](Self::notify_checkpoint_complete); without, it is
    /// self-contained (a savepoint).
    ///
    /// # Errors
    /// [`Error::Io`] when the flush or the checkpoint fails.
    pub fn snapshot(
        &mut self,
        checkpoint_id: u64,
        incremental: bool,
    ) -> Result<PendingRocksSnapshot> {
        let dir = RemoveOnDrop::new(self.working_dir.join(format!(
            "rocksdb-{:016x}-chk-{checkpoint_id}",
            self.instance_id
        )));
        if dir.path().exists() {
            // Left by an earlier attempt at the same checkpoint id.
            std::fs::remove_dir_all(dir.path()).map_err(|e| Error::io(dir.path(), e))?;
        }
        let db = &self.instance.db;
        let handles: Vec<_> = self
            .states
            .keys()
            .filter_map(|name| db.cf_handle(&column_family(name)))
            .collect();
        if !handles.is_empty() {
            let mut flush = FlushOptions::default();
            flush.set_wait(true);
            let handles: Vec<_> = handles.iter().collect();
            db.flush_cfs_opt(&handles, &flush)
                .map_err(|e| self.instance.error(e))?;
        }
        Checkpoint::new(db)
            .and_then(|checkpoint| checkpoint.create_checkpoint(dir.path()))
            .map_err(|e| self.instance.error(e))?;
        let mut files = Vec::new();
        let entries = std::fs::read_dir(dir.path()).map_err(|e| Error::io(dir.path(), e))?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(dir.path(), e))?;
            if entry.path().is_file() {
                files.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
        files.sort();
        let states = self
            .states
            .iter()
            .map(|(name, column)| SnapshotState {
                name: name.clone(),
                ttl_millis: column
                    .ttl_millis
                    .as_ref()
                    .map(|t| t.load(Ordering::Relaxed)),
            })
            .collect();
        Ok(PendingRocksSnapshot {
            dir,
            checkpoint_id,
            incremental,
            key_groups: self.key_groups,
            states,
            files,
            base: if incremental {
                self.base.1.clone()
            } else {
                SharedFiles::new()
            },
            instance_id: self.instance_id,
            uploads: self.uploads.clone(),
        })
    }

    /// Tells the backend that checkpoint `checkpoint_id` completed (its metadata is durable):
    /// later incremental snapshots reuse its shared files. A completed savepoint or full
    /// snapshot has none, so the next incremental snapshot uploads all its SST files again:
    /// the previous base may be released once the new checkpoint subsumes it.
    pub fn notify_checkpoint_complete(&mut self, checkpoint_id: u64) {
        if self.base.0.is_some_and(|base| base >= checkpoint_id) {
            return; // a late notification of an older checkpoint
        }
        let mut uploads = self.uploads.lock().unwrap_or_else(|e| e.into_inner());
        let files = uploads.remove(&checkpoint_id).unwrap_or_default();
        uploads.retain(|&id, _| id > checkpoint_id);
        self.base = (Some(checkpoint_id), files);
    }

    /// Tells the backend that checkpoint `checkpoint_id` was aborted: its files are never
    /// reused.
    pub fn notify_checkpoint_aborted(&mut self, checkpoint_id: u64) {
        let mut uploads = self.uploads.lock().unwrap_or_else(|e| e.into_inner());
        uploads.remove(&checkpoint_id);
    }
}

impl StateBackend for RocksDbStateBackend {
    fn name(&self) -> &'static str {
        "rocksdb"
    }

    fn register(&mut self, descriptor: &StateDescriptor) -> Result<()> {
        crate::state::declare_once(&mut self.declared, descriptor)
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// The column family of state `name`; prefixed so that no state can take RocksDB's
/// `default` column family.
fn column_family(name: &str) -> String {
    format!("state/{name}")
}

/// The options of a state's column family: the configured tuning, plus the TTL compaction
/// filter when the state has a time-to-live.
fn column_options(
    config: &RocksDbConfig,
    resources: &Resources,
    clock: &Arc<dyn Clock>,
    column: &StateColumn,
) -> Options {
    let mut options = config.cf_options(resources);
    if let Some(ttl_millis) = &column.ttl_millis {
        options.set_compaction_filter_factory(TtlFilterFactory {
            ttl_millis: ttl_millis.clone(),
            clock: clock.clone(),
        });
    }
    options
}

fn check_key_groups(key_groups: KeyGroupRange) -> Result<()> {
    if key_groups.start > key_groups.end || key_groups.end >= MAX_KEY_GROUPS {
        return Err(Error::InvalidGraph(format!(
            "key groups {}..={} are not a range within the RocksDB backend's {MAX_KEY_GROUPS}",
            key_groups.start, key_groups.end
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::StateTtlConfig;
    use crate::time::ManualClock;

    #[test]
    fn compaction_drops_expired_entries_only() {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(0);
        let range = KeyGroupRange { start: 0, end: 127 };
        let config = RocksDbConfig::default().memory_bytes(8 << 20);
        let mut backend = RocksDbStateBackend::open_with_config(
            dir.path(),
            range,
            Arc::new(clock.clone()),
            config,
        )
        .unwrap();
        let ttl = StateDescriptor::new("t").with_ttl(StateTtlConfig::new(100));
        let table = backend.table(&ttl).unwrap();
        for i in 0..100u32 {
            table
                .put((i % 128) as u16, &i.to_be_bytes(), b"old")
                .unwrap();
        }
        clock.advance(50);
        for i in 100..150u32 {
            table
                .put((i % 128) as u16, &i.to_be_bytes(), b"new")
                .unwrap();
        }
        table.compact().unwrap();
        assert_eq!(table.stored_len(), 150, "nothing has expired yet");

        clock.advance(60); // 110: the writes at 0 expired, those at 50 did not
        assert_eq!(table.scan().count(), 50);
        assert_eq!(table.stored_len(), 150, "hidden, but still stored");
        table.compact().unwrap();
        assert_eq!(table.stored_len(), 50);

        // Declaring the state again with a longer TTL changes what compactions drop.
        let longer = StateDescriptor::new("t").with_ttl(StateTtlConfig::new(1_000));
        let table = backend.table(&longer).unwrap();
        clock.advance(100); // 210: the writes at 50 are 160 ms old
        table.compact().unwrap();
        assert_eq!(table.stored_len(), 50);
        assert_eq!(table.scan().count(), 50);
    }
}
