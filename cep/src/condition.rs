//! Conditions on events: simple predicates, iterative predicates that see the events already
//! taken by the partial match, and their `and`/`or`/`not` combinations.

use std::fmt;
use std::sync::Arc;

use crate::buffer::{SharedBuffer, NONE};

/// A predicate on one event.
pub type SimpleFn<E> = dyn Fn(&E) -> bool + Send + Sync;
/// A predicate on one event that also sees the partial match it would extend.
pub type IterativeFn<E> = dyn for<'a> Fn(&E, &Context<'a, E>) -> bool + Send + Sync;

/// A condition a stage's events must satisfy.
///
/// ```
/// use eddy_cep::Cond;
/// let big = Cond::<i64>::simple(|x| *x > 10);
/// let even = Cond::<i64>::simple(|x| x % 2 == 0);
/// let _both = big.and(even);
/// ```
pub enum Cond<E> {
    /// Always true.
    True,
    /// A predicate on the event alone.
    Simple(Arc<SimpleFn<E>>),
    /// A predicate on the event and the partial match (Flink's `IterativeCondition`).
    Iterative(Arc<IterativeFn<E>>),
    /// All must hold.
    And(Vec<Cond<E>>),
    /// At least one must hold.
    Or(Vec<Cond<E>>),
    /// Must not hold.
    Not(Box<Cond<E>>),
}

impl<E> Clone for Cond<E> {
    fn clone(&self) -> Self {
        match self {
            Cond::True => Cond::True,
            Cond::Simple(f) => Cond::Simple(f.clone()),
            Cond::Iterative(f) => Cond::Iterative(f.clone()),
            Cond::And(v) => Cond::And(v.clone()),
            Cond::Or(v) => Cond::Or(v.clone()),
            Cond::Not(c) => Cond::Not(c.clone()),
        }
    }
}

impl<E> fmt::Debug for Cond<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cond::True => write!(f, "True"),
            Cond::Simple(_) => write!(f, "Simple(..)"),
            Cond::Iterative(_) => write!(f, "Iterative(..)"),
            Cond::And(v) => f.debug_tuple("And").field(v).finish(),
            Cond::Or(v) => f.debug_tuple("Or").field(v).finish(),
            Cond::Not(c) => f.debug_tuple("Not").field(c).finish(),
        }
    }
}

impl<E> Cond<E> {
    /// A condition from a predicate on the event.
    pub fn simple(f: impl Fn(&E) -> bool + Send + Sync + 'static) -> Self {
        Cond::Simple(Arc::new(f))
    }

    /// A condition from a predicate that also sees the partial match (see [`Context`]).
    pub fn iterative(
        f: impl for<'a> Fn(&E, &Context<'a, E>) -> bool + Send + Sync + 'static,
    ) -> Self {
        Cond::Iterative(Arc::new(f))
    }

    /// Both `self` and `other`.
    pub fn and(self, other: Cond<E>) -> Self {
        match (self, other) {
            (Cond::True, o) => o,
            (s, Cond::True) => s,
            (Cond::And(mut v), o) => {
                v.push(o);
                Cond::And(v)
            }
            (s, o) => Cond::And(vec![s, o]),
        }
    }

    /// Either `self` or `other`.
    pub fn or(self, other: Cond<E>) -> Self {
        match (self, other) {
            (Cond::True, _) | (_, Cond::True) => Cond::True,
            (Cond::Or(mut v), o) => {
                v.push(o);
                Cond::Or(v)
            }
            (s, o) => Cond::Or(vec![s, o]),
        }
    }

    /// The negation of `self`.
    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Self {
        Cond::Not(Box::new(self))
    }

    pub(crate) fn eval(&self, e: &E, ctx: &Context<'_, E>) -> bool {
        match self {
            Cond::True => true,
            Cond::Simple(f) => f(e),
            Cond::Iterative(f) => f(e, ctx),
            Cond::And(v) => v.iter().all(|c| c.eval(e, ctx)),
            Cond::Or(v) => v.iter().any(|c| c.eval(e, ctx)),
            Cond::Not(c) => !c.eval(e, ctx),
        }
    }
}

/// What an iterative condition sees: the events taken so far by the partial match that the
/// current event would extend (never the current event itself).
pub struct Context<'a, E> {
    pub(crate) buf: &'a SharedBuffer<E>,
    pub(crate) node: u32,
    pub(crate) names: &'a [Arc<str>],
    pub(crate) ts: i64,
}

impl<'a, E> Context<'a, E> {
    /// The events taken so far by stage `stage`, oldest first. Empty for an unknown stage.
    pub fn events(&self, stage: &str) -> Vec<&'a E> {
        let Some(id) = self.names.iter().position(|n| &**n == stage) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut n = self.node;
        while n != NONE {
            let node = self.buf.node(n);
            if node.stage as usize == id {
                if let Some(e) = self.buf.event(node.event) {
                    out.push(e);
                }
            }
            n = node.parent;
        }
        out.reverse();
        out
    }

    /// All events taken so far with their stage names, oldest first.
    pub fn all_events(&self) -> Vec<(&'a str, &'a E)> {
        let mut out = Vec::new();
        let mut n = self.node;
        while n != NONE {
            let node = self.buf.node(n);
            if let Some(e) = self.buf.event(node.event) {
                out.push((&*self.names[node.stage as usize], e));
            }
            n = node.parent;
        }
        out.reverse();
        out
    }

    /// The timestamp of the event being tested.
    pub fn timestamp(&self) -> i64 {
        self.ts
    }
}
