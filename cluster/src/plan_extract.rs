//! Asking a job executable for its plan: it runs with `--plan` and writes a
//! [`PlanDescription`] instead of running its job (see `eddy_runtime::cluster`).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use eddy_runtime::cluster::plan::{PlanDescription, PROTOCOL_VERSION};
use eddy_runtime::cluster::{MODE_ENV, PARALLELISM_ENV, PLAN_FILE_ENV, PLAN_FLAG, STATUS_FILE_ENV};

/// Why an executable gave no plan.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PlanError {
    /// It is not an Eddy program, or it failed before building its job.
    #[error("{0}")]
    NotEddy(String),
    /// It was built against a runtime of another protocol version.
    #[error("{0}")]
    Incompatible(String),
    /// It could not be started.
    #[error("cannot run {path}: {source}")]
    Start {
        /// The executable.
        path: String,
        /// What the OS said.
        source: std::io::Error,
    },
}

/// How long a program may take to describe its plan.
pub(crate) const PLAN_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs `executable --plan ARGS` and reads the plan it describes.
pub(crate) fn extract(
    executable: &Path,
    name: &str,
    args: &[String],
    parallelism: Option<u32>,
    timeout: Duration,
) -> Result<PlanDescription, PlanError> {
    let start_error = |source| PlanError::Start {
        path: executable.display().to_string(),
        source,
    };
    let scratch = tempfile::tempdir().map_err(start_error)?;
    let plan_file = scratch.path().join("plan.json");
    let stderr_file = scratch.path().join("stderr");
    let stderr = std::fs::File::create(&stderr_file).map_err(start_error)?;
    let mut command = Command::new(executable);
    command
        .arg(PLAN_FLAG)
        .args(args)
        .env(PLAN_FILE_ENV, &plan_file)
        .env_remove(MODE_ENV)
        .env_remove(STATUS_FILE_ENV)
        .env_remove(PARALLELISM_ENV)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr);
    if let Some(p) = parallelism {
        command.env(PARALLELISM_ENV, p.to_string());
    }
    let mut child = command.spawn().map_err(start_error)?;
    let started = Instant::now();
    let status = loop {
        match child.try_wait().map_err(start_error)? {
            Some(status) => break Some(status),
            None if started.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            None => std::thread::sleep(Duration::from_millis(2)),
        }
    };
    let tail = stderr_tail(&stderr_file);
    let Ok(json) = std::fs::read_to_string(&plan_file) else {
        let how = match status {
            None => format!("did not describe a job plan within {} s", timeout.as_secs()),
            Some(s) => match s.code() {
                Some(code) => format!("exited with code {code} without describing a job plan"),
                None => "was killed by a signal without describing a job plan".to_string(),
            },
        };
        let what = if status.is_some_and(|s| s.success()) {
            "is not an Eddy job"
        } else {
            "is not an Eddy job, or failed before building its job"
        };
        return Err(PlanError::NotEddy(format!(
            "{name} {what}: run with --plan, it {how} (an Eddy program describes its first \
             job when run with --plan){tail}"
        )));
    };
    parse(&json, name)
}

/// Parses a plan, refusing another protocol version.
pub(crate) fn parse(json: &str, name: &str) -> Result<PlanDescription, PlanError> {
    let value: serde_json::Value = serde_json::from_str(json).map_err(|e| {
        PlanError::NotEddy(format!(
            "{name} is not an Eddy job: its plan is not JSON ({e})"
        ))
    })?;
    let version = value.get("protocol_version").and_then(|v| v.as_u64());
    match version {
        Some(v) if v == u64::from(PROTOCOL_VERSION) => {}
        Some(v) => {
            let runtime = value
                .get("runtime_version")
                .and_then(|v| v.as_str())
                .unwrap_or("unknown");
            return Err(PlanError::Incompatible(format!(
                "{name} was built against Eddy runtime {runtime} (protocol version {v}); this \
                 cluster speaks protocol version {PROTOCOL_VERSION}: rebuild the job against \
                 this Eddy version"
            )));
        }
        None => {
            return Err(PlanError::NotEddy(format!(
                "{name} is not an Eddy job: its plan has no protocol_version"
            )))
        }
    }
    serde_json::from_value(value)
        .map_err(|e| PlanError::NotEddy(format!("{name} described an unreadable job plan: {e}")))
}

/// The last lines of a program's stderr, as `: line; line` (empty when it printed nothing).
pub(crate) fn stderr_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let tail = &lines[lines.len().saturating_sub(5)..];
    if tail.is_empty() {
        String::new()
    } else {
        format!(": {}", tail.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn another_protocol_version_is_refused_with_both_versions() {
        let json = r#"{"protocol_version": 99, "runtime_version": "9.0.0"}"#;
        let error = parse(json, "job").unwrap_err().to_string();
        assert!(error.contains("protocol version 99"), "{error}");
        assert!(
            error.contains(&format!("protocol version {PROTOCOL_VERSION}")),
            "{error}"
        );
        assert!(error.contains("9.0.0"), "{error}");
    }

    #[test]
    fn a_program_without_a_plan_is_not_an_eddy_job() {
        let error = extract(Path::new("/bin/true"), "true", &[], None, PLAN_TIMEOUT)
            .unwrap_err()
            .to_string();
        assert!(error.contains("true is not an Eddy job"), "{error}");
        assert!(error.contains("exited with code 0"), "{error}");
    }
}
