//! The checkpoint flags shared by the examples that keep state (`wordcount`,
//! `window_aggregate`), and how they configure an environment.
//!
//! ```text
//! --checkpoint-dir DIR         checkpoint into DIR; restart from its latest checkpoint
//! --checkpoint-interval DUR    time between checkpoints (default 1s with a dir)
//! --state-backend heap|rocksdb where keyed state lives
//! --restore PATH               start from this checkpoint or savepoint
//! --savepoint-dir DIR          take a savepoint at the end of input, before finishing
//! --throttle RECORDS_PER_SEC   slow the source down (to watch, or kill, a job part-way)
//! ```
//!
//! With `--checkpoint-dir`, the `--output` file is written exactly once: a run killed at any
//! moment and started again with the same flags ends with the output of an uninterrupted run.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};
use eddy_datastream::StreamExecutionEnvironment;

use crate::duration::parse_millis;

/// Where keyed state lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StateBackendChoice {
    /// Objects in hash maps on the heap (fastest; bounded by memory).
    Heap,
    /// RocksDB on local disk (large state, incremental checkpoints).
    Rocksdb,
}

/// The checkpointing flags of a stateful example.
#[derive(Debug, Clone, Args)]
pub struct CheckpointArgs {
    /// Checkpoint into DIR (DIR/<job>/chk-<n>): a path, or an object-store URL such as
    /// file:///abs/dir; on start, resume from the latest complete checkpoint there. The
    /// --output file is then written exactly once.
    #[arg(long, value_name = "DIR")]
    pub checkpoint_dir: Option<PathBuf>,
    /// Time between two checkpoints.
    #[arg(long, value_name = "DUR", value_parser = parse_millis, default_value = "1s")]
    pub checkpoint_interval: i64,
    /// Where keyed state lives.
    #[arg(long, value_enum, value_name = "BACKEND", default_value_t = StateBackendChoice::Heap)]
    pub state_backend: StateBackendChoice,
    /// Start from this checkpoint or savepoint directory (or its _metadata file).
    #[arg(long, value_name = "PATH")]
    pub restore: Option<PathBuf>,
    /// Take a savepoint into DIR when the input is exhausted, before finishing.
    #[arg(long, value_name = "DIR")]
    pub savepoint_dir: Option<PathBuf>,
    /// Read at most this many input records per second.
    #[arg(long, value_name = "RECORDS_PER_SEC")]
    pub throttle: Option<f64>,
}

impl CheckpointArgs {
    /// Configures `env` as the flags say.
    pub fn apply(&self, env: &StreamExecutionEnvironment) {
        if let Some(dir) = &self.checkpoint_dir {
            let interval = Duration::from_millis(self.checkpoint_interval.max(1) as u64);
            env.enable_checkpointing(interval, dir);
        }
        if let Some(dir) = &self.savepoint_dir {
            env.set_savepoint_at_end(dir);
        }
        if let Some(path) = &self.restore {
            env.restore_from(path);
        }
        if let Some(rate) = self.throttle {
            env.set_source_throttle(rate);
        }
        if self.state_backend == StateBackendChoice::Rocksdb {
            env.use_rocksdb_state_backend();
        }
    }
}
