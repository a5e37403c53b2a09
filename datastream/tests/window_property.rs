//! Event-time windows (tumbling, sliding with and without pane sharing, session) with random
//! out-of-orderness and allowed lateness, at parallelism 1 and 3, against brute-force references: for tumbling and sliding
//! windows, a declarative account of which records each window accepts and when it fires; for
//! session windows, a naive simulation over raw value lists. Compared per (key, window): the
//! sequence of firings, and the multiset of late records.

use std::collections::BTreeMap;

use eddy_datastream::window::trigger::{CountTrigger, EventTimeTrigger, Evictor, PurgingTrigger};
use eddy_datastream::window::{AggregateFunction, TimeWindow, WindowAssigner};
use eddy_datastream::{StreamExecutionEnvironment, WatermarkStrategy};
use proptest::prelude::*;

type Event = (u8, i64, i64); // key, timestamp, value
type Stats = (u64, i64, i64, i64); // count, sum, min, max

#[derive(Clone)]
struct StatsAgg;
impl AggregateFunction<Event> for StatsAgg {
    type Acc = Option<Stats>;
    type Out = Stats;
    fn create_accumulator(&self) -> Self::Acc {
        None
    }
    fn add(&self, acc: &mut Self::Acc, e: &Event) {
        *acc = Some(match *acc {
            None => (1, e.2, e.2, e.2),
            Some((c, s, lo, hi)) => (c + 1, s + e.2, lo.min(e.2), hi.max(e.2)),
        });
    }
    fn get_result(&self, acc: &Self::Acc) -> Stats {
        acc.unwrap_or((0, 0, 0, 0))
    }
    fn merge(&self, a: Self::Acc, b: Self::Acc) -> Self::Acc {
        match (a, b) {
            (None, x) | (x, None) => x,
            (Some(a), Some(b)) => Some((a.0 + b.0, a.1 + b.1, a.2.min(b.2), a.3.max(b.3))),
        }
    }
}

fn stats(values: &[i64]) -> Stats {
    (
        values.len() as u64,
        values.iter().sum(),
        *values.iter().min().unwrap(),
        *values.iter().max().unwrap(),
    )
}

type Firings = BTreeMap<(u8, i64, i64), Vec<Stats>>;

/// The watermark as it stood before each event: max timestamp so far - out-of-orderness - 1.
fn watermarks_before(events: &[Event], ooo: i64) -> Vec<i64> {
    let mut max = None::<i64>;
    events
        .iter()
        .map(|e| {
            let wm = max.map_or(i64::MIN, |m| m - ooo - 1);
            max = Some(max.map_or(e.1, |m| m.max(e.1)));
            wm
        })
        .collect()
}

/// Tumbling and sliding windows, declaratively.
fn reference_fixed(
    events: &[Event],
    assigner: WindowAssigner,
    ooo: i64,
    lateness: i64,
) -> (Firings, Vec<Event>) {
    let wms = watermarks_before(events, ooo);
    let mut accepted: BTreeMap<(u8, i64, i64), Vec<(i64, i64)>> = BTreeMap::new(); // (value, wm at arrival)
    let mut late = Vec::new();
    for (e, &wm) in events.iter().zip(&wms) {
        let mut windows = Vec::new();
        assigner.assign(e.1, |w| windows.push(w));
        let mut added = false;
        for w in windows {
            // Accepted unless the window's cleanup time had passed.
            if w.max_timestamp().saturating_add(lateness) > wm {
                accepted
                    .entry((e.0, w.start, w.end))
                    .or_default()
                    .push((e.2, wm));
                added = true;
            }
        }
        if !added && e.1.saturating_add(lateness) <= wm {
            late.push(*e);
        }
    }
    let mut firings = Firings::new();
    for ((key, start, end), values) in accepted {
        let max_ts = TimeWindow { start, end }.max_timestamp();
        let mut out = Vec::new();
        let on_time: Vec<i64> = values
            .iter()
            .filter(|(_, wm)| *wm < max_ts)
            .map(|(v, _)| *v)
            .collect();
        if !on_time.is_empty() {
            out.push(stats(&on_time));
        }
        for (i, (_, wm)) in values.iter().enumerate() {
            if *wm >= max_ts {
                let so_far: Vec<i64> = values[..=i].iter().map(|(v, _)| *v).collect();
                out.push(stats(&so_far));
            }
        }
        firings.insert((key, start, end), out);
    }
    (firings, late)
}

struct Session {
    window: TimeWindow,
    values: Vec<i64>,
    fire_pending: bool,
}

/// Session windows by naive simulation: every session of every key is scanned at every step.
fn reference_sessions(
    events: &[Event],
    gap: i64,
    ooo: i64,
    lateness: i64,
) -> (Firings, Vec<Event>) {
    let wms = watermarks_before(events, ooo);
    let mut sessions: BTreeMap<u8, Vec<Session>> = BTreeMap::new();
    let mut firings = Firings::new();
    let mut late = Vec::new();
    let advance = |sessions: &mut BTreeMap<u8, Vec<Session>>, firings: &mut Firings, wm: i64| {
        for (key, list) in sessions.iter_mut() {
            for s in list.iter_mut() {
                if s.fire_pending && s.window.max_timestamp() <= wm {
                    s.fire_pending = false;
                    firings
                        .entry((*key, s.window.start, s.window.end))
                        .or_default()
                        .push(stats(&s.values));
                }
            }
            list.retain(|s| s.window.max_timestamp().saturating_add(lateness) > wm);
        }
    };
    for (e, &wm) in events.iter().zip(&wms) {
        advance(&mut sessions, &mut firings, wm);
        let list = sessions.entry(e.0).or_default();
        let w = TimeWindow {
            start: e.1,
            end: e.1 + gap,
        };
        let touching: Vec<usize> = (0..list.len())
            .filter(|&i| list[i].window.intersects(&w))
            .collect();
        let cover = touching.iter().fold(w, |c, &i| c.cover(&list[i].window));
        let index = if touching.len() == 1 && list[touching[0]].window == cover {
            touching[0]
        } else {
            let mut values = Vec::new();
            for &i in touching.iter().rev() {
                values.extend(list.remove(i).values);
            }
            let fire_pending = !touching.is_empty() && cover.max_timestamp() > wm;
            list.push(Session {
                window: cover,
                values,
                fire_pending,
            });
            list.len() - 1
        };
        if list[index].window.max_timestamp().saturating_add(lateness) <= wm {
            list.remove(index);
            if e.1.saturating_add(lateness) <= wm {
                late.push(*e);
            }
            continue;
        }
        let s = &mut list[index];
        s.values.push(e.2);
        if s.window.max_timestamp() <= wm {
            firings
                .entry((e.0, s.window.start, s.window.end))
                .or_default()
                .push(stats(&s.values));
        } else {
            s.fire_pending = true;
        }
    }
    advance(&mut sessions, &mut firings, i64::MAX);
    (firings, late)
}

fn run(
    events: &[Event],
    assigner: WindowAssigner,
    ooo: i64,
    lateness: i64,
    parallelism: u32,
    share_panes: bool,
) -> (Firings, Vec<Event>) {
    let env = StreamExecutionEnvironment::new();
    env.set_parallelism(parallelism);
    let strategy = WatermarkStrategy::for_bounded_out_of_orderness(ooo)
        .with_timestamp_assigner(|e: &Event| e.1)
        .punctuated();
    let mut windowed = env
        .from_collection(events.to_vec())
        .assign_timestamps_and_watermarks(strategy)
        .key_by(|e: &Event| e.0)
        .window(assigner)
        .allowed_lateness(lateness);
    if !share_panes {
        windowed = windowed.without_pane_sharing();
    }
    let (results, late) = windowed.aggregate_with_late_data(StatsAgg);
    let (results, late) = (results.collect(), late.collect());
    env.execute("window property").unwrap();
    let mut firings = Firings::new();
    for r in results.take() {
        firings
            .entry((r.key, r.window.start, r.window.end))
            .or_default()
            .push(r.value);
    }
    (firings, late.take())
}

/// The same job through the operator for custom triggers, with the event-time trigger.
fn run_triggered(
    events: &[Event],
    assigner: WindowAssigner,
    ooo: i64,
    lateness: i64,
) -> (Firings, Vec<Event>) {
    let env = StreamExecutionEnvironment::new();
    env.set_parallelism(2);
    let strategy = WatermarkStrategy::for_bounded_out_of_orderness(ooo)
        .with_timestamp_assigner(|e: &Event| e.1)
        .punctuated();
    let (results, late) = env
        .from_collection(events.to_vec())
        .assign_timestamps_and_watermarks(strategy)
        .key_by(|e: &Event| e.0)
        .window(assigner)
        .trigger(EventTimeTrigger)
        .allowed_lateness(lateness)
        .aggregate_with_late_data(StatsAgg);
    let (results, late) = (results.collect(), late.collect());
    env.execute("triggered").unwrap();
    let mut firings = Firings::new();
    for r in results.take() {
        firings
            .entry((r.key, r.window.start, r.window.end))
            .or_default()
            .push(r.value);
    }
    let mut late = late.take();
    late.sort();
    (firings, late)
}

/// The same job through `process` (every record of a window) and `reduce`.
fn run_process_and_reduce(
    events: &[Event],
    assigner: WindowAssigner,
    ooo: i64,
    lateness: i64,
) -> (Firings, Firings) {
    let env = StreamExecutionEnvironment::new();
    env.set_parallelism(2);
    let strategy = WatermarkStrategy::for_bounded_out_of_orderness(ooo)
        .with_timestamp_assigner(|e: &Event| e.1)
        .punctuated();
    let windowed = env
        .from_collection(events.to_vec())
        .assign_timestamps_and_watermarks(strategy)
        .key_by(|e: &Event| e.0)
        .window(assigner)
        .allowed_lateness(lateness);
    let processed = windowed
        .process(|key, window, events| {
            let values: Vec<i64> = events.iter().map(|e| e.2).collect();
            Some(((*key, window.start, window.end), stats(&values)))
        })
        .collect();
    let reduced = windowed
        .reduce(|a, b| (a.0, a.1.max(b.1), a.2 + b.2))
        .map(|w| ((w.key, w.window.start, w.window.end), w.value.2))
        .collect();
    env.execute("process and reduce").unwrap();
    let mut by_process = Firings::new();
    for (k, v) in processed.take() {
        by_process.entry(k).or_default().push(v);
    }
    let mut by_reduce = Firings::new();
    for (k, sum) in reduced.take() {
        by_reduce.entry(k).or_default().push((0, sum, 0, 0));
    }
    (by_process, by_reduce)
}

fn events() -> impl Strategy<Value = Vec<Event>> {
    // Timestamps drift forward with jitter, so records arrive out of order and some late.
    prop::collection::vec((0u8..3, -15i64..40, -50i64..50), 0..80).prop_map(|raw| {
        let mut base = 0;
        raw.into_iter()
            .map(|(k, jitter, v)| {
                base += 3;
                (k, (base + jitter).max(0), v)
            })
            .collect()
    })
}

fn assigner() -> impl Strategy<Value = WindowAssigner> {
    prop_oneof![
        (1i64..40).prop_map(WindowAssigner::tumbling),
        (1i64..8, 1i64..5).prop_map(|(n, slide)| WindowAssigner::sliding(n * slide, slide)),
        (1i64..8, 2i64..9).prop_map(|(size, slide)| WindowAssigner::sliding(size, slide)),
        (1i64..25).prop_map(WindowAssigner::session),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn windows_match_the_reference(
        events in events(),
        assigner in assigner(),
        ooo in 0i64..20,
        lateness in prop_oneof![Just(0i64), 0i64..30],
    ) {
        let (mut expected, mut expected_late) = match assigner {
            WindowAssigner::Session { gap } => reference_sessions(&events, gap, ooo, lateness),
            _ => reference_fixed(&events, assigner, ooo, lateness),
        };
        expected.retain(|_, v| !v.is_empty());
        expected_late.sort();
        for (parallelism, share_panes) in [(1, true), (3, true), (1, false)] {
            let (got, mut got_late) = run(&events, assigner, ooo, lateness, parallelism, share_panes);
            got_late.sort();
            prop_assert_eq!(&got, &expected, "parallelism {} panes {}", parallelism, share_panes);
            prop_assert_eq!(&got_late, &expected_late, "late records, parallelism {}", parallelism);
        }
        let (got, got_late) = run_triggered(&events, assigner, ooo, lateness);
        prop_assert_eq!(&got, &expected, "event-time trigger through the triggered operator");
        prop_assert_eq!(&got_late, &expected_late, "late records, triggered operator");
        let (by_process, by_reduce) = run_process_and_reduce(&events, assigner, ooo, lateness);
        prop_assert_eq!(&by_process, &expected, "process window function");
        let sums: Firings = expected
            .iter()
            .map(|(k, v)| (*k, v.iter().map(|s| (0, s.1, 0, 0)).collect()))
            .collect();
        prop_assert_eq!(&by_reduce, &sums, "reduce window function");
    }

    #[test]
    fn a_count_evictor_keeps_the_last_records_of_each_window(
        raw in prop::collection::vec((0u8..3, -20i64..50), 0..100),
        keep in 1usize..4,
    ) {
        // In-order timestamps and no lateness: each window fires once, on its last `keep`.
        let mut ts = 0;
        let events: Vec<Event> = raw.into_iter().map(|(k, v)| { ts += 3; (k, ts, v) }).collect();
        let mut windows: BTreeMap<(u8, i64), Vec<i64>> = BTreeMap::new();
        for e in &events {
            windows.entry((e.0, e.1 - e.1.rem_euclid(20))).or_default().push(e.2);
        }
        let expected: BTreeMap<(u8, i64), Stats> = windows
            .into_iter()
            .map(|(k, v)| (k, stats(&v[v.len().saturating_sub(keep)..])))
            .collect();
        let env = StreamExecutionEnvironment::new();
        env.set_parallelism(2);
        let out = env
            .from_collection(events)
            .assign_timestamps_and_watermarks(
                WatermarkStrategy::for_monotonous_timestamps().with_timestamp_assigner(|e: &Event| e.1).punctuated(),
            )
            .key_by(|e: &Event| e.0)
            .window(WindowAssigner::tumbling(20))
            .evictor(Evictor::Count(keep))
            .aggregate(StatsAgg)
            .collect();
        env.execute("evictor").unwrap();
        let got: BTreeMap<(u8, i64), Stats> = out.take().into_iter().map(|w| ((w.key, w.window.start), w.value)).collect();
        prop_assert_eq!(got, expected);
    }

    #[test]
    fn count_windows_fire_every_n_records_of_a_key(
        events in prop::collection::vec((0u8..4, 0i64..100, -50i64..50), 0..120),
        size in 1u64..6,
    ) {
        #[derive(Clone)]
        struct SumAgg;
        impl AggregateFunction<Event> for SumAgg {
            type Acc = i64;
            type Out = i64;
            fn create_accumulator(&self) -> i64 { 0 }
            fn add(&self, acc: &mut i64, e: &Event) { *acc += e.2 }
            fn get_result(&self, acc: &i64) -> i64 { *acc }
            fn merge(&self, a: i64, b: i64) -> i64 { a + b }
        }
        let mut expected: BTreeMap<u8, Vec<i64>> = BTreeMap::new();
        let mut pending: BTreeMap<u8, Vec<i64>> = BTreeMap::new();
        for e in &events {
            let values = pending.entry(e.0).or_default();
            values.push(e.2);
            if values.len() as u64 == size {
                expected.entry(e.0).or_default().push(values.drain(..).sum());
            }
        }
        let env = StreamExecutionEnvironment::new();
        env.set_parallelism(3);
        let keyed = env.from_collection(events.clone()).key_by(|e: &Event| e.0);
        let out = keyed.count_window(size, SumAgg).collect();
        // The same with a global window and a purging count trigger.
        let global = keyed
            .global_window(PurgingTrigger(CountTrigger::of(size)))
            .aggregate(SumAgg)
            .map(|w| (w.key, w.value))
            .collect();
        env.execute("count windows").unwrap();
        let mut got: BTreeMap<u8, Vec<i64>> = BTreeMap::new();
        for (k, sum) in out.take() {
            got.entry(k).or_default().push(sum);
        }
        let mut got_global: BTreeMap<u8, Vec<i64>> = BTreeMap::new();
        for (k, sum) in global.take() {
            got_global.entry(k).or_default().push(sum);
        }
        prop_assert_eq!(&got, &expected);
        prop_assert_eq!(&got_global, &expected, "global window with a purging count trigger");
    }
}
