//! The CEP operator on a keyed DataStream, at parallelism 1 and 3, against the NFA run by hand:
//! per key, the records that were not late, in timestamp order (ties in arrival order), then
//! time advanced to the end. Compared: matches and timeouts per key, and the late records.

use std::collections::BTreeMap;

use eddy_cep::operator::pattern;
use eddy_cep::{Nfa, Pattern};
use eddy_datastream::{StreamExecutionEnvironment, WatermarkStrategy};
use proptest::prelude::*;

type Event = (u8, i64, char, u32); // key, ts, kind, id

fn nfa(kind: u8) -> Nfa<Event> {
    let p = Pattern::begin("a").when(|e: &Event| e.2 == 'a');
    let p = match kind {
        0 => p
            .followed_by("b")
            .when(|e: &Event| e.2 == 'b')
            .within_ms(10),
        1 => p.next("b").when(|e: &Event| e.2 == 'b'),
        _ => p
            .followed_by("b")
            .when(|e: &Event| e.2 == 'b')
            .one_or_more()
            .followed_by("c")
            .when(|e: &Event| e.2 == 'c')
            .within_ms(20),
    };
    p.compile().unwrap()
}

type PerKey = BTreeMap<
    u8,
    (
        Vec<Vec<(String, Vec<u32>)>>,
        Vec<(i64, Vec<(String, Vec<u32>)>)>,
    ),
>;

fn ids(m: &eddy_cep::Match<Event>) -> Vec<(String, Vec<u32>)> {
    m.stages
        .iter()
        .map(|(n, es)| (n.to_string(), es.iter().map(|e| e.3).collect()))
        .collect()
}

fn reference(events: &[Event], ooo: i64, kind: u8) -> (PerKey, Vec<u32>) {
    let nfa = nfa(kind);
    let mut max = None::<i64>;
    let mut per_key: BTreeMap<u8, Vec<(i64, usize, Event)>> = BTreeMap::new();
    let mut late = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let wm = max.map_or(i64::MIN, |m| m - ooo - 1);
        if e.1 <= wm {
            late.push(e.3);
        } else {
            per_key.entry(e.0).or_default().push((e.1, i, *e));
        }
        max = Some(max.map_or(e.1, |m| m.max(e.1)));
    }
    let mut out = PerKey::new();
    for (key, mut list) in per_key {
        list.sort_by_key(|(ts, i, _)| (*ts, *i));
        let mut state = nfa.new_state();
        let entry = out.entry(key).or_default();
        let mut outputs = Vec::new();
        for (ts, _, e) in list {
            outputs.push(nfa.process(&mut state, e, ts).unwrap());
        }
        outputs.push(nfa.advance_time(&mut state, i64::MAX).unwrap());
        for o in outputs {
            entry.0.extend(o.matches.iter().map(ids));
            entry
                .1
                .extend(o.timeouts.iter().map(|t| (t.timeout_ts, ids(&t.partial))));
        }
    }
    for v in out.values_mut() {
        v.0.sort();
        v.1.sort();
    }
    out.retain(|_, v| !v.0.is_empty() || !v.1.is_empty());
    late.sort();
    (out, late)
}

fn run(events: &[Event], ooo: i64, kind: u8, parallelism: u32) -> (PerKey, Vec<u32>) {
    let env = StreamExecutionEnvironment::new();
    env.set_parallelism(parallelism);
    let keyed = env
        .from_collection(events.to_vec())
        .assign_timestamps_and_watermarks(
            WatermarkStrategy::for_bounded_out_of_orderness(ooo)
                .with_timestamp_assigner(|e: &Event| e.1)
                .punctuated(),
        )
        .key_by(|e: &Event| e.0);
    let stream = pattern(&keyed, nfa(kind));
    let matches = stream.select(|k, m| (*k, ids(&m))).collect();
    let timeouts = stream.timeouts(|k, ts, m| (*k, ts, ids(&m))).collect();
    let late = stream.late_data().map(|e| e.3).collect();
    env.execute("cep").unwrap();
    let mut out = PerKey::new();
    for (k, m) in matches.take() {
        out.entry(k).or_default().0.push(m);
    }
    for (k, ts, m) in timeouts.take() {
        out.entry(k).or_default().1.push((ts, m));
    }
    for v in out.values_mut() {
        v.0.sort();
        v.1.sort();
    }
    let mut late = late.take();
    late.sort();
    (out, late)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]
    #[test]
    fn the_operator_matches_the_nfa_run_by_hand(
        raw in prop::collection::vec((0u8..3, -6i64..10, prop::sample::select(vec!['a', 'b', 'c', 'x'])), 0..60),
        ooo in 0i64..8,
        kind in 0u8..3,
    ) {
        let mut base = 0;
        let events: Vec<Event> = raw.into_iter().enumerate().map(|(i, (k, jitter, c))| {
            base += 2;
            (k, (base + jitter).max(0), c, i as u32)
        }).collect();
        let expected = reference(&events, ooo, kind);
        for parallelism in [1, 3] {
            prop_assert_eq!(&run(&events, ooo, kind, parallelism), &expected, "parallelism {}", parallelism);
        }
    }
}

/// Regression: in processing time, a key's second record within the same millisecond was
/// dropped (the per-key event-time buffer had already advanced to that millisecond), so
/// records arriving together never matched each other.
#[test]
fn processing_time_keeps_records_of_the_same_millisecond() {
    use eddy_cep::operator::pattern_in_processing_time;
    use eddy_runtime::time::ManualClock;
    use std::sync::Arc;

    let env = StreamExecutionEnvironment::new();
    env.set_parallelism(2)
        .set_clock(Arc::new(ManualClock::new(5)));
    let events: Vec<Event> = ['a', 'x', 'b', 'a', 'b']
        .iter()
        .enumerate()
        .map(|(i, &c)| (i as u8 % 2, 0, c, i as u32))
        .chain([(7, 0, 'a', 10), (7, 0, 'b', 11)])
        .collect();
    let keyed = env.from_collection(events).key_by(|e: &Event| e.0);
    let nfa = Pattern::begin("a")
        .when(|e: &Event| e.2 == 'a')
        .followed_by("b")
        .when(|e: &Event| e.2 == 'b')
        .compile()
        .unwrap();
    let found = pattern_in_processing_time(&keyed, nfa)
        .select(|k, m| (*k, ids(&m)))
        .collect();
    env.execute("processing time").unwrap();
    let mut found = found.take();
    found.sort();
    let pair = |a: u32, b: u32| vec![("a".to_string(), vec![a]), ("b".to_string(), vec![b])];
    // Key 0 holds a(0), b(2), b(4); key 1 holds x(1), a(3); key 7 holds a(10), b(11).
    assert_eq!(found, vec![(0, pair(0, 2)), (7, pair(10, 11))]);
}
