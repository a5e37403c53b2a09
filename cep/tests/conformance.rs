//! Compares the NFA's matches, timeouts and errors with the documented behaviour of Flink CEP
//! (contiguity, loops, optional, greedy, times-range, until, negation, iterative conditions,
//! within, groups, after-match skip strategies), through the builder and the JSON form.

use eddy_cep::json::{self, DynEvent};
use eddy_cep::{CepError, Contiguity, Pattern, SkipStrategy, WithinKind};

/// A test event: a label such as "a1" (its kind is the letters) and a number.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Ev {
    label: String,
    val: f64,
}

fn kind(e: &Ev) -> &str {
    e.label.trim_end_matches(|c: char| c.is_ascii_digit())
}

fn is(k: &'static str) -> impl Fn(&Ev) -> bool + Send + Sync {
    move |e: &Ev| kind(e) == k
}

fn evs(labels: &str) -> Vec<(Ev, i64)> {
    labels
        .split_whitespace()
        .enumerate()
        .map(|(i, l)| {
            (
                Ev {
                    label: l.to_string(),
                    val: 0.0,
                },
                i as i64,
            )
        })
        .collect()
}

/// Runs `p` over `input`, then finishes; returns each match as "stage:label ..." in emission order.
fn run(p: Pattern<Ev>, input: &[(Ev, i64)]) -> Vec<String> {
    let nfa = p.compile().expect("valid pattern");
    let mut st = nfa.new_state();
    let mut out = Vec::new();
    for (e, ts) in input {
        for m in nfa.process(&mut st, e.clone(), *ts).expect("runs").matches {
            out.push(staged(&m));
        }
    }
    for m in nfa.finish(&mut st).expect("runs").matches {
        out.push(staged(&m));
    }
    out
}

fn staged(m: &eddy_cep::Match<Ev>) -> String {
    m.stages
        .iter()
        .map(|(s, es)| {
            format!(
                "{s}:{}",
                es.iter()
                    .map(|e| e.label.as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn strs(v: &[&str]) -> Vec<String> {
    sorted(v.iter().map(|s| s.to_string()).collect())
}

// ---- contiguity (Flink docs, "Combining Patterns") ----

fn ab(c: Contiguity) -> Pattern<Ev> {
    let p = Pattern::begin("a").when(is("a"));
    match c {
        Contiguity::Strict => p.next("b"),
        Contiguity::Relaxed => p.followed_by("b"),
        _ => p.followed_by_any("b"),
    }
    .when(is("b"))
}

#[test]
fn strict_contiguity_needs_the_very_next_event() {
    assert!(run(ab(Contiguity::Strict), &evs("a1 c1 b1 b2")).is_empty());
    assert_eq!(
        run(ab(Contiguity::Strict), &evs("a1 b1 b2")),
        strs(&["a:a1 b:b1"])
    );
}

#[test]
fn relaxed_contiguity_takes_the_first_match_only() {
    assert_eq!(
        run(ab(Contiguity::Relaxed), &evs("a1 c1 b1 b2")),
        strs(&["a:a1 b:b1"])
    );
}

#[test]
fn nondeterministic_contiguity_takes_every_match() {
    assert_eq!(
        sorted(run(ab(Contiguity::NonDeterministic), &evs("a1 c1 b1 b2"))),
        strs(&["a:a1 b:b1", "a:a1 b:b2"])
    );
}

// ---- contiguity within loops (Flink docs: "C D A1 A2 A3 D A4 B") ----

fn c_a_plus_b(inner: Contiguity) -> Pattern<Ev> {
    let p = Pattern::begin("start")
        .when(is("c"))
        .followed_by("middle")
        .when(is("a"))
        .one_or_more();
    let p = match inner {
        Contiguity::Strict => p.consecutive(),
        Contiguity::NonDeterministic => p.allow_combinations(),
        _ => p,
    };
    p.followed_by("end").when(is("b"))
}

const LOOP_INPUT: &str = "c d a1 a2 a3 d a4 b";

#[test]
fn consecutive_loop() {
    assert_eq!(
        sorted(run(c_a_plus_b(Contiguity::Strict), &evs(LOOP_INPUT))),
        strs(&[
            "start:c middle:a1 end:b",
            "start:c middle:a1,a2 end:b",
            "start:c middle:a1,a2,a3 end:b"
        ])
    );
}

#[test]
fn relaxed_loop() {
    assert_eq!(
        sorted(run(c_a_plus_b(Contiguity::Relaxed), &evs(LOOP_INPUT))),
        strs(&[
            "start:c middle:a1 end:b",
            "start:c middle:a1,a2 end:b",
            "start:c middle:a1,a2,a3 end:b",
            "start:c middle:a1,a2,a3,a4 end:b"
        ])
    );
}

#[test]
fn allow_combinations_loop() {
    assert_eq!(
        sorted(run(
            c_a_plus_b(Contiguity::NonDeterministic),
            &evs(LOOP_INPUT)
        )),
        strs(&[
            "start:c middle:a1 end:b",
            "start:c middle:a1,a2 end:b",
            "start:c middle:a1,a3 end:b",
            "start:c middle:a1,a4 end:b",
            "start:c middle:a1,a2,a3 end:b",
            "start:c middle:a1,a2,a4 end:b",
            "start:c middle:a1,a3,a4 end:b",
            "start:c middle:a1,a2,a3,a4 end:b"
        ])
    );
}

// ---- quantifiers ----

#[test]
fn optional_stage_matches_with_and_without() {
    let p = Pattern::begin("start")
        .when(is("s"))
        .followed_by("middle")
        .when(is("m"))
        .optional()
        .followed_by("end")
        .when(is("e"));
    assert_eq!(
        sorted(run(p, &evs("s m e"))),
        strs(&["start:s end:e", "start:s middle:m end:e"])
    );
}

#[test]
fn times_exact_under_each_inner_contiguity() {
    let p = || Pattern::begin("a").when(is("a")).times(2);
    assert_eq!(
        sorted(run(p(), &evs("a1 x a2 a3"))),
        strs(&["a:a1,a2", "a:a2,a3"])
    );
    assert_eq!(
        sorted(run(p().consecutive(), &evs("a1 x a2 a3"))),
        strs(&["a:a2,a3"])
    );
    assert_eq!(
        sorted(run(p().allow_combinations(), &evs("a1 x a2 a3"))),
        strs(&["a:a1,a2", "a:a1,a3", "a:a2,a3"])
    );
}

#[test]
fn times_range_emits_every_count_in_range() {
    let p = Pattern::begin("s")
        .when(is("s"))
        .followed_by("a")
        .when(is("a"))
        .times_range(2, 3)
        .consecutive();
    assert_eq!(
        sorted(run(p, &evs("s a1 a2 a3 a4"))),
        strs(&["s:s a:a1,a2", "s:s a:a1,a2,a3"])
    );
}

#[test]
fn times_or_more_needs_the_minimum() {
    let p = Pattern::begin("s")
        .when(is("s"))
        .next("a")
        .when(is("a"))
        .times_or_more(2)
        .consecutive()
        .next("e")
        .when(is("e"));
    assert!(run(p, &evs("s a1 e")).is_empty());
    let p = Pattern::begin("s")
        .when(is("s"))
        .next("a")
        .when(is("a"))
        .times_or_more(2)
        .consecutive()
        .next("e")
        .when(is("e"));
    assert_eq!(run(p, &evs("s a1 a2 a3 e")), strs(&["s:s a:a1,a2,a3 e:e"]));
}

#[test]
fn greedy_loop_does_not_exit_while_it_can_take() {
    let p = |greedy: bool| {
        let p = Pattern::begin("start")
            .when(is("c"))
            .followed_by("middle")
            .when(is("a"))
            .one_or_more();
        let p = if greedy { p.greedy() } else { p };
        p.followed_by("end")
            .when(|e: &Ev| kind(e) == "a" || kind(e) == "d")
    };
    assert_eq!(
        sorted(run(p(false), &evs("c a1 a2 a3 d"))),
        strs(&[
            "start:c middle:a1 end:a2",
            "start:c middle:a1,a2 end:a3",
            "start:c middle:a1,a2,a3 end:d"
        ])
    );
    assert_eq!(
        run(p(true), &evs("c a1 a2 a3 d")),
        strs(&["start:c middle:a1,a2,a3 end:d"])
    );
}

#[test]
fn until_stops_the_loop() {
    let p = |until: bool| {
        let p = Pattern::begin("c")
            .when(is("c"))
            .followed_by("a")
            .when(is("a"))
            .one_or_more();
        let p = if until { p.until(is("u")) } else { p };
        p.followed_by("b").when(is("b"))
    };
    assert_eq!(
        sorted(run(p(true), &evs("c a1 a2 u a3 b"))),
        strs(&["c:c a:a1 b:b", "c:c a:a1,a2 b:b"])
    );
    assert_eq!(
        sorted(run(p(false), &evs("c a1 a2 u a3 b"))),
        strs(&["c:c a:a1 b:b", "c:c a:a1,a2 b:b", "c:c a:a1,a2,a3 b:b"])
    );
}

// ---- negation ----

#[test]
fn not_next_kills_on_the_next_event() {
    let p = || {
        Pattern::begin("a")
            .when(is("a"))
            .not_next("not")
            .when(is("c"))
            .followed_by("b")
            .when(is("b"))
    };
    assert!(run(p(), &evs("a c b")).is_empty());
    assert_eq!(run(p(), &evs("a d b")), strs(&["a:a b:b"]));
    assert_eq!(run(p(), &evs("a d c b")), strs(&["a:a b:b"]));
}

#[test]
fn not_followed_by_kills_on_any_event_before_the_next_stage() {
    let p = || {
        Pattern::begin("a")
            .when(is("a"))
            .not_followed_by("not")
            .when(is("c"))
            .followed_by("b")
            .when(is("b"))
    };
    assert!(run(p(), &evs("a d c b")).is_empty());
    assert_eq!(run(p(), &evs("a d b c")), strs(&["a:a b:b"]));
}

#[test]
fn not_followed_by_at_the_end_waits_for_the_window() {
    let p = || {
        Pattern::begin("a")
            .when(is("a"))
            .not_followed_by("not")
            .when(is("b"))
            .within_ms(10)
    };
    let at = |l: &str, ts: i64| {
        (
            Ev {
                label: l.into(),
                val: 0.0,
            },
            ts,
        )
    };
    assert!(run(p(), &[at("a", 0), at("b", 5)]).is_empty());
    assert_eq!(run(p(), &[at("a", 0), at("x", 5)]), strs(&["a:a"]));
    // a b after the window closed does not kill the match, which is emitted as time passes
    let nfa = p().compile().expect("valid");
    let mut st = nfa.new_state();
    assert!(nfa
        .process(&mut st, at("a", 0).0, 0)
        .expect("runs")
        .matches
        .is_empty());
    assert!(nfa
        .advance_time(&mut st, 9)
        .expect("runs")
        .matches
        .is_empty());
    let out = nfa.process(&mut st, at("b", 10).0, 10).expect("runs");
    assert_eq!(out.matches.len(), 1);
}

#[test]
fn negation_rules_are_checked() {
    let err = |p: Pattern<Ev>| match p.compile() {
        Err(CepError::InvalidPattern(m)) => m,
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("compiled"),
    };
    assert!(err(Pattern::begin("a").not_next("n")).contains("not_next cannot end"));
    assert!(err(Pattern::begin("a").not_followed_by("n")).contains("only with within"));
    assert!(err(Pattern::begin("a")
        .not_followed_by("n")
        .times(2)
        .followed_by("b"))
    .contains("no quantifier"));
    assert!(err(Pattern::begin("a").followed_by("a")).contains("duplicate"));
    assert!(err(Pattern::begin("a")
        .optional()
        .not_next("n")
        .followed_by("b"))
    .contains("mandatory stage before"));
    assert!(err(Pattern::begin("a").optional()).contains("without taking any event"));
    assert!(err(Pattern::begin("a").times_range(3, 2)).contains("below min"));
    assert!(err(Pattern::begin("a").until(|_| true)).contains("looping"));
    assert!(err(Pattern::begin("a").within_ms(0)).contains("positive"));
    assert!(err(Pattern::begin("a")
        .followed_by_group("g", Pattern::begin("b"))
        .when(|_| true))
    .contains("is a group"));
    assert!(err(Pattern::begin("a").one_or_more().greedy()).contains("greedy"));
}

// ---- iterative conditions ----

#[test]
fn iterative_condition_sees_the_partial_match() {
    // Flink docs: "middle" accepts events while the sum of prices stays below 5
    let at = |l: &str, v: f64, ts: i64| {
        (
            Ev {
                label: l.into(),
                val: v,
            },
            ts,
        )
    };
    let p = Pattern::begin("start")
        .when(is("s"))
        .followed_by("middle")
        .when_iter(|e: &Ev, ctx| {
            kind(e) == "m" && ctx.events("middle").iter().map(|x| x.val).sum::<f64>() + e.val < 5.0
        })
        .one_or_more()
        .consecutive()
        .next("end")
        .when(is("e"));
    let input = [
        at("s", 0.0, 0),
        at("m1", 1.0, 1),
        at("m2", 2.0, 2),
        at("m3", 3.0, 3),
        at("e", 0.0, 4),
    ];
    // m1+m2+m3 = 6 breaks the sum, so only the suffix m3 (3 < 5) reaches e consecutively
    assert!(run(p, &input).is_empty());
    let p = Pattern::begin("start")
        .when(is("s"))
        .followed_by("middle")
        .when_iter(|e: &Ev, ctx| {
            kind(e) == "m" && ctx.events("middle").iter().map(|x| x.val).sum::<f64>() + e.val < 5.0
        })
        .one_or_more()
        .followed_by("end")
        .when(is("e"));
    assert_eq!(
        sorted(run(p, &input)),
        strs(&["start:s middle:m1 end:e", "start:s middle:m1,m2 end:e"])
    );
}

// ---- within and timeouts ----

#[test]
fn within_first_and_last_times_out_with_the_deadline() {
    let nfa = Pattern::begin("a")
        .when(is("a"))
        .followed_by("b")
        .when(is("b"))
        .within_ms(10)
        .compile()
        .expect("valid");
    let mut st = nfa.new_state();
    let ev = |l: &str| Ev {
        label: l.into(),
        val: 0.0,
    };
    nfa.process(&mut st, ev("a"), 0).expect("runs");
    nfa.process(&mut st, ev("c"), 5).expect("runs");
    let out = nfa.advance_time(&mut st, 20).expect("runs");
    assert_eq!(out.timeouts.len(), 1);
    assert_eq!(out.timeouts[0].timeout_ts, 10);
    assert_eq!(out.timeouts[0].partial.get("a").map(|v| v.len()), Some(1));
    // an event exactly at the deadline is too late
    let mut st = nfa.new_state();
    nfa.process(&mut st, ev("a"), 0).expect("runs");
    let out = nfa.process(&mut st, ev("b"), 10).expect("runs");
    assert!(out.matches.is_empty());
    assert_eq!(out.timeouts.len(), 1);
    assert_eq!(st.buffer().live_events(), 0, "a timed-out prefix is freed");
}

#[test]
fn within_previous_and_current_measures_each_gap() {
    let p = |k: WithinKind| {
        Pattern::begin("a")
            .when(is("a"))
            .followed_by("b")
            .when(is("b"))
            .times(2)
            .within_kind(k)
            .within_ms(10)
    };
    let at = |l: &str, ts: i64| {
        (
            Ev {
                label: l.into(),
                val: 0.0,
            },
            ts,
        )
    };
    let input = [at("a", 0), at("b1", 8), at("b2", 16)];
    assert!(run(p(WithinKind::FirstAndLast), &input).is_empty());
    assert_eq!(
        run(p(WithinKind::PreviousAndCurrent), &input),
        strs(&["a:a b:b1,b2"])
    );
    // the timeout of the per-gap form is the previous event + window
    let nfa = p(WithinKind::PreviousAndCurrent).compile().expect("valid");
    let mut st = nfa.new_state();
    nfa.process(&mut st, at("a", 0).0, 0).expect("runs");
    nfa.process(&mut st, at("b1", 8).0, 8).expect("runs");
    let out = nfa.advance_time(&mut st, 100).expect("runs");
    assert_eq!(
        out.timeouts
            .iter()
            .map(|t| t.timeout_ts)
            .collect::<Vec<_>>(),
        vec![18]
    );
}

// ---- groups ----

#[test]
fn group_with_one_or_more() {
    let g = Pattern::begin("b")
        .when(is("b"))
        .followed_by("c")
        .when(is("c"));
    let p = Pattern::begin("a")
        .when(is("a"))
        .followed_by_group("g", g)
        .one_or_more()
        .followed_by("d")
        .when(is("d"));
    assert_eq!(
        sorted(run(p, &evs("a b1 c1 b2 c2 d"))),
        strs(&["a:a b:b1 c:c1 d:d", "a:a b:b1,b2 c:c1,c2 d:d"])
    );
}

#[test]
fn group_times_two_consecutive() {
    let g = Pattern::begin("b").when(is("b")).next("c").when(is("c"));
    let p = Pattern::begin("a")
        .when(is("a"))
        .next_group("g", g)
        .times(2)
        .consecutive();
    assert_eq!(
        run(p, &evs("a b1 c1 b2 c2")),
        strs(&["a:a b:b1,b2 c:c1,c2"])
    );
    let g = Pattern::begin("b").when(is("b")).next("c").when(is("c"));
    let p = Pattern::begin("a")
        .when(is("a"))
        .next_group("g", g)
        .times(2)
        .consecutive();
    assert!(run(p, &evs("a b1 c1 x b2 c2")).is_empty());
}

#[test]
fn optional_group() {
    let g = Pattern::begin("b").when(is("b")).next("c").when(is("c"));
    let p = Pattern::begin("a")
        .when(is("a"))
        .followed_by_group("g", g)
        .optional()
        .followed_by("d")
        .when(is("d"));
    assert_eq!(
        sorted(run(p, &evs("a b c d"))),
        strs(&["a:a b:b c:c d:d", "a:a d:d"])
    );
}

// ---- after-match skip strategies (Flink docs: pattern b+ c over b1 b2 b3 c) ----

fn b_plus_c(s: SkipStrategy) -> Pattern<Ev> {
    Pattern::begin("b")
        .when(is("b"))
        .one_or_more()
        .next("c")
        .when(is("c"))
        .skip(s)
}

#[test]
fn skip_strategies_on_b_plus_c() {
    let input = evs("b1 b2 b3 c");
    let first = |st: &str| SkipStrategy::SkipToFirst {
        stage: st.into(),
        throw_on_miss: false,
    };
    let last = |st: &str| SkipStrategy::SkipToLast {
        stage: st.into(),
        throw_on_miss: false,
    };
    let all = vec![
        "b:b1,b2,b3 c:c".to_string(),
        "b:b2,b3 c:c".into(),
        "b:b3 c:c".into(),
    ];
    assert_eq!(
        sorted(run(b_plus_c(SkipStrategy::NoSkip), &input)),
        sorted(all.clone())
    );
    assert_eq!(run(b_plus_c(SkipStrategy::SkipToNext), &input), all);
    assert_eq!(
        run(b_plus_c(SkipStrategy::SkipPastLastEvent), &input),
        vec!["b:b1,b2,b3 c:c".to_string()]
    );
    assert_eq!(run(b_plus_c(first("b")), &input), all);
    assert_eq!(
        run(b_plus_c(last("b")), &input),
        vec!["b:b1,b2,b3 c:c".to_string(), "b:b3 c:c".into()]
    );
}

#[test]
fn skip_past_last_event_on_repeated_pairs() {
    let p = Pattern::begin("a")
        .when(is("a"))
        .times(2)
        .skip(SkipStrategy::SkipPastLastEvent);
    assert_eq!(
        run(p, &evs("a1 a2 a3 a4 a5")),
        vec!["a:a1,a2".to_string(), "a:a3,a4".into()]
    );
    let p = Pattern::begin("a")
        .when(is("a"))
        .times(2)
        .skip(SkipStrategy::SkipToNext);
    assert_eq!(
        run(p, &evs("a1 a2 a3")),
        vec!["a:a1,a2".to_string(), "a:a2,a3".into()]
    );
}

#[test]
fn skip_to_first_can_fail_when_the_stage_is_absent() {
    let p = Pattern::begin("a")
        .when(is("a"))
        .followed_by("b")
        .when(is("b"))
        .optional()
        .followed_by("c")
        .when(is("c"))
        .skip(SkipStrategy::SkipToFirst {
            stage: "b".into(),
            throw_on_miss: true,
        });
    let nfa = p.compile().expect("valid");
    let mut st = nfa.new_state();
    let mut res = Ok(());
    for (e, ts) in evs("a c") {
        if let Err(e) = nfa.process(&mut st, e, ts) {
            res = Err(e);
        }
    }
    // the match is held while the partial match waiting for "b" lives: it fails at the end
    if let Err(e) = nfa.finish(&mut st) {
        res = Err(e);
    }
    assert!(matches!(res, Err(CepError::SkipStageMissing(s)) if s == "b"));
}

#[test]
fn unknown_skip_stage_is_rejected() {
    let p = Pattern::<Ev>::begin("a").skip(SkipStrategy::SkipToLast {
        stage: "zz".into(),
        throw_on_miss: false,
    });
    assert!(matches!(p.compile(), Err(CepError::InvalidPattern(m)) if m.contains("\"zz\"")));
}

// ---- state: serializable, bounded ----

#[test]
fn state_survives_a_serde_round_trip_mid_stream() {
    let p = || {
        Pattern::begin("a")
            .when(is("a"))
            .followed_by_any("b")
            .when(is("b"))
            .one_or_more()
            .within_ms(100)
    };
    let input = evs("a1 b1 a2 b2 x b3 a3 b4");
    let whole = run(p(), &input);
    let nfa = p().compile().expect("valid");
    let mut st = nfa.new_state();
    let mut got = Vec::new();
    for (i, (e, ts)) in input.iter().enumerate() {
        if i == 4 {
            let bytes = serde_json::to_vec(&st).expect("serializes");
            st = serde_json::from_slice(&bytes).expect("deserializes");
        }
        got.extend(
            nfa.process(&mut st, e.clone(), *ts)
                .expect("runs")
                .matches
                .iter()
                .map(staged),
        );
    }
    got.extend(
        nfa.finish(&mut st)
            .expect("runs")
            .matches
            .iter()
            .map(staged),
    );
    assert_eq!(got, whole);
    assert!(!whole.is_empty());
}

#[test]
fn pathological_pattern_memory_is_bounded_by_the_window() {
    let nfa = Pattern::begin("a")
        .when(is("a"))
        .followed_by_any("b")
        .when(is("b"))
        .one_or_more()
        .within_ms(20)
        .compile()
        .expect("valid");
    let mut st = nfa.new_state();
    let mut peak = 0;
    for i in 0..5_000i64 {
        let l = if i % 7 == 0 { "a" } else { "b" };
        nfa.process(
            &mut st,
            Ev {
                label: l.into(),
                val: 0.0,
            },
            i,
        )
        .expect("runs");
        peak = peak.max(st.buffer().live_events());
    }
    assert!(
        peak <= 20,
        "live events peaked at {peak} with a 20 ms window over 1 event/ms"
    );
    nfa.finish(&mut st).expect("runs");
    assert_eq!(st.buffer().live_nodes(), 0);
}

// ---- the JSON form ----

fn run_json(pattern: &str, input: &[(&str, i64)]) -> Vec<String> {
    let nfa = json::parse::<DynEvent>(pattern)
        .expect("valid JSON")
        .compile()
        .expect("valid pattern");
    let mut st = nfa.new_state();
    let mut out = Vec::new();
    let label = |m: &eddy_cep::Match<DynEvent>| {
        m.stages
            .iter()
            .map(|(s, es)| {
                let ls: Vec<String> = es
                    .iter()
                    .map(|e| e.0["id"].as_str().unwrap_or("?").to_string())
                    .collect();
                format!("{s}:{}", ls.join(","))
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    for (e, ts) in input {
        let ev = DynEvent::from_json(e).expect("event JSON");
        out.extend(
            nfa.process(&mut st, ev, *ts)
                .expect("runs")
                .matches
                .iter()
                .map(label),
        );
    }
    out.extend(nfa.finish(&mut st).expect("runs").matches.iter().map(label));
    out
}

#[test]
fn json_fraud_pattern() {
    let p = r#"{"version": 1, "stages": [
        {"name": "small", "condition": {"field": "amount", "op": "<", "value": 1.0}, "contiguity": "none"},
        {"name": "large", "condition": {"field": "amount", "op": ">", "value": 500}, "contiguity": "relaxed",
         "negated": false, "quantifier": {"min": 1, "max": 1, "greedy": false, "consecutive": false,
         "allow_combinations": false, "optional": false, "until": null}}],
      "within_ms": 60000, "within_type": "first_and_last",
      "skip": {"strategy": "skip_past_last_event", "stage": null, "throw_on_miss": false}}"#;
    let input = [
        (r#"{"id": "t1", "amount": 0.5}"#, 0),
        (r#"{"id": "t2", "amount": 20}"#, 1000),
        (r#"{"id": "t3", "amount": 0.1}"#, 2000),
        (r#"{"id": "t4", "amount": 900}"#, 3000),
        (r#"{"id": "t5", "amount": 0.3}"#, 4000),
        (r#"{"id": "t6"}"#, 5000),
        (r#"{"id": "t7", "amount": 700}"#, 50000),
        (r#"{"id": "t8", "amount": 0.9}"#, 60000),
        (r#"{"id": "t9", "amount": 800}"#, 120000),
    ];
    assert_eq!(
        run_json(p, &input),
        vec!["small:t1 large:t4".to_string(), "small:t5 large:t7".into()]
    );
}

#[test]
fn json_value_from_and_agg_conditions() {
    // rising prices: each "up" event above the previous one, at most 3 of them, total below 100
    let p = r#"{"stages": [
        {"name": "first", "condition": {"field": "kind", "op": "==", "value": "p"}},
        {"name": "up", "contiguity": "strict",
         "condition": {"and": [
            {"field": "price", "op": ">", "value_from": {"stage": "first", "index": 0, "field": "price"}},
            {"agg": "sum", "field": "price", "over_stage": "up", "include_current": true, "op": "<", "value": 100}]},
         "quantifier": {"min": 2, "max": null, "consecutive": true}},
        {"name": "drop", "contiguity": "strict", "condition": {"not": {"field": "price", "op": ">=", "value": 10}}}]}"#;
    let ev = |id: &str, price: i64| format!(r#"{{"id": "{id}", "kind": "p", "price": {price}}}"#);
    let events = [
        ev("e1", 10),
        ev("e2", 20),
        ev("e3", 30),
        ev("e4", 40),
        ev("e5", 5),
    ];
    let input: Vec<(&str, i64)> = events
        .iter()
        .enumerate()
        .map(|(i, e)| (e.as_str(), i as i64))
        .collect();
    assert_eq!(
        sorted(run_json(p, &input)),
        strs(&["first:e1 up:e2,e3,e4 drop:e5", "first:e2 up:e3,e4 drop:e5"])
    );
}

#[test]
fn json_string_ops_and_or() {
    let p = r#"{"stages": [
        {"name": "a", "condition": {"or": [{"field": "name", "op": "starts_with", "value": "lo"},
                                          {"field": "name", "op": "contains", "value": "xx"}]}},
        {"name": "b", "contiguity": "nondeterministic", "condition": {"field": "name", "op": "!=", "value": "login"}}]}"#;
    let input = [
        (r#"{"id": "1", "name": "login"}"#, 0),
        (r#"{"id": "2", "name": "login"}"#, 1),
        (r#"{"id": "3", "name": "axxb"}"#, 2),
    ];
    assert_eq!(sorted(run_json(p, &input)), strs(&["a:1 b:3", "a:2 b:3"]));
}

#[test]
fn json_not_followed_by_at_end_and_group() {
    let p = r#"{"stages": [
        {"name": "a", "condition": {"field": "t", "op": "==", "value": "a"}},
        {"name": "g", "contiguity": "relaxed", "quantifier": {"min": 1, "max": 2},
         "group": [{"name": "b", "condition": {"field": "t", "op": "==", "value": "b"}},
                   {"name": "c", "contiguity": "strict", "condition": {"field": "t", "op": "==", "value": "c"}}]},
        {"name": "no_x", "negated": true, "contiguity": "relaxed", "condition": {"field": "t", "op": "==", "value": "x"}}],
      "within_ms": 10, "within_type": "first_and_last"}"#;
    let input = [
        (r#"{"id": "a", "t": "a"}"#, 0),
        (r#"{"id": "b1", "t": "b"}"#, 1),
        (r#"{"id": "c1", "t": "c"}"#, 2),
        (r#"{"id": "b2", "t": "b"}"#, 3),
        (r#"{"id": "c2", "t": "c"}"#, 4),
        (r#"{"id": "x", "t": "x"}"#, 12),
    ];
    assert_eq!(
        sorted(run_json(p, &input)),
        strs(&["a:a b:b1 c:c1", "a:a b:b1,b2 c:c1,c2"])
    );
}

#[test]
fn json_errors_are_clear() {
    let err = |s: &str| match json::parse::<DynEvent>(s) {
        Err(e) => e.to_string(),
        Ok(p) => match p.compile() {
            Err(e) => e.to_string(),
            Ok(_) => panic!("accepted {s}"),
        },
    };
    let one = |cond: &str| format!(r#"{{"stages": [{{"name": "a", "condition": {cond}}}]}}"#);
    assert!(err(&one(r#"{"field": "x", "op": "=~", "value": 1}"#)).contains("unknown op \"=~\""));
    assert!(err(&one(
        r#"{"field": "x", "op": "==", "value": 1, "extra": 2}"#
    ))
    .contains("unknown condition member \"extra\""));
    assert!(err(&one(
        r#"{"agg": "median", "field": "x", "over_stage": "a", "op": "<", "value": 1}"#
    ))
    .contains("unknown agg"));
    assert!(err(&one(
        r#"{"field": "x", "op": "<", "value_from": {"stage": "nope", "field": "y"}}"#
    ))
    .contains("unknown stage \"nope\""));
    assert!(err(
        r#"{"stages": [{"name": "a"}], "skip": {"strategy": "skip_to_last", "stage": "q"}}"#
    )
    .contains("unknown stage \"q\""));
    assert!(
        err(r#"{"stages": [{"name": "a"}], "skip": {"strategy": "skip_sideways"}}"#)
            .contains("unknown skip strategy")
    );
    assert!(
        err(r#"{"stages": [{"name": "a"}, {"name": "b", "contiguity": "sideways"}]}"#)
            .contains("unknown variant")
    );
    assert!(err(r#"{"stages": [{"name": "a"}], "version": 2}"#).contains("unsupported version 2"));
    assert!(
        err(r#"{"stages": [{"name": "a"}, {"name": "b", "contiguity": "none"}]}"#)
            .contains("only for the first stage")
    );
    assert!(err(r#"{"stages": []}"#).contains("empty"));
    assert!(err(r#"{"stages": [{"name": "a"}], "stray": 1}"#).contains("unknown field"));
}

#[test]
fn json_round_trips_through_serde() {
    let text = r#"{"stages": [
        {"name": "a", "condition": {"and": [{"field": "t", "op": "==", "value": "a"}, {"not": {"field": "v", "op": ">", "value": 3}}]}},
        {"name": "b", "contiguity": "strict", "condition": {"agg": "count", "field": "t", "over_stage": "b", "include_current": false, "op": "<", "value": 2},
         "quantifier": {"min": 1, "max": null, "greedy": true, "until": {"field": "t", "op": "==", "value": "z"}}},
        {"name": "c", "contiguity": "relaxed"}],
      "within_ms": 5, "within_type": "previous_and_current", "skip": {"strategy": "skip_to_first", "stage": "b", "throw_on_miss": true}}"#;
    let doc: json::PatternJson = serde_json::from_str(text).expect("parses");
    let again: json::PatternJson =
        serde_json::from_str(&serde_json::to_string(&doc).expect("serializes")).expect("reparses");
    assert_eq!(
        serde_json::to_value(&doc).expect("value"),
        serde_json::to_value(&again).expect("value")
    );
    assert!(again
        .to_pattern::<DynEvent>()
        .expect("pattern")
        .compile()
        .is_ok());
}

#[test]
fn optional_first_stage_and_loop_at_the_end() {
    let p = Pattern::begin("a")
        .when(is("a"))
        .optional()
        .followed_by("b")
        .when(is("b"));
    assert_eq!(sorted(run(p, &evs("a b"))), strs(&["a:a b:b", "b:b"]));
    // a loop at the end emits each extension as soon as it is taken
    let nfa = Pattern::begin("a")
        .when(is("a"))
        .followed_by("b")
        .when(is("b"))
        .one_or_more()
        .compile()
        .expect("valid");
    let mut st = nfa.new_state();
    let mut per_event = Vec::new();
    for (e, ts) in evs("a b1 b2") {
        per_event.push(
            nfa.process(&mut st, e, ts)
                .expect("runs")
                .matches
                .iter()
                .map(staged)
                .collect::<Vec<_>>(),
        );
    }
    assert_eq!(
        per_event,
        vec![
            vec![],
            vec!["a:a b:b1".to_string()],
            vec!["a:a b:b1,b2".to_string()]
        ]
    );
}

#[test]
fn context_lists_all_taken_events() {
    let p = Pattern::begin("a")
        .when(is("a"))
        .next("b")
        .when(is("b"))
        .next("c")
        .when_iter(|e: &Ev, ctx| {
            let seen: Vec<String> = ctx
                .all_events()
                .iter()
                .map(|(s, x)| format!("{s}={}", x.label))
                .collect();
            kind(e) == "c" && seen == ["a=a", "b=b"] && ctx.timestamp() == 2
        });
    assert_eq!(run(p, &evs("a b c")), strs(&["a:a b:b c:c"]));
}

// ---- until (the cases of Flink's until-condition suite, as documented behaviour) ----

/// c, a(2), a(3), [a(4)], a(5) = the breaking event, then one more a.
fn until_input(with_third: bool, last: &str) -> Vec<(Ev, i64)> {
    let at = |l: &str, v: f64| Ev {
        label: l.into(),
        val: v,
    };
    let mut v = vec![at("c", 1.0), at("a1", 2.0), at("a2", 3.0)];
    if with_third {
        v.push(at("a3", 4.0));
    }
    v.push(at("brk", 5.0));
    v.push(at(last, 6.0));
    v.into_iter()
        .enumerate()
        .map(|(i, e)| (e, i as i64))
        .collect()
}

fn is_brk(e: &Ev) -> bool {
    e.val == 5.0
}

fn a_or_brk(e: &Ev) -> bool {
    kind(e) == "a" || kind(e) == "brk"
}

#[test]
fn until_then_a_stage_taking_the_breaking_event() {
    let p = |inner: Contiguity, optional: bool| {
        let p = Pattern::begin("start")
            .when(is("c"))
            .followed_by("middle")
            .when(a_or_brk)
            .one_or_more();
        let p = match inner {
            Contiguity::Strict => p.consecutive(),
            Contiguity::NonDeterministic => p.allow_combinations(),
            _ => p,
        };
        let p = if optional { p.optional() } else { p };
        p.until(is_brk).followed_by("end").when(is_brk)
    };
    let two = ["start:c middle:a1,a2 end:brk", "start:c middle:a1 end:brk"];
    assert_eq!(
        sorted(run(p(Contiguity::Relaxed, false), &until_input(false, "x"))),
        strs(&two)
    );
    assert_eq!(
        sorted(run(p(Contiguity::Strict, false), &until_input(false, "x"))),
        strs(&two)
    );
    assert_eq!(
        sorted(run(p(Contiguity::Relaxed, true), &until_input(false, "x"))),
        strs(&[two[0], two[1], "start:c end:brk"])
    );
    assert_eq!(
        sorted(run(
            p(Contiguity::NonDeterministic, false),
            &until_input(true, "x")
        )),
        strs(&[
            "start:c middle:a1,a2,a3 end:brk",
            "start:c middle:a1,a2 end:brk",
            "start:c middle:a1,a3 end:brk",
            "start:c middle:a1 end:brk"
        ])
    );
}

#[test]
fn until_blocks_the_first_iteration_too_but_not_its_wait() {
    let p = |optional: bool| {
        let p = Pattern::begin("start")
            .when(is("c"))
            .followed_by_any("middle")
            .when(a_or_brk)
            .one_or_more();
        let p = if optional { p.optional() } else { p };
        p.until(is_brk)
    };
    let want = [
        "start:c middle:a1,a2",
        "start:c middle:a1",
        "start:c middle:a2",
        "start:c middle:a4",
    ];
    assert_eq!(
        sorted(run(p(false), &until_input(false, "a4"))),
        strs(&want)
    );
    let mut with_empty = want.to_vec();
    with_empty.push("start:c");
    assert_eq!(
        sorted(run(p(true), &until_input(false, "a4"))),
        strs(&with_empty)
    );
}

#[test]
fn until_with_an_always_true_stage() {
    let p = Pattern::begin("start")
        .when(is("c"))
        .followed_by("middle")
        .one_or_more()
        .until(is_brk);
    let at = |l: &str, v: f64| Ev {
        label: l.into(),
        val: v,
    };
    let input: Vec<(Ev, i64)> = [
        at("c", 1.0),
        at("a1", 2.0),
        at("a2", 3.0),
        at("d", 1.0),
        at("brk", 5.0),
        at("a3", 6.0),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, e)| (e, i as i64))
    .collect();
    assert_eq!(
        sorted(run(p, &input)),
        strs(&[
            "start:c middle:a1,a2,d",
            "start:c middle:a1,a2",
            "start:c middle:a1"
        ])
    );
}

// ---- greedy (the cases of Flink's greedy suite, as documented behaviour) ----

fn greedy_a_star(until: bool) -> Pattern<Ev> {
    let p = Pattern::begin("start")
        .when(is("c"))
        .followed_by("middle")
        .when(is("a"))
        .one_or_more()
        .optional()
        .greedy();
    let p = if until {
        p.until(|e: &Ev| e.val > 3.0)
    } else {
        p
    };
    p.followed_by("end").when(is("d"))
}

fn priced(items: &[(&str, f64)]) -> Vec<(Ev, i64)> {
    items
        .iter()
        .enumerate()
        .map(|(i, (l, v))| {
            (
                Ev {
                    label: l.to_string(),
                    val: *v,
                },
                i as i64,
            )
        })
        .collect()
}

#[test]
fn greedy_zero_or_more_takes_everything_it_can() {
    let one = |input: &str| run(greedy_a_star(false), &evs(input));
    assert_eq!(
        one("c a1 a2 a3 d"),
        strs(&["start:c middle:a1,a2,a3 end:d"])
    );
    assert_eq!(
        one("c x a1 x a2 x a3 d"),
        strs(&["start:c middle:a1,a2,a3 end:d"])
    );
    assert_eq!(one("c a1 a2 x d"), strs(&["start:c middle:a1,a2 end:d"]));
    assert_eq!(one("c x d"), strs(&["start:c end:d"]));
}

#[test]
fn greedy_with_until() {
    let input = priced(&[
        ("c", 1.0),
        ("a1", 2.0),
        ("a2", 3.0),
        ("a3", 3.0),
        ("a4", 4.0),
        ("d", 3.0),
    ]);
    assert_eq!(
        run(greedy_a_star(true), &input),
        strs(&["start:c middle:a1,a2,a3 end:d"])
    );
    // an a the until condition stops cannot be taken, and the relaxed wait for the first a
    // ends at it: only the skip of the optional loop remains
    let input = priced(&[
        ("c", 1.0),
        ("a4", 4.0),
        ("a1", 2.0),
        ("a2", 3.0),
        ("a3", 3.0),
        ("d", 3.0),
    ]);
    assert_eq!(run(greedy_a_star(true), &input), strs(&["start:c end:d"]));
}

// ---- negation after a repeating stage (Flink's not-pattern suite, as documented behaviour) ----

#[test]
fn not_followed_by_after_times_also_holds_between_repetitions() {
    let p = || {
        Pattern::begin("start")
            .when(is("a"))
            .followed_by_any("middle")
            .when(is("b"))
            .times(2)
            .not_followed_by("not")
            .when(is("c"))
            .followed_by("end")
            .when(is("d"))
    };
    assert!(run(p(), &evs("a b1 c b2 d")).is_empty());
    assert!(run(p(), &evs("a d1 e b1 b2 c d2")).is_empty());
    assert_eq!(
        run(p(), &evs("a b1 b2 d")),
        strs(&["start:a middle:b1,b2 end:d"])
    );
}

#[test]
fn not_followed_by_before_optional_stages() {
    let p = Pattern::begin("start")
        .when(is("a"))
        .not_followed_by("not")
        .when(is("b"))
        .followed_by_any("middle")
        .when(is("c"))
        .optional()
        .followed_by("end")
        .when(is("d"));
    assert_eq!(
        run(p, &evs("a c1 b c2 d")),
        strs(&["start:a middle:c1 end:d"])
    );
    let p = Pattern::begin("start")
        .when(is("a"))
        .not_followed_by("not")
        .when(is("b"))
        .followed_by_any("middle")
        .when(is("c"))
        .times(2)
        .optional()
        .followed_by("end")
        .when(is("d"));
    assert_eq!(
        run(p, &evs("a c1 b c2 d")),
        strs(&["start:a middle:c1,c2 end:d"])
    );
}

#[test]
fn not_next_then_any() {
    let p = Pattern::begin("start")
        .when(is("a"))
        .not_next("not")
        .when(is("b"))
        .followed_by_any("middle")
        .when(is("c"))
        .followed_by("end")
        .when(is("d"));
    assert_eq!(
        sorted(run(p, &evs("a c1 b c2 d"))),
        strs(&["start:a middle:c1 end:d", "start:a middle:c2 end:d"])
    );
}

#[test]
fn partial_matches_share_their_prefix_in_the_buffer() {
    let nfa = Pattern::begin("a")
        .when(is("a"))
        .followed_by_any("b")
        .when(is("b"))
        .followed_by_any("c")
        .when(is("c"))
        .compile()
        .expect("valid");
    let mut st = nfa.new_state();
    for (e, ts) in evs("a b1 b2 b3") {
        nfa.process(&mut st, e, ts).expect("runs");
    }
    // partial matches {a}, {a b1}, {a b2}, {a b3}: four events, four nodes, "a" stored once
    assert_eq!(st.partial_matches(), 4);
    assert_eq!(
        (st.buffer().live_events(), st.buffer().live_nodes()),
        (4, 4)
    );
    let out = nfa
        .process(
            &mut st,
            Ev {
                label: "c".into(),
                val: 0.0,
            },
            9,
        )
        .expect("runs");
    assert_eq!(out.matches.len(), 3);
}
