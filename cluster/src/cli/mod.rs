//! The `eddy` command line: one subcommand per verb, each a thin layer over the REST API or
//! over a role's `run` function.

mod cluster;
mod jobs;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};

use crate::dir::DEFAULT_DIR;

/// Eddy's cluster: a jobmanager and taskmanagers as separate processes, job submission and
/// control over a REST API with Apache Flink's paths, and a CLI shaped like `flink`.
#[derive(Parser, Debug)]
#[command(name = "eddy", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Start or stop a local cluster (a jobmanager and taskmanagers on loopback).
    #[command(subcommand)]
    Cluster(ClusterCommand),
    /// Run a jobmanager alone (for several machines or containers).
    Jobmanager(JobmanagerArgs),
    /// Run a taskmanager alone; it joins the jobmanager at URL.
    Taskmanager(TaskmanagerArgs),
    /// Upload an Eddy job executable and run it on the cluster.
    Run(RunArgs),
    /// List the cluster's jobs.
    List(ListArgs),
    /// Cancel a job.
    Cancel(CancelArgs),
    /// Print an executable's job plan as JSON (no cluster needed).
    Info(InfoArgs),
}

#[derive(Subcommand, Debug)]
enum ClusterCommand {
    /// Start a jobmanager and N taskmanagers; returns once every taskmanager registered.
    Start(StartArgs),
    /// Stop every process of the cluster in DIR and remove its pid files.
    Stop(StopArgs),
}

#[derive(Args, Debug)]
struct StartArgs {
    /// Taskmanagers to start.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(0..=64))]
    taskmanagers: u32,
    /// Slots per taskmanager.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=1024))]
    slots: u32,
    /// REST port of the jobmanager (0: any free port).
    #[arg(long, default_value_t = 8081)]
    port: u16,
    /// The cluster directory (logs, pid files, address, token).
    #[arg(long, default_value = DEFAULT_DIR)]
    dir: PathBuf,
    /// The largest executable accepted by POST /jars/upload, in MiB.
    #[arg(long, default_value_t = 512, value_name = "MIB")]
    max_upload_mb: usize,
}

#[derive(Args, Debug)]
struct StopArgs {
    /// The cluster directory.
    #[arg(long, default_value = DEFAULT_DIR)]
    dir: PathBuf,
}

#[derive(Args, Debug)]
struct JobmanagerArgs {
    /// REST port (0: any free port).
    #[arg(long, default_value_t = 8081)]
    port: u16,
    /// Address to bind; loopback unless you mean to expose the cluster.
    #[arg(long, default_value = "127.0.0.1")]
    bind: IpAddr,
    /// The cluster directory (log, pid file, address, token, uploaded executables).
    #[arg(long, default_value = DEFAULT_DIR)]
    dir: PathBuf,
    /// The largest executable accepted by POST /jars/upload, in MiB.
    #[arg(long, default_value_t = 512, value_name = "MIB")]
    max_upload_mb: usize,
    /// A taskmanager silent this long (ms) is lost.
    #[arg(long, default_value_t = 3000, value_name = "MS")]
    heartbeat_timeout: u64,
    /// Taskmanagers send a heartbeat this often (ms).
    #[arg(long, default_value_t = 500, value_name = "MS")]
    heartbeat_interval: u64,
    /// A job that gets no slots within this many seconds fails.
    #[arg(long, default_value_t = 300, value_name = "SECONDS")]
    slot_timeout: u64,
    /// Restarts of a job after losing its taskmanager (from scratch, or from the program's
    /// own latest checkpoint), before the job fails.
    #[arg(long, default_value_t = 3, value_name = "N")]
    restart_attempts: u32,
    /// Log to stderr instead of DIR/log/jobmanager.log.
    #[arg(long)]
    log_to_stderr: bool,
}

#[derive(Args, Debug)]
struct TaskmanagerArgs {
    /// The jobmanager's REST base URL, e.g. http://127.0.0.1:8081.
    #[arg(long, value_name = "URL", env = "EDDY_JOBMANAGER")]
    jobmanager: String,
    /// Slots offered.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=1024))]
    slots: u32,
    /// The cluster directory (log, pid file; the token unless EDDY_TOKEN or --token-file).
    #[arg(long, default_value = DEFAULT_DIR)]
    dir: PathBuf,
    /// A file holding the cluster's token.
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// This taskmanager's index in DIR (chosen by `cluster start`).
    #[arg(long, hide = true)]
    index: Option<u32>,
}

/// How a client finds its cluster.
#[derive(Args, Debug, Clone)]
struct Connection {
    /// The jobmanager's REST base URL [default: the `address` file in DIR].
    #[arg(long, value_name = "URL", env = "EDDY_JOBMANAGER")]
    jobmanager: Option<String>,
    /// A file holding the token [default: EDDY_TOKEN, else the `token` file in DIR].
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// The cluster directory.
    #[arg(long, default_value = DEFAULT_DIR)]
    dir: PathBuf,
}

#[derive(Args, Debug)]
struct RunArgs {
    /// Detached: print the job id and return instead of waiting for the job.
    #[arg(short, long)]
    detached: bool,
    /// The job's default parallelism [default: the program's own].
    #[arg(short, long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=32768))]
    parallelism: Option<u32>,
    /// The Eddy job executable.
    executable: PathBuf,
    /// The program's arguments (after `--`).
    #[arg(last = true)]
    args: Vec<String>,
    #[command(flatten)]
    connection: Connection,
}

#[derive(Args, Debug)]
struct ListArgs {
    /// Running (and restarting) jobs only.
    #[arg(short, long)]
    running: bool,
    /// Scheduled jobs (waiting for slots) only.
    #[arg(short, long)]
    scheduled: bool,
    /// All jobs, including ended ones.
    #[arg(short, long)]
    all: bool,
    #[command(flatten)]
    connection: Connection,
}

#[derive(Args, Debug)]
struct CancelArgs {
    /// The job id (32 hex characters).
    job: String,
    #[command(flatten)]
    connection: Connection,
}

#[derive(Args, Debug)]
struct InfoArgs {
    /// The job's default parallelism, as `run -p` would set it.
    #[arg(short, long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=32768))]
    parallelism: Option<u32>,
    /// The Eddy job executable.
    executable: PathBuf,
    /// The program's arguments (after `--`).
    #[arg(last = true)]
    args: Vec<String>,
}

/// Bad input from the user: exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadInput(pub String);

/// Exit code for bad input.
pub const EXIT_BAD_INPUT: i32 = 2;

/// Runs the command line; returns the process's exit code.
///
/// # Errors
/// What went wrong, as one message; a [`BadInput`] for bad input (exit code 2).
pub fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Cluster(ClusterCommand::Start(a)) => {
            cluster::start(&a.dir, a.taskmanagers, a.slots, a.port, a.max_upload_mb)
        }
        Command::Cluster(ClusterCommand::Stop(a)) => cluster::stop(&a.dir),
        Command::Jobmanager(a) => {
            let dir = crate::dir::ClusterDir::new(&a.dir);
            dir.create()?;
            let log = (!a.log_to_stderr).then(|| dir.log_file("jobmanager"));
            crate::logging::init(log.as_deref())?;
            let config = crate::jobmanager::Config {
                dir: a.dir,
                bind: SocketAddr::new(a.bind, a.port),
                max_upload: a.max_upload_mb.saturating_mul(1 << 20),
                heartbeat_interval: Duration::from_millis(a.heartbeat_interval.max(10)),
                heartbeat_timeout: Duration::from_millis(a.heartbeat_timeout.max(50)),
                slot_timeout: Duration::from_secs(a.slot_timeout),
                restart_attempts: a.restart_attempts,
            };
            runtime()?.block_on(crate::jobmanager::run(config))?;
            Ok(0)
        }
        Command::Taskmanager(a) => {
            let config = crate::taskmanager::Config {
                jobmanager: a.jobmanager.trim_end_matches('/').to_string(),
                slots: a.slots,
                dir: a.dir,
                index: a.index,
                token_file: a.token_file,
            };
            runtime()?.block_on(crate::taskmanager::run(config))?;
            Ok(0)
        }
        Command::Run(a) => jobs::run(&a),
        Command::List(a) => jobs::list(&a),
        Command::Cancel(a) => jobs::cancel(&a),
        Command::Info(a) => jobs::info(&a),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}
