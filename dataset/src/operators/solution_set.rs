//! The solution-set join of a delta iteration: each record looks up its key in the
//! solution set's hash table.
//!
//! The solution set is partitioned by key the way hash edges route keys (key groups), one
//! hash table per subtask, so the records that reach subtask `i` through a hash edge on the
//! same key find their entries in table `i`. The tables are read-only during a superstep;
//! the superstep's delta is merged into them after it (see [`crate::iteration`]).

use std::sync::Arc;

use eddy_runtime::{Error, Operator, OperatorContext, Output, Record, Result};

use crate::function::{emit_all, KeySelector};

/// One hash table per subtask: the solution set of a delta iteration.
pub(crate) type SolutionTables<K, S> = Arc<Vec<hashbrown::HashMap<K, S>>>;

/// Looks up every record's key in this subtask's solution-set table.
pub(crate) struct SolutionSetJoin<X, K, S, F> {
    tables: SolutionTables<K, S>,
    subtask: usize,
    key: KeySelector<X, K>,
    function: F,
}

impl<X, K, S, F> SolutionSetJoin<X, K, S, F> {
    pub(crate) fn new(tables: SolutionTables<K, S>, key: KeySelector<X, K>, function: F) -> Self {
        SolutionSetJoin {
            tables,
            subtask: 0,
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
        self.subtask = ctx.subtask as usize;
        if self.subtask >= self.tables.len() {
            return Err(Error::Internal(
                "solution-set join runs at another parallelism than its solution set".into(),
            ));
        }
        Ok(())
    }

    #[inline]
    fn process_record(&mut self, record: Record<X>, out: &mut dyn Output<O>) -> Result<()> {
        let entry = self.tables[self.subtask].get(&(self.key)(&record.value));
        emit_all(out, (self.function)(record.value, entry))
    }
}
