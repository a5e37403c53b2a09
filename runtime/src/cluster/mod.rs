//! How an Eddy program runs on a cluster: the same executable, three modes.
//!
//! - **Embedded** (the default): `execute` runs the job in this process.
//! - **Plan** (`--plan` as the first argument, or `EDDY_CLUSTER_MODE=plan`): the first
//!   `execute` writes the job's [`plan::PlanDescription`] as JSON (to the file named by
//!   `EDDY_PLAN_FILE`, else stdout) and ends the process with exit code 0, running nothing.
//! - **Worker** (`EDDY_CLUSTER_MODE=worker`, set by a taskmanager): `execute` runs the job
//!   with the cluster's parallelism (`EDDY_PARALLELISM`, the `-p` of `eddy run`) and reports
//!   its progress in the [`status::WorkerStatus`] file named by `EDDY_STATUS_FILE`.
//!
//! The choice is made in one place, [`crate::execute_observed`], which every API's `execute`
//! goes through, so programs need no change to run on a cluster. The `--plan` flag is
//! recognised by [`init`], which a program calls before parsing its own arguments (the
//! examples do so in their shared `init_logging`):
//!
//! ```
//! // First thing in `main`: with `--plan` as the first argument, this re-runs the program
//! // in plan mode without that argument, so the program's own flag parser never sees it.
//! eddy_runtime::cluster::init();
//! assert_eq!(eddy_runtime::cluster::mode(), eddy_runtime::cluster::Mode::Embedded);
//! ```

pub mod plan;
pub mod status;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crate::executor::{ExecutionConfig, JobResult, OperatorMetrics};
use crate::graph::JobGraph;
use crate::{Error, Result};

pub use plan::PROTOCOL_VERSION;

/// The environment variable that selects the [`Mode`]: `plan` or `worker`.
pub const MODE_ENV: &str = "EDDY_CLUSTER_MODE";
/// In plan mode: the file the plan is written to (stdout when unset).
pub const PLAN_FILE_ENV: &str = "EDDY_PLAN_FILE";
/// In plan and worker mode: the job's default parallelism, overriding the program's.
pub const PARALLELISM_ENV: &str = "EDDY_PARALLELISM";
/// In worker mode: the status file the runtime keeps up to date.
pub const STATUS_FILE_ENV: &str = "EDDY_STATUS_FILE";
/// The first argument that makes [`init`] switch to plan mode.
pub const PLAN_FLAG: &str = "--plan";

/// How `execute` behaves in this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Run jobs here (no cluster).
    Embedded,
    /// Describe the first job and exit.
    Plan,
    /// Run jobs here on behalf of a taskmanager, reporting their status.
    Worker,
}

/// The mode this process runs in, from [`MODE_ENV`].
pub fn mode() -> Mode {
    match std::env::var(MODE_ENV).as_deref() {
        Ok("plan") => Mode::Plan,
        Ok("worker") => Mode::Worker,
        _ => Mode::Embedded,
    }
}

/// Recognises `--plan` as the program's first argument: re-runs the program without it, in
/// plan mode (on Unix the process image is replaced, so the pid stays). Does nothing
/// otherwise. Call it first thing in `main`, before parsing arguments.
pub fn init() {
    let mut args = std::env::args_os();
    let program = args.next();
    let rest: Vec<std::ffi::OsString> = args.collect();
    if rest.first().is_none_or(|a| a != PLAN_FLAG) {
        return;
    }
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("cannot find this program to describe its plan: {e}");
            std::process::exit(2);
        }
    };
    let mut command = std::process::Command::new(exe);
    command.args(&rest[1..]).env(MODE_ENV, "plan");
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        if let Some(program) = program {
            command.arg0(program);
        }
        let error = command.exec();
        eprintln!("cannot re-run this program to describe its plan: {error}");
        std::process::exit(2);
    }
    #[cfg(not(unix))]
    {
        let _ = program;
        match command.status() {
            Ok(status) => std::process::exit(status.code().unwrap_or(1)),
            Err(error) => {
                eprintln!("cannot re-run this program to describe its plan: {error}");
                std::process::exit(2);
            }
        }
    }
}

/// The configuration with the cluster's parallelism, if it sets one.
fn with_cluster_parallelism(config: &ExecutionConfig) -> Result<ExecutionConfig> {
    let mut config = config.clone();
    if let Ok(value) = std::env::var(PARALLELISM_ENV) {
        config.parallelism = value
            .parse::<u32>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| {
                Error::InvalidGraph(format!(
                    "{PARALLELISM_ENV}={value}: not a positive parallelism"
                ))
            })?;
    }
    Ok(config)
}

/// Plan mode: writes the plan of `graph` and ends the process.
pub(crate) fn describe_and_exit(graph: &JobGraph, config: &ExecutionConfig) -> Result<JobResult> {
    let config = with_cluster_parallelism(config)?;
    let plan = crate::executor::physical(graph, &config)?.describe(
        &config.job_id,
        config.parallelism,
        config.max_parallelism,
    );
    let json = plan.to_json();
    match std::env::var_os(PLAN_FILE_ENV).map(PathBuf::from) {
        Some(path) => {
            let tmp = path.with_extension("tmp");
            std::fs::write(&tmp, json.as_bytes())
                .and_then(|()| std::fs::rename(&tmp, &path))
                .map_err(|e| Error::io(&path, e))?;
        }
        None => {
            use std::io::Write;
            let mut stdout = std::io::stdout().lock();
            writeln!(stdout, "{json}")
                .and_then(|()| stdout.flush())
                .map_err(|e| Error::io("stdout", e))?;
        }
    }
    std::process::exit(0)
}

/// Jobs that ended successfully in this worker process.
static JOBS_FINISHED: AtomicU32 = AtomicU32::new(0);

/// How often a worker rewrites its status file while a job runs.
const STATUS_INTERVAL: Duration = Duration::from_millis(500);

/// Worker mode: runs the job with `run` under the cluster's parallelism, keeping the status
/// file up to date.
pub(crate) fn run_worker(
    graph: &JobGraph,
    config: &ExecutionConfig,
    progress: &mut dyn FnMut(&[OperatorMetrics]),
    run: impl FnOnce(
        &JobGraph,
        &ExecutionConfig,
        &mut dyn FnMut(&[OperatorMetrics]),
    ) -> Result<JobResult>,
) -> Result<JobResult> {
    let config = with_cluster_parallelism(config)?;
    let status_file = std::env::var_os(STATUS_FILE_ENV).map(PathBuf::from);
    let report = |operators: &[OperatorMetrics], error: Option<String>, restarts: u32| {
        if let Some(path) = &status_file {
            let status = status::WorkerStatus {
                protocol_version: PROTOCOL_VERSION,
                jobs_finished: JOBS_FINISHED.load(Ordering::Relaxed),
                operators: operators.iter().map(Into::into).collect(),
                error,
                restarts,
            };
            if let Err(e) = status.write(path) {
                tracing::warn!(file = %path.display(), error = %e, "cannot write the worker status");
            }
        }
    };
    let mut last = Instant::now() - STATUS_INTERVAL;
    let mut latest: Vec<OperatorMetrics> = Vec::new();
    let result = run(graph, &config, &mut |metrics: &[OperatorMetrics]| {
        if last.elapsed() >= STATUS_INTERVAL {
            last = Instant::now();
            report(metrics, None, 0);
        }
        latest = metrics.to_vec();
        progress(metrics);
    });
    match &result {
        Ok(done) => {
            JOBS_FINISHED.fetch_add(1, Ordering::Relaxed);
            report(&done.operators, None, done.restarts);
        }
        Err(error) => report(&latest, Some(error.to_string()), 0),
    }
    result
}
