//! `reduce_group` and `combine_group`: one call per group with all of its records, in the
//! order `sort_group` asked for.
//!
//! As `reduce_group` it runs after a hash exchange (each key's group is complete at one
//! subtask); as `combine_group` it runs beside the producer without an exchange, so a key's
//! records may form one partial group per producer subtask.
//!
//! # Algorithm
//! Records go into the external merge sort of [`crate::sort`], keyed by the group key and
//! stable; when the input ends, the sorted output is read group by group (consecutive equal
//! keys), each group sorted by the `sort_group` order (stable) and handed to the function.
//!
//! # Memory
//! The sort draws on the memory budget and spills sorted runs beyond it; one group at a time
//! is held in memory for the function.

use std::cmp::Ordering;
use std::sync::Arc;

use eddy_runtime::memory::MemoryManager;
use eddy_runtime::{Error, Operator, Output, Record, Result};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::function::{emit_all, KeySelector};
use crate::key::SortKey;
use crate::sort::{ExternalSorter, PreKeyed};

/// Compares two records (a `sort_group` or `sort_partition` order).
pub(crate) type Comparator<T> = Arc<dyn Fn(&T, &T) -> Ordering + Send + Sync>;

/// Groups records by key (by sorting) and calls the function once per group.
pub(crate) struct GroupReduce<T, K, F> {
    key: KeySelector<T, K>,
    order: Option<Comparator<T>>,
    function: F,
    sorter: Option<ExternalSorter<T, K, PreKeyed>>,
}

impl<T, K, F> GroupReduce<T, K, F>
where
    T: Serialize + DeserializeOwned + Send + 'static,
    K: SortKey,
{
    pub(crate) fn new(
        memory: &MemoryManager,
        key: KeySelector<T, K>,
        order: Option<Comparator<T>>,
        function: F,
    ) -> Self {
        GroupReduce {
            key,
            order,
            function,
            sorter: Some(ExternalSorter::with_keys(memory).stable(true)),
        }
    }
}

impl<T, K, F> GroupReduce<T, K, F> {
    fn call<O, It>(&mut self, mut group: Vec<T>, out: &mut dyn Output<O>) -> Result<()>
    where
        It: IntoIterator<Item = O>,
        F: FnMut(Vec<T>) -> It,
    {
        if let Some(order) = &self.order {
            group.sort_by(|a, b| order(a, b));
        }
        emit_all(out, (self.function)(group))
    }
}

impl<T, K, O, It, F> Operator<T, O> for GroupReduce<T, K, F>
where
    T: Serialize + DeserializeOwned + Send + 'static,
    K: SortKey,
    It: IntoIterator<Item = O>,
    F: FnMut(Vec<T>) -> It + Send,
{
    #[inline]
    fn process_record(&mut self, record: Record<T>, _: &mut dyn Output<O>) -> Result<()> {
        let key = (self.key)(&record.value);
        match self.sorter.as_mut() {
            Some(sorter) => sorter.push_keyed(key, record.value),
            None => Err(Error::Internal("group reduce fed after finish".into())),
        }
    }

    fn finish(&mut self, out: &mut dyn Output<O>) -> Result<()> {
        let Some(sorter) = self.sorter.take() else {
            return Ok(());
        };
        let mut current: Option<K> = None;
        let mut group = Vec::new();
        for entry in sorter.finish()? {
            let (key, value) = entry?;
            let same = current
                .as_ref()
                .is_some_and(|c| c.compare(&key) == Ordering::Equal);
            if !same && !group.is_empty() {
                self.call(std::mem::take(&mut group), out)?;
            }
            current = Some(key);
            group.push(value);
        }
        if !group.is_empty() {
            self.call(group, out)?;
        }
        Ok(())
    }
}
