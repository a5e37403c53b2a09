//! Kill tests: the stateful examples are SIGKILLed at random moments, several times in a row,
//! restarted with the same flags (and another parallelism: 2, then 1, then 3), and must end
//! with exactly the output of an uninterrupted run, while no output file is ever visible
//! before the job has finished.
//!
//! The kill moments come from a seed printed at the start; set `EDDY_KILL_SEED` to replay one.

mod kill_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use kill_support::{run_with_kills, sorted_lines, walk, Moments};

fn text_input(dir: &Path) -> PathBuf {
    let words = [
        "alpha", "beta", "gamma", "delta", "eps", "zeta", "eta", "theta",
    ];
    let mut text = String::new();
    let mut state = 42u64;
    for line in 0..24_000 {
        for _ in 0..1 + line % 7 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            text.push_str(words[(state >> 33) as usize % words.len()]);
            text.push_str(&format!("{} ", (state >> 40) % 300));
        }
        text.push('\n');
    }
    let path = dir.join("input.txt");
    std::fs::write(&path, text).unwrap();
    path
}

fn wordcount_case(mode: &str, backend: &str) {
    wordcount_case_in(mode, backend, false);
}

/// With `object_store`, the checkpoint directory is given as a `file://` URL, so checkpoints
/// go through the object-store storage (RocksDB files staged, uploaded and fetched back).
fn wordcount_case_in(mode: &str, backend: &str, object_store: bool) {
    let bin = env!("CARGO_BIN_EXE_wordcount");
    let dir = tempfile::tempdir().unwrap();
    let input = text_input(dir.path());
    let expected = dir.path().join("expected.txt");
    let status = Command::new(bin)
        .args(["--input", input.to_str().unwrap(), "--mode", mode])
        .args(["--parallelism", "2", "--output", expected.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(status.success());

    let output = dir.path().join("out.txt");
    let checkpoints = dir.path().join("checkpoints");
    let checkpoint_dir = if object_store {
        format!("file://{}", checkpoints.display())
    } else {
        checkpoints.to_str().unwrap().to_string()
    };
    // RocksDB checkpoints take longer (a flush, then files copied): kill later, read slower.
    let (throttle, kill_window) = if backend == "rocksdb" {
        ("4000", (900, 1600))
    } else {
        ("6000", (300, 900))
    };
    let args = |parallelism: u32| -> Vec<String> {
        [
            "--input",
            input.to_str().unwrap(),
            "--mode",
            mode,
            "--output",
            output.to_str().unwrap(),
            "--checkpoint-dir",
            &checkpoint_dir,
            "--checkpoint-interval",
            "100ms",
            "--state-backend",
            backend,
            "--throttle",
            throttle,
        ]
        .iter()
        .map(|s| s.to_string())
        .chain(["--parallelism".to_string(), parallelism.to_string()])
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
        kill_window,
    );
    assert!(
        restorable > 0,
        "no kill happened after a completed checkpoint"
    );
    assert_eq!(sorted_lines(&output), sorted_lines(&expected));
    // A finished job leaves neither checkpoints nor part files behind.
    assert!(walk(&checkpoints).is_empty(), "{:?}", walk(&checkpoints));
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn wordcount_batch_survives_kills_with_changing_parallelism() {
    wordcount_case("batch", "heap");
}

#[test]
fn wordcount_streaming_updates_are_written_exactly_once() {
    wordcount_case("streaming", "heap");
}

fn events_input(dir: &Path) -> PathBuf {
    let mut csv = String::from("key,ts,value\n");
    let mut state = 7u64;
    for i in 0..20_000i64 {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let key = (state >> 33) % 40;
        // Mostly in order, some rows up to 3 s late.
        let jitter = if (state >> 40).is_multiple_of(10) {
            ((state >> 20) % 3000) as i64
        } else {
            ((state >> 20) % 50) as i64
        };
        let ts = i * 10 - jitter;
        let value = ((state >> 44) % 1000) as f64 / 10.0;
        csv.push_str(&format!("k{key},{ts},{value}\n"));
    }
    let path = dir.join("events.csv");
    std::fs::write(&path, csv).unwrap();
    path
}

fn window_case(window: &str) {
    window_case_on(window, "heap");
}

fn window_case_on(window: &str, backend: &str) {
    let bin = env!("CARGO_BIN_EXE_window_aggregate");
    let dir = tempfile::tempdir().unwrap();
    let input = events_input(dir.path());
    let common = |output: &Path, late: &Path| -> Vec<String> {
        [
            "--input",
            input.to_str().unwrap(),
            "--window",
            window,
            "--out-of-orderness",
            "100ms",
            "--allowed-lateness",
            "500ms",
            "--late-output",
            late.to_str().unwrap(),
            "--output",
            output.to_str().unwrap(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let (expected, expected_late) = (dir.path().join("expected.csv"), dir.path().join("el.csv"));
    let status = Command::new(bin)
        .args(common(&expected, &expected_late))
        .args(["--parallelism", "2"])
        .status()
        .unwrap();
    assert!(status.success());

    let (output, late) = (dir.path().join("out.csv"), dir.path().join("late.csv"));
    let checkpoints = dir.path().join("checkpoints");
    let (throttle, kill_window) = if backend == "rocksdb" {
        ("3500", (900, 1600))
    } else {
        ("5000", (300, 900))
    };
    let args = |parallelism: u32| -> Vec<String> {
        let mut args = common(&output, &late);
        args.extend(
            [
                "--checkpoint-dir",
                checkpoints.to_str().unwrap(),
                "--checkpoint-interval",
                "100ms",
                "--throttle",
                throttle,
                "--state-backend",
                backend,
                "--parallelism",
            ]
            .iter()
            .map(|s| s.to_string()),
        );
        args.push(parallelism.to_string());
        args
    };
    let mut moments = Moments::from_env();
    let restorable = run_with_kills(
        bin,
        args,
        &[2, 1, 3],
        &output,
        &checkpoints,
        &mut moments,
        kill_window,
    );
    assert!(
        restorable > 0,
        "no kill happened after a completed checkpoint"
    );
    assert_eq!(sorted_lines(&output), sorted_lines(&expected));
    assert_eq!(sorted_lines(&late), sorted_lines(&expected_late));
    assert!(
        sorted_lines(&late).len() > 1,
        "the input should have late rows"
    );
}

#[test]
fn window_aggregate_tumbling_survives_kills() {
    window_case("tumbling:1s");
}

#[test]
fn window_aggregate_sessions_survive_kills() {
    window_case("session:300ms");
}

#[cfg(feature = "rocksdb")]
#[test]
fn wordcount_on_rocksdb_survives_kills_with_changing_parallelism() {
    wordcount_case("streaming", "rocksdb");
}

#[test]
fn wordcount_with_checkpoints_in_an_object_store_survives_kills() {
    wordcount_case_in("streaming", "heap", true);
}

#[cfg(feature = "rocksdb")]
#[test]
fn wordcount_on_rocksdb_with_an_object_store_survives_kills() {
    wordcount_case_in("streaming", "rocksdb", true);
}

#[cfg(feature = "rocksdb")]
#[test]
fn window_aggregate_on_rocksdb_survives_kills() {
    window_case_on("tumbling:1s", "rocksdb");
}
