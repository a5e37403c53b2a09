//! DEFINE conditions and MEASURES, resolved and evaluated over a match in progress.
//!
//! Every column reference outside a navigation is a navigation: `A.price` is
//! `LAST(A.price)`, a bare `price` is `LAST(price)` over all rows of the match; so one
//! [`Nav`] node finds the row (logical `FIRST`/`LAST` over the rows of a variable, then a
//! physical `PREV`/`NEXT` step through the partition) and evaluates its inner expression on
//! it. **RUNNING** frames end at the current row, **FINAL** frames at the match's end; in
//! DEFINE everything is running and the current row is the one being classified. A row that
//! does not exist (before the partition, after its end, no row of the variable) gives NULL.
//!
//! ```
//! use eddy_cep::sql::{MatchRecognize, Scalar};
//! // Evaluation is internal; MEASURES show it through the matcher.
//! let q = MatchRecognize::parse(
//!     "MATCH_RECOGNIZE (MEASURES LAST(A.x, 1) AS prev_a, count(A.*) AS n, sum(x) AS total
//!      PATTERN (A+) DEFINE A AS x > 0)").unwrap();
//! let rows = [1i64, 2, 3].map(|x| vec![Scalar::Int(x)]);
//! let out = q.run_to_end(rows.iter().map(|r| r.as_slice())).unwrap();
//! assert_eq!(out[0].measures, [Scalar::Int(2), Scalar::Int(3), Scalar::Int(6)]);
//! ```

use std::borrow::Cow;
use std::cmp::Ordering;

use compact_str::CompactString;
use serde::{Deserialize, Serialize};

use super::pattern::EXCLUDED;
use super::value::{ArithOp, Scalar};

/// A set of pattern variables (bit i = variable i); `None` in a [`Nav`] or [`Agg`] means the
/// universal variable (every row of the match).
pub(crate) type VarMask = u128;

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// An aggregate function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum AggFunc {
    Count,
    Sum,
    Avg,
    Min,
    Max,
}

/// A scalar function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Func {
    Abs,
    Coalesce,
    Lower,
    Upper,
}

/// A resolved expression.
#[derive(Clone, Debug)]
pub(crate) enum Expr {
    Lit(Scalar),
    /// A column of the row in focus (only inside a navigation or aggregate).
    Col(usize),
    /// The variable of the row in focus (CLASSIFIER inside a navigation).
    LabelHere,
    MatchNumber,
    Nav(Box<Nav>),
    Agg(Box<Agg>),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Cmp(CmpOp, Box<Expr>, Box<Expr>),
    Arith(ArithOp, Box<Expr>, Box<Expr>),
    IsNull(Box<Expr>, bool),
    Case(Vec<(Expr, Expr)>, Box<Expr>),
    Func(Func, Vec<Expr>),
}

/// Find a row, then evaluate `inner` on it.
#[derive(Clone, Debug)]
pub(crate) struct Nav {
    pub(crate) var: Option<VarMask>,
    /// `LAST` (true) or `FIRST` (false), and how many rows of the variable to step over.
    pub(crate) last: bool,
    pub(crate) offset: u64,
    /// Physical rows to move after (negative: PREV).
    pub(crate) physical: i64,
    pub(crate) final_: bool,
    pub(crate) inner: Expr,
}

/// An aggregate over the rows of a variable in the frame.
#[derive(Clone, Debug)]
pub(crate) struct Agg {
    pub(crate) func: AggFunc,
    pub(crate) var: Option<VarMask>,
    /// `None` for `count(*)` / `count(A.*)`.
    pub(crate) arg: Option<Expr>,
    pub(crate) final_: bool,
}

/// Access to the partition's retained rows by absolute position.
pub(crate) trait Rows {
    /// Column `col` of row `pos`, if the row exists (and is retained).
    fn value(&self, pos: u64, col: usize) -> Option<&Scalar>;
    /// True if row `pos` exists in the partition (retained or known).
    fn exists(&self, pos: u64) -> bool;
}

/// What the evaluator knows of the labels of the match's rows.
#[derive(Clone, Copy)]
pub(crate) enum Labels<'a> {
    /// Labels (transition bytes) of rows `start..start + len`.
    All(&'a [u8]),
    /// Only the label of the current row (conditions that read no other label).
    Current(u8),
}

/// The match (or match in progress) an expression is evaluated over.
pub(crate) struct Frame<'a> {
    pub(crate) start: u64,
    pub(crate) labels: Labels<'a>,
    /// Exclusive end of a RUNNING frame (the current row + 1).
    pub(crate) running_end: u64,
    /// Exclusive end of the FINAL frame (the match's end).
    pub(crate) final_end: u64,
    pub(crate) match_number: u64,
    pub(crate) names: &'a [CompactString],
}

impl Frame<'_> {
    /// The variable index of row `pos`, if it is in the match and known.
    fn label(&self, pos: u64) -> Option<u8> {
        if pos < self.start || pos >= self.final_end {
            return None;
        }
        match self.labels {
            Labels::All(l) => l.get((pos - self.start) as usize).map(|b| b & !EXCLUDED),
            Labels::Current(b) => (pos + 1 == self.running_end).then_some(b & !EXCLUDED),
        }
    }

    fn in_var(&self, pos: u64, var: Option<VarMask>) -> bool {
        match var {
            None => true,
            Some(m) => self.label(pos).is_some_and(|l| m & (1u128 << l) != 0),
        }
    }

    /// The row a logical navigation lands on.
    fn logical(
        &self,
        nav_var: Option<VarMask>,
        last: bool,
        offset: u64,
        final_: bool,
    ) -> Option<u64> {
        let end = if final_ {
            self.final_end
        } else {
            self.running_end
        };
        if end <= self.start {
            return None;
        }
        if nav_var.is_none() {
            return if last {
                (end - 1).checked_sub(offset).filter(|p| *p >= self.start)
            } else {
                Some(self.start + offset).filter(|p| *p < end)
            };
        }
        let mut seen = 0;
        if last {
            let mut p = end;
            while p > self.start {
                p -= 1;
                if self.in_var(p, nav_var) {
                    if seen == offset {
                        return Some(p);
                    }
                    seen += 1;
                }
            }
        } else {
            for p in self.start..end {
                if self.in_var(p, nav_var) {
                    if seen == offset {
                        return Some(p);
                    }
                    seen += 1;
                }
            }
        }
        None
    }
}

const NULL: Scalar = Scalar::Null;

/// Evaluates `e` over `frame`; `focus` is the row `Col` and `LabelHere` read.
pub(crate) fn eval<'a, R: Rows + ?Sized>(
    e: &'a Expr,
    f: &Frame<'a>,
    rows: &'a R,
    focus: Option<u64>,
) -> Cow<'a, Scalar> {
    match e {
        Expr::Lit(v) => Cow::Borrowed(v),
        Expr::Col(c) => match focus.and_then(|p| rows.value(p, *c)) {
            Some(v) => Cow::Borrowed(v),
            None => Cow::Borrowed(&NULL),
        },
        Expr::LabelHere => match focus.and_then(|p| f.label(p)) {
            Some(l) => Cow::Owned(Scalar::Str(f.names[l as usize].clone())),
            None => Cow::Borrowed(&NULL),
        },
        Expr::MatchNumber => Cow::Owned(Scalar::Int(f.match_number as i64)),
        Expr::Nav(n) => {
            let Some(p) = f.logical(n.var, n.last, n.offset, n.final_) else {
                return Cow::Borrowed(&NULL);
            };
            let Some(p) = p.checked_add_signed(n.physical).filter(|p| rows.exists(*p)) else {
                return Cow::Borrowed(&NULL);
            };
            eval(&n.inner, f, rows, Some(p))
        }
        Expr::Agg(a) => Cow::Owned(aggregate(a, f, rows)),
        Expr::Not(x) => Cow::Owned(match eval(x, f, rows, focus).truth() {
            Some(b) => Scalar::Bool(!b),
            None => Scalar::Null,
        }),
        Expr::Neg(x) => Cow::Owned(match &*eval(x, f, rows, focus) {
            Scalar::Int(i) => i.checked_neg().map_or(Scalar::Null, Scalar::Int),
            Scalar::Float(v) => Scalar::Float(-v),
            _ => Scalar::Null,
        }),
        Expr::And(l, r) => {
            let a = eval(l, f, rows, focus).truth();
            if a == Some(false) {
                return Cow::Owned(Scalar::Bool(false));
            }
            let b = eval(r, f, rows, focus).truth();
            Cow::Owned(match (a, b) {
                (_, Some(false)) => Scalar::Bool(false),
                (Some(true), Some(true)) => Scalar::Bool(true),
                _ => Scalar::Null,
            })
        }
        Expr::Or(l, r) => {
            let a = eval(l, f, rows, focus).truth();
            if a == Some(true) {
                return Cow::Owned(Scalar::Bool(true));
            }
            let b = eval(r, f, rows, focus).truth();
            Cow::Owned(match (a, b) {
                (_, Some(true)) => Scalar::Bool(true),
                (Some(false), Some(false)) => Scalar::Bool(false),
                _ => Scalar::Null,
            })
        }
        Expr::Cmp(op, l, r) => {
            let a = eval(l, f, rows, focus);
            let b = eval(r, f, rows, focus);
            Cow::Owned(match a.sql_cmp(&b) {
                None => Scalar::Null,
                Some(o) => Scalar::Bool(match op {
                    CmpOp::Eq => o == Ordering::Equal,
                    CmpOp::Ne => o != Ordering::Equal,
                    CmpOp::Lt => o == Ordering::Less,
                    CmpOp::Le => o != Ordering::Greater,
                    CmpOp::Gt => o == Ordering::Greater,
                    CmpOp::Ge => o != Ordering::Less,
                }),
            })
        }
        Expr::Arith(op, l, r) => {
            let a = eval(l, f, rows, focus);
            let b = eval(r, f, rows, focus);
            Cow::Owned(a.arith(*op, &b))
        }
        Expr::IsNull(x, negated) => {
            Cow::Owned(Scalar::Bool(eval(x, f, rows, focus).is_null() != *negated))
        }
        Expr::Case(whens, other) => {
            for (c, v) in whens {
                if eval(c, f, rows, focus).truth() == Some(true) {
                    return eval(v, f, rows, focus);
                }
            }
            eval(other, f, rows, focus)
        }
        Expr::Func(func, args) => Cow::Owned(call(*func, args, f, rows, focus)),
    }
}

fn call<R: Rows + ?Sized>(
    func: Func,
    args: &[Expr],
    f: &Frame<'_>,
    rows: &R,
    focus: Option<u64>,
) -> Scalar {
    match func {
        Func::Abs => match &*eval(&args[0], f, rows, focus) {
            Scalar::Int(i) => i.checked_abs().map_or(Scalar::Null, Scalar::Int),
            Scalar::Float(v) => Scalar::Float(v.abs()),
            _ => Scalar::Null,
        },
        Func::Coalesce => args
            .iter()
            .map(|a| eval(a, f, rows, focus).into_owned())
            .find(|v| !v.is_null())
            .unwrap_or(Scalar::Null),
        Func::Lower | Func::Upper => match &*eval(&args[0], f, rows, focus) {
            Scalar::Str(s) if func == Func::Lower => Scalar::Str(s.to_lowercase()),
            Scalar::Str(s) => Scalar::Str(s.to_uppercase()),
            _ => Scalar::Null,
        },
    }
}

fn aggregate<R: Rows + ?Sized>(a: &Agg, f: &Frame<'_>, rows: &R) -> Scalar {
    let end = if a.final_ { f.final_end } else { f.running_end };
    let mut count = 0i64;
    let mut acc = Scalar::Null;
    let mut float_sum = 0.0f64;
    for p in f.start..end {
        if !f.in_var(p, a.var) {
            continue;
        }
        let Some(arg) = &a.arg else {
            count += 1;
            continue;
        };
        let v = eval(arg, f, rows, Some(p));
        if v.is_null() {
            continue;
        }
        count += 1;
        match a.func {
            AggFunc::Count => {}
            AggFunc::Sum | AggFunc::Avg => {
                if let Scalar::Float(x) = &*v {
                    float_sum += x;
                } else if let Scalar::Int(x) = &*v {
                    float_sum += *x as f64;
                }
                acc = if acc.is_null() {
                    v.into_owned()
                } else {
                    acc.arith(ArithOp::Add, &v)
                };
            }
            AggFunc::Min | AggFunc::Max => {
                let better = acc.is_null()
                    || match v.sql_cmp(&acc) {
                        Some(Ordering::Less) => a.func == AggFunc::Min,
                        Some(Ordering::Greater) => a.func == AggFunc::Max,
                        _ => false,
                    };
                if better {
                    acc = v.into_owned();
                }
            }
        }
    }
    match a.func {
        AggFunc::Count => Scalar::Int(count),
        AggFunc::Avg if count > 0 => Scalar::Float(float_sum / count as f64),
        AggFunc::Avg => Scalar::Null,
        _ => acc,
    }
}

/// True if `e`, as the DEFINE condition of variable `me`, may read labels of rows other than
/// the current one (so threads that reach the same state with different histories differ).
pub(crate) fn reads_history(e: &Expr, me: u8) -> bool {
    let own = Some(1u128 << me);
    match e {
        Expr::Lit(_) | Expr::Col(_) | Expr::MatchNumber => false,
        Expr::LabelHere => false,
        Expr::Nav(n) => {
            let here = n.last && n.offset == 0;
            let labels_elsewhere = contains_label(&n.inner) && !(here && n.physical == 0);
            match n.var {
                None => labels_elsewhere,
                Some(v) if Some(v) == own => !here || labels_elsewhere,
                Some(_) => true,
            }
        }
        Expr::Agg(a) => a.var.is_some() || a.arg.as_ref().is_some_and(contains_label),
        Expr::Not(x) | Expr::Neg(x) | Expr::IsNull(x, _) => reads_history(x, me),
        Expr::And(l, r) | Expr::Or(l, r) | Expr::Cmp(_, l, r) | Expr::Arith(_, l, r) => {
            reads_history(l, me) || reads_history(r, me)
        }
        Expr::Case(w, o) => {
            w.iter()
                .any(|(c, v)| reads_history(c, me) || reads_history(v, me))
                || reads_history(o, me)
        }
        Expr::Func(_, args) => args.iter().any(|a| reads_history(a, me)),
    }
}

fn contains_label(e: &Expr) -> bool {
    let mut found = false;
    visit(e, &mut |x| found |= matches!(x, Expr::LabelHere));
    found
}

/// Calls `f` on every node of `e`.
pub(crate) fn visit(e: &Expr, f: &mut dyn FnMut(&Expr)) {
    f(e);
    match e {
        Expr::Nav(n) => visit(&n.inner, f),
        Expr::Agg(a) => {
            if let Some(x) = &a.arg {
                visit(x, f)
            }
        }
        Expr::Not(x) | Expr::Neg(x) | Expr::IsNull(x, _) => visit(x, f),
        Expr::And(l, r) | Expr::Or(l, r) | Expr::Cmp(_, l, r) | Expr::Arith(_, l, r) => {
            visit(l, f);
            visit(r, f);
        }
        Expr::Case(w, o) => {
            for (c, v) in w {
                visit(c, f);
                visit(v, f);
            }
            visit(o, f);
        }
        Expr::Func(_, args) => args.iter().for_each(|a| visit(a, f)),
        _ => {}
    }
}

/// How far `e` looks before the frame's rows (PREV) and after the current row (NEXT and
/// FINAL frames are bounded by the match, whose rows are known when it is decided).
pub(crate) fn reach(e: &Expr) -> (u64, u64) {
    let (mut back, mut ahead) = (0u64, 0u64);
    visit(e, &mut |x| {
        if let Expr::Nav(n) = x {
            if n.physical < 0 {
                back = back.max(n.physical.unsigned_abs());
            } else {
                ahead = ahead.max(n.physical as u64);
            }
        }
    });
    (back, ahead)
}
