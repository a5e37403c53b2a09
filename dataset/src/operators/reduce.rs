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
//! not to finish the job). A combiner whose table filled up twice in a row with almost one
//! key per record (it shrank the data by less than a fifth) stops combining and passes
//! records on: on keys that rarely repeat nearby (the labels sent to the neighbours of a
//! random graph) it would only add a hash table's cost.

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
    /// Records folded into the table since it was last emitted.
    seen: usize,
    /// Consecutive full tables that shrank their records by less than a fifth.
    poor: u8,
    /// A combiner that stopped combining: records pass straight on.
    pass_through: bool,
}

/// Full tables in a row that barely combined before a combiner passes records on.
const POOR_TABLES: u8 = 2;

impl<T, K, F> Reduce<T, K, F> {
    /// The final reduce: one aggregate per key, emitted at the end.
    pub(crate) fn new(key: Arc<dyn Fn(&T) -> K + Send + Sync>, function: F) -> Self {
        Reduce {
            key,
            function,
            table: hashbrown::HashMap::new(),
            flush_at: None,
            seen: 0,
            poor: 0,
            pass_through: false,
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
        if self.pass_through {
            return out.collect(record);
        }
        self.seen += 1;
        let slot = self.table.entry((self.key)(&record.value)).or_insert(None);
        *slot = Some(match slot.take() {
            Some(acc) => (self.function)(acc, record.value),
            None => record.value,
        });
        if self.flush_at.is_some_and(|n| self.table.len() >= n) {
            // Fewer than 5 records per 4 keys: the table shrank the data by under a fifth.
            if self.seen * 4 < self.table.len() * 5 {
                self.poor += 1;
                self.pass_through = self.poor >= POOR_TABLES;
            } else {
                self.poor = 0;
            }
            self.seen = 0;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression guard for the pass-through: a combiner fed keys that never repeat stops
    /// combining, and what it emits still reduces to the right totals downstream.
    #[test]
    fn a_combiner_that_cannot_combine_passes_records_on_without_losing_any() {
        let key: crate::function::KeySelector<(u64, u64), u64> = Arc::new(|r| r.0);
        let mut combiner = Reduce::combiner(key, |a: (u64, u64), b: (u64, u64)| (a.0, a.1 + b.1));
        let mut out: Vec<Record<(u64, u64)>> = Vec::new();
        let distinct = 3 * COMBINER_ENTRIES as u64;
        for k in 0..distinct {
            combiner
                .process_record(Record::new((k, 1)), &mut out)
                .unwrap();
        }
        assert!(combiner.pass_through, "two full tables without repeats");
        for k in 0..distinct {
            combiner
                .process_record(Record::new((k, 2)), &mut out)
                .unwrap();
        }
        combiner.finish(&mut out).unwrap();
        let mut totals = vec![0u64; distinct as usize];
        for r in out {
            totals[r.value.0 as usize] += r.value.1;
        }
        assert!(totals.iter().all(|t| *t == 3));
    }

    #[test]
    fn a_combiner_that_combines_keeps_combining() {
        let key: crate::function::KeySelector<(u64, u64), u64> = Arc::new(|r| r.0);
        let mut combiner = Reduce::combiner(key, |a: (u64, u64), b: (u64, u64)| (a.0, a.1 + b.1));
        let mut out: Vec<Record<(u64, u64)>> = Vec::new();
        let keys = COMBINER_ENTRIES as u64;
        for round in 0..4 {
            for k in 0..keys {
                combiner
                    .process_record(Record::new((k + round * keys, 1)), &mut out)
                    .unwrap();
                combiner
                    .process_record(Record::new((k + round * keys, 1)), &mut out)
                    .unwrap();
            }
        }
        assert!(!combiner.pass_through);
        combiner.finish(&mut out).unwrap();
        // Nearly one record per key (a table boundary may split a key's pair).
        assert!((out.len() as u64) < 4 * keys + 8, "{} records", out.len());
        let mut totals = vec![0u64; 4 * keys as usize];
        for r in out {
            totals[r.value.0 as usize] += r.value.1;
        }
        assert!(totals.iter().all(|t| *t == 2));
    }
}
