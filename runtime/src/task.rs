//! Tasks: one thread running a chain of operators, fed by a source or by an input queue.
//!
//! A chain is built back to front as nested [`Link`]s: each [`ChainedOperator`] owns the
//! [`NodeOutput`] it emits into, which owns the next links (more chained operators, or
//! [`crate::channel::ChannelWriter`]s at the chain's end). A record therefore passes through a
//! chain by direct calls, never through a queue.
//!
//! The input loop ([`InputTask`]) is the task's mailbox: it takes batches, watermarks, barriers
//! and end-of-input from one queue in arrival order, keeps the watermark of every input channel
//! and forwards their minimum, aligns checkpoint barriers across channels, and flushes its
//! outputs whenever the queue runs dry so that a slow stream is not held in half-full batches.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, TryRecvError};

use crate::checkpoint::control::Stop;
use crate::checkpoint::coordinator::{Ack, CheckpointHub, Outcome, Requested};
use crate::checkpoint::{RestoredState, SnapshotWriter};
use crate::element::{CheckpointBarrier, Envelope, Message, Record, StreamStatus, Watermark};
use crate::operator::{
    Operator, OperatorContext, Output, RuntimeMode, Source, SourceContext, SourceStatus,
};
use crate::partition::KeyGroupRange;
use crate::state::StateBackend;
use crate::time::Clock;
use crate::{Error, Result};

/// An [`Output`] that is part of a task's chain, with the lifecycle call only the task makes.
pub(crate) trait Link<T>: Output<T> {
    /// Opens every operator from here to the chain's end, in the task's thread.
    fn open(&mut self) -> Result<()>;
}

/// Record counts of one operator, summed over its subtasks.
#[derive(Debug, Default)]
pub(crate) struct NodeMetrics {
    pub(crate) records_in: AtomicU64,
    pub(crate) records_out: AtomicU64,
}

/// How often a task publishes its local counters.
const PUBLISH_EVERY: u64 = 1 << 16;

/// The output of one operator: counts what it emits and hands it to every consumer link.
pub(crate) struct NodeOutput<T> {
    outs: Vec<Box<dyn Link<T>>>,
    count: u64,
    published: u64,
    metrics: Arc<NodeMetrics>,
}

impl<T> NodeOutput<T> {
    pub(crate) fn new(outs: Vec<Box<dyn Link<T>>>, metrics: Arc<NodeMetrics>) -> Self {
        NodeOutput {
            outs,
            count: 0,
            published: 0,
            metrics,
        }
    }

    fn publish(&mut self) {
        self.metrics
            .records_out
            .fetch_add(self.count - self.published, Ordering::Relaxed);
        self.published = self.count;
    }

    /// Records emitted so far.
    pub(crate) fn emitted(&self) -> u64 {
        self.count
    }

    fn for_each(&mut self, mut f: impl FnMut(&mut dyn Link<T>) -> Result<()>) -> Result<()> {
        for out in &mut self.outs {
            f(out.as_mut())?;
        }
        Ok(())
    }
}

impl<T: Clone + Send> Output<T> for NodeOutput<T> {
    #[inline]
    fn collect(&mut self, record: Record<T>) -> Result<()> {
        self.count += 1;
        match self.outs.as_mut_slice() {
            [] => Ok(()),
            [only] => only.collect(record),
            [rest @ .., last] => {
                for out in rest {
                    out.collect(record.clone())?;
                }
                last.collect(record)
            }
        }
    }

    fn emit_watermark(&mut self, watermark: Watermark) -> Result<()> {
        self.for_each(|o| o.emit_watermark(watermark))
    }

    fn emit_status(&mut self, status: StreamStatus) -> Result<()> {
        self.for_each(|o| o.emit_status(status))
    }

    fn emit_barrier(&mut self, barrier: CheckpointBarrier) -> Result<()> {
        self.for_each(|o| o.emit_barrier(barrier))
    }

    fn flush(&mut self) -> Result<()> {
        if self.count - self.published >= PUBLISH_EVERY {
            self.publish();
        }
        self.for_each(|o| o.flush())
    }

    fn end_of_input(&mut self) -> Result<()> {
        self.publish();
        self.for_each(|o| o.end_of_input())
    }
}

impl<T: Clone + Send> Link<T> for NodeOutput<T> {
    fn open(&mut self) -> Result<()> {
        self.for_each(|o| o.open())
    }
}

impl<T> Drop for NodeOutput<T> {
    /// A task that ends without end-of-input (failed, cancelled, stopped) still counts.
    fn drop(&mut self) {
        self.publish();
    }
}

/// Where a subtask runs: what its operators' contexts are made of.
#[derive(Debug, Clone)]
pub(crate) struct SubtaskInfo {
    /// The node's index in the graph (names its checkpoint files).
    pub(crate) node: usize,
    pub(crate) subtask: u32,
    pub(crate) parallelism: u32,
    pub(crate) max_parallelism: u32,
    pub(crate) mode: RuntimeMode,
    pub(crate) clock: Arc<dyn Clock>,
    /// Present when the job checkpoints.
    pub(crate) hub: Option<Arc<CheckpointHub>>,
    /// Which state backend the subtask's operators get.
    pub(crate) state_backend: crate::state::StateBackendKind,
}

impl SubtaskInfo {
    pub(crate) fn key_groups(&self) -> KeyGroupRange {
        KeyGroupRange::for_subtask(self.max_parallelism, self.parallelism, self.subtask)
    }
}

/// An operator in a chain, with the output it emits into.
pub(crate) struct ChainedOperator<I, O> {
    name: Arc<str>,
    operator: Box<dyn Operator<I, O>>,
    next: NodeOutput<O>,
    info: SubtaskInfo,
    state: Box<dyn StateBackend>,
    count: u64,
    published: u64,
    metrics: Arc<NodeMetrics>,
    /// The newest completed checkpoint the operator was told of.
    notified: u64,
}

impl<I, O> ChainedOperator<I, O> {
    pub(crate) fn new(
        name: Arc<str>,
        operator: Box<dyn Operator<I, O>>,
        next: NodeOutput<O>,
        info: SubtaskInfo,
        state: Box<dyn StateBackend>,
        metrics: Arc<NodeMetrics>,
    ) -> Self {
        ChainedOperator {
            name,
            operator,
            next,
            info,
            state,
            count: 0,
            published: 0,
            metrics,
            notified: 0,
        }
    }

    /// Tells the operator of checkpoints completed since it last heard.
    fn notify_completed(&mut self) -> Result<()> {
        let Some(completed) = self.info.hub.as_ref().map(|hub| hub.completed()) else {
            return Ok(());
        };
        if completed > self.notified {
            self.notified = completed;
            self.state.notify_checkpoint_complete(completed);
            self.guarded(|op, _| op.notify_checkpoint_complete(completed))?;
        }
        Ok(())
    }

    fn publish(&mut self) {
        self.metrics
            .records_in
            .fetch_add(self.count - self.published, Ordering::Relaxed);
        self.published = self.count;
    }

    /// Runs a call into user code, turning a panic into an error that names this operator.
    /// A failure further down the chain has already been attributed and passes through.
    #[inline]
    fn guarded(
        &mut self,
        f: impl FnOnce(&mut dyn Operator<I, O>, &mut NodeOutput<O>) -> Result<()>,
    ) -> Result<()> {
        let (operator, next) = (&mut self.operator, &mut self.next);
        match catch_unwind(AssertUnwindSafe(|| f(operator.as_mut(), next))) {
            Ok(result) => result,
            Err(panic) => Err(Error::user(&*self.name, panic_message(&*panic))),
        }
    }
}

impl<I, O> Drop for ChainedOperator<I, O> {
    /// A task that ends without end-of-input (failed, cancelled, stopped) still counts.
    fn drop(&mut self) {
        self.publish();
    }
}

/// The text of a panic payload.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panicked".to_string()
    }
}

impl<I: Send, O: Clone + Send> Output<I> for ChainedOperator<I, O> {
    #[inline]
    fn collect(&mut self, record: Record<I>) -> Result<()> {
        self.count += 1;
        self.guarded(|op, next| op.process_record(record, next))
    }

    fn emit_watermark(&mut self, watermark: Watermark) -> Result<()> {
        self.guarded(|op, next| op.process_watermark(watermark, next))
    }

    fn emit_status(&mut self, status: StreamStatus) -> Result<()> {
        self.guarded(|op, next| op.process_status(status, next))
    }

    fn emit_barrier(&mut self, barrier: CheckpointBarrier) -> Result<()> {
        self.guarded(|op, next| op.prepare_snapshot_pre_barrier(barrier.id, next))?;
        if let Some(hub) = self.info.hub.clone() {
            let key_groups = self.info.key_groups();
            let mut writer = SnapshotWriter::for_checkpoint(
                key_groups,
                self.info.max_parallelism,
                barrier.id,
                barrier.savepoint,
            );
            let started = Instant::now();
            self.guarded(|op, _| op.snapshot_state(&barrier, &mut writer))?;
            self.state.snapshot(&mut writer)?;
            let (snapshot, deferred) = writer.into_parts();
            hub.acknowledge(Ack {
                id: barrier.id,
                node: self.info.node,
                subtask: self.info.subtask,
                key_groups,
                snapshot,
                deferred,
                sync: started.elapsed(),
            });
        }
        self.next.emit_barrier(barrier)?;
        self.notify_completed()
    }

    fn flush(&mut self) -> Result<()> {
        if self.count - self.published >= PUBLISH_EVERY {
            self.publish();
        }
        self.notify_completed()?;
        self.guarded(|op, next| op.flush(next))?;
        self.next.flush()
    }

    fn end_of_input(&mut self) -> Result<()> {
        self.publish();
        self.guarded(|op, next| op.finish(next))?;
        self.next.end_of_input()
    }
}

impl<I: Send, O: Clone + Send> Link<I> for ChainedOperator<I, O> {
    fn open(&mut self) -> Result<()> {
        let info = &self.info;
        let mut ctx = OperatorContext {
            name: &self.name,
            subtask: info.subtask,
            parallelism: info.parallelism,
            max_parallelism: info.max_parallelism,
            key_groups: info.key_groups(),
            mode: info.mode,
            state: self.state.as_mut(),
            clock: &info.clock,
        };
        let operator = &mut self.operator;
        match catch_unwind(AssertUnwindSafe(|| operator.open(&mut ctx))) {
            Ok(result) => result?,
            Err(panic) => return Err(Error::user(&*self.name, panic_message(&*panic))),
        }
        self.next.open()
    }
}

/// What a task thread runs.
pub(crate) trait TaskBody: Send {
    fn run(self: Box<Self>) -> Result<()>;
}

/// Set when any task of the job fails; sources stop at their next poll.
pub(crate) type FailureFlag = Arc<AtomicBool>;

/// How long an idle source waits before polling again.
const IDLE_BACKOFF: Duration = Duration::from_millis(1);
/// How long a busy source may hold records in half-full batches.
const SOURCE_FLUSH_INTERVAL: Duration = Duration::from_millis(50);

/// A task whose chain starts with a source.
pub(crate) struct SourceTask<O> {
    pub(crate) name: Arc<str>,
    pub(crate) source: Box<dyn Source<O>>,
    pub(crate) context: SourceContext,
    pub(crate) output: NodeOutput<O>,
    pub(crate) failed: FailureFlag,
    pub(crate) info: SubtaskInfo,
    pub(crate) restored: RestoredState,
    /// At most this many records per second from this subtask.
    pub(crate) throttle: Option<f64>,
}

/// How long a throttled source sleeps at most before looking at its mailbox again.
const THROTTLE_SLICE: Duration = Duration::from_millis(10);

impl<O: Clone + Send> SourceTask<O> {
    /// Runs a call into the source, turning a panic into an error naming it.
    fn guarded<R>(
        &mut self,
        f: impl FnOnce(&mut dyn Source<O>, &mut NodeOutput<O>) -> Result<R>,
    ) -> Result<R> {
        let (source, output) = (&mut self.source, &mut self.output);
        match catch_unwind(AssertUnwindSafe(|| f(source.as_mut(), output))) {
            Ok(result) => result,
            Err(panic) => Err(Error::user(&*self.name, panic_message(&*panic))),
        }
    }

    /// Starts the checkpoint the coordinator asked for, if it is new: snapshots the read
    /// position, acknowledges, and sends the barrier down the chain (after the end of event
    /// time, for a draining stop). Returns the request it served.
    fn inject_requested(&mut self, injected: &mut u64) -> Result<Option<Requested>> {
        let Some(hub) = self.info.hub.clone() else {
            return Ok(None);
        };
        let requested = hub.requested();
        if requested.id <= *injected {
            return Ok(None);
        }
        *injected = requested.id;
        if requested.stop == Stop::Drain {
            // Drain: every window fires before the savepoint.
            self.output.emit_watermark(Watermark::MAX)?;
        }
        let key_groups = self.info.key_groups();
        let started = Instant::now();
        let mut writer = SnapshotWriter::new(key_groups, self.info.max_parallelism);
        self.guarded(|source, _| source.snapshot_state(&mut writer))?;
        hub.acknowledge(Ack {
            id: requested.id,
            node: self.info.node,
            subtask: self.info.subtask,
            key_groups,
            snapshot: writer.finish()?,
            deferred: Default::default(),
            sync: started.elapsed(),
        });
        let barrier = CheckpointBarrier {
            id: requested.id,
            triggered_at: self.info.clock.now_millis(),
            savepoint: requested.savepoint,
        };
        self.output.emit_barrier(barrier)?;
        Ok(Some(requested))
    }

    /// After the barrier of a suspending stop: waits, reading nothing, until the savepoint
    /// completes (the coordinator then ends the job through the failure flag) or fails (the
    /// source goes on).
    fn suspend(&mut self, hub: &CheckpointHub, id: u64) -> Result<()> {
        self.output.flush()?;
        loop {
            if self.failed.load(Ordering::Relaxed) {
                return Err(Error::Cancelled);
            }
            if hub.savepoint_outcome(id) == Outcome::Failed {
                return Ok(());
            }
            std::thread::sleep(IDLE_BACKOFF);
        }
    }
}

impl<O: Clone + Send> TaskBody for SourceTask<O> {
    fn run(mut self: Box<Self>) -> Result<()> {
        let context = self.context;
        self.guarded(|source, _| source.open(&context))?;
        if self.restored.is_restored {
            let restored = std::mem::take(&mut self.restored);
            self.guarded(|source, _| source.restore_state(&restored))?;
        }
        self.output.open()?;
        let started = Instant::now();
        let mut injected = 0;
        let mut last_flush = Instant::now();
        let mut drained = false;
        loop {
            if self.failed.load(Ordering::Relaxed) {
                return Err(Error::Cancelled);
            }
            if let Some(requested) = self.inject_requested(&mut injected)? {
                match requested.stop {
                    Stop::No => {}
                    Stop::Drain => {
                        drained = true;
                        break;
                    }
                    Stop::Suspend => {
                        let hub = self.info.hub.clone().expect("a request came through it");
                        self.suspend(&hub, requested.id)?;
                    }
                }
            }
            if let Some(rate) = self.throttle {
                let due = self.output.emitted() as f64 / rate;
                let elapsed = started.elapsed().as_secs_f64();
                if elapsed < due {
                    self.output.flush()?;
                    last_flush = Instant::now();
                    std::thread::sleep(THROTTLE_SLICE.min(Duration::from_secs_f64(due - elapsed)));
                    continue;
                }
            }
            match self.guarded(|source, output| source.poll(output))? {
                SourceStatus::More => {
                    if last_flush.elapsed() >= SOURCE_FLUSH_INTERVAL {
                        self.output.flush()?;
                        last_flush = Instant::now();
                    }
                }
                SourceStatus::Idle => {
                    self.output.flush()?;
                    last_flush = Instant::now();
                    std::thread::sleep(IDLE_BACKOFF);
                }
                SourceStatus::Finished => break,
            }
        }
        if let Some(hub) = self.info.hub.clone() {
            if hub.savepoint_at_end && !drained {
                // Wait, position at the end, for the savepoint every source takes together.
                hub.source_exhausted();
                self.output.flush()?;
                loop {
                    if self.failed.load(Ordering::Relaxed) {
                        return Err(Error::Cancelled);
                    }
                    if self
                        .inject_requested(&mut injected)?
                        .is_some_and(|r| r.savepoint)
                    {
                        break;
                    }
                    std::thread::sleep(IDLE_BACKOFF);
                }
            }
            // Announce the end first, then pass on a barrier requested meanwhile: either this
            // source carries it, or the coordinator sees the end and aborts the checkpoint.
            hub.source_finished();
            self.inject_requested(&mut injected)?;
        }
        if !drained {
            // A bounded source ends event time: every timer and window may fire.
            self.output.emit_watermark(Watermark::MAX)?;
        }
        self.output.end_of_input()
    }
}

/// A task whose chain is fed by an input queue: the mailbox loop.
pub(crate) struct InputTask<I> {
    pub(crate) receiver: Receiver<Envelope<I>>,
    pub(crate) num_channels: usize,
    pub(crate) head: Box<dyn Link<I>>,
    /// Whether checkpoint barriers are aligned (exactly once) or not (at least once).
    pub(crate) aligned: bool,
}

impl<I: Send> TaskBody for InputTask<I> {
    fn run(mut self: Box<Self>) -> Result<()> {
        self.head.open()?;
        let mut gate = InputGate::new(self.num_channels);
        gate.aligned = self.aligned;
        while !gate.all_ended() {
            let envelope = match gate.replay.pop_front() {
                Some(envelope) => envelope,
                None => match self.receiver.try_recv() {
                    Ok(envelope) => envelope,
                    Err(TryRecvError::Empty) => {
                        self.head.flush()?;
                        self.receiver.recv().map_err(|_| Error::Disconnected)?
                    }
                    Err(TryRecvError::Disconnected) => return Err(Error::Disconnected),
                },
            };
            gate.handle(envelope, self.head.as_mut())?;
        }
        self.head.end_of_input()
    }
}

/// Per-channel bookkeeping of an input: watermarks, end-of-input and barrier alignment.
struct InputGate<T> {
    watermarks: Vec<Watermark>,
    ended: Vec<bool>,
    /// Channels whose sender declared itself idle: left out of the watermark minimum.
    idle: Vec<bool>,
    /// Whether this gate told its chain that all its inputs are idle.
    gate_idle: bool,
    open_channels: usize,
    current: Watermark,
    /// The checkpoint being aligned and which channels have delivered its barrier.
    aligning: Option<(CheckpointBarrier, Vec<bool>)>,
    /// Messages of channels that delivered the barrier, held until alignment completes.
    blocked: Vec<VecDeque<Envelope<T>>>,
    /// Held messages released by a completed alignment, processed before new input.
    replay: VecDeque<Envelope<T>>,
    /// Whether channels that delivered the barrier are held back until alignment (exactly
    /// once); at least once only waits for the last barrier. Savepoints always align.
    aligned: bool,
}

impl<T> InputGate<T> {
    fn new(channels: usize) -> Self {
        InputGate {
            watermarks: vec![Watermark::MIN; channels],
            ended: vec![false; channels],
            idle: vec![false; channels],
            gate_idle: false,
            open_channels: channels,
            current: Watermark::MIN,
            aligning: None,
            blocked: (0..channels).map(|_| VecDeque::new()).collect(),
            replay: VecDeque::new(),
            aligned: true,
        }
    }

    fn all_ended(&self) -> bool {
        self.open_channels == 0 && self.replay.is_empty()
    }

    fn handle(&mut self, envelope: Envelope<T>, head: &mut dyn Output<T>) -> Result<()> {
        let channel = envelope.channel as usize;
        if channel >= self.ended.len() {
            return Err(Error::Internal(format!(
                "message on unknown channel {channel}"
            )));
        }
        if let Some((barrier, arrived)) = &self.aligning {
            if arrived[channel] && (self.aligned || barrier.savepoint) {
                self.blocked[channel].push_back(envelope);
                return Ok(());
            }
        }
        match envelope.message {
            Message::Records(batch) => {
                for record in batch {
                    head.collect(record)?;
                }
            }
            Message::Watermark(watermark) => {
                self.watermarks[channel] = self.watermarks[channel].max(watermark);
                self.advance_watermark(head)?;
            }
            Message::Status(status) => {
                self.idle[channel] = status == StreamStatus::Idle;
                self.update_status(head)?;
                self.advance_watermark(head)?;
            }
            Message::Barrier(barrier) => {
                match &mut self.aligning {
                    None => {
                        let mut arrived = self.ended.clone();
                        arrived[channel] = true;
                        self.aligning = Some((barrier, arrived));
                    }
                    Some((pending, arrived)) if pending.id == barrier.id => arrived[channel] = true,
                    Some((pending, _)) => {
                        return Err(Error::Internal(format!(
                            "barrier {} arrived while aligning checkpoint {}",
                            barrier.id, pending.id
                        )))
                    }
                }
                self.complete_alignment(head)?;
            }
            Message::EndOfInput => {
                if self.ended[channel] {
                    return Err(Error::Internal(format!("channel {channel} ended twice")));
                }
                self.ended[channel] = true;
                self.open_channels -= 1;
                self.watermarks[channel] = Watermark::MAX;
                if let Some((_, arrived)) = &mut self.aligning {
                    arrived[channel] = true;
                }
                self.complete_alignment(head)?;
                self.advance_watermark(head)?;
            }
        }
        Ok(())
    }

    /// Tells the chain when all open inputs went idle, and when one became active again.
    fn update_status(&mut self, head: &mut dyn Output<T>) -> Result<()> {
        let all_idle = (0..self.idle.len()).all(|c| self.ended[c] || self.idle[c])
            && self.idle.iter().any(|i| *i);
        if all_idle != self.gate_idle {
            self.gate_idle = all_idle;
            head.emit_status(if all_idle {
                StreamStatus::Idle
            } else {
                StreamStatus::Active
            })?;
        }
        Ok(())
    }

    /// Forwards the minimum watermark over active channels when it advanced (an ended channel
    /// counts as the end of time; an idle one not at all).
    fn advance_watermark(&mut self, head: &mut dyn Output<T>) -> Result<()> {
        let min = (0..self.watermarks.len())
            .filter(|&c| !self.idle[c] || self.ended[c])
            .map(|c| self.watermarks[c])
            .min();
        let Some(min) = min else {
            return Ok(());
        };
        if min > self.current {
            self.current = min;
            head.emit_watermark(min)?;
        }
        Ok(())
    }

    /// Once every channel delivered the barrier (or ended), snapshots and forwards it through
    /// the chain and releases the held messages.
    fn complete_alignment(&mut self, head: &mut dyn Output<T>) -> Result<()> {
        let done = matches!(&self.aligning, Some((_, arrived)) if arrived.iter().all(|a| *a));
        if !done {
            return Ok(());
        }
        if let Some((barrier, _)) = self.aligning.take() {
            head.emit_barrier(barrier)?;
        }
        for queue in &mut self.blocked {
            self.replay.extend(queue.drain(..));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records what reaches the head of a chain, in order.
    #[derive(Default)]
    struct Trace(Vec<String>);
    impl Output<u32> for Trace {
        fn collect(&mut self, r: Record<u32>) -> Result<()> {
            self.0.push(format!("r{}", r.value));
            Ok(())
        }
        fn emit_watermark(&mut self, w: Watermark) -> Result<()> {
            self.0.push(format!("w{}", w.0));
            Ok(())
        }
        fn emit_barrier(&mut self, b: CheckpointBarrier) -> Result<()> {
            self.0.push(format!("b{}", b.id));
            Ok(())
        }
        fn emit_status(&mut self, s: StreamStatus) -> Result<()> {
            self.0.push(
                if s == StreamStatus::Idle {
                    "idle"
                } else {
                    "active"
                }
                .to_string(),
            );
            Ok(())
        }
        fn flush(&mut self) -> Result<()> {
            Ok(())
        }
        fn end_of_input(&mut self) -> Result<()> {
            Ok(())
        }
    }

    fn feed(gate: &mut InputGate<u32>, trace: &mut Trace, channel: u32, message: Message<u32>) {
        gate.handle(Envelope { channel, message }, trace).unwrap();
        while let Some(env) = gate.replay.pop_front() {
            gate.handle(env, trace).unwrap();
        }
    }

    #[test]
    fn watermark_is_the_minimum_over_channels_and_ended_channels_do_not_hold_it() {
        let (mut gate, mut trace) = (InputGate::new(2), Trace::default());
        feed(&mut gate, &mut trace, 0, Message::Watermark(Watermark(10)));
        feed(&mut gate, &mut trace, 1, Message::Watermark(Watermark(5)));
        feed(&mut gate, &mut trace, 1, Message::Watermark(Watermark(20)));
        feed(&mut gate, &mut trace, 0, Message::EndOfInput);
        assert_eq!(trace.0, ["w5", "w10", "w20"]);
        assert!(!gate.all_ended());
    }

    #[test]
    fn idle_channels_do_not_hold_back_the_watermark() {
        let (mut gate, mut trace) = (InputGate::new(2), Trace::default());
        feed(&mut gate, &mut trace, 0, Message::Watermark(Watermark(10)));
        feed(
            &mut gate,
            &mut trace,
            1,
            Message::Status(StreamStatus::Idle),
        );
        feed(&mut gate, &mut trace, 0, Message::Watermark(Watermark(20)));
        feed(
            &mut gate,
            &mut trace,
            0,
            Message::Status(StreamStatus::Idle),
        );
        feed(
            &mut gate,
            &mut trace,
            1,
            Message::Status(StreamStatus::Active),
        );
        feed(&mut gate, &mut trace, 1, Message::Watermark(Watermark(5)));
        feed(&mut gate, &mut trace, 1, Message::Watermark(Watermark(30)));
        // Channel 1 idle: 10 then 20 pass. Both idle: the gate says so. Channel 1 active again
        // at 5: no regression; at 30 (channel 0 idle) the watermark moves on.
        assert_eq!(trace.0, ["w10", "w20", "idle", "active", "w30"]);
    }

    #[test]
    fn barriers_align_and_hold_back_records_of_channels_that_delivered_them() {
        let (mut gate, mut trace) = (InputGate::new(2), Trace::default());
        let barrier = CheckpointBarrier {
            id: 1,
            triggered_at: 0,
            savepoint: false,
        };
        feed(
            &mut gate,
            &mut trace,
            0,
            Message::Records(vec![Record::new(1)]),
        );
        feed(&mut gate, &mut trace, 0, Message::Barrier(barrier));
        feed(
            &mut gate,
            &mut trace,
            0,
            Message::Records(vec![Record::new(2)]),
        );
        feed(
            &mut gate,
            &mut trace,
            1,
            Message::Records(vec![Record::new(3)]),
        );
        feed(&mut gate, &mut trace, 1, Message::Barrier(barrier));
        feed(
            &mut gate,
            &mut trace,
            1,
            Message::Records(vec![Record::new(4)]),
        );
        assert_eq!(trace.0, ["r1", "r3", "b1", "r2", "r4"]);
    }

    #[test]
    fn at_least_once_lets_records_of_early_channels_pass() {
        let (mut gate, mut trace) = (InputGate::new(2), Trace::default());
        gate.aligned = false;
        let barrier = CheckpointBarrier {
            id: 3,
            triggered_at: 0,
            savepoint: false,
        };
        feed(&mut gate, &mut trace, 0, Message::Barrier(barrier));
        feed(
            &mut gate,
            &mut trace,
            0,
            Message::Records(vec![Record::new(2)]),
        );
        feed(&mut gate, &mut trace, 1, Message::Barrier(barrier));
        assert_eq!(trace.0, ["r2", "b3"]);
        // A savepoint aligns all the same.
        let savepoint = CheckpointBarrier {
            id: 4,
            triggered_at: 0,
            savepoint: true,
        };
        feed(&mut gate, &mut trace, 0, Message::Barrier(savepoint));
        feed(
            &mut gate,
            &mut trace,
            0,
            Message::Records(vec![Record::new(5)]),
        );
        feed(&mut gate, &mut trace, 1, Message::Barrier(savepoint));
        assert_eq!(trace.0, ["r2", "b3", "b4", "r5"]);
    }

    #[test]
    fn an_ended_channel_counts_as_aligned() {
        let (mut gate, mut trace) = (InputGate::new(2), Trace::default());
        let barrier = CheckpointBarrier {
            id: 7,
            triggered_at: 0,
            savepoint: false,
        };
        feed(&mut gate, &mut trace, 0, Message::Barrier(barrier));
        feed(
            &mut gate,
            &mut trace,
            0,
            Message::Records(vec![Record::new(9)]),
        );
        feed(&mut gate, &mut trace, 1, Message::EndOfInput);
        assert_eq!(trace.0, ["b7", "r9"]);
    }
}
