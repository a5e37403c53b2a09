//! Compares the NFA against a brute-force enumerator of all matches (every assignment of
//! events to stages checked against the declarative semantics of `eddy_cep::nfa`), then the
//! skip strategy applied to the sorted matches, on small random patterns and inputs covering
//! every contiguity, quantifier, negation, window kind and skip strategy.

use eddy_cep::{Contiguity, WithinKind};
use proptest::prelude::*;

mod common;

use common::*;

type Taken = Vec<(usize, usize, u32)>; // (pos, element, iteration from 1)

/// Whether the stage after greedy element `g` is free of the greedy rule: `g` was skipped
/// (the previous taken element `prev` is before it) at an event `f` its until condition holds for.
fn unbound(case: &Case, g: usize, prev: usize, f: usize) -> bool {
    prev < g
        && case.els[g]
            .until
            .is_some_and(|u| in_mask(u, case.events[f].0))
}

/// The mask of a not_followed_by directly after element `j`.
fn loop_guard(case: &Case, j: usize) -> Option<u8> {
    match case.els.get(j + 1) {
        Some(n) if n.neg && n.contig != Contiguity::Strict => match n.cond {
            C::In(m) => Some(m),
            C::Inc(_) => None,
        },
        _ => None,
    }
}

/// Whether greedy element `g` would take event `k` after `prefix`.
fn greedy_takes(case: &Case, g: usize, k: usize, prefix: &[(usize, usize, u32)]) -> bool {
    let el = &case.els[g];
    let v = case.events[k].0;
    eval(el.cond, g, v, prefix, &case.events) && !el.until.is_some_and(|u| in_mask(u, v))
}

/// The declarative check of one complete assignment; returns its end key when it is a match.
fn valid(case: &Case, t: &Taken) -> Option<usize> {
    let evs = &case.events;
    let n = evs.len();
    if t.is_empty() || !pairs_ok(case, t) {
        return None;
    }
    negations(case, t, n)
}

/// Conditions, contiguity, until, greedy and the window between consecutive taken events.
fn pairs_ok(case: &Case, t: &Taken) -> bool {
    pairs(case, t).is_some()
}

fn pairs(case: &Case, t: &Taken) -> Option<()> {
    let evs = &case.events;
    for (i, &(q, j, it)) in t.iter().enumerate() {
        let el = &case.els[j];
        let prefix = &t[..i];
        if !eval(el.cond, j, evs[q].0, prefix, evs) {
            return None;
        }
        if el.until.is_some_and(|u| in_mask(u, evs[q].0)) {
            return None;
        }
        // a match beginning with the stage after a skipped greedy one: the greedy rule holds
        // for its first event too (unless the greedy stage's until condition holds for it)
        if i == 0
            && it == 1
            && j > 0
            && case.els[j - 1].greedy
            && !case.els[j - 1].until.is_some_and(|u| in_mask(u, evs[q].0))
            && greedy_takes(case, j - 1, q, prefix)
        {
            return None;
        }
        // until ends the loop: later iterations do not wait across it
        let until = if it >= 2 { el.until } else { None };
        if i == 0 {
            continue;
        }
        let p = t[i - 1].0;
        let c = if it == 1 { el.contig } else { el.inner };
        let broken = match c {
            Contiguity::Strict => q != p + 1,
            Contiguity::Relaxed => (p + 1..q).any(|k| eval(el.cond, j, evs[k].0, prefix, evs)),
            _ => false,
        };
        if broken {
            return None;
        }
        if let Some(u) = until {
            if (p + 1..q).any(|k| in_mask(u, evs[k].0)) {
                return None;
            }
        }
        // a not_followed_by right after a repeating stage also holds between its repetitions
        if it >= 2 {
            if let Some(m) = loop_guard(case, j) {
                if (p + 1..=q).any(|k| in_mask(m, evs[k].0)) {
                    return None;
                }
            }
        }
        // greedy: the stage after a greedy one takes nothing and waits across nothing that
        // the greedy one would take
        if it == 1
            && j > 0
            && case.els[j - 1].greedy
            && !unbound(case, j - 1, t[i - 1].1, p + 1)
            && (p + 1..=q).any(|k| greedy_takes(case, j - 1, k, prefix))
        {
            return None;
        }
        // window
        if let Some((w, k)) = case.within {
            let from = match k {
                WithinKind::FirstAndLast => evs[t[0].0].1,
                WithinKind::PreviousAndCurrent => evs[p].1,
            };
            if evs[q].1 >= from + w {
                return None;
            }
        }
    }
    Some(())
}

/// The negation rules; returns the end key of the match.
fn negations(case: &Case, t: &Taken, n: usize) -> Option<usize> {
    let evs = &case.events;
    let mut end = t[t.len() - 1].0;
    for (m, el) in case.els.iter().enumerate() {
        if !el.neg {
            continue;
        }
        let C::In(mask) = el.cond else { unreachable!() };
        let p = t.iter().filter(|x| x.1 < m).map(|x| x.0).max()?;
        match t.iter().filter(|x| x.1 > m).map(|x| x.0).min() {
            Some(q) => {
                if el.contig == Contiguity::Strict {
                    if in_mask(mask, evs[p + 1].0) {
                        return None;
                    }
                } else if (p + 1..=q).any(|k| in_mask(mask, evs[k].0)) {
                    return None;
                }
            }
            None => {
                let (w, k) = case.within.expect("validated");
                let deadline = match k {
                    WithinKind::FirstAndLast => evs[t[0].0].1 + w,
                    WithinKind::PreviousAndCurrent => evs[p].1 + w,
                };
                if (p + 1..n).any(|k| evs[k].1 < deadline && in_mask(mask, evs[k].0)) {
                    return None;
                }
                end = (p + 1..n).find(|&k| evs[k].1 >= deadline).unwrap_or(n);
            }
        }
    }
    Some(end)
}

fn enumerate(case: &Case, j: usize, t: &mut Taken, out: &mut Vec<(usize, usize, Taken)>) {
    let n = case.events.len();
    if j == case.els.len() {
        if let Some(end) = valid(case, t) {
            out.push((t[0].0, end, t.clone()));
        }
        return;
    }
    let el = &case.els[j];
    if el.neg {
        enumerate(case, j + 1, t, out);
        return;
    }
    let mut counts: Vec<u32> = Vec::new();
    if el.optional || el.min == 0 {
        counts.push(0);
    }
    let max = el.max.unwrap_or(n as u32).min(n as u32);
    counts.extend(el.min.max(1)..=max);
    for r in counts {
        choose(case, j, r, 1, t, out);
    }
    let _ = n;
}

fn choose(
    case: &Case,
    j: usize,
    r: u32,
    it: u32,
    t: &mut Taken,
    out: &mut Vec<(usize, usize, Taken)>,
) {
    if it > r {
        enumerate(case, j + 1, t, out);
        return;
    }
    let from = t.last().map_or(0, |x| x.0 + 1);
    for q in from..case.events.len() {
        t.push((q, j, it));
        choose(case, j, r, it + 1, t, out);
        t.pop();
    }
}

fn reference(case: &Case) -> Vec<Vec<(String, usize)>> {
    let mut all = Vec::new();
    enumerate(case, 0, &mut Vec::new(), &mut all);
    let key =
        |x: &(usize, usize, Taken)| (x.0, x.1, x.2.iter().map(|t| (t.0, t.1)).collect::<Vec<_>>());
    all.sort_by_key(key);
    let mut kept = Vec::new();
    let mut i = 0;
    while i < all.len() {
        let (start, _, t) = all[i].clone();
        i += 1;
        kept.push(t.clone());
        let cut: Option<(usize, bool)> = match case.skip {
            0 => None,
            1 => Some((start, true)),
            2 => Some((t.last().expect("non-empty").0, true)),
            s => {
                let mut it = t.iter().filter(|x| x.1 == case.skip_stage).map(|x| x.0);
                let id = if s == 3 { it.next() } else { it.next_back() };
                id.map(|id| (id, false))
            }
        };
        if let Some((id, incl)) = cut {
            let rest: Vec<_> = all
                .drain(i..)
                .filter(|x| if incl { x.0 > id } else { x.0 >= id })
                .collect();
            all.extend(rest);
        }
    }
    kept.into_iter()
        .map(|t| t.into_iter().map(|(q, j, _)| (name(j), q)).collect())
        .collect()
}

/// A timed-out partial match: (timeout ts, (stage, position) in input order).
type Expired = (i64, Vec<(String, usize)>);

/// What may follow the last taken event (element, iteration): the next iteration, or the
/// first iteration of a later element (skipping optional ones, collecting negations), or the end.
#[derive(Clone, Debug)]
struct Next {
    elem: usize,
    iter: u32,
    not_next: Vec<u8>,
    not_follow: Vec<u8>,
    end: bool,
}

fn nexts(case: &Case, last: Option<(usize, u32)>) -> Vec<Next> {
    let els = &case.els;
    let mut out = Vec::new();
    let from = match last {
        None => 0,
        Some((j, t)) => {
            if els[j].max.is_none_or(|m| t < m) {
                out.push(Next {
                    elem: j,
                    iter: t + 1,
                    not_next: vec![],
                    not_follow: loop_guard(case, j).into_iter().collect(),
                    end: false,
                });
            }
            if t < els[j].min.max(1) {
                return out;
            }
            j + 1
        }
    };
    let (mut nn, mut nf) = (Vec::new(), Vec::new());
    for (k, el) in els.iter().enumerate().skip(from) {
        if el.neg {
            let C::In(m) = el.cond else { unreachable!() };
            if el.contig == Contiguity::Strict {
                nn.push(m);
            } else {
                nf.push(m);
            }
            continue;
        }
        out.push(Next {
            elem: k,
            iter: 1,
            not_next: nn.clone(),
            not_follow: nf.clone(),
            end: false,
        });
        if !(el.optional || el.min == 0) {
            return out;
        }
    }
    out.push(Next {
        elem: usize::MAX,
        iter: 0,
        not_next: nn,
        not_follow: nf,
        end: true,
    });
    out
}

fn prefixes(case: &Case, t: &mut Taken, out: &mut Vec<Taken>) {
    let last = t.last().map(|x| (x.1, x.2));
    let from = t.last().map_or(0, |x| x.0 + 1);
    for c in nexts(case, last) {
        if c.end {
            continue;
        }
        for q in from..case.events.len() {
            t.push((q, c.elem, c.iter));
            out.push(t.clone());
            prefixes(case, t, out);
            t.pop();
        }
    }
}

/// Negations between two taken events of the prefix.
fn inner_negations_ok(case: &Case, t: &Taken) -> bool {
    let evs = &case.events;
    case.els
        .iter()
        .enumerate()
        .filter(|(_, el)| el.neg)
        .all(|(m, el)| {
            let C::In(mask) = el.cond else { unreachable!() };
            let p = t.iter().filter(|x| x.1 < m).map(|x| x.0).max();
            let q = t.iter().filter(|x| x.1 > m).map(|x| x.0).min();
            match (p, q) {
                (Some(p), Some(q)) => {
                    if el.contig == Contiguity::Strict {
                        !in_mask(mask, evs[p + 1].0)
                    } else {
                        !(p + 1..=q).any(|k| in_mask(mask, evs[k].0))
                    }
                }
                _ => true,
            }
        })
}

/// Every partial match alive when time reaches its deadline, without a pending end.
fn reference_timeouts(case: &Case) -> Vec<Expired> {
    let evs = &case.events;
    let Some((w, kind)) = case.within else {
        return Vec::new();
    };
    let mut all = Vec::new();
    prefixes(case, &mut Vec::new(), &mut all);
    let mut out = Vec::new();
    for t in all {
        if !pairs_ok(case, &t) || !inner_negations_ok(case, &t) {
            continue;
        }
        let (p, j, it) = *t.last().expect("non-empty");
        let d = match kind {
            WithinKind::FirstAndLast => evs[t[0].0].1 + w,
            WithinKind::PreviousAndCurrent => evs[p].1 + w,
        };
        let later: Vec<usize> = (p + 1..evs.len()).take_while(|&k| evs[k].1 < d).collect();
        let mut pending = false;
        let mut waiting = false;
        for c in nexts(case, Some((j, it))) {
            let hit = |k: usize| c.not_follow.iter().any(|&m| in_mask(m, evs[k].0));
            if c.end {
                if !c.not_follow.is_empty() && !later.iter().any(|&k| hit(k)) {
                    pending = true;
                }
                continue;
            }
            if let Some(&f) = later.first() {
                if c.not_next.iter().any(|&m| in_mask(m, evs[f].0)) {
                    continue;
                }
            }
            let ce = &case.els[c.elem];
            let until = if c.iter >= 2 { ce.until } else { None };
            let contig = if c.iter == 1 { ce.contig } else { ce.inner };
            let after_greedy = c.iter == 1
                && c.elem > 0
                && case.els[c.elem - 1].greedy
                && !later
                    .first()
                    .is_some_and(|&f| unbound(case, c.elem - 1, j, f));
            let survives = later.iter().all(|&k| {
                let killed = hit(k)
                    || (after_greedy && greedy_takes(case, c.elem - 1, k, &t))
                    || until.is_some_and(|u| in_mask(u, evs[k].0));
                let may_wait = match contig {
                    Contiguity::Strict => false,
                    Contiguity::Relaxed => !eval(ce.cond, c.elem, evs[k].0, &t, evs),
                    _ => true,
                };
                !killed && may_wait
            });
            waiting |= survives;
        }
        if waiting && !pending {
            out.push((d, t.iter().map(|&(q, j, _)| (name(j), q)).collect()));
        }
    }
    out.sort();
    out
}

fn nfa_timeouts(case: &Case) -> Option<Vec<Expired>> {
    let nfa = build(case).compile().ok()?;
    let mut st = nfa.new_state();
    let mut out = Vec::new();
    let mut take = |o: eddy_cep::Output<Ev>| {
        for t in o.timeouts {
            let mut v: Vec<(String, usize)> = t
                .partial
                .stages
                .iter()
                .flat_map(|(s, es)| es.iter().map(move |e| (s.to_string(), e.pos)))
                .collect();
            v.sort_by_key(|x| x.1);
            out.push((t.timeout_ts, v));
        }
    };
    for (pos, &(v, ts)) in case.events.iter().enumerate() {
        take(nfa.process(&mut st, Ev { pos, v }, ts).expect("no throw"));
    }
    take(nfa.finish(&mut st).expect("no throw"));
    out.sort();
    Some(out)
}

fn run_nfa(case: &Case) -> Option<Vec<Vec<(String, usize)>>> {
    let nfa = build(case).compile().ok()?;
    let mut st = nfa.new_state();
    let mut out = Vec::new();
    for (pos, &(v, ts)) in case.events.iter().enumerate() {
        out.extend(
            nfa.process(&mut st, Ev { pos, v }, ts)
                .expect("no throw")
                .matches,
        );
    }
    out.extend(nfa.finish(&mut st).expect("no throw").matches);
    assert_eq!(st.buffer().live_nodes(), 0, "buffer not empty after finish");
    assert_eq!(
        st.buffer().live_events(),
        0,
        "events not freed after finish"
    );
    Some(
        out.into_iter()
            .map(|m| {
                let mut v: Vec<(String, usize)> = m
                    .stages
                    .iter()
                    .flat_map(|(s, es)| es.iter().map(move |e| (s.to_string(), e.pos)))
                    .collect();
                v.sort_by_key(|x| x.1);
                v
            })
            .collect(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 5000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn nfa_matches_brute_force(case in case()) {
        if let Some(got) = run_nfa(&case) {
            let mut want = reference(&case);
            let mut got = got;
            if case.skip == 0 {
                // no-skip emits in completion order; compare as multisets
                want.sort();
                got.sort();
            }
            prop_assert_eq!(got, want, "case {:?}", case);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, failure_persistence: None, ..ProptestConfig::default() })]

    /// Without a skip strategy (which prunes partial matches), the timed-out partial matches
    /// are exactly the valid prefixes still waiting when time reaches their deadline.
    #[test]
    fn timeouts_match_brute_force(case in case()) {
        let mut case = case;
        case.skip = 0;
        if case.within.is_none() {
            case.within = Some((3, WithinKind::FirstAndLast));
        }
        if let Some(got) = nfa_timeouts(&case) {
            prop_assert_eq!(got, reference_timeouts(&case), "case {:?}", case);
        }
    }
}

/// The generator must mostly produce patterns the compiler accepts, with matches, pruning
/// skip strategies and windows, or the property above is vacuous.
#[test]
fn generator_produces_valid_patterns() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut ok, mut matched, mut pruned, mut timed, mut timeouts) = (0, 0, 0, 0, 0);
    for _ in 0..1000 {
        let c = case().new_tree(&mut runner).expect("tree").current();
        if build(&c).compile().is_ok() {
            ok += 1;
            let got = run_nfa(&c).expect("compiles");
            matched += usize::from(!got.is_empty());
            if c.skip != 0 {
                let mut all = c.clone();
                all.skip = 0;
                pruned += usize::from(reference(&all).len() > got.len());
            }
            timed += usize::from(c.within.is_some() && !got.is_empty());
            timeouts +=
                usize::from(c.within.is_some() && !nfa_timeouts(&c).expect("compiles").is_empty());
        }
    }
    assert!(ok > 600, "only {ok} of 1000 generated patterns compile");
    assert!(matched > 250, "only {matched} of {ok} cases have a match");
    assert!(
        pruned > 50,
        "only {pruned} cases where a skip strategy drops a match"
    );
    assert!(timed > 50, "only {timed} cases with a window and a match");
    assert!(timeouts > 50, "only {timeouts} cases with a timeout");
    eprintln!("{ok} valid, {matched} with matches, {pruned} pruned, {timed} windowed, {timeouts} with timeouts");
}
