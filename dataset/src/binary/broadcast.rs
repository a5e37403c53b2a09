//! Broadcast sets (Flink's `withBroadcastSet`): a data set that every subtask of an
//! operator receives whole, for its function to read beside each record.
//!
//! The operator starts calling the function once the broadcast set is complete (records of
//! the main input that arrive earlier wait). K-means uses it to give every point the current
//! centroids:
//!
//! ```
//! let mut out = eddy_dataset::example(|env| {
//!     let centroids = env.from_collection(vec![0.0f64, 10.0]);
//!     env.from_collection(vec![1.0f64, 9.0, 6.0])
//!         .with_broadcast_set(&centroids)
//!         .map(|p: f64, cs: &[f64]| {
//!             let nearest = cs.iter().copied().min_by(|a, b| (a - p).abs().total_cmp(&(b - p).abs())).unwrap();
//!             (p as i64, nearest as i64)
//!         })
//! });
//! out.sort();
//! assert_eq!(out, vec![(1, 0), (6, 10), (9, 10)]);
//! ```

use std::sync::Arc;

use eddy_runtime::Data;

use super::{binary_node, BinaryPlan, Route};
use crate::data_set::DataSet;
use crate::operators::broadcast::WithBroadcast;

/// A data set whose next function reads a broadcast set.
pub struct BroadcastBound<T, B> {
    main: DataSet<T>,
    set: DataSet<B>,
}

impl<T: Data> DataSet<T> {
    /// Makes `set` readable, whole, by the next function (`map`, `flat_map`, `filter`).
    ///
    /// # Panics
    /// When the next function is added, if `set` belongs to another environment.
    pub fn with_broadcast_set<B: Data>(&self, set: &DataSet<B>) -> BroadcastBound<T, B> {
        BroadcastBound {
            main: self.clone(),
            set: set.clone(),
        }
    }
}

impl<T: Data, B: Data> BroadcastBound<T, B> {
    /// Any number of outputs per record, reading the broadcast set.
    pub fn flat_map<O: Data, I, F>(&self, function: F) -> DataSet<O>
    where
        I: IntoIterator<Item = O>,
        F: FnMut(T, &[B]) -> I + Clone + Send + Sync + 'static,
    {
        binary_node("with broadcast set", &self.main, &self.set, move |_, _| {
            let f = function.clone();
            Ok(BinaryPlan {
                left: Route::Forward,
                right: Route::Broadcast,
                factory: Arc::new(move || Box::new(WithBroadcast::new(f.clone()))),
            })
        })
    }

    /// One output per record, reading the broadcast set.
    pub fn map<O: Data, F>(&self, mut function: F) -> DataSet<O>
    where
        F: FnMut(T, &[B]) -> O + Clone + Send + Sync + 'static,
    {
        self.flat_map(move |t, set: &[B]| Some(function(t, set)))
    }

    /// Keeps the records the predicate accepts, reading the broadcast set.
    pub fn filter<F>(&self, mut predicate: F) -> DataSet<T>
    where
        F: FnMut(&T, &[B]) -> bool + Clone + Send + Sync + 'static,
    {
        self.flat_map(move |t, set: &[B]| predicate(&t, set).then_some(t))
    }
}
