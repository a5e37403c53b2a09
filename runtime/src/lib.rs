//! # Eddy runtime
//!
//! The layer every Eddy API runs on. It knows nothing of windows, patterns or graphs: it runs
//! a logical [`JobGraph`] of operators as parallel tasks, one thread each, joined by bounded
//! channels that carry batches of records, watermarks, checkpoint barriers and end-of-input.
//!
//! - [`graph`]: the logical job graph, built with typed calls.
//! - [`operator`]: the operator and source lifecycle traits, and [`Output`].
//! - [`executor`]: planning (parallelism, chaining) and local execution.
//! - [`channel`]: bounded queues and the batching [`channel::ChannelWriter`].
//! - [`partition`]: forward, rebalance, shuffle, broadcast and key-group hash routing.
//! - [`element`]: the in-band [`Message`] of every channel.
//! - [`state`]: keyed state behind the [`state::StateBackend`] trait.
//! - [`checkpoint`]: checkpoints, savepoints, restore and restart strategies.
//! - [`client`]: a job running in the background, with savepoints, stop and cancel.
//! - [`time`]: processing time behind a [`time::Clock`].
//! - [`cluster`]: plan and worker modes, how a program runs on an `eddy` cluster.
//! - [`iteration`]: bulk and delta iterations as one planned job: heads, tails, feedback,
//!   the superstep barrier and aggregators.
//! - [`memory`]: the paged memory budget of batch operators, and their spill directories.
//!
//! Most users never touch this crate directly: `eddy-datastream` builds the graph for them.

pub mod channel;
pub mod checkpoint;
pub mod client;
pub mod cluster;
mod data;
pub mod element;
mod error;
pub mod executor;
pub mod graph;
pub mod iteration;
pub mod memory;
pub mod operator;
pub mod partition;
pub mod state;
mod task;
pub mod time;

pub use client::JobClient;
pub use data::{Data, Key};
pub use element::{CheckpointBarrier, Message, Record, StreamStatus, Timestamp, Watermark};
pub use error::{Error, Result};
pub use executor::{
    execute, execute_controlled, execute_observed, ExecutionConfig, JobResult, OperatorMetrics,
};
pub use graph::{JobGraph, NodeId};
pub use operator::{
    Operator, OperatorContext, Output, RuntimeMode, Source, SourceContext, SourceStatus,
};
pub use partition::Partitioner;
