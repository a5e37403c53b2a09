//! The compiled pattern ([`Nfa`], immutable, shareable through an `Arc`) and the per-key
//! running state ([`NfaState`], serde-serializable so it can live in keyed state).
//!
//! # Semantics
//! A partial match sits after its last taken event `p`, at a take node of the compiled graph.
//! Its *candidates* are the take nodes reachable from there through optional stages, loop
//! exits and negated stages. On the first event after `p` every candidate is tried: a
//! candidate whose condition holds takes the event (a new partial match); a candidate may also
//! ignore the event and keep waiting, which its contiguity decides: strict never, relaxed
//! (skip-till-next) only events it would not take, non-deterministic (skip-till-any) any event.
//! Once a partial match waits for one candidate it is committed to it, as in Flink where an
//! ignore edge leads to a state without proceed edges. Hence, for a taken event `q` after `p`:
//! strict needs `q = p + 1`; relaxed needs no event strictly between `p` and `q` to satisfy the
//! target's condition; any has no constraint. Further rules:
//! - `greedy`: the stage after a greedy loop neither takes nor waits across an event the loop
//!   would take (so the loop is left only at an event it cannot take). An optional greedy
//!   stage skipped at an event its `until` condition holds for leaves the next stage free of
//!   this rule, as Flink does.
//! - `until(u)`: no repetition takes an event satisfying `u`, and repetitions after the first
//!   do not wait across one (the loop ends there); waiting for the first repetition goes on.
//! - `not_next(n)`: the event after `p` must not satisfy `n`; `not_followed_by(n)`: no event in
//!   `(p, q]` may satisfy `n`; at the end of a pattern, none before the window closes, and the
//!   match is emitted when time passes the window. After a repeating single stage, a
//!   `not_followed_by` also holds between its repetitions (as Flink's stop states do).
//! - `within(w)`: a partial match dies when time reaches `first ts + w` (or `previous ts + w`);
//!   that deadline is the timeout timestamp reported, once per partial match (however many
//!   of its branches were still waiting). Without `within` nothing times out. With a skip
//!   strategy, a partial match pruned before its deadline is not reported; since held matches
//!   are released (and prune) when time advances, which ones are pruned first can depend on
//!   the watermarks seen, while the matches emitted do not.
//! - Iterative conditions see the events already taken by the partial match, never the event
//!   being tested.
//! - Matches are ordered by first event, then last event. With a skip strategy other than
//!   no-skip, a match is held back while a partial match that started earlier is alive (it could
//!   still produce an earlier match), then emitted and the strategy prunes partial and held
//!   matches: skip-to-next and skip-past-last-event drop those that started at or before the
//!   match's first or last event, skip-to-first/last(stage) those that started before that
//!   stage's first or last event.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::buffer::{SharedBuffer, NONE};
use crate::condition::{Cond, Context};
use crate::error::{CepError, Result};
use crate::pattern::{Contiguity, WithinKind};

pub(crate) const FINAL: u32 = u32::MAX;
const FRESH: u32 = u32::MAX;
/// Flag in `Pm::cand`: the candidate waited for is not bound by the greedy rule.
const UNBOUND: u32 = 1 << 31;

#[derive(Clone, Debug)]
pub(crate) struct Cand {
    pub(crate) target: u32,
    pub(crate) not_next: Vec<u32>,
    pub(crate) not_follow: Vec<u32>,
    /// The path skips this optional greedy stage: skipped at an event its until condition
    /// holds for, the stage after it is not bound by the greedy rule.
    pub(crate) unbind: Option<u32>,
}

pub(crate) struct RtNode<E> {
    pub(crate) cond: Cond<E>,
    pub(crate) until: Option<Cond<E>>,
    /// An event satisfying `until` also ends the wait (loop iterations after the first).
    pub(crate) until_kills: bool,
    pub(crate) contig: Contiguity,
    pub(crate) stage: u16,
    /// This is the first take of the stage after a greedy one: index into `Nfa::greedy`.
    pub(crate) after_greedy: Option<u32>,
    pub(crate) cands: Vec<Cand>,
    /// Taking this node completes a match.
    pub(crate) emits: bool,
    /// A not_followed_by at the end of the pattern is reachable.
    pub(crate) pending: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Skip {
    Emit,
    ToNext,
    PastLast,
    To {
        stage: u16,
        first: bool,
        throw: bool,
    },
}

/// A compiled pattern. Immutable; share it between keys with an `Arc`.
pub struct Nfa<E> {
    pub(crate) nodes: Vec<RtNode<E>>,
    pub(crate) start: Vec<Cand>,
    pub(crate) guards: Vec<Cond<E>>,
    /// (condition, until) of each greedy stage.
    pub(crate) greedy: Vec<(Cond<E>, Option<Cond<E>>)>,
    pub(crate) names: Vec<Arc<str>>,
    pub(crate) within: Option<(i64, WithinKind)>,
    pub(crate) skip: Skip,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
struct Pm {
    node: u32,
    cand: u32,
    buf: u32,
    start_ts: i64,
    last_ts: i64,
    start_seq: u64,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
struct Done {
    buf: u32,
    start_seq: u64,
    end_seq: u64,
}

/// The running state of one key: partial matches, the shared buffer and held matches.
///
/// It refers to the nodes of the [`Nfa`] that created it and is only meaningful with that NFA.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(bound(
    serialize = "E: Serialize",
    deserialize = "E: serde::de::DeserializeOwned"
))]
pub struct NfaState<E> {
    buf: SharedBuffer<E>,
    pms: Vec<Pm>,
    done: Vec<Done>,
    next_seq: u64,
    time: i64,
    /// Scratch vector reused between events (always empty between calls).
    #[serde(skip)]
    spare: Vec<Pm>,
}

/// A match: for each stage that took events, in pattern order, its events in order.
#[derive(Clone, Debug, PartialEq)]
pub struct Match<E> {
    /// (stage name, events) in pattern order; stages without events are absent.
    pub stages: Vec<(Arc<str>, Vec<E>)>,
}

/// A match travels (between tasks, into checkpoints) as a list of (stage name, events).
impl<E: Serialize> Serialize for Match<E> {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        serializer.collect_seq(self.stages.iter().map(|(name, events)| (&**name, events)))
    }
}

impl<'de, E: Deserialize<'de>> Deserialize<'de> for Match<E> {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        let stages = Vec::<(String, Vec<E>)>::deserialize(deserializer)?;
        Ok(Match {
            stages: stages
                .into_iter()
                .map(|(name, events)| (Arc::from(name), events))
                .collect(),
        })
    }
}

impl<E> Match<E> {
    /// The events of `stage`, if it took any.
    pub fn get(&self, stage: &str) -> Option<&[E]> {
        self.stages
            .iter()
            .find(|(n, _)| &**n == stage)
            .map(|(_, v)| &v[..])
    }
}

/// A partial match that expired, with the time it expired at.
#[derive(Clone, Debug, PartialEq)]
pub struct Timeout<E> {
    /// The events taken so far.
    pub partial: Match<E>,
    /// First event ts + window (or previous event ts + window for previous-and-current).
    pub timeout_ts: i64,
}

/// What one step produced.
#[derive(Clone, Debug)]
pub struct Output<E> {
    /// Completed matches, in emission order.
    pub matches: Vec<Match<E>>,
    /// Expired partial matches.
    pub timeouts: Vec<Timeout<E>>,
}

impl<E> Default for Output<E> {
    fn default() -> Self {
        Output {
            matches: Vec::new(),
            timeouts: Vec::new(),
        }
    }
}

impl<E> Output<E> {
    /// Empties both lists, keeping their capacity.
    pub fn clear(&mut self) {
        self.matches.clear();
        self.timeouts.clear();
    }
}

impl<E> NfaState<E> {
    /// Number of live partial matches.
    pub fn partial_matches(&self) -> usize {
        self.pms.len()
    }

    /// Number of matches held back by the skip strategy.
    pub fn held_matches(&self) -> usize {
        self.done.len()
    }

    /// The shared buffer.
    pub fn buffer(&self) -> &SharedBuffer<E> {
        &self.buf
    }

    /// The current time (the largest time advanced to).
    pub fn time(&self) -> i64 {
        self.time
    }

    /// True when the state holds nothing (it can be dropped from keyed state).
    pub fn is_empty(&self) -> bool {
        self.pms.is_empty() && self.done.is_empty()
    }
}

impl<E: Clone> Nfa<E> {
    /// A fresh per-key state.
    pub fn new_state(&self) -> NfaState<E> {
        NfaState {
            buf: SharedBuffer::default(),
            pms: Vec::new(),
            done: Vec::new(),
            next_seq: 0,
            time: i64::MIN,
            spare: Vec::new(),
        }
    }

    /// The leaf stage names, in pattern order.
    pub fn stage_names(&self) -> &[Arc<str>] {
        &self.names
    }

    /// The earliest time at which [`Self::advance_time`] would change `state`, if any.
    pub fn next_deadline(&self, state: &NfaState<E>) -> Option<i64> {
        state.pms.iter().filter_map(|p| self.deadline(p)).min()
    }

    fn deadline(&self, p: &Pm) -> Option<i64> {
        self.within.map(|(w, k)| match k {
            WithinKind::FirstAndLast => p.start_ts.saturating_add(w),
            WithinKind::PreviousAndCurrent => p.last_ts.saturating_add(w),
        })
    }

    /// Advances time to `ts`, then processes `event` (event time `ts`).
    ///
    /// # Errors
    /// [`CepError::SkipStageMissing`] from a skip strategy with `throw_on_miss`.
    pub fn process(&self, state: &mut NfaState<E>, event: E, ts: i64) -> Result<Output<E>> {
        let mut out = Output::default();
        self.process_into(state, event, ts, &mut out)?;
        Ok(out)
    }

    /// Like [`Self::process`], appending to `out`.
    ///
    /// # Errors
    /// As [`Self::process`].
    pub fn process_into(
        &self,
        state: &mut NfaState<E>,
        event: E,
        ts: i64,
        out: &mut Output<E>,
    ) -> Result<()> {
        self.step_event(state, event, ts, true, out)
    }

    /// Like [`Self::process_into`], but `event` starts no new partial match: the partial
    /// matches already in `state` go on (a pattern being replaced finishes what it started).
    ///
    /// # Errors
    /// As [`Self::process`].
    pub fn continue_into(
        &self,
        state: &mut NfaState<E>,
        event: E,
        ts: i64,
        out: &mut Output<E>,
    ) -> Result<()> {
        self.step_event(state, event, ts, false, out)
    }

    fn step_event(
        &self,
        state: &mut NfaState<E>,
        event: E,
        ts: i64,
        starts: bool,
        out: &mut Output<E>,
    ) -> Result<()> {
        self.advance_time_into(state, ts, out)?;
        let seq = state.next_seq;
        state.next_seq += 1;
        let mut slot = NONE;
        let old = std::mem::take(&mut state.pms);
        let mut new = std::mem::take(&mut state.spare);
        new.reserve(old.len() + 1);
        let mut emitted = false;
        for pm in &old {
            emitted |= self.step(state, pm, &event, ts, seq, &mut slot, &mut new);
            state.buf.release(pm.buf);
        }
        // the start state: every event may begin a match
        let start: &[Cand] = if starts { &self.start } else { &[] };
        for c in start {
            let node = &self.nodes[c.target as usize];
            let ctx = Context {
                buf: &state.buf,
                node: NONE,
                names: &self.names,
                ts,
            };
            let bound = !c.unbind.is_some_and(|g| self.until_holds(g, &event, &ctx));
            if self.decide(&state.buf, NONE, c.target, &event, ts, bound).0 {
                if slot == NONE {
                    slot = state.buf.reserve_event(ts, seq);
                }
                let b = state.buf.push_node(slot, node.stage, NONE);
                let pm = Pm {
                    node: c.target,
                    cand: FRESH,
                    buf: b,
                    start_ts: ts,
                    last_ts: ts,
                    start_seq: seq,
                };
                if node.emits {
                    state.buf.retain(b);
                    state.done.push(Done {
                        buf: b,
                        start_seq: seq,
                        end_seq: seq,
                    });
                    emitted = true;
                }
                if node.cands.is_empty() && !node.pending {
                    state.buf.release(b);
                } else {
                    new.push(pm);
                }
            }
        }
        let mut old = old;
        old.clear();
        state.spare = old;
        state.pms = new;
        if slot != NONE {
            state.buf.fill(slot, event);
        }
        if emitted || !state.done.is_empty() {
            self.flush(state, out)?;
        }
        Ok(())
    }

    /// Whether the take node `target` takes `e` after the partial match ending at `at`, and
    /// whether a partial match waiting for it may wait across `e`.
    #[allow(clippy::too_many_arguments)]
    fn decide(
        &self,
        buf: &SharedBuffer<E>,
        at: u32,
        target: u32,
        e: &E,
        ts: i64,
        bound: bool,
    ) -> (bool, bool) {
        let node = &self.nodes[target as usize];
        let ctx = Context {
            buf,
            node: at,
            names: &self.names,
            ts,
        };
        if let Some(g) = node.after_greedy.filter(|_| bound) {
            // the stage after a greedy one neither takes nor waits across what the greedy one takes
            let (gc, gu) = &self.greedy[g as usize];
            if gc.eval(e, &ctx) && !gu.as_ref().is_some_and(|u| u.eval(e, &ctx)) {
                return (false, false);
            }
        }
        let cond = node.cond.eval(e, &ctx);
        let until = node.until.as_ref().is_some_and(|u| u.eval(e, &ctx));
        if until && node.until_kills {
            return (false, false);
        }
        let ignore = match node.contig {
            Contiguity::Strict | Contiguity::None => false,
            Contiguity::Relaxed => !cond,
            Contiguity::NonDeterministic => true,
        };
        (cond && !until, ignore)
    }

    /// Whether greedy stage `g`'s until condition holds for `e`.
    fn until_holds(&self, g: u32, e: &E, ctx: &Context<'_, E>) -> bool {
        self.greedy[g as usize]
            .1
            .as_ref()
            .is_some_and(|u| u.eval(e, ctx))
    }

    /// Steps one partial match over one event; returns whether a match completed.
    #[allow(clippy::too_many_arguments)]
    fn step(
        &self,
        state: &mut NfaState<E>,
        pm: &Pm,
        e: &E,
        ts: i64,
        seq: u64,
        slot: &mut u32,
        new: &mut Vec<Pm>,
    ) -> bool {
        let node = &self.nodes[pm.node as usize];
        let fresh = pm.cand == FRESH;
        let range = if fresh {
            0..node.cands.len()
        } else {
            let i = (pm.cand & !UNBOUND) as usize;
            i..i + 1
        };
        let mut emitted = false;
        for ci in range {
            let c = &node.cands[ci];
            let ctx = Context {
                buf: &state.buf,
                node: pm.buf,
                names: &self.names,
                ts,
            };
            if c.not_follow
                .iter()
                .any(|&g| self.guards[g as usize].eval(e, &ctx))
            {
                continue;
            }
            if c.target == FINAL {
                // a pending not_followed_by at the end: keep waiting for the window to close
                state.buf.retain(pm.buf);
                new.push(Pm {
                    cand: ci as u32,
                    ..*pm
                });
                continue;
            }
            if fresh
                && c.not_next
                    .iter()
                    .any(|&g| self.guards[g as usize].eval(e, &ctx))
            {
                continue;
            }
            let bound = if fresh {
                !c.unbind.is_some_and(|g| self.until_holds(g, e, &ctx))
            } else {
                pm.cand & UNBOUND == 0
            };
            let (take, ignore) = self.decide(&state.buf, pm.buf, c.target, e, ts, bound);
            let target = &self.nodes[c.target as usize];
            if take {
                if *slot == NONE {
                    *slot = state.buf.reserve_event(ts, seq);
                }
                let b = state.buf.push_node(*slot, target.stage, pm.buf);
                if target.emits {
                    state.buf.retain(b);
                    state.done.push(Done {
                        buf: b,
                        start_seq: pm.start_seq,
                        end_seq: seq,
                    });
                    emitted = true;
                }
                if target.cands.is_empty() && !target.pending {
                    state.buf.release(b);
                } else {
                    new.push(Pm {
                        node: c.target,
                        cand: FRESH,
                        buf: b,
                        start_ts: pm.start_ts,
                        last_ts: ts,
                        start_seq: pm.start_seq,
                    });
                }
            }
            if ignore {
                state.buf.retain(pm.buf);
                new.push(Pm {
                    cand: ci as u32 | if bound { 0 } else { UNBOUND },
                    ..*pm
                });
            }
        }
        emitted
    }

    /// Advances time to `ts`: partial matches whose window closed at or before `ts` time out,
    /// pending `not_followed_by` matches complete, held matches may be released.
    ///
    /// # Errors
    /// As [`Self::process`].
    pub fn advance_time(&self, state: &mut NfaState<E>, ts: i64) -> Result<Output<E>> {
        let mut out = Output::default();
        self.advance_time_into(state, ts, &mut out)?;
        Ok(out)
    }

    /// Like [`Self::advance_time`], appending to `out`.
    ///
    /// # Errors
    /// As [`Self::process`].
    pub fn advance_time_into(
        &self,
        state: &mut NfaState<E>,
        ts: i64,
        out: &mut Output<E>,
    ) -> Result<()> {
        if ts > state.time {
            state.time = ts;
        }
        if self.within.is_none() {
            return Ok(());
        }
        if !state
            .pms
            .iter()
            .any(|p| self.deadline(p).is_some_and(|d| d <= ts))
        {
            return Ok(());
        }
        let pms = std::mem::take(&mut state.pms);
        let mut keep = Vec::with_capacity(pms.len());
        let mut expired = Vec::new();
        for pm in pms {
            match self.deadline(&pm) {
                Some(d) if d <= ts => {
                    let node = &self.nodes[pm.node as usize];
                    let pending = if pm.cand == FRESH {
                        node.pending
                    } else {
                        node.cands[(pm.cand & !UNBOUND) as usize].target == FINAL
                    };
                    expired.push((pm, d, pending));
                }
                _ => keep.push(pm),
            }
        }
        state.pms = keep;
        // a partial match whose window closed with a pending not_followed_by at the end is a
        // match; otherwise it times out, reported once per distinct partial match
        let mut seen: Vec<u32> = Vec::new();
        let mut emitted = false;
        for &(pm, _, _) in expired.iter().filter(|x| x.2) {
            if !seen.contains(&pm.buf) {
                seen.push(pm.buf);
                state.buf.retain(pm.buf);
                state.done.push(Done {
                    buf: pm.buf,
                    start_seq: pm.start_seq,
                    end_seq: state.next_seq,
                });
                emitted = true;
            }
        }
        for &(pm, d, _) in expired.iter().filter(|x| !x.2) {
            if !seen.contains(&pm.buf) {
                seen.push(pm.buf);
                out.timeouts.push(Timeout {
                    partial: self.extract(&state.buf, pm.buf),
                    timeout_ts: d,
                });
            }
        }
        for (pm, _, _) in expired {
            state.buf.release(pm.buf);
        }
        if emitted || !state.done.is_empty() {
            self.flush(state, out)?;
        }
        Ok(())
    }

    /// End of input: time goes to the end of time, every partial match ends (timing out if the
    /// pattern has a window) and every held match is released.
    ///
    /// # Errors
    /// As [`Self::process`].
    pub fn finish(&self, state: &mut NfaState<E>) -> Result<Output<E>> {
        let mut out = Output::default();
        self.abandon_into(state, i64::MAX, &mut out)?;
        Ok(out)
    }

    /// Advances time to `ts`, then drops every partial match still alive (without reporting
    /// it as timed out) and releases the matches held by the skip strategy: what a replaced
    /// pattern's state gives when its partial matches are dropped at `ts`. Leaves `state`
    /// empty.
    ///
    /// # Errors
    /// As [`Self::process`].
    pub fn abandon_into(
        &self,
        state: &mut NfaState<E>,
        ts: i64,
        out: &mut Output<E>,
    ) -> Result<()> {
        self.advance_time_into(state, ts, out)?;
        for pm in std::mem::take(&mut state.pms) {
            state.buf.release(pm.buf);
        }
        self.flush(state, out)
    }

    fn extract(&self, buf: &SharedBuffer<E>, n: u32) -> Match<E> {
        let mut path = buf.path(n);
        // pattern order of stages, chronological within a stage (the sort is stable)
        path.sort_by_key(|(st, _)| *st);
        let mut stages: Vec<(Arc<str>, Vec<E>)> = Vec::new();
        let mut i = 0;
        while i < path.len() {
            let st = path[i].0;
            let run = path[i..].iter().take_while(|(s, _)| *s == st).count();
            let evs: Vec<E> = path[i..i + run]
                .iter()
                .filter_map(|&(_, slot)| buf.event(slot).cloned())
                .collect();
            stages.push((self.names[st as usize].clone(), evs));
            i += run;
        }
        Match { stages }
    }

    fn seqs(&self, buf: &SharedBuffer<E>, n: u32) -> Vec<(u64, u16)> {
        buf.path(n)
            .into_iter()
            .map(|(st, slot)| (buf.slot(slot).seq, st))
            .collect()
    }

    /// Emits held matches as the skip strategy allows.
    fn flush(&self, state: &mut NfaState<E>, out: &mut Output<E>) -> Result<()> {
        if state.done.len() > 1 {
            let mut done = std::mem::take(&mut state.done);
            done.sort_by_key(|d| (d.start_seq, d.end_seq));
            // ties on (first, last) event are ordered by their event sequence, computed once
            let mut i = 0;
            while i < done.len() {
                let mut j = i + 1;
                while j < done.len()
                    && (done[j].start_seq, done[j].end_seq) == (done[i].start_seq, done[i].end_seq)
                {
                    j += 1;
                }
                if j - i > 1 {
                    done[i..j].sort_by_cached_key(|d| self.seqs(&state.buf, d.buf));
                }
                i = j;
            }
            state.done = done;
        }
        if self.skip == Skip::Emit {
            for d in std::mem::take(&mut state.done) {
                out.matches.push(self.extract(&state.buf, d.buf));
                state.buf.release(d.buf);
            }
            return Ok(());
        }
        let mut i = 0;
        while i < state.done.len() {
            let d = state.done[i];
            let earliest_pm = state.pms.iter().map(|p| p.start_seq).min();
            if earliest_pm.is_some_and(|m| m <= d.start_seq) {
                break;
            }
            i += 1;
            out.matches.push(self.extract(&state.buf, d.buf));
            let seqs = self.seqs(&state.buf, d.buf);
            let prune: Option<(u64, bool)> = match self.skip {
                Skip::Emit => None,
                Skip::ToNext => Some((seqs[0].0, true)),
                Skip::PastLast => Some((seqs[seqs.len() - 1].0, true)),
                Skip::To {
                    stage,
                    first,
                    throw,
                } => {
                    let mut it = seqs.iter().filter(|(_, s)| *s == stage).map(|(q, _)| *q);
                    let id = if first { it.next() } else { it.next_back() };
                    match id {
                        Some(id) => Some((id, false)),
                        None if throw => {
                            state.buf.release(d.buf);
                            for d in state.done.drain(i..).collect::<Vec<_>>() {
                                state.buf.release(d.buf);
                            }
                            state.done.clear();
                            return Err(CepError::SkipStageMissing(
                                self.names[stage as usize].to_string(),
                            ));
                        }
                        None => None,
                    }
                }
            };
            state.buf.release(d.buf);
            if let Some((id, inclusive)) = prune {
                let dead = |s: u64| if inclusive { s <= id } else { s < id };
                let pms = std::mem::take(&mut state.pms);
                for pm in pms {
                    if dead(pm.start_seq) {
                        state.buf.release(pm.buf);
                    } else {
                        state.pms.push(pm);
                    }
                }
                let rest = state.done.split_off(i);
                for r in rest {
                    if dead(r.start_seq) {
                        state.buf.release(r.buf);
                    } else {
                        state.done.push(r);
                    }
                }
            }
        }
        state.done.drain(..i);
        Ok(())
    }
}
