//! The checkpoint coordinator: triggers barriers at the sources, collects every subtask's
//! acknowledgement with its snapshot, writes the files and commits the checkpoint.
//!
//! It runs on a thread of its own beside the tasks, so writing snapshots to storage (the
//! "upload") never stops records from flowing: a task only builds its snapshot at the
//! barrier and hands it over. The protocol follows Carbone et al. 2015 (asynchronous barrier
//! snapshots):
//!
//! 1. Every interval (after the minimum pause, with at most one checkpoint in flight) the
//!    coordinator publishes checkpoint `n` in the shared [`CheckpointHub`].
//! 2. Each source task sees it between two polls, snapshots its read position, acknowledges
//!    and sends barrier `n` downstream.
//! 3. Each task aligns barrier `n` over its inputs, snapshots every operator of its chain,
//!    acknowledges each, and forwards the barrier.
//! 4. When every subtask of every operator has acknowledged, the coordinator writes the
//!    metadata file (the commit point) and publishes `n` as complete; operators that wait for
//!    it (transactional sinks) commit.
//!
//! A checkpoint still incomplete after the timeout is aborted; more aborted checkpoints in a
//! row than tolerated fail the job. Once a source has finished, no new checkpoint can complete
//! (it would miss that source's barrier), so none is started; a savepoint at the end of input
//! is taken while the sources wait, just before they finish.
//!
//! Savepoints requested through a [`super::control::JobControl`] are triggered like
//! checkpoints, with the savepoint flag (always aligned, self-contained) and, for a stop, the
//! stop flag the sources act on: a suspending stop makes them wait after the barrier, and the
//! coordinator ends the job once the savepoint is committed; a draining stop makes them end
//! event time before the barrier and finish after it. A request while another checkpoint is
//! in flight, or after a source has finished, is refused at once.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use super::config::CheckpointConfig;
use super::control::{CheckpointStats, SavepointRequest, Stop};
use super::metadata::{CheckpointMetadata, OperatorFiles, SnapshotKind, SubtaskFile};
use super::snapshot::{Deferred, SubtaskSnapshot};
use super::storage::CheckpointStorage;
use super::store::Location;
use crate::partition::KeyGroupRange;
use crate::{Error, Result};

/// A subtask's acknowledgement of checkpoint `id`, carrying its snapshot.
pub(crate) struct Ack {
    pub(crate) id: u64,
    pub(crate) node: usize,
    pub(crate) subtask: u32,
    pub(crate) key_groups: KeyGroupRange,
    pub(crate) snapshot: SubtaskSnapshot,
    /// What the snapshot left to finish here rather than on the task's thread: keyed state
    /// to serialize, a state backend's file upload.
    pub(crate) deferred: Deferred,
    /// How long the subtask's snapshot took at the barrier.
    pub(crate) sync: Duration,
}

/// The newest barrier the coordinator asked the sources for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Requested {
    /// Its id; 0 means none yet.
    pub(crate) id: u64,
    pub(crate) savepoint: bool,
    pub(crate) stop: Stop,
}

impl Requested {
    fn encode(self) -> u64 {
        let stop = match self.stop {
            Stop::No => 0,
            Stop::Suspend => 2,
            Stop::Drain => 4,
        };
        (self.id << 3) | stop | u64::from(self.savepoint)
    }

    fn decode(raw: u64) -> Self {
        Requested {
            id: raw >> 3,
            savepoint: raw & 1 == 1,
            stop: match raw & 6 {
                2 => Stop::Suspend,
                4 => Stop::Drain,
                _ => Stop::No,
            },
        }
    }
}

/// What the coordinator and the tasks of one job run share.
pub(crate) struct CheckpointHub {
    /// The newest requested barrier, [`Requested::encode`]d.
    requested: AtomicU64,
    /// The newest completed checkpoint.
    completed: AtomicU64,
    /// The newest completed savepoint.
    completed_savepoint: AtomicU64,
    /// The newest checkpoint or savepoint aborted or failed.
    aborted: AtomicU64,
    acks: Sender<Ack>,
    /// Source subtasks that have finished.
    finished_sources: AtomicUsize,
    /// Source subtasks waiting at the end of their input for the final savepoint.
    exhausted_sources: AtomicUsize,
    /// Whether sources wait at the end of input for a savepoint.
    pub(crate) savepoint_at_end: bool,
}

impl std::fmt::Debug for CheckpointHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckpointHub")
            .field("requested", &self.requested())
            .field("completed", &self.completed())
            .finish()
    }
}

/// How a savepoint a source waits for ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Pending,
    Completed,
    Failed,
}

impl CheckpointHub {
    /// The newest requested barrier.
    pub(crate) fn requested(&self) -> Requested {
        Requested::decode(self.requested.load(Ordering::SeqCst))
    }

    /// The newest completed checkpoint, 0 if none.
    pub(crate) fn completed(&self) -> u64 {
        self.completed.load(Ordering::Acquire)
    }

    /// How savepoint `id` ended, so far.
    pub(crate) fn savepoint_outcome(&self, id: u64) -> Outcome {
        if self.completed_savepoint.load(Ordering::Acquire) >= id {
            Outcome::Completed
        } else if self.aborted.load(Ordering::Acquire) >= id {
            Outcome::Failed
        } else {
            Outcome::Pending
        }
    }

    /// Hands a snapshot to the coordinator. A coordinator that is gone (the job is ending)
    /// needs no acknowledgements.
    pub(crate) fn acknowledge(&self, ack: Ack) {
        let _ = self.acks.send(ack);
    }

    pub(crate) fn source_finished(&self) {
        self.finished_sources.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn source_exhausted(&self) {
        self.exhausted_sources.fetch_add(1, Ordering::SeqCst);
    }
}

/// What the coordinator knows about the job's operators.
pub(crate) struct OperatorInfo {
    pub(crate) uid: String,
    pub(crate) parallelism: u32,
    pub(crate) is_source: bool,
}

/// A checkpoint in flight.
struct Pending {
    id: u64,
    kind: SnapshotKind,
    location: Location,
    started: Instant,
    files: BTreeMap<(usize, u32), SubtaskFile>,
    stop: Stop,
    /// The client waiting for a requested savepoint.
    reply: Option<Sender<Result<CheckpointStats>>>,
    /// Bytes written so far.
    bytes: u64,
    /// The longest synchronous part so far.
    sync: Duration,
}

/// What a finished coordinator reports.
#[derive(Debug, Default)]
pub(crate) struct CoordinatorReport {
    pub(crate) completed: u64,
    pub(crate) savepoint: Option<PathBuf>,
    /// A stop-with-savepoint (without draining) completed: the job was ended on purpose.
    pub(crate) suspended: bool,
}

/// Runs the checkpoints of one job run. See the module documentation.
pub(crate) struct CheckpointCoordinator {
    config: CheckpointConfig,
    storage: Arc<dyn CheckpointStorage>,
    job_id: String,
    max_parallelism: u32,
    operators: Vec<OperatorInfo>,
    hub: Arc<CheckpointHub>,
    acks: Receiver<Ack>,
    next_id: u64,
}

impl CheckpointCoordinator {
    /// A coordinator whose first checkpoint is `first_id`, and the hub its tasks share.
    pub(crate) fn new(
        config: CheckpointConfig,
        storage: Arc<dyn CheckpointStorage>,
        job_id: String,
        max_parallelism: u32,
        operators: Vec<OperatorInfo>,
        first_id: u64,
    ) -> (Self, Arc<CheckpointHub>) {
        let (sender, acks) = crossbeam_channel::unbounded();
        let hub = Arc::new(CheckpointHub {
            requested: AtomicU64::new(0),
            completed: AtomicU64::new(0),
            completed_savepoint: AtomicU64::new(0),
            aborted: AtomicU64::new(0),
            acks: sender,
            finished_sources: AtomicUsize::new(0),
            exhausted_sources: AtomicUsize::new(0),
            savepoint_at_end: config.savepoint_at_end.is_some(),
        });
        let coordinator = CheckpointCoordinator {
            config,
            storage,
            job_id,
            max_parallelism,
            operators,
            hub: hub.clone(),
            acks,
            next_id: first_id.max(1),
        };
        (coordinator, hub)
    }

    fn expected_acks(&self) -> usize {
        self.operators.iter().map(|o| o.parallelism as usize).sum()
    }

    fn source_subtasks(&self) -> usize {
        self.operators
            .iter()
            .filter(|o| o.is_source)
            .map(|o| o.parallelism as usize)
            .sum()
    }

    /// Gives up checkpoint `p`: removes its files, tells the sources and the client.
    fn abort(&self, p: Pending, why: impl FnOnce() -> Error) {
        self.storage.abort(&p.location);
        self.hub.aborted.fetch_max(p.id, Ordering::AcqRel);
        if let Some(reply) = p.reply {
            let _ = reply.send(Err(why()));
        }
    }

    /// Runs until `job_done` is set (every task has ended), then completes what can still be
    /// completed, serving the savepoint `requests` of a job client meanwhile. On too many
    /// failed checkpoints it sets `fail_job` and returns the error; after a suspending stop
    /// it sets `fail_job` too, to end every task.
    pub(crate) fn run(
        mut self,
        job_done: &AtomicBool,
        fail_job: &AtomicBool,
        requests: Option<&Receiver<SavepointRequest>>,
    ) -> Result<CoordinatorReport> {
        let mut report = CoordinatorReport::default();
        let mut pending: Option<Pending> = None;
        let mut last_trigger = Instant::now();
        let mut last_end = Instant::now() - self.config.min_pause;
        let mut failures = 0u32;
        let mut end_savepoint_triggered = false;
        let tick = Duration::from_millis(5);
        loop {
            let done = job_done.load(Ordering::Acquire);
            // Take every acknowledgement that has arrived.
            loop {
                let ack = if done {
                    match self.acks.try_recv() {
                        Ok(ack) => ack,
                        Err(_) => break,
                    }
                } else {
                    match self.acks.recv_timeout(tick) {
                        Ok(ack) => ack,
                        Err(RecvTimeoutError::Timeout) => break,
                        Err(RecvTimeoutError::Disconnected) => break,
                    }
                };
                if let Err(error) = self.accept(&mut pending, ack) {
                    tracing::warn!(%error, "checkpoint failed while writing");
                    if let Some(p) = pending.take() {
                        self.abort(p, || error);
                    }
                    failures += 1;
                    last_end = Instant::now();
                }
                if pending
                    .as_ref()
                    .is_some_and(|p| p.files.len() == self.expected_acks())
                {
                    let mut p = pending.take().expect("checked above");
                    let reply = p.reply.take();
                    let (id, kind, stop) = (p.id, p.kind, p.stop);
                    match self.commit(p) {
                        Ok(stats) => {
                            failures = 0;
                            if kind == SnapshotKind::Savepoint {
                                report.savepoint = Some(stats.location.clone());
                                self.hub.completed_savepoint.store(id, Ordering::Release);
                                if stop == Stop::Suspend {
                                    report.suspended = true;
                                    fail_job.store(true, Ordering::SeqCst);
                                }
                            } else {
                                report.completed = id;
                                self.hub.completed.store(id, Ordering::Release);
                            }
                            if let Some(reply) = reply {
                                let _ = reply.send(Ok(stats));
                            }
                        }
                        Err(error) => {
                            tracing::warn!(%error, "checkpoint could not be committed");
                            self.hub.aborted.fetch_max(id, Ordering::AcqRel);
                            if let Some(reply) = reply {
                                let _ = reply.send(Err(error));
                            }
                            failures += 1;
                        }
                    }
                    last_end = Instant::now();
                }
                if !done {
                    // Check timers between acknowledgements too.
                    break;
                }
            }
            if done {
                if let Some(p) = pending.take() {
                    let id = p.id;
                    self.abort(p, || {
                        Error::Savepoint(format!("the job ended before savepoint {id} completed"))
                    });
                }
                return Ok(report);
            }
            let now = Instant::now();
            let finished = self.hub.finished_sources.load(Ordering::SeqCst) > 0;
            if let Some(p) = &pending {
                let timed_out = now.duration_since(p.started) > self.config.timeout;
                // A source that finished without this barrier can never acknowledge it (a
                // draining stop's sources finish after their barrier, as at the end).
                let orphaned = finished && p.kind == SnapshotKind::Checkpoint;
                if timed_out || orphaned {
                    let p = pending.take().expect("checked above");
                    let (id, timeout) = (p.id, self.config.timeout);
                    self.abort(p, || {
                        Error::Savepoint(format!("savepoint {id} timed out after {timeout:?}"))
                    });
                    last_end = now;
                    if timed_out {
                        failures += 1;
                        tracing::warn!(checkpoint = id, "checkpoint timed out");
                    }
                }
            }
            if failures > self.config.tolerable_failures {
                fail_job.store(true, Ordering::SeqCst);
                return Err(Error::Internal(format!(
                    "{failures} checkpoints in a row failed (tolerable: {})",
                    self.config.tolerable_failures
                )));
            }
            if let Some(requests) = requests {
                while let Ok(request) = requests.try_recv() {
                    if let Some(p) = &pending {
                        let what = match p.kind {
                            SnapshotKind::Checkpoint => "checkpoint",
                            SnapshotKind::Savepoint => "savepoint",
                        };
                        request.refuse(format!(
                            "{what} {} is in progress; ask again when it completes",
                            p.id
                        ));
                    } else if finished || end_savepoint_triggered {
                        request.refuse(
                            "a source has reached the end of its input (the job is finishing)",
                        );
                    } else {
                        pending = self.trigger_requested(request);
                    }
                }
            }
            if pending.is_some() {
                continue;
            }
            let exhausted = self.hub.exhausted_sources.load(Ordering::SeqCst);
            if self.hub.savepoint_at_end
                && !end_savepoint_triggered
                && exhausted == self.source_subtasks()
            {
                end_savepoint_triggered = true;
                let dir = self
                    .config
                    .savepoint_at_end
                    .clone()
                    .expect("savepoint_at_end is set");
                match Location::parse(&dir) {
                    Ok(dir) => pending = self.trigger(Some(dir), Stop::No, None),
                    Err(error) => tracing::warn!(%error, "cannot take the final savepoint"),
                }
                continue;
            }
            let due = now.duration_since(last_trigger) >= self.config.interval
                && now.duration_since(last_end) >= self.config.min_pause;
            if due && !finished && !end_savepoint_triggered {
                last_trigger = now;
                // A source that finishes meanwhile injects the barrier before it ends, or
                // the orphan check above aborts the checkpoint on the next tick.
                pending = self.trigger(None, Stop::No, None);
            }
        }
    }

    /// Starts the savepoint (or checkpoint) a client asked for.
    fn trigger_requested(&mut self, request: SavepointRequest) -> Option<Pending> {
        let dir = match request.dir.as_deref().map(Location::parse).transpose() {
            Ok(dir) => dir,
            Err(error) => {
                let _ = request.reply.send(Err(error));
                return None;
            }
        };
        self.trigger(dir, request.stop, Some(request.reply))
    }

    /// Starts checkpoint `next_id`, or a savepoint into `savepoint_dir`.
    fn trigger(
        &mut self,
        savepoint_dir: Option<Location>,
        stop: Stop,
        reply: Option<Sender<Result<CheckpointStats>>>,
    ) -> Option<Pending> {
        let id = self.next_id;
        self.next_id += 1;
        let location = match self.storage.begin(id, savepoint_dir.as_ref()) {
            Ok(location) => location,
            Err(error) => {
                tracing::warn!(%error, "cannot start a checkpoint");
                if let Some(reply) = reply {
                    let _ = reply.send(Err(error));
                }
                return None;
            }
        };
        let kind = if savepoint_dir.is_some() {
            SnapshotKind::Savepoint
        } else {
            SnapshotKind::Checkpoint
        };
        let requested = Requested {
            id,
            savepoint: kind == SnapshotKind::Savepoint,
            stop,
        };
        self.hub
            .requested
            .store(requested.encode(), Ordering::SeqCst);
        tracing::debug!(checkpoint = id, ?kind, ?stop, "triggered");
        Some(Pending {
            id,
            kind,
            location,
            started: Instant::now(),
            files: BTreeMap::new(),
            stop,
            reply,
            bytes: 0,
            sync: Duration::ZERO,
        })
    }

    /// Writes an acknowledged snapshot to its file.
    fn accept(&self, pending: &mut Option<Pending>, ack: Ack) -> Result<()> {
        let Some(p) = pending.as_mut().filter(|p| p.id == ack.id) else {
            return Ok(()); // for an aborted checkpoint
        };
        let file = format!("op-{}-{}.state", ack.node, ack.subtask);
        let mut snapshot = ack.snapshot;
        let mut deferred = ack.deferred;
        deferred.complete_keyed(&mut snapshot)?;
        let mut shared_files = Vec::new();
        if let Some(upload) = deferred.upload {
            let (uploaded, bytes) = self.storage.upload(&p.location, p.kind, &file, upload)?;
            snapshot.backend = Some(uploaded.manifest);
            shared_files = uploaded.shared_files;
            p.bytes += bytes;
        }
        p.sync = p.sync.max(ack.sync);
        let mut written = self.storage.write_subtask(
            &p.location,
            &file,
            ack.subtask,
            ack.key_groups,
            &snapshot,
        )?;
        written.shared_files = shared_files;
        p.bytes += written.size;
        p.files.insert((ack.node, ack.subtask), written);
        Ok(())
    }

    /// Writes the metadata; returns where the checkpoint is and what it cost.
    fn commit(&self, p: Pending) -> Result<CheckpointStats> {
        let operators = self
            .operators
            .iter()
            .enumerate()
            .map(|(node, info)| OperatorFiles {
                uid: info.uid.clone(),
                parallelism: info.parallelism,
                subtasks: p
                    .files
                    .range((node, 0)..(node, u32::MAX))
                    .map(|(_, file)| file.clone())
                    .collect(),
            })
            .collect();
        let metadata = CheckpointMetadata {
            job_id: self.job_id.clone(),
            checkpoint_id: p.id,
            kind: p.kind,
            completed_at: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64),
            max_parallelism: self.max_parallelism,
            operators,
        };
        if let Err(error) = self
            .storage
            .commit(&p.location, &metadata, self.config.retained)
        {
            self.storage.abort(&p.location);
            return Err(error);
        }
        let stats = CheckpointStats {
            id: p.id,
            location: p.location.display(),
            duration: p.started.elapsed(),
            sync_duration: p.sync,
            bytes: p.bytes,
        };
        tracing::info!(checkpoint = p.id, kind = ?p.kind, took = ?stats.duration, bytes = stats.bytes, "completed");
        Ok(stats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip_through_their_encoding() {
        for stop in [Stop::No, Stop::Suspend, Stop::Drain] {
            for savepoint in [false, true] {
                let requested = Requested {
                    id: 12345,
                    savepoint,
                    stop,
                };
                assert_eq!(Requested::decode(requested.encode()), requested);
            }
        }
        assert_eq!(Requested::decode(0).id, 0);
    }
}
