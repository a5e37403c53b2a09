//! Test support: a real cluster (jobmanager and taskmanagers as processes on loopback, in a
//! temporary directory, on a free port), stopped when the guard drops, even on failure; the
//! `wordcount` example executable; a REST helper; waits that always time out.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The `eddy` binary under test.
pub(crate) fn eddy() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_eddy"));
    command
        .env_remove("EDDY_JOBMANAGER")
        .env_remove("EDDY_TOKEN");
    command
}

/// Runs a command with a timeout; kills it when the time is up.
pub(crate) fn run_with_timeout(mut command: Command, timeout: Duration) -> Output {
    let tmp = tempfile::tempdir().unwrap();
    let (out, err) = (tmp.path().join("out"), tmp.path().join("err"));
    let mut child = command
        .stdin(std::process::Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .expect("the command starts");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            panic!("{command:?} did not end within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Output {
        status,
        stdout: std::fs::read(out).unwrap(),
        stderr: std::fs::read(err).unwrap(),
    }
}

/// The `wordcount` example: found beside `eddy` (a workspace test run builds it), else built
/// once with cargo into its own target directory.
pub(crate) fn wordcount() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let eddy = PathBuf::from(env!("CARGO_BIN_EXE_eddy"));
        let beside = eddy.with_file_name("wordcount");
        if beside.is_file() {
            return beside;
        }
        let target = eddy
            .parent()
            .unwrap()
            .parent()
            .unwrap()
            .join("cluster-tests");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-p", "eddy-examples", "--bin", "wordcount"])
            .env("CARGO_TARGET_DIR", &target)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("cargo runs");
        assert!(status.success(), "cannot build the wordcount example");
        target.join("debug").join("wordcount")
    })
    .clone()
}

/// Polls `f` until it returns `Some`, failing the test after `timeout`.
pub(crate) fn wait_for<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(value) = f() {
            return value;
        }
        assert!(
            start.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// A running cluster, stopped on drop.
pub(crate) struct Cluster {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) address: String,
    pub(crate) token: String,
    http: reqwest::blocking::Client,
}

impl Cluster {
    /// Starts a cluster with `taskmanagers` taskmanagers of `slots` slots and `extra` flags.
    pub(crate) fn start(taskmanagers: u32, slots: u32, extra: &[&str]) -> Cluster {
        let dir = tempfile::tempdir().unwrap();
        let cluster_dir = dir.path().join("cluster");
        let mut command = eddy();
        command
            .args(["cluster", "start", "--port", "0", "--taskmanagers"])
            .arg(taskmanagers.to_string())
            .arg("--slots")
            .arg(slots.to_string())
            .arg("--dir")
            .arg(&cluster_dir)
            .args(extra);
        // The guard exists before the start can fail, so that a half-started cluster stops.
        let mut cluster = Cluster {
            dir,
            address: String::new(),
            token: String::new(),
            http: reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
        };
        let output = run_with_timeout(command, Duration::from_secs(60));
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "cluster start failed: {stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        cluster.address = std::fs::read_to_string(cluster_dir.join("address"))
            .unwrap()
            .trim()
            .to_string();
        assert!(
            stdout.contains(&format!("Dashboard (REST API): {}", cluster.address)),
            "{stdout}"
        );
        cluster.token = std::fs::read_to_string(cluster_dir.join("token"))
            .unwrap()
            .trim()
            .to_string();
        cluster
    }

    /// The cluster directory.
    pub(crate) fn path(&self) -> PathBuf {
        self.dir.path().join("cluster")
    }

    /// `eddy ARGS --dir DIR`, with a timeout.
    pub(crate) fn cli(&self, args: &[&str]) -> Output {
        let mut command = eddy();
        command.args(args).arg("--dir").arg(self.path());
        run_with_timeout(command, Duration::from_secs(120))
    }

    /// `eddy run ...` for a client verb whose trailing args follow `--`.
    pub(crate) fn run_job(&self, flags: &[&str], executable: &Path, args: &[&str]) -> Output {
        let mut command = eddy();
        command
            .arg("run")
            .args(flags)
            .arg("--dir")
            .arg(self.path())
            .arg(executable)
            .arg("--")
            .args(args);
        run_with_timeout(command, Duration::from_secs(180))
    }

    /// `eddy run -d ...`: the job id.
    pub(crate) fn submit(&self, flags: &[&str], executable: &Path, args: &[&str]) -> String {
        let mut all = vec!["-d"];
        all.extend_from_slice(flags);
        let output = self.run_job(&all, executable, args);
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let id = stdout
            .trim()
            .strip_prefix("Job has been submitted with JobID ")
            .unwrap_or_else(|| panic!("unexpected output: {stdout}"))
            .to_string();
        assert_eq!(id.len(), 32, "{id}");
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
            "{id}"
        );
        id
    }

    /// A request with the token.
    pub(crate) fn request(
        &self,
        method: reqwest::Method,
        path: &str,
    ) -> reqwest::blocking::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.address))
            .bearer_auth(&self.token)
    }

    /// `GET path` with the token: status and JSON body.
    pub(crate) fn get(&self, path: &str) -> (u16, Value) {
        let response = self.request(reqwest::Method::GET, path).send().unwrap();
        let status = response.status().as_u16();
        let text = response.text().unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// `GET path` with the token, `None` when the jobmanager cannot be reached.
    pub(crate) fn try_get(&self, path: &str) -> Option<Value> {
        let response = self.request(reqwest::Method::GET, path).send().ok()?;
        if !response.status().is_success() {
            return None;
        }
        response.json().ok()
    }

    /// `GET path`, expecting 200.
    pub(crate) fn get_ok(&self, path: &str) -> Value {
        let (status, body) = self.get(path);
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    /// A job's state.
    pub(crate) fn state(&self, job: &str) -> String {
        self.get_ok(&format!("/jobs/{job}"))["state"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Waits until a job is in `state`.
    pub(crate) fn wait_state(&self, job: &str, state: &str, timeout: Duration) {
        wait_for(&format!("job {job} to be {state}"), timeout, || {
            let now = self.state(job);
            assert!(
                now == state || !["FINISHED", "FAILED", "CANCELED"].contains(&now.as_str()),
                "job {job} ended as {now}, expected {state}: {}",
                self.get_ok(&format!("/jobs/{job}/exceptions"))
            );
            (now == state).then_some(())
        })
    }

    /// The pids of the cluster's processes, from its pid files.
    pub(crate) fn pids(&self) -> Vec<(String, u32)> {
        std::fs::read_dir(self.path().join("pids"))
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let pid = std::fs::read_to_string(e.path())
                    .ok()?
                    .trim()
                    .parse()
                    .ok()?;
                Some((name, pid))
            })
            .collect()
    }
}

/// Whether a process runs (and is not a zombie).
pub(crate) fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z"),
        Err(_) => false,
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let pids = self.pids();
        let mut command = eddy();
        command.args(["cluster", "stop", "--dir"]).arg(self.path());
        let _ = command.output();
        // Whatever survived the stop (or a stop that failed) is killed here.
        for (_, pid) in pids {
            if alive(pid) {
                let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            }
        }
    }
}

/// Writes a text of `lines` lines of words to `path`.
pub(crate) fn write_text(path: &Path, lines: usize) {
    let words = [
        "stream", "batch", "state", "window", "key", "time", "flink", "eddy", "job",
    ];
    let text: String = (0..lines)
        .map(|i| {
            let line: Vec<&str> = (0..(i % 7 + 1))
                .map(|j| words[(i * 31 + j * 7) % words.len()])
                .collect();
            format!("{} w{}\n", line.join(" "), i % 113)
        })
        .collect();
    std::fs::write(path, text).unwrap();
}

/// The lines of a text, sorted.
pub(crate) fn sorted_lines(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines.sort();
    lines
}
