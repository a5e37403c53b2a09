//! Typed keyed state on RocksDB: the five state primitives over [`RocksTable`]s, and the
//! [`RocksKeyedBackend`] that a job's operators get with `StateBackendKind::RocksDb`.
//!
//! Keys and values are serialized with bincode; a key is stored under its key group (the
//! same group routing sends it to), so a snapshot restores at another parallelism by
//! key-group ranges. Map state stores one entry per user key under `key ++ user key` (bincode
//! is prefix-free: a length before every variable-sized field), so a key's map is one prefix
//! scan. The database opens lazily, at the first state declared: stateless operators of a
//! chain cost nothing.
//!
//! Snapshots are RocksDB checkpoints (hard links, taken at the barrier) whose files the
//! checkpoint coordinator uploads on its own thread, incrementally: only SST files that the
//! last completed checkpoint does not have are copied.

use std::any::Any;
use std::collections::HashSet;
use std::marker::PhantomData;
use std::path::PathBuf;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::rocksdb::{RocksDbStateBackend, RocksSnapshotManifest, RocksTable, SnapshotSource};
use super::{
    AggregateFunction, AggregatingState, KeyRef, ListState, MapState, ReducingState, StateBackend,
    StateDescriptor, ValueState,
};
use crate::checkpoint::snapshot::{decode, encode};
use crate::checkpoint::{RestoredState, SnapshotWriter, UploadedFiles};
use crate::data::{Data, Key};
use crate::partition::{hash_key, key_group_for_hash, KeyGroupRange};
use crate::time::Clock;
use crate::{Error, Result};

/// Marks the types a handle serializes, without owning any (and without making the handle
/// `!Send`).
type Marker<T> = PhantomData<fn() -> T>;

/// Keyed state of one operator subtask in RocksDB.
pub struct RocksKeyedBackend {
    db: Option<RocksDbStateBackend>,
    working_dir: PathBuf,
    key_groups: KeyGroupRange,
    max_parallelism: u32,
    clock: Arc<dyn Clock>,
    restored: RestoredState,
    declared: HashSet<String>,
}

impl RocksKeyedBackend {
    /// A backend for the subtask owning `key_groups`, whose database lives under
    /// `working_dir` and is filled from the RocksDB snapshots in `restored`, if any.
    pub fn new(
        working_dir: PathBuf,
        key_groups: KeyGroupRange,
        max_parallelism: u32,
        clock: Arc<dyn Clock>,
        restored: RestoredState,
    ) -> Self {
        RocksKeyedBackend {
            db: None,
            working_dir,
            key_groups,
            max_parallelism,
            clock,
            restored,
            declared: HashSet::new(),
        }
    }

    /// The database, opened (or restored) on first use.
    fn db(&mut self) -> Result<&mut RocksDbStateBackend> {
        if self.db.is_none() {
            if let Some(name) = self.restored.keyed_names().next() {
                return Err(Error::InvalidGraph(format!(
                    "state '{name}' was checkpointed by the heap state backend; restore it \
                     with --state-backend heap"
                )));
            }
            let snapshots = self.restored.backend_snapshots();
            let db = if snapshots.is_empty() {
                RocksDbStateBackend::open(&self.working_dir, self.key_groups, self.clock.clone())?
            } else {
                let mut sources = Vec::with_capacity(snapshots.len());
                for (bytes, dir, shared) in snapshots {
                    let manifest: RocksSnapshotManifest = decode("rocksdb manifest", bytes)?;
                    sources.push(SnapshotSource::new(manifest, dir.clone(), shared.clone()));
                }
                RocksDbStateBackend::restore(
                    &self.working_dir,
                    self.key_groups,
                    self.clock.clone(),
                    &sources,
                )?
            };
            self.db = Some(db);
        }
        self.db
            .as_mut()
            .ok_or_else(|| Error::Internal("RocksDB not open".into()))
    }

    /// The table of state `descriptor`, with the codec of typed handles.
    pub(in crate::state) fn table(&mut self, descriptor: &StateDescriptor) -> Result<Typed> {
        let max_parallelism = self.max_parallelism;
        let table = self.db()?.table(descriptor)?;
        Ok(Typed {
            table,
            max_parallelism,
            key: Vec::new(),
        })
    }
}

impl StateBackend for RocksKeyedBackend {
    fn name(&self) -> &'static str {
        "rocksdb"
    }

    fn register(&mut self, descriptor: &StateDescriptor) -> Result<()> {
        super::declare_once(&mut self.declared, descriptor)
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }

    fn snapshot(&mut self, writer: &mut SnapshotWriter) -> Result<()> {
        let Some(db) = self.db.as_mut() else {
            return Ok(()); // no state declared: nothing to keep
        };
        // The barrier's part: a RocksDB checkpoint of hard links. The copy runs later, on the
        // coordinator's thread.
        let pending = db.snapshot(writer.checkpoint_id(), !writer.is_savepoint())?;
        writer.defer_upload(Box::new(move |target| {
            let manifest = pending.upload(&target.dir, target.shared_dir.as_deref())?;
            Ok(UploadedFiles {
                shared_files: manifest
                    .shared_files()
                    .filter_map(|f| f.shared_key().map(str::to_string))
                    .collect(),
                manifest: encode(&manifest)?,
            })
        }));
        Ok(())
    }

    fn notify_checkpoint_complete(&mut self, checkpoint_id: u64) {
        if let Some(db) = self.db.as_mut() {
            db.notify_checkpoint_complete(checkpoint_id);
        }
    }

    fn restored(&self) -> &RestoredState {
        &self.restored
    }
}

/// A table with the codec of typed handles: bincode keys under their key group.
pub(in crate::state) struct Typed {
    pub(in crate::state) table: RocksTable,
    max_parallelism: u32,
    /// The last key's bytes, reused to spare an allocation per access.
    pub(in crate::state) key: Vec<u8>,
}

fn codec_error(e: bincode::Error) -> Error {
    Error::Internal(format!("cannot serialize state: {e}"))
}

impl Typed {
    /// Serializes `key` (then `user_key`, for map state) into the scratch buffer; returns the
    /// key group of `key`.
    pub(in crate::state) fn encode_key<K: Key, U: Serialize + ?Sized>(
        &mut self,
        key: &K,
        user_key: Option<&U>,
    ) -> Result<u16> {
        self.key.clear();
        bincode::serialize_into(&mut self.key, key).map_err(codec_error)?;
        if let Some(user_key) = user_key {
            bincode::serialize_into(&mut self.key, user_key).map_err(codec_error)?;
        }
        Ok(key_group_for_hash(hash_key(key), self.max_parallelism) as u16)
    }

    fn get<K: Key, V: DeserializeOwned>(&mut self, key: &K) -> Result<Option<V>> {
        let group = self.encode_key::<K, ()>(key, None)?;
        match self.table.get(group, &self.key)? {
            Some(bytes) => Ok(Some(decode(self.table.state_name(), &bytes)?)),
            None => Ok(None),
        }
    }

    fn put<K: Key, V: Serialize>(&mut self, key: &K, value: &V) -> Result<()> {
        let group = self.encode_key::<K, ()>(key, None)?;
        let bytes = encode(value)?;
        self.table.put(group, &self.key, &bytes)
    }

    fn delete<K: Key>(&mut self, key: &K) -> Result<()> {
        let group = self.encode_key::<K, ()>(key, None)?;
        self.table.delete(group, &self.key)
    }

    /// Every entry, decoded.
    fn all<K: DeserializeOwned, V: DeserializeOwned>(&self) -> Result<Vec<(K, V)>> {
        let name = self.table.state_name().to_string();
        let mut all = Vec::new();
        for entry in self.table.scan() {
            let (_, key, value) = entry?;
            all.push((decode(&name, &key)?, decode(&name, &value)?));
        }
        Ok(all)
    }
}

/// Creates typed value state in a RocksDB backend.
pub(crate) fn rocks_value_state<K: Key, V: Data>(
    backend: &mut RocksKeyedBackend,
    descriptor: &StateDescriptor,
) -> Result<Box<dyn ValueState<K, V>>> {
    Ok(Box::new(RocksValueState {
        table: backend.table(descriptor)?,
        _types: PhantomData,
    }))
}

struct RocksValueState<K, V> {
    table: Typed,
    _types: Marker<(K, V)>,
}

impl<K: Key, V: Data> ValueState<K, V> for RocksValueState<K, V> {
    fn get(&mut self, key: &K) -> Result<Option<V>> {
        self.table.get(key)
    }

    fn put(&mut self, key: &K, value: V) -> Result<()> {
        self.table.put(key, &value)
    }

    fn clear(&mut self, key: &K) -> Result<()> {
        self.table.delete(key)
    }

    fn upsert(&mut self, key: &K, f: &mut dyn FnMut(Option<V>) -> V) -> Result<V> {
        let new = f(self.table.get(key)?);
        self.table.put(key, &new)?;
        Ok(new)
    }

    fn modify(
        &mut self,
        key: &K,
        init: &mut dyn FnMut() -> V,
        f: &mut dyn FnMut(&mut V),
    ) -> Result<()> {
        let mut value = self.table.get(key)?.unwrap_or_else(init);
        f(&mut value);
        self.table.put(key, &value)
    }

    fn reduce(
        &mut self,
        value: V,
        key_of: &dyn for<'a> Fn(&'a V) -> KeyRef<'a, K>,
        f: &dyn Fn(V, V) -> V,
    ) -> Result<()> {
        self.reduce_get(value, key_of, f).map(|_| ())
    }

    fn reduce_get(
        &mut self,
        value: V,
        key_of: &dyn for<'a> Fn(&'a V) -> KeyRef<'a, K>,
        f: &dyn Fn(V, V) -> V,
    ) -> Result<V> {
        let key = key_of(&value).into_owned();
        let new = match self.table.get(&key)? {
            Some(old) => f(old, value),
            None => value,
        };
        self.table.put(&key, &new)?;
        Ok(new)
    }

    fn drain(&mut self) -> Box<dyn Iterator<Item = (K, V)> + '_> {
        let all: Vec<(K, V)> = self.table.all().unwrap_or_else(|error| {
            tracing::error!(%error, "cannot read RocksDB state while draining it");
            Vec::new()
        });
        for (key, _) in &all {
            let _ = self.table.delete(key);
        }
        Box::new(all.into_iter())
    }

    fn len(&self) -> usize {
        self.table.table.scan().count()
    }

    fn cleanup_expired(&mut self) -> usize {
        0 // RocksDB's compaction filter drops expired entries
    }
}

/// Creates typed list state in a RocksDB backend.
pub(crate) fn rocks_list_state<K: Key, V: Data>(
    backend: &mut RocksKeyedBackend,
    descriptor: &StateDescriptor,
) -> Result<Box<dyn ListState<K, V>>> {
    Ok(Box::new(RocksListState {
        table: backend.table(descriptor)?,
        _types: PhantomData,
    }))
}

struct RocksListState<K, V> {
    table: Typed,
    _types: Marker<(K, V)>,
}

impl<K: Key, V: Data> ListState<K, V> for RocksListState<K, V> {
    fn get(&mut self, key: &K) -> Result<Vec<V>> {
        Ok(self.table.get(key)?.unwrap_or_default())
    }
    fn add(&mut self, key: &K, value: V) -> Result<()> {
        let mut list: Vec<V> = self.table.get(key)?.unwrap_or_default();
        list.push(value);
        self.table.put(key, &list)
    }
    fn update(&mut self, key: &K, values: Vec<V>) -> Result<()> {
        self.table.put(key, &values)
    }
    fn clear(&mut self, key: &K) -> Result<()> {
        self.table.delete(key)
    }
    fn cleanup_expired(&mut self) -> usize {
        0
    }
}

/// Creates typed map state in a RocksDB backend.
pub(crate) fn rocks_map_state<K: Key, UK: Key, UV: Data>(
    backend: &mut RocksKeyedBackend,
    descriptor: &StateDescriptor,
) -> Result<Box<dyn MapState<K, UK, UV>>> {
    Ok(Box::new(RocksMapState {
        table: backend.table(descriptor)?,
        _types: PhantomData,
    }))
}

struct RocksMapState<K, UK, UV> {
    table: Typed,
    _types: Marker<(K, UK, UV)>,
}

impl<K: Key, UK: Key, UV: Data> MapState<K, UK, UV> for RocksMapState<K, UK, UV> {
    fn get(&mut self, key: &K, user_key: &UK) -> Result<Option<UV>> {
        let group = self.table.encode_key(key, Some(user_key))?;
        match self.table.table.get(group, &self.table.key)? {
            Some(bytes) => Ok(Some(decode(self.table.table.state_name(), &bytes)?)),
            None => Ok(None),
        }
    }
    fn put(&mut self, key: &K, user_key: UK, value: UV) -> Result<()> {
        let group = self.table.encode_key(key, Some(&user_key))?;
        let bytes = encode(&value)?;
        self.table.table.put(group, &self.table.key, &bytes)
    }
    fn remove(&mut self, key: &K, user_key: &UK) -> Result<()> {
        let group = self.table.encode_key(key, Some(user_key))?;
        self.table.table.delete(group, &self.table.key)
    }
    fn contains(&mut self, key: &K, user_key: &UK) -> Result<bool> {
        Ok(self.get(key, user_key)?.is_some())
    }
    fn entries(&mut self, key: &K) -> Result<Vec<(UK, UV)>> {
        let group = self.table.encode_key::<K, ()>(key, None)?;
        let prefix_len = self.table.key.len();
        let name = self.table.table.state_name().to_string();
        let mut entries = Vec::new();
        for entry in self.table.table.scan_prefix(group, &self.table.key) {
            let (_, stored_key, value) = entry?;
            let user_key: UK = decode(&name, &stored_key[prefix_len..])?;
            entries.push((user_key, decode(&name, &value)?));
        }
        Ok(entries)
    }
    fn clear(&mut self, key: &K) -> Result<()> {
        let group = self.table.encode_key::<K, ()>(key, None)?;
        let stored: Vec<Vec<u8>> = self
            .table
            .table
            .scan_prefix(group, &self.table.key)
            .map(|entry| entry.map(|(_, key, _)| key))
            .collect::<Result<_>>()?;
        for key in stored {
            self.table.table.delete(group, &key)?;
        }
        Ok(())
    }
    fn cleanup_expired(&mut self) -> usize {
        0
    }
}

/// Creates typed reducing state in a RocksDB backend.
pub(crate) fn rocks_reducing_state<K: Key, V: Data>(
    backend: &mut RocksKeyedBackend,
    descriptor: &StateDescriptor,
    reduce: Arc<dyn Fn(V, V) -> V + Send + Sync>,
) -> Result<Box<dyn ReducingState<K, V>>> {
    Ok(Box::new(RocksReducingState {
        table: backend.table(descriptor)?,
        reduce,
        _types: PhantomData,
    }))
}

struct RocksReducingState<K, V> {
    table: Typed,
    reduce: Arc<dyn Fn(V, V) -> V + Send + Sync>,
    _types: Marker<K>,
}

impl<K: Key, V: Data> ReducingState<K, V> for RocksReducingState<K, V> {
    fn get(&mut self, key: &K) -> Result<Option<V>> {
        self.table.get(key)
    }
    fn add(&mut self, key: &K, value: V) -> Result<()> {
        let new = match self.table.get(key)? {
            Some(old) => (self.reduce)(old, value),
            None => value,
        };
        self.table.put(key, &new)
    }
    fn clear(&mut self, key: &K) -> Result<()> {
        self.table.delete(key)
    }
    fn cleanup_expired(&mut self) -> usize {
        0
    }
}

/// Creates typed aggregating state in a RocksDB backend.
pub(crate) fn rocks_aggregating_state<K: Key, T: 'static, F: AggregateFunction<T>>(
    backend: &mut RocksKeyedBackend,
    descriptor: &StateDescriptor,
    function: F,
) -> Result<Box<dyn AggregatingState<K, T, F::Out>>> {
    Ok(Box::new(RocksAggregatingState {
        table: backend.table(descriptor)?,
        function,
        _types: PhantomData,
    }))
}

struct RocksAggregatingState<K, T, F> {
    table: Typed,
    function: F,
    _types: Marker<(K, T)>,
}

impl<K: Key, T: 'static, F: AggregateFunction<T>> AggregatingState<K, T, F::Out>
    for RocksAggregatingState<K, T, F>
{
    fn get(&mut self, key: &K) -> Result<Option<F::Out>> {
        let acc: Option<F::Acc> = self.table.get(key)?;
        Ok(acc.map(|acc| self.function.get_result(&acc)))
    }
    fn add(&mut self, key: &K, value: &T) -> Result<()> {
        let mut acc: F::Acc = match self.table.get(key)? {
            Some(acc) => acc,
            None => self.function.create_accumulator(),
        };
        self.function.add(&mut acc, value);
        self.table.put(key, &acc)
    }
    fn clear(&mut self, key: &K) -> Result<()> {
        self.table.delete(key)
    }
    fn cleanup_expired(&mut self) -> usize {
        0
    }
}
