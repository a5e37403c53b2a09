//! [`JobClient`]: a job running in the background, and what can be asked of it while it runs
//! (Flink's `JobClient`, returned by `executeAsync`).
//!
//! - [`trigger_savepoint`](JobClient::trigger_savepoint): an aligned, self-contained savepoint
//!   into a directory, while the job goes on;
//! - [`stop_with_savepoint`](JobClient::stop_with_savepoint): a savepoint, then the end of the
//!   job, either *suspended* (restoring the savepoint resumes it exactly) or *drained* (every
//!   window fires first, for a job that will not come back);
//! - [`cancel`](JobClient::cancel): stop now, without a savepoint;
//! - [`trigger_checkpoint`](JobClient::trigger_checkpoint): a checkpoint now, with its cost;
//! - [`wait`](JobClient::wait): the job's result.
//!
//! The savepoint calls block until the savepoint is complete and return its directory. They
//! need a job with checkpointing on, and fail with [`Error::Savepoint`] when another
//! checkpoint is in progress (ask again), when a source has already reached its end, or when
//! the job has finished.
//!
//! The DataStream API's `execute_async` returns one; here a job closure stands in for it:
//!
//! ```
//! use eddy_runtime::client::JobClient;
//! use eddy_runtime::{Error, JobResult};
//!
//! let client = JobClient::spawn("demo", |control| {
//!     // A real job runs `eddy_runtime::executor::execute_controlled(.., control, ..)`.
//!     while !control.is_cancelled() {
//!         std::thread::sleep(std::time::Duration::from_millis(1));
//!     }
//!     Err::<JobResult, _>(Error::Cancelled)
//! })
//! .unwrap();
//! client.cancel();
//! assert!(matches!(client.wait(), Err(Error::Cancelled)));
//! ```

use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;

use crate::checkpoint::control::{CheckpointStats, JobControl, Stop};
use crate::executor::JobResult;
use crate::task::panic_message;
use crate::{Error, Result};

/// A job running on a thread of its own. See the module documentation.
#[derive(Debug)]
pub struct JobClient {
    job_id: String,
    control: Arc<JobControl>,
    thread: JoinHandle<Result<JobResult>>,
}

impl JobClient {
    /// Runs `job` on a new thread with a fresh [`JobControl`], which it must hand to the
    /// executor ([`crate::executor::execute_controlled`]).
    ///
    /// # Errors
    /// [`Error::Internal`] when the thread cannot be started.
    pub fn spawn(
        job_id: impl Into<String>,
        job: impl FnOnce(&JobControl) -> Result<JobResult> + Send + 'static,
    ) -> Result<Self> {
        let job_id = job_id.into();
        let control = JobControl::new();
        let thread = {
            let control = control.clone();
            std::thread::Builder::new()
                .name(format!("job {job_id}"))
                .spawn(move || {
                    let result = job(&control);
                    control.finish();
                    result
                })
                .map_err(|e| Error::Internal(format!("cannot start the job's thread: {e}")))?
        };
        Ok(JobClient {
            job_id,
            control,
            thread,
        })
    }

    /// The job's id (its checkpoints are under `<checkpoint dir>/<job id>/`).
    pub fn job_id(&self) -> &str {
        &self.job_id
    }

    fn request(&self, dir: Option<PathBuf>, stop: Stop) -> Result<CheckpointStats> {
        let outcome = self.control.request_savepoint(dir, stop)?;
        outcome.recv().unwrap_or_else(|_| {
            Err(Error::Savepoint(
                "the job ended before the savepoint completed".into(),
            ))
        })
    }

    /// Takes a checkpoint now (as if its interval had passed) and returns what it cost: for
    /// tools and benchmarks that need a checkpoint at a known point.
    ///
    /// # Errors
    /// As [`trigger_savepoint`](Self::trigger_savepoint).
    pub fn trigger_checkpoint(&self) -> Result<CheckpointStats> {
        self.request(None, Stop::No)
    }

    /// Takes a savepoint into `dir` (a path or a storage URL) while the job goes on, and
    /// returns its directory, `dir/savepoint-<job id>-<n>`: self-contained, so it can be
    /// moved, and restorable at another parallelism.
    ///
    /// # Errors
    /// [`Error::Savepoint`] when it cannot be taken now (another checkpoint in progress, a
    /// source at its end, the job finished, no checkpointing) or timed out; [`Error::Io`]
    /// when a file cannot be written.
    pub fn trigger_savepoint(&self, dir: impl Into<PathBuf>) -> Result<PathBuf> {
        self.request(Some(dir.into()), Stop::No)
            .map(|stats| stats.location)
    }

    /// Takes a savepoint into `dir` and ends the job. Without `drain` the sources stop right
    /// after the savepoint's barrier and no operator finishes: restoring the savepoint
    /// resumes the job exactly (sinks keep their uncommitted output for it). With `drain`
    /// event time ends first (every window fires), then the savepoint is taken and the job
    /// finishes as at the end of its input. [`wait`](Self::wait) gives the job's result.
    ///
    /// # Errors
    /// As [`trigger_savepoint`](Self::trigger_savepoint); a job whose savepoint failed goes
    /// on running (unless drained).
    pub fn stop_with_savepoint(&self, drain: bool, dir: impl Into<PathBuf>) -> Result<PathBuf> {
        let stop = if drain { Stop::Drain } else { Stop::Suspend };
        self.request(Some(dir.into()), stop)
            .map(|stats| stats.location)
    }

    /// Cancels the job: its tasks stop at their next step, nothing is committed, and
    /// [`wait`](Self::wait) returns [`Error::Cancelled`].
    pub fn cancel(&self) {
        self.control.cancel();
    }

    /// Whether the job has ended (its result is ready).
    pub fn is_finished(&self) -> bool {
        self.thread.is_finished()
    }

    /// Waits for the job to end and returns its result.
    ///
    /// # Errors
    /// The job's error; [`Error::Cancelled`] after [`cancel`](Self::cancel).
    pub fn wait(self) -> Result<JobResult> {
        self.thread
            .join()
            .unwrap_or_else(|panic| Err(Error::Internal(panic_message(&*panic))))
    }
}
