//! Row pattern matching over one partition, as rows arrive: the [`Matcher`] steps a
//! [`Partition`] through the compiled PATTERN's NFA and emits [`MatchRow`]s.
//!
//! ## Semantics (Trino's, from SQL:2016)
//! Matching tries one starting row at a time. From a start it looks for the **first match in
//! preference order**: alternatives left to right, greedy quantifiers preferring more
//! iterations, reluctant ones fewer, exactly as a backtracking regex engine would, with a row
//! mapped to a variable only if the variable's DEFINE condition is true for it given the rows
//! mapped so far. Found a match: output it, then resume where AFTER MATCH SKIP says (past the
//! last row; the row after the start; the first or last row of a variable, which must exist
//! and not be the start). An empty match resumes at the next row. No match: the next row.
//!
//! ## Algorithm
//! A Pike VM over the Thompson NFA of [`super::pattern`]: the threads of the current attempt
//! are kept in preference order and stepped together, one row at a time, so each row is read
//! once per attempt and an attempt waits for rows instead of backtracking. When a thread
//! reaches the final state, the threads behind it (less preferred) are cut; the attempt is
//! decided when no thread is left. Two threads in the same NFA state at the same row have the
//! same future if the conditions read no labels of earlier rows, and the less preferred one
//! is dropped; when some DEFINE does read them (`B.x > A.x`, `count(A.*)`), only threads with
//! the same labels so far are merged. Labels live in a per-attempt arena of (label, parent)
//! nodes shared by the threads. `$` waits for the partition's end (a thread parked on it
//! dies when another row arrives); NEXT in DEFINE or MEASURES delays stepping a row until the
//! rows it reads have arrived.
//!
//! ## Memory
//! A partition keeps its rows from the current attempt's start (minus what PREV reaches
//! back) to the newest row; WITHIN (Flink SQL's bound on a match's duration) ends an attempt
//! once time passes its first row plus the bound, which bounds that span in time.
//!
//! ```
//! use eddy_cep::sql::{MatchRecognize, Scalar};
//! let q = MatchRecognize::parse(
//!     "MATCH_RECOGNIZE (MEASURES FIRST(A.x) AS lo, LAST(B.x) AS hi
//!      PATTERN (A B+) DEFINE B AS B.x > PREV(B.x))").unwrap();
//! let rows = [5i64, 1, 2, 3, 0, 4].map(|x| vec![Scalar::Int(x)]);
//! let out = q.run_to_end(rows.iter().map(|r| r.as_slice())).unwrap();
//! let m: Vec<_> = out.iter().map(|r| (r.match_number, r.measures.clone())).collect();
//! assert_eq!(m, [
//!     (Some(1), vec![Scalar::Int(1), Scalar::Int(3)]),
//!     (Some(2), vec![Scalar::Int(0), Scalar::Int(4)]),
//! ]);
//! ```

use std::collections::VecDeque;
use std::sync::Arc;

use compact_str::CompactString;
use regex_automata::nfa::thompson::State;
use regex_automata::util::look::Look;
use regex_automata::util::primitives::StateID;
use serde::{Deserialize, Serialize};

use super::expr::{eval, Frame, Labels, Rows};
use super::pattern::EXCLUDED;
use super::plan::{MatchRecognize, Skip};
use super::syntax::RowsPerMatch;
use super::value::Scalar;

const NONE: u32 = u32::MAX;

/// One output row.
///
/// ONE ROW PER MATCH fills `match_number`, `matched` and `measures`; ALL ROWS PER MATCH fills
/// `row` (`None` for an empty match), `match_number` and `classifier` (both `None` for an
/// unmatched row), and `measures` (all NULL for an unmatched row).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MatchRow<P> {
    /// The match's number in its partition, from 1.
    pub match_number: Option<u64>,
    /// ALL ROWS PER MATCH: the input row this output row is for.
    pub row: Option<P>,
    /// ALL ROWS PER MATCH: the variable the row is mapped to.
    pub classifier: Option<CompactString>,
    /// ONE ROW PER MATCH: the rows mapped to each variable (excluded rows too), variables in
    /// PATTERN order, those with no row left out.
    pub matched: Vec<(CompactString, Vec<P>)>,
    /// The MEASURES, in order.
    pub measures: Vec<Scalar>,
}

/// A failure while matching (an AFTER MATCH SKIP with nowhere to go).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct MatchError {
    /// What went wrong.
    pub message: String,
    /// The partition position of the first row of the match at fault.
    pub row: u64,
}

#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
struct Thread {
    state: u32,
    hist: u32,
}

/// The attempt in progress from one starting row.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Attempt {
    active: bool,
    start: u64,
    /// The next row to step.
    fed: u64,
    threads: Vec<Thread>,
    /// Label history: (transition byte, parent node).
    nodes: Vec<(u8, u32)>,
    /// The preferred match found so far: (history node, exclusive end row).
    best: Option<(u32, u64)>,
}

/// The matching state of one partition: its retained rows and the attempt in progress.
/// Serializable, so it can live in keyed state.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(bound(
    serialize = "P: Serialize",
    deserialize = "P: serde::de::DeserializeOwned"
))]
pub struct Partition<P> {
    payloads: VecDeque<P>,
    times: VecDeque<i64>,
    values: VecDeque<Scalar>,
    ncols: usize,
    /// Position of the first retained row.
    base: u64,
    /// Rows received.
    len: u64,
    ended: bool,
    attempt: Attempt,
    next_start: u64,
    matches: u64,
    /// Rows before this one lie in some match (not "unmatched").
    covered: u64,
}

impl<P> Partition<P> {
    /// An empty partition for rows of `query`.
    pub fn new(query: &MatchRecognize) -> Self {
        Partition {
            payloads: VecDeque::new(),
            times: VecDeque::new(),
            values: VecDeque::new(),
            ncols: query.columns.len(),
            base: 0,
            len: 0,
            ended: false,
            attempt: Attempt::default(),
            next_start: 0,
            matches: 0,
            covered: 0,
        }
    }

    /// Rows received so far.
    pub fn rows_seen(&self) -> u64 {
        self.len
    }

    /// Rows held in memory.
    pub fn retained(&self) -> usize {
        self.payloads.len()
    }

    /// True when no row is held and no attempt is in progress.
    pub fn is_idle(&self) -> bool {
        self.payloads.is_empty() && !self.attempt.active
    }

    /// The payload of row `pos`, if it is still held.
    pub fn payload(&self, pos: u64) -> Option<&P> {
        pos.checked_sub(self.base)
            .and_then(|i| self.payloads.get(i as usize))
    }

    /// When the current attempt expires under WITHIN, if it is waiting for rows.
    pub fn deadline(&self, query: &MatchRecognize) -> Option<i64> {
        let w = query.within?;
        if !self.attempt.active {
            return None;
        }
        self.time(self.attempt.start).map(|t| t.saturating_add(w))
    }

    fn time(&self, pos: u64) -> Option<i64> {
        pos.checked_sub(self.base)
            .and_then(|i| self.times.get(i as usize))
            .copied()
    }
}

impl<P> Rows for Partition<P> {
    fn value(&self, pos: u64, col: usize) -> Option<&Scalar> {
        let i = pos.checked_sub(self.base)?;
        if pos >= self.len {
            return None;
        }
        self.values.get(i as usize * self.ncols + col)
    }

    fn exists(&self, pos: u64) -> bool {
        pos < self.len
    }
}

/// Steps partitions through one compiled statement; holds scratch space reused across rows
/// and partitions. One per task: it is not shared.
pub struct Matcher {
    query: Arc<MatchRecognize>,
    /// Per NFA state: the stamp of the last closure or row that visited it.
    seen: Vec<u32>,
    stamp: u32,
    stack: Vec<u32>,
    labels: Vec<u8>,
    next: Vec<Thread>,
}

impl Matcher {
    /// A matcher for `query`.
    pub fn new(query: Arc<MatchRecognize>) -> Matcher {
        let n = query.nfa.states().len();
        Matcher {
            query,
            seen: vec![0; n],
            stamp: 0,
            stack: Vec::new(),
            labels: Vec::new(),
            next: Vec::new(),
        }
    }

    /// The statement this matcher runs.
    pub fn query(&self) -> &Arc<MatchRecognize> {
        &self.query
    }

    /// Appends a row (in ORDER BY order): its payload, its event time, and the values of
    /// [`MatchRecognize::columns`], in that order (missing ones are NULL).
    pub fn push<P>(
        &self,
        part: &mut Partition<P>,
        payload: P,
        ts: i64,
        values: impl IntoIterator<Item = Scalar>,
    ) {
        let before = part.values.len();
        part.values.extend(values.into_iter().take(part.ncols));
        part.values.resize(before + part.ncols, Scalar::Null);
        part.payloads.push_back(payload);
        part.times.push_back(ts);
        part.len += 1;
    }

    /// Matches as far as the rows received allow, appending output rows to `out`.
    /// `watermark` (event time reached, if known) lets WITHIN end an attempt without a row.
    ///
    /// # Errors
    /// An AFTER MATCH SKIP TO a variable with no row in the match, or to the match's start.
    pub fn advance<P: Clone>(
        &mut self,
        part: &mut Partition<P>,
        watermark: Option<i64>,
        out: &mut Vec<MatchRow<P>>,
    ) -> Result<(), MatchError> {
        let q = self.query.clone();
        loop {
            if !part.attempt.active {
                if part.next_start >= part.len {
                    break;
                }
                self.begin(&q, part);
            }
            while !part.attempt.threads.is_empty() {
                let p = part.attempt.fed;
                if p < part.len && (p + q.lookahead < part.len || part.ended) {
                    self.step(&q, part, p);
                } else if p >= part.len && part.ended {
                    self.finish(part);
                } else {
                    if p >= part.len {
                        if let (Some(d), Some(w)) = (part.deadline(&q), watermark) {
                            if w >= d {
                                self.expire(part);
                            }
                        }
                    }
                    break;
                }
            }
            if !part.attempt.threads.is_empty() {
                break;
            }
            self.decide(&q, part, out)?;
        }
        self.trim(&q, part);
        Ok(())
    }

    /// Ends the partition (no more rows), deciding every attempt, and appends what that
    /// outputs.
    ///
    /// # Errors
    /// As [`advance`](Self::advance).
    pub fn finish_partition<P: Clone>(
        &mut self,
        part: &mut Partition<P>,
        out: &mut Vec<MatchRow<P>>,
    ) -> Result<(), MatchError> {
        part.ended = true;
        self.advance(part, None, out)
    }

    fn next_stamp(&mut self) -> u32 {
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            self.seen.iter_mut().for_each(|s| *s = 0);
            self.stamp = 1;
        }
        self.stamp
    }

    fn begin<P>(&mut self, q: &MatchRecognize, part: &mut Partition<P>) {
        let a = &mut part.attempt;
        a.active = true;
        a.start = part.next_start;
        a.fed = a.start;
        a.threads.clear();
        a.nodes.clear();
        a.best = None;
        self.next.clear();
        self.next_stamp();
        let start = q.nfa.start_anchored().as_u32();
        let pos = part.attempt.start;
        self.closure(q, part, start, NONE, pos, false);
        std::mem::swap(&mut part.attempt.threads, &mut self.next);
    }

    /// Follows epsilon transitions from `state` at row position `pos` in preference order,
    /// adding the threads that wait for a row to `self.next`. Returns true if it reached the
    /// final state (the caller then cuts every less preferred thread).
    fn closure<P>(
        &mut self,
        q: &MatchRecognize,
        part: &mut Partition<P>,
        state: u32,
        hist: u32,
        pos: u64,
        at_end: bool,
    ) -> bool {
        if q.reads_history {
            // Only this closure's states are known to share its labels.
            self.next_stamp();
        }
        self.stack.clear();
        self.stack.push(state);
        while let Some(sid) = self.stack.pop() {
            if self.seen[sid as usize] == self.stamp {
                continue;
            }
            self.seen[sid as usize] = self.stamp;
            match q.nfa.state(StateID::new_unchecked(sid as usize)) {
                State::ByteRange { .. } => {
                    self.add(part, Thread { state: sid, hist }, q.reads_history)
                }
                State::Union { alternates } => {
                    self.stack
                        .extend(alternates.iter().rev().map(|s| s.as_u32()));
                }
                State::BinaryUnion { alt1, alt2 } => {
                    self.stack.push(alt2.as_u32());
                    self.stack.push(alt1.as_u32());
                }
                State::Capture { next, .. } => self.stack.push(next.as_u32()),
                State::Look { look, next } => match look {
                    Look::Start if pos == 0 => self.stack.push(next.as_u32()),
                    Look::End if at_end => self.stack.push(next.as_u32()),
                    Look::End if pos >= part.len => {
                        // Park until the partition ends or another row arrives.
                        self.add(part, Thread { state: sid, hist }, q.reads_history)
                    }
                    _ => {}
                },
                State::Match { .. } => {
                    part.attempt.best = Some((hist, pos));
                    return true;
                }
                _ => {}
            }
        }
        false
    }

    /// Adds a waiting thread unless an equivalent, more preferred one is there already.
    fn add<P>(&mut self, part: &Partition<P>, t: Thread, reads_history: bool) {
        if reads_history {
            let nodes = &part.attempt.nodes;
            let dup = self
                .next
                .iter()
                .any(|o| o.state == t.state && same_labels(nodes, o.hist, t.hist));
            if dup {
                return;
            }
        }
        self.next.push(t);
    }

    fn step<P>(&mut self, q: &MatchRecognize, part: &mut Partition<P>, p: u64) {
        let threads = std::mem::take(&mut part.attempt.threads);
        self.next.clear();
        if !q.reads_history {
            self.next_stamp();
        }
        let start = part.attempt.start;
        let expired = match (q.within, part.time(start), part.time(p)) {
            (Some(w), Some(t0), Some(t)) => t.saturating_sub(t0) >= w,
            _ => false,
        };
        for t in &threads {
            let State::ByteRange { trans } = q.nfa.state(StateID::new_unchecked(t.state as usize))
            else {
                continue; // parked on `$`: a row arrived, so not at the end
            };
            if expired {
                continue;
            }
            let byte = trans.start;
            let var = byte & !EXCLUDED;
            if let Some(cond) = &q.defines[var as usize] {
                let labels = if q.reads_history {
                    self.labels.clear();
                    collect_labels(&part.attempt.nodes, t.hist, &mut self.labels);
                    self.labels.push(byte);
                    Labels::All(&self.labels)
                } else {
                    Labels::Current(byte)
                };
                let frame = Frame {
                    start,
                    labels,
                    running_end: p + 1,
                    final_end: p + 1,
                    match_number: part.matches + 1,
                    names: &q.variables,
                };
                if eval(cond, &frame, part, None).truth() != Some(true) {
                    continue;
                }
            }
            let hist = part.attempt.nodes.len() as u32;
            part.attempt.nodes.push((byte, t.hist));
            if self.closure(q, part, trans.next.as_u32(), hist, p + 1, false) {
                break;
            }
        }
        part.attempt.fed = p + 1;
        let mut threads = threads;
        threads.clear();
        part.attempt.threads = std::mem::replace(&mut self.next, threads);
    }

    /// The partition ended: threads parked on `$` go on; threads waiting for a row die.
    fn finish<P>(&mut self, part: &mut Partition<P>) {
        let q = self.query.clone();
        let threads = std::mem::take(&mut part.attempt.threads);
        self.next.clear();
        self.next_stamp();
        let pos = part.len;
        for t in &threads {
            if let State::Look {
                look: Look::End,
                next,
            } = q.nfa.state(StateID::new_unchecked(t.state as usize))
            {
                if self.closure(&q, part, next.as_u32(), t.hist, pos, true) {
                    break;
                }
            }
        }
        self.next.clear();
        part.attempt.threads = threads;
        part.attempt.threads.clear();
    }

    /// WITHIN passed with no row: threads waiting for a row die; those parked on `$` wait on.
    fn expire<P>(&mut self, part: &mut Partition<P>) {
        let q = &self.query;
        part.attempt.threads.retain(|t| {
            matches!(
                q.nfa.state(StateID::new_unchecked(t.state as usize)),
                State::Look {
                    look: Look::End,
                    ..
                }
            )
        });
    }

    fn decide<P: Clone>(
        &mut self,
        q: &MatchRecognize,
        part: &mut Partition<P>,
        out: &mut Vec<MatchRow<P>>,
    ) -> Result<(), MatchError> {
        let start = part.attempt.start;
        part.attempt.active = false;
        let Some((hist, end)) = part.attempt.best else {
            if q.rows == RowsPerMatch::AllWithUnmatched && start >= part.covered {
                out.push(MatchRow {
                    match_number: None,
                    row: part.payload(start).cloned(),
                    classifier: None,
                    matched: Vec::new(),
                    measures: vec![Scalar::Null; q.measures.len()],
                });
            }
            part.next_start = start + 1;
            return Ok(());
        };
        self.labels.clear();
        collect_labels(&part.attempt.nodes, hist, &mut self.labels);
        part.matches += 1;
        let number = part.matches;
        let labels = std::mem::take(&mut self.labels);
        let measures_at = |part: &Partition<P>, current_end: u64| -> Vec<Scalar> {
            let frame = Frame {
                start,
                labels: Labels::All(&labels),
                running_end: current_end,
                final_end: end,
                match_number: number,
                names: &q.variables,
            };
            q.measures
                .iter()
                .map(|m| eval(m, &frame, part, None).into_owned())
                .collect()
        };
        match q.rows {
            RowsPerMatch::One => {
                let mut matched: Vec<(CompactString, Vec<P>)> = Vec::new();
                for (v, name) in q.variables.iter().enumerate() {
                    let rows: Vec<P> = labels
                        .iter()
                        .enumerate()
                        .filter(|(_, b)| (*b & !EXCLUDED) as usize == v)
                        .filter_map(|(i, _)| part.payload(start + i as u64).cloned())
                        .collect();
                    if !rows.is_empty() {
                        matched.push((name.clone(), rows));
                    }
                }
                out.push(MatchRow {
                    match_number: Some(number),
                    row: None,
                    classifier: None,
                    matched,
                    measures: measures_at(part, end),
                });
            }
            RowsPerMatch::AllOmitEmpty if end == start => {}
            _ if end == start => out.push(MatchRow {
                match_number: Some(number),
                row: None,
                classifier: None,
                matched: Vec::new(),
                measures: measures_at(part, end),
            }),
            _ => {
                for (i, b) in labels.iter().enumerate() {
                    if b & EXCLUDED != 0 {
                        continue;
                    }
                    let pos = start + i as u64;
                    out.push(MatchRow {
                        match_number: Some(number),
                        row: part.payload(pos).cloned(),
                        classifier: Some(q.variables[(b & !EXCLUDED) as usize].clone()),
                        matched: Vec::new(),
                        measures: measures_at(part, pos + 1),
                    });
                }
            }
        }
        if end == start {
            part.next_start = start + 1;
            self.labels = labels;
            return Ok(());
        }
        part.covered = part.covered.max(end);
        part.next_start = match &q.skip {
            Skip::PastLastRow => end,
            Skip::ToNextRow => start + 1,
            Skip::To { last, vars, name } => {
                let mut hits = labels
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| vars & (1u128 << (*b & !EXCLUDED)) != 0)
                    .map(|(i, _)| start + i as u64);
                let target = if *last { hits.next_back() } else { hits.next() };
                let which = if *last { "LAST" } else { "FIRST" };
                match target {
                    None => {
                        return Err(MatchError {
                            message: format!(
                                "AFTER MATCH SKIP TO {which} {name}: no row of match {number} is mapped to {name}"
                            ),
                            row: start,
                        })
                    }
                    Some(t) if t == start => {
                        return Err(MatchError {
                            message: format!(
                                "AFTER MATCH SKIP TO {which} {name}: would resume at the first row of match {number} (an endless loop)"
                            ),
                            row: start,
                        })
                    }
                    Some(t) => t,
                }
            }
        };
        self.labels = labels;
        Ok(())
    }

    /// Drops rows no attempt can read any more.
    fn trim<P>(&self, q: &MatchRecognize, part: &mut Partition<P>) {
        let from = if part.attempt.active {
            part.attempt.start
        } else {
            part.next_start
        };
        let keep = from.saturating_sub(q.lookback).min(part.len);
        if keep > part.base {
            let n = (keep - part.base) as usize;
            part.payloads.drain(..n);
            part.times.drain(..n);
            part.values.drain(..n * part.ncols);
            part.base = keep;
        }
    }
}

/// The labels from the first row of the attempt to `node`, in row order.
fn collect_labels(nodes: &[(u8, u32)], mut node: u32, out: &mut Vec<u8>) {
    let from = out.len();
    while node != NONE {
        let (b, parent) = nodes[node as usize];
        out.push(b);
        node = parent;
    }
    out[from..].reverse();
}

/// True if two histories map their rows to the same variables (exclusion aside).
fn same_labels(nodes: &[(u8, u32)], mut a: u32, mut b: u32) -> bool {
    loop {
        if a == b {
            return true;
        }
        if a == NONE || b == NONE {
            return false;
        }
        let (la, pa) = nodes[a as usize];
        let (lb, pb) = nodes[b as usize];
        if la & !EXCLUDED != lb & !EXCLUDED {
            return false;
        }
        a = pa;
        b = pb;
    }
}

impl MatchRecognize {
    /// Runs the statement over one whole partition in memory (payload = row index, time =
    /// row index): the reference path behind doc examples and tests.
    ///
    /// # Errors
    /// As [`Matcher::advance`].
    pub fn run_to_end<'a>(
        self,
        rows: impl IntoIterator<Item = &'a [Scalar]>,
    ) -> Result<Vec<MatchRow<usize>>, MatchError> {
        let q = Arc::new(self);
        let mut m = Matcher::new(q.clone());
        let mut part = Partition::new(&q);
        let mut out = Vec::new();
        for (i, r) in rows.into_iter().enumerate() {
            m.push(&mut part, i, i as i64, r.iter().cloned());
            m.advance(&mut part, Some(i as i64), &mut out)?;
        }
        m.finish_partition(&mut part, &mut out)?;
        Ok(out)
    }
}
