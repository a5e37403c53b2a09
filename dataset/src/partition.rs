//! Explicit partitioning: which subtask of the next operator each record goes to.
//!
//! - [`DataSet::rebalance`]: round-robin, to even out skewed partitions.
//! - [`DataSet::partition_by_hash`]: by the hash of a key (equal keys meet).
//! - [`DataSet::partition_by_range`]: by ranges of an ordered key, with boundaries taken
//!   from a sample of the input (a job of its own, run first), so that partition `i` holds
//!   smaller keys than partition `i + 1`: sorting each partition then gives a total order.
//! - [`DataSet::partition_custom`]: by a function of the key.
//!
//! ```
//! use eddy_dataset::Order;
//! let env = eddy_dataset::ExecutionEnvironment::new();
//! env.set_parallelism(3);
//! let parts = env
//!     .from_collection((0..100u32).rev())
//!     .partition_by_range(|x: &u32| *x)
//!     .sort_partition(|x: &u32| *x, Order::Ascending)
//!     .map_partition(|part: Vec<u32>| Some(part))
//!     .collect()
//!     .unwrap();
//! let mut ranges: Vec<(u32, u32)> = parts.iter().filter(|p| !p.is_empty()).map(|p| (p[0], *p.last().unwrap())).collect();
//! ranges.sort();
//! assert!(ranges.windows(2).all(|w| w[0].1 < w[1].0));
//! ```

use std::sync::Arc;

use eddy_runtime::partition::hash_key;
use eddy_runtime::{Data, Key, Partitioner};

use crate::data_set::{DataSet, Parallelism};
use crate::function::KeySelector;
use crate::operators::identity::Identity;
use crate::operators::sample::Sample;
use crate::plan::{hashes_for_subtasks, PlanNode};

/// Keys sampled per producer subtask to choose range boundaries.
const SAMPLE_PER_SUBTASK: usize = 1024;

impl<T: Data> DataSet<T> {
    /// Distributes records round-robin over the next operator's subtasks.
    pub fn rebalance(&self) -> DataSet<T> {
        self.unary(
            "rebalance",
            Partitioner::Rebalance,
            Parallelism::Default,
            || Box::new(Identity),
        )
    }

    /// Sends records with equal keys to the same subtask.
    pub fn partition_by_hash<K: Key, F>(&self, key: F) -> DataSet<T>
    where
        F: Fn(&T) -> K + Send + Sync + 'static,
    {
        let partitioner = Partitioner::Hash(Arc::new(move |t: &T| hash_key(&key(t))));
        self.unary(
            "partition_by_hash",
            partitioner,
            Parallelism::Default,
            || Box::new(Identity),
        )
    }

    /// Sends record `t` to subtask `partitioner(&key(t), parallelism)` (taken modulo the
    /// parallelism).
    pub fn partition_custom<K, F, P>(&self, partitioner: P, key: F) -> DataSet<T>
    where
        F: Fn(&T) -> K + Send + Sync + 'static,
        P: Fn(&K, usize) -> usize + Send + Sync + 'static,
    {
        let (key, partitioner) = (Arc::new(key), Arc::new(partitioner));
        let input = self.node.clone();
        let node = PlanNode::new::<T>(
            "partition_custom",
            None,
            vec![input],
            Box::new(move |t, node, inputs| {
                let p = t.parallelism(node);
                let targets = hashes_for_subtasks(p, t.settings.config.max_parallelism);
                let (key, partitioner) = (key.clone(), partitioner.clone());
                let route = Partitioner::Hash(Arc::new(move |x: &T| {
                    targets[partitioner(&key(x), p as usize) % p as usize]
                }));
                let id = t
                    .graph
                    .add_operator::<T, T, _>(node.name(), p, || Box::new(Identity));
                t.connect(inputs[0], id, route)?;
                Ok(id)
            }),
        );
        DataSet::from_node(self.env.clone(), node)
    }

    /// Sends records to subtasks by ranges of `key`: all keys of subtask `i` are at most
    /// those of subtask `i + 1`. The ranges come from a sample of the input, taken by a job
    /// run before this one (which computes the input an extra time).
    pub fn partition_by_range<K: Key + Ord + Sync, F>(&self, key: F) -> DataSet<T>
    where
        F: Fn(&T) -> K + Send + Sync + 'static,
    {
        let key: KeySelector<T, K> = Arc::new(key);
        let input = self.clone();
        let node = PlanNode::new::<T>(
            "partition_by_range",
            None,
            vec![self.node.clone()],
            Box::new(move |t, node, inputs| {
                let p = t.parallelism(node);
                let sample_key = key.clone();
                let sample = input.unary(
                    "range sample",
                    Partitioner::Forward,
                    Parallelism::Input,
                    move || Box::new(Sample::new(sample_key.clone(), SAMPLE_PER_SUBTASK)),
                );
                let mut keys: Vec<K> = t.materialize::<K>(&sample.node)?.concat();
                keys.sort();
                let boundaries: Vec<K> = (1..p as usize)
                    .filter_map(|i| keys.get(i * keys.len() / p as usize).cloned())
                    .collect();
                let targets = hashes_for_subtasks(p, t.settings.config.max_parallelism);
                let key = key.clone();
                let route = Partitioner::Hash(Arc::new(move |x: &T| {
                    let k = key(x);
                    targets[boundaries.partition_point(|b| *b < k)]
                }));
                let id = t
                    .graph
                    .add_operator::<T, T, _>(node.name(), p, || Box::new(Identity));
                t.connect(inputs[0], id, route)?;
                Ok(id)
            }),
        );
        DataSet::from_node(self.env.clone(), node)
    }
}
