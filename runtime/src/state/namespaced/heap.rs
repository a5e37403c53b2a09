//! Namespaced state on the heap: a hash table from key to the key's namespaces, kept inline.

use std::hash::{BuildHasher, Hash};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use smallvec::SmallVec;

use super::{
    NamespacedAggregatingState, NamespacedListState, NamespacedMapState, NamespacedReducingState,
    Reduce,
};
use crate::checkpoint::snapshot::{decode, encode};
use crate::checkpoint::SnapshotWriter;
use crate::data::{Data, Key};
pub(super) use crate::state::heap::lock;
use crate::state::heap::{heap_backend, SnapshotTable};
use crate::state::{AggregateFunction, StateBackend, StateDescriptor, StateTtlConfig, TtlUpdate};
use crate::time::Clock;
use crate::{Result, Timestamp};

/// One namespace of a key and its value.
struct Entry<N, V> {
    namespace: N,
    value: V,
}

/// A key's namespaces, inline in the table entry while there are at most `C`; in creation
/// order (removals keep the order), searched from the newest, which records mostly touch.
type Namespaces<N, V, const C: usize> = SmallVec<[Entry<N, V>; C]>;

/// Namespaces kept inline per key by default: one or two windows in flight.
pub(super) const DEFAULT_INLINE: usize = 2;

/// The storage of one namespaced state: per key, its namespaces.
///
/// A `HashTable` rather than a `HashMap`: its entry API returns the slot found or inserted
/// without a second lookup, and copies the key only when it is new. Write times live in a
/// side table that exists only with a TTL, so that window state (never with TTL) pays no
/// byte for them; a state with TTL pays a second lookup per access instead.
pub(crate) struct NamespacedTable<K, N, V, const C: usize = DEFAULT_INLINE> {
    map: hashbrown::HashTable<(K, Namespaces<N, V, C>)>,
    hasher: hashbrown::DefaultHashBuilder,
    ttl: Option<Ttl<K, N>>,
    /// Accesses since the last sweep of expired entries (TTL only).
    accesses: usize,
}

/// Time-to-live of a namespaced state: the config, its clock, each entry's write time.
struct Ttl<K, N> {
    config: StateTtlConfig,
    clock: Arc<dyn Clock>,
    stamps: hashbrown::HashMap<(K, N), Timestamp>,
}

/// A key and namespace by reference, to look a `(K, N)` up without copying either. Hashes
/// as the tuple does: the key, then the namespace.
#[derive(Hash)]
struct PairRef<'a, K, N>(&'a K, &'a N);

impl<K: Eq, N: Eq> hashbrown::Equivalent<(K, N)> for PairRef<'_, K, N> {
    fn equivalent(&self, pair: &(K, N)) -> bool {
        *self.0 == pair.0 && *self.1 == pair.1
    }
}

impl<K: Hash + Eq + Clone, N: Hash + Eq + Clone> Ttl<K, N> {
    fn now(&self) -> Timestamp {
        self.clock.now_millis()
    }

    /// Whether the entry of `key` in `namespace` is alive at `now`.
    fn live(&self, key: &K, namespace: &N, now: Timestamp) -> bool {
        self.stamps
            .get(&PairRef(key, namespace))
            .is_some_and(|stamp| now.saturating_sub(*stamp) < self.config.ttl_millis)
    }

    fn stamp(&mut self, key: &K, namespace: &N, now: Timestamp) {
        match self.stamps.get_mut(&PairRef(key, namespace)) {
            Some(stamp) => *stamp = now,
            None => {
                self.stamps.insert((key.clone(), namespace.clone()), now);
            }
        }
    }

    fn unstamp(&mut self, key: &K, namespace: &N) {
        self.stamps.remove(&PairRef(key, namespace));
    }
}

/// A table shared by a state handle and the backend that snapshots it.
pub(super) type Shared<K, N, V, const C: usize = DEFAULT_INLINE> =
    Arc<Mutex<NamespacedTable<K, N, V, C>>>;

/// Accesses between two sweeps of a small TTL table (as the per-key tables).
const MIN_ACCESSES_PER_SWEEP: usize = 1024;

impl<K: Hash + Eq + Clone, N: Hash + Eq + Clone, V, const C: usize> NamespacedTable<K, N, V, C> {
    /// Counts an access and, with TTL, sweeps expired entries now and then.
    fn count_access(&mut self) {
        if let Some(ttl) = &self.ttl {
            self.accesses += 1;
            if self.accesses >= ttl.stamps.len().max(MIN_ACCESSES_PER_SWEEP) {
                self.accesses = 0;
                self.cleanup_expired();
            }
        }
    }

    /// The live value of `key` in `namespace` (an expired one is removed, never returned).
    pub(crate) fn get(&mut self, key: &K, namespace: &N) -> Option<&mut V> {
        self.count_access();
        let hash = self.hasher.hash_one(key);
        let mut found = self.map.find_entry(hash, |(k, _)| k == key).ok()?;
        let entries = &mut found.get_mut().1;
        let index = entries.iter().rposition(|e| e.namespace == *namespace)?;
        if let Some(ttl) = &mut self.ttl {
            let now = ttl.now();
            if !ttl.live(key, namespace, now) {
                ttl.unstamp(key, namespace);
                entries.remove(index);
                if entries.is_empty() {
                    found.remove();
                }
                return None;
            }
            if ttl.config.update == TtlUpdate::OnReadAndWrite {
                ttl.stamp(key, namespace, now);
            }
        }
        Some(&mut found.into_mut().1[index].value)
    }

    /// The value of `key` in `namespace` for writing: the live one, or `create()`. Refreshes
    /// its TTL. The key is copied only when new.
    pub(crate) fn write(&mut self, key: &K, namespace: &N, create: impl FnOnce() -> V) -> &mut V {
        self.count_access();
        let hasher = &self.hasher;
        let hash = hasher.hash_one(key);
        // A hit costs one probe; only a miss reserves room and copies the key.
        let entries = match self.map.find_entry(hash, |(k, _)| k == key) {
            Ok(found) => &mut found.into_mut().1,
            Err(absent) => {
                let table = absent.into_table();
                let row = (key.clone(), SmallVec::new());
                &mut table
                    .insert_unique(hash, row, |(k, _)| hasher.hash_one(k))
                    .into_mut()
                    .1
            }
        };
        let index = match entries.iter().rposition(|e| e.namespace == *namespace) {
            Some(index) => {
                if let Some(ttl) = &self.ttl {
                    if !ttl.live(key, namespace, ttl.now()) {
                        entries[index].value = create();
                    }
                }
                index
            }
            None => {
                entries.push(Entry {
                    namespace: namespace.clone(),
                    value: create(),
                });
                entries.len() - 1
            }
        };
        if let Some(ttl) = &mut self.ttl {
            let now = ttl.now();
            ttl.stamp(key, namespace, now);
        }
        &mut entries[index].value
    }

    /// Removes the value of `key` in `namespace`; returns it if it was live.
    pub(crate) fn take(&mut self, key: &K, namespace: &N) -> Option<V> {
        let hash = self.hasher.hash_one(key);
        let mut found = self.map.find_entry(hash, |(k, _)| k == key).ok()?;
        let entries = &mut found.get_mut().1;
        let index = entries.iter().rposition(|e| e.namespace == *namespace)?;
        let entry = entries.remove(index);
        if entries.is_empty() {
            found.remove();
        }
        match &mut self.ttl {
            Some(ttl) => {
                let live = ttl.live(key, namespace, ttl.now());
                ttl.unstamp(key, namespace);
                live.then_some(entry.value)
            }
            None => Some(entry.value),
        }
    }

    /// Visits the live namespaces of `key`; drops the expired ones and those `f` rejects.
    pub(crate) fn retain(&mut self, key: &K, mut f: impl FnMut(&N, &mut V) -> bool) {
        self.count_access();
        let hash = self.hasher.hash_one(key);
        let Ok(mut found) = self.map.find_entry(hash, |(k, _)| k == key) else {
            return;
        };
        let entries = &mut found.get_mut().1;
        match &mut self.ttl {
            None => entries.retain(|e| f(&e.namespace, &mut e.value)),
            Some(ttl) => {
                let now = ttl.now();
                entries.retain(|e| {
                    let keep = ttl.live(key, &e.namespace, now) && f(&e.namespace, &mut e.value);
                    if keep {
                        ttl.stamp(key, &e.namespace, now);
                    } else {
                        ttl.unstamp(key, &e.namespace);
                    }
                    keep
                });
            }
        }
        if entries.is_empty() {
            found.remove();
        }
    }

    /// Visits every live entry.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&K, &N, &V)) {
        let now = self.ttl.as_ref().map_or(0, Ttl::now);
        for (key, entries) in &self.map {
            for e in entries {
                if self
                    .ttl
                    .as_ref()
                    .is_none_or(|ttl| ttl.live(key, &e.namespace, now))
                {
                    f(key, &e.namespace, &e.value);
                }
            }
        }
    }

    /// Removes every expired entry; returns how many.
    pub(crate) fn cleanup_expired(&mut self) -> usize {
        let Some(ttl) = &mut self.ttl else {
            return 0;
        };
        let (now, limit) = (ttl.now(), ttl.config.ttl_millis);
        let mut expired: Vec<(K, N)> = Vec::new();
        ttl.stamps.retain(|pair, stamp| {
            let live = now.saturating_sub(*stamp) < limit;
            if !live {
                expired.push(pair.clone());
            }
            live
        });
        for (key, namespace) in &expired {
            let hash = self.hasher.hash_one(key);
            if let Ok(mut found) = self.map.find_entry(hash, |(k, _)| k == key) {
                let entries = &mut found.get_mut().1;
                entries.retain(|e| e.namespace != *namespace);
                if entries.is_empty() {
                    found.remove();
                }
            }
        }
        expired.len()
    }

    /// The write time of `key` in `namespace` (TTL only; 0 without).
    fn stamp_of(&self, key: &K, namespace: &N) -> Timestamp {
        self.ttl
            .as_ref()
            .and_then(|ttl| ttl.stamps.get(&PairRef(key, namespace)).copied())
            .unwrap_or(0)
    }
}

/// A key's entries as snapshotted: with write times when the state has a TTL.
type TimedRow<'a, N, V> = Vec<(&'a N, &'a V, Timestamp)>;

/// Snapshotted keys and their entries, per key group.
type Groups<'a, K, N, V> = hashbrown::HashMap<u32, Vec<(&'a K, TimedRow<'a, N, V>)>>;

/// Restored keys and their entries with write times.
type RestoredRows<K, N, V> = Vec<(K, Vec<(N, V, Timestamp)>)>;

impl<K: Key, N: Key, V: Serialize + Send + 'static, const C: usize> SnapshotTable
    for Shared<K, N, V, C>
{
    fn snapshot(&self, name: &str, writer: &mut SnapshotWriter) -> Result<()> {
        let table = lock(self);
        let now = table.ttl.as_ref().map_or(0, Ttl::now);
        let timed = table.ttl.is_some();
        let mut groups: Groups<'_, K, N, V> = hashbrown::HashMap::new();
        for (key, entries) in &table.map {
            let row: TimedRow<'_, N, V> = entries
                .iter()
                .filter(|e| {
                    table
                        .ttl
                        .as_ref()
                        .is_none_or(|ttl| ttl.live(key, &e.namespace, now))
                })
                .map(|e| (&e.namespace, &e.value, table.stamp_of(key, &e.namespace)))
                .collect();
            if !row.is_empty() {
                groups
                    .entry(writer.key_group_of(key))
                    .or_default()
                    .push((key, row));
            }
        }
        let mut blobs = Vec::with_capacity(groups.len());
        for (group, rows) in groups {
            let bytes = if timed {
                encode(&rows)?
            } else {
                // Write times matter only with a TTL.
                let untimed: Vec<(&K, Vec<(&N, &V)>)> = rows
                    .iter()
                    .map(|(k, row)| (*k, row.iter().map(|(n, v, _)| (*n, *v)).collect()))
                    .collect();
                encode(&untimed)?
            };
            blobs.push((group, bytes));
        }
        blobs.sort_unstable_by_key(|(group, _)| *group);
        writer.keyed_blobs(name, blobs);
        Ok(())
    }
}

/// The table of `descriptor` in the heap backend behind `backend`, filled from its restored
/// checkpoint and registered for snapshots.
pub(super) fn table<K: Key, N: Key, V: Data, const C: usize>(
    backend: &mut dyn StateBackend,
    descriptor: &StateDescriptor,
) -> Result<Shared<K, N, V, C>> {
    let heap = heap_backend(backend)?;
    let ttl = descriptor.ttl.map(|config| Ttl {
        config,
        clock: heap.clock().clone(),
        stamps: hashbrown::HashMap::new(),
    });
    let shared = Arc::new(Mutex::new(NamespacedTable {
        map: hashbrown::HashTable::new(),
        hasher: hashbrown::DefaultHashBuilder::default(),
        ttl,
        accesses: 0,
    }));
    let blobs = heap.register_table(&descriptor.name, Box::new(shared.clone()));
    let mut guard = lock(&shared);
    let table = &mut *guard;
    for blob in blobs {
        let rows: RestoredRows<K, N, V> = if table.ttl.is_some() {
            decode(&descriptor.name, &blob)?
        } else {
            let rows: Vec<(K, Vec<(N, V)>)> = decode(&descriptor.name, &blob)?;
            rows.into_iter()
                .map(|(k, row)| (k, row.into_iter().map(|(n, v)| (n, v, 0)).collect()))
                .collect()
        };
        for (key, row) in rows {
            if let Some(ttl) = &mut table.ttl {
                for (namespace, _, stamp) in &row {
                    ttl.stamps.insert((key.clone(), namespace.clone()), *stamp);
                }
            }
            let hasher = &table.hasher;
            let hash = hasher.hash_one(&key);
            let entries = &mut table
                .map
                .entry(hash, |(k, _)| *k == key, |(k, _)| hasher.hash_one(k))
                .or_insert_with(|| (key.clone(), SmallVec::new()))
                .into_mut()
                .1;
            entries.extend(
                row.into_iter()
                    .map(|(namespace, value, _)| Entry { namespace, value }),
            );
        }
    }
    drop(guard);
    Ok(shared)
}

pub(super) fn list<K: Key, N: Key, V: Data>(
    backend: &mut dyn StateBackend,
    descriptor: &StateDescriptor,
) -> Result<Box<dyn NamespacedListState<K, N, V>>> {
    Ok(Box::new(HeapList {
        table: table(backend, descriptor)?,
    }))
}

struct HeapList<K, N, V> {
    table: Shared<K, N, Vec<V>>,
}

impl<K: Key, N: Key, V: Data> NamespacedListState<K, N, V> for HeapList<K, N, V> {
    fn get(&mut self, key: &K, namespace: &N) -> Result<Vec<V>> {
        Ok(lock(&self.table)
            .get(key, namespace)
            .cloned()
            .unwrap_or_default())
    }
    fn add(&mut self, key: &K, namespace: &N, value: V) -> Result<()> {
        lock(&self.table)
            .write(key, namespace, Vec::new)
            .push(value);
        Ok(())
    }
    fn update(&mut self, key: &K, namespace: &N, values: Vec<V>) -> Result<()> {
        *lock(&self.table).write(key, namespace, Vec::new) = values;
        Ok(())
    }
    fn clear(&mut self, key: &K, namespace: &N) -> Result<()> {
        lock(&self.table).take(key, namespace);
        Ok(())
    }
    fn merge_namespaces(&mut self, key: &K, target: &N, sources: &[N]) -> Result<()> {
        let mut table = lock(&self.table);
        let mut merged = Vec::new();
        for source in sources.iter().filter(|s| *s != target) {
            merged.extend(table.take(key, source).into_iter().flatten());
        }
        if !merged.is_empty() {
            table.write(key, target, Vec::new).append(&mut merged);
        }
        Ok(())
    }
    fn cleanup_expired(&mut self) -> usize {
        lock(&self.table).cleanup_expired()
    }
}

pub(super) fn map<K: Key, N: Key, UK: Key, UV: Data>(
    backend: &mut dyn StateBackend,
    descriptor: &StateDescriptor,
) -> Result<Box<dyn NamespacedMapState<K, N, UK, UV>>> {
    Ok(Box::new(HeapMap {
        table: table(backend, descriptor)?,
    }))
}

struct HeapMap<K, N, UK, UV> {
    table: Shared<K, N, hashbrown::HashMap<UK, UV>>,
}

impl<K: Key, N: Key, UK: Key, UV: Data> NamespacedMapState<K, N, UK, UV> for HeapMap<K, N, UK, UV> {
    fn get(&mut self, key: &K, namespace: &N, user_key: &UK) -> Result<Option<UV>> {
        Ok(lock(&self.table)
            .get(key, namespace)
            .and_then(|m| m.get(user_key).cloned()))
    }
    fn put(&mut self, key: &K, namespace: &N, user_key: UK, value: UV) -> Result<()> {
        lock(&self.table)
            .write(key, namespace, hashbrown::HashMap::new)
            .insert(user_key, value);
        Ok(())
    }
    fn remove(&mut self, key: &K, namespace: &N, user_key: &UK) -> Result<()> {
        let mut table = lock(&self.table);
        if let Some(map) = table.get(key, namespace) {
            map.remove(user_key);
            if map.is_empty() {
                table.take(key, namespace);
            }
        }
        Ok(())
    }
    fn entries(&mut self, key: &K, namespace: &N) -> Result<Vec<(UK, UV)>> {
        Ok(lock(&self.table)
            .get(key, namespace)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default())
    }
    fn clear(&mut self, key: &K, namespace: &N) -> Result<()> {
        lock(&self.table).take(key, namespace);
        Ok(())
    }
    fn cleanup_expired(&mut self) -> usize {
        lock(&self.table).cleanup_expired()
    }
}

pub(super) fn reducing<K: Key, N: Key, V: Data>(
    backend: &mut dyn StateBackend,
    descriptor: &StateDescriptor,
    reduce: Reduce<V>,
) -> Result<Box<dyn NamespacedReducingState<K, N, V>>> {
    Ok(Box::new(HeapReducing {
        table: table(backend, descriptor)?,
        reduce,
    }))
}

/// Reducing state: a slot holds `None` only while its value is moved into the reduce function.
struct HeapReducing<K, N, V> {
    table: Shared<K, N, Option<V>>,
    reduce: Reduce<V>,
}

impl<K: Key, N: Key, V: Data> NamespacedReducingState<K, N, V> for HeapReducing<K, N, V> {
    fn get(&mut self, key: &K, namespace: &N) -> Result<Option<V>> {
        Ok(lock(&self.table)
            .get(key, namespace)
            .and_then(|v| v.clone()))
    }
    fn add(&mut self, key: &K, namespace: &N, value: V) -> Result<()> {
        let mut table = lock(&self.table);
        let slot = table.write(key, namespace, || None);
        let new = match slot.take() {
            Some(old) => (self.reduce)(old, value),
            None => value,
        };
        *slot = Some(new);
        Ok(())
    }
    fn clear(&mut self, key: &K, namespace: &N) -> Result<()> {
        lock(&self.table).take(key, namespace);
        Ok(())
    }
    fn merge_namespaces(&mut self, key: &K, target: &N, sources: &[N]) -> Result<()> {
        let mut table = lock(&self.table);
        let mut merged: Option<V> = None;
        for source in sources.iter().filter(|s| *s != target) {
            if let Some(value) = table.take(key, source).flatten() {
                merged = Some(match merged {
                    Some(m) => (self.reduce)(m, value),
                    None => value,
                });
            }
        }
        if let Some(merged) = merged {
            let slot = table.write(key, target, || None);
            let new = match slot.take() {
                Some(old) => (self.reduce)(old, merged),
                None => merged,
            };
            *slot = Some(new);
        }
        Ok(())
    }
    fn cleanup_expired(&mut self) -> usize {
        lock(&self.table).cleanup_expired()
    }
}

pub(super) fn aggregating<K: Key, N: Key, T: 'static, F: AggregateFunction<T>>(
    backend: &mut dyn StateBackend,
    descriptor: &StateDescriptor,
    function: F,
) -> Result<Box<dyn NamespacedAggregatingState<K, N, T, F::Out>>> {
    Ok(Box::new(HeapAggregating {
        table: table(backend, descriptor)?,
        function,
    }))
}

struct HeapAggregating<K, N, F: AggregateFunction<T>, T> {
    table: Shared<K, N, F::Acc>,
    function: F,
}

impl<K: Key, N: Key, T: 'static, F: AggregateFunction<T>>
    NamespacedAggregatingState<K, N, T, F::Out> for HeapAggregating<K, N, F, T>
{
    fn get(&mut self, key: &K, namespace: &N) -> Result<Option<F::Out>> {
        let function = &self.function;
        Ok(lock(&self.table)
            .get(key, namespace)
            .map(|acc| function.get_result(acc)))
    }
    fn add(&mut self, key: &K, namespace: &N, value: &T) -> Result<()> {
        let function = &self.function;
        let mut table = lock(&self.table);
        function.add(
            table.write(key, namespace, || function.create_accumulator()),
            value,
        );
        Ok(())
    }
    fn clear(&mut self, key: &K, namespace: &N) -> Result<()> {
        lock(&self.table).take(key, namespace);
        Ok(())
    }
    fn merge_namespaces(&mut self, key: &K, target: &N, sources: &[N]) -> Result<()> {
        let function = &self.function;
        let mut table = lock(&self.table);
        let mut merged: Option<F::Acc> = None;
        for source in sources.iter().filter(|s| *s != target) {
            if let Some(acc) = table.take(key, source) {
                merged = Some(match merged {
                    Some(m) => function.merge(m, acc),
                    None => acc,
                });
            }
        }
        if let Some(merged) = merged {
            let acc = match table.take(key, target) {
                Some(old) => function.merge(old, merged),
                None => merged,
            };
            *table.write(key, target, || function.create_accumulator()) = acc;
        }
        Ok(())
    }
    fn cleanup_expired(&mut self) -> usize {
        lock(&self.table).cleanup_expired()
    }
}
