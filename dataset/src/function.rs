//! Shapes of user functions shared across the crate: key selectors, orders, and emitting
//! what a function returned.

use std::cmp::Ordering;
use std::sync::Arc;

use eddy_runtime::{Output, Record, Result};

/// Extracts the key of a record.
pub(crate) type KeySelector<T, K> = Arc<dyn Fn(&T) -> K + Send + Sync>;

/// The direction of a sort.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    /// Smallest first.
    #[default]
    Ascending,
    /// Largest first.
    Descending,
}

impl Order {
    /// Applies the direction to an ascending comparison.
    pub(crate) fn apply(self, ordering: Ordering) -> Ordering {
        match self {
            Order::Ascending => ordering,
            Order::Descending => ordering.reverse(),
        }
    }
}

/// Emits every item a function returned.
#[inline]
pub(crate) fn emit_all<O, I: IntoIterator<Item = O>>(
    out: &mut dyn Output<O>,
    items: I,
) -> Result<()> {
    for item in items {
        out.collect(Record::new(item))?;
    }
    Ok(())
}
