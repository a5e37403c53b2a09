//! [`JobControl`]: requests from outside a running job (savepoints, stop, cancel), shared by
//! a [`crate::client::JobClient`] and the executor running the job.
//!
//! A request waits in a queue for the checkpoint coordinator of the job's current run; it is
//! answered through a reply channel once its savepoint completes or fails. Requests that come
//! too early (before the job runs) wait; requests that can never be served (the job does not
//! checkpoint, or it has finished) are refused at once with [`Error::Savepoint`].

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};

use crate::{Error, Result};

/// What a savepoint request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// Keep running after the savepoint.
    No,
    /// Stop after the savepoint without ending the input: operators do not finish, windows do
    /// not fire, and the job resumes from the savepoint exactly where it stopped.
    Suspend,
    /// End the input first (event time jumps to its end, so every window fires), then take
    /// the savepoint and finish the job.
    Drain,
}

/// What a completed checkpoint or savepoint cost.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckpointStats {
    /// Its number.
    pub id: u64,
    /// Where it is (a path or a URL).
    pub location: PathBuf,
    /// From the trigger to the commit of its metadata.
    pub duration: Duration,
    /// The longest synchronous part at a barrier, over every subtask: the time records
    /// stood still there.
    pub sync_duration: Duration,
    /// Bytes written for it: state files, and the state backend files it uploaded (for an
    /// incremental checkpoint, only the new shared files).
    pub bytes: u64,
}

/// A request for a savepoint into `dir`, or for a checkpoint when `dir` is `None`.
#[derive(Debug)]
pub(crate) struct SavepointRequest {
    pub(crate) dir: Option<PathBuf>,
    pub(crate) stop: Stop,
    /// Gets what was taken, or why it was not.
    pub(crate) reply: Sender<Result<CheckpointStats>>,
}

impl SavepointRequest {
    /// Answers with a refusal.
    pub(crate) fn refuse(self, why: impl Into<String>) {
        let _ = self.reply.send(Err(Error::Savepoint(why.into())));
    }
}

#[derive(Debug, Default)]
struct State {
    /// The job has ended: nothing will serve a request any more.
    finished: bool,
    /// The current run: whether it checkpoints, and its failure flag (which stops its tasks).
    run: Option<(bool, Arc<AtomicBool>)>,
}

/// The link between a job and the clients that control it. See the module documentation.
#[derive(Debug)]
pub struct JobControl {
    state: Mutex<State>,
    sender: Sender<SavepointRequest>,
    requests: Receiver<SavepointRequest>,
    cancelled: AtomicBool,
}

impl Default for JobControl {
    fn default() -> Self {
        let (sender, requests) = crossbeam_channel::unbounded();
        JobControl {
            state: Mutex::default(),
            sender,
            requests,
            cancelled: AtomicBool::new(false),
        }
    }
}

impl JobControl {
    /// A control for a job about to start.
    pub fn new() -> Arc<Self> {
        Arc::new(JobControl::default())
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues a savepoint request; the receiver gets its outcome.
    ///
    /// # Errors
    /// [`Error::Savepoint`] when the job has finished or does not checkpoint.
    pub(crate) fn request_savepoint(
        &self,
        dir: Option<PathBuf>,
        stop: Stop,
    ) -> Result<Receiver<Result<CheckpointStats>>> {
        let state = self.state();
        if state.finished {
            return Err(Error::Savepoint("the job has already finished".into()));
        }
        if self.cancelled.load(Ordering::SeqCst) {
            return Err(Error::Savepoint("the job was cancelled".into()));
        }
        if let Some((false, _)) = state.run {
            return Err(Error::Savepoint(NOT_CHECKPOINTING.into()));
        }
        let (reply, outcome) = crossbeam_channel::bounded(1);
        // The receiver lives in `self`: sending cannot fail.
        let _ = self.sender.send(SavepointRequest { dir, stop, reply });
        Ok(outcome)
    }

    /// Cancels the job: its tasks stop at their next step and it ends with
    /// [`Error::Cancelled`].
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
        if let Some((_, failed)) = &self.state().run {
            failed.store(true, Ordering::SeqCst);
        }
    }

    /// Whether [`cancel`](Self::cancel) was called.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }

    /// Whether the job has ended.
    pub fn is_finished(&self) -> bool {
        self.state().finished
    }

    /// A run of the job starts, with this failure flag; without checkpointing, the requests
    /// waiting are refused.
    pub(crate) fn run_started(&self, checkpointing: bool, failed: Arc<AtomicBool>) {
        let mut state = self.state();
        if self.cancelled.load(Ordering::SeqCst) {
            failed.store(true, Ordering::SeqCst);
        }
        state.run = Some((checkpointing, failed));
        if !checkpointing {
            while let Ok(request) = self.requests.try_recv() {
                request.refuse(NOT_CHECKPOINTING);
            }
        }
    }

    /// The queue the coordinator serves.
    pub(crate) fn requests(&self) -> &Receiver<SavepointRequest> {
        &self.requests
    }

    /// The job has ended: refuses what is still queued, and every later request.
    pub fn finish(&self) {
        let mut state = self.state();
        state.finished = true;
        state.run = None;
        while let Ok(request) = self.requests.try_recv() {
            request.refuse("the job has already finished");
        }
    }
}

/// Why a job without checkpointing refuses savepoints.
const NOT_CHECKPOINTING: &str =
    "the job does not checkpoint: enable checkpointing to take savepoints";
