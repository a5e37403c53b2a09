//! `first(n)` without grouping: passes the first `n` records of its subtask's input. Runs once
//! per producer subtask and once more at parallelism 1, so at most `n` records survive.

use eddy_runtime::{Operator, Output, Record, Result};

/// Passes the first `n` records, drops the rest.
pub(crate) struct FirstN {
    pub(crate) remaining: usize,
}

impl<T: Send> Operator<T, T> for FirstN {
    #[inline]
    fn process_record(&mut self, record: Record<T>, out: &mut dyn Output<T>) -> Result<()> {
        if self.remaining == 0 {
            return Ok(());
        }
        self.remaining -= 1;
        out.collect(record)
    }
}
