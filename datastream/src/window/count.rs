//! Count windows: every `size` records of a key form a window (Flink's `countWindow(size)`:
//! global windows with a purging count trigger).
//!
//! ## Memory
//! One accumulator and a count per key. A key's last, incomplete window never fires, as in
//! Flink.

use hashbrown::HashMap;

use eddy_runtime::checkpoint::SnapshotWriter;
use eddy_runtime::state::AggregateFunction;
use eddy_runtime::{
    CheckpointBarrier, Data, Key, Operator, OperatorContext, Output, Record, Result,
};

/// The name of the checkpointed state: each key's count and accumulator.
const COUNTS: &str = "count window contents";

use crate::function::KeyFn;

/// The keyed count-window operator.
pub(crate) struct CountWindowOperator<T, K, F: AggregateFunction<T>> {
    pub(crate) key: KeyFn<T, K>,
    pub(crate) size: u64,
    pub(crate) function: F,
    pub(crate) keys: HashMap<K, (u64, F::Acc)>,
}

impl<T: Data, K: Key, F: AggregateFunction<T>> Operator<T, (K, F::Out)>
    for CountWindowOperator<T, K, F>
{
    fn open(&mut self, ctx: &mut OperatorContext<'_>) -> Result<()> {
        let restored: Vec<(K, (u64, F::Acc))> = ctx.restored().keyed_entries(COUNTS)?;
        self.keys.extend(restored);
        Ok(())
    }

    fn snapshot_state(&mut self, _: &CheckpointBarrier, writer: &mut SnapshotWriter) -> Result<()> {
        writer.keyed_entries(COUNTS, self.keys.iter())
    }

    fn process_record(
        &mut self,
        record: Record<T>,
        out: &mut dyn Output<(K, F::Out)>,
    ) -> Result<()> {
        let key = (self.key)(&record.value);
        let function = &self.function;
        let entry = match self.keys.get_mut(&*key) {
            Some(entry) => entry,
            None => self
                .keys
                .entry((*key).clone())
                .or_insert_with(|| (0, function.create_accumulator())),
        };
        function.add(&mut entry.1, &record.value);
        entry.0 += 1;
        if entry.0 >= self.size {
            let result = function.get_result(&entry.1);
            let key = (*key).clone();
            self.keys.remove(&key);
            out.collect(Record {
                value: (key, result),
                timestamp: record.timestamp,
            })?;
        }
        Ok(())
    }
}
