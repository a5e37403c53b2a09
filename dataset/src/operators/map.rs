//! `map`: one output per input.

use eddy_runtime::{Operator, Output, Record, Result};

/// Applies a function to every record.
pub(crate) struct Map<F>(pub(crate) F);

impl<I, O, F: FnMut(I) -> O + Send> Operator<I, O> for Map<F> {
    #[inline]
    fn process_record(&mut self, record: Record<I>, out: &mut dyn Output<O>) -> Result<()> {
        out.collect(Record::new((self.0)(record.value)))
    }
}
