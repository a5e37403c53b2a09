//! The taskmanager: registers its slots with the jobmanager, sends heartbeats with the state
//! of its workers, starts a worker process per job it is given and cancels it on request.
//! It serves a small REST API of its own (deploy, cancel, `/metrics`), token-protected.

pub(crate) mod worker;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use sha2::{Digest, Sha256};

use crate::dir::ClusterDir;
use crate::protocol::{
    DeployRequest, Hardware, Heartbeat, RegisterRequest, RegisterResponse, WorkerReport,
};
use crate::rest::metrics::{Exposition, CONTENT_TYPE};
use worker::{Paths, Workers};

/// How a taskmanager runs.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    /// The jobmanager's REST base URL.
    pub(crate) jobmanager: String,
    /// Slots offered.
    pub(crate) slots: u32,
    /// The cluster directory (logs, pid files).
    pub(crate) dir: PathBuf,
    /// Its index, when `cluster start` chose it; else the first free one.
    pub(crate) index: Option<u32>,
    /// Where the token is, if not in `EDDY_TOKEN` or `DIR/token`.
    pub(crate) token_file: Option<PathBuf>,
}

struct TaskManager {
    config: Config,
    index: u32,
    token: Arc<str>,
    address: String,
    http: reqwest::Client,
    workers: Arc<Workers>,
    paths: Paths,
    id: Mutex<Option<String>>,
    heartbeat: Mutex<Duration>,
    started: Instant,
}

impl TaskManager {
    fn id(&self) -> Option<String> {
        self.id.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    async fn register(&self) -> Result<()> {
        let request = RegisterRequest {
            index: self.index,
            address: self.address.clone(),
            slots: self.config.slots,
            pid: std::process::id(),
            hardware: Hardware {
                cpu_cores: std::thread::available_parallelism().map_or(1, |n| n.get() as u32),
                physical_memory: physical_memory(),
            },
        };
        let answer: RegisterResponse = self
            .http
            .post(format!("{}/internal/taskmanagers", self.config.jobmanager))
            .bearer_auth(&*self.token)
            .json(&request)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        tracing::info!(id = %answer.taskmanager_id, "registered with the jobmanager");
        *self.heartbeat.lock().unwrap_or_else(|e| e.into_inner()) =
            Duration::from_millis(answer.heartbeat_interval_ms.max(50));
        *self.id.lock().unwrap_or_else(|e| e.into_inner()) = Some(answer.taskmanager_id);
        Ok(())
    }

    async fn send_heartbeat(&self) -> Result<()> {
        let Some(id) = self.id() else {
            return self.register().await;
        };
        let response = self
            .http
            .post(format!(
                "{}/internal/taskmanagers/{id}/heartbeat",
                self.config.jobmanager
            ))
            .bearer_auth(&*self.token)
            .json(&Heartbeat {
                workers: self.workers.reports(),
            })
            .send()
            .await?;
        if response.status() == StatusCode::NOT_FOUND {
            tracing::warn!("the jobmanager does not know this taskmanager; registering again");
            return self.register().await;
        }
        response.error_for_status()?;
        Ok(())
    }

    fn send_report(self: &Arc<Self>, report: WorkerReport) {
        let tm = self.clone();
        tokio::spawn(async move {
            for attempt in 0..3 {
                let Some(id) = tm.id() else { break };
                let result = tm
                    .http
                    .post(format!(
                        "{}/internal/taskmanagers/{id}/report",
                        tm.config.jobmanager
                    ))
                    .bearer_auth(&*tm.token)
                    .json(&report)
                    .send()
                    .await
                    .and_then(|r| r.error_for_status());
                match result {
                    Ok(_) => return,
                    Err(e) => {
                        tracing::warn!(attempt, error = %e, "cannot report to the jobmanager")
                    }
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        });
    }

    /// The executable of a job: the jobmanager's copy when this machine shares its disk,
    /// else downloaded (and checked against its SHA-256) into the scratch directory.
    async fn executable(&self, request: &DeployRequest) -> Result<PathBuf> {
        let shared = PathBuf::from(&request.jar_path);
        if shared.is_file() {
            return Ok(shared);
        }
        let local = self.paths.scratch.join("jars").join(&request.jar_id);
        if local.is_file() {
            return Ok(local);
        }
        let bytes = self
            .http
            .get(format!(
                "{}/internal/jars/{}",
                self.config.jobmanager, request.jar_id
            ))
            .bearer_auth(&*self.token)
            .timeout(Duration::from_secs(600))
            .send()
            .await?
            .error_for_status()?
            .bytes()
            .await?;
        let sha = crate::process::hex(&Sha256::digest(&bytes));
        anyhow::ensure!(
            sha == request.jar_id,
            "the downloaded executable has SHA-256 {sha}, not {}",
            request.jar_id
        );
        std::fs::create_dir_all(local.parent().expect("has a parent"))?;
        ClusterDir::write_atomic(&local, &bytes, 0o700)?;
        Ok(local)
    }
}

/// Physical memory in bytes, from /proc/meminfo (0 when unknown).
fn physical_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))?
                .split_whitespace()
                .nth(1)?
                .parse::<u64>()
                .ok()
        })
        .map_or(0, |kb| kb * 1024)
}

async fn deploy(
    State(tm): State<Arc<TaskManager>>,
    Json(request): Json<DeployRequest>,
) -> Response {
    let executable = match tm.executable(&request).await {
        Ok(path) => path,
        Err(e) => {
            return crate::rest::error(StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}"));
        }
    };
    let reporter = tm.clone();
    let handle = tokio::runtime::Handle::current();
    let report = move |report: WorkerReport| {
        let reporter = reporter.clone();
        handle.spawn(async move { reporter.send_report(report) });
    };
    match tm.workers.start(&executable, &request, &tm.paths, report) {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => crate::rest::error(StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}")),
    }
}

async fn cancel(State(tm): State<Arc<TaskManager>>, Path(job): Path<String>) -> Response {
    if tm.workers.cancel(&job) {
        tracing::info!(%job, "cancelling");
        StatusCode::OK.into_response()
    } else {
        crate::rest::error(StatusCode::NOT_FOUND, format!("no job {job} runs here"))
    }
}

async fn metrics(State(tm): State<Arc<TaskManager>>) -> Response {
    let mut out = Exposition::default();
    out.sample(
        "eddy_taskmanager_uptime",
        "gauge",
        "Milliseconds since the taskmanager started.",
        &[],
        tm.started.elapsed().as_millis() as f64,
    );
    out.sample(
        "eddy_taskmanager_slotsTotal",
        "gauge",
        "Slots this taskmanager offers.",
        &[],
        tm.config.slots as f64,
    );
    out.sample(
        "eddy_taskmanager_numRunningJobs",
        "gauge",
        "Jobs whose worker runs here.",
        &[],
        tm.workers.running() as f64,
    );
    for report in tm.workers.reports() {
        out.operators(&report.job_id, "", &[], &report.operators, &[]);
    }
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], out.finish()).into_response()
}

/// Runs a taskmanager until it is told to stop.
pub(crate) async fn run(config: Config) -> Result<()> {
    let dir = ClusterDir::new(&config.dir);
    dir.create()?;
    let index = match config.index {
        Some(i) => {
            dir.write_pid(&format!("taskmanager-{i}"))?;
            i
        }
        None => dir.claim_taskmanager_index()?,
    };
    let role = format!("taskmanager-{index}");
    crate::logging::init(Some(&dir.log_file(&role)))?;
    let token = crate::auth::find_token(config.token_file.as_deref(), &dir.token_file())?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .context("cannot listen on loopback")?;
    let address = format!("http://{}", listener.local_addr()?);
    let tm = Arc::new(TaskManager {
        index,
        token: token.into(),
        address: address.clone(),
        http: reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(10))
            .build()?,
        workers: Arc::new(Workers::default()),
        paths: Paths {
            log_dir: dir.log_dir(),
            pid_dir: dir.pid_dir(),
            scratch: dir.root().join(&role),
        },
        id: Mutex::new(None),
        heartbeat: Mutex::new(Duration::from_millis(500)),
        started: Instant::now(),
        config,
    });
    tracing::info!(%address, slots = tm.config.slots, jobmanager = %tm.config.jobmanager, "taskmanager starting");
    let app = Router::new()
        .route("/jobs", post(deploy))
        .route("/jobs/{id}/cancel", post(cancel))
        .route("/metrics", get(metrics))
        .layer(axum::middleware::from_fn_with_state(
            tm.token.clone(),
            crate::auth::require_token,
        ))
        .with_state(tm.clone());
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    );
    let beating = tm.clone();
    let heartbeats = async move {
        loop {
            if let Err(e) = beating.send_heartbeat().await {
                tracing::warn!(error = %format!("{e:#}"), "cannot reach the jobmanager");
            }
            let interval = *beating.heartbeat.lock().unwrap_or_else(|e| e.into_inner());
            tokio::time::sleep(interval).await;
        }
    };
    tokio::select! {
        result = server => { result.context("the REST server failed")?; }
        () = heartbeats => {}
        () = crate::logging::shutdown_signal() => {}
    }
    tm.workers.kill_all();
    let _ = std::fs::remove_file(dir.pid_file(&role));
    tracing::info!("taskmanager stopped");
    Ok(())
}
