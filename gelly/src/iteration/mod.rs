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
