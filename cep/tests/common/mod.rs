//! Shared by the property tests: random small patterns (every contiguity, quantifier,
//! negation, window kind and skip strategy) over small random inputs, and the builder that
//! turns them into `Pattern`s.

#![allow(dead_code, unreachable_pub)]

use eddy_cep::{Cond, Contiguity, Pattern, SkipStrategy, WithinKind};
use proptest::prelude::*;

#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
pub struct Ev {
    pub pos: usize,
    pub v: u8,
}

#[derive(Clone, Copy, Debug)]
pub enum C {
    /// value in the mask
    In(u8),
    /// value in the mask and above the previous value taken by the same stage
    Inc(u8),
}

#[derive(Clone, Debug)]
pub struct El {
    pub neg: bool,
    pub cond: C,
    pub contig: Contiguity,
    pub min: u32,
    pub max: Option<u32>,
    pub optional: bool,
    pub inner: Contiguity,
    pub greedy: bool,
    pub until: Option<u8>,
}

#[derive(Clone, Debug)]
pub struct Case {
    pub els: Vec<El>,
    pub within: Option<(i64, WithinKind)>,
    pub skip: u8,
    pub skip_stage: usize,
    pub events: Vec<(u8, i64)>,
}

pub fn name(j: usize) -> String {
    format!("s{j}")
}

pub fn in_mask(m: u8, v: u8) -> bool {
    m & (1 << v) != 0
}

/// `prefix`: the (pos, element) pairs taken before the event tested.
pub fn eval(c: C, j: usize, v: u8, prefix: &[(usize, usize, u32)], evs: &[(u8, i64)]) -> bool {
    match c {
        C::In(m) => in_mask(m, v),
        C::Inc(m) => {
            in_mask(m, v)
                && prefix
                    .iter()
                    .rev()
                    .find(|t| t.1 == j)
                    .is_none_or(|t| v > evs[t.0].0)
        }
    }
}

pub fn to_cond(c: C, j: usize) -> Cond<Ev> {
    match c {
        C::In(m) => Cond::simple(move |e: &Ev| in_mask(m, e.v)),
        C::Inc(m) => {
            let me = name(j);
            Cond::iterative(move |e: &Ev, ctx| {
                in_mask(m, e.v) && ctx.events(&me).last().is_none_or(|p| e.v > p.v)
            })
        }
    }
}

pub fn build(case: &Case) -> Pattern<Ev> {
    let mut p: Option<Pattern<Ev>> = None;
    for (j, el) in case.els.iter().enumerate() {
        let n = name(j);
        let q = match p.take() {
            None => Pattern::begin(&n),
            Some(p) => match (el.neg, el.contig) {
                (true, Contiguity::Strict) => p.not_next(&n),
                (true, _) => p.not_followed_by(&n),
                (false, Contiguity::Strict) => p.next(&n),
                (false, Contiguity::Relaxed) => p.followed_by(&n),
                (false, _) => p.followed_by_any(&n),
            },
        };
        let mut q = q.condition(to_cond(el.cond, j));
        if !el.neg {
            q = match el.max {
                Some(m) => q.times_range(el.min, m),
                None => q.times_or_more(el.min),
            };
            if el.optional {
                q = q.optional();
            }
            if el.greedy {
                q = q.greedy();
            }
            q = match el.inner {
                Contiguity::Strict => q.consecutive(),
                Contiguity::NonDeterministic => q.allow_combinations(),
                _ => q,
            };
            if let Some(u) = el.until {
                q = q.until(move |e: &Ev| in_mask(u, e.v));
            }
        }
        p = Some(q);
    }
    let mut p = p.expect("stages");
    if let Some((w, k)) = case.within {
        p = p.within_kind(k).within_ms(w);
    }
    let st = name(case.skip_stage);
    p.skip(match case.skip {
        0 => SkipStrategy::NoSkip,
        1 => SkipStrategy::SkipToNext,
        2 => SkipStrategy::SkipPastLastEvent,
        3 => SkipStrategy::SkipToFirst {
            stage: st,
            throw_on_miss: false,
        },
        _ => SkipStrategy::SkipToLast {
            stage: st,
            throw_on_miss: false,
        },
    })
}

pub fn contig() -> impl Strategy<Value = Contiguity> {
    prop_oneof![
        Just(Contiguity::Strict),
        Just(Contiguity::Relaxed),
        Just(Contiguity::NonDeterministic)
    ]
}

pub fn cond() -> impl Strategy<Value = C> {
    prop_oneof![4 => (1u8..8).prop_map(C::In), 1 => (1u8..8).prop_map(C::Inc)]
}

pub fn element() -> impl Strategy<Value = El> {
    let quant = prop_oneof![
        3 => Just((1u32, Some(1u32))),
        1 => Just((2, Some(2))),
        1 => Just((1, Some(2))),
        1 => Just((2, Some(3))),
        2 => Just((1, None)),
        1 => Just((2, None)),
    ];
    (
        cond(),
        contig(),
        quant,
        any::<bool>(),
        contig(),
        0u8..4,
        proptest::option::weighted(0.2, 1u8..8),
    )
        .prop_map(|(cond, contig, (min, max), optional, inner, g, until)| {
            let looping = max.is_none_or(|m| m > 1);
            El {
                neg: false,
                cond,
                contig,
                min,
                max,
                optional,
                inner,
                greedy: looping && g == 0,
                until: if looping { until } else { None },
            }
        })
}

pub fn negation() -> impl Strategy<Value = El> {
    (1u8..8, any::<bool>()).prop_map(|(m, strict)| El {
        neg: true,
        cond: C::In(m),
        contig: if strict {
            Contiguity::Strict
        } else {
            Contiguity::Relaxed
        },
        min: 1,
        max: Some(1),
        optional: false,
        inner: Contiguity::Relaxed,
        greedy: false,
        until: None,
    })
}

pub fn case() -> impl Strategy<Value = Case> {
    let els = (
        prop::collection::vec(element(), 1..4),
        proptest::option::weighted(0.3, (1usize..3, negation())),
        any::<bool>(),
    )
        .prop_map(|(mut els, neg, neg_end)| {
            els[0].contig = Contiguity::None;
            if let Some((at, n)) = neg {
                // negations follow a mandatory stage (see the nfa docs)
                let at = if neg_end {
                    els.len()
                } else {
                    at.min(els.len())
                };
                if !els[at - 1].optional && at > 0 {
                    let mut n = n;
                    if at == els.len() {
                        n.contig = Contiguity::Relaxed;
                    }
                    els.insert(at, n);
                }
            }
            // greedy needs a following mandatory stage
            for j in 0..els.len() {
                let ok = els.get(j + 1).is_some_and(|n| !n.neg && !n.optional);
                if !ok {
                    els[j].greedy = false;
                }
            }
            els
        });
    let within = proptest::option::of((1i64..6, any::<bool>()).prop_map(|(w, prev)| {
        (
            w,
            if prev {
                WithinKind::PreviousAndCurrent
            } else {
                WithinKind::FirstAndLast
            },
        )
    }));
    let events = prop::collection::vec((0u8..3, 0i64..3), 0..8).prop_map(|v| {
        let mut ts = 0;
        v.into_iter()
            .map(|(x, d)| {
                ts += d;
                (x, ts)
            })
            .collect::<Vec<_>>()
    });
    (els, within, 0u8..5, 0usize..4, events).prop_map(|(els, within, skip, ss, events)| {
        let stages: Vec<usize> = (0..els.len()).filter(|&j| !els[j].neg).collect();
        Case {
            skip_stage: stages[ss % stages.len()],
            els,
            within,
            skip,
            events,
        }
    })
}
