//! Kill test of `fraud_detection`: the CEP job is SIGKILLed at random moments while many
//! partial matches are alive, restarted from its latest checkpoint at parallelism 2, then 1,
//! then 3, and must end with exactly the alerts of an uninterrupted run (each alert once) and
//! of a direct count of the pattern; no alert file is visible before the job has finished.
//!
//! The kill moments come from a seed printed at the start; set `EDDY_KILL_SEED` to replay one.

mod kill_support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use kill_support::{run_with_kills, sorted_lines, walk, Moments};

const ROWS: i64 = 30_000;
const ACCOUNTS: u64 = 60;

/// Transactions with a small (0.50) one in ten and a large (750) one in twenty, 2 ms apart, so
/// that most accounts always have a small transaction waiting for a large one. Returns the
/// file and the alerts a direct reading of the pattern gives: each small transaction with the
/// first later large one of its account, if that comes within 60 s.
fn transactions(dir: &Path) -> (PathBuf, Vec<String>) {
    let mut csv = String::from("account,ts,amount\n");
    let mut state = 11u64;
    let mut rows = Vec::new();
    for i in 0..ROWS {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let account = (state >> 33) % ACCOUNTS;
        let amount = match (state >> 40) % 20 {
            0 | 1 => "0.5".to_string(),
            2 => "750".to_string(),
            r => format!("{}.25", 10 + r * 20),
        };
        let ts = i * 2;
        csv.push_str(&format!("{account},{ts},{amount}\n"));
        rows.push((account, ts, amount));
    }
    let path = dir.join("transactions.csv");
    std::fs::write(&path, csv).unwrap();
    let mut waiting: HashMap<u64, Vec<(i64, String)>> = HashMap::new();
    let mut alerts = Vec::new();
    for (account, ts, amount) in rows {
        let value: f64 = amount.parse().unwrap();
        if value > 500.0 {
            for (small_ts, small) in waiting.remove(&account).unwrap_or_default() {
                if ts - small_ts < 60_000 {
                    alerts.push(format!("{account},{small_ts},{small},{ts},{amount}"));
                }
            }
        }
        if value < 1.0 {
            waiting.entry(account).or_default().push((ts, amount));
        }
    }
    alerts.sort();
    (path, alerts)
}

#[test]
fn fraud_detection_survives_kills_with_changing_parallelism() {
    let bin = env!("CARGO_BIN_EXE_fraud_detection");
    let dir = tempfile::tempdir().unwrap();
    let (input, direct) = transactions(dir.path());
    let expected = dir.path().join("expected.txt");
    let status = Command::new(bin)
        .args(["--input", input.to_str().unwrap(), "--parallelism", "2"])
        .args(["--output", expected.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(sorted_lines(&expected), direct);
    assert!(direct.len() > 1000, "{} alerts", direct.len());

    let output = dir.path().join("alerts.txt");
    let checkpoints = dir.path().join("checkpoints");
    let args = |parallelism: u32| -> Vec<String> {
        [
            "--input",
            input.to_str().unwrap(),
            "--output",
            output.to_str().unwrap(),
            "--checkpoint-dir",
            checkpoints.to_str().unwrap(),
            "--checkpoint-interval",
            "100ms",
            "--throttle",
            "6000",
            "--parallelism",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([parallelism.to_string()])
        .collect()
    };
    let mut moments = Moments::from_env();
    let restorable = run_with_kills(
        bin,
        args,
        &[2, 1, 3],
        &output,
        &checkpoints,
        &mut moments,
        (300, 900),
    );
    assert!(
        restorable > 0,
        "no kill happened after a completed checkpoint"
    );
    assert_eq!(sorted_lines(&output), direct);
    assert!(walk(&checkpoints).is_empty(), "{:?}", walk(&checkpoints));
}
