//! A parallel source replaying materialized partitions: subtask `i` emits partition `i`.
//!
//! Materialized results enter later jobs this way, and inputs of an iteration that do not
//! change between supersteps are computed once and replayed each superstep. An owned source
//! moves each subtask's partition out of its slot, once, without a copy; a shared source
//! clones its partition each time it runs.

use std::sync::{Arc, Mutex};

use eddy_runtime::{Error, Output, Record, Result, Source, SourceContext, SourceStatus};

use super::CHUNK;

/// The partitions a source replays, one slot per subtask.
pub(crate) struct PartitionSource<T> {
    slots: Arc<Vec<Mutex<Option<Vec<T>>>>>,
    /// Replayed (cloned) every time the source runs, instead of moved out once.
    shared: Option<Arc<Vec<Mutex<Vec<T>>>>>,
}

impl<T> Clone for PartitionSource<T> {
    fn clone(&self) -> Self {
        PartitionSource {
            slots: self.slots.clone(),
            shared: self.shared.clone(),
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
            shared: None,
        }
    }

    /// Partitions cloned into every run of the source (each superstep of an iteration).
    pub(crate) fn shared(partitions: Vec<Vec<T>>) -> Self {
        PartitionSource {
            slots: Arc::new(Vec::new()),
            shared: Some(Arc::new(partitions.into_iter().map(Mutex::new).collect())),
        }
    }

    /// Number of partitions (the source's parallelism).
    pub(crate) fn len(&self) -> usize {
        match &self.shared {
            Some(parts) => parts.len(),
            None => self.slots.len(),
        }
    }
}

impl<T: Clone + Send + 'static> PartitionSource<T> {
    /// The source of one subtask.
    pub(crate) fn boxed(&self) -> Box<dyn Source<T>> {
        Box::new(PartitionRunner {
            slots: self.slots.clone(),
            shared: self.shared.clone(),
            taken: Vec::new().into_iter(),
        })
    }
}

/// One subtask's replay.
struct PartitionRunner<T> {
    slots: Arc<Vec<Mutex<Option<Vec<T>>>>>,
    shared: Option<Arc<Vec<Mutex<Vec<T>>>>>,
    taken: std::vec::IntoIter<T>,
}

impl<T: Clone + Send> Source<T> for PartitionRunner<T> {
    fn open(&mut self, ctx: &SourceContext) -> Result<()> {
        if let Some(parts) = &self.shared {
            let part = parts
                .get(ctx.subtask as usize)
                .ok_or_else(|| Error::Internal("partition source without a partition".into()))?;
            let part = part
                .lock()
                .map_err(|_| Error::Internal("partition slot poisoned".into()))?
                .clone();
            self.taken = part.into_iter();
            return Ok(());
        }
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
