//! Namespaced state on RocksDB: an entry per key and namespace under
//! `key group | key | namespace` (map state appends the user key), so a key's namespaces are
//! one prefix scan and snapshots stay per key group.

use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{
    NamespacedAggregatingState, NamespacedListState, NamespacedMapState, NamespacedReducingState,
    Reduce, ValueStore,
};
use crate::checkpoint::snapshot::{decode, encode};
use crate::data::{Data, Key};
use crate::state::rocks_keyed::Typed;
use crate::state::{AggregateFunction, RocksKeyedBackend, StateDescriptor};
use crate::Result;

/// Marks the types a handle serializes, without owning any.
type Marker<T> = PhantomData<fn() -> T>;

/// Entries found by a prefix scan: (stored key, length of the prefix, value bytes).
type Prefixed = Vec<(Vec<u8>, usize, Vec<u8>)>;

/// The namespaced operations on a typed table.
impl Typed {
    fn ns_get<K: Key, N: Serialize, V: DeserializeOwned>(
        &mut self,
        key: &K,
        namespace: &N,
    ) -> Result<Option<V>> {
        let group = self.encode_key(key, Some(namespace))?;
        match self.table.get(group, &self.key)? {
            Some(bytes) => Ok(Some(decode(self.table.state_name(), &bytes)?)),
            None => Ok(None),
        }
    }

    fn ns_put<K: Key, N: Serialize, V: Serialize>(
        &mut self,
        key: &K,
        namespace: &N,
        value: &V,
    ) -> Result<()> {
        let group = self.encode_key(key, Some(namespace))?;
        let bytes = encode(value)?;
        self.table.put(group, &self.key, &bytes)
    }

    fn ns_take<K: Key, N: Serialize, V: DeserializeOwned>(
        &mut self,
        key: &K,
        namespace: &N,
    ) -> Result<Option<V>> {
        let group = self.encode_key(key, Some(namespace))?;
        let Some(bytes) = self.table.get(group, &self.key)? else {
            return Ok(None);
        };
        self.table.delete(group, &self.key)?;
        Ok(Some(decode(self.table.state_name(), &bytes)?))
    }

    /// Every stored entry whose key starts with `key` then `suffix`: (stored key, the rest
    /// of the key after the prefix, value bytes).
    fn prefixed<K: Key, U: Serialize + ?Sized>(
        &mut self,
        key: &K,
        suffix: Option<&U>,
    ) -> Result<(u16, Prefixed)> {
        let group = self.encode_key(key, suffix)?;
        let prefix_len = self.key.len();
        let entries = self
            .table
            .scan_prefix(group, &self.key)
            .map(|entry| entry.map(|(_, stored, value)| (stored, prefix_len, value)))
            .collect::<Result<_>>()?;
        Ok((group, entries))
    }
}

pub(crate) fn value<K: Key, N: Key, V: Data>(
    backend: &mut RocksKeyedBackend,
    descriptor: &StateDescriptor,
) -> Result<Box<dyn ValueStore<K, N, V>>> {
    Ok(Box::new(RocksValue {
        table: backend.table(descriptor)?,
        _types: PhantomData,
    }))
}

struct RocksValue<K, N, V> {
    table: Typed,
    _types: Marker<(K, N, V)>,
}

impl<K: Key, N: Key, V: Data> ValueStore<K, N, V> for RocksValue<K, N, V> {
    fn get(&mut self, key: &K, namespace: &N) -> Result<Option<V>> {
        self.table.ns_get(key, namespace)
    }

    fn put(&mut self, key: &K, namespace: &N, value: V) -> Result<()> {
        self.table.ns_put(key, namespace, &value)
    }

    fn take(&mut self, key: &K, namespace: &N) -> Result<Option<V>> {
        self.table.ns_take(key, namespace)
    }

    fn modify(
        &mut self,
        key: &K,
        namespace: &N,
        init: &mut dyn FnMut() -> V,
        f: &mut dyn FnMut(&mut V),
    ) -> Result<()> {
        let mut value = self.table.ns_get(key, namespace)?.unwrap_or_else(init);
        f(&mut value);
        self.table.ns_put(key, namespace, &value)
    }

    fn retain(&mut self, key: &K, f: &mut dyn FnMut(&N, &mut V) -> bool) -> Result<()> {
        let (group, entries) = self.table.prefixed::<K, ()>(key, None)?;
        let name = self.table.table.state_name().to_string();
        for (stored, prefix_len, bytes) in entries {
            let namespace: N = decode(&name, &stored[prefix_len..])?;
            let mut value: V = decode(&name, &bytes)?;
            if f(&namespace, &mut value) {
                self.table.table.put(group, &stored, &encode(&value)?)?;
            } else {
                self.table.table.delete(group, &stored)?;
            }
        }
        Ok(())
    }

    fn for_each(&mut self, f: &mut dyn FnMut(&K, &N, &V)) -> Result<()> {
        let name = self.table.table.state_name().to_string();
        for entry in self.table.table.scan() {
            let (_, stored, bytes) = entry?;
            let (key, namespace): (K, N) = decode(&name, &stored)?;
            f(&key, &namespace, &decode(&name, &bytes)?);
        }
        Ok(())
    }

    fn cleanup_expired(&mut self) -> usize {
        0 // RocksDB's compaction filter drops expired entries
    }
}

pub(crate) fn list<K: Key, N: Key, V: Data>(
    backend: &mut RocksKeyedBackend,
    descriptor: &StateDescriptor,
) -> Result<Box<dyn NamespacedListState<K, N, V>>> {
    Ok(Box::new(RocksList {
        table: backend.table(descriptor)?,
        _types: PhantomData,
    }))
}

struct RocksList<K, N, V> {
    table: Typed,
    _types: Marker<(K, N, V)>,
}

impl<K: Key, N: Key, V: Data> NamespacedListState<K, N, V> for RocksList<K, N, V> {
    fn get(&mut self, key: &K, namespace: &N) -> Result<Vec<V>> {
        Ok(self.table.ns_get(key, namespace)?.unwrap_or_default())
    }
    fn add(&mut self, key: &K, namespace: &N, value: V) -> Result<()> {
        let mut list: Vec<V> = self.table.ns_get(key, namespace)?.unwrap_or_default();
        list.push(value);
        self.table.ns_put(key, namespace, &list)
    }
    fn update(&mut self, key: &K, namespace: &N, values: Vec<V>) -> Result<()> {
        self.table.ns_put(key, namespace, &values)
    }
    fn clear(&mut self, key: &K, namespace: &N) -> Result<()> {
        self.table.ns_take::<K, N, Vec<V>>(key, namespace).map(drop)
    }
    fn merge_namespaces(&mut self, key: &K, target: &N, sources: &[N]) -> Result<()> {
        let mut merged: Vec<V> = Vec::new();
        for source in sources.iter().filter(|s| *s != target) {
            merged.extend(
                self.table
                    .ns_take::<K, N, Vec<V>>(key, source)?
                    .into_iter()
                    .flatten(),
            );
        }
        if !merged.is_empty() {
            let mut list: Vec<V> = self.table.ns_get(key, target)?.unwrap_or_default();
            list.append(&mut merged);
            self.table.ns_put(key, target, &list)?;
        }
        Ok(())
    }
    fn cleanup_expired(&mut self) -> usize {
        0
    }
}

pub(crate) fn map<K: Key, N: Key, UK: Key, UV: Data>(
    backend: &mut RocksKeyedBackend,
    descriptor: &StateDescriptor,
) -> Result<Box<dyn NamespacedMapState<K, N, UK, UV>>> {
    Ok(Box::new(RocksMap {
        table: backend.table(descriptor)?,
        _types: PhantomData,
    }))
}

struct RocksMap<K, N, UK, UV> {
    table: Typed,
    _types: Marker<(K, N, UK, UV)>,
}

impl<K: Key, N: Key, UK: Key, UV: Data> NamespacedMapState<K, N, UK, UV>
    for RocksMap<K, N, UK, UV>
{
    fn get(&mut self, key: &K, namespace: &N, user_key: &UK) -> Result<Option<UV>> {
        self.table.ns_get(key, &(namespace, user_key))
    }
    fn put(&mut self, key: &K, namespace: &N, user_key: UK, value: UV) -> Result<()> {
        self.table.ns_put(key, &(namespace, &user_key), &value)
    }
    fn remove(&mut self, key: &K, namespace: &N, user_key: &UK) -> Result<()> {
        let group = self.table.encode_key(key, Some(&(namespace, user_key)))?;
        self.table.table.delete(group, &self.table.key)
    }
    fn entries(&mut self, key: &K, namespace: &N) -> Result<Vec<(UK, UV)>> {
        let (_, entries) = self.table.prefixed(key, Some(namespace))?;
        let name = self.table.table.state_name();
        entries
            .iter()
            .map(|(stored, prefix_len, bytes)| {
                Ok((decode(name, &stored[*prefix_len..])?, decode(name, bytes)?))
            })
            .collect()
    }
    fn clear(&mut self, key: &K, namespace: &N) -> Result<()> {
        let (group, entries) = self.table.prefixed(key, Some(namespace))?;
        for (stored, _, _) in entries {
            self.table.table.delete(group, &stored)?;
        }
        Ok(())
    }
    fn cleanup_expired(&mut self) -> usize {
        0
    }
}

pub(crate) fn reducing<K: Key, N: Key, V: Data>(
    backend: &mut RocksKeyedBackend,
    descriptor: &StateDescriptor,
    reduce: Reduce<V>,
) -> Result<Box<dyn NamespacedReducingState<K, N, V>>> {
    Ok(Box::new(RocksReducing {
        table: backend.table(descriptor)?,
        reduce,
        _types: PhantomData,
    }))
}

struct RocksReducing<K, N, V> {
    table: Typed,
    reduce: Reduce<V>,
    _types: Marker<(K, N)>,
}

impl<K: Key, N: Key, V: Data> NamespacedReducingState<K, N, V> for RocksReducing<K, N, V> {
    fn get(&mut self, key: &K, namespace: &N) -> Result<Option<V>> {
        self.table.ns_get(key, namespace)
    }
    fn add(&mut self, key: &K, namespace: &N, value: V) -> Result<()> {
        let new = match self.table.ns_get(key, namespace)? {
            Some(old) => (self.reduce)(old, value),
            None => value,
        };
        self.table.ns_put(key, namespace, &new)
    }
    fn clear(&mut self, key: &K, namespace: &N) -> Result<()> {
        self.table.ns_take::<K, N, V>(key, namespace).map(drop)
    }
    fn merge_namespaces(&mut self, key: &K, target: &N, sources: &[N]) -> Result<()> {
        for source in sources.iter().filter(|s| *s != target) {
            if let Some(value) = self.table.ns_take::<K, N, V>(key, source)? {
                self.add(key, target, value)?;
            }
        }
        Ok(())
    }
    fn cleanup_expired(&mut self) -> usize {
        0
    }
}

pub(crate) fn aggregating<K: Key, N: Key, T: 'static, F: AggregateFunction<T>>(
    backend: &mut RocksKeyedBackend,
    descriptor: &StateDescriptor,
    function: F,
) -> Result<Box<dyn NamespacedAggregatingState<K, N, T, F::Out>>> {
    Ok(Box::new(RocksAggregating {
        table: backend.table(descriptor)?,
        function,
        _types: PhantomData,
    }))
}

struct RocksAggregating<K, N, T, F> {
    table: Typed,
    function: F,
    _types: Marker<(K, N, T)>,
}

impl<K: Key, N: Key, T: 'static, F: AggregateFunction<T>>
    NamespacedAggregatingState<K, N, T, F::Out> for RocksAggregating<K, N, T, F>
{
    fn get(&mut self, key: &K, namespace: &N) -> Result<Option<F::Out>> {
        let acc: Option<F::Acc> = self.table.ns_get(key, namespace)?;
        Ok(acc.map(|acc| self.function.get_result(&acc)))
    }
    fn add(&mut self, key: &K, namespace: &N, value: &T) -> Result<()> {
        let mut acc: F::Acc = match self.table.ns_get(key, namespace)? {
            Some(acc) => acc,
            None => self.function.create_accumulator(),
        };
        self.function.add(&mut acc, value);
        self.table.ns_put(key, namespace, &acc)
    }
    fn clear(&mut self, key: &K, namespace: &N) -> Result<()> {
        self.table.ns_take::<K, N, F::Acc>(key, namespace).map(drop)
    }
    fn merge_namespaces(&mut self, key: &K, target: &N, sources: &[N]) -> Result<()> {
        let mut merged: Option<F::Acc> = None;
        for source in sources.iter().filter(|s| *s != target) {
            if let Some(acc) = self.table.ns_take::<K, N, F::Acc>(key, source)? {
                merged = Some(match merged {
                    Some(m) => self.function.merge(m, acc),
                    None => acc,
                });
            }
        }
        if let Some(merged) = merged {
            let acc = match self.table.ns_get::<K, N, F::Acc>(key, target)? {
                Some(old) => self.function.merge(old, merged),
                None => merged,
            };
            self.table.ns_put(key, target, &acc)?;
        }
        Ok(())
    }
    fn cleanup_expired(&mut self) -> usize {
        0
    }
}
