//! `flat_map`: any number of outputs per input.

use eddy_runtime::{Operator, Output, Record, Result};

/// Emits every item of the iterator the function returns.
pub(crate) struct FlatMap<F>(pub(crate) F);

impl<I, O, It, F> Operator<I, O> for FlatMap<F>
where
    It: IntoIterator<Item = O>,
    F: FnMut(I) -> It + Send,
{
    #[inline]
    fn process_record(&mut self, record: Record<I>, out: &mut dyn Output<O>) -> Result<()> {
        for value in (self.0)(record.value) {
            out.collect(Record::new(value))?;
        }
        Ok(())
    }
}
