//! Rebuilding a [`RocksDbStateBackend`] from snapshots, at the same or another parallelism.
//!
//! ## Algorithm
//! Every file is checked against its manifest (size, then CRC-32C) before RocksDB sees it.
//! Of the snapshots whose key groups overlap the new range, one becomes the new database as
//! it is: the snapshot of exactly the new range when there is one (restore at the same
//! parallelism: no key is copied), otherwise the one with the largest overlap. Key groups of
//! it that the new subtask does not own are deleted (whole SST files where possible, range
//! tombstones for the rest). The other overlapping snapshots are opened read-only in a
//! scratch directory and their entries of the new range copied over in write batches: each
//! key's stored form starts with its key group, so these are contiguous key ranges.
//!
//! After a restore at the same range, the next incremental checkpoint references the
//! restored shared files instead of uploading them again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicI64;
use std::sync::Arc;

use rocksdb::{ColumnFamilyDescriptor, Direction, IteratorMode, Options, ReadOptions, WriteBatch};

use super::files;
use super::instance::{rocks_error, Db, RemoveOnDrop};
use super::manifest::{corrupt, RocksSnapshotManifest, SnapshotFile, MANIFEST_FILE_NAME};
use super::snapshot::SharedFiles;
use super::{column_family, RocksDbConfig, RocksDbStateBackend, StateColumn, MAX_KEY_GROUPS};
use crate::partition::KeyGroupRange;
use crate::time::Clock;
use crate::{Error, Result};

/// Bytes of entries copied per write batch during a rescaling restore.
const BATCH_BYTES: usize = 4 << 20;

/// One snapshot to restore from: its manifest and where its files are.
#[derive(Debug, Clone)]
pub struct SnapshotSource {
    /// What the snapshot holds.
    pub manifest: RocksSnapshotManifest,
    /// The directory its private files were uploaded to.
    pub dir: PathBuf,
    /// The shared directory its shared files live in (`None` for a self-contained snapshot).
    pub shared_dir: Option<PathBuf>,
}

impl SnapshotSource {
    /// A snapshot whose manifest the caller already has (from checkpoint metadata).
    pub fn new(
        manifest: RocksSnapshotManifest,
        dir: impl Into<PathBuf>,
        shared_dir: Option<PathBuf>,
    ) -> Self {
        SnapshotSource {
            manifest,
            dir: dir.into(),
            shared_dir,
        }
    }

    /// The snapshot in `dir`, read from its [`MANIFEST_FILE_NAME`] (a savepoint moved to
    /// another place restores from there).
    ///
    /// # Errors
    /// As [`RocksSnapshotManifest::read`].
    pub fn from_dir(dir: &Path, shared_dir: Option<&Path>) -> Result<Self> {
        let manifest = RocksSnapshotManifest::read(&dir.join(MANIFEST_FILE_NAME))?;
        Ok(SnapshotSource::new(
            manifest,
            dir,
            shared_dir.map(Path::to_path_buf),
        ))
    }

    /// Where `file` is stored.
    fn path_of(&self, file: &SnapshotFile) -> Result<PathBuf> {
        match file.shared_key() {
            None => Ok(self.dir.join(&file.name)),
            Some(key) => match &self.shared_dir {
                Some(shared) => Ok(shared.join(key)),
                None => Err(corrupt(
                    &self.dir,
                    format!(
                        "file {} is in a shared directory, but none was given",
                        file.name
                    ),
                )),
            },
        }
    }

    /// Checks the manifest before any file is touched: version, range, and file names that
    /// stay inside their directories.
    fn validate(&self) -> Result<()> {
        let path = self.dir.join(MANIFEST_FILE_NAME);
        self.manifest.validate(&path)?;
        if self.manifest.key_groups.end >= MAX_KEY_GROUPS {
            return Err(corrupt(
                &path,
                format!(
                    "key group {} beyond the RocksDB backend's {MAX_KEY_GROUPS}",
                    self.manifest.key_groups.end
                ),
            ));
        }
        for file in &self.manifest.files {
            for name in std::iter::once(file.name.as_str()).chain(file.shared_key()) {
                if !is_plain_file_name(name) {
                    return Err(corrupt(
                        &path,
                        format!("file name '{name}' is not a plain name"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Puts every file of the snapshot into `target`, each checked against the manifest.
    fn fetch_into(&self, target: &Path) -> Result<()> {
        std::fs::create_dir_all(target).map_err(|e| Error::io(target, e))?;
        for file in &self.manifest.files {
            files::fetch(&self.path_of(file)?, &target.join(&file.name), file)?;
        }
        Ok(())
    }
}

impl RocksDbStateBackend {
    /// Rebuilds a backend owning `key_groups` from `snapshots`, with the default
    /// [`RocksDbConfig`]. At the same parallelism pass the subtask's own snapshot; after a
    /// parallelism change pass every snapshot (those not overlapping `key_groups` are skipped).
    ///
    /// # Errors
    /// [`Error::Checkpoint`] when a file is missing, truncated or fails its checksum, or a
    /// manifest is of another format version; [`Error::InvalidGraph`] when two snapshots
    /// disagree on whether a state has a TTL; [`Error::Io`] when files cannot be read or
    /// written or RocksDB fails. Nothing is left behind in `working_dir` on error.
    pub fn restore(
        working_dir: &Path,
        key_groups: KeyGroupRange,
        clock: Arc<dyn Clock>,
        snapshots: &[SnapshotSource],
    ) -> Result<Self> {
        Self::restore_with_config(
            working_dir,
            key_groups,
            clock,
            RocksDbConfig::default(),
            snapshots,
        )
    }

    /// [`restore`](Self::restore) with explicit tuning.
    ///
    /// # Errors
    /// As [`restore`](Self::restore).
    pub fn restore_with_config(
        working_dir: &Path,
        key_groups: KeyGroupRange,
        clock: Arc<dyn Clock>,
        config: RocksDbConfig,
        snapshots: &[SnapshotSource],
    ) -> Result<Self> {
        for snapshot in snapshots {
            snapshot.validate()?;
        }
        let relevant: Vec<&SnapshotSource> = snapshots
            .iter()
            .filter(|s| s.manifest.key_groups.overlaps(&key_groups))
            .collect();
        let states = merged_states(&relevant)?;
        // The snapshot of exactly this range, else the one with the largest overlap.
        let primary = relevant
            .iter()
            .enumerate()
            .max_by_key(|(_, s)| {
                let range = s.manifest.key_groups;
                (range == key_groups, overlap(range, key_groups))
            })
            .map(|(index, _)| index);

        let mut backend = Self::build(working_dir, key_groups, clock, config, |dir| {
            let Some(primary) = primary else {
                return Ok(Vec::new());
            };
            let source = relevant[primary];
            source.fetch_into(dir)?;
            Ok(source
                .manifest
                .states
                .iter()
                .map(|s| (s.name.clone(), s.ttl_millis))
                .collect())
        })?;
        for (name, ttl) in &states {
            if !backend.states.contains_key(name) {
                let column = StateColumn {
                    ttl_millis: ttl.map(|t| Arc::new(AtomicI64::new(t))),
                };
                backend.create_column_family(name, column)?;
            }
        }
        let Some(primary) = primary else {
            return Ok(backend);
        };
        let primary_source = relevant[primary];
        backend.drop_foreign_key_groups(&primary_source.manifest)?;
        for (index, source) in relevant.iter().enumerate() {
            if index != primary {
                backend.copy_key_groups(source, index)?;
            }
        }
        if relevant.len() == 1 && primary_source.manifest.key_groups == key_groups {
            let shared = primary_source
                .manifest
                .shared_files()
                .map(|f| (f.name.clone(), f.clone()))
                .collect::<SharedFiles>();
            backend.base = (Some(primary_source.manifest.checkpoint_id), shared);
        }
        Ok(backend)
    }

    /// Deletes the entries of the key groups that `snapshot` held and this backend does not
    /// own: first the SST files wholly inside those ranges, then range tombstones.
    fn drop_foreign_key_groups(&self, snapshot: &RocksSnapshotManifest) -> Result<()> {
        let (held, owned) = (snapshot.key_groups, self.key_groups);
        let mut ranges = Vec::new();
        if held.start < owned.start {
            ranges.push((held.start, owned.start));
        }
        if held.end > owned.end {
            ranges.push((owned.end + 1, held.end + 1));
        }
        let instance = &*self.instance;
        for state in &snapshot.states {
            let Some(cf) = instance.db.cf_handle(&column_family(&state.name)) else {
                continue;
            };
            for &(from, to) in &ranges {
                let (from, to) = (group_key(from), group_key(to));
                instance
                    .db
                    .delete_file_in_range_cf(&cf, from, to)
                    .map_err(|e| instance.error(e))?;
                instance
                    .db
                    .delete_range_cf_opt(&cf, from, to, &instance.write)
                    .map_err(|e| instance.error(e))?;
            }
        }
        Ok(())
    }

    /// Copies the entries of this backend's key groups from `source`, opened read-only in a
    /// scratch directory that is removed afterwards.
    fn copy_key_groups(&self, source: &SnapshotSource, index: usize) -> Result<()> {
        let scratch = RemoveOnDrop::new(
            self.working_dir
                .join(format!("rocksdb-{:016x}-restore-{index}", self.instance_id)),
        );
        source.fetch_into(scratch.path())?;
        let descriptors = source
            .manifest
            .states
            .iter()
            .map(|s| ColumnFamilyDescriptor::new(column_family(&s.name), Options::default()));
        let db = Db::open_cf_descriptors_read_only(
            &Options::default(),
            scratch.path(),
            descriptors,
            false,
        )
        .map_err(|e| rocks_error(scratch.path(), e))?;
        let range = source.manifest.key_groups;
        let from = group_key(range.start.max(self.key_groups.start));
        let to = group_key(range.end.min(self.key_groups.end) + 1);
        let instance = &*self.instance;
        for state in &source.manifest.states {
            let name = column_family(&state.name);
            let (Some(source_cf), Some(target_cf)) =
                (db.cf_handle(&name), instance.db.cf_handle(&name))
            else {
                return Err(Error::Internal(format!(
                    "state '{}' has no column family",
                    state.name
                )));
            };
            let mut read = ReadOptions::default();
            read.fill_cache(false);
            read.set_iterate_upper_bound(to.to_vec());
            let mut batch = WriteBatch::default();
            let mode = IteratorMode::From(&from, Direction::Forward);
            for entry in db.iterator_cf_opt(&source_cf, read, mode) {
                let (key, value) = entry.map_err(|e| rocks_error(scratch.path(), e))?;
                batch.put_cf(&target_cf, key, value);
                if batch.size_in_bytes() >= BATCH_BYTES {
                    let full = std::mem::take(&mut batch);
                    instance
                        .db
                        .write_opt(full, &instance.write)
                        .map_err(|e| instance.error(e))?;
                }
            }
            instance
                .db
                .write_opt(batch, &instance.write)
                .map_err(|e| instance.error(e))?;
        }
        drop(db);
        Ok(())
    }
}

/// The states of all `snapshots` with their TTL (the largest, when they differ).
///
/// # Errors
/// [`Error::InvalidGraph`] when snapshots disagree on whether a state has a TTL.
fn merged_states(snapshots: &[&SnapshotSource]) -> Result<BTreeMap<String, Option<i64>>> {
    let mut states: BTreeMap<String, Option<i64>> = BTreeMap::new();
    for snapshot in snapshots {
        for state in &snapshot.manifest.states {
            match states.get_mut(&state.name) {
                None => {
                    states.insert(state.name.clone(), state.ttl_millis);
                }
                Some(known) => match (known.as_mut(), state.ttl_millis) {
                    (Some(a), Some(b)) => *a = (*a).max(b),
                    (None, None) => {}
                    _ => {
                        return Err(Error::InvalidGraph(format!(
                            "state '{}' has a time-to-live in some snapshots and not in others",
                            state.name
                        )))
                    }
                },
            }
        }
    }
    Ok(states)
}

/// The stored-key prefix of key group `group`: keys of groups `a..b` lie in
/// `group_key(a)..group_key(b)`.
fn group_key(group: u32) -> [u8; 2] {
    // Groups are below MAX_KEY_GROUPS, so one past the last group still fits in two bytes.
    (group as u16).to_be_bytes()
}

fn overlap(a: KeyGroupRange, b: KeyGroupRange) -> u32 {
    let (start, end) = (a.start.max(b.start), a.end.min(b.end));
    if start <= end {
        end - start + 1
    } else {
        0
    }
}

/// Whether `name` names a file directly inside a directory (no separators, not `.`/`..`):
/// a manifest must not make a restore read or write elsewhere.
fn is_plain_file_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\'])
}
