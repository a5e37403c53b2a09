//! Aggregating state: an accumulator per key, fed by an [`AggregateFunction`].

use super::heap::{heap_backend, lock, SharedTable};
use super::{StateBackend, StateDescriptor};
use crate::data::{Data, Key};
use crate::Result;

/// An incremental aggregation (Flink's `AggregateFunction`): values are folded into an
/// accumulator as they arrive, so state holds one accumulator, never the values.
pub trait AggregateFunction<T>: Clone + Send + Sync + 'static {
    /// The running state of one aggregate.
    type Acc: Data;
    /// What the aggregate yields.
    type Out: Data;
    /// A fresh accumulator.
    fn create_accumulator(&self) -> Self::Acc;
    /// Folds one value in.
    fn add(&self, acc: &mut Self::Acc, value: &T);
    /// The result for the accumulator.
    fn get_result(&self, acc: &Self::Acc) -> Self::Out;
    /// Combines two accumulators (merging windows, combining partial aggregates).
    fn merge(&self, a: Self::Acc, b: Self::Acc) -> Self::Acc;
}

/// An accumulator per key; [`get`](Self::get) yields the aggregate.
pub trait AggregatingState<K, T, O>: Send {
    /// The aggregate of `key`, if anything was added.
    fn get(&mut self, key: &K) -> Result<Option<O>>;
    /// Folds `value` in.
    fn add(&mut self, key: &K, value: &T) -> Result<()>;
    /// Removes the accumulator.
    fn clear(&mut self, key: &K) -> Result<()>;
    /// Removes expired accumulators (with TTL); returns how many.
    fn cleanup_expired(&mut self) -> usize;
}

/// Creates aggregating state `descriptor` in `backend`, aggregating with `function`.
///
/// # Errors
/// As [`super::value_state`].
pub fn aggregating_state<K: Key, T: 'static, F: AggregateFunction<T>>(
    backend: &mut dyn StateBackend,
    descriptor: StateDescriptor,
    function: F,
) -> Result<Box<dyn AggregatingState<K, T, F::Out>>> {
    backend.register(&descriptor)?;
    #[cfg(feature = "rocksdb")]
    if let Some(rocks) = backend
        .as_any_mut()
        .downcast_mut::<super::rocks_keyed::RocksKeyedBackend>()
    {
        return super::rocks_keyed::rocks_aggregating_state(rocks, &descriptor, function);
    }
    let table = heap_backend(backend)?.table(&descriptor)?;
    Ok(Box::new(HeapAggregatingState { table, function }))
}

struct HeapAggregatingState<K, F: AggregateFunction<T>, T> {
    table: SharedTable<K, F::Acc>,
    function: F,
}

impl<K: Key, T: 'static, F: AggregateFunction<T>> AggregatingState<K, T, F::Out>
    for HeapAggregatingState<K, F, T>
{
    fn get(&mut self, key: &K) -> Result<Option<F::Out>> {
        let function = &self.function;
        Ok(lock(&self.table)
            .get(key)
            .map(|acc| function.get_result(acc)))
    }
    fn add(&mut self, key: &K, value: &T) -> Result<()> {
        let function = &self.function;
        let mut table = lock(&self.table);
        let acc = table.write(key, || function.create_accumulator());
        function.add(acc, value);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{list_state, map_state, reducing_state, HeapStateBackend, StateTtlConfig};
    use crate::time::ManualClock;
    use std::sync::Arc;

    #[derive(Clone)]
    struct Mean;
    impl AggregateFunction<f64> for Mean {
        type Acc = (f64, u32);
        type Out = f64;
        fn create_accumulator(&self) -> (f64, u32) {
            (0.0, 0)
        }
        fn add(&self, acc: &mut (f64, u32), v: &f64) {
            acc.0 += v;
            acc.1 += 1;
        }
        fn get_result(&self, acc: &(f64, u32)) -> f64 {
            acc.0 / acc.1 as f64
        }
        fn merge(&self, a: (f64, u32), b: (f64, u32)) -> (f64, u32) {
            (a.0 + b.0, a.1 + b.1)
        }
    }

    #[test]
    fn every_primitive_keeps_keys_apart() {
        let mut backend = HeapStateBackend::default();
        let mut list = list_state::<u8, u32>(&mut backend, StateDescriptor::new("l")).unwrap();
        let mut map =
            map_state::<u8, String, u32>(&mut backend, StateDescriptor::new("m")).unwrap();
        let mut sum =
            reducing_state::<u8, u32>(&mut backend, StateDescriptor::new("r"), |a, b| a + b)
                .unwrap();
        let mut mean =
            aggregating_state::<u8, f64, _>(&mut backend, StateDescriptor::new("a"), Mean).unwrap();
        for (k, v) in [(1u8, 10u32), (2, 20), (1, 30)] {
            list.add(&k, v).unwrap();
            map.put(&k, format!("v{v}"), v).unwrap();
            sum.add(&k, v).unwrap();
            mean.add(&k, &(v as f64)).unwrap();
        }
        assert_eq!(list.get(&1).unwrap(), &[10, 30]);
        assert_eq!(list.get(&3).unwrap(), &[] as &[u32]);
        assert_eq!(map.get(&1, &"v30".to_string()).unwrap(), Some(30));
        assert!(!map.contains(&2, &"v30".to_string()).unwrap());
        let mut entries = map.entries(&1).unwrap();
        entries.sort();
        assert_eq!(entries, [("v10".to_string(), 10), ("v30".to_string(), 30)]);
        map.remove(&1, &"v10".to_string()).unwrap();
        assert_eq!(map.entries(&1).unwrap().len(), 1);
        assert_eq!(sum.get(&1).unwrap(), Some(40));
        assert_eq!(mean.get(&1).unwrap(), Some(20.0));
        assert_eq!(mean.get(&2).unwrap(), Some(20.0));
        list.update(&1, vec![7]).unwrap();
        assert_eq!(list.get(&1).unwrap(), &[7]);
        list.clear(&1).unwrap();
        sum.clear(&1).unwrap();
        mean.clear(&2).unwrap();
        assert!(
            list.get(&1).unwrap().is_empty()
                && sum.get(&1).unwrap().is_none()
                && mean.get(&2).unwrap().is_none()
        );
    }

    #[test]
    fn ttl_applies_to_every_primitive() {
        let clock = ManualClock::new(0);
        let mut backend = HeapStateBackend::new(Arc::new(clock.clone()));
        let ttl = StateTtlConfig::new(50);
        let mut list =
            list_state::<u8, u32>(&mut backend, StateDescriptor::new("l").with_ttl(ttl)).unwrap();
        let mut map =
            map_state::<u8, u8, u8>(&mut backend, StateDescriptor::new("m").with_ttl(ttl)).unwrap();
        let mut sum = reducing_state::<u8, u32>(
            &mut backend,
            StateDescriptor::new("r").with_ttl(ttl),
            |a, b| a + b,
        )
        .unwrap();
        let mut mean = aggregating_state::<u8, f64, _>(
            &mut backend,
            StateDescriptor::new("a").with_ttl(ttl),
            Mean,
        )
        .unwrap();
        list.add(&1, 1).unwrap();
        map.put(&1, 1, 1).unwrap();
        sum.add(&1, 1).unwrap();
        mean.add(&1, &1.0).unwrap();
        clock.advance(49);
        assert_eq!(list.get(&1).unwrap(), &[1]);
        clock.advance(1);
        assert!(list.get(&1).unwrap().is_empty());
        assert_eq!(map.get(&1, &1).unwrap(), None);
        assert_eq!(sum.get(&1).unwrap(), None);
        assert_eq!(mean.get(&1).unwrap(), None);
        sum.add(&1, 5).unwrap();
        assert_eq!(
            sum.get(&1).unwrap(),
            Some(5),
            "an expired value does not feed the fold"
        );
    }
}
