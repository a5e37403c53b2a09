//! Map state: a map per key.

use std::hash::Hash;

use super::heap::{heap_backend, lock, SharedTable};
use super::{StateBackend, StateDescriptor};
use crate::data::{Data, Key};
use crate::Result;

/// A map from user keys `UK` to values `UV` per key.
pub trait MapState<K, UK, UV>: Send {
    /// The value of `user_key` in the map of `key`.
    fn get(&mut self, key: &K, user_key: &UK) -> Result<Option<UV>>;
    /// Sets the value of `user_key`.
    fn put(&mut self, key: &K, user_key: UK, value: UV) -> Result<()>;
    /// Removes `user_key`.
    fn remove(&mut self, key: &K, user_key: &UK) -> Result<()>;
    /// Whether the map of `key` holds `user_key`.
    fn contains(&mut self, key: &K, user_key: &UK) -> Result<bool>;
    /// Every entry of the map of `key` (copies), in no particular order.
    fn entries(&mut self, key: &K) -> Result<Vec<(UK, UV)>>;
    /// Removes the whole map of `key`.
    fn clear(&mut self, key: &K) -> Result<()>;
    /// Removes expired maps (with TTL; a map's age is that of its last write); returns how many.
    fn cleanup_expired(&mut self) -> usize;
}

/// Creates map state `descriptor` in `backend`.
///
/// # Errors
/// As [`super::value_state`].
pub fn map_state<K: Key, UK: Key, UV: Data>(
    backend: &mut dyn StateBackend,
    descriptor: StateDescriptor,
) -> Result<Box<dyn MapState<K, UK, UV>>> {
    backend.register(&descriptor)?;
    #[cfg(feature = "rocksdb")]
    if let Some(rocks) = backend
        .as_any_mut()
        .downcast_mut::<super::rocks_keyed::RocksKeyedBackend>()
    {
        return super::rocks_keyed::rocks_map_state(rocks, &descriptor);
    }
    let table = heap_backend(backend)?.table(&descriptor)?;
    Ok(Box::new(HeapMapState { table }))
}

struct HeapMapState<K, UK, UV> {
    table: SharedTable<K, hashbrown::HashMap<UK, UV>>,
}

impl<K: Key, UK: Key + Hash + Eq, UV: Data> MapState<K, UK, UV> for HeapMapState<K, UK, UV> {
    fn get(&mut self, key: &K, user_key: &UK) -> Result<Option<UV>> {
        Ok(lock(&self.table)
            .get(key)
            .and_then(|m| m.get(user_key).cloned()))
    }
    fn put(&mut self, key: &K, user_key: UK, value: UV) -> Result<()> {
        lock(&self.table)
            .write(key, hashbrown::HashMap::new)
            .insert(user_key, value);
        Ok(())
    }
    fn remove(&mut self, key: &K, user_key: &UK) -> Result<()> {
        let mut table = lock(&self.table);
        if let Some(map) = table.get(key) {
            map.remove(user_key);
            if map.is_empty() {
                table.remove(key);
            }
        }
        Ok(())
    }
    fn contains(&mut self, key: &K, user_key: &UK) -> Result<bool> {
        Ok(lock(&self.table)
            .get(key)
            .is_some_and(|m| m.contains_key(user_key)))
    }
    fn entries(&mut self, key: &K) -> Result<Vec<(UK, UV)>> {
        Ok(lock(&self.table)
            .get(key)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default())
    }
    fn clear(&mut self, key: &K) -> Result<()> {
        lock(&self.table).remove(key);
        Ok(())
    }
    fn cleanup_expired(&mut self) -> usize {
        lock(&self.table).cleanup_expired()
    }
}
