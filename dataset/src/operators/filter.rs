//! `filter`: keeps the records a predicate accepts.

use eddy_runtime::{Operator, Output, Record, Result};

/// Passes the records for which the predicate is true.
pub(crate) struct Filter<F>(pub(crate) F);

impl<T, F: FnMut(&T) -> bool + Send> Operator<T, T> for Filter<F> {
    #[inline]
    fn process_record(&mut self, record: Record<T>, out: &mut dyn Output<T>) -> Result<()> {
        if (self.0)(&record.value) {
            out.collect(record)
        } else {
            Ok(())
        }
    }
}
