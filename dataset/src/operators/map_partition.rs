//! `map_partition`: one call per partition with all of its records.
//!
//! # Memory
//! The partition is buffered in memory until the input ends.

use eddy_runtime::{Operator, Output, Record, Result};

/// Buffers its subtask's records and hands them to the function at the end.
pub(crate) struct MapPartition<T, F> {
    pub(crate) function: F,
    pub(crate) buffer: Vec<T>,
}

impl<T, O, It, F> Operator<T, O> for MapPartition<T, F>
where
    T: Send,
    It: IntoIterator<Item = O>,
    F: FnMut(Vec<T>) -> It + Send,
{
    fn process_record(&mut self, record: Record<T>, _: &mut dyn Output<O>) -> Result<()> {
        self.buffer.push(record.value);
        Ok(())
    }

    fn finish(&mut self, out: &mut dyn Output<O>) -> Result<()> {
        for value in (self.function)(std::mem::take(&mut self.buffer)) {
            out.collect(Record::new(value))?;
        }
        Ok(())
    }
}
