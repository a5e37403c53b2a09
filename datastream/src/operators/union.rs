//! `union`: merges streams of one type; records pass unchanged.

use eddy_runtime::{Operator, Output, Record, Result};

/// Forwards every record of every input.
pub(crate) struct Union;

impl<T> Operator<T, T> for Union {
    #[inline]
    fn process_record(&mut self, record: Record<T>, out: &mut dyn Output<T>) -> Result<()> {
        out.collect(record)
    }
}
