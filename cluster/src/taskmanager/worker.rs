//! A taskmanager's workers: one OS process per job, the job's own executable started in
//! worker mode (`EDDY_CLUSTER_MODE=worker`), supervised by a thread of its own.
//!
//! The worker's stdout goes to `DIR/log/<jobid>.out`, its stderr to `DIR/log/<jobid>.log`,
//! its pid to `DIR/pids/worker-<jobid>.pid`. It runs in a process group of its own (so a
//! cancel reaches whatever it started) and, on Linux, dies with its supervising thread, so a
//! killed taskmanager leaves no orphan behind.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use eddy_runtime::cluster::status::WorkerStatus;
use eddy_runtime::cluster::{MODE_ENV, PARALLELISM_ENV, PLAN_FILE_ENV, STATUS_FILE_ENV};

use crate::protocol::{DeployRequest, JobState, WorkerReport};

/// How long a cancelled worker has between SIGTERM and SIGKILL.
const CANCEL_GRACE: Duration = Duration::from_secs(3);
/// How long an ended worker stays in heartbeats.
const KEEP_ENDED: Duration = Duration::from_secs(30);

/// One job's worker process.
#[derive(Debug)]
struct Worker {
    pid: u32,
    state: JobState,
    cancel_requested: bool,
    status_file: PathBuf,
    error: Option<String>,
    ended: Option<Instant>,
}

/// Where a taskmanager keeps its workers' files.
#[derive(Debug, Clone)]
pub(crate) struct Paths {
    /// `DIR/log`.
    pub(crate) log_dir: PathBuf,
    /// `DIR/pids`.
    pub(crate) pid_dir: PathBuf,
    /// The taskmanager's scratch directory (`DIR/taskmanager-<i>`).
    pub(crate) scratch: PathBuf,
}

/// The workers of one taskmanager.
#[derive(Debug, Default)]
pub(crate) struct Workers {
    workers: Mutex<HashMap<String, Worker>>,
}

impl Workers {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Worker>> {
        self.workers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts `executable` as the worker of `request.job_id`; `report` is called with
    /// RUNNING once it started and with its final state when it ends.
    pub(crate) fn start(
        self: &Arc<Self>,
        executable: &Path,
        request: &DeployRequest,
        paths: &Paths,
        report: impl Fn(WorkerReport) + Send + 'static,
    ) -> Result<()> {
        let job = request.job_id.clone();
        anyhow::ensure!(crate::process::is_job_id(&job), "'{job}' is not a job id");
        anyhow::ensure!(
            !self.lock().contains_key(&job),
            "job {job} already runs here"
        );
        std::fs::create_dir_all(&paths.scratch)?;
        let status_file = paths.scratch.join(format!("{job}.status.json"));
        let out = std::fs::File::create(paths.log_dir.join(format!("{job}.out")))
            .context("cannot create the job's .out file")?;
        let err = std::fs::File::create(paths.log_dir.join(format!("{job}.log")))
            .context("cannot create the job's log file")?;
        let pid_file = paths.pid_dir.join(format!("worker-{job}.pid"));
        let mut command = Command::new(executable);
        command
            .args(&request.args)
            .env(MODE_ENV, "worker")
            .env(STATUS_FILE_ENV, &status_file)
            .env_remove(PLAN_FILE_ENV)
            .env_remove(PARALLELISM_ENV)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        if let Some(p) = request.parallelism {
            command.env(PARALLELISM_ENV, p.to_string());
        }
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            command.process_group(0);
            #[cfg(target_os = "linux")]
            // SAFETY: prctl is async-signal-safe; it only sets the parent-death signal.
            unsafe {
                command.pre_exec(|| {
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                    Ok(())
                });
            }
        }
        // The supervising thread spawns the child: on Linux the parent-death signal follows
        // the thread that spawned it, so that thread must live as long as the child.
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let workers = self.clone();
        let log_file = paths.log_dir.join(format!("{job}.log"));
        let thread_job = job.clone();
        std::thread::Builder::new()
            .name(format!("worker {job}"))
            .spawn(move || {
                let job = thread_job;
                let mut child = match command.spawn() {
                    Ok(child) => child,
                    Err(e) => {
                        let _ = started_tx.send(Err(e));
                        return;
                    }
                };
                let pid = child.id();
                let _ = std::fs::write(&pid_file, format!("{pid}\n"));
                workers.lock().insert(
                    job.clone(),
                    Worker {
                        pid,
                        state: JobState::Running,
                        cancel_requested: false,
                        status_file: status_file.clone(),
                        error: None,
                        ended: None,
                    },
                );
                let _ = started_tx.send(Ok(pid));
                report(workers.report_of(&job));
                let exit = child.wait();
                let _ = std::fs::remove_file(&pid_file);
                let status = WorkerStatus::read(&status_file).ok();
                {
                    let mut all = workers.lock();
                    if let Some(worker) = all.get_mut(&job) {
                        let success = exit.as_ref().is_ok_and(|s| s.success());
                        worker.ended = Some(Instant::now());
                        worker.state = if success {
                            JobState::Finished
                        } else if worker.cancel_requested {
                            JobState::Canceled
                        } else {
                            JobState::Failed
                        };
                        if worker.state == JobState::Failed {
                            let how = match &exit {
                                Ok(s) => match s.code() {
                                    Some(code) => format!("the job's process exited with code {code}"),
                                    None => "the job's process was killed by a signal".to_string(),
                                },
                                Err(e) => format!("cannot wait for the job's process: {e}"),
                            };
                            let cause = status.as_ref().and_then(|s| s.error.clone());
                            worker.error = Some(match cause {
                                Some(cause) => cause,
                                None => format!("{how}{}", crate::plan_extract::stderr_tail(&log_file)),
                            });
                        }
                    }
                }
                tracing::info!(%job, state = ?workers.lock().get(&job).map(|w| w.state), "worker ended");
                report(workers.report_of(&job));
            })
            .context("cannot start a supervising thread")?;
        let pid = started_rx
            .recv()
            .context("the supervising thread ended early")?
            .with_context(|| format!("cannot start {}", executable.display()))?;
        tracing::info!(%job, pid, executable = %executable.display(), "worker started");
        Ok(())
    }

    /// What to tell the jobmanager about one worker.
    fn report_of(&self, job: &str) -> WorkerReport {
        let all = self.lock();
        let Some(worker) = all.get(job) else {
            return WorkerReport {
                job_id: job.to_string(),
                state: JobState::Failed,
                error: Some("unknown worker".into()),
                operators: vec![],
                restarts: 0,
            };
        };
        let status = WorkerStatus::read(&worker.status_file)
            .ok()
            .unwrap_or_default();
        WorkerReport {
            job_id: job.to_string(),
            state: worker.state,
            error: worker.error.clone(),
            operators: status.operators,
            restarts: status.restarts,
        }
    }

    /// Reports of every worker (running, or ended recently).
    pub(crate) fn reports(&self) -> Vec<WorkerReport> {
        let jobs: Vec<String> = {
            let mut all = self.lock();
            all.retain(|_, w| w.ended.is_none_or(|at| at.elapsed() < KEEP_ENDED));
            all.keys().cloned().collect()
        };
        jobs.iter().map(|j| self.report_of(j)).collect()
    }

    /// Jobs running now.
    pub(crate) fn running(&self) -> usize {
        self.lock().values().filter(|w| w.ended.is_none()).count()
    }

    /// Cancels a job's worker: SIGTERM to its process group, SIGKILL after a grace period.
    /// False when no such worker runs.
    pub(crate) fn cancel(&self, job: &str) -> bool {
        let pid = {
            let mut all = self.lock();
            match all.get_mut(job) {
                Some(w) if w.ended.is_none() => {
                    w.cancel_requested = true;
                    w.pid
                }
                _ => return false,
            }
        };
        crate::process::signal(pid, libc::SIGTERM, true);
        std::thread::spawn(move || {
            let start = Instant::now();
            while start.elapsed() < CANCEL_GRACE {
                if !crate::process::is_alive(pid) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            crate::process::signal(pid, libc::SIGKILL, true);
        });
        true
    }

    /// Kills every worker (the taskmanager is stopping).
    pub(crate) fn kill_all(&self) {
        for worker in self.lock().values_mut() {
            if worker.ended.is_none() {
                worker.cancel_requested = true;
                crate::process::signal(worker.pid, libc::SIGKILL, true);
            }
        }
    }
}
