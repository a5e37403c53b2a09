//! List state: a list of values per key.

use super::heap::{heap_backend, HeapTable};
use super::{StateBackend, StateDescriptor};
use crate::data::{Data, Key};
use crate::Result;

/// A list of values per key.
pub trait ListState<K, V>: Send {
    /// The list of `key` (empty if none).
    fn get(&mut self, key: &K) -> Result<&[V]>;
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
    let table = heap_backend(backend)?.table(&descriptor);
    Ok(Box::new(HeapListState { table }))
}

struct HeapListState<K, V> {
    table: HeapTable<K, Vec<V>>,
}

impl<K: Key, V: Data> ListState<K, V> for HeapListState<K, V> {
    fn get(&mut self, key: &K) -> Result<&[V]> {
        Ok(self.table.get(key).map_or(&[], |v| v.as_slice()))
    }
    fn add(&mut self, key: &K, value: V) -> Result<()> {
        self.table.write(key, Vec::new).push(value);
        Ok(())
    }
    fn update(&mut self, key: &K, values: Vec<V>) -> Result<()> {
        *self.table.write(key, Vec::new) = values;
        Ok(())
    }
    fn clear(&mut self, key: &K) -> Result<()> {
        self.table.remove(key);
        Ok(())
    }
    fn cleanup_expired(&mut self) -> usize {
        self.table.cleanup_expired()
    }
}
