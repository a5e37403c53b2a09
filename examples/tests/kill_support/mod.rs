//! Shared by the kill tests: seeded kill moments, a run killed several times at changing
//! parallelism and then finished, and the file helpers their checks use.

#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// A small deterministic generator for kill moments.
pub struct Moments(u64);

impl Moments {
    pub fn from_env() -> Self {
        let seed = std::env::var("EDDY_KILL_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(7, |d| d.as_nanos() as u64)
            });
        eprintln!("kill seed: {seed} (EDDY_KILL_SEED={seed} replays it)");
        Moments(seed)
    }

    /// A delay in `low..high` milliseconds.
    pub fn next(&mut self, low: u64, high: u64) -> Duration {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        Duration::from_millis(low + (self.0 >> 33) % (high - low))
    }
}

pub fn has_complete_checkpoint(dir: &Path) -> bool {
    walk(dir).iter().any(|p| p.ends_with("_metadata"))
}

pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                found.extend(walk(&path));
            } else {
                found.push(path);
            }
        }
    }
    found
}

pub fn sorted_lines(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines.sort();
    lines
}

pub fn spawn(bin: &str, args: &[String]) -> Child {
    Command::new(bin)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("binary starts")
}

/// Runs `bin` with `args(parallelism)`, killing it at random moments for each parallelism of
/// `kills`, then runs it to the end at parallelism 2; returns how many kills found a completed
/// checkpoint to restart from.
pub fn run_with_kills(
    bin: &str,
    args: impl Fn(u32) -> Vec<String>,
    kills: &[u32],
    output: &Path,
    checkpoints: &Path,
    moments: &mut Moments,
    kill_window_ms: (u64, u64),
) -> usize {
    let mut restorable = 0;
    for &parallelism in kills {
        let mut child = spawn(bin, &args(parallelism));
        let started = Instant::now();
        let wait = moments.next(kill_window_ms.0, kill_window_ms.1);
        while started.elapsed() < wait {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        if let Some(status) = child.try_wait().unwrap() {
            // The rest of the input took less than the kill moment: the job is complete.
            assert!(status.success(), "a run failed before it was killed");
            break;
        }
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(
            !output.exists(),
            "a killed run must not leave a visible output file"
        );
        if has_complete_checkpoint(checkpoints) {
            restorable += 1;
        }
    }
    let final_run = spawn(bin, &args(2)).wait_with_output().unwrap();
    assert!(
        final_run.status.success(),
        "final run failed: {}",
        String::from_utf8_lossy(&final_run.stderr)
    );
    restorable
}
