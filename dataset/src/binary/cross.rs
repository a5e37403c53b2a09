//! `cross`: the Cartesian product of two data sets.
//!
//! One side is broadcast to every subtask and held in memory while the other streams past
//! it. [`cross_with_tiny`](crate::DataSet::cross_with_tiny) broadcasts the second input,
//! [`cross_with_huge`](crate::DataSet::cross_with_huge) the first (the second is the big
//! one); plain [`cross`](crate::DataSet::cross) broadcasts the side known to be smaller
//! (the second when unknown).
//!
//! ```
//! let mut out = eddy_dataset::example(|env| {
//!     env.from_collection(vec![1, 2]).cross(&env.from_collection(vec!['a', 'b'])).with(|n: i32, c: char| format!("{n}{c}"))
//! });
//! out.sort();
//! assert_eq!(out, vec!["1a", "1b", "2a", "2b"]);
//! ```

use std::sync::Arc;

use eddy_runtime::Data;

use super::{binary_node, BinaryPlan, Route};
use crate::data_set::DataSet;
use crate::operators::cross::Cross;

/// Which side of a cross is broadcast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Broadcast {
    Chosen,
    First,
    Second,
}

/// A cross product being described; finish it with [`with`](Self::with).
pub struct CrossBuilder<A, B> {
    left: DataSet<A>,
    right: DataSet<B>,
    broadcast: Broadcast,
}

impl<A: Data> DataSet<A> {
    /// The Cartesian product with `other`.
    ///
    /// # Panics
    /// If `other` belongs to another environment (a programming error).
    pub fn cross<B: Data>(&self, other: &DataSet<B>) -> CrossBuilder<A, B> {
        self.cross_broadcasting(other, Broadcast::Chosen)
    }

    /// The Cartesian product with a small `other`, which is broadcast.
    ///
    /// # Panics
    /// If `other` belongs to another environment (a programming error).
    pub fn cross_with_tiny<B: Data>(&self, other: &DataSet<B>) -> CrossBuilder<A, B> {
        self.cross_broadcasting(other, Broadcast::Second)
    }

    /// The Cartesian product with a large `other`: this data set is broadcast.
    ///
    /// # Panics
    /// If `other` belongs to another environment (a programming error).
    pub fn cross_with_huge<B: Data>(&self, other: &DataSet<B>) -> CrossBuilder<A, B> {
        self.cross_broadcasting(other, Broadcast::First)
    }

    fn cross_broadcasting<B: Data>(
        &self,
        other: &DataSet<B>,
        broadcast: Broadcast,
    ) -> CrossBuilder<A, B> {
        CrossBuilder {
            left: self.clone(),
            right: other.clone(),
            broadcast,
        }
    }
}

impl<A: Data, B: Data> CrossBuilder<A, B> {
    /// One output per pair.
    pub fn with<O: Data, F>(self, function: F) -> DataSet<O>
    where
        F: FnMut(A, B) -> O + Clone + Send + Sync + 'static,
    {
        let hold_left = match self.broadcast {
            Broadcast::First => true,
            Broadcast::Second => false,
            Broadcast::Chosen => matches!(
                (self.left.node.size_hint, self.right.node.size_hint),
                (Some(l), Some(r)) if l < r
            ),
        };
        binary_node("cross", &self.left, &self.right, move |_, _| {
            let f = function.clone();
            let (left, right) = if hold_left {
                (Route::Broadcast, Route::Forward)
            } else {
                (Route::Forward, Route::Broadcast)
            };
            Ok(BinaryPlan {
                left,
                right,
                factory: Arc::new(move || Box::new(Cross::new(f.clone(), hold_left))),
            })
        })
    }

    /// The pairs themselves.
    pub fn pairs(self) -> DataSet<(A, B)> {
        self.with(|a, b| (a, b))
    }
}
