//! `sort_partition`: sorts each partition locally, emitting it when the input ends.
//!
//! # Memory
//! The external merge sort of [`crate::sort`] holds what the budget allows and spills sorted
//! runs beyond it; the output streams from the merge.

use eddy_runtime::memory::MemoryManager;
use eddy_runtime::{Error, Operator, Output, Record, Result};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::function::{KeySelector, Order};
use crate::key::SortKey;
use crate::sort::{ExternalSorter, PreKeyed};

/// Sorts its subtask's records by key (stable) and emits them in order.
pub(crate) struct SortPartition<T, V> {
    key: KeySelector<T, V>,
    sorter: Option<ExternalSorter<T, V, PreKeyed>>,
}

impl<T, V> SortPartition<T, V>
where
    T: Serialize + DeserializeOwned + Send + 'static,
    V: SortKey,
{
    pub(crate) fn new(memory: &MemoryManager, key: KeySelector<T, V>, order: Order) -> Self {
        let sorter = ExternalSorter::with_keys(memory)
            .stable(true)
            .descending(order == Order::Descending);
        SortPartition {
            key,
            sorter: Some(sorter),
        }
    }
}

impl<T, V> Operator<T, T> for SortPartition<T, V>
where
    T: Serialize + DeserializeOwned + Send + 'static,
    V: SortKey,
{
    #[inline]
    fn process_record(&mut self, record: Record<T>, _: &mut dyn Output<T>) -> Result<()> {
        let key = (self.key)(&record.value);
        match self.sorter.as_mut() {
            Some(sorter) => sorter.push_keyed(key, record.value),
            None => Err(Error::Internal("sort fed after finish".into())),
        }
    }

    fn finish(&mut self, out: &mut dyn Output<T>) -> Result<()> {
        if let Some(sorter) = self.sorter.take() {
            for entry in sorter.finish()? {
                out.collect(Record::new(entry?.1))?;
            }
        }
        Ok(())
    }
}
