//! `map`: one output per input.

use eddy_runtime::{Operator, Output, Record, Result};

/// Applies a function to every record.
pub(crate) struct Map<F>(pub(crate) F);

impl<I, O, F> Operator<I, O> for Map<F>
where
    F: FnMut(I) -> O + Send,
{
    #[inline]
    fn process_record(&mut self, record: Record<I>, out: &mut dyn Output<O>) -> Result<()> {
        let timestamp = record.timestamp;
        out.collect(Record {
            value: (self.0)(record.value),
            timestamp,
        })
    }
}
