//! The pre-aggregation (combiner) in front of a keyed reduce's exchange, in batch mode.
//!
//! ## Algorithm
//! In batch mode only final results matter, and a reduce function is associative, so each
//! producer subtask can fold the records of each key locally and send one partial aggregate
//! per key through the exchange instead of every record (what Flink's DataSet API does with
//! combiners). In streaming mode every update must be emitted, so records pass unchanged.
//!
//! ## Memory
//! At most [`MAX_KEYS`] partial aggregates; when the table is full it is emitted and cleared,
//! which keeps the result exact (the reduce downstream folds the partials).

use hashbrown::HashMap;

use eddy_runtime::{Data, Key, Operator, OperatorContext, Output, Record, Result, RuntimeMode};

use crate::function::KeyFn;
use crate::operators::reduce::ReduceFn;

/// Keys held before the table is emitted early.
pub(crate) const MAX_KEYS: usize = 1 << 20;

/// The combiner operator.
pub(crate) struct PreAggregate<T, K> {
    key: KeyFn<T, K>,
    reduce: ReduceFn<T>,
    /// A slot is `None` only while its aggregate is moved into the reduce function.
    table: HashMap<K, Option<T>>,
    active: bool,
}

impl<T, K> PreAggregate<T, K> {
    pub(crate) fn new(key: KeyFn<T, K>, reduce: ReduceFn<T>) -> Self {
        PreAggregate {
            key,
            reduce,
            table: HashMap::default(),
            active: false,
        }
    }
}

impl<T: Data, K: Key> PreAggregate<T, K> {
    fn emit_all(&mut self, out: &mut dyn Output<T>) -> Result<()> {
        for value in self.table.drain().filter_map(|(_, v)| v) {
            out.collect(Record::new(value))?;
        }
        Ok(())
    }
}

impl<T: Data, K: Key> Operator<T, T> for PreAggregate<T, K> {
    fn open(&mut self, ctx: &mut OperatorContext<'_>) -> Result<()> {
        self.active = ctx.mode == RuntimeMode::Batch;
        Ok(())
    }

    #[inline]
    fn process_record(&mut self, record: Record<T>, out: &mut dyn Output<T>) -> Result<()> {
        if !self.active {
            return out.collect(record);
        }
        let key = (self.key)(&record.value);
        if let Some(slot) = self.table.get_mut(&*key) {
            *slot = Some(match slot.take() {
                Some(acc) => (self.reduce)(acc, record.value),
                None => record.value,
            });
            return Ok(());
        }
        let key = key.into_owned();
        self.table.insert(key, Some(record.value));
        if self.table.len() >= MAX_KEYS {
            self.emit_all(out)?;
        }
        Ok(())
    }

    /// Partial aggregates are not state: they go downstream before the barrier, so the
    /// reduce's snapshot includes them.
    fn prepare_snapshot_pre_barrier(&mut self, _: u64, out: &mut dyn Output<T>) -> Result<()> {
        self.emit_all(out)
    }

    fn finish(&mut self, out: &mut dyn Output<T>) -> Result<()> {
        self.emit_all(out)
    }
}
