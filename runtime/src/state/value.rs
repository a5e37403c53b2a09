//! Value state: one value per key.

use super::{HeapStateBackend, KeyRef, StateBackend, StateDescriptor};
use crate::data::{Data, Key};
use crate::{Error, Result};

/// One value per key.
pub trait ValueState<K, V>: Send {
    /// The value of `key`, if any (a copy).
    fn get(&self, key: &K) -> Result<Option<V>>;

    /// Sets the value of `key`.
    fn put(&mut self, key: &K, value: V) -> Result<()>;

    /// Removes the value of `key`.
    fn clear(&mut self, key: &K) -> Result<()>;

    /// Replaces the value of `key` with `f(old)`, calling `f` exactly once, and returns the
    /// new value. The read-modify-write of every keyed aggregation: the heap backend moves the
    /// old value into `f` without copying it.
    fn upsert(&mut self, key: &K, f: &mut dyn FnMut(Option<V>) -> V) -> Result<&V>;

    /// Folds `value` into the state of its own key (Flink's reducing state): the new value is
    /// `f(old, value)`, or `value` when the key had none. The key is read from the value, so
    /// a key that is a part of the value is never copied unless it is new.
    fn reduce(
        &mut self,
        value: V,
        key_of: &dyn for<'a> Fn(&'a V) -> KeyRef<'a, K>,
        f: &dyn Fn(V, V) -> V,
    ) -> Result<&V>;

    /// Removes and returns every entry, in no particular order.
    fn drain(&mut self) -> Box<dyn Iterator<Item = (K, V)> + '_>;

    /// Number of keys with a value.
    fn len(&self) -> usize;

    /// Whether no key has a value.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
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
    let name = backend.name();
    if backend
        .as_any_mut()
        .downcast_mut::<HeapStateBackend>()
        .is_some()
    {
        return Ok(Box::new(HeapValueState::<K, V> {
            map: hashbrown::HashMap::default(),
        }));
    }
    Err(Error::Internal(format!(
        "state backend '{name}' cannot hold value state"
    )))
}

/// Value state on the heap. A slot holds `None` only while `upsert` has moved its value out.
///
/// The table uses hashbrown's default hasher (foldhash): Fx, which routing uses for its
/// stability, spreads string keys too poorly over the table's control bytes (measured: a
/// quarter of wordcount's time went to comparing keys of colliding slots).
struct HeapValueState<K, V> {
    map: hashbrown::HashMap<K, Option<V>>,
}

impl<K: Key, V: Data> ValueState<K, V> for HeapValueState<K, V> {
    fn get(&self, key: &K) -> Result<Option<V>> {
        Ok(self.map.get(key).and_then(|v| v.clone()))
    }

    fn put(&mut self, key: &K, value: V) -> Result<()> {
        match self.map.get_mut(key) {
            Some(slot) => *slot = Some(value),
            None => {
                self.map.insert(key.clone(), Some(value));
            }
        }
        Ok(())
    }

    fn clear(&mut self, key: &K) -> Result<()> {
        self.map.remove(key);
        Ok(())
    }

    fn upsert(&mut self, key: &K, f: &mut dyn FnMut(Option<V>) -> V) -> Result<&V> {
        // One hash lookup when the key exists (the common case); a second only on insert.
        if !self.map.contains_key(key) {
            let value = f(None);
            let slot = self.map.entry(key.clone()).insert(Some(value)).into_mut();
            return slot
                .as_ref()
                .ok_or_else(|| Error::Internal("empty state slot".into()));
        }
        let slot = self
            .map
            .get_mut(key)
            .ok_or_else(|| Error::Internal("state slot vanished".into()))?;
        let old = slot.take();
        *slot = Some(f(old));
        slot.as_ref()
            .ok_or_else(|| Error::Internal("empty state slot".into()))
    }

    fn reduce(
        &mut self,
        value: V,
        key_of: &dyn for<'a> Fn(&'a V) -> KeyRef<'a, K>,
        f: &dyn Fn(V, V) -> V,
    ) -> Result<&V> {
        let key = key_of(&value);
        // Two lookups on a hit would cost more than this: `get_mut` ends the key's borrow of
        // `value` before `value` moves, and on a miss the key is made owned once.
        if self.map.contains_key(&*key) {
            let slot = self
                .map
                .get_mut(&*key)
                .ok_or_else(|| Error::Internal("state slot vanished".into()))?;
            let new = match slot.take() {
                Some(old) => f(old, value),
                None => value,
            };
            return Ok(slot.insert(new));
        }
        let key = key.into_owned();
        let slot = self.map.entry(key).insert(Some(value)).into_mut();
        slot.as_ref()
            .ok_or_else(|| Error::Internal("empty state slot".into()))
    }

    fn drain(&mut self) -> Box<dyn Iterator<Item = (K, V)> + '_> {
        Box::new(self.map.drain().filter_map(|(k, v)| v.map(|v| (k, v))))
    }

    fn len(&self) -> usize {
        self.map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        s.put(&2, "x".into()).unwrap();
        assert_eq!(s.get(&2).unwrap().as_deref(), Some("x"));
        s.clear(&2).unwrap();
        assert_eq!(s.get(&2).unwrap(), None);
        assert_eq!(s.len(), 1);
        let all: Vec<_> = s.drain().collect();
        assert_eq!(all, vec![(1, "ab".to_string())]);
        assert!(s.is_empty());
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
}
