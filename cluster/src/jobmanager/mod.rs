//! The jobmanager: dispatcher (accepts jobs, asks each executable for its plan), resource
//! manager (taskmanager registration, heartbeats, slots) and the REST API, in one process.
//!
//! Jobs are kept in a job store on disk (`DIR/jobs/<jobid>.json`, written atomically within
//! 200 ms of every change and before a submission is answered), so a restarted jobmanager
//! knows them again; their taskmanagers re-register and report them.
//!
//! State lives in one [`state::ClusterState`] behind a mutex that is never held across an
//! `await`; handlers decide under the lock and do their I/O (deploying to a taskmanager,
//! telling it to cancel) after releasing it.

pub(crate) mod dispatcher;
pub(crate) mod jars;
pub(crate) mod state;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::dir::ClusterDir;
use jars::JarStore;
use state::ClusterState;

/// How the jobmanager runs.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    /// The cluster directory.
    pub(crate) dir: PathBuf,
    /// The REST address to bind (port 0: any free port).
    pub(crate) bind: SocketAddr,
    /// The largest upload accepted, in bytes.
    pub(crate) max_upload: usize,
    /// How often taskmanagers send heartbeats.
    pub(crate) heartbeat_interval: Duration,
    /// A taskmanager silent this long is lost.
    pub(crate) heartbeat_timeout: Duration,
    /// A job that gets no slots this long fails.
    pub(crate) slot_timeout: Duration,
    /// Restarts of a job after losing its taskmanager, before it fails.
    pub(crate) restart_attempts: u32,
}

/// Everything the jobmanager's handlers share.
pub(crate) struct JobManager {
    pub(crate) config: Config,
    pub(crate) address: String,
    pub(crate) token: Arc<str>,
    pub(crate) jars: JarStore,
    pub(crate) http: reqwest::Client,
    pub(crate) started: Instant,
    state: Mutex<ClusterState>,
}

impl JobManager {
    /// The job store: `DIR/jobs/<jobid>.json`.
    pub(crate) fn jobs_dir(&self) -> PathBuf {
        self.config.dir.join("jobs")
    }

    /// Writes the jobs changed since the last call to the job store (outside the lock).
    pub(crate) fn persist(&self) {
        let records = self.state().take_unsaved();
        if records.is_empty() {
            return;
        }
        let dir = self.jobs_dir();
        if let Err(e) = std::fs::create_dir_all(&dir) {
            tracing::warn!(dir = %dir.display(), error = %e, "cannot create the job store");
            return;
        }
        for record in records {
            let path = dir.join(format!("{}.json", record.id()));
            let written = serde_json::to_vec(&record)
                .map_err(anyhow::Error::from)
                .and_then(|bytes| ClusterDir::write_atomic(&path, &bytes, 0o600));
            if let Err(e) = written {
                tracing::warn!(file = %path.display(), error = %format!("{e:#}"), "cannot store a job");
            }
        }
    }

    /// The cluster state, locked.
    pub(crate) fn state(&self) -> MutexGuard<'_, ClusterState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Runs a jobmanager until it is told to stop (SIGTERM or Ctrl-C).
pub(crate) async fn run(config: Config) -> Result<()> {
    let dir = ClusterDir::new(&config.dir);
    dir.create()?;
    let token_file = dir.token_file();
    let token = match crate::auth::find_token(None, &token_file) {
        Ok(token) => token,
        Err(_) => {
            let token = crate::auth::new_token();
            crate::auth::write_token(&token_file, &token)?;
            token
        }
    };
    let pid_file = dir.write_pid("jobmanager")?;
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .with_context(|| format!("cannot listen on {}", config.bind))?;
    let local = listener.local_addr()?;
    let address = format!("http://{local}");
    let jobmanager = Arc::new(JobManager {
        jars: JarStore::open(dir.jar_dir())?,
        address: address.clone(),
        token: token.into(),
        http: reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(30))
            .build()?,
        started: Instant::now(),
        state: Mutex::new(ClusterState {
            restart_attempts: config.restart_attempts,
            ..ClusterState::default()
        }),
        config,
    });
    let recovered = load_jobs(&jobmanager.jobs_dir());
    if !recovered.is_empty() {
        tracing::info!(jobs = recovered.len(), "jobs recovered from the job store");
        jobmanager.state().recover(recovered);
    }
    let app = crate::rest::router(jobmanager.clone());
    ClusterDir::write_atomic(
        &dir.address_file(),
        format!("{address}\n").as_bytes(),
        0o644,
    )?;
    tracing::info!(%address, "jobmanager listening");
    tokio::spawn(monitor(jobmanager.clone()));
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(crate::logging::shutdown_signal());
    let result = server.await.context("the REST server failed");
    let _ = std::fs::remove_file(pid_file);
    tracing::info!("jobmanager stopped");
    result
}

/// The jobs a previous jobmanager stored; unreadable files are skipped with a warning.
fn load_jobs(dir: &std::path::Path) -> Vec<state::JobRecord> {
    let mut records = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        match std::fs::read(&path)
            .map_err(anyhow::Error::from)
            .and_then(|b| Ok(serde_json::from_slice(&b)?))
        {
            Ok(record) => records.push(record),
            Err(e) => {
                tracing::warn!(file = %path.display(), error = %format!("{e:#}"), "skipping an unreadable job file")
            }
        }
    }
    records
}

/// The resource manager's clock: notices lost taskmanagers and jobs that wait too long.
async fn monitor(jobmanager: Arc<JobManager>) {
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    loop {
        tick.tick().await;
        let deployments = {
            let mut state = jobmanager.state();
            let lost = state.expire_taskmanagers(jobmanager.config.heartbeat_timeout);
            for id in &lost {
                tracing::warn!(taskmanager = %id, "taskmanager lost: no heartbeat");
            }
            state.expire_waiting(jobmanager.config.slot_timeout);
            // After a restart, taskmanagers get one heartbeat timeout to register again.
            if jobmanager.started.elapsed() > jobmanager.config.heartbeat_timeout {
                state.expire_orphans();
            }
            state.schedule()
        };
        dispatcher::deploy(&jobmanager, deployments);
        jobmanager.persist();
    }
}
