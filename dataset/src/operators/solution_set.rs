//! The solution set of a delta iteration: one keyed hash table per subtask, joined by key
//! with [`SolutionSetJoin`] and updated in place between supersteps by [`apply_delta`].
//!
//! The solution set is partitioned by key the way hash edges route keys (key groups), one
//! hash table per subtask, so the records that reach subtask `i` through a hash edge on the
//! same key find their entries in table `i`. During a superstep the tables are read-only:
//! each join subtask holds a reference to its table, without a lock on the record path. At
//! the superstep barrier (no operator instance is left) the superstep's delta, collected by
//! key at the same subtasks, is inserted into the tables in place.
//!
//! # Memory
//! The whole solution set stays in memory (as Flink's default, the `CompactingHashTable`
//! without spilling): one entry per key.

use std::sync::{Arc, Mutex};

use eddy_runtime::{Error, Operator, OperatorContext, Output, Record, Result};

use crate::function::{emit_all, KeySelector};

/// One hash table per subtask: the solution set of a delta iteration.
pub(crate) type SolutionTables<K, S> = Arc<Vec<Mutex<Arc<hashbrown::HashMap<K, S>>>>>;

/// Inserts each subtask's part of a superstep's delta into its table, in place, the
/// partitions in parallel (called at the superstep barrier, when no join holds a table).
pub(crate) fn apply_delta<K, S>(
    tables: &SolutionTables<K, S>,
    delta: Vec<Vec<S>>,
    key: &KeySelector<S, K>,
) where
    K: std::hash::Hash + Eq + Clone + Send + Sync,
    S: Clone + Send + Sync,
{
    let apply = |slot: &Mutex<Arc<hashbrown::HashMap<K, S>>>, part: Vec<S>| {
        let mut guard = slot.lock().unwrap_or_else(|p| p.into_inner());
        // Every join of the superstep has dropped its reference: this is in place (the clone
        // is only a fallback).
        let table = Arc::make_mut(&mut guard);
        for s in part {
            table.insert(key(&s), s);
        }
    };
    let big = delta.iter().filter(|part| part.len() >= 4096).count();
    if big < 2 {
        for (slot, part) in tables.iter().zip(delta) {
            apply(slot, part);
        }
        return;
    }
    std::thread::scope(|scope| {
        for (slot, part) in tables.iter().zip(delta) {
            scope.spawn(move || apply(slot, part));
        }
    });
}

/// Looks up every record's key in this subtask's solution-set table.
pub(crate) struct SolutionSetJoin<X, K, S, F> {
    tables: SolutionTables<K, S>,
    table: Arc<hashbrown::HashMap<K, S>>,
    key: KeySelector<X, K>,
    function: F,
}

impl<X, K, S, F> SolutionSetJoin<X, K, S, F> {
    pub(crate) fn new(tables: SolutionTables<K, S>, key: KeySelector<X, K>, function: F) -> Self {
        SolutionSetJoin {
            tables,
            table: Arc::new(hashbrown::HashMap::new()),
            key,
            function,
        }
    }
}

impl<X, K, S, O, It, F> Operator<X, O> for SolutionSetJoin<X, K, S, F>
where
    X: Send,
    K: std::hash::Hash + Eq + Send + Sync,
    S: Send + Sync,
    It: IntoIterator<Item = O>,
    F: FnMut(X, Option<&S>) -> It + Send,
{
    fn open(&mut self, ctx: &mut OperatorContext<'_>) -> Result<()> {
        let slot = self.tables.get(ctx.subtask as usize).ok_or_else(|| {
            Error::Internal(
                "solution-set join runs at another parallelism than its solution set".into(),
            )
        })?;
        self.table = slot.lock().unwrap_or_else(|p| p.into_inner()).clone();
        Ok(())
    }

    #[inline]
    fn process_record(&mut self, record: Record<X>, out: &mut dyn Output<O>) -> Result<()> {
        let entry = self.table.get(&(self.key)(&record.value));
        emit_all(out, (self.function)(record.value, entry))
    }
}
