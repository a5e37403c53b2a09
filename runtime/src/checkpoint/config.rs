//! How a job checkpoints and how it recovers: [`CheckpointConfig`] and [`RestartStrategy`].

use std::path::PathBuf;
use std::time::Duration;

/// Whether barriers are aligned at tasks with several inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CheckpointingMode {
    /// Aligned barriers: every record is reflected in state exactly once (the default).
    #[default]
    ExactlyOnce,
    /// No alignment: a task snapshots when the last barrier arrives, having processed records
    /// of channels whose barrier came earlier; after a restore those are replayed again.
    AtLeastOnce,
}

/// Checkpointing settings (Flink's `CheckpointConfig`).
#[derive(Debug, Clone)]
pub struct CheckpointConfig {
    /// The checkpoint directory; checkpoints go to `dir/<job id>/chk-<n>/`.
    pub dir: PathBuf,
    /// Time between the start of two checkpoints.
    pub interval: Duration,
    /// Aligned (exactly-once) or not.
    pub mode: CheckpointingMode,
    /// A checkpoint not complete after this long is aborted.
    pub timeout: Duration,
    /// Least time between the end of one checkpoint and the start of the next.
    pub min_pause: Duration,
    /// Aborted or failed checkpoints in a row tolerated before the job fails.
    pub tolerable_failures: u32,
    /// Completed checkpoints kept (older ones are removed).
    pub retained: usize,
    /// When set, a savepoint is taken into this directory when every source has reached the
    /// end of its input, before the job finishes.
    pub savepoint_at_end: Option<PathBuf>,
}

impl CheckpointConfig {
    /// Checkpoints every `interval` into `dir`, with Flink's defaults otherwise (exactly once,
    /// 10 minute timeout, no pause, no tolerated failure, 3 retained).
    pub fn new(dir: impl Into<PathBuf>, interval: Duration) -> Self {
        CheckpointConfig {
            dir: dir.into(),
            interval,
            mode: CheckpointingMode::ExactlyOnce,
            timeout: Duration::from_secs(600),
            min_pause: Duration::ZERO,
            tolerable_failures: 0,
            retained: 3,
            savepoint_at_end: None,
        }
    }
}

/// What happens when a task fails (Flink's restart strategies). A restart restores every task
/// from the latest completed checkpoint, in the same process.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum RestartStrategy {
    /// The job fails at the first failure (the default).
    #[default]
    None,
    /// Up to `attempts` restarts, `delay` apart.
    FixedDelay {
        /// Restarts allowed in all.
        attempts: u32,
        /// Wait before each restart.
        delay: Duration,
    },
    /// Restarts as long as no more than `max_failures` happen within `interval`.
    FailureRate {
        /// Failures tolerated per interval.
        max_failures: u32,
        /// The measuring window.
        interval: Duration,
        /// Wait before each restart.
        delay: Duration,
    },
}
