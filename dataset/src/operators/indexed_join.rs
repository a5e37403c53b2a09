//! The join of an iteration's step function with a loop-invariant data set (the edges of a
//! graph, for example): the invariant side is indexed once per iteration, in one hash table
//! per subtask partitioned by key the way hash edges route keys, and each superstep's rows
//! probe it. A superstep then costs time in proportion to its changing side only, as with
//! Flink's cached static path of iterations.
//!
//! # Memory
//! The index holds the whole invariant side in memory for the iteration's duration (as
//! Flink's cached hash tables do). Each subtask takes its table out of its slot when it opens
//! and puts it back when it is dropped, so the next superstep finds it; no lock is taken on
//! the record path.

use std::sync::{Arc, Mutex};

use eddy_runtime::{Error, Operator, OperatorContext, Output, Record, Result};

use crate::function::{emit_all, KeySelector};

/// One subtask's index: the rows of each key stored contiguously in `rows`, the table
/// giving each key's range (one hash probe and one sequential read per lookup).
pub(crate) struct Index<K, X> {
    ranges: hashbrown::HashMap<K, (u32, u32)>,
    rows: Vec<X>,
}

impl<K: std::hash::Hash + Eq, X> Index<K, X> {
    /// Indexes `rows` by `key`.
    pub(crate) fn build(rows: Vec<X>, key: impl Fn(&X) -> K) -> Self {
        let mut counts: hashbrown::HashMap<K, (u32, u32)> = hashbrown::HashMap::new();
        for row in &rows {
            counts.entry(key(row)).or_default().1 += 1;
        }
        let mut next = 0u32;
        for range in counts.values_mut() {
            range.0 = next;
            next += range.1;
            range.1 = 0;
        }
        let mut slots: Vec<Option<X>> = (0..rows.len()).map(|_| None).collect();
        for row in rows {
            if let Some(range) = counts.get_mut(&key(&row)) {
                slots[(range.0 + range.1) as usize] = Some(row);
                range.1 += 1;
            }
        }
        Index {
            ranges: counts,
            rows: slots.into_iter().flatten().collect(),
        }
    }

    fn get(&self, key: &K) -> Option<&[X]> {
        let &(start, len) = self.ranges.get(key)?;
        self.rows.get(start as usize..(start + len) as usize)
    }
}

/// One slot per subtask, each holding that subtask's index of the indexed side.
pub(crate) type IndexTables<K, X> = Arc<Vec<Mutex<Option<Index<K, X>>>>>;

/// Probes this subtask's table of the index with every record.
pub(crate) struct IndexedJoin<P, X, K, G> {
    tables: IndexTables<K, X>,
    subtask: usize,
    table: Option<Index<K, X>>,
    key: KeySelector<P, K>,
    function: G,
    /// Emits `function(row, None)` for probe rows without a match (an outer probe side).
    keep_unmatched: bool,
}

impl<P, X, K, G> IndexedJoin<P, X, K, G> {
    pub(crate) fn new(
        tables: IndexTables<K, X>,
        key: KeySelector<P, K>,
        function: G,
        keep_unmatched: bool,
    ) -> Self {
        IndexedJoin {
            tables,
            subtask: 0,
            table: None,
            key,
            function,
            keep_unmatched,
        }
    }
}

impl<P, X, K, O, It, G> Operator<P, O> for IndexedJoin<P, X, K, G>
where
    P: Clone + Send,
    X: Clone + Send,
    K: std::hash::Hash + Eq + Send,
    It: IntoIterator<Item = O>,
    G: FnMut(P, Option<X>) -> It + Send,
{
    fn open(&mut self, ctx: &mut OperatorContext<'_>) -> Result<()> {
        self.subtask = ctx.subtask as usize;
        let slot = self
            .tables
            .get(self.subtask)
            .ok_or_else(|| Error::Internal("indexed join without a table".into()))?;
        let table = slot
            .lock()
            .map_err(|_| Error::Internal("index slot poisoned".into()))?
            .take();
        self.table =
            Some(table.ok_or_else(|| {
                Error::Internal("index table taken twice in one superstep".into())
            })?);
        Ok(())
    }

    #[inline]
    fn process_record(&mut self, record: Record<P>, out: &mut dyn Output<O>) -> Result<()> {
        let Some(table) = self.table.as_ref() else {
            return Err(Error::Internal("indexed join used before open".into()));
        };
        match table.get(&(self.key)(&record.value)) {
            Some(rows) => {
                for x in rows {
                    emit_all(out, (self.function)(record.value.clone(), Some(x.clone())))?;
                }
                Ok(())
            }
            None if self.keep_unmatched => emit_all(out, (self.function)(record.value, None)),
            None => Ok(()),
        }
    }
}

impl<P, X, K, G> Drop for IndexedJoin<P, X, K, G> {
    fn drop(&mut self) {
        // Hand the table back for the next superstep.
        if let (Some(table), Some(slot)) = (self.table.take(), self.tables.get(self.subtask)) {
            if let Ok(mut slot) = slot.lock() {
                *slot = Some(table);
            }
        }
    }
}
