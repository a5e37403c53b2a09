//! The jobmanager: dispatcher (accepts jobs, asks each executable for its plan), resource
//! manager (taskmanager registration, heartbeats, slots) and the REST API, in one process.
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
        state: Mutex::new(ClusterState::default()),
        config,
    });
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
            state.schedule()
        };
        dispatcher::deploy(&jobmanager, deployments);
    }
}
