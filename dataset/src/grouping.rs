//! Grouped data sets: [`Grouping`] (after [`crate::DataSet::group_by`]) and
//! [`SortedGrouping`] (after [`Grouping::sort_group`]), with their per-group reductions, and
//! [`Aggregations`] of fields.
//!
//! Which one to use:
//! - [`Grouping::reduce`] (and the aggregations built on it: [`Grouping::aggregate`],
//!   `sum`, `min`, `max`, `min_by`, `max_by`, [`crate::DataSet::distinct`]) folds two
//!   records into one. It runs a combiner before the exchange, so only one record per key and
//!   producer subtask crosses the network: the fastest when it fits.
//! - [`Grouping::reduce_group`] sees a whole group at once (in the order
//!   [`Grouping::sort_group`] asked for), for results that are not a fold: medians, top-n,
//!   emitting several records.
//! - [`Grouping::combine_group`] is `reduce_group` without the exchange: it sees the partial
//!   group of each producer subtask, to pre-aggregate before a `reduce_group`.
//!
//! ```
//! let mut out = eddy_dataset::example(|env| {
//!     env.from_collection(vec![('a', 3), ('b', 1), ('a', 4)])
//!         .group_by(|t: &(char, i32)| t.0)
//!         .sum(|t: &mut (char, i32)| &mut t.1)
//! });
//! out.sort();
//! assert_eq!(out, vec![('a', 7), ('b', 1)]);
//! ```

use std::ops::AddAssign;
use std::sync::Arc;

use eddy_runtime::partition::hash_key;
use eddy_runtime::{Data, Key, Partitioner};

use crate::data_set::{DataSet, Parallelism};
use crate::function::{KeySelector, Order};
use crate::key::SortKey;
use crate::operators::group_reduce::{Comparator, GroupReduce};
use crate::operators::reduce::Reduce;

/// A data set grouped by a key.
pub struct Grouping<T, K> {
    pub(crate) set: DataSet<T>,
    pub(crate) key: KeySelector<T, K>,
}

impl<T: Data, K: Key> Grouping<T, K> {
    pub(crate) fn new(set: DataSet<T>, key: KeySelector<T, K>) -> Self {
        Grouping { set, key }
    }

    /// Routes records by the hash of their key, so that a key's group meets at one subtask.
    pub(crate) fn hash_partitioner(&self) -> Partitioner<T> {
        let key = self.key.clone();
        Partitioner::Hash(Arc::new(move |t: &T| hash_key(&key(t))))
    }

    /// Folds each group with an associative, commutative function; one record per key.
    ///
    /// ```
    /// let mut out = eddy_dataset::example(|env| {
    ///     env.from_collection(vec![(1, 10), (2, 5), (1, 1)])
    ///         .group_by(|t: &(u8, u32)| t.0)
    ///         .reduce(|a, b| (a.0, a.1.max(b.1)))
    /// });
    /// out.sort();
    /// assert_eq!(out, vec![(1, 10), (2, 5)]);
    /// ```
    pub fn reduce<F>(&self, function: F) -> DataSet<T>
    where
        F: FnMut(T, T) -> T + Clone + Send + Sync + 'static,
    {
        let (combine_key, combine) = (self.key.clone(), function.clone());
        let combined = self.set.unary(
            "reduce (combine)",
            Partitioner::Forward,
            Parallelism::Input,
            move || Box::new(Reduce::combiner(combine_key.clone(), combine.clone())),
        );
        let key = self.key.clone();
        combined.unary(
            "reduce",
            self.hash_partitioner(),
            Parallelism::Default,
            move || Box::new(Reduce::new(key.clone(), function.clone())),
        )
    }

    /// Aggregates fields per group (see [`Aggregations`]); other fields come from one of the
    /// group's records.
    pub fn aggregate(&self, aggregations: Aggregations<T>) -> DataSet<T> {
        let merge = aggregations.into_function();
        self.reduce(merge)
    }

    /// Sums `field` per group.
    pub fn sum<N, F>(&self, field: F) -> DataSet<T>
    where
        N: AddAssign + Copy + 'static,
        F: Fn(&mut T) -> &mut N + Send + Sync + 'static,
    {
        self.aggregate(Aggregations::new().sum(field))
    }

    /// The smallest `field` per group.
    pub fn min<N, F>(&self, field: F) -> DataSet<T>
    where
        N: PartialOrd + Copy + 'static,
        F: Fn(&mut T) -> &mut N + Send + Sync + 'static,
    {
        self.aggregate(Aggregations::new().min(field))
    }

    /// The largest `field` per group.
    pub fn max<N, F>(&self, field: F) -> DataSet<T>
    where
        N: PartialOrd + Copy + 'static,
        F: Fn(&mut T) -> &mut N + Send + Sync + 'static,
    {
        self.aggregate(Aggregations::new().max(field))
    }

    /// The record with the smallest `key` per group (the first seen among equals).
    pub fn min_by<V: PartialOrd, F>(&self, key: F) -> DataSet<T>
    where
        F: Fn(&T) -> V + Clone + Send + Sync + 'static,
    {
        self.reduce(move |a, b| if key(&b) < key(&a) { b } else { a })
    }

    /// The record with the largest `key` per group (the first seen among equals).
    pub fn max_by<V: PartialOrd, F>(&self, key: F) -> DataSet<T>
    where
        F: Fn(&T) -> V + Clone + Send + Sync + 'static,
    {
        self.reduce(move |a, b| if key(&b) > key(&a) { b } else { a })
    }
}

impl<T: Data, K: Key + SortKey> Grouping<T, K> {
    /// One call per group with all of its records, emitting what the returned iterator
    /// yields.
    ///
    /// ```
    /// let mut out = eddy_dataset::example(|env| {
    ///     env.from_collection(vec![('a', 1), ('a', 2), ('b', 5)])
    ///         .group_by(|t: &(char, i32)| t.0)
    ///         .reduce_group(|group: Vec<(char, i32)>| Some((group[0].0, group.len())))
    /// });
    /// out.sort();
    /// assert_eq!(out, vec![('a', 2), ('b', 1)]);
    /// ```
    pub fn reduce_group<O: Data, I, F>(&self, function: F) -> DataSet<O>
    where
        I: IntoIterator<Item = O>,
        F: FnMut(Vec<T>) -> I + Clone + Send + Sync + 'static,
    {
        self.group_reduce(None, function)
    }

    fn group_reduce<O: Data, I, F>(&self, order: Option<Comparator<T>>, function: F) -> DataSet<O>
    where
        I: IntoIterator<Item = O>,
        F: FnMut(Vec<T>) -> I + Clone + Send + Sync + 'static,
    {
        let key = self.key.clone();
        let memory = self.set.env.settings().memory;
        self.set.unary(
            "reduce_group",
            self.hash_partitioner(),
            Parallelism::Default,
            move || {
                Box::new(GroupReduce::new(
                    &memory,
                    key.clone(),
                    order.clone(),
                    function.clone(),
                ))
            },
        )
    }

    /// A `reduce_group` on each producer subtask's partial groups, without an exchange (a
    /// key may yield one result per producer subtask).
    pub fn combine_group<O: Data, I, F>(&self, function: F) -> DataSet<O>
    where
        I: IntoIterator<Item = O>,
        F: FnMut(Vec<T>) -> I + Clone + Send + Sync + 'static,
    {
        let key = self.key.clone();
        let memory = self.set.env.settings().memory;
        self.set.unary(
            "combine_group",
            Partitioner::Forward,
            Parallelism::Input,
            move || {
                Box::new(GroupReduce::new(
                    &memory,
                    key.clone(),
                    None,
                    function.clone(),
                ))
            },
        )
    }

    /// Orders the records within each group by `field` (stably), for
    /// [`SortedGrouping::reduce_group`] and [`SortedGrouping::first`].
    pub fn sort_group<V: Ord, F>(&self, field: F, order: Order) -> SortedGrouping<T, K>
    where
        F: Fn(&T) -> V + Send + Sync + 'static,
    {
        SortedGrouping {
            grouping: Grouping::new(self.set.clone(), self.key.clone()),
            order: Arc::new(move |a: &T, b: &T| order.apply(field(a).cmp(&field(b)))),
        }
    }

    /// At most `n` records of each group (arbitrary ones; sort the group first to choose).
    pub fn first(&self, n: usize) -> DataSet<T> {
        self.reduce_group(move |mut group: Vec<T>| {
            group.truncate(n);
            group
        })
    }
}

/// A grouping whose groups are sorted (see [`Grouping::sort_group`]).
pub struct SortedGrouping<T, K> {
    grouping: Grouping<T, K>,
    order: Comparator<T>,
}

impl<T: Data, K: Key + SortKey> SortedGrouping<T, K> {
    /// Breaks ties of the order so far by a further `field`.
    pub fn then_sort_group<V: Ord, F>(self, field: F, order: Order) -> Self
    where
        F: Fn(&T) -> V + Send + Sync + 'static,
    {
        let first = self.order.clone();
        SortedGrouping {
            grouping: self.grouping,
            order: Arc::new(move |a: &T, b: &T| {
                first(a, b).then_with(|| order.apply(field(a).cmp(&field(b))))
            }),
        }
    }

    /// [`Grouping::reduce_group`] with each group in order.
    ///
    /// ```
    /// use eddy_dataset::Order;
    /// let mut out = eddy_dataset::example(|env| {
    ///     env.from_collection(vec![('a', 2), ('a', 9), ('a', 5)])
    ///         .group_by(|t: &(char, i32)| t.0)
    ///         .sort_group(|t: &(char, i32)| t.1, Order::Descending)
    ///         .reduce_group(|g: Vec<(char, i32)>| g.into_iter().map(|t| t.1).collect::<Vec<_>>())
    /// });
    /// assert_eq!(out, vec![9, 5, 2]);
    /// ```
    pub fn reduce_group<O: Data, I, F>(&self, function: F) -> DataSet<O>
    where
        I: IntoIterator<Item = O>,
        F: FnMut(Vec<T>) -> I + Clone + Send + Sync + 'static,
    {
        self.grouping
            .group_reduce(Some(self.order.clone()), function)
    }

    /// The first `n` records of each group, in the group's order.
    pub fn first(&self, n: usize) -> DataSet<T> {
        self.reduce_group(move |mut group: Vec<T>| {
            group.truncate(n);
            group
        })
    }
}

/// Merges one field of the second record into the first.
type FieldMerge<T> = Arc<dyn Fn(&mut T, &mut T) + Send + Sync>;

/// Field aggregations (Flink's `aggregate(SUM, 1).and(MIN, 2)`): each names a field by an
/// accessor and folds it with sum, min or max. Fields not named keep the value of one of
/// the records.
pub struct Aggregations<T> {
    fields: Vec<FieldMerge<T>>,
}

impl<T> Default for Aggregations<T> {
    fn default() -> Self {
        Aggregations { fields: Vec::new() }
    }
}

impl<T: 'static> Aggregations<T> {
    /// No aggregation yet.
    pub fn new() -> Self {
        Self::default()
    }

    fn with(mut self, merge: impl Fn(&mut T, &mut T) + Send + Sync + 'static) -> Self {
        self.fields.push(Arc::new(merge));
        self
    }

    /// Sums `field`.
    pub fn sum<N, F>(self, field: F) -> Self
    where
        N: AddAssign + Copy + 'static,
        F: Fn(&mut T) -> &mut N + Send + Sync + 'static,
    {
        self.with(move |a, b| {
            let v = *field(b);
            *field(a) += v;
        })
    }

    /// Keeps the smallest `field`.
    pub fn min<N, F>(self, field: F) -> Self
    where
        N: PartialOrd + Copy + 'static,
        F: Fn(&mut T) -> &mut N + Send + Sync + 'static,
    {
        self.with(move |a, b| {
            let v = *field(b);
            if v < *field(a) {
                *field(a) = v;
            }
        })
    }

    /// Keeps the largest `field`.
    pub fn max<N, F>(self, field: F) -> Self
    where
        N: PartialOrd + Copy + 'static,
        F: Fn(&mut T) -> &mut N + Send + Sync + 'static,
    {
        self.with(move |a, b| {
            let v = *field(b);
            if v > *field(a) {
                *field(a) = v;
            }
        })
    }

    /// The reduce function applying every aggregation.
    pub(crate) fn into_function(self) -> impl Fn(T, T) -> T + Clone + Send + Sync + 'static {
        let fields = Arc::new(self.fields);
        move |mut a: T, mut b: T| {
            for merge in fields.iter() {
                merge(&mut a, &mut b);
            }
            a
        }
    }
}
