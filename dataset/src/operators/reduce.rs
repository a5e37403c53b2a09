//! `reduce` on a grouping (and on a whole data set, with one group): a hash aggregation.
//!
//! The same operator runs twice: as the combiner beside each producer (before the exchange,
//! so only one record per key and producer crosses it), and as the final reduce after the
//! hash exchange. Both emit their aggregates when their input ends.
//!
//! # Memory
//! One aggregate per distinct key of the subtask's input, in a hash table. The combiner's
//! table is bounded: at [`COMBINER_ENTRIES`] keys it emits its aggregates and starts over,
//! which keeps it small enough to stay in cache (a combiner only needs to shrink the data,
//! not to finish the job).

use std::sync::Arc;

use eddy_runtime::{Operator, Output, Record, Result};

/// Keys a combiner holds before it emits its partial aggregates.
pub(crate) const COMBINER_ENTRIES: usize = 1 << 14;

/// Folds the records of each key with the reduce function.
pub(crate) struct Reduce<T, K, F> {
    key: Arc<dyn Fn(&T) -> K + Send + Sync>,
    function: F,
    table: hashbrown::HashMap<K, Option<T>>,
    /// For a combiner: emit everything once the table holds this many keys.
    flush_at: Option<usize>,
}

impl<T, K, F> Reduce<T, K, F> {
    /// The final reduce: one aggregate per key, emitted at the end.
    pub(crate) fn new(key: Arc<dyn Fn(&T) -> K + Send + Sync>, function: F) -> Self {
        Reduce {
            key,
            function,
            table: hashbrown::HashMap::new(),
            flush_at: None,
        }
    }

    /// A combiner: partial aggregates, emitted whenever the table is full and at the end.
    pub(crate) fn combiner(key: Arc<dyn Fn(&T) -> K + Send + Sync>, function: F) -> Self {
        Reduce {
            flush_at: Some(COMBINER_ENTRIES),
            ..Self::new(key, function)
        }
    }
}

impl<T, K, F> Operator<T, T> for Reduce<T, K, F>
where
    T: Send,
    K: std::hash::Hash + Eq + Send,
    F: FnMut(T, T) -> T + Send,
{
    #[inline]
    fn process_record(&mut self, record: Record<T>, out: &mut dyn Output<T>) -> Result<()> {
        let slot = self.table.entry((self.key)(&record.value)).or_insert(None);
        *slot = Some(match slot.take() {
            Some(acc) => (self.function)(acc, record.value),
            None => record.value,
        });
        if self.flush_at.is_some_and(|n| self.table.len() >= n) {
            self.finish(out)?;
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut dyn Output<T>) -> Result<()> {
        for (_, value) in self.table.drain() {
            if let Some(value) = value {
                out.collect(Record::new(value))?;
            }
        }
        Ok(())
    }
}
