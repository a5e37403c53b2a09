//! # Eddy DataStream API
//!
//! Flink's DataStream API in Rust: create a [`StreamExecutionEnvironment`], add sources,
//! transform them ([`DataStream::map`], [`DataStream::filter`], [`DataStream::flat_map`],
//! [`DataStream::process`], [`DataStream::key_by`] then [`KeyedStream::reduce`] or
//! [`KeyedStream::sum`], [`DataStream::union`]), add sinks, and
//! [`execute`](StreamExecutionEnvironment::execute).
//!
//! ```
//! use eddy_datastream::StreamExecutionEnvironment;
//!
//! let env = StreamExecutionEnvironment::new();
//! let counts = env
//!     .from_collection(vec!["to be".to_string(), "or not to be".to_string()])
//!     .flat_map(|line: String| line.split(' ').map(|w| (w.to_string(), 1u64)).collect::<Vec<_>>())
//!     .key_by_ref(|pair: &(String, u64)| &pair.0)
//!     .sum(|pair: &mut (String, u64)| &mut pair.1)
//!     .collect();
//! env.execute("word count").unwrap();
//! let mut counts = counts.take();
//! counts.sort();
//! assert_eq!(counts[0], ("be".to_string(), 2));
//! ```
//!
//! A bounded job runs in batch mode by default: keyed aggregations emit one final result per
//! key. [`RuntimeMode::Streaming`] emits every update instead, as Flink does.

pub mod connected;
mod environment;
mod function;
mod operators;
pub mod process;
pub mod side_output;
mod sinks;
mod sources;
mod stream;
mod watermark;
pub mod window;

pub use eddy_runtime::{JobResult, OperatorMetrics, RuntimeMode};
pub use environment::{Generator, StreamExecutionEnvironment};
pub use function::{BoxError, Collector};
pub use sinks::collect::CollectedStream;
pub use stream::{DataStream, KeyedStream, TriggeredWindowedStream, WindowedStream};
pub use watermark::{Emission, TimestampAssigner, WatermarkStrategy, DEFAULT_WATERMARK_INTERVAL};

/// Runs a small job at parallelism 1 and returns what the stream built by `build` emitted,
/// in order: the helper behind this crate's doc examples.
///
/// # Panics
/// If the job fails.
pub fn example<T: eddy_runtime::Data>(
    build: impl FnOnce(&StreamExecutionEnvironment) -> DataStream<T>,
) -> Vec<T> {
    let env = StreamExecutionEnvironment::new();
    env.set_parallelism(1);
    let output = build(&env).collect();
    env.execute("example").expect("example job failed");
    output.take()
}

/// The README's code, compiled and run as a doctest so that it stays true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctest;
