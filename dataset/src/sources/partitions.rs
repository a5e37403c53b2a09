//! A parallel source replaying materialized partitions: subtask `i` emits partition `i`.
//!
//! Iterations feed each superstep from the previous one's output this way, and inputs that do
//! not change between supersteps are computed once and replayed. Each subtask takes its
//! partition out of its slot and moves the records on without a copy; a replay that is needed
//! again is handed a fresh copy by its caller.

use std::sync::{Arc, Mutex};

use eddy_runtime::{Error, Output, Record, Result, Source, SourceContext, SourceStatus};

use super::CHUNK;

/// The partitions a source replays, one slot per subtask.
pub(crate) struct PartitionSource<T> {
    slots: Arc<Vec<Mutex<Option<Vec<T>>>>>,
}

impl<T> Clone for PartitionSource<T> {
    fn clone(&self) -> Self {
        PartitionSource {
            slots: self.slots.clone(),
        }
    }
}

impl<T> PartitionSource<T> {
    /// Partitions to be moved out, once.
    pub(crate) fn owned(partitions: Vec<Vec<T>>) -> Self {
        PartitionSource {
            slots: Arc::new(
                partitions
                    .into_iter()
                    .map(|p| Mutex::new(Some(p)))
                    .collect(),
            ),
        }
    }

    /// Number of partitions (the source's parallelism).
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }
}

impl<T: Send + 'static> PartitionSource<T> {
    /// The source of one subtask.
    pub(crate) fn boxed(&self) -> Box<dyn Source<T>> {
        Box::new(PartitionRunner {
            slots: self.slots.clone(),
            taken: Vec::new().into_iter(),
        })
    }
}

/// One subtask's replay.
struct PartitionRunner<T> {
    slots: Arc<Vec<Mutex<Option<Vec<T>>>>>,
    taken: std::vec::IntoIter<T>,
}

impl<T: Send> Source<T> for PartitionRunner<T> {
    fn open(&mut self, ctx: &SourceContext) -> Result<()> {
        let slot = self
            .slots
            .get(ctx.subtask as usize)
            .ok_or_else(|| Error::Internal("partition source without a partition".into()))?;
        let taken = slot
            .lock()
            .map_err(|_| Error::Internal("partition slot poisoned".into()))?
            .take();
        self.taken = taken.unwrap_or_default().into_iter();
        Ok(())
    }

    fn poll(&mut self, out: &mut dyn Output<T>) -> Result<SourceStatus> {
        for _ in 0..CHUNK {
            match self.taken.next() {
                Some(item) => out.collect(Record::new(item))?,
                None => return Ok(SourceStatus::Finished),
            }
        }
        Ok(SourceStatus::More)
    }
}
