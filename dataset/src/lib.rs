//! # Eddy DataSet
//!
//! Flink's DataSet batch API on Eddy's runtime: bounded data sets, joins and sorts that spill
//! under a memory budget, and iterations.
//!
//! Create an [`ExecutionEnvironment`], make [`DataSet`]s from collections, sequences or files,
//! transform them, and either [`collect`](DataSet::collect) a result or add file sinks and
//! [`execute`](ExecutionEnvironment::execute):
//!
//! ```
//! use eddy_dataset::{ExecutionEnvironment, Order};
//!
//! let env = ExecutionEnvironment::new();
//! env.set_parallelism(2);
//! let lines = env.from_collection(vec!["to be or".to_string(), "not to be".to_string()]);
//! let counts = lines
//!     .flat_map(|line| line.split(' ').map(|w| (w.to_string(), 1u64)).collect::<Vec<_>>())
//!     .group_by(|pair| pair.0.clone())
//!     .sum(|pair: &mut (String, u64)| &mut pair.1)
//!     .sort_partition(|pair| pair.0.clone(), Order::Ascending)
//!     .set_parallelism(1)
//!     .collect()
//!     .unwrap();
//! assert_eq!(counts[0], ("be".to_string(), 2));
//! ```
//!
//! ## How a program runs
//!
//! Transformations are lazy: each adds a node to a logical plan. `collect`, `count` and
//! `execute` translate the nodes they need into the runtime's job graph (the same one
//! DataStream jobs run on) and execute it in batch mode, one thread per parallel task, records
//! moving between tasks in batches. One-record-at-a-time operators (`map`, `filter`, the
//! combiners of `reduce`) are chained to their producer; keyed operations add a hash
//! exchange; blocking operators (sorts, group reductions, joins) consume their whole input
//! and emit when it ends. Two-input operators read both sides as one tagged stream, told by
//! end markers when a side is complete.
//!
//! ## Memory
//!
//! Sorts (`sort_partition`, `reduce_group`) and repartition joins draw on the environment's
//! paged budget ([`ExecutionEnvironment::set_memory_budget`], default a quarter of RAM) and
//! spill to temporary files beyond it, removed when the operator ends, fails or panics.
//! Hash aggregations (`reduce` and the aggregates built on it) keep one record per key.
//!
//! ## Where to look
//!
//! - [`DataSet`]: element-wise operators, `reduce`, `distinct`, `first`, `union`,
//!   partitioning, `sort_partition`, sinks.
//! - [`Grouping`] and [`SortedGrouping`]: per-key reductions, and which one to use.
//! - [`JoinBuilder`] (with [`JoinHint`]s), [`CoGroupBuilder`], [`CrossBuilder`],
//!   [`BroadcastBound`]: two-input operators.
//! - [`iteration`]: bulk and delta iterations (connected components in
//!   `examples/src/bin/connected_components.rs`).
//! - [`sort`], [`join`], [`spill`], [`key`]: the engines under the operators, usable alone.

mod binary;
mod data_set;
mod environment;
mod function;
mod grouping;
mod io;
pub mod iteration;
mod operators;
mod partition;
mod plan;
mod sources;

pub use binary::broadcast::BroadcastBound;
pub use binary::co_group::{CoGroupBuilder, CoGroupWhere, KeyedCoGroup};
pub use binary::cross::CrossBuilder;
pub use binary::join::{
    Inner, JoinBuilder, JoinHint, JoinWhere, KeyedJoin, Outer, BROADCAST_THRESHOLD,
};
pub use data_set::DataSet;
pub use eddy_runtime::{JobResult, OperatorMetrics};
pub use environment::ExecutionEnvironment;
pub use function::Order;
pub use grouping::{Aggregations, Grouping, SortedGrouping};
pub use io::CsvOptions;
pub use iteration::delta::{DeltaIteration, SolutionSet};
pub use join::JoinType;

/// Runs a small program at parallelism 1 and returns the records of the data set `build`
/// makes: the helper behind this crate's doc examples.
///
/// # Panics
/// If the job fails.
pub fn example<T: eddy_runtime::Data>(
    build: impl FnOnce(&ExecutionEnvironment) -> DataSet<T>,
) -> Vec<T> {
    let env = ExecutionEnvironment::new();
    env.set_parallelism(1);
    build(&env).collect().expect("example job failed")
}

// The engines under the API: keys, spill files, external sort, joins.
pub mod join;
pub mod key;
pub mod sort;
pub mod spill;
