//! Compilation of a [`Pattern`] to an [`Nfa`]: a Thompson-style graph of take, epsilon and
//! guard nodes, then per take node the list of candidate next takes reachable through
//! epsilon edges (its closure).

use std::sync::Arc;

use crate::condition::Cond;
use crate::error::{CepError, Result};
use crate::nfa::{Cand, Nfa, RtNode, Skip, FINAL};
use crate::pattern::{Contiguity, Pattern, SkipStrategy, Stage, StageKind};

enum G<E> {
    Take {
        stage: u16,
        cond: Cond<E>,
        until: Option<Cond<E>>,
        until_kills: bool,
        contig: Contiguity,
        after_greedy: Option<u32>,
        /// not_followed_by guard right after this repeating stage: it also ends the waits
        /// between repetitions.
        loop_guard: Option<u32>,
        next: Vec<usize>,
    },
    Eps {
        next: Vec<usize>,
    },
    Guard {
        strict: bool,
        cond: u32,
        next: Vec<usize>,
    },
    Final,
}

struct Builder<E> {
    g: Vec<G<E>>,
    names: Vec<Arc<str>>,
    guards: Vec<Cond<E>>,
    greedy: Vec<(Cond<E>, Option<Cond<E>>)>,
    /// Skip nodes of optional greedy stages: (epsilon node, greedy index).
    greedy_skips: Vec<(usize, u32)>,
}

fn bad<T>(msg: impl Into<String>) -> Result<T> {
    Err(CepError::InvalidPattern(msg.into()))
}

impl<E> Builder<E> {
    fn add(&mut self, n: G<E>) -> usize {
        self.g.push(n);
        self.g.len() - 1
    }

    fn stage_id(&self, name: &str) -> u16 {
        self.names
            .iter()
            .position(|n| &**n == name)
            .expect("stage registered") as u16
    }

    /// Builds `stages` so that they continue with `follow`; returns the entry node.
    /// `first` overrides the contiguity of the first stage.
    fn seq(&mut self, stages: &[Stage<E>], follow: usize, first: Contiguity) -> usize {
        let mut follow = follow;
        for (i, s) in stages.iter().enumerate().rev() {
            let contig = if i == 0 { first } else { s.contiguity };
            follow = self.stage(s, follow, contig);
        }
        follow
    }

    fn stage(&mut self, s: &Stage<E>, follow: usize, contig: Contiguity) -> usize {
        let q = &s.quantifier;
        let min = q.min.max(1);
        let skippable = q.optional || q.min == 0;
        let inner = q.inner();
        if s.negated {
            let StageKind::Single(c) = &s.kind else {
                unreachable!("validated")
            };
            self.guards.push(c.clone());
            let cond = (self.guards.len() - 1) as u32;
            return self.add(G::Guard {
                strict: contig == Contiguity::Strict,
                cond,
                next: vec![follow],
            });
        }
        let mut greedy_idx = None;
        let entry = match &s.kind {
            StageKind::Single(cond) => {
                let stage = self.stage_id(&s.name);
                if q.greedy {
                    // validated: the next stage is a mandatory single stage, so `follow` is its
                    // first take
                    self.greedy.push((cond.clone(), q.until.clone()));
                    let g = (self.greedy.len() - 1) as u32;
                    greedy_idx = Some(g);
                    if let G::Take { after_greedy, .. } = &mut self.g[follow] {
                        *after_greedy = Some(g);
                    }
                }
                let loop_guard = match &self.g[follow] {
                    G::Guard {
                        strict: false,
                        cond,
                        ..
                    } => Some(*cond),
                    _ => None,
                };
                let take = |b: &mut Self, k: u32, next: Vec<usize>| {
                    b.add(G::Take {
                        stage,
                        cond: cond.clone(),
                        until: q.until.clone(),
                        until_kills: k >= 2,
                        contig: if k == 1 { contig } else { inner },
                        after_greedy: None,
                        loop_guard,
                        next,
                    })
                };
                // copies 1..=n, built from the back
                let (n, mut after) = match q.max {
                    Some(m) => (m, None),
                    None => {
                        let l = take(self, 2, vec![]);
                        if let G::Take { next, .. } = &mut self.g[l] {
                            *next = vec![l, follow];
                        }
                        (min, Some(l))
                    }
                };
                for k in (1..=n).rev() {
                    let mut next = Vec::new();
                    if let Some(a) = after {
                        next.push(a);
                    }
                    if k >= min {
                        next.push(follow);
                    }
                    after = Some(take(self, k, next));
                }
                after.expect("at least one copy")
            }
            StageKind::Group(body) => {
                let (n, mut after) = match q.max {
                    Some(m) => (m, None),
                    None => {
                        let x = self.add(G::Eps { next: vec![] });
                        let e = self.seq(body, x, inner);
                        self.g[x] = G::Eps {
                            next: vec![e, follow],
                        };
                        (min, Some(x))
                    }
                };
                for k in (1..=n).rev() {
                    let f = match after {
                        None => follow,
                        Some(a) if k >= min && q.max.is_some() => self.add(G::Eps {
                            next: vec![a, follow],
                        }),
                        Some(a) => a,
                    };
                    let e = self.seq(body, f, if k == 1 { contig } else { inner });
                    after = Some(e);
                }
                after.expect("at least one copy")
            }
        };
        if skippable {
            let skip = self.add(G::Eps {
                next: vec![entry, follow],
            });
            if let Some(g) = greedy_idx {
                self.greedy_skips.push((skip, g));
            }
            skip
        } else {
            entry
        }
    }

    /// Candidates reachable from `next` through epsilon and guard nodes.
    fn closure(&self, next: &[usize]) -> Vec<Cand> {
        let mut out: Vec<Cand> = Vec::new();
        // (node, not_next guards, not_followed_by guards, nodes on this path, skipped greedy)
        type Walk = (usize, Vec<u32>, Vec<u32>, Vec<usize>, Option<u32>);
        let mut stack: Vec<Walk> = next
            .iter()
            .rev()
            .map(|&n| (n, vec![], vec![], vec![], None))
            .collect();
        while let Some((n, nn, nf, mut seen, unbind)) = stack.pop() {
            if seen.contains(&n) {
                continue;
            }
            seen.push(n);
            match &self.g[n] {
                G::Take { .. } => {
                    if !out.iter().any(|c| c.target == n as u32) {
                        out.push(Cand {
                            target: n as u32,
                            not_next: nn,
                            not_follow: nf,
                            unbind,
                        });
                    }
                }
                G::Final => {
                    if !out.iter().any(|c| c.target == FINAL && c.not_follow == nf) {
                        out.push(Cand {
                            target: FINAL,
                            not_next: nn,
                            not_follow: nf,
                            unbind: None,
                        });
                    }
                }
                G::Eps { next } => {
                    let skip_of = self.greedy_skips.iter().find(|x| x.0 == n).map(|x| x.1);
                    for (i, &m) in next.iter().enumerate().rev() {
                        // the second branch of a greedy stage's skip node skips it
                        let u = if i == 1 && skip_of.is_some() {
                            skip_of
                        } else {
                            unbind
                        };
                        stack.push((m, nn.clone(), nf.clone(), seen.clone(), u));
                    }
                }
                G::Guard { strict, cond, next } => {
                    let (mut a, mut b) = (nn.clone(), nf.clone());
                    if *strict {
                        a.push(*cond);
                    } else {
                        b.push(*cond);
                    }
                    for &m in next.iter().rev() {
                        stack.push((m, a.clone(), b.clone(), seen.clone(), unbind));
                    }
                }
            }
        }
        out
    }
}

fn collect_names<E>(
    stages: &[Stage<E>],
    names: &mut Vec<Arc<str>>,
    all: &mut Vec<String>,
) -> Result<()> {
    for s in stages {
        if s.name.is_empty() {
            return bad("a stage has an empty name");
        }
        if all.contains(&s.name) {
            return bad(format!("duplicate stage name {:?}", s.name));
        }
        all.push(s.name.clone());
        match &s.kind {
            StageKind::Single(_) => names.push(Arc::from(s.name.as_str())),
            StageKind::Group(b) => collect_names(b, names, all)?,
        }
    }
    Ok(())
}

fn mandatory<E>(s: &Stage<E>) -> bool {
    !s.negated && !s.quantifier.optional && s.quantifier.min >= 1
}

fn validate<E>(stages: &[Stage<E>], top: bool, has_window: bool) -> Result<()> {
    if stages.is_empty() {
        return bad("a pattern or group has no stages");
    }
    for (i, s) in stages.iter().enumerate() {
        let q = &s.quantifier;
        let who = format!("stage {:?}", s.name);
        if let Some(m) = q.max {
            if m == 0 || m < q.min {
                return bad(format!(
                    "{who}: quantifier max {m} is below min {} or zero",
                    q.min
                ));
            }
        }
        if q.consecutive && q.allow_combinations {
            return bad(format!(
                "{who}: consecutive and allow_combinations exclude each other"
            ));
        }
        if q.until.is_some() && !q.looping() {
            return bad(format!("{who}: until needs a looping quantifier"));
        }
        if s.negated {
            if i == 0 {
                return bad(format!(
                    "{who}: a pattern or group cannot begin with a negated stage"
                ));
            }
            if !matches!(s.kind, StageKind::Single(_)) {
                return bad(format!("{who}: a group cannot be negated"));
            }
            if q.min != 1 || q.max != Some(1) || q.optional || q.greedy || q.until.is_some() {
                return bad(format!("{who}: a negated stage takes no quantifier"));
            }
            // "at the end" also covers a negation followed only by stages that may be absent
            let at_end = !stages[i + 1..].iter().any(mandatory);
            match s.contiguity {
                Contiguity::Strict => {
                    if at_end {
                        return bad(format!("{who}: not_next cannot end a pattern or group"));
                    }
                }
                Contiguity::Relaxed => {
                    if at_end && !(top && has_window) {
                        return bad(format!(
                            "{who}: not_followed_by can end a pattern only with within"
                        ));
                    }
                }
                _ => {
                    return bad(format!(
                        "{who}: a negated stage needs strict or relaxed contiguity"
                    ))
                }
            }
        } else if i > 0 && s.contiguity == Contiguity::None {
            return bad(format!(
                "{who}: contiguity \"none\" is only for the first stage"
            ));
        }
        if q.greedy {
            if !q.looping() {
                return bad(format!("{who}: greedy needs a looping quantifier"));
            }
            if !matches!(s.kind, StageKind::Single(_)) {
                return bad(format!("{who}: greedy is not supported on groups"));
            }
            match stages.get(i + 1) {
                Some(n) if mandatory(n) && matches!(n.kind, StageKind::Single(_)) => {}
                _ => {
                    return bad(format!(
                        "{who}: a greedy stage must be followed by a mandatory single stage"
                    ))
                }
            }
        }
        if let StageKind::Group(b) = &s.kind {
            validate(b, false, has_window)?;
        }
    }
    Ok(())
}

pub(crate) fn compile<E>(p: Pattern<E>) -> Result<Nfa<E>> {
    if let Some(m) = p.misuse {
        return bad(m);
    }
    let mut names = Vec::new();
    collect_names(&p.stages, &mut names, &mut Vec::new())?;
    if names.len() > u16::MAX as usize {
        return bad("too many stages");
    }
    if let Some((w, _)) = p.within {
        if w <= 0 {
            return bad(format!("within must be positive, got {w} ms"));
        }
    }
    validate(&p.stages, true, p.within.is_some())?;
    let skip = match &p.skip {
        SkipStrategy::NoSkip => Skip::Emit,
        SkipStrategy::SkipToNext => Skip::ToNext,
        SkipStrategy::SkipPastLastEvent => Skip::PastLast,
        SkipStrategy::SkipToFirst {
            stage,
            throw_on_miss,
        }
        | SkipStrategy::SkipToLast {
            stage,
            throw_on_miss,
        } => {
            let Some(id) = names.iter().position(|n| &**n == stage.as_str()) else {
                return bad(format!("unknown stage {stage:?} in the skip strategy"));
            };
            let first = matches!(p.skip, SkipStrategy::SkipToFirst { .. });
            Skip::To {
                stage: id as u16,
                first,
                throw: *throw_on_miss,
            }
        }
    };
    let mut b = Builder {
        g: Vec::new(),
        names,
        guards: Vec::new(),
        greedy: Vec::new(),
        greedy_skips: Vec::new(),
    };
    let fin = b.add(G::Final);
    let entry = b.seq(&p.stages, fin, Contiguity::None);

    // number the take nodes
    let mut index = vec![u32::MAX; b.g.len()];
    let mut k = 0u32;
    for (i, n) in b.g.iter().enumerate() {
        if matches!(n, G::Take { .. }) {
            index[i] = k;
            k += 1;
        }
    }
    let remap = |mut cs: Vec<Cand>| {
        for c in &mut cs {
            if c.target != FINAL {
                c.target = index[c.target as usize];
            }
        }
        cs
    };
    let start = remap(b.closure(&[entry]));
    if start.iter().any(|c| c.target == FINAL) {
        return bad("the pattern can match without taking any event");
    }
    if start
        .iter()
        .any(|c| !c.not_next.is_empty() || !c.not_follow.is_empty())
    {
        return bad(
            "a negated stage needs a mandatory stage before it (only optional stages precede it)",
        );
    }
    let mut nodes = Vec::new();
    for n in &b.g {
        if let G::Take {
            stage,
            cond,
            until,
            until_kills,
            contig,
            after_greedy,
            loop_guard,
            next,
        } = n
        {
            let mut cands = b.closure(next);
            if let Some(g) = loop_guard {
                // the next repetitions of this stage: a take node directly after it
                for c in &mut cands {
                    let t = c.target as usize;
                    if c.target != FINAL && next.contains(&t) && matches!(b.g[t], G::Take { .. }) {
                        c.not_follow.push(*g);
                    }
                }
            }
            let cands = remap(cands);
            let emits = cands
                .iter()
                .any(|c| c.target == FINAL && c.not_follow.is_empty());
            let pending = cands
                .iter()
                .any(|c| c.target == FINAL && !c.not_follow.is_empty());
            let cands: Vec<Cand> = cands
                .into_iter()
                .filter(|c| !(c.target == FINAL && c.not_follow.is_empty()))
                .collect();
            nodes.push(RtNode {
                cond: cond.clone(),
                until: until.clone(),
                until_kills: *until_kills,
                contig: *contig,
                stage: *stage,
                after_greedy: *after_greedy,
                cands,
                emits,
                pending,
            });
        }
    }
    Ok(Nfa {
        nodes,
        start,
        guards: b.guards,
        greedy: b.greedy,
        names: b.names,
        within: p.within,
        skip,
    })
}
