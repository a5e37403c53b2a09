//! Iteration models on a [`Graph`](crate::Graph): vertex-centric (Pregel), scatter-gather
//! and gather-sum-apply, with an aggregator, a broadcast set and a choice of edge direction
//! ([`Config`]).
//!
//! Which one to use:
//! - [`Graph::run_vertex_centric`](crate::Graph::run_vertex_centric): one function per
//!   vertex and superstep that reads messages, updates the value and sends messages to any
//!   vertex; the most general (CDLP, PageRank with [`Config::all_active`]).
//! - [`Graph::run_scatter_gather`](crate::Graph::run_scatter_gather): the same split in two,
//!   sending (scatter) and updating (gather); only changed vertices scatter (BFS, SSSP, WCC).
//! - [`Graph::run_gather_sum_apply`](crate::Graph::run_gather_sum_apply): a per-edge
//!   gather, an associative sum and an apply; the most restricted, and the easiest to get
//!   right (WCC, SSSP).
//!
//! An aggregator folds what vertices contribute in one superstep; the next superstep reads
//! the result. Here superstep 1 counts the vertices and superstep 2 stores the count:
//!
//! ```
//! use eddy_gelly::{iteration::Config, Edge, Graph};
//! let env = eddy_dataset::ExecutionEnvironment::new();
//! let edges = vec![Edge::new(1u64, 2u64, ()), Edge::new(2, 3, ())];
//! let graph = Graph::from_edge_collection(&env, edges, |_| 0u64);
//! let config = Config::new(2).all_active(true).aggregator(|a: u64, b: u64| a + b);
//! let counted = graph.run_vertex_centric(&config, |v, _: Vec<()>, ctx| {
//!     match ctx.previous_aggregate() {
//!         None => ctx.aggregate(1),
//!         Some(n) => v.value = *n,
//!     }
//! });
//! assert!(counted.collect()?.0.iter().all(|v| v.value == 3));
//! # Ok::<(), eddy_gelly::Error>(())
//! ```
//!
//! All three run as one DataSet bulk iteration (see `engine.rs` for the plan of a
//! superstep), so they run wherever DataSet iterations run; [`crate::library`] has LDBC
//! algorithms written on them.

mod config;
mod engine;
mod gather_sum_apply;
mod scatter_gather;
mod vertex_centric;

pub use config::Config;
pub use engine::Context;
