//! `co_group`: one call per key with the records of both inputs that have it.
//!
//! ```
//! let mut out = eddy_dataset::example(|env| {
//!     let orders = env.from_collection(vec![(1, 10), (1, 5), (2, 7)]);
//!     let refunds = env.from_collection(vec![(1, 3), (3, 1)]);
//!     orders
//!         .co_group(&refunds)
//!         .where_key(|o: &(i32, i32)| o.0)
//!         .equal_to(|r: &(i32, i32)| r.0)
//!         .with(|orders: Vec<(i32, i32)>, refunds: Vec<(i32, i32)>| {
//!             let key = orders.first().or(refunds.first()).map(|t| t.0);
//!             let net: i32 = orders.iter().map(|o| o.1).sum::<i32>() - refunds.iter().map(|r| r.1).sum::<i32>();
//!             key.map(|k| (k, net))
//!         })
//! });
//! out.sort();
//! assert_eq!(out, vec![(1, 12), (2, 7), (3, -1)]);
//! ```

use std::sync::Arc;

use eddy_runtime::{Data, Key};

use super::{binary_node, BinaryPlan, Route};
use crate::data_set::DataSet;
use crate::function::KeySelector;
use crate::operators::co_group::CoGroup;

/// A co-group being described; next, [`where_key`](Self::where_key).
pub struct CoGroupBuilder<A, B> {
    left: DataSet<A>,
    right: DataSet<B>,
}

/// A co-group whose first key is known; next, [`equal_to`](Self::equal_to).
pub struct CoGroupWhere<A, B, K> {
    builder: CoGroupBuilder<A, B>,
    key_a: KeySelector<A, K>,
}

/// A co-group with both keys; finish it with [`with`](Self::with).
pub struct KeyedCoGroup<A, B, K> {
    builder: CoGroupBuilder<A, B>,
    key_a: KeySelector<A, K>,
    key_b: KeySelector<B, K>,
}

impl<A: Data> DataSet<A> {
    /// Groups this data set and `other` by key together (Flink's `coGroup`).
    ///
    /// # Panics
    /// If `other` belongs to another environment (a programming error).
    pub fn co_group<B: Data>(&self, other: &DataSet<B>) -> CoGroupBuilder<A, B> {
        CoGroupBuilder {
            left: self.clone(),
            right: other.clone(),
        }
    }
}

impl<A: Data, B: Data> CoGroupBuilder<A, B> {
    /// The key of the first input.
    pub fn where_key<K: Key, F>(self, key: F) -> CoGroupWhere<A, B, K>
    where
        F: Fn(&A) -> K + Send + Sync + 'static,
    {
        CoGroupWhere {
            builder: self,
            key_a: Arc::new(key),
        }
    }
}

impl<A: Data, B: Data, K: Key> CoGroupWhere<A, B, K> {
    /// The key of the second input.
    pub fn equal_to<F>(self, key: F) -> KeyedCoGroup<A, B, K>
    where
        F: Fn(&B) -> K + Send + Sync + 'static,
    {
        KeyedCoGroup {
            builder: self.builder,
            key_a: self.key_a,
            key_b: Arc::new(key),
        }
    }
}

impl<A: Data, B: Data, K: Key> KeyedCoGroup<A, B, K> {
    /// One call per key present in either input, with that key's records of each (one list
    /// may be empty), emitting what the returned iterator yields.
    pub fn with<O: Data, I, F>(self, function: F) -> DataSet<O>
    where
        I: IntoIterator<Item = O>,
        F: FnMut(Vec<A>, Vec<B>) -> I + Clone + Send + Sync + 'static,
    {
        let (key_a, key_b) = (self.key_a, self.key_b);
        binary_node(
            "co_group",
            &self.builder.left,
            &self.builder.right,
            move |_, _| {
                let (ka, kb, f) = (key_a.clone(), key_b.clone(), function.clone());
                Ok(BinaryPlan {
                    left: Route::by_key(&key_a),
                    right: Route::by_key(&key_b),
                    factory: Arc::new(move || {
                        Box::new(CoGroup::new(ka.clone(), kb.clone(), f.clone()))
                    }),
                })
            },
        )
    }
}
