//! Dynamic patterns (`dynamic_pattern`): a control stream replaces a running job's JSON
//! pattern at event time `S`. Compared, per key, against each pattern run by hand on its
//! segment: with `drop`, the old pattern over the events before `S` with time advanced to `S`,
//! and the new one over the events from `S` on; with `finish`, the old pattern over every
//! event but able to begin a match only before `S` (its first stage written with `ts < S`).
//! Also: the replaced pattern survives a failure and restart from a checkpoint, and bad or
//! stale updates are ignored.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use eddy_cep::json::{self, DynEvent};
use eddy_cep::operator::{dynamic_pattern, OnReplace, PatternUpdate};
use eddy_cep::Nfa;
use eddy_datastream::{DataStream, Generator, StreamExecutionEnvironment, WatermarkStrategy};
use eddy_runtime::checkpoint::RestartStrategy;
use proptest::prelude::*;
use serde_json::json;

/// (key, ts, kind, id)
type Raw = (u64, i64, char, u64);

fn dyn_event(e: &Raw) -> DynEvent {
    DynEvent::from_json(&json!({"k": e.0, "ts": e.1, "t": e.2.to_string(), "id": e.3}).to_string())
        .unwrap()
}

fn id(e: &DynEvent) -> u64 {
    e.0["id"].as_u64().unwrap()
}

/// A few patterns of different shapes over kinds a, b, c; `first_before` adds `ts < S` to the
/// first stage's condition (for the reference of `finish`).
fn pattern_json(shape: u8, first_before: Option<i64>) -> String {
    let kind = |k: &str| json!({"field": "t", "op": "==", "value": k});
    let first = |k: &str| match first_before {
        Some(s) => json!({"and": [kind(k), {"field": "ts", "op": "<", "value": s}]}),
        None => kind(k),
    };
    let p = match shape {
        0 => json!({"stages": [
            {"name": "x", "condition": first("a")},
            {"name": "y", "condition": kind("b"), "contiguity": "relaxed"}],
            "within_ms": 30}),
        1 => json!({"stages": [
            {"name": "x", "condition": first("b")},
            {"name": "y", "condition": kind("c"), "contiguity": "nondeterministic",
             "quantifier": {"min": 1, "max": null}}],
            "within_ms": 25}),
        2 => json!({"stages": [
            {"name": "x", "condition": first("a")},
            {"name": "y", "condition": kind("c"), "contiguity": "strict"}]}),
        _ => json!({"stages": [
            {"name": "x", "condition": first("c")},
            {"name": "n", "condition": kind("a"), "contiguity": "relaxed", "negated": true},
            {"name": "y", "condition": kind("b"), "contiguity": "relaxed"}],
            "within_ms": 40, "within_type": "previous_and_current"}),
    };
    p.to_string()
}

fn nfa(text: &str) -> Nfa<DynEvent> {
    json::parse::<DynEvent>(text).unwrap().compile().unwrap()
}

/// Sorted lines: "key match stage=ids ..." and "key timeout ... at T".
fn line(key: u64, m: &eddy_cep::Match<DynEvent>, timeout: Option<i64>) -> String {
    let stages: Vec<String> = m
        .stages
        .iter()
        .map(|(s, es)| {
            let ids: Vec<String> = es.iter().map(|e| id(e).to_string()).collect();
            format!("{s}={}", ids.join("/"))
        })
        .collect();
    match timeout {
        None => format!("{key} match {}", stages.join(" ")),
        Some(t) => format!("{key} timeout {} at {t}", stages.join(" ")),
    }
}

fn lines_of(key: u64, out: eddy_cep::Output<DynEvent>, into: &mut Vec<String>) {
    into.extend(out.matches.iter().map(|m| line(key, m, None)));
    into.extend(
        out.timeouts
            .iter()
            .map(|t| line(key, &t.partial, Some(t.timeout_ts))),
    );
}

/// The reference (see the file's doc).
fn reference(events: &[Raw], old: u8, new: u8, switch: i64, on_replace: OnReplace) -> Vec<String> {
    let mut per_key: BTreeMap<u64, Vec<&Raw>> = BTreeMap::new();
    for e in events {
        per_key.entry(e.0).or_default().push(e);
    }
    let old_nfa = match on_replace {
        OnReplace::Drop => nfa(&pattern_json(old, None)),
        OnReplace::Finish => nfa(&pattern_json(old, Some(switch))),
    };
    let new_nfa = nfa(&pattern_json(new, None));
    let mut lines = Vec::new();
    for (key, list) in per_key {
        let mut st = old_nfa.new_state();
        for e in &list {
            if on_replace == OnReplace::Drop && e.1 >= switch {
                break;
            }
            lines_of(
                key,
                old_nfa.process(&mut st, dyn_event(e), e.1).unwrap(),
                &mut lines,
            );
        }
        let end = match on_replace {
            OnReplace::Drop => switch,
            OnReplace::Finish => i64::MAX,
        };
        lines_of(key, old_nfa.advance_time(&mut st, end).unwrap(), &mut lines);
        let mut st = new_nfa.new_state();
        for e in list.iter().filter(|e| e.1 >= switch) {
            lines_of(
                key,
                new_nfa.process(&mut st, dyn_event(e), e.1).unwrap(),
                &mut lines,
            );
        }
        lines_of(
            key,
            new_nfa.advance_time(&mut st, i64::MAX).unwrap(),
            &mut lines,
        );
    }
    lines.sort();
    lines
}

fn update(version: u64, shape: u8, switch: i64, on_replace: OnReplace) -> PatternUpdate {
    PatternUpdate::new(version, &pattern_json(shape, None))
        .unwrap()
        .from_ts(switch)
        .partial_matches(on_replace)
}

/// The job's output lines for `events` (in timestamp order) with `control` as control stream.
fn job_lines(
    events: DataStream<Raw>,
    old: u8,
    control: &DataStream<PatternUpdate>,
) -> DataStream<String> {
    let keyed = events
        .map(|e: Raw| dyn_event(&e))
        .assign_timestamps_and_watermarks(
            WatermarkStrategy::for_monotonous_timestamps()
                .with_timestamp_assigner(|e: &DynEvent| e.0["ts"].as_i64().unwrap()),
        )
        .key_by(|e: &DynEvent| e.0["k"].as_u64().unwrap());
    let found = dynamic_pattern(&keyed, &pattern_json(old, None), control).unwrap();
    let matches = found.select(|k, m| line(*k, &m, None));
    let timeouts = found.timeouts(|k, ts, m| line(*k, &m, Some(ts)));
    matches.union(&[timeouts])
}

fn random_events(raw: &[(u64, char)]) -> Vec<Raw> {
    raw.iter()
        .enumerate()
        .map(|(i, &(k, c))| (k, i as i64 * 3, c, i as u64))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, failure_persistence: None, ..ProptestConfig::default() })]

    /// Matches and timeouts before and after the switch equal each pattern run on its
    /// segment, at parallelism 1 and 3, for both choices.
    #[test]
    fn a_switch_equals_each_pattern_on_its_segment(
        raw in prop::collection::vec((0u64..3, prop::sample::select(vec!['a', 'b', 'c', 'x'])), 0..80),
        old in 0u8..4,
        new in 0u8..4,
        switch_at in 0usize..80,
        drop in any::<bool>(),
    ) {
        let events = random_events(&raw);
        let switch = switch_at as i64 * 3 + 1;
        let on_replace = if drop { OnReplace::Drop } else { OnReplace::Finish };
        let want = reference(&events, old, new, switch, on_replace);
        for parallelism in [1, 3] {
            let env = StreamExecutionEnvironment::new();
            env.set_parallelism(parallelism);
            let control = env.from_collection(vec![update(1, new, switch, on_replace)]);
            let out = job_lines(env.from_collection(events.clone()), old, &control).collect();
            env.execute("dynamic").unwrap();
            let mut got = out.take();
            got.sort();
            prop_assert_eq!(&got, &want, "parallelism {}", parallelism);
        }
    }
}

#[test]
fn stale_and_invalid_updates_are_ignored() {
    let events = random_events(
        &(0..60)
            .map(|i| (i % 2, ['a', 'b', 'c'][(i as usize * 7) % 3]))
            .collect::<Vec<_>>(),
    );
    let env = StreamExecutionEnvironment::new();
    let bad = PatternUpdate {
        version: 3,
        pattern: r#"{"stages": []}"#.to_string(),
        from_ts: Some(10),
        partial_matches: OnReplace::Drop,
    };
    // Version 2 takes effect; the invalid version 3 and the stale version 1 are ignored.
    let control = env.from_collection(vec![
        update(2, 2, 60, OnReplace::Drop),
        bad,
        update(1, 3, 30, OnReplace::Drop),
    ]);
    let out = job_lines(env.from_collection(events.clone()), 0, &control).collect();
    env.execute("dynamic").unwrap();
    let mut got = out.take();
    got.sort();
    assert_eq!(got, reference(&events, 0, 2, 60, OnReplace::Drop));
    assert!(!got.is_empty());
}

#[test]
fn the_update_json_form_is_checked() {
    let ok = PatternUpdate::from_json(&format!(
        r#"{{"version": 4, "from_ts": 100, "partial_matches": "drop", "pattern": {}}}"#,
        pattern_json(0, None)
    ))
    .unwrap();
    assert_eq!(
        (ok.version, ok.from_ts, ok.partial_matches),
        (4, Some(100), OnReplace::Drop)
    );
    let default = PatternUpdate::from_json(&format!(
        r#"{{"version": 1, "pattern": {}}}"#,
        pattern_json(1, None)
    ))
    .unwrap();
    assert_eq!(
        (default.from_ts, default.partial_matches),
        (None, OnReplace::Finish)
    );
    for bad in [
        r#"{"version": 1}"#.to_string(),
        r#"{"version": 1, "pattern": {"stages": []}}"#.to_string(),
        format!(
            r#"{{"version": 1, "pattern": {}, "when": 3}}"#,
            pattern_json(0, None)
        ),
        r#"{"version": 1, "pattern": {"stages": [{"name": "a"}]}, "partial_matches": "keep"}"#
            .to_string(),
    ] {
        assert!(PatternUpdate::from_json(&bad).is_err(), "{bad}");
    }
}

/// The replaced pattern is operator state: a job that fails after the switch and restarts
/// from a checkpoint keeps it, although its control source, restored past the update, now
/// sends a different pattern under the same version (which a job that had lost the
/// update would take).
#[test]
fn a_restart_after_the_switch_keeps_the_replaced_pattern() {
    const N: u64 = 4_000;
    let switch = 1_500;
    let raw: Vec<(u64, char)> = (0..N)
        .map(|i| {
            let x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 7;
            (x % 5, ['a', 'b', 'c', 'x'][(x >> 9) as usize % 4])
        })
        .collect();
    let events = random_events(&raw);
    let want = reference(&events, 0, 1, switch, OnReplace::Finish);

    let dir = tempfile::tempdir().unwrap();
    let env = StreamExecutionEnvironment::new();
    env.set_parallelism(2)
        .enable_checkpointing(Duration::from_millis(10), dir.path().join("ck"))
        .set_restart_strategy(RestartStrategy::FixedDelay {
            attempts: 2,
            delay: Duration::from_millis(1),
        });
    let armed = Arc::new(AtomicBool::new(true));
    let seen = Arc::new(AtomicU64::new(0));
    let (trigger, source_events) = (armed.clone(), events.clone());
    let main = env
        .from_generator(Generator::bounded(N).with_rate(15_000.0), move |i| {
            source_events[i as usize]
        })
        .set_parallelism(1)
        .map(move |e: Raw| {
            let n = seen.fetch_add(1, Ordering::SeqCst);
            if n == 3 * N / 4 && trigger.swap(false, Ordering::SeqCst) {
                panic!("injected failure at record {n}");
            }
            e
        });
    // The control stream outlives the main one so checkpoints go on (they stop once a
    // source finishes); its timestamps are far ahead so it never holds the watermark back.
    let control = env
        .from_generator(Generator::bounded(40).with_rate(80.0), move |i| {
            let shape = if i == 0 { 1 } else { 3 };
            update(1, shape, switch, OnReplace::Finish)
        })
        .set_parallelism(1)
        .assign_timestamps_and_watermarks(
            WatermarkStrategy::for_monotonous_timestamps()
                .with_timestamp_assigner(|_: &PatternUpdate| i64::MAX / 2),
        );
    let output = dir.path().join("out.txt");
    job_lines(main, 0, &control).write_as_text(&output);
    let result = env.execute("dynamic restart").unwrap();
    assert!(!armed.load(Ordering::SeqCst), "the failure was injected");
    assert_eq!(result.restarts, 1);
    assert!(result.restored_from.is_some());
    let mut got: Vec<String> = std::fs::read_to_string(&output)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    got.sort();
    assert_eq!(got, want);
}
