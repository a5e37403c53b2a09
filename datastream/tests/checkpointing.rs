//! Checkpoints inside one process: task failures with a restart strategy, random pipelines
//! with random checkpoint and failure points, savepoints and their restore, and the errors of
//! damaged or foreign checkpoints. Each compares with the failure-free result.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use eddy_datastream::{Generator, RuntimeMode, StreamExecutionEnvironment};
use eddy_runtime::checkpoint::RestartStrategy;
use proptest::prelude::*;

/// A keyed running count over generated records, written exactly once to `output`; the map
/// before the count panics once, at record `fail_at`, while `armed` is set. Counting (rather
/// than summing values) makes the streaming output a set of lines independent of the order
/// in which parallel sources interleave: any lost or repeated record shows.
fn build_job(
    env: &StreamExecutionEnvironment,
    records: u64,
    keys: u64,
    fail_at: Option<u64>,
    armed: Arc<AtomicBool>,
    output: &Path,
) {
    let seen = Arc::new(AtomicU64::new(0));
    env.from_generator(Generator::bounded(records), move |i| (i % keys, 1u64))
        .map(move |record: (u64, u64)| {
            let n = seen.fetch_add(1, Ordering::SeqCst);
            if fail_at == Some(n) && armed.swap(false, Ordering::SeqCst) {
                panic!("injected failure at record {n}");
            }
            record
        })
        .name("maybe fail")
        .key_by(|r: &(u64, u64)| r.0)
        .reduce(|a, b| (a.0, a.1 + b.1))
        .map(|(k, sum)| format!("{k},{sum}"))
        .write_as_text(output);
}

fn expected(records: u64, keys: u64, streaming: bool) -> Vec<String> {
    let mut sums = vec![0u64; keys as usize];
    let mut lines = Vec::new();
    for i in 0..records {
        let k = i % keys;
        sums[k as usize] += 1;
        if streaming {
            lines.push(format!("{k},{}", sums[k as usize]));
        }
    }
    if !streaming {
        lines = (0..keys)
            .map(|k| format!("{k},{}", sums[k as usize]))
            .collect();
    }
    lines.sort();
    lines
}

/// Asserts two sorted line lists are equal, showing only a summary of the difference.
fn assert_same_lines(actual: &[String], expected: &[String]) {
    if actual == expected {
        return;
    }
    let mut extra = actual.to_vec();
    let mut missing = Vec::new();
    for line in expected {
        match extra.iter().position(|l| l == line) {
            Some(i) => {
                extra.swap_remove(i);
            }
            None => missing.push(line.clone()),
        }
    }
    panic!(
        "{} lines, expected {}; {} unexpected (first: {:?}), {} missing (first: {:?})",
        actual.len(),
        expected.len(),
        extra.len(),
        extra.iter().take(5).collect::<Vec<_>>(),
        missing.len(),
        missing.iter().take(5).collect::<Vec<_>>()
    );
}

fn sorted_lines(path: &Path) -> Vec<String> {
    let mut lines: Vec<String> = std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    lines.sort();
    lines
}

#[test]
fn a_task_failure_restarts_from_the_latest_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out.txt");
    let env = StreamExecutionEnvironment::new();
    env.set_parallelism(2)
        .set_runtime_mode(RuntimeMode::Streaming)
        .enable_checkpointing(Duration::from_millis(20), dir.path().join("ck"))
        .set_restart_strategy(RestartStrategy::FixedDelay {
            attempts: 2,
            delay: Duration::from_millis(10),
        })
        .set_source_throttle(8_000.0);
    let armed = Arc::new(AtomicBool::new(true));
    build_job(&env, 6_000, 7, Some(4_000), armed.clone(), &output);
    let result = env.execute("restart test").unwrap();
    assert!(!armed.load(Ordering::SeqCst), "the failure was injected");
    assert_eq!(result.restarts, 1);
    let restored = result
        .restored_from
        .expect("the restart restored a checkpoint");
    assert!(restored
        .file_name()
        .unwrap()
        .to_string_lossy()
        .starts_with("chk-"));
    assert_same_lines(&sorted_lines(&output), &expected(6_000, 7, true));
}

#[test]
fn without_a_restart_strategy_the_failure_fails_the_job_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out.txt");
    let env = StreamExecutionEnvironment::new();
    env.set_parallelism(2)
        .enable_checkpointing(Duration::from_millis(20), dir.path().join("ck"));
    build_job(
        &env,
        3_000,
        5,
        Some(100),
        Arc::new(AtomicBool::new(true)),
        &output,
    );
    let error = env.execute("no restart").unwrap_err();
    assert!(error.to_string().contains("injected failure"), "{error}");
    assert!(!output.exists());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Random keyed pipelines, checkpoint intervals and failure points (in both modes) give
    /// the failure-free result.
    #[test]
    fn random_failures_give_the_failure_free_result(
        records in 500u64..4_000,
        keys in 1u64..40,
        parallelism in 1u32..4,
        interval_ms in 5u64..40,
        fail_fraction in 0.0f64..1.0,
        streaming in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("out.txt");
        let env = StreamExecutionEnvironment::new();
        env.set_parallelism(parallelism)
            .set_runtime_mode(if streaming { RuntimeMode::Streaming } else { RuntimeMode::Batch })
            .enable_checkpointing(Duration::from_millis(interval_ms), dir.path().join("ck"))
            .set_restart_strategy(RestartStrategy::FixedDelay {
                attempts: 3,
                delay: Duration::from_millis(1),
            })
            .set_source_throttle(40_000.0);
        let fail_at = (records as f64 * fail_fraction) as u64;
        let armed = Arc::new(AtomicBool::new(true));
        build_job(&env, records, keys, Some(fail_at), armed, &output);
        let result = env.execute("property").unwrap();
        prop_assert_eq!(result.restarts, 1);
        assert_same_lines(&sorted_lines(&output), &expected(records, keys, streaming));
    }
}

#[test]
fn a_savepoint_at_the_end_restores_elsewhere_at_another_parallelism() {
    let dir = tempfile::tempdir().unwrap();
    let savepoints = dir.path().join("savepoints");
    // First run: count, and take a savepoint when the input is exhausted.
    let env = StreamExecutionEnvironment::new();
    env.set_parallelism(2)
        .set_runtime_mode(RuntimeMode::Batch)
        .set_savepoint_at_end(&savepoints);
    build_job(
        &env,
        1_000,
        9,
        None,
        Arc::new(AtomicBool::new(false)),
        &dir.path().join("first.txt"),
    );
    let result = env.execute("savepoint job").unwrap();
    let savepoint = result.savepoint.expect("a savepoint was taken");
    assert!(savepoint.join("_metadata").exists());

    // Move it: a savepoint is self-contained.
    let moved = dir.path().join("moved");
    std::fs::rename(&savepoint, &moved).unwrap();

    // Restore at parallelism 3: the sources are at their end, the sums are in the state.
    let env = StreamExecutionEnvironment::new();
    env.set_parallelism(3)
        .set_runtime_mode(RuntimeMode::Batch)
        .restore_from(&moved);
    let second = dir.path().join("second.txt");
    build_job(
        &env,
        1_000,
        9,
        None,
        Arc::new(AtomicBool::new(false)),
        &second,
    );
    let result = env.execute("savepoint job").unwrap();
    assert_eq!(result.restored_from.as_deref(), Some(moved.as_path()));
    assert_same_lines(&sorted_lines(&second), &expected(1_000, 9, false));
}

#[test]
fn a_foreign_or_damaged_checkpoint_is_refused_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let savepoints = dir.path().join("savepoints");
    let env = StreamExecutionEnvironment::new();
    env.set_parallelism(1).set_savepoint_at_end(&savepoints);
    build_job(
        &env,
        100,
        3,
        None,
        Arc::new(AtomicBool::new(false)),
        &dir.path().join("a.txt"),
    );
    let savepoint = env.execute("a").unwrap().savepoint.unwrap();

    // A job without the savepoint's operators refuses it, unless told to skip them.
    let other = |allow: bool| {
        let env = StreamExecutionEnvironment::new();
        env.set_parallelism(1)
            .restore_from(&savepoint)
            .allow_non_restored_state(allow);
        let out = env
            .from_collection(vec![1u32, 2])
            .map(|x| x + 1)
            .name("different")
            .collect();
        env.execute("b").map(|_| out.take())
    };
    let error = other(false).unwrap_err().to_string();
    assert!(
        error.contains("_metadata") && error.contains("does not have"),
        "{error}"
    );
    assert_eq!(other(true).unwrap(), vec![2, 3]);

    // A flipped byte in a state file: the error names the file and the damage.
    let state_file = std::fs::read_dir(&savepoint)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "state"))
        .unwrap();
    let mut bytes = std::fs::read(&state_file).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&state_file, bytes).unwrap();
    let env = StreamExecutionEnvironment::new();
    env.set_parallelism(1).restore_from(&savepoint);
    build_job(
        &env,
        100,
        3,
        None,
        Arc::new(AtomicBool::new(false)),
        &dir.path().join("c.txt"),
    );
    let error = env.execute("a").unwrap_err().to_string();
    assert!(
        error.contains(".state") && error.contains("checksum"),
        "{error}"
    );
}

/// Asks for a savepoint until no periodic checkpoint is in the way.
fn savepoint_when_free(
    client: &eddy_runtime::JobClient,
    dir: &Path,
    stop: Option<bool>,
) -> std::path::PathBuf {
    for _ in 0..2_000 {
        let result = match stop {
            None => client.trigger_savepoint(dir),
            Some(drain) => client.stop_with_savepoint(drain, dir),
        };
        match result {
            Ok(path) => return path,
            Err(error) if error.to_string().contains("in progress") => {
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(error) => panic!("savepoint failed: {error}"),
        }
    }
    panic!("a checkpoint was always in progress");
}

/// A streaming job at parallelism `parallelism` with checkpoints every 30 ms, its sources
/// throttled to 4 000 records per second (released in chunks of 1 024 per subtask) when
/// `throttle` is set.
fn streaming(parallelism: u32, dir: &Path, throttle: bool) -> StreamExecutionEnvironment {
    let env = StreamExecutionEnvironment::new();
    env.set_parallelism(parallelism)
        .set_runtime_mode(RuntimeMode::Streaming)
        .enable_checkpointing(Duration::from_millis(30), dir.join("ck"));
    if throttle {
        env.set_source_throttle(4_000.0);
    }
    env
}

#[test]
fn a_savepoint_taken_mid_run_moves_and_restores_at_parallelism_3() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out.txt");
    let env = streaming(2, dir.path(), true);
    build_job(&env, 8_000, 11, None, Arc::default(), &output);
    let client = env.execute_async("mid run").unwrap();
    std::thread::sleep(Duration::from_millis(150));
    let savepoint = savepoint_when_free(&client, &dir.path().join("savepoints"), None);
    assert!(savepoint
        .file_name()
        .unwrap()
        .to_string_lossy()
        .starts_with("savepoint-mid-run-"));
    // Savepoint, then cancel: the classic way to move a job.
    client.cancel();
    let result = client.wait();
    assert!(
        matches!(result, Err(eddy_runtime::Error::Cancelled)),
        "{result:?}"
    );
    assert!(!output.exists(), "a cancelled job writes no output");

    let moved = dir.path().join("elsewhere");
    std::fs::rename(&savepoint, &moved).unwrap();
    let env = streaming(3, dir.path(), false);
    env.restore_from(&moved);
    build_job(&env, 8_000, 11, None, Arc::default(), &output);
    let result = env.execute("mid run").unwrap();
    assert_eq!(result.restored_from.as_deref(), Some(moved.as_path()));
    let resumed = result.operator("maybe fail").unwrap().records_in;
    assert!(
        resumed > 0 && resumed < 8_000,
        "the savepoint was taken mid-run ({resumed} records after it)"
    );
    assert_same_lines(&sorted_lines(&output), &expected(8_000, 11, true));
}

#[test]
fn stop_with_savepoint_then_resume_gives_the_exact_output() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out.txt");
    let env = streaming(2, dir.path(), true);
    build_job(&env, 8_000, 7, None, Arc::default(), &output);
    let client = env.execute_async("stop and go").unwrap();
    std::thread::sleep(Duration::from_millis(150));
    let savepoint = savepoint_when_free(&client, &dir.path().join("savepoints"), Some(false));
    let stopped = client.wait().unwrap();
    assert!(stopped.suspended);
    assert_eq!(stopped.savepoint.as_deref(), Some(savepoint.as_path()));
    assert!(
        !output.exists(),
        "a suspended job's output waits for its resumption"
    );
    let before = stopped.operator("maybe fail").unwrap().records_in;
    assert!(before > 0 && before < 8_000, "{before}");

    let env = streaming(1, dir.path(), false);
    env.restore_from(&savepoint);
    build_job(&env, 8_000, 7, None, Arc::default(), &output);
    let resumed = env.execute("stop and go").unwrap();
    assert!(!resumed.suspended);
    assert_eq!(
        before + resumed.operator("maybe fail").unwrap().records_in,
        8_000,
        "the resumed job reads exactly what the stopped one had not"
    );
    assert_same_lines(&sorted_lines(&output), &expected(8_000, 7, true));
}

#[test]
fn stop_with_drain_ends_event_time_and_finishes_with_a_consistent_output() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out.txt");
    let env = streaming(1, dir.path(), true);
    build_job(&env, 20_000, 5, None, Arc::default(), &output);
    let client = env.execute_async("drain").unwrap();
    std::thread::sleep(Duration::from_millis(150));
    let savepoint = savepoint_when_free(&client, &dir.path().join("savepoints"), Some(true));
    let result = client.wait().unwrap();
    assert!(!result.suspended);
    assert_eq!(result.savepoint.as_deref(), Some(savepoint.as_path()));
    // One source subtask: the output is the running counts of the first n records exactly.
    let lines = sorted_lines(&output);
    let n = lines.len() as u64;
    assert!(n > 0 && n < 20_000, "{n}");
    assert_same_lines(&lines, &expected(n, 5, true));
}

#[test]
fn savepoint_requests_that_cannot_be_served_get_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    // Checkpoint 1 cannot complete while the map holds the only source's thread.
    let gate = Arc::new(AtomicBool::new(true));
    let env = StreamExecutionEnvironment::new();
    env.set_parallelism(1)
        .set_runtime_mode(RuntimeMode::Streaming)
        .enable_checkpointing(Duration::from_millis(10), dir.path().join("ck"));
    let held = gate.clone();
    let out = env
        .from_generator(Generator::bounded(100), |i| i)
        .map(move |i: u64| {
            while held.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(1));
            }
            i
        })
        .collect();
    let client = env.execute_async("refusals").unwrap();
    let first = dir.path().join("ck/refusals/chk-1");
    while !first.exists() {
        std::thread::sleep(Duration::from_millis(1));
    }
    let error = client
        .trigger_savepoint(dir.path().join("sp"))
        .unwrap_err()
        .to_string();
    assert_eq!(
        error,
        "savepoint not taken: checkpoint 1 is in progress; ask again when it completes"
    );
    gate.store(false, Ordering::SeqCst);
    while !client.is_finished() {
        std::thread::sleep(Duration::from_millis(1));
    }
    let error = client
        .stop_with_savepoint(false, dir.path().join("sp"))
        .unwrap_err()
        .to_string();
    assert_eq!(error, "savepoint not taken: the job has already finished");
    client.wait().unwrap();
    assert_eq!(out.take().len(), 100);

    // Without checkpointing there is no savepoint either.
    let env = StreamExecutionEnvironment::new();
    env.set_parallelism(1)
        .set_runtime_mode(RuntimeMode::Streaming)
        .set_source_throttle(1_000.0);
    let _ = env
        .from_generator(Generator::bounded(100_000), |i| i)
        .collect();
    let client = env.execute_async("no checkpoints").unwrap();
    let error = client.trigger_savepoint(dir.path().join("sp"));
    client.cancel();
    assert!(matches!(client.wait(), Err(eddy_runtime::Error::Cancelled)));
    let error = error.unwrap_err().to_string();
    assert!(error.contains("does not checkpoint"), "{error}");
}

#[test]
fn checkpoints_in_an_object_store_restart_a_failed_task_and_are_dropped_at_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out.txt");
    let env = StreamExecutionEnvironment::new();
    env.set_parallelism(2)
        .set_runtime_mode(RuntimeMode::Streaming)
        .enable_checkpointing(Duration::from_millis(20), "memory://datastream-test/ck")
        .set_restart_strategy(RestartStrategy::FixedDelay {
            attempts: 2,
            delay: Duration::from_millis(10),
        })
        .set_source_throttle(8_000.0);
    let armed = Arc::new(AtomicBool::new(true));
    build_job(&env, 6_000, 7, Some(4_000), armed.clone(), &output);
    let result = env.execute("object store").unwrap();
    assert!(!armed.load(Ordering::SeqCst), "the failure was injected");
    assert_eq!(result.restarts, 1);
    let restored = result.restored_from.expect("restored from a checkpoint");
    let restored = restored.to_string_lossy();
    assert!(
        restored.starts_with("memory://datastream-test/ck/object-store/chk-"),
        "{restored}"
    );
    assert_same_lines(&sorted_lines(&output), &expected(6_000, 7, true));
    // The finished job's checkpoints are gone from the store.
    let job = eddy_runtime::checkpoint::Location::parse(Path::new(
        "memory://datastream-test/ck/object-store",
    ))
    .unwrap();
    assert!(job.children().unwrap().is_empty());
}
