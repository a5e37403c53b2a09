//! The pathological pattern (`a followed_by_any b one_or_more within w`) over a long input:
//! after every event, each key's live partial matches and stored events stay within a bound
//! derived from the window (the key's events less than `w` old), so memory does not grow with
//! the input. Compared: the state's counters against that bound, and the peak over the first
//! and the last part of the input.

use std::collections::VecDeque;

use eddy_cep::{Nfa, Pattern};

#[derive(Clone, Debug)]
struct Event {
    is_a: bool,
}

/// The rule of the Flink comparison workload (CepBench.java's `isA`).
fn is_a(i: u64) -> bool {
    (i.wrapping_mul(2_654_435_761) % 1_000_003) & 1 == 0
}

fn pathological(window_ms: i64) -> Nfa<Event> {
    Pattern::begin("a")
        .when(|e: &Event| e.is_a)
        .followed_by_any("b")
        .when(|e: &Event| !e.is_a)
        .one_or_more()
        .within_ms(window_ms)
        .compile()
        .unwrap()
}

#[test]
fn partial_matches_and_stored_events_stay_bounded_by_the_window() {
    const KEYS: usize = 4;
    const EVENTS: u64 = 120_000;
    let (window, step) = (2_000i64, 40i64);
    let nfa = pathological(window);
    let mut states: Vec<_> = (0..KEYS).map(|_| nfa.new_state()).collect();
    let mut recent: Vec<VecDeque<i64>> = vec![VecDeque::new(); KEYS];
    let (mut matches, mut timeouts) = (0usize, 0usize);
    let mut peaks = [0usize; 2];
    for i in 0..EVENTS {
        let (key, ts) = ((i % KEYS as u64) as usize, i as i64 * step);
        let out = nfa
            .process(&mut states[key], Event { is_a: is_a(i) }, ts)
            .unwrap();
        matches += out.matches.len();
        timeouts += out.timeouts.len();
        // The key's events that a live partial match may still hold: those less than a
        // window old (a partial match dies when time reaches its first event + window).
        let held = &mut recent[key];
        held.push_back(ts);
        while held.front().is_some_and(|&t| t + window <= ts) {
            held.pop_front();
        }
        let n = held.len();
        let state = &states[key];
        // One partial match per (a, first b or none) in the window.
        assert!(
            state.partial_matches() <= n * (n + 1),
            "event {i}: {} partial matches for {n} events in the window",
            state.partial_matches()
        );
        assert!(
            state.buffer().live_events() <= n,
            "event {i}: {} stored events for {n} in the window",
            state.buffer().live_events()
        );
        let live: usize = states.iter().map(|s| s.buffer().live_nodes()).sum();
        let part = usize::from(i >= EVENTS / 2);
        peaks[part] = peaks[part].max(live);
    }
    assert!(
        matches > 100_000 && timeouts > 1_000,
        "{matches} {timeouts}"
    );
    // Steady state: the second half of the input needs no more memory than the first did,
    // give or take the input's own variation.
    assert!(
        peaks[1] <= peaks[0] * 3 / 2 + 16,
        "live nodes grew: {} then {}",
        peaks[0],
        peaks[1]
    );
}
