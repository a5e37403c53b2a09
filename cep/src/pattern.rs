//! The pattern builder, modelled on Flink CEP's `Pattern` API.
//!
//! ```
//! use eddy_cep::{Pattern, SkipStrategy};
//! // a small reading, then (skipping anything else) one or more large ones, within 10 s
//! let p = Pattern::<i64>::begin("small")
//!     .when(|x| *x < 10)
//!     .followed_by("large")
//!     .when(|x| *x > 100)
//!     .one_or_more()
//!     .consecutive()
//!     .within_ms(10_000)
//!     .skip(SkipStrategy::SkipPastLastEvent);
//! let nfa = p.compile().unwrap();
//! let mut state = nfa.new_state();
//! let mut out = Vec::new();
//! for (ts, x) in [(0, 5), (1, 7), (2, 500), (3, 900), (4, 1)].into_iter().enumerate() {
//!     let o = nfa.process(&mut state, x.1, ts as i64).unwrap();
//!     out.extend(o.matches);
//! }
//! out.extend(nfa.finish(&mut state).unwrap().matches);
//! assert_eq!(out.len(), 1);
//! assert_eq!(out[0].get("small"), Some(&[5][..]));
//! assert_eq!(out[0].get("large"), Some(&[500][..]));
//! ```

use std::time::Duration;

use crate::condition::{Cond, Context};
use crate::error::Result;
use crate::nfa::Nfa;

/// How a stage's first event relates to the previous stage's last event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Contiguity {
    /// First stage of a pattern or group.
    None,
    /// `next`: the very next event.
    Strict,
    /// `followed_by`: skip till next matching event.
    Relaxed,
    /// `followed_by_any`: skip till any matching event (non-deterministic).
    #[serde(rename = "nondeterministic")]
    NonDeterministic,
}

/// When a partial match expires.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WithinKind {
    /// The last event is less than the window after the first.
    FirstAndLast,
    /// Every event is less than the window after the previous one.
    PreviousAndCurrent,
}

/// What to do with other partial matches once a match is emitted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SkipStrategy {
    /// Emit every match.
    NoSkip,
    /// Drop partial matches that started with the match's first event.
    SkipToNext,
    /// Drop partial matches that started at or before the match's last event.
    SkipPastLastEvent,
    /// Drop partial matches that started before the match's first event of `stage`.
    SkipToFirst {
        /// The stage to skip to.
        stage: String,
        /// Fail instead of not skipping when the match has no event of `stage`.
        throw_on_miss: bool,
    },
    /// Drop partial matches that started before the match's last event of `stage`.
    SkipToLast {
        /// The stage to skip to.
        stage: String,
        /// Fail instead of not skipping when the match has no event of `stage`.
        throw_on_miss: bool,
    },
}

/// How many times a stage repeats, and how its repetitions are found.
pub struct Quantifier<E> {
    /// Fewest repetitions (at least 1; use `optional` for zero).
    pub min: u32,
    /// Most repetitions; `None` is unbounded.
    pub max: Option<u32>,
    /// Prefer more repetitions over leaving the loop.
    pub greedy: bool,
    /// Repetitions are strictly contiguous.
    pub consecutive: bool,
    /// Repetitions are found skip-till-any (all combinations).
    pub allow_combinations: bool,
    /// The stage may be absent.
    pub optional: bool,
    /// Stop looping at the first event satisfying this.
    pub until: Option<Cond<E>>,
}

impl<E> Default for Quantifier<E> {
    fn default() -> Self {
        Quantifier {
            min: 1,
            max: Some(1),
            greedy: false,
            consecutive: false,
            allow_combinations: false,
            optional: false,
            until: None,
        }
    }
}

impl<E> Clone for Quantifier<E> {
    fn clone(&self) -> Self {
        Quantifier {
            until: self.until.clone(),
            ..*self
        }
    }
}

impl<E> Quantifier<E> {
    pub(crate) fn looping(&self) -> bool {
        !matches!(self.max, Some(m) if m <= 1)
    }

    pub(crate) fn inner(&self) -> Contiguity {
        if self.consecutive {
            Contiguity::Strict
        } else if self.allow_combinations {
            Contiguity::NonDeterministic
        } else {
            Contiguity::Relaxed
        }
    }
}

/// What a stage matches: one event per repetition, or a nested group pattern.
pub enum StageKind<E> {
    /// One event satisfying the condition.
    Single(Cond<E>),
    /// A group of stages.
    Group(Vec<Stage<E>>),
}

/// One named stage of a pattern.
pub struct Stage<E> {
    /// The stage name (unique in the pattern).
    pub name: String,
    /// What it matches.
    pub kind: StageKind<E>,
    /// How it is reached from the previous stage.
    pub contiguity: Contiguity,
    /// `not_next` (strict) or `not_followed_by` (relaxed).
    pub negated: bool,
    /// Its repetitions.
    pub quantifier: Quantifier<E>,
}

/// A pattern: a sequence of stages, an optional window and a skip strategy.
pub struct Pattern<E> {
    /// A builder call that does not apply (reported by [`Pattern::compile`]).
    pub(crate) misuse: Option<String>,
    pub(crate) stages: Vec<Stage<E>>,
    pub(crate) within: Option<(i64, WithinKind)>,
    pub(crate) within_kind: WithinKind,
    pub(crate) skip: SkipStrategy,
}

impl<E> Pattern<E> {
    fn push(
        mut self,
        name: &str,
        kind: StageKind<E>,
        contiguity: Contiguity,
        negated: bool,
    ) -> Self {
        self.stages.push(Stage {
            name: name.to_string(),
            kind,
            contiguity,
            negated,
            quantifier: Quantifier::default(),
        });
        self
    }

    fn last(&mut self) -> &mut Stage<E> {
        self.stages
            .last_mut()
            .expect("a pattern always has a stage")
    }

    fn q(mut self, f: impl FnOnce(&mut Quantifier<E>)) -> Self {
        f(&mut self.last().quantifier);
        self
    }

    /// Starts a pattern with stage `name`.
    pub fn begin(name: &str) -> Self {
        Pattern {
            misuse: None,
            stages: Vec::new(),
            within: None,
            within_kind: WithinKind::FirstAndLast,
            skip: SkipStrategy::NoSkip,
        }
        .push(name, StageKind::Single(Cond::True), Contiguity::None, false)
    }

    /// Starts a pattern with a group.
    pub fn begin_group(name: &str, group: Pattern<E>) -> Self {
        Pattern {
            misuse: None,
            stages: Vec::new(),
            within: None,
            within_kind: WithinKind::FirstAndLast,
            skip: SkipStrategy::NoSkip,
        }
        .push(
            name,
            StageKind::Group(group.stages),
            Contiguity::None,
            false,
        )
    }

    /// Appends a stage whose first event must directly follow (strict contiguity).
    pub fn next(self, name: &str) -> Self {
        self.push(
            name,
            StageKind::Single(Cond::True),
            Contiguity::Strict,
            false,
        )
    }

    /// Appends a stage found by skipping non-matching events (relaxed contiguity).
    pub fn followed_by(self, name: &str) -> Self {
        self.push(
            name,
            StageKind::Single(Cond::True),
            Contiguity::Relaxed,
            false,
        )
    }

    /// Appends a stage found by skipping any events (non-deterministic relaxed contiguity).
    pub fn followed_by_any(self, name: &str) -> Self {
        self.push(
            name,
            StageKind::Single(Cond::True),
            Contiguity::NonDeterministic,
            false,
        )
    }

    /// Appends a negated stage: the next event must not satisfy its condition.
    pub fn not_next(self, name: &str) -> Self {
        self.push(
            name,
            StageKind::Single(Cond::True),
            Contiguity::Strict,
            true,
        )
    }

    /// Appends a negated stage: no event until the next stage (or, at the end of a pattern,
    /// within the window) may satisfy its condition.
    pub fn not_followed_by(self, name: &str) -> Self {
        self.push(
            name,
            StageKind::Single(Cond::True),
            Contiguity::Relaxed,
            true,
        )
    }

    /// Appends a group with strict contiguity.
    pub fn next_group(self, name: &str, group: Pattern<E>) -> Self {
        self.push(
            name,
            StageKind::Group(group.stages),
            Contiguity::Strict,
            false,
        )
    }

    /// Appends a group with relaxed contiguity.
    pub fn followed_by_group(self, name: &str, group: Pattern<E>) -> Self {
        self.push(
            name,
            StageKind::Group(group.stages),
            Contiguity::Relaxed,
            false,
        )
    }

    /// Appends a group with non-deterministic relaxed contiguity.
    pub fn followed_by_any_group(self, name: &str, group: Pattern<E>) -> Self {
        self.push(
            name,
            StageKind::Group(group.stages),
            Contiguity::NonDeterministic,
            false,
        )
    }

    /// ANDs a condition to the last stage (Flink's `where`).
    pub fn condition(mut self, c: Cond<E>) -> Self {
        match &mut self.last().kind {
            StageKind::Single(cur) => *cur = std::mem::replace(cur, Cond::True).and(c),
            StageKind::Group(_) => self.group_condition(),
        }
        self
    }

    fn group_condition(&mut self) {
        let name = self.last().name.clone();
        self.misuse.get_or_insert(format!(
            "stage {name:?} is a group: conditions belong to its stages"
        ));
    }

    /// ORs a condition to the last stage (Flink's `or`).
    pub fn or_condition(mut self, c: Cond<E>) -> Self {
        match &mut self.last().kind {
            StageKind::Single(cur) => {
                let old = std::mem::replace(cur, Cond::True);
                *cur = if matches!(old, Cond::True) {
                    c
                } else {
                    old.or(c)
                };
            }
            StageKind::Group(_) => self.group_condition(),
        }
        self
    }

    /// ANDs a simple predicate to the last stage.
    pub fn when(self, f: impl Fn(&E) -> bool + Send + Sync + 'static) -> Self {
        self.condition(Cond::simple(f))
    }

    /// ORs a simple predicate to the last stage.
    pub fn or_when(self, f: impl Fn(&E) -> bool + Send + Sync + 'static) -> Self {
        self.or_condition(Cond::simple(f))
    }

    /// ANDs an iterative predicate (one that sees the partial match) to the last stage.
    pub fn when_iter(
        self,
        f: impl for<'a> Fn(&E, &Context<'a, E>) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.condition(Cond::iterative(f))
    }

    /// The last stage repeats exactly `n` times.
    pub fn times(self, n: u32) -> Self {
        self.q(|q| {
            q.min = n;
            q.max = Some(n);
        })
    }

    /// The last stage repeats `n` to `m` times.
    pub fn times_range(self, n: u32, m: u32) -> Self {
        self.q(|q| {
            q.min = n;
            q.max = Some(m);
        })
    }

    /// The last stage repeats `n` or more times.
    pub fn times_or_more(self, n: u32) -> Self {
        self.q(|q| {
            q.min = n;
            q.max = None;
        })
    }

    /// The last stage repeats one or more times.
    pub fn one_or_more(self) -> Self {
        self.times_or_more(1)
    }

    /// The last stage may be absent.
    pub fn optional(self) -> Self {
        self.q(|q| q.optional = true)
    }

    /// The last stage's loop takes as many events as it can.
    pub fn greedy(self) -> Self {
        self.q(|q| q.greedy = true)
    }

    /// The last stage's repetitions are strictly contiguous.
    pub fn consecutive(self) -> Self {
        self.q(|q| q.consecutive = true)
    }

    /// The last stage's repetitions are found skip-till-any.
    pub fn allow_combinations(self) -> Self {
        self.q(|q| q.allow_combinations = true)
    }

    /// The last stage's loop stops at the first event satisfying `f`.
    pub fn until(self, f: impl Fn(&E) -> bool + Send + Sync + 'static) -> Self {
        self.until_cond(Cond::simple(f))
    }

    /// The last stage's loop stops at the first event satisfying `c`.
    pub fn until_cond(self, c: Cond<E>) -> Self {
        self.q(|q| q.until = Some(c))
    }

    /// Sets the last stage's whole quantifier.
    pub fn quantifier(mut self, q: Quantifier<E>) -> Self {
        self.last().quantifier = q;
        self
    }

    /// A match must complete within `d` (measured as set by [`Self::within_kind`]).
    pub fn within(self, d: Duration) -> Self {
        self.within_ms(d.as_millis().min(i64::MAX as u128) as i64)
    }

    /// A match must complete within `ms` milliseconds.
    pub fn within_ms(mut self, ms: i64) -> Self {
        self.within = Some((ms, self.within_kind));
        self
    }

    /// How the window is measured (first-to-last by default).
    pub fn within_kind(mut self, kind: WithinKind) -> Self {
        self.within_kind = kind;
        if let Some((ms, _)) = self.within {
            self.within = Some((ms, kind));
        }
        self
    }

    /// The after-match skip strategy (no-skip by default).
    pub fn skip(mut self, s: SkipStrategy) -> Self {
        self.skip = s;
        self
    }

    /// The stages, in order.
    pub fn stages(&self) -> &[Stage<E>] {
        &self.stages
    }

    /// Compiles the pattern to an NFA.
    ///
    /// # Errors
    /// [`crate::CepError::InvalidPattern`] when the pattern breaks a rule (see [`crate::nfa`]).
    pub fn compile(self) -> Result<Nfa<E>> {
        crate::compile::compile(self)
    }
}
