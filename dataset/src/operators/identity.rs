//! The identity operator: what `union`, `rebalance` and the `partition_by_*` calls add to
//! the graph, so that the exchange (the edge into it) has a consumer.

use eddy_runtime::{Operator, Output, Record, Result};

/// Passes every record on.
pub(crate) struct Identity;

impl<T: Send> Operator<T, T> for Identity {
    #[inline]
    fn process_record(&mut self, record: Record<T>, out: &mut dyn Output<T>) -> Result<()> {
        out.collect(record)
    }
}
