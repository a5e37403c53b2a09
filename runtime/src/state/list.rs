//! List state: a list of values per key.

use super::heap::{heap_backend, lock, SharedTable};
use super::{StateBackend, StateDescriptor};
use crate::data::{Data, Key};
use crate::Result;

/// A list of values per key.
pub trait ListState<K, V>: Send {
    /// A copy of the list of `key` (empty if none).
    fn get(&mut self, key: &K) -> Result<Vec<V>>;
    /// Appends a value.
    fn add(&mut self, key: &K, value: V) -> Result<()>;
    /// Replaces the list.
    fn update(&mut self, key: &K, values: Vec<V>) -> Result<()>;
    /// Removes the list.
    fn clear(&mut self, key: &K) -> Result<()>;
    /// Removes expired lists (with TTL); returns how many.
    fn cleanup_expired(&mut self) -> usize;
}

/// Creates list state `descriptor` in `backend`.
///
/// # Errors
/// As [`super::value_state`].
pub fn list_state<K: Key, V: Data>(
    backend: &mut dyn StateBackend,
    descriptor: StateDescriptor,
) -> Result<Box<dyn ListState<K, V>>> {
    backend.register(&descriptor)?;
    #[cfg(feature = "rocksdb")]
    if let Some(rocks) = backend
        .as_any_mut()
        .downcast_mut::<super::rocks_keyed::RocksKeyedBackend>()
    {
        return super::rocks_keyed::rocks_list_state(rocks, &descriptor);
    }
    let table = heap_backend(backend)?.table(&descriptor)?;
    Ok(Box::new(HeapListState { table }))
}

struct HeapListState<K, V> {
    table: SharedTable<K, Vec<V>>,
}

impl<K: Key, V: Data> ListState<K, V> for HeapListState<K, V> {
    fn get(&mut self, key: &K) -> Result<Vec<V>> {
        Ok(lock(&self.table).get(key).cloned().unwrap_or_default())
    }
    fn add(&mut self, key: &K, value: V) -> Result<()> {
        lock(&self.table).write(key, Vec::new).push(value);
        Ok(())
    }
    fn update(&mut self, key: &K, values: Vec<V>) -> Result<()> {
        *lock(&self.table).write(key, Vec::new) = values;
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
