//! The heap state backend: state as live objects in hash maps.

use std::any::Any;
use std::collections::HashSet;
use std::hash::Hash;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::Mutex;

use super::{KeyRef, StateBackend, StateDescriptor, StateTtlConfig, TtlUpdate};
use crate::checkpoint::snapshot::{decode, encode};
use crate::checkpoint::{RestoredState, SnapshotWriter};
use crate::data::Key;
use crate::partition::{hash_key, key_group_for_hash, DEFAULT_MAX_PARALLELISM};
use crate::time::{system_clock, Clock};
use crate::{Error, Result, Timestamp};

/// Keeps keyed state as objects on the heap (Flink's HashMapStateBackend). The default.
///
/// Each state's table is shared between the operator's handle and the backend, so that the
/// backend can snapshot every table at a barrier without the operator's help. Both sides run
/// on the task's thread; the shared cell only guards against misuse.
pub struct HeapStateBackend {
    names: HashSet<String>,
    clock: Arc<dyn Clock>,
    max_parallelism: u32,
    restored: RestoredState,
    tables: Vec<(String, Box<dyn SnapshotTable>)>,
}

impl std::fmt::Debug for HeapStateBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeapStateBackend")
            .field("states", &self.names)
            .finish()
    }
}

/// A table shared by a state handle and the backend that snapshots it.
pub(crate) type SharedTable<K, V> = Arc<Mutex<HeapTable<K, V>>>;

/// Locks a shared table. Never contended (both sides run on the task's thread); a poisoned
/// lock (a panic while it was held) still holds a consistent table, whose task is failing.
pub(crate) fn lock<T>(table: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    table
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A table the backend can snapshot without knowing its types.
pub(in crate::state) trait SnapshotTable: Send {
    fn snapshot(&self, name: &str, writer: &mut SnapshotWriter) -> Result<()>;
}

impl<K: Key, V: Serialize + Clone + Send + 'static> SnapshotTable for SharedTable<K, V> {
    /// Copies the live entries at the barrier; grouping and serializing them runs on the
    /// coordinator's thread (copy-then-serialize: the barrier waits for the copy only).
    fn snapshot(&self, name: &str, writer: &mut SnapshotWriter) -> Result<()> {
        let table = lock(self);
        let now = table.now();
        // Write times matter only with a TTL; without one they would cost 8 bytes a key.
        let with_ttl = table.ttl.is_some();
        let copy: Vec<(K, V, Timestamp)> = table
            .map
            .iter()
            .filter(|(_, entry)| !table.expired(entry, now))
            .map(|(key, entry)| (key.clone(), entry.value.clone(), entry.stamp))
            .collect();
        drop(table);
        let max_parallelism = writer.max_parallelism();
        writer.defer_keyed_blobs(
            name,
            Box::new(move || {
                let mut groups: hashbrown::HashMap<u32, Vec<(&K, &V, Timestamp)>> =
                    hashbrown::HashMap::new();
                for (key, value, stamp) in &copy {
                    let group = key_group_for_hash(hash_key(key), max_parallelism);
                    groups.entry(group).or_default().push((key, value, *stamp));
                }
                let mut blobs = Vec::with_capacity(groups.len());
                for (group, entries) in groups {
                    let bytes = if with_ttl {
                        encode(&entries)?
                    } else {
                        let untimed: Vec<(&K, &V)> =
                            entries.iter().map(|(k, v, _)| (*k, *v)).collect();
                        encode(&untimed)?
                    };
                    blobs.push((group, bytes));
                }
                blobs.sort_unstable_by_key(|(group, _)| *group);
                Ok(blobs)
            }),
        );
        Ok(())
    }
}

impl Default for HeapStateBackend {
    fn default() -> Self {
        HeapStateBackend::new(system_clock())
    }
}

impl HeapStateBackend {
    /// An empty backend whose state TTL follows `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        HeapStateBackend::restoring(clock, DEFAULT_MAX_PARALLELISM, RestoredState::empty())
    }

    /// A backend that fills each state, when it is declared, from `restored` (this subtask's
    /// key groups of a checkpoint), for a job of `max_parallelism` key groups.
    pub fn restoring(clock: Arc<dyn Clock>, max_parallelism: u32, restored: RestoredState) -> Self {
        HeapStateBackend {
            names: HashSet::new(),
            clock,
            max_parallelism,
            restored,
            tables: Vec::new(),
        }
    }

    /// The table for state `descriptor`, filled from the restored checkpoint if any, and
    /// registered for snapshots.
    pub(crate) fn table<K: Key, V: Serialize + DeserializeOwned + Clone + Send + 'static>(
        &mut self,
        descriptor: &StateDescriptor,
    ) -> Result<SharedTable<K, V>> {
        let mut table = HeapTable {
            map: hashbrown::HashMap::new(),
            ttl: descriptor.ttl.map(|config| (config, self.clock.clone())),
            accesses: 0,
        };
        let now = table.now();
        for blob in self.restored.take_keyed_blobs(&descriptor.name) {
            if table.ttl.is_some() {
                let entries: Vec<(K, V, Timestamp)> = decode(&descriptor.name, &blob)?;
                for (key, value, stamp) in entries {
                    table.map.insert(key, Stamped { value, stamp });
                }
            } else {
                let entries: Vec<(K, V)> = decode(&descriptor.name, &blob)?;
                for (key, value) in entries {
                    table.map.insert(key, Stamped { value, stamp: now });
                }
            }
        }
        let shared = Arc::new(Mutex::new(table));
        self.tables
            .push((descriptor.name.clone(), Box::new(shared.clone())));
        Ok(shared)
    }

    /// Registers a table of another shape (namespaced state) for snapshots, and returns the
    /// serialized entries of its state in the restored checkpoint and the backend's clock.
    pub(in crate::state) fn register_table(
        &mut self,
        name: &str,
        table: Box<dyn SnapshotTable>,
    ) -> Vec<Vec<u8>> {
        self.tables.push((name.to_string(), table));
        self.restored.take_keyed_blobs(name)
    }

    /// The clock that state TTL follows.
    pub(in crate::state) fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The number of key groups of the job.
    pub fn max_parallelism(&self) -> u32 {
        self.max_parallelism
    }
}

impl StateBackend for HeapStateBackend {
    fn name(&self) -> &'static str {
        "heap"
    }

    fn register(&mut self, descriptor: &StateDescriptor) -> Result<()> {
        super::declare_once(&mut self.names, descriptor)
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }

    fn snapshot(&mut self, writer: &mut SnapshotWriter) -> Result<()> {
        for (name, table) in &self.tables {
            table.snapshot(name, writer)?;
        }
        Ok(())
    }

    fn restored(&self) -> &RestoredState {
        &self.restored
    }
}

/// An entry and when it was last written (or read, per the TTL config).
pub(crate) struct Stamped<V> {
    pub(crate) value: V,
    pub(crate) stamp: Timestamp,
}

/// The storage of one state: an entry per key, expired lazily when TTL is configured.
///
/// The table uses hashbrown's default hasher (foldhash): Fx, which routing uses for its
/// stability, spreads string keys too poorly over the table's control bytes (measured: a
/// quarter of wordcount's time went to comparing keys of colliding slots).
pub(crate) struct HeapTable<K, V> {
    map: hashbrown::HashMap<K, Stamped<V>>,
    ttl: Option<(StateTtlConfig, Arc<dyn Clock>)>,
    /// Accesses since the last sweep of expired entries (TTL only).
    accesses: usize,
}

/// Accesses between two sweeps of a small TTL table; a larger one waits for as many accesses
/// as it has entries, so sweeping costs O(1) per access, amortised.
const MIN_ACCESSES_PER_SWEEP: usize = 1024;

impl<K: Hash + Eq + Clone, V> HeapTable<K, V> {
    pub(crate) fn now(&self) -> Timestamp {
        self.ttl.as_ref().map_or(0, |(_, clock)| clock.now_millis())
    }

    /// Counts an access and, with TTL, sweeps expired entries now and then: the background
    /// cleanup, which needs no help from the operator.
    fn count_access(&mut self) {
        if self.ttl.is_some() {
            self.accesses += 1;
            if self.accesses >= self.map.len().max(MIN_ACCESSES_PER_SWEEP) {
                self.accesses = 0;
                self.cleanup_expired();
            }
        }
    }

    pub(crate) fn expired(&self, entry: &Stamped<V>, now: Timestamp) -> bool {
        self.ttl
            .as_ref()
            .is_some_and(|(config, _)| now.saturating_sub(entry.stamp) >= config.ttl_millis)
    }

    /// The live entry of `key` (an expired one is removed and never returned).
    pub(crate) fn get(&mut self, key: &K) -> Option<&mut V> {
        self.count_access();
        let now = self.now();
        let expired = self.ttl.is_some() && self.map.get(key).is_some_and(|e| self.expired(e, now));
        if expired {
            self.map.remove(key);
            return None;
        }
        let refresh = matches!(&self.ttl, Some((c, _)) if c.update == TtlUpdate::OnReadAndWrite);
        let entry = self.map.get_mut(key)?;
        if refresh {
            entry.stamp = now;
        }
        Some(&mut entry.value)
    }

    /// The entry of `key` for writing: an existing live one, or `create()`. Refreshes its TTL.
    pub(crate) fn write(&mut self, key: &K, create: impl FnOnce() -> V) -> &mut V {
        self.count_access();
        let now = self.now();
        // Without TTL nothing expires: skip that lookup (it is on every keyed access).
        let expired = self.ttl.is_some() && self.map.get(key).is_some_and(|e| self.expired(e, now));
        if expired {
            self.map.remove(key);
        }
        if !self.map.contains_key(key) {
            self.map.insert(
                key.clone(),
                Stamped {
                    value: create(),
                    stamp: now,
                },
            );
        }
        let entry = self.map.get_mut(key).expect("inserted above");
        entry.stamp = now;
        &mut entry.value
    }

    pub(crate) fn remove(&mut self, key: &K) -> Option<V> {
        self.map.remove(key).map(|e| e.value)
    }

    /// Removes and returns every live entry.
    pub(crate) fn drain(&mut self) -> impl Iterator<Item = (K, V)> + '_ {
        let now = self.now();
        let ttl = self.ttl.as_ref().map(|(c, _)| c.ttl_millis);
        self.map
            .drain()
            .filter(move |(_, e)| ttl.is_none_or(|t| now.saturating_sub(e.stamp) < t))
            .map(|(k, e)| (k, e.value))
    }

    /// Number of entries, expired ones not yet cleaned up included.
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    /// Removes every expired entry; returns how many.
    pub(crate) fn cleanup_expired(&mut self) -> usize {
        let Some((config, clock)) = &self.ttl else {
            return 0;
        };
        let (now, ttl) = (clock.now_millis(), config.ttl_millis);
        let before = self.map.len();
        self.map.retain(|_, e| now.saturating_sub(e.stamp) < ttl);
        before - self.map.len()
    }
}

impl<K: Hash + Eq + Clone, V> HeapTable<K, Option<V>> {
    /// Folds `value` into the entry of its own key: `f(old, value)`, or `value` for a new or
    /// expired key. The key is read from the value and copied only if new.
    pub(crate) fn fold(
        &mut self,
        value: V,
        key_of: &dyn for<'a> Fn(&'a V) -> KeyRef<'a, K>,
        f: &dyn Fn(V, V) -> V,
    ) -> Option<&V> {
        let now = self.now();
        let ttl = self.ttl.as_ref().map(|(c, _)| c.ttl_millis);
        let key = key_of(&value);
        // `get_mut` ends the key's borrow of `value` before `value` moves: one lookup on a hit.
        if self.map.contains_key(&*key) {
            let entry = self.map.get_mut(&*key)?;
            let live = ttl.is_none_or(|t| now.saturating_sub(entry.stamp) < t);
            let new = match (live, entry.value.take()) {
                (true, Some(old)) => f(old, value),
                _ => value,
            };
            entry.stamp = now;
            return Some(entry.value.insert(new));
        }
        let key = key.into_owned();
        let entry = self
            .map
            .entry(key)
            .insert(Stamped {
                value: Some(value),
                stamp: now,
            })
            .into_mut();
        entry.value.as_ref()
    }
}

/// Finds the heap backend behind a `dyn StateBackend`, for the state constructors.
pub(crate) fn heap_backend(backend: &mut dyn StateBackend) -> Result<&mut HeapStateBackend> {
    let name = backend.name();
    backend
        .as_any_mut()
        .downcast_mut::<HeapStateBackend>()
        .ok_or_else(|| Error::Internal(format!("state backend '{name}' cannot hold this state")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::partition::{hash_key, key_group_for_hash, KeyGroupRange};
    use crate::state::{list_state, value_state, StateTtlConfig};
    use crate::time::ManualClock;

    #[test]
    fn snapshots_restore_per_key_group_at_another_parallelism() {
        let clock = Arc::new(ManualClock::new(0));
        let mut backend = HeapStateBackend::new(clock.clone());
        let mut sums = value_state::<u32, u64>(&mut backend, StateDescriptor::new("sum")).unwrap();
        let ttl = StateDescriptor::new("recent").with_ttl(StateTtlConfig::new(100));
        let mut recent = list_state::<u32, String>(&mut backend, ttl.clone()).unwrap();
        for key in 0..500u32 {
            sums.put(&key, key as u64 * 2).unwrap();
            if key % 2 == 0 {
                clock.set(key as i64 / 10);
                recent.add(&key, format!("v{key}")).unwrap();
            }
        }
        // Lists written at time 10 or before have expired at 110: not in the snapshot.
        clock.set(110);
        let mut writer = SnapshotWriter::new(KeyGroupRange { start: 0, end: 127 }, 128);
        backend.snapshot(&mut writer).unwrap();
        let snapshot = writer.finish().unwrap();

        let (mut restored_sums, mut restored_lists) = (0, 0);
        for subtask in 0..3 {
            let range = KeyGroupRange::for_subtask(128, 3, subtask);
            let restored = RestoredState::assemble(range, [&snapshot]);
            let mut fresh = HeapStateBackend::restoring(clock.clone(), 128, restored);
            let mut sums =
                value_state::<u32, u64>(&mut fresh, StateDescriptor::new("sum")).unwrap();
            let mut recent = list_state::<u32, String>(&mut fresh, ttl.clone()).unwrap();
            for key in 0..500u32 {
                let mine = range.contains(key_group_for_hash(hash_key(&key), 128));
                let sum = sums.get(&key).unwrap();
                assert_eq!(sum, mine.then_some(key as u64 * 2), "key {key}");
                restored_sums += usize::from(sum.is_some());
                let list = recent.get(&key).unwrap();
                if mine && key % 2 == 0 && key >= 110 {
                    assert_eq!(list, vec![format!("v{key}")]);
                    restored_lists += 1;
                } else {
                    assert!(list.is_empty(), "key {key}: {list:?}");
                }
            }
        }
        assert_eq!(restored_sums, 500);
        assert_eq!(restored_lists, 195);
    }

    #[test]
    fn the_snapshot_is_the_state_at_the_barrier_though_serialized_later() {
        let mut backend = HeapStateBackend::new(Arc::new(ManualClock::new(0)));
        let mut sums = value_state::<u32, u64>(&mut backend, StateDescriptor::new("sum")).unwrap();
        for key in 0..100u32 {
            sums.put(&key, 1).unwrap();
        }
        let all = KeyGroupRange { start: 0, end: 127 };
        let mut writer = SnapshotWriter::new(all, 128);
        backend.snapshot(&mut writer).unwrap();
        let (mut snapshot, mut deferred) = writer.into_parts();
        assert!(
            snapshot.keyed.is_empty(),
            "serialization waits for the coordinator"
        );
        // Records keep flowing before the coordinator serializes the copy.
        for key in 0..100u32 {
            sums.put(&key, 2).unwrap();
        }
        sums.put(&1000, 2).unwrap();
        deferred.complete_keyed(&mut snapshot).unwrap();
        let restored = RestoredState::assemble(all, [&snapshot]);
        let mut fresh = HeapStateBackend::restoring(Arc::new(ManualClock::new(0)), 128, restored);
        let mut sums = value_state::<u32, u64>(&mut fresh, StateDescriptor::new("sum")).unwrap();
        for key in 0..100u32 {
            assert_eq!(sums.get(&key).unwrap(), Some(1));
        }
        assert_eq!(sums.get(&1000).unwrap(), None);
    }
}
