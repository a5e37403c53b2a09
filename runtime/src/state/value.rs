//! Value state: one value per key.

use super::heap::{heap_backend, lock, SharedTable};
use super::{KeyRef, StateBackend, StateDescriptor};
use crate::data::{Data, Key};
use crate::{Error, Result};

/// One value per key.
pub trait ValueState<K, V>: Send {
    /// The value of `key`, if any (a copy).
    fn get(&mut self, key: &K) -> Result<Option<V>>;

    /// Sets the value of `key`.
    fn put(&mut self, key: &K, value: V) -> Result<()>;

    /// Removes the value of `key`.
    fn clear(&mut self, key: &K) -> Result<()>;

    /// Replaces the value of `key` with `f(old)`, calling `f` exactly once, and returns a
    /// copy of the new value. The heap backend moves the old value into `f` without copying it.
    fn upsert(&mut self, key: &K, f: &mut dyn FnMut(Option<V>) -> V) -> Result<V>;

    /// Changes the value of `key` in place with `f`, creating it with `init` first if absent.
    /// The heap backend touches the value where it lies: nothing is copied or moved.
    fn modify(
        &mut self,
        key: &K,
        init: &mut dyn FnMut() -> V,
        f: &mut dyn FnMut(&mut V),
    ) -> Result<()>;

    /// Folds `value` into the state of its own key (the hot path of keyed reduce): the new
    /// value is `f(old, value)`, or `value` when the key had none. The key is read from the
    /// value, so a key that is a part of the value is never copied unless it is new.
    fn reduce(
        &mut self,
        value: V,
        key_of: &dyn for<'a> Fn(&'a V) -> KeyRef<'a, K>,
        f: &dyn Fn(V, V) -> V,
    ) -> Result<()>;

    /// [`reduce`](Self::reduce), returning a copy of the new value (to emit it).
    fn reduce_get(
        &mut self,
        value: V,
        key_of: &dyn for<'a> Fn(&'a V) -> KeyRef<'a, K>,
        f: &dyn Fn(V, V) -> V,
    ) -> Result<V>;

    /// Removes and returns every live entry, in no particular order.
    fn drain(&mut self) -> Box<dyn Iterator<Item = (K, V)> + '_>;

    /// Number of keys with a value (expired ones not yet cleaned up included).
    fn len(&self) -> usize;

    /// Whether no key has a value.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Removes expired entries (with TTL); returns how many.
    fn cleanup_expired(&mut self) -> usize;
}

/// Creates value state `descriptor` in `backend`.
///
/// # Errors
/// [`Error::InvalidGraph`] when the operator already declared a state of that name;
/// [`Error::Internal`] for a backend this function does not know.
pub fn value_state<K: Key, V: Data>(
    backend: &mut dyn StateBackend,
    descriptor: StateDescriptor,
) -> Result<Box<dyn ValueState<K, V>>> {
    backend.register(&descriptor)?;
    #[cfg(feature = "rocksdb")]
    if let Some(rocks) = backend
        .as_any_mut()
        .downcast_mut::<super::rocks_keyed::RocksKeyedBackend>()
    {
        return super::rocks_keyed::rocks_value_state(rocks, &descriptor);
    }
    let table = heap_backend(backend)?.table(&descriptor)?;
    Ok(Box::new(HeapValueState { table }))
}

/// Value state on the heap. A slot holds `None` only while a value is moved out of it.
struct HeapValueState<K, V> {
    table: SharedTable<K, Option<V>>,
}

fn vanished() -> Error {
    Error::Internal("state slot vanished".into())
}

impl<K: Key, V: Data> ValueState<K, V> for HeapValueState<K, V> {
    fn get(&mut self, key: &K) -> Result<Option<V>> {
        Ok(lock(&self.table).get(key).and_then(|v| v.clone()))
    }

    fn put(&mut self, key: &K, value: V) -> Result<()> {
        *lock(&self.table).write(key, || None) = Some(value);
        Ok(())
    }

    fn clear(&mut self, key: &K) -> Result<()> {
        lock(&self.table).remove(key);
        Ok(())
    }

    fn upsert(&mut self, key: &K, f: &mut dyn FnMut(Option<V>) -> V) -> Result<V> {
        let mut table = lock(&self.table);
        let slot = table.write(key, || None);
        let new = f(slot.take());
        Ok(slot.insert(new).clone())
    }

    fn modify(
        &mut self,
        key: &K,
        init: &mut dyn FnMut() -> V,
        f: &mut dyn FnMut(&mut V),
    ) -> Result<()> {
        let mut table = lock(&self.table);
        let slot = table.write(key, || None);
        f(slot.get_or_insert_with(init));
        Ok(())
    }

    fn reduce(
        &mut self,
        value: V,
        key_of: &dyn for<'a> Fn(&'a V) -> KeyRef<'a, K>,
        f: &dyn Fn(V, V) -> V,
    ) -> Result<()> {
        let mut table = lock(&self.table);
        table
            .fold(value, key_of, f)
            .ok_or_else(vanished)
            .map(|_| ())
    }

    fn reduce_get(
        &mut self,
        value: V,
        key_of: &dyn for<'a> Fn(&'a V) -> KeyRef<'a, K>,
        f: &dyn Fn(V, V) -> V,
    ) -> Result<V> {
        let mut table = lock(&self.table);
        table.fold(value, key_of, f).cloned().ok_or_else(vanished)
    }

    fn drain(&mut self) -> Box<dyn Iterator<Item = (K, V)> + '_> {
        let drained: Vec<(K, V)> = lock(&self.table)
            .drain()
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .collect();
        Box::new(drained.into_iter())
    }

    fn len(&self) -> usize {
        lock(&self.table).len()
    }

    fn cleanup_expired(&mut self) -> usize {
        lock(&self.table).cleanup_expired()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{HeapStateBackend, StateTtlConfig};
    use crate::time::ManualClock;
    use std::sync::Arc;

    #[test]
    fn upsert_get_put_clear_drain() {
        let mut backend = HeapStateBackend::default();
        let mut s = value_state::<u32, String>(&mut backend, StateDescriptor::new("s")).unwrap();
        assert_eq!(
            s.upsert(&1, &mut |o| o.unwrap_or_default() + "a").unwrap(),
            "a"
        );
        assert_eq!(
            s.upsert(&1, &mut |o| o.unwrap_or_default() + "b").unwrap(),
            "ab"
        );
        s.modify(&1, &mut String::new, &mut |v| v.push('c'))
            .unwrap();
        s.modify(&3, &mut || "new".into(), &mut |v| v.push('!'))
            .unwrap();
        assert_eq!(s.get(&3).unwrap().as_deref(), Some("new!"));
        s.clear(&3).unwrap();
        s.put(&2, "x".into()).unwrap();
        assert_eq!(s.get(&2).unwrap().as_deref(), Some("x"));
        s.clear(&2).unwrap();
        assert_eq!(s.get(&2).unwrap(), None);
        assert_eq!(s.len(), 1);
        let all: Vec<_> = s.drain().collect();
        assert_eq!(all, vec![(1, "abc".to_string())]);
        assert!(s.is_empty());
    }

    #[test]
    fn reduce_folds_by_the_key_read_from_the_value() {
        let mut backend = HeapStateBackend::default();
        let mut s =
            value_state::<String, (String, u32)>(&mut backend, StateDescriptor::new("r")).unwrap();
        fn key(v: &(String, u32)) -> KeyRef<'_, String> {
            KeyRef::Borrowed(&v.0)
        }
        let add = |a: (String, u32), b: (String, u32)| (a.0, a.1 + b.1);
        for (w, n) in [("a", 1), ("b", 2), ("a", 3)] {
            s.reduce((w.to_string(), n), &key, &add).unwrap();
        }
        assert_eq!(s.get(&"a".to_string()).unwrap(), Some(("a".to_string(), 4)));
    }

    #[test]
    fn duplicate_state_names_are_rejected() {
        let mut backend = HeapStateBackend::default();
        value_state::<u32, u32>(&mut backend, StateDescriptor::new("s")).unwrap();
        let err = value_state::<u32, u32>(&mut backend, StateDescriptor::new("s"))
            .err()
            .unwrap();
        assert!(err.to_string().contains("declared twice"), "{err}");
    }

    #[test]
    fn ttl_expires_on_access_and_in_the_background() {
        let clock = ManualClock::new(0);
        let mut backend = HeapStateBackend::new(Arc::new(clock.clone()));
        let descriptor = StateDescriptor::new("t").with_ttl(StateTtlConfig::new(100));
        let mut s = value_state::<u32, u32>(&mut backend, descriptor).unwrap();
        s.put(&1, 10).unwrap();
        s.put(&2, 20).unwrap();
        clock.advance(60);
        s.put(&2, 21).unwrap(); // a write refreshes key 2
        clock.advance(40); // key 1 is now 100 ms old: expired
        assert_eq!(s.get(&1).unwrap(), None);
        assert_eq!(s.get(&2).unwrap(), Some(21));
        assert_eq!(s.len(), 1, "the expired entry was removed on access");
        clock.advance(60);
        assert_eq!(s.cleanup_expired(), 1);
        assert!(s.is_empty());
        // An expired value does not feed a fold: the fold starts afresh.
        s.upsert(&3, &mut |o| o.unwrap_or(0) + 1).unwrap();
        clock.advance(100);
        assert_eq!(s.upsert(&3, &mut |o| o.unwrap_or(0) + 1).unwrap(), 1);
    }

    #[test]
    fn expired_entries_are_swept_in_the_background_by_other_keys_accesses() {
        let clock = ManualClock::new(0);
        let mut backend = HeapStateBackend::new(Arc::new(clock.clone()));
        let descriptor = StateDescriptor::new("t").with_ttl(StateTtlConfig::new(10));
        let mut s = value_state::<u32, u32>(&mut backend, descriptor).unwrap();
        for k in 0..100 {
            s.put(&k, k).unwrap();
        }
        clock.advance(10);
        // Never touch keys 0..100 again: accesses to another key sweep them out.
        for _ in 0..2000 {
            s.put(&1000, 1).unwrap();
        }
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn ttl_refreshed_by_reads_when_configured() {
        let clock = ManualClock::new(0);
        let mut backend = HeapStateBackend::new(Arc::new(clock.clone()));
        let descriptor =
            StateDescriptor::new("t").with_ttl(StateTtlConfig::new(100).refreshed_on_read());
        let mut s = value_state::<u32, u32>(&mut backend, descriptor).unwrap();
        s.put(&1, 10).unwrap();
        for _ in 0..5 {
            clock.advance(90);
            assert_eq!(s.get(&1).unwrap(), Some(10));
        }
        clock.advance(100);
        assert_eq!(s.get(&1).unwrap(), None);
    }
}
