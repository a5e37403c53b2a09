//! `eddy cluster start` and `eddy cluster stop`, like Flink's start-cluster.sh and
//! stop-cluster.sh: processes on loopback, tracked by pid files in the cluster directory.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};

use crate::client::Client;
use crate::dir::{read_pid, ClusterDir};
use crate::protocol::Overview;

/// How long `start` waits for the jobmanager and for every taskmanager.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// Spawns `eddy ARGS` detached (own process group), stderr appended to `log`.
fn spawn(args: &[String], log: &Path) -> Result<Child> {
    let exe = std::env::current_exe().context("cannot find the eddy executable")?;
    let stderr = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .with_context(|| format!("cannot open {}", log.display()))?;
    let mut command = Command::new(exe);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .env_remove(eddy_runtime::cluster::MODE_ENV);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        command.process_group(0);
    }
    command
        .spawn()
        .with_context(|| format!("cannot start eddy {}", args.join(" ")))
}

/// The last lines of a log, for an error message.
fn log_tail(log: &Path) -> String {
    let tail = crate::plan_extract::stderr_tail(log);
    if tail.is_empty() {
        format!(" (see {})", log.display())
    } else {
        format!(" (see {}){tail}", log.display())
    }
}

/// Fails when `child` has exited.
fn check_alive(child: &mut Child, what: &str, log: &Path) -> Result<()> {
    if let Some(status) = child.try_wait()? {
        bail!("the {what} exited ({status}){}", log_tail(log));
    }
    Ok(())
}

/// `eddy cluster start`.
pub(super) fn start(
    dir: &Path,
    taskmanagers: u32,
    slots: u32,
    port: u16,
    max_upload_mb: usize,
) -> Result<i32> {
    let cluster = ClusterDir::new(dir);
    cluster.create()?;
    if let Some(pid) = read_pid(&cluster.pid_file("jobmanager")) {
        if crate::process::is_alive(pid) {
            bail!(
                "a cluster already runs in {} (jobmanager pid {pid}); stop it first with \
                 `eddy cluster stop --dir {}`",
                dir.display(),
                dir.display()
            );
        }
    }
    let _ = std::fs::remove_file(cluster.address_file());
    let token = crate::auth::new_token();
    crate::auth::write_token(&cluster.token_file(), &token)?;
    println!("Starting cluster in {}.", dir.display());
    let dir_arg = dir.display().to_string();
    let jm_log = cluster.log_file("jobmanager");
    let mut jobmanager = spawn(
        &[
            "jobmanager".into(),
            "--port".into(),
            port.to_string(),
            "--dir".into(),
            dir_arg.clone(),
            "--max-upload-mb".into(),
            max_upload_mb.to_string(),
        ],
        &jm_log,
    )?;
    ClusterDir::write_atomic(
        &cluster.pid_file("jobmanager"),
        format!("{}\n", jobmanager.id()).as_bytes(),
        0o644,
    )?;
    let started = Instant::now();
    let address = loop {
        if let Ok(address) = std::fs::read_to_string(cluster.address_file()) {
            break address.trim().to_string();
        }
        check_alive(&mut jobmanager, "jobmanager", &jm_log)?;
        if started.elapsed() > START_TIMEOUT {
            bail!(
                "the jobmanager did not start within {} s{}",
                START_TIMEOUT.as_secs(),
                log_tail(&jm_log)
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    println!("Started jobmanager (pid {}) at {address}.", jobmanager.id());
    let mut children = Vec::new();
    for i in 0..taskmanagers {
        let role = format!("taskmanager-{i}");
        let log = cluster.log_file(&role);
        let child = spawn(
            &[
                "taskmanager".into(),
                "--jobmanager".into(),
                address.clone(),
                "--slots".into(),
                slots.to_string(),
                "--dir".into(),
                dir_arg.clone(),
                "--index".into(),
                i.to_string(),
            ],
            &log,
        )?;
        ClusterDir::write_atomic(
            &cluster.pid_file(&role),
            format!("{}\n", child.id()).as_bytes(),
            0o644,
        )?;
        children.push((child, role, log));
    }
    let client = Client::new(&address, token)?;
    let started = Instant::now();
    loop {
        let overview: Result<Overview> = client.get("/overview");
        if let Ok(overview) = &overview {
            if overview.taskmanagers >= taskmanagers {
                break;
            }
        }
        check_alive(&mut jobmanager, "jobmanager", &jm_log)?;
        for (child, role, log) in &mut children {
            check_alive(child, role, log)?;
        }
        if started.elapsed() > START_TIMEOUT {
            return Err(anyhow!(
                "not every taskmanager registered within {} s: {}",
                START_TIMEOUT.as_secs(),
                match overview {
                    Ok(o) => format!("{} of {taskmanagers}", o.taskmanagers),
                    Err(e) => format!("{e:#}"),
                }
            ));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    for (child, role, _) in &children {
        println!("Started {role} (pid {}) with {slots} slots.", child.id());
    }
    println!("Dashboard (REST API): {address}");
    Ok(0)
}

/// `eddy cluster stop`.
pub(super) fn stop(dir: &Path) -> Result<i32> {
    let cluster = ClusterDir::new(dir);
    let mut pid_files: Vec<_> = std::fs::read_dir(cluster.pid_dir())
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "pid"))
        .collect();
    // Workers first, then taskmanagers, the jobmanager last.
    let rank = |p: &Path| {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.starts_with("worker-") {
            0
        } else if name.starts_with("taskmanager-") {
            1
        } else {
            2
        }
    };
    pid_files.sort_by_key(|p| (rank(p), p.clone()));
    if pid_files.is_empty() {
        println!("No cluster runs in {}.", dir.display());
    }
    for file in &pid_files {
        let role = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        if let Some(pid) = read_pid(file) {
            let stopped = if rank(file) == 0 {
                // A worker: its whole process group, at once.
                crate::process::is_alive(pid) && crate::process::signal(pid, libc::SIGKILL, true)
            } else {
                crate::process::terminate(pid, Duration::from_secs(5))
            };
            if stopped {
                println!("Stopped {role} (pid {pid}).");
            }
        }
        let _ = std::fs::remove_file(file);
    }
    let _ = std::fs::remove_file(cluster.address_file());
    Ok(0)
}
