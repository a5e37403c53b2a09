//! A source over an in-memory collection.

use std::sync::Arc;

use eddy_runtime::{Output, Record, Result, Source, SourceStatus};

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
}
