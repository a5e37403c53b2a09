//! The heap state backend: state as live objects in hash maps.

use std::any::Any;
use std::collections::HashSet;
use std::hash::Hash;
use std::sync::Arc;

use super::{KeyRef, StateBackend, StateDescriptor, StateTtlConfig, TtlUpdate};
use crate::time::{system_clock, Clock};
use crate::{Error, Result, Timestamp};

/// Keeps keyed state as objects on the heap (Flink's HashMapStateBackend). The default.
#[derive(Debug)]
pub struct HeapStateBackend {
    names: HashSet<String>,
    clock: Arc<dyn Clock>,
}

impl Default for HeapStateBackend {
    fn default() -> Self {
        HeapStateBackend::new(system_clock())
    }
}

impl HeapStateBackend {
    /// A backend whose state TTL follows `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        HeapStateBackend {
            names: HashSet::new(),
            clock,
        }
    }

    /// An empty table for state `descriptor`.
    pub(crate) fn table<K, V>(&self, descriptor: &StateDescriptor) -> HeapTable<K, V> {
        HeapTable {
            map: hashbrown::HashMap::new(),
            ttl: descriptor.ttl.map(|config| (config, self.clock.clone())),
            accesses: 0,
        }
    }
}

impl StateBackend for HeapStateBackend {
    fn name(&self) -> &'static str {
        "heap"
    }

    fn register(&mut self, descriptor: &StateDescriptor) -> Result<()> {
        if !self.names.insert(descriptor.name.clone()) {
            return Err(Error::InvalidGraph(format!(
                "state '{}' is declared twice in one operator",
                descriptor.name
            )));
        }
        Ok(())
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// An entry and when it was last written (or read, per the TTL config).
pub(crate) struct Stamped<V> {
    pub(crate) value: V,
    stamp: Timestamp,
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
    fn now(&self) -> Timestamp {
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

    fn expired(&self, entry: &Stamped<V>, now: Timestamp) -> bool {
        self.ttl
            .as_ref()
            .is_some_and(|(config, _)| now.saturating_sub(entry.stamp) >= config.ttl_millis)
    }

    /// The live entry of `key` (an expired one is removed and never returned).
    pub(crate) fn get(&mut self, key: &K) -> Option<&mut V> {
        self.count_access();
        let now = self.now();
        let expired = self.map.get(key).is_some_and(|e| self.expired(e, now));
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
        let expired = self.map.get(key).is_some_and(|e| self.expired(e, now));
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
