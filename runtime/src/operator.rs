//! The operator lifecycle: [`Operator`] transforms records, [`Source`] produces them, and
//! [`Output`] is where both push what they emit.
//!
//! An operator has one method per in-band event (record, watermark, barrier, end of input);
//! all but [`Operator::process_record`] have defaults that do the usual thing. Operators are
//! single-threaded: a task calls them from one thread, so they take no locks.
//!
//! ```
//! use eddy_runtime::{Operator, Output, Record, Result};
//!
//! /// Doubles every number.
//! struct Double;
//! impl Operator<u64, u64> for Double {
//!     fn process_record(&mut self, r: Record<u64>, out: &mut dyn Output<u64>) -> Result<()> {
//!         out.collect(r.replace(r.value * 2))
//!     }
//! }
//!
//! let mut out: Vec<Record<u64>> = Vec::new();
//! Double.process_record(Record::new(21), &mut out).unwrap();
//! assert_eq!(out[0].value, 42);
//! ```

use crate::checkpoint::{RestoredState, SnapshotWriter};
use crate::element::{CheckpointBarrier, Record, StreamStatus, Watermark};
use crate::partition::KeyGroupRange;
use crate::state::StateBackend;
use crate::time::Clock;
use crate::Result;
use std::sync::Arc;

/// Where an operator or source emits. In a chain this is the next operator itself (a direct
/// call); at a chain's end it is a writer that batches records into channels.
pub trait Output<T>: Send {
    /// Emits one record.
    fn collect(&mut self, record: Record<T>) -> Result<()>;

    /// Forwards a watermark.
    fn emit_watermark(&mut self, watermark: Watermark) -> Result<()>;

    /// Forwards a change of stream status (idle or active). Outputs that do not care about
    /// event time may ignore it (the default).
    fn emit_status(&mut self, _status: StreamStatus) -> Result<()> {
        Ok(())
    }

    /// Forwards a checkpoint barrier, after the operators before it have snapshotted.
    fn emit_barrier(&mut self, barrier: CheckpointBarrier) -> Result<()>;

    /// Pushes partly filled batches downstream now (the input went idle).
    fn flush(&mut self) -> Result<()>;

    /// The input is exhausted: operators downstream finish and emit what they held back.
    fn end_of_input(&mut self) -> Result<()>;
}

/// Collecting into a `Vec` is handy in tests and in doc examples; it ignores everything but
/// records.
impl<T: Send> Output<T> for Vec<Record<T>> {
    fn collect(&mut self, record: Record<T>) -> Result<()> {
        self.push(record);
        Ok(())
    }
    fn emit_watermark(&mut self, _: Watermark) -> Result<()> {
        Ok(())
    }
    fn emit_barrier(&mut self, _: CheckpointBarrier) -> Result<()> {
        Ok(())
    }
    fn flush(&mut self) -> Result<()> {
        Ok(())
    }
    fn end_of_input(&mut self) -> Result<()> {
        Ok(())
    }
}

/// Whether a job emits updates as they happen or only final results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RuntimeMode {
    /// Every update is emitted as it happens (Flink's STREAMING).
    Streaming,
    /// Bounded input: keyed aggregations emit only their final results (Flink's BATCH).
    Batch,
    /// Batch when every source is bounded, streaming otherwise (Flink's AUTOMATIC).
    #[default]
    Automatic,
}

/// What an operator knows about the subtask it runs in.
pub struct OperatorContext<'a> {
    /// The operator's name.
    pub name: &'a str,
    /// This subtask's index, `0..parallelism`.
    pub subtask: u32,
    /// Number of parallel subtasks of the operator.
    pub parallelism: u32,
    /// Number of key groups of the job.
    pub max_parallelism: u32,
    /// Key groups this subtask owns (meaningful for keyed operators).
    pub key_groups: KeyGroupRange,
    /// The resolved mode: never [`RuntimeMode::Automatic`].
    pub mode: RuntimeMode,
    /// Keyed state of this subtask.
    pub state: &'a mut dyn StateBackend,
    /// Processing time.
    pub clock: &'a Arc<dyn Clock>,
}

impl OperatorContext<'_> {
    /// The state this subtask was restored from (empty on a fresh start): what the operator
    /// wrote in [`Operator::snapshot_state`], keyed entries limited to its key groups.
    pub fn restored(&self) -> &RestoredState {
        self.state.restored()
    }

    /// Per-subtask operator state written under `name` (a watermark, a position): this
    /// subtask's own value when the parallelism is unchanged, else the smallest of all (the
    /// most conservative for watermarks and positions). `None` on a fresh start.
    ///
    /// # Errors
    /// [`crate::Error::Internal`] when the stored bytes are not a `T`.
    pub fn restored_own<T: serde::de::DeserializeOwned + Ord + Clone>(
        &self,
        name: &str,
    ) -> Result<Option<T>> {
        let all: Vec<T> = self.restored().operator_state(name)?;
        if all.len() == self.parallelism as usize {
            return Ok(all.get(self.subtask as usize).cloned());
        }
        Ok(all.into_iter().min())
    }
}

/// A one-input operator from `I` to `O`.
pub trait Operator<I, O>: Send {
    /// Called once before the first record.
    fn open(&mut self, _ctx: &mut OperatorContext<'_>) -> Result<()> {
        Ok(())
    }

    /// Processes one record, emitting any number of records to `out`.
    fn process_record(&mut self, record: Record<I>, out: &mut dyn Output<O>) -> Result<()>;

    /// The input's watermark advanced; the default forwards it.
    fn process_watermark(&mut self, watermark: Watermark, out: &mut dyn Output<O>) -> Result<()> {
        out.emit_watermark(watermark)
    }

    /// The input went idle or became active again; the default forwards it.
    fn process_status(&mut self, status: StreamStatus, out: &mut dyn Output<O>) -> Result<()> {
        out.emit_status(status)
    }

    /// A checkpoint barrier reached the operator; emit now what must not be held across it
    /// (a combiner's partial aggregates). Called before [`snapshot_state`](Self::snapshot_state).
    fn prepare_snapshot_pre_barrier(
        &mut self,
        _checkpoint_id: u64,
        _out: &mut dyn Output<O>,
    ) -> Result<()> {
        Ok(())
    }

    /// A checkpoint barrier reached the operator: everything before it has been processed.
    /// Write what the operator keeps outside its state backend (timers, window contents,
    /// buffers, a sink's pending files) into `writer`; keyed state declared in the backend
    /// is snapshotted without help. The task forwards the barrier after this returns, and on
    /// restore the operator reads it back from [`OperatorContext::restored`] in `open`.
    fn snapshot_state(
        &mut self,
        _barrier: &CheckpointBarrier,
        _writer: &mut SnapshotWriter,
    ) -> Result<()> {
        Ok(())
    }

    /// Checkpoint `checkpoint_id` (and every one before it) is complete: transactional sinks
    /// commit what they pre-committed for it.
    fn notify_checkpoint_complete(&mut self, _checkpoint_id: u64) -> Result<()> {
        Ok(())
    }

    /// The task's input went idle: emit anything held back only to batch output (a print
    /// sink's buffer), so that a slow stream is not delayed. The default does nothing.
    fn flush(&mut self, _out: &mut dyn Output<O>) -> Result<()> {
        Ok(())
    }

    /// The input is exhausted: emit what was held back (final aggregates in batch mode).
    fn finish(&mut self, _out: &mut dyn Output<O>) -> Result<()> {
        Ok(())
    }
}

/// What a source reports after a [`Source::poll`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceStatus {
    /// More records may follow at once.
    More,
    /// Nothing to emit right now (an idle socket, a throttled generator); poll again later.
    Idle,
    /// The source is exhausted.
    Finished,
}

/// What a source knows about the subtask it runs in.
#[derive(Debug, Clone, Copy)]
pub struct SourceContext {
    /// This subtask's index, `0..parallelism`.
    pub subtask: u32,
    /// Number of parallel subtasks of the source.
    pub parallelism: u32,
}

/// A source of records, polled by its task between other mailbox work.
///
/// Pull-based (as Flink's FLIP-27 sources) so that the task can interleave checkpoint
/// triggers and cancellation between polls.
pub trait Source<T>: Send {
    /// Called once before the first poll; a parallel source picks its share of the input here.
    fn open(&mut self, _ctx: &SourceContext) -> Result<()> {
        Ok(())
    }

    /// Emits a bounded amount of records (about a batch) and says whether more may follow.
    fn poll(&mut self, out: &mut dyn Output<T>) -> Result<SourceStatus>;

    /// Writes the read position (as operator state) at a checkpoint, taken between two polls,
    /// so that a restored job replays exactly what followed. The default stores nothing: such
    /// a source starts over after a restore.
    fn snapshot_state(&mut self, _writer: &mut SnapshotWriter) -> Result<()> {
        Ok(())
    }

    /// Called after [`open`](Self::open) when the job is restored: continue from the
    /// positions in `restored` (every old subtask's, when the parallelism changed; each new
    /// subtask takes its share).
    fn restore_state(&mut self, _restored: &RestoredState) -> Result<()> {
        Ok(())
    }
}
