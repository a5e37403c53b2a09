//! CEP jobs with checkpoints inside one process: a task failure injected at a random record
//! restarts the job from its latest checkpoint (restart strategy), and a savepoint taken at the
//! end of input is restored at another parallelism. Compared: the matches and timeouts written
//! exactly once, against the NFA run by hand per key over the whole input.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use eddy_cep::operator::pattern;
use eddy_cep::{Match, Nfa, Pattern};
use eddy_datastream::{DataStream, Generator, StreamExecutionEnvironment, WatermarkStrategy};
use eddy_runtime::checkpoint::RestartStrategy;
use proptest::prelude::*;

/// (key, ts, kind)
type Event = (u64, i64, char);

fn event(i: u64, keys: u64) -> Event {
    let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 29;
    let kind = ['a', 'b', 'x'][(x % 3) as usize];
    ((x >> 8) % keys, i as i64, kind)
}

/// An a, then one or more b, within 40 ms.
fn nfa() -> Nfa<Event> {
    Pattern::begin("a")
        .when(|e: &Event| e.2 == 'a')
        .followed_by("b")
        .when(|e: &Event| e.2 == 'b')
        .one_or_more()
        .within_ms(40)
        .compile()
        .unwrap()
}

fn describe(key: u64, m: &Match<Event>) -> String {
    let parts: Vec<String> = m
        .stages
        .iter()
        .map(|(stage, events)| {
            let ts: Vec<String> = events.iter().map(|e| e.1.to_string()).collect();
            format!("{stage}={}", ts.join("/"))
        })
        .collect();
    format!("{key} {}", parts.join(" "))
}

/// Matches and timeouts per key, run by hand.
fn expected(records: u64, keys: u64) -> Vec<String> {
    let nfa = nfa();
    let mut states = HashMap::new();
    let mut lines = Vec::new();
    let mut emit = |key: u64, out: eddy_cep::Output<Event>| {
        lines.extend(
            out.matches
                .iter()
                .map(|m| format!("match {}", describe(key, m))),
        );
        lines.extend(
            out.timeouts
                .iter()
                .map(|t| format!("timeout {} at {}", describe(key, &t.partial), t.timeout_ts)),
        );
    };
    for i in 0..records {
        let e = event(i, keys);
        let st = states.entry(e.0).or_insert_with(|| nfa.new_state());
        emit(e.0, nfa.process(st, e, e.1).unwrap());
    }
    for (key, st) in states.iter_mut() {
        emit(*key, nfa.advance_time(st, i64::MAX).unwrap());
    }
    lines.sort();
    lines
}

/// The job: generated events, a map that panics once at record `fail_at` while `armed`, the
/// pattern, and its matches and timeouts written to `output`.
fn build_job(
    env: &StreamExecutionEnvironment,
    records: u64,
    keys: u64,
    fail_at: Option<u64>,
    armed: Arc<AtomicBool>,
    output: &Path,
) {
    let seen = Arc::new(AtomicU64::new(0));
    let keyed = env
        .from_generator(Generator::bounded(records), move |i| event(i, keys))
        .set_parallelism(1)
        .map(move |e: Event| {
            let n = seen.fetch_add(1, Ordering::SeqCst);
            if fail_at == Some(n) && armed.swap(false, Ordering::SeqCst) {
                panic!("injected failure at record {n}");
            }
            e
        })
        .name("maybe fail")
        .assign_timestamps_and_watermarks(
            WatermarkStrategy::for_monotonous_timestamps().with_timestamp_assigner(|e: &Event| e.1),
        )
        .key_by(|e: &Event| e.0);
    let found = pattern(&keyed, nfa());
    let matches: DataStream<String> = found.select(|k, m| format!("match {}", describe(*k, &m)));
    let timeouts = found.timeouts(|k, ts, m| format!("timeout {} at {ts}", describe(*k, &m)));
    matches.union(&[timeouts]).write_as_text(output);
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

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, failure_persistence: None, ..ProptestConfig::default() })]

    /// A failure at a random record restarts the job from a checkpoint holding partial
    /// matches, buffered events and the due-key queue; every match and timeout is written once.
    #[test]
    fn a_failure_restarts_from_a_checkpoint_and_emits_every_match_once(
        records in 2_000u64..5_000,
        keys in 1u64..12,
        parallelism in 1u32..4,
        interval_ms in 5u64..30,
        fail_fraction in 0.3f64..1.0,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("out.txt");
        let env = StreamExecutionEnvironment::new();
        env.set_parallelism(parallelism)
            .enable_checkpointing(Duration::from_millis(interval_ms), dir.path().join("ck"))
            .set_restart_strategy(RestartStrategy::FixedDelay {
                attempts: 3,
                delay: Duration::from_millis(1),
            })
            .set_source_throttle(30_000.0);
        let armed = Arc::new(AtomicBool::new(true));
        let fail_at = (records as f64 * fail_fraction) as u64;
        build_job(&env, records, keys, Some(fail_at), armed.clone(), &output);
        let result = env.execute("cep restart").unwrap();
        prop_assert!(!armed.load(Ordering::SeqCst), "the failure was injected");
        prop_assert_eq!(result.restarts, 1);
        let want = expected(records, keys);
        prop_assert!(want.len() > 100);
        prop_assert_eq!(sorted_lines(&output), want);
    }
}

#[test]
fn a_savepoint_with_partial_matches_restores_at_another_parallelism() {
    let (records, keys) = (3_000, 9);
    let dir = tempfile::tempdir().unwrap();
    let savepoints = dir.path().join("savepoints");
    // First run: its input is exhausted and the savepoint taken before the pattern finishes,
    // so the partial matches of the last 40 ms and the held events are in the savepoint.
    let env = StreamExecutionEnvironment::new();
    env.set_parallelism(2).set_savepoint_at_end(&savepoints);
    let first = dir.path().join("first.txt");
    build_job(
        &env,
        records,
        keys,
        None,
        Arc::new(AtomicBool::new(false)),
        &first,
    );
    let savepoint = env.execute("cep savepoint").unwrap().savepoint.unwrap();

    // Second run at parallelism 3: the source is at its end; the pattern finishes from the
    // restored state.
    let env = StreamExecutionEnvironment::new();
    env.set_parallelism(3).restore_from(&savepoint);
    let second = dir.path().join("second.txt");
    build_job(
        &env,
        records,
        keys,
        None,
        Arc::new(AtomicBool::new(false)),
        &second,
    );
    let result = env.execute("cep savepoint").unwrap();
    assert_eq!(result.restored_from.as_deref(), Some(savepoint.as_path()));
    // The first run wrote everything (it finished after its savepoint). The second one
    // finished the same partial matches again from the savepoint: what it wrote is part of
    // the expected output and holds every timeout past the last event, which only the end of
    // input could produce.
    let want = expected(records, keys);
    assert_eq!(sorted_lines(&first), want);
    let rest = sorted_lines(&second);
    let last_ts = records as i64 - 1;
    let late_timeouts: Vec<&String> = want
        .iter()
        .filter(|l| {
            l.starts_with("timeout")
                && l.rsplit(' ').next().unwrap().parse::<i64>().unwrap() > last_ts
        })
        .collect();
    assert!(!late_timeouts.is_empty());
    for line in late_timeouts {
        assert!(rest.contains(line), "{line} missing after the restore");
    }
    for line in &rest {
        assert!(want.contains(line), "{line} was not expected");
    }
}
