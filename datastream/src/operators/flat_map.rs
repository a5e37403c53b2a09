//! `flat_map`: any number of outputs per input, from an iterator.

use eddy_runtime::{Operator, Output, Record, Result};

/// Emits every item of the iterator the function returns.
pub(crate) struct FlatMap<F>(pub(crate) F);

impl<I, O, It, F> Operator<I, O> for FlatMap<F>
where
    F: FnMut(I) -> It + Send,
    It: IntoIterator<Item = O>,
{
    #[inline]
    fn process_record(&mut self, record: Record<I>, out: &mut dyn Output<O>) -> Result<()> {
        let timestamp = record.timestamp;
        for value in (self.0)(record.value) {
            out.collect(Record { value, timestamp })?;
        }
        Ok(())
    }
}
