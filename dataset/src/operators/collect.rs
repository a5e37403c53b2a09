//! The sink that keeps a data set in memory, partition by partition: behind
//! [`crate::DataSet::collect`], and the hand-over between an iteration's supersteps.

use std::sync::{Arc, Mutex};

use eddy_runtime::{Error, Operator, OperatorContext, Output, Record, Result};

/// Gathers its subtask's records locally and stores them in its slot at the end.
pub(crate) struct PartitionSink<T> {
    slots: Arc<Vec<Mutex<Vec<T>>>>,
    subtask: usize,
    local: Vec<T>,
}

impl<T> PartitionSink<T> {
    pub(crate) fn new(slots: Arc<Vec<Mutex<Vec<T>>>>) -> Self {
        PartitionSink {
            slots,
            subtask: 0,
            local: Vec::new(),
        }
    }
}

impl<T: Send> Operator<T, ()> for PartitionSink<T> {
    fn open(&mut self, ctx: &mut OperatorContext<'_>) -> Result<()> {
        self.subtask = ctx.subtask as usize;
        if self.subtask >= self.slots.len() {
            return Err(Error::Internal("partition sink without a slot".into()));
        }
        Ok(())
    }

    #[inline]
    fn process_record(&mut self, record: Record<T>, _: &mut dyn Output<()>) -> Result<()> {
        self.local.push(record.value);
        Ok(())
    }

    fn finish(&mut self, _: &mut dyn Output<()>) -> Result<()> {
        let mut slot = self.slots[self.subtask]
            .lock()
            .map_err(|_| Error::Internal("partition slot poisoned".into()))?;
        slot.append(&mut self.local);
        Ok(())
    }
}
