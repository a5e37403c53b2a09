//! The `start_end_duration` binary: START/END pairing per key, the timeout that forgets a
//! START, the same result at every parallelism, and malformed input.

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_start_end_duration");

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn run(input: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args([
            "--input",
            input.to_str().unwrap(),
            "--output",
            out.to_str().unwrap(),
        ])
        .args(extra)
        .output()
        .unwrap()
}

fn rows(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    assert_eq!(text.lines().next(), Some("key,duration_ms"));
    let mut rows: Vec<String> = text.lines().skip(1).map(String::from).collect();
    rows.sort();
    rows
}

#[test]
fn pairs_start_and_end_and_forgets_starts_after_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let hour = 3_600_000;
    let input = write(
        dir.path(),
        "in.csv",
        &format!(
            "key,ts,kind\n\
             a,1000,START\n\
             b,2000,START\n\
             a,4000,END\n\
             c,5000,END\n\
             c,6000,NOISE\n\
             d,{},START\n\
             b,{},END\n\
             d,{},END\n",
            10 * hour,
            2000 + 5 * hour,
            10 * hour + 123,
        ),
    );
    let out = dir.path().join("out.csv");
    let r = run(&input, &out, &[]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    // d's START moved the watermark past b's four-hour timer, which cleared b's START before
    // b's END (five hours after it) arrived.
    assert_eq!(rows(&out), ["a,3000", "d,123"]);
    // With a twelve-hour timeout b pairs too.
    let r = run(&input, &out, &["--timeout", "12h"]);
    assert!(r.status.success());
    assert_eq!(
        rows(&out),
        ["a,3000", format!("b,{}", 5 * hour).as_str(), "d,123"]
    );
}

#[test]
fn every_parallelism_gives_the_same_pairs() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("key,ts,kind\n");
    for i in 0..2000u64 {
        let key = i % 37;
        let kind = if (i / 37) % 2 == 0 { "START" } else { "END" };
        text.push_str(&format!("k{key},{},{kind}\n", i * 1000));
    }
    let input = write(dir.path(), "in.csv", &text);
    let mut results = Vec::new();
    for p in ["1", "2", "3"] {
        let out = dir.path().join(format!("out{p}.csv"));
        assert!(run(&input, &out, &["--parallelism", p, "--timeout", "60s"])
            .status
            .success());
        results.push(rows(&out));
    }
    assert!(!results[0].is_empty());
    assert_eq!(results[0], results[1]);
    assert_eq!(results[0], results[2]);
}

#[test]
fn malformed_input_is_one_line_exit_2_without_output() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(
        dir.path(),
        "bad.csv",
        "key,ts,kind\na,1,START\na,soon,END\n",
    );
    let out = dir.path().join("out.csv");
    let r = run(&input, &out, &[]);
    assert_eq!(r.status.code(), Some(2));
    let stderr = String::from_utf8(r.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("bad.csv:3") && stderr.contains("column 'ts'"),
        "{stderr}"
    );
    assert!(!out.exists());
}
