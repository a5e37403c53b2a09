//! A parsed statement resolved into what the matcher runs: [`MatchRecognize`], with variables
//! numbered, subsets as variable sets, column names mapped to positions in a row, and every
//! DEFINE and MEASURES expression checked (unknown names, nested navigation, FINAL in DEFINE).
//!
//! ```
//! use eddy_cep::sql::{MatchRecognize, RowsPerMatch};
//! let q = MatchRecognize::parse(
//!     "MATCH_RECOGNIZE (PARTITION BY k ORDER BY ts MEASURES A.price AS p ALL ROWS PER MATCH
//!      PATTERN (A B*) DEFINE B AS price > PREV(price))").unwrap();
//! assert_eq!(q.columns(), ["price"]);
//! assert_eq!(q.order_by(), Some("ts"));
//! assert_eq!(q.rows_per_match(), RowsPerMatch::AllShowEmpty);
//! let err = MatchRecognize::parse("MATCH_RECOGNIZE (PATTERN (A) DEFINE A AS C.x > 0)").unwrap_err();
//! assert!(err.message.contains("unknown pattern variable C"), "{err}");
//! ```

use std::collections::HashMap;

use compact_str::CompactString;
use regex_automata::nfa::thompson::NFA;

use super::expr::{self, Agg, AggFunc, CmpOp, Expr, Func, Nav, VarMask};
use super::lexer::{self, Pos};
use super::pattern;
use super::syntax::{self, RowsPerMatch, SkipSyn, SynExpr, SynKind};
use super::value::ArithOp;
use super::SqlError;

/// Where matching resumes after a match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Skip {
    PastLastRow,
    ToNextRow,
    /// To the first (`false`) or last (`true`) row of the variables in the mask.
    To {
        last: bool,
        vars: VarMask,
        name: String,
    },
}

/// A compiled MATCH_RECOGNIZE statement: immutable, shared by every partition.
pub struct MatchRecognize {
    pub(crate) columns: Vec<String>,
    pub(crate) order_by: Option<String>,
    pub(crate) partition_by: Vec<String>,
    pub(crate) variables: Vec<CompactString>,
    pub(crate) nfa: NFA,
    /// DEFINE per variable (`None`: always true).
    pub(crate) defines: Vec<Option<Expr>>,
    /// True if some DEFINE reads labels of other rows of the match.
    pub(crate) reads_history: bool,
    pub(crate) measures: Vec<Expr>,
    pub(crate) measure_names: Vec<String>,
    pub(crate) rows: RowsPerMatch,
    pub(crate) skip: Skip,
    pub(crate) within: Option<i64>,
    /// Rows kept before a match's first row (PREV), and needed after the current one (NEXT).
    pub(crate) lookback: u64,
    pub(crate) lookahead: u64,
}

impl std::fmt::Debug for MatchRecognize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MatchRecognize")
            .field("variables", &self.variables)
            .field("columns", &self.columns)
            .field("measures", &self.measure_names)
            .finish_non_exhaustive()
    }
}

impl MatchRecognize {
    /// Parses and compiles a statement: `[SELECT * FROM t] MATCH_RECOGNIZE ( ... )`.
    ///
    /// # Errors
    /// A [`SqlError`] with the line and column of the first problem.
    pub fn parse(text: &str) -> Result<MatchRecognize, SqlError> {
        let st = syntax::parse(lexer::tokenize(text)?)?;
        plan(st)
    }

    /// The input columns rows must carry, in the order [`Matcher::push`](super::Matcher::push)
    /// expects their values: every column DEFINE and MEASURES read.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The ORDER BY column (the event time), if given.
    pub fn order_by(&self) -> Option<&str> {
        self.order_by.as_deref()
    }

    /// The PARTITION BY columns.
    pub fn partition_by(&self) -> &[String] {
        &self.partition_by
    }

    /// The pattern variables, in order of first appearance in PATTERN.
    pub fn variables(&self) -> Vec<&str> {
        self.variables.iter().map(|v| v.as_str()).collect()
    }

    /// The MEASURES names, in order.
    pub fn measure_names(&self) -> &[String] {
        &self.measure_names
    }

    /// ONE ROW PER MATCH or which ALL ROWS PER MATCH.
    pub fn rows_per_match(&self) -> RowsPerMatch {
        self.rows
    }

    /// The WITHIN bound in ms (Flink SQL's extension), if any.
    pub fn within_ms(&self) -> Option<i64> {
        self.within
    }
}

struct Resolver<'a> {
    vars: &'a [CompactString],
    subsets: &'a HashMap<String, VarMask>,
    columns: &'a mut Vec<String>,
    in_define: bool,
}

/// Inside a navigation or aggregate: the one qualifier its column references share.
struct Inner {
    qualifier: Option<Option<String>>,
    pos: Pos,
}

impl Resolver<'_> {
    fn mask(&self, name: &str, pos: Pos) -> Result<VarMask, SqlError> {
        if let Some(i) = self.vars.iter().position(|v| v == name) {
            return Ok(1u128 << i);
        }
        self.subsets
            .get(name)
            .copied()
            .ok_or_else(|| pos.error(format!("unknown pattern variable {name}")))
    }

    fn column(&mut self, name: &str) -> usize {
        match self.columns.iter().position(|c| c == name) {
            Some(i) => i,
            None => {
                self.columns.push(name.to_string());
                self.columns.len() - 1
            }
        }
    }

    fn qualifier(&self, q: &Option<Option<String>>, pos: Pos) -> Result<Option<VarMask>, SqlError> {
        match q {
            Some(Some(name)) => Ok(Some(self.mask(name, pos)?)),
            _ => Ok(None),
        }
    }

    fn resolve(&mut self, e: &SynExpr, mut inner: Option<&mut Inner>) -> Result<Expr, SqlError> {
        let pos = e.pos;
        Ok(match &e.kind {
            SynKind::Lit(v) => Expr::Lit(v.clone()),
            SynKind::Column(q, c) => {
                let col = Expr::Col(self.column(c));
                match inner {
                    Some(inner) => {
                        note_qualifier(inner, q.clone(), pos)?;
                        col
                    }
                    None => {
                        let var = match q {
                            Some(name) => Some(self.mask(name, pos)?),
                            None => None,
                        };
                        Expr::Nav(Box::new(Nav {
                            var,
                            last: true,
                            offset: 0,
                            physical: 0,
                            final_: false,
                            inner: col,
                        }))
                    }
                }
            }
            SynKind::Star(_) => {
                return Err(pos.error("* is only allowed as the argument of count()"))
            }
            SynKind::Unary(op, x) => {
                let x = Box::new(self.resolve(x, inner)?);
                if *op == "NOT" {
                    Expr::Not(x)
                } else {
                    Expr::Neg(x)
                }
            }
            SynKind::Binary(op, l, r) => {
                let l = Box::new(self.resolve(l, inner.as_deref_mut())?);
                let r = Box::new(self.resolve(r, inner)?);
                match *op {
                    "AND" => Expr::And(l, r),
                    "OR" => Expr::Or(l, r),
                    "=" => Expr::Cmp(CmpOp::Eq, l, r),
                    "<>" => Expr::Cmp(CmpOp::Ne, l, r),
                    "<" => Expr::Cmp(CmpOp::Lt, l, r),
                    "<=" => Expr::Cmp(CmpOp::Le, l, r),
                    ">" => Expr::Cmp(CmpOp::Gt, l, r),
                    ">=" => Expr::Cmp(CmpOp::Ge, l, r),
                    "+" => Expr::Arith(ArithOp::Add, l, r),
                    "-" => Expr::Arith(ArithOp::Sub, l, r),
                    "*" => Expr::Arith(ArithOp::Mul, l, r),
                    "/" => Expr::Arith(ArithOp::Div, l, r),
                    "%" => Expr::Arith(ArithOp::Rem, l, r),
                    "||" => Expr::Arith(ArithOp::Concat, l, r),
                    other => return Err(pos.error(format!("unknown operator {other}"))),
                }
            }
            SynKind::IsNull(x, negated) => {
                Expr::IsNull(Box::new(self.resolve(x, inner)?), *negated)
            }
            SynKind::Case(whens, other) => {
                let mut out = Vec::new();
                for (c, v) in whens {
                    let c = self.resolve(c, inner.as_deref_mut())?;
                    let v = self.resolve(v, inner.as_deref_mut())?;
                    out.push((c, v));
                }
                let other = match other {
                    Some(o) => self.resolve(o, inner)?,
                    None => Expr::Lit(super::Scalar::Null),
                };
                Expr::Case(out, Box::new(other))
            }
            SynKind::Call {
                name,
                semantics,
                args,
            } => self.call(name, *semantics, args, pos, inner)?,
        })
    }

    fn call(
        &mut self,
        name: &str,
        semantics: Option<bool>,
        args: &[SynExpr],
        pos: Pos,
        inner: Option<&mut Inner>,
    ) -> Result<Expr, SqlError> {
        let final_ = semantics == Some(true);
        if final_ && self.in_define {
            return Err(pos.error("FINAL is not allowed in DEFINE"));
        }
        let navigation = matches!(name, "PREV" | "NEXT" | "FIRST" | "LAST");
        let aggregate = matches!(name, "COUNT" | "SUM" | "AVG" | "MIN" | "MAX");
        if semantics.is_some() && !navigation && !aggregate {
            return Err(pos.error(format!("RUNNING/FINAL cannot apply to {name}")));
        }
        if (navigation || aggregate) && inner.is_some() {
            return Err(pos.error(format!(
                "{name} cannot be nested in another navigation or aggregate (only PREV/NEXT over FIRST/LAST)"
            )));
        }
        let arity = |min: usize, max: usize| {
            if args.len() < min || args.len() > max {
                Err(pos.error(format!(
                    "{name} takes {min} to {max} arguments, got {}",
                    args.len()
                )))
            } else {
                Ok(())
            }
        };
        match name {
            "PREV" | "NEXT" | "FIRST" | "LAST" => {
                arity(1, 2)?;
                let offset = match args.get(1) {
                    None => i64::from(matches!(name, "PREV" | "NEXT")),
                    Some(SynExpr {
                        kind: SynKind::Lit(super::Scalar::Int(n)),
                        ..
                    }) if *n >= 0 => *n,
                    Some(a) => {
                        return Err(a.pos.error(format!(
                            "the offset of {name} must be a non-negative integer literal"
                        )))
                    }
                };
                let physical = matches!(name, "PREV" | "NEXT");
                if physical {
                    // PREV(FIRST(A.x, 1), 2) composes; otherwise the inner nav is LAST(..., 0).
                    if let SynKind::Call {
                        name: inner_name,
                        semantics: inner_sem,
                        args: inner_args,
                    } = &args[0].kind
                    {
                        if matches!(inner_name.as_str(), "FIRST" | "LAST") {
                            let e = self.call(
                                inner_name,
                                inner_sem.or(semantics),
                                inner_args,
                                args[0].pos,
                                None,
                            )?;
                            let Expr::Nav(mut nav) = e else {
                                return Err(pos.error("internal: navigation"));
                            };
                            nav.physical = if name == "PREV" { -offset } else { offset };
                            return Ok(Expr::Nav(nav));
                        }
                    }
                }
                let mut inner = Inner {
                    qualifier: None,
                    pos,
                };
                let body = self.resolve(&args[0], Some(&mut inner))?;
                let var = self.qualifier(&inner.qualifier, inner.pos)?;
                let (last, offset_logical, phys) = match name {
                    "PREV" => (true, 0, -offset),
                    "NEXT" => (true, 0, offset),
                    "FIRST" => (false, offset as u64, 0),
                    _ => (true, offset as u64, 0),
                };
                Ok(Expr::Nav(Box::new(Nav {
                    var,
                    last,
                    offset: offset_logical,
                    physical: phys,
                    final_,
                    inner: body,
                })))
            }
            "CLASSIFIER" => {
                arity(0, 1)?;
                let q = match args.first() {
                    None => None,
                    Some(SynExpr {
                        kind: SynKind::Column(None, v),
                        pos,
                    }) => Some((v.to_uppercase(), *pos)),
                    Some(a) => return Err(a.pos.error("CLASSIFIER takes a pattern variable")),
                };
                match inner {
                    Some(inner) => {
                        note_qualifier(inner, q.map(|(v, _)| v), pos)?;
                        Ok(Expr::LabelHere)
                    }
                    None => {
                        let var = match q {
                            Some((v, p)) => Some(self.mask(&v, p)?),
                            None => None,
                        };
                        Ok(Expr::Nav(Box::new(Nav {
                            var,
                            last: true,
                            offset: 0,
                            physical: 0,
                            final_: false,
                            inner: Expr::LabelHere,
                        })))
                    }
                }
            }
            "MATCH_NUMBER" => {
                arity(0, 0)?;
                Ok(Expr::MatchNumber)
            }
            "COUNT" | "SUM" | "AVG" | "MIN" | "MAX" => {
                arity(1, 1)?;
                let func = match name {
                    "COUNT" => AggFunc::Count,
                    "SUM" => AggFunc::Sum,
                    "AVG" => AggFunc::Avg,
                    "MIN" => AggFunc::Min,
                    _ => AggFunc::Max,
                };
                let (arg, var) = match &args[0].kind {
                    SynKind::Star(q) if func == AggFunc::Count => {
                        let var = match q {
                            Some(v) => Some(self.mask(v, args[0].pos)?),
                            None => None,
                        };
                        (None, var)
                    }
                    SynKind::Star(_) => {
                        return Err(args[0].pos.error(format!("{name}(*) is not allowed")))
                    }
                    _ => {
                        let mut inner = Inner {
                            qualifier: None,
                            pos,
                        };
                        let a = self.resolve(&args[0], Some(&mut inner))?;
                        (Some(a), self.qualifier(&inner.qualifier, inner.pos)?)
                    }
                };
                Ok(Expr::Agg(Box::new(Agg {
                    func,
                    var,
                    arg,
                    final_,
                })))
            }
            "ABS" | "LOWER" | "UPPER" | "COALESCE" => {
                let func = match name {
                    "ABS" => Func::Abs,
                    "LOWER" => Func::Lower,
                    "UPPER" => Func::Upper,
                    _ => Func::Coalesce,
                };
                if func == Func::Coalesce {
                    arity(1, usize::MAX)?;
                } else {
                    arity(1, 1)?;
                }
                let mut inner = inner;
                let mut out = Vec::new();
                for a in args {
                    out.push(self.resolve(a, inner.as_deref_mut())?);
                }
                Ok(Expr::Func(func, out))
            }
            other => Err(pos.error(format!("unknown function {other}"))),
        }
    }
}

fn note_qualifier(inner: &mut Inner, q: Option<String>, pos: Pos) -> Result<(), SqlError> {
    match &inner.qualifier {
        None => {
            inner.qualifier = Some(q);
            inner.pos = pos;
            Ok(())
        }
        Some(prev) if *prev == q => Ok(()),
        Some(_) => Err(pos.error(
            "all column references in one navigation or aggregate must use the same pattern variable",
        )),
    }
}

fn plan(st: syntax::Statement) -> Result<MatchRecognize, SqlError> {
    let compiled = pattern::compile(&st.pattern.0, st.pattern.1)?;
    let variables: Vec<CompactString> = compiled
        .variables
        .iter()
        .map(|v| CompactString::from(v.as_str()))
        .collect();
    let mut subsets = HashMap::new();
    for (name, members, pos) in &st.subsets {
        if variables.iter().any(|v| v == name) || subsets.contains_key(name) {
            return Err(pos.error(format!(
                "SUBSET {name} is already defined as a variable or subset"
            )));
        }
        let mut mask = 0u128;
        for m in members {
            let i = variables.iter().position(|v| v == m).ok_or_else(|| {
                pos.error(format!("SUBSET {name}: {m} is not a pattern variable"))
            })?;
            mask |= 1u128 << i;
        }
        subsets.insert(name.clone(), mask);
    }
    if st.order_by.len() > 1 || st.order_by.iter().any(|(_, desc, _)| *desc) {
        let pos = st.order_by[0].2;
        return Err(pos.error("ORDER BY must name exactly one column, the event time, ascending"));
    }
    if st.rows == RowsPerMatch::AllWithUnmatched && compiled.has_exclusion {
        return Err(st.pattern.1.error(
            "PATTERN exclusion {- -} is not allowed with ALL ROWS PER MATCH WITH UNMATCHED ROWS",
        ));
    }
    let mut columns = Vec::new();
    let mut defines: Vec<Option<Expr>> = vec![None; variables.len()];
    let mut reads_history = false;
    let (mut lookback, mut lookahead) = (0u64, 0u64);
    for (name, e, pos) in &st.defines {
        let Some(i) = variables.iter().position(|v| v == name) else {
            return Err(pos.error(format!("DEFINE {name}: {name} does not appear in PATTERN")));
        };
        if defines[i].is_some() {
            return Err(pos.error(format!("DEFINE {name} is given twice")));
        }
        let mut r = Resolver {
            vars: &variables,
            subsets: &subsets,
            columns: &mut columns,
            in_define: true,
        };
        let x = r.resolve(e, None)?;
        reads_history |= expr::reads_history(&x, i as u8);
        let (b, a) = expr::reach(&x);
        lookback = lookback.max(b);
        lookahead = lookahead.max(a);
        defines[i] = Some(x);
    }
    let mut measures = Vec::new();
    let mut measure_names: Vec<String> = Vec::new();
    for (e, name) in &st.measures {
        if measure_names.contains(name) {
            return Err(e.pos.error(format!("measure {name} is defined twice")));
        }
        let mut r = Resolver {
            vars: &variables,
            subsets: &subsets,
            columns: &mut columns,
            in_define: false,
        };
        let x = r.resolve(e, None)?;
        let (b, a) = expr::reach(&x);
        lookback = lookback.max(b);
        lookahead = lookahead.max(a);
        measures.push(x);
        measure_names.push(name.clone());
    }
    let (skip, skip_pos) = st.skip;
    let last = matches!(skip, SkipSyn::ToLast(_));
    let skip = match skip {
        SkipSyn::PastLastRow => Skip::PastLastRow,
        SkipSyn::ToNextRow => Skip::ToNextRow,
        SkipSyn::ToFirst(v) | SkipSyn::ToLast(v) => {
            let r = Resolver {
                vars: &variables,
                subsets: &subsets,
                columns: &mut columns,
                in_define: false,
            };
            let vars = r.mask(&v, skip_pos).map_err(|_| {
                skip_pos.error(format!("AFTER MATCH SKIP: unknown pattern variable {v}"))
            })?;
            Skip::To {
                last,
                vars,
                name: v,
            }
        }
    };
    Ok(MatchRecognize {
        columns,
        order_by: st.order_by.first().map(|(c, _, _)| c.clone()),
        partition_by: st.partition_by.into_iter().map(|(c, _)| c).collect(),
        variables,
        nfa: compiled.nfa,
        defines,
        reads_history,
        measures,
        measure_names,
        rows: st.rows,
        skip,
        within: st.within,
        lookback,
        lookahead,
    })
}
