//! Aggregators: values every subtask of a superstep adds to, read once all of them are done
//! (at the superstep barrier) to take a global decision, then reset for the next superstep.
//!
//! ```
//! use eddy_runtime::iteration::Aggregator;
//!
//! let changed = Aggregator::default();
//! let in_a_task = changed.clone();
//! in_a_task.add(3);
//! changed.add(2);
//! assert_eq!(changed.take(), 5); // read at the barrier, and reset
//! assert_eq!(changed.value(), 0);
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::operator::{Operator, Output};
use crate::{Record, Result};

/// A sum shared by the subtasks of an iteration (Flink's `LongSumAggregator`).
#[derive(Debug, Clone, Default)]
pub struct Aggregator(Arc<AtomicU64>);

impl Aggregator {
    /// Adds `n` (from any subtask).
    #[inline]
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    /// The sum so far.
    pub fn value(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }

    /// The sum, reset to zero: what the driver reads at the superstep barrier.
    pub fn take(&self) -> u64 {
        self.0.swap(0, Ordering::AcqRel)
    }
}

/// A sink counting its input into an [`Aggregator`]: a termination criterion is the count
/// of a data set, and the iteration stops after a superstep that counted nothing.
pub struct CountInto(pub Aggregator);

impl<T: Send> Operator<T, ()> for CountInto {
    #[inline]
    fn process_record(&mut self, _: Record<T>, _: &mut dyn Output<()>) -> Result<()> {
        self.0.add(1);
        Ok(())
    }
}
