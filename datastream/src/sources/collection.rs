//! A source over an in-memory collection.

use std::sync::Arc;

use eddy_runtime::checkpoint::{RestoredState, SnapshotWriter};
use eddy_runtime::{Output, Record, Result, Source, SourceStatus};

/// The name of the source's operator state: the index of the next item.
const NEXT: &str = "collection next";

/// Emits the elements of a shared vector in order. Not parallel, like Flink's
/// `fromCollection`: the order of the collection is the order of the stream.
pub(crate) struct CollectionSource<T> {
    pub(crate) items: Arc<Vec<T>>,
    pub(crate) next: usize,
}

/// Records per poll.
const CHUNK: usize = 1024;

impl<T: Clone + Send + Sync> Source<T> for CollectionSource<T> {
    fn poll(&mut self, out: &mut dyn Output<T>) -> Result<SourceStatus> {
        let end = (self.next + CHUNK).min(self.items.len());
        for item in &self.items[self.next..end] {
            out.collect(Record::new(item.clone()))?;
        }
        self.next = end;
        Ok(if end == self.items.len() {
            SourceStatus::Finished
        } else {
            SourceStatus::More
        })
    }

    fn snapshot_state(&mut self, writer: &mut SnapshotWriter) -> Result<()> {
        writer.operator_state(NEXT, &(self.next as u64))
    }

    fn restore_state(&mut self, restored: &RestoredState) -> Result<()> {
        // The source has parallelism 1: one position.
        if let Some(next) = restored.operator_state::<u64>(NEXT)?.into_iter().max() {
            self.next = (next as usize).min(self.items.len());
        }
        Ok(())
    }
}
