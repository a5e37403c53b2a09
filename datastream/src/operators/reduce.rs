//! Keyed `reduce`: folds the records of each key with an associative function.
//!
//! ## Algorithm
//! The aggregate of each key lives in value state; each record is folded into it in place.
//! In streaming mode every new aggregate is emitted at once (Flink's STREAMING). In batch mode
//! nothing is emitted until the input ends, then each key's final aggregate once (Flink's
//! BATCH), so a bounded job prints one line per key.
//!
//! ## Memory
//! One aggregate per key this subtask owns, in the state backend.

use std::sync::Arc;

use eddy_runtime::state::{value_state, StateDescriptor, ValueState};
use eddy_runtime::{Data, Key, Operator, OperatorContext, Output, Record, Result, RuntimeMode};

use crate::function::KeyFn;

/// An associative function combining two values of a key into one.
pub(crate) type ReduceFn<T> = Arc<dyn Fn(T, T) -> T + Send + Sync>;

/// The keyed reduce operator.
pub(crate) struct KeyedReduce<T, K> {
    key: KeyFn<T, K>,
    reduce: ReduceFn<T>,
    state: Option<Box<dyn ValueState<K, T>>>,
    emit_updates: bool,
}

impl<T, K> KeyedReduce<T, K> {
    pub(crate) fn new(key: KeyFn<T, K>, reduce: ReduceFn<T>) -> Self {
        KeyedReduce {
            key,
            reduce,
            state: None,
            emit_updates: true,
        }
    }
}

impl<T: Data, K: Key> Operator<T, T> for KeyedReduce<T, K> {
    fn open(&mut self, ctx: &mut OperatorContext<'_>) -> Result<()> {
        self.state = Some(value_state(ctx.state, StateDescriptor::new("reduce"))?);
        self.emit_updates = ctx.mode == RuntimeMode::Streaming;
        Ok(())
    }

    #[inline]
    fn process_record(&mut self, record: Record<T>, out: &mut dyn Output<T>) -> Result<()> {
        let Some(state) = self.state.as_mut() else {
            return Err(eddy_runtime::Error::Internal(
                "reduce used before open".into(),
            ));
        };
        if !self.emit_updates {
            return state.reduce(record.value, &*self.key, &*self.reduce);
        }
        let timestamp = record.timestamp;
        let value = state.reduce_get(record.value, &*self.key, &*self.reduce)?;
        out.collect(Record { value, timestamp })
    }

    fn finish(&mut self, out: &mut dyn Output<T>) -> Result<()> {
        if self.emit_updates {
            return Ok(());
        }
        if let Some(state) = self.state.as_mut() {
            for (_, value) in state.drain() {
                out.collect(Record::new(value))?;
            }
        }
        Ok(())
    }
}
