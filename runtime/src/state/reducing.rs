//! Reducing state: one value per key, folded with a reduce function on every add.

use std::sync::Arc;

use super::heap::{heap_backend, lock, SharedTable};
use super::{StateBackend, StateDescriptor};
use crate::data::{Data, Key};
use crate::Result;

/// One value per key, folded with the state's reduce function on every [`add`](Self::add).
pub trait ReducingState<K, V>: Send {
    /// The folded value of `key`.
    fn get(&mut self, key: &K) -> Result<Option<V>>;
    /// Folds `value` in.
    fn add(&mut self, key: &K, value: V) -> Result<()>;
    /// Removes the value.
    fn clear(&mut self, key: &K) -> Result<()>;
    /// Removes expired values (with TTL); returns how many.
    fn cleanup_expired(&mut self) -> usize;
}

/// Creates reducing state `descriptor` in `backend`, folding with `reduce`.
///
/// # Errors
/// As [`super::value_state`].
pub fn reducing_state<K: Key, V: Data>(
    backend: &mut dyn StateBackend,
    descriptor: StateDescriptor,
    reduce: impl Fn(V, V) -> V + Send + Sync + 'static,
) -> Result<Box<dyn ReducingState<K, V>>> {
    backend.register(&descriptor)?;
    let reduce: Arc<dyn Fn(V, V) -> V + Send + Sync> = Arc::new(reduce);
    #[cfg(feature = "rocksdb")]
    if let Some(rocks) = backend
        .as_any_mut()
        .downcast_mut::<super::rocks_keyed::RocksKeyedBackend>()
    {
        return super::rocks_keyed::rocks_reducing_state(rocks, &descriptor, reduce);
    }
    let table = heap_backend(backend)?.table(&descriptor)?;
    Ok(Box::new(HeapReducingState { table, reduce }))
}

struct HeapReducingState<K, V> {
    table: SharedTable<K, Option<V>>,
    reduce: Arc<dyn Fn(V, V) -> V + Send + Sync>,
}

impl<K: Key, V: Data> ReducingState<K, V> for HeapReducingState<K, V> {
    fn get(&mut self, key: &K) -> Result<Option<V>> {
        Ok(lock(&self.table).get(key).and_then(|v| v.clone()))
    }
    fn add(&mut self, key: &K, value: V) -> Result<()> {
        let mut table = lock(&self.table);
        let slot = table.write(key, || None);
        let new = match slot.take() {
            Some(old) => (self.reduce)(old, value),
            None => value,
        };
        *slot = Some(new);
        Ok(())
    }
    fn clear(&mut self, key: &K) -> Result<()> {
        lock(&self.table).remove(key);
        Ok(())
    }
    fn cleanup_expired(&mut self) -> usize {
        lock(&self.table).cleanup_expired()
    }
}
