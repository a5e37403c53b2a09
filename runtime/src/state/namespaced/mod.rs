//! Namespaced keyed state: values scoped to a key *and* a namespace, such as a window.
//!
//! Window operators keep one accumulator per key and window; Flink calls the window the
//! state's namespace. The five primitives here mirror the per-key ones of
//! [`crate::state`] with an explicit namespace argument on every call (rather than Flink's
//! `setCurrentNamespace`, which would cost a store per record). They live in the subtask's
//! [`StateBackend`] like every other keyed state, so they are snapshotted per key group,
//! restored at another parallelism, and follow `--state-backend rocksdb`.
//!
//! ## Which state to use
//! - [`NamespacedValueState`]: one value per key and namespace; besides get and put it can
//!   change a value in place ([`modify`](NamespacedValueState::modify)) and visit all of a
//!   key's namespaces at once ([`retain`](NamespacedValueState::retain)), which is what
//!   window operators use.
//! - [`NamespacedListState`]: a list per key and namespace (records of a window).
//! - [`NamespacedMapState`]: a map per key and namespace.
//! - [`NamespacedReducingState`], [`NamespacedAggregatingState`]: one folded value per key
//!   and namespace, with [`merge_namespaces`](NamespacedAggregatingState::merge_namespaces)
//!   for merging windows (sessions).
//!
//! ```
//! use eddy_runtime::state::{namespaced_value_state, HeapStateBackend, StateDescriptor};
//!
//! let mut backend = HeapStateBackend::default();
//! // Sums per key and window start.
//! let mut sums =
//!     namespaced_value_state::<String, i64, u64>(&mut backend, StateDescriptor::new("sum")).unwrap();
//! for (key, window, value) in [("a", 0, 1), ("a", 10, 2), ("a", 0, 3), ("b", 0, 4)] {
//!     sums.modify(&key.to_string(), &window, || 0, |sum| *sum += value).unwrap();
//! }
//! assert_eq!(sums.get(&"a".to_string(), &0).unwrap(), Some(4));
//! assert_eq!(sums.get(&"a".to_string(), &10).unwrap(), Some(2));
//! let mut windows = sums.namespaces(&"a".to_string()).unwrap();
//! windows.sort();
//! assert_eq!(windows, [0, 10]);
//! ```
//!
//! ## Algorithm (heap backend)
//! A hash table from key to the key's namespaces, kept inline in the table entry (a small
//! vector, searched linearly): the common window case, one or two windows per key, costs one
//! hash lookup and no second cache miss. A key with many namespaces (hundreds) pays a linear
//! scan per access. TTL is kept per key and namespace. On RocksDB an entry is stored under
//! `key group | key | namespace` (bincode is prefix-free), so a key's namespaces are one
//! prefix scan.
//!
//! ## Memory
//! Per key, one table entry; per namespace, the namespace, the value and a write time.

mod heap;
#[cfg(feature = "rocksdb")]
pub(crate) mod rocks;

use std::sync::Arc;

use super::{AggregateFunction, StateBackend, StateDescriptor};
use crate::data::{Data, Key};
use crate::Result;

/// One value per key and namespace.
///
/// A concrete handle rather than a trait object: on the heap backend every call reaches the
/// table directly, and closures passed to [`modify`](Self::modify) and
/// [`retain`](Self::retain) are inlined (window operators call them once per record).
///
/// `INLINE` namespaces per key live inside the key's table entry on the heap (more spill to a
/// separate allocation, a second cache miss): 2 suits windows; the sliding-window operator
/// keeps its panes with [`namespaced_value_state_inline`].
pub struct NamespacedValueState<K, N, V, const INLINE: usize = 2> {
    store: Store<K, N, V, INLINE>,
}

enum Store<K, N, V, const C: usize> {
    Heap(heap::Shared<K, N, V, C>),
    #[cfg_attr(not(feature = "rocksdb"), allow(dead_code))]
    Other(Box<dyn ValueStore<K, N, V>>),
}

impl<K, N, V, const C: usize> std::fmt::Debug for NamespacedValueState<K, N, V, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let backend = match self.store {
            Store::Heap(_) => "heap",
            Store::Other(_) => "other",
        };
        f.debug_struct("NamespacedValueState")
            .field("backend", &backend)
            .finish()
    }
}

impl<K: Key, N: Key, V: Data, const C: usize> NamespacedValueState<K, N, V, C> {
    /// The value of `key` in `namespace`, if any (a copy).
    ///
    /// # Errors
    /// When the backend cannot read or decode it (RocksDB).
    pub fn get(&mut self, key: &K, namespace: &N) -> Result<Option<V>> {
        match &mut self.store {
            Store::Heap(table) => Ok(heap::lock(table).get(key, namespace).cloned()),
            Store::Other(store) => store.get(key, namespace),
        }
    }

    /// Sets the value of `key` in `namespace`.
    ///
    /// # Errors
    /// When the backend cannot write it (RocksDB).
    pub fn put(&mut self, key: &K, namespace: &N, value: V) -> Result<()> {
        match &mut self.store {
            Store::Heap(table) => {
                let mut value = Some(value);
                let mut table = heap::lock(table);
                let slot = table.write(key, namespace, || value.take().expect("taken once"));
                if let Some(value) = value {
                    *slot = value;
                }
                Ok(())
            }
            Store::Other(store) => store.put(key, namespace, value),
        }
    }

    /// Removes and returns the value of `key` in `namespace`.
    ///
    /// # Errors
    /// As [`get`](Self::get).
    pub fn take(&mut self, key: &K, namespace: &N) -> Result<Option<V>> {
        match &mut self.store {
            Store::Heap(table) => Ok(heap::lock(table).take(key, namespace)),
            Store::Other(store) => store.take(key, namespace),
        }
    }

    /// Removes the value of `key` in `namespace`.
    ///
    /// # Errors
    /// As [`get`](Self::get).
    pub fn clear(&mut self, key: &K, namespace: &N) -> Result<()> {
        self.take(key, namespace).map(drop)
    }

    /// Changes the value of `key` in `namespace` in place with `f`, creating it with `init`
    /// first if absent; returns what `f` returns. The heap backend touches the value where it
    /// lies (one hash lookup).
    ///
    /// # Errors
    /// As [`get`](Self::get).
    pub fn modify<R>(
        &mut self,
        key: &K,
        namespace: &N,
        init: impl FnOnce() -> V,
        f: impl FnOnce(&mut V) -> R,
    ) -> Result<R> {
        match &mut self.store {
            Store::Heap(table) => Ok(f(heap::lock(table).write(key, namespace, init))),
            Store::Other(store) => {
                let (mut init, mut f, mut result) = (Some(init), Some(f), None);
                store.modify(
                    key,
                    namespace,
                    &mut || (init.take().expect("called once"))(),
                    &mut |value| result = f.take().map(|f| f(value)),
                )?;
                result.ok_or_else(|| crate::Error::Internal("modify did not run".into()))
            }
        }
    }

    /// Visits every namespace of `key` with its value, which `f` may change; an entry for
    /// which `f` returns `false` is removed. Kept entries count as written (their TTL
    /// restarts). One lookup on the heap, one prefix scan on RocksDB.
    ///
    /// # Errors
    /// As [`get`](Self::get).
    pub fn retain(&mut self, key: &K, mut f: impl FnMut(&N, &mut V) -> bool) -> Result<()> {
        match &mut self.store {
            Store::Heap(table) => {
                heap::lock(table).retain(key, f);
                Ok(())
            }
            Store::Other(store) => store.retain(key, &mut f),
        }
    }

    /// The namespaces of `key` that hold a value, in no particular order.
    ///
    /// # Errors
    /// As [`get`](Self::get).
    pub fn namespaces(&mut self, key: &K) -> Result<Vec<N>> {
        let mut namespaces = Vec::new();
        self.retain(key, |namespace, _| {
            namespaces.push(namespace.clone());
            true
        })?;
        Ok(namespaces)
    }

    /// Visits every live entry of every key, in no particular order (to rebuild timers when
    /// an operator is restored).
    ///
    /// # Errors
    /// As [`get`](Self::get).
    pub fn for_each(&mut self, mut f: impl FnMut(&K, &N, &V)) -> Result<()> {
        match &mut self.store {
            Store::Heap(table) => {
                heap::lock(table).for_each(f);
                Ok(())
            }
            Store::Other(store) => store.for_each(&mut f),
        }
    }

    /// Removes expired entries (with TTL); returns how many.
    pub fn cleanup_expired(&mut self) -> usize {
        match &mut self.store {
            Store::Heap(table) => heap::lock(table).cleanup_expired(),
            Store::Other(store) => store.cleanup_expired(),
        }
    }
}

/// Namespaced value state in a backend other than the heap (RocksDB).
#[cfg_attr(not(feature = "rocksdb"), allow(dead_code))]
pub(crate) trait ValueStore<K, N, V>: Send {
    fn get(&mut self, key: &K, namespace: &N) -> Result<Option<V>>;
    fn put(&mut self, key: &K, namespace: &N, value: V) -> Result<()>;
    fn take(&mut self, key: &K, namespace: &N) -> Result<Option<V>>;
    fn modify(
        &mut self,
        key: &K,
        namespace: &N,
        init: &mut dyn FnMut() -> V,
        f: &mut dyn FnMut(&mut V),
    ) -> Result<()>;
    fn retain(&mut self, key: &K, f: &mut dyn FnMut(&N, &mut V) -> bool) -> Result<()>;
    fn for_each(&mut self, f: &mut dyn FnMut(&K, &N, &V)) -> Result<()>;
    fn cleanup_expired(&mut self) -> usize;
}

/// A list of values per key and namespace.
pub trait NamespacedListState<K, N, V>: Send {
    /// A copy of the list of `key` in `namespace` (empty if none).
    fn get(&mut self, key: &K, namespace: &N) -> Result<Vec<V>>;
    /// Appends a value.
    fn add(&mut self, key: &K, namespace: &N, value: V) -> Result<()>;
    /// Replaces the list.
    fn update(&mut self, key: &K, namespace: &N, values: Vec<V>) -> Result<()>;
    /// Removes the list.
    fn clear(&mut self, key: &K, namespace: &N) -> Result<()>;
    /// Appends the lists of `sources` to that of `target` and removes them (merging windows).
    fn merge_namespaces(&mut self, key: &K, target: &N, sources: &[N]) -> Result<()>;
    /// Removes expired lists (with TTL); returns how many.
    fn cleanup_expired(&mut self) -> usize;
}

/// A map from user keys `UK` to values `UV` per key and namespace.
pub trait NamespacedMapState<K, N, UK, UV>: Send {
    /// The value of `user_key` in the map of `key` in `namespace`.
    fn get(&mut self, key: &K, namespace: &N, user_key: &UK) -> Result<Option<UV>>;
    /// Sets the value of `user_key`.
    fn put(&mut self, key: &K, namespace: &N, user_key: UK, value: UV) -> Result<()>;
    /// Removes `user_key`.
    fn remove(&mut self, key: &K, namespace: &N, user_key: &UK) -> Result<()>;
    /// Every entry of the map of `key` in `namespace` (copies), in no particular order.
    fn entries(&mut self, key: &K, namespace: &N) -> Result<Vec<(UK, UV)>>;
    /// Removes the whole map of `key` in `namespace`.
    fn clear(&mut self, key: &K, namespace: &N) -> Result<()>;
    /// Removes expired maps (with TTL); returns how many.
    fn cleanup_expired(&mut self) -> usize;
}

/// One value per key and namespace, folded with the state's reduce function on every add.
pub trait NamespacedReducingState<K, N, V>: Send {
    /// The folded value of `key` in `namespace`.
    fn get(&mut self, key: &K, namespace: &N) -> Result<Option<V>>;
    /// Folds `value` in.
    fn add(&mut self, key: &K, namespace: &N, value: V) -> Result<()>;
    /// Removes the value.
    fn clear(&mut self, key: &K, namespace: &N) -> Result<()>;
    /// Folds the values of `sources` into that of `target` and removes them.
    fn merge_namespaces(&mut self, key: &K, target: &N, sources: &[N]) -> Result<()>;
    /// Removes expired values (with TTL); returns how many.
    fn cleanup_expired(&mut self) -> usize;
}

/// An accumulator per key and namespace; [`get`](Self::get) yields the aggregate.
pub trait NamespacedAggregatingState<K, N, T, O>: Send {
    /// The aggregate of `key` in `namespace`, if anything was added.
    fn get(&mut self, key: &K, namespace: &N) -> Result<Option<O>>;
    /// Folds `value` in.
    fn add(&mut self, key: &K, namespace: &N, value: &T) -> Result<()>;
    /// Removes the accumulator.
    fn clear(&mut self, key: &K, namespace: &N) -> Result<()>;
    /// Merges the accumulators of `sources` into that of `target` and removes them.
    fn merge_namespaces(&mut self, key: &K, target: &N, sources: &[N]) -> Result<()>;
    /// Removes expired accumulators (with TTL); returns how many.
    fn cleanup_expired(&mut self) -> usize;
}

/// Finds the RocksDB backend behind `backend`, if it is one.
#[cfg(feature = "rocksdb")]
fn rocks(backend: &mut dyn StateBackend) -> Option<&mut super::RocksKeyedBackend> {
    backend
        .as_any_mut()
        .downcast_mut::<super::RocksKeyedBackend>()
}

/// Creates namespaced value state `descriptor` in `backend`.
///
/// # Errors
/// [`crate::Error::InvalidGraph`] when the operator already declared a state of that name;
/// [`crate::Error::Internal`] for a backend this function does not know.
pub fn namespaced_value_state<K: Key, N: Key, V: Data>(
    backend: &mut dyn StateBackend,
    descriptor: StateDescriptor,
) -> Result<NamespacedValueState<K, N, V>> {
    namespaced_value_state_inline(backend, descriptor)
}

/// [`namespaced_value_state`] keeping up to `INLINE` namespaces of a key inside its table
/// entry on the heap (for keys with many namespaces, such as the panes of sliding windows).
///
/// # Errors
/// As [`namespaced_value_state`].
pub fn namespaced_value_state_inline<K: Key, N: Key, V: Data, const INLINE: usize>(
    backend: &mut dyn StateBackend,
    descriptor: StateDescriptor,
) -> Result<NamespacedValueState<K, N, V, INLINE>> {
    backend.register(&descriptor)?;
    #[cfg(feature = "rocksdb")]
    if let Some(rocks) = rocks(backend) {
        return Ok(NamespacedValueState {
            store: Store::Other(rocks::value(rocks, &descriptor)?),
        });
    }
    Ok(NamespacedValueState {
        store: Store::Heap(heap::table(backend, &descriptor)?),
    })
}

/// Creates namespaced list state `descriptor` in `backend`.
///
/// # Errors
/// As [`namespaced_value_state`].
pub fn namespaced_list_state<K: Key, N: Key, V: Data>(
    backend: &mut dyn StateBackend,
    descriptor: StateDescriptor,
) -> Result<Box<dyn NamespacedListState<K, N, V>>> {
    backend.register(&descriptor)?;
    #[cfg(feature = "rocksdb")]
    if let Some(rocks) = rocks(backend) {
        return rocks::list(rocks, &descriptor);
    }
    heap::list(backend, &descriptor)
}

/// Creates namespaced map state `descriptor` in `backend`.
///
/// # Errors
/// As [`namespaced_value_state`].
pub fn namespaced_map_state<K: Key, N: Key, UK: Key, UV: Data>(
    backend: &mut dyn StateBackend,
    descriptor: StateDescriptor,
) -> Result<Box<dyn NamespacedMapState<K, N, UK, UV>>> {
    backend.register(&descriptor)?;
    #[cfg(feature = "rocksdb")]
    if let Some(rocks) = rocks(backend) {
        return rocks::map(rocks, &descriptor);
    }
    heap::map(backend, &descriptor)
}

/// Creates namespaced reducing state `descriptor` in `backend`, folding with `reduce`.
///
/// # Errors
/// As [`namespaced_value_state`].
pub fn namespaced_reducing_state<K: Key, N: Key, V: Data>(
    backend: &mut dyn StateBackend,
    descriptor: StateDescriptor,
    reduce: impl Fn(V, V) -> V + Send + Sync + 'static,
) -> Result<Box<dyn NamespacedReducingState<K, N, V>>> {
    backend.register(&descriptor)?;
    let reduce: Reduce<V> = Arc::new(reduce);
    #[cfg(feature = "rocksdb")]
    if let Some(rocks) = rocks(backend) {
        return rocks::reducing(rocks, &descriptor, reduce);
    }
    heap::reducing(backend, &descriptor, reduce)
}

/// Creates namespaced aggregating state `descriptor` in `backend`, aggregating with
/// `function`.
///
/// # Errors
/// As [`namespaced_value_state`].
pub fn namespaced_aggregating_state<K: Key, N: Key, T: 'static, F: AggregateFunction<T>>(
    backend: &mut dyn StateBackend,
    descriptor: StateDescriptor,
    function: F,
) -> Result<Box<dyn NamespacedAggregatingState<K, N, T, F::Out>>> {
    backend.register(&descriptor)?;
    #[cfg(feature = "rocksdb")]
    if let Some(rocks) = rocks(backend) {
        return rocks::aggregating(rocks, &descriptor, function);
    }
    heap::aggregating(backend, &descriptor, function)
}

/// A shared reduce function.
type Reduce<V> = Arc<dyn Fn(V, V) -> V + Send + Sync>;
