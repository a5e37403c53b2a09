//! The syntax of a MATCH_RECOGNIZE statement and its recursive-descent parser: the clauses in
//! Trino's order, expressions with SQL precedence (OR < AND < NOT < comparison < `+ - ||` <
//! `* / %` < unary minus), names resolved later by [`super::plan`]. The PATTERN clause is kept
//! as tokens for [`super::pattern`].
//!
//! Unquoted pattern variables and subset names are case-insensitive (folded to upper case, as
//! Trino does); column names and measure names are kept as written, because JSON members are
//! case-sensitive; `"quoted"` names are taken exactly.
//!
//! ```
//! use eddy_cep::sql::MatchRecognize;
//! let q = MatchRecognize::parse(
//!     "SELECT * FROM t MATCH_RECOGNIZE (PARTITION BY acct ORDER BY ts PATTERN (a b+) DEFINE b AS b.x > a.x)",
//! ).unwrap();
//! assert_eq!(q.variables(), ["A", "B"]);
//! assert_eq!(q.partition_by(), ["acct"]);
//! ```

use super::lexer::{Pos, Tok, Token};
use super::value::Scalar;
use super::SqlError;

/// An expression as written.
#[derive(Clone, Debug)]
pub(crate) struct SynExpr {
    pub(crate) kind: SynKind,
    pub(crate) pos: Pos,
}

/// The kinds of expression.
#[derive(Clone, Debug)]
pub(crate) enum SynKind {
    Lit(Scalar),
    /// `column` or `var.column`.
    Column(Option<String>, String),
    /// `*` or `var.*` (only as the argument of `count`).
    Star(Option<String>),
    /// A function call; `semantics` is `Some(true)` for FINAL, `Some(false)` for RUNNING.
    Call {
        name: String,
        semantics: Option<bool>,
        args: Vec<SynExpr>,
    },
    Unary(&'static str, Box<SynExpr>),
    Binary(&'static str, Box<SynExpr>, Box<SynExpr>),
    IsNull(Box<SynExpr>, bool),
    Case(Vec<(SynExpr, SynExpr)>, Option<Box<SynExpr>>),
}

/// ONE ROW PER MATCH or one of the ALL ROWS PER MATCH forms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum RowsPerMatch {
    /// One summary row per match (the default).
    #[default]
    One,
    /// Every (non-excluded) row of every match; an empty match gives one row.
    AllShowEmpty,
    /// Every row of every non-empty match.
    AllOmitEmpty,
    /// As `AllShowEmpty`, plus every row that starts no match and lies in none.
    AllWithUnmatched,
}

/// AFTER MATCH SKIP as written (variables by name).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum SkipSyn {
    PastLastRow,
    ToNextRow,
    ToFirst(String),
    ToLast(String),
}

/// A parsed statement.
#[derive(Clone, Debug)]
pub(crate) struct Statement {
    pub(crate) partition_by: Vec<(String, Pos)>,
    pub(crate) order_by: Vec<(String, bool, Pos)>,
    pub(crate) measures: Vec<(SynExpr, String)>,
    pub(crate) rows: RowsPerMatch,
    pub(crate) skip: (SkipSyn, Pos),
    /// The tokens between PATTERN's parentheses, and the position of PATTERN.
    pub(crate) pattern: (Vec<Token>, Pos),
    pub(crate) within: Option<i64>,
    pub(crate) subsets: Vec<(String, Vec<String>, Pos)>,
    pub(crate) defines: Vec<(String, SynExpr, Pos)>,
}

struct Parser {
    toks: Vec<Token>,
    at: usize,
}

/// Parses a whole statement: `[SELECT * FROM name] MATCH_RECOGNIZE ( ... ) [[AS] alias] [;]`.
pub(crate) fn parse(toks: Vec<Token>) -> Result<Statement, SqlError> {
    let mut p = Parser { toks, at: 0 };
    if p.keyword("SELECT") {
        p.expect_sym("*")?;
        p.expect_keyword("FROM")?;
        p.name()?;
    }
    p.expect_keyword("MATCH_RECOGNIZE")?;
    p.expect_sym("(")?;
    let st = p.body()?;
    p.expect_sym(")")?;
    // An optional alias: `[AS] name`.
    if p.keyword("AS") || matches!(p.peek(), Tok::Word(_) | Tok::Quoted(_)) {
        p.name()?;
    }
    p.sym(";");
    if p.peek() != &Tok::End {
        return Err(p.unexpected("the end of the statement"));
    }
    Ok(st)
}

fn is_kw(tok: &Tok, kw: &str) -> bool {
    matches!(tok, Tok::Word(w) if w.eq_ignore_ascii_case(kw))
}

fn describe(tok: &Tok) -> String {
    match tok {
        Tok::Word(w) => format!("{w:?}"),
        Tok::Quoted(w) => format!("\"{w}\""),
        Tok::Int(i) => i.to_string(),
        Tok::Float(f) => f.to_string(),
        Tok::Str(s) => format!("'{s}'"),
        Tok::Sym(s) => format!("{s:?}"),
        Tok::End => "the end of the text".into(),
    }
}

impl Parser {
    fn peek(&self) -> &Tok {
        &self.toks[self.at].tok
    }

    fn peek_at(&self, n: usize) -> &Tok {
        &self.toks[(self.at + n).min(self.toks.len() - 1)].tok
    }

    fn pos(&self) -> Pos {
        self.toks[self.at].pos
    }

    fn bump(&mut self) -> Token {
        let t = self.toks[self.at].clone();
        if self.at + 1 < self.toks.len() {
            self.at += 1;
        }
        t
    }

    /// After FIRST/LAST in AFTER MATCH SKIP TO: is a variable next (not PATTERN)?
    fn names_variable_next(&self) -> bool {
        matches!(self.peek_at(1), Tok::Word(_) | Tok::Quoted(_))
            && !is_kw(self.peek_at(1), "PATTERN")
    }

    fn unexpected(&self, wanted: &str) -> SqlError {
        self.pos().error(format!(
            "expected {wanted}, found {}",
            describe(self.peek())
        ))
    }

    fn keyword(&mut self, kw: &str) -> bool {
        if is_kw(self.peek(), kw) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn expect_keyword(&mut self, kw: &str) -> Result<(), SqlError> {
        if self.keyword(kw) {
            Ok(())
        } else {
            Err(self.unexpected(kw))
        }
    }

    fn sym(&mut self, s: &str) -> bool {
        if self.peek() == &Tok::Sym(sym_static(s)) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn expect_sym(&mut self, s: &str) -> Result<(), SqlError> {
        if self.sym(s) {
            Ok(())
        } else {
            Err(self.unexpected(&format!("{s:?}")))
        }
    }

    /// An identifier as written (quoted ones without quotes).
    fn name(&mut self) -> Result<String, SqlError> {
        match self.peek().clone() {
            Tok::Word(w) => {
                self.bump();
                Ok(w)
            }
            Tok::Quoted(w) => {
                self.bump();
                Ok(w)
            }
            _ => Err(self.unexpected("a name")),
        }
    }

    /// A pattern variable or subset name: unquoted ones fold to upper case.
    fn variable(&mut self) -> Result<String, SqlError> {
        match self.peek().clone() {
            Tok::Word(w) => {
                self.bump();
                Ok(w.to_uppercase())
            }
            Tok::Quoted(w) => {
                self.bump();
                Ok(w)
            }
            _ => Err(self.unexpected("a pattern variable")),
        }
    }

    fn body(&mut self) -> Result<Statement, SqlError> {
        let mut st = Statement {
            partition_by: Vec::new(),
            order_by: Vec::new(),
            measures: Vec::new(),
            rows: RowsPerMatch::One,
            skip: (SkipSyn::PastLastRow, self.pos()),
            pattern: (Vec::new(), self.pos()),
            within: None,
            subsets: Vec::new(),
            defines: Vec::new(),
        };
        if self.keyword("PARTITION") {
            self.expect_keyword("BY")?;
            loop {
                let pos = self.pos();
                st.partition_by.push((self.name()?, pos));
                if !self.sym(",") {
                    break;
                }
            }
        }
        if self.keyword("ORDER") {
            self.expect_keyword("BY")?;
            loop {
                let pos = self.pos();
                let col = self.name()?;
                let desc = if self.keyword("DESC") {
                    true
                } else {
                    self.keyword("ASC");
                    false
                };
                st.order_by.push((col, desc, pos));
                if !self.sym(",") {
                    break;
                }
            }
        }
        if self.keyword("MEASURES") {
            loop {
                let e = self.expr()?;
                self.expect_keyword("AS")?;
                let name = self.name()?;
                st.measures.push((e, name));
                if !self.sym(",") {
                    break;
                }
            }
        }
        if self.keyword("ONE") {
            self.expect_keyword("ROW")?;
            self.expect_keyword("PER")?;
            self.expect_keyword("MATCH")?;
        } else if self.keyword("ALL") {
            self.expect_keyword("ROWS")?;
            self.expect_keyword("PER")?;
            self.expect_keyword("MATCH")?;
            st.rows = if self.keyword("SHOW") {
                self.expect_keyword("EMPTY")?;
                self.expect_keyword("MATCHES")?;
                RowsPerMatch::AllShowEmpty
            } else if self.keyword("OMIT") {
                self.expect_keyword("EMPTY")?;
                self.expect_keyword("MATCHES")?;
                RowsPerMatch::AllOmitEmpty
            } else if self.keyword("WITH") {
                self.expect_keyword("UNMATCHED")?;
                self.expect_keyword("ROWS")?;
                RowsPerMatch::AllWithUnmatched
            } else {
                RowsPerMatch::AllShowEmpty
            };
        }
        if self.keyword("AFTER") {
            let pos = self.pos();
            self.expect_keyword("MATCH")?;
            self.expect_keyword("SKIP")?;
            let skip = if self.keyword("PAST") {
                self.expect_keyword("LAST")?;
                self.expect_keyword("ROW")?;
                SkipSyn::PastLastRow
            } else {
                self.expect_keyword("TO")?;
                if self.keyword("NEXT") {
                    self.expect_keyword("ROW")?;
                    SkipSyn::ToNextRow
                } else if is_kw(self.peek(), "FIRST") && self.names_variable_next() {
                    self.bump();
                    SkipSyn::ToFirst(self.variable()?)
                } else if is_kw(self.peek(), "LAST") && self.names_variable_next() {
                    self.bump();
                    SkipSyn::ToLast(self.variable()?)
                } else {
                    SkipSyn::ToLast(self.variable()?)
                }
            };
            st.skip = (skip, pos);
        }
        let pattern_pos = self.pos();
        self.expect_keyword("PATTERN")?;
        let open = self.pos();
        self.expect_sym("(")?;
        let mut depth = 1;
        let mut toks = Vec::new();
        loop {
            match self.peek() {
                Tok::End => return Err(open.error("PATTERN ( is never closed")),
                Tok::Sym("(") => depth += 1,
                Tok::Sym(")") => {
                    depth -= 1;
                    if depth == 0 {
                        self.bump();
                        break;
                    }
                }
                _ => {}
            }
            toks.push(self.bump());
        }
        st.pattern = (toks, pattern_pos);
        if self.keyword("WITHIN") {
            st.within = Some(self.interval()?);
        }
        if self.keyword("SUBSET") {
            loop {
                let pos = self.pos();
                let name = self.variable()?;
                self.expect_sym("=")?;
                self.expect_sym("(")?;
                let mut vars = vec![self.variable()?];
                while self.sym(",") {
                    vars.push(self.variable()?);
                }
                self.expect_sym(")")?;
                st.subsets.push((name, vars, pos));
                if !self.sym(",") {
                    break;
                }
            }
        }
        if self.keyword("DEFINE") {
            loop {
                let pos = self.pos();
                let name = self.variable()?;
                self.expect_keyword("AS")?;
                let e = self.expr()?;
                st.defines.push((name, e, pos));
                if !self.sym(",") {
                    break;
                }
            }
        }
        Ok(st)
    }

    /// `INTERVAL 'n' unit` (Flink SQL's WITHIN), in milliseconds.
    fn interval(&mut self) -> Result<i64, SqlError> {
        self.expect_keyword("INTERVAL")?;
        let pos = self.pos();
        let n: i64 = match self.bump().tok {
            Tok::Str(s) => s
                .trim()
                .parse()
                .map_err(|_| pos.error(format!("interval '{s}' is not a whole number")))?,
            Tok::Int(i) => i,
            _ => return Err(pos.error("expected an interval such as '10'")),
        };
        let upos = self.pos();
        let unit = self.name()?.to_uppercase();
        let ms = match unit.trim_end_matches('S') {
            "MILLISECOND" => 1,
            "SECOND" => 1_000,
            "MINUTE" => 60_000,
            "HOUR" => 3_600_000,
            "DAY" => 86_400_000,
            _ => return Err(upos.error(format!("unknown interval unit {unit}"))),
        };
        n.checked_mul(ms)
            .filter(|v| *v > 0)
            .ok_or_else(|| pos.error("the WITHIN interval must be positive and fit in i64 ms"))
    }

    fn expr(&mut self) -> Result<SynExpr, SqlError> {
        let mut l = self.and()?;
        while is_kw(self.peek(), "OR") {
            let pos = self.pos();
            self.bump();
            let r = self.and()?;
            l = bin("OR", l, r, pos);
        }
        Ok(l)
    }

    fn and(&mut self) -> Result<SynExpr, SqlError> {
        let mut l = self.not()?;
        while is_kw(self.peek(), "AND") {
            let pos = self.pos();
            self.bump();
            let r = self.not()?;
            l = bin("AND", l, r, pos);
        }
        Ok(l)
    }

    fn not(&mut self) -> Result<SynExpr, SqlError> {
        if is_kw(self.peek(), "NOT") {
            let pos = self.pos();
            self.bump();
            let e = self.not()?;
            return Ok(SynExpr {
                kind: SynKind::Unary("NOT", Box::new(e)),
                pos,
            });
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<SynExpr, SqlError> {
        let l = self.additive()?;
        let pos = self.pos();
        for op in ["=", "<>", "!=", "<=", ">=", "<", ">"] {
            if self.sym(op) {
                let r = self.additive()?;
                let op = if op == "!=" { "<>" } else { sym_static(op) };
                return Ok(bin(op, l, r, pos));
            }
        }
        if self.keyword("IS") {
            let negated = self.keyword("NOT");
            self.expect_keyword("NULL")?;
            return Ok(SynExpr {
                kind: SynKind::IsNull(Box::new(l), negated),
                pos,
            });
        }
        let negated = if is_kw(self.peek(), "NOT")
            && (is_kw(self.peek_at(1), "BETWEEN") || is_kw(self.peek_at(1), "IN"))
        {
            self.bump();
            true
        } else {
            false
        };
        let e = if self.keyword("BETWEEN") {
            let lo = self.additive()?;
            self.expect_keyword("AND")?;
            let hi = self.additive()?;
            bin(
                "AND",
                bin(">=", l.clone(), lo, pos),
                bin("<=", l, hi, pos),
                pos,
            )
        } else if self.keyword("IN") {
            self.expect_sym("(")?;
            let mut e = bin("=", l.clone(), self.expr()?, pos);
            while self.sym(",") {
                let r = bin("=", l.clone(), self.expr()?, pos);
                e = bin("OR", e, r, pos);
            }
            self.expect_sym(")")?;
            e
        } else {
            return Ok(l);
        };
        Ok(if negated {
            SynExpr {
                kind: SynKind::Unary("NOT", Box::new(e)),
                pos,
            }
        } else {
            e
        })
    }

    fn additive(&mut self) -> Result<SynExpr, SqlError> {
        let mut l = self.multiplicative()?;
        loop {
            let pos = self.pos();
            let op = match self.peek() {
                Tok::Sym(s @ ("+" | "-" | "||")) => *s,
                _ => return Ok(l),
            };
            self.bump();
            let r = self.multiplicative()?;
            l = bin(op, l, r, pos);
        }
    }

    fn multiplicative(&mut self) -> Result<SynExpr, SqlError> {
        let mut l = self.unary()?;
        loop {
            let pos = self.pos();
            let op = match self.peek() {
                Tok::Sym(s @ ("*" | "/" | "%")) => *s,
                _ => return Ok(l),
            };
            self.bump();
            let r = self.unary()?;
            l = bin(op, l, r, pos);
        }
    }

    fn unary(&mut self) -> Result<SynExpr, SqlError> {
        let pos = self.pos();
        if self.sym("-") {
            let e = self.unary()?;
            return Ok(match e.kind {
                SynKind::Lit(Scalar::Int(i)) => lit(Scalar::Int(-i), pos),
                SynKind::Lit(Scalar::Float(f)) => lit(Scalar::Float(-f), pos),
                _ => SynExpr {
                    kind: SynKind::Unary("-", Box::new(e)),
                    pos,
                },
            });
        }
        if self.sym("+") {
            return self.unary();
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<SynExpr, SqlError> {
        let pos = self.pos();
        match self.peek().clone() {
            Tok::Int(i) => {
                self.bump();
                Ok(lit(Scalar::Int(i), pos))
            }
            Tok::Float(f) => {
                self.bump();
                Ok(lit(Scalar::Float(f), pos))
            }
            Tok::Str(s) => {
                self.bump();
                Ok(lit(Scalar::from(s.as_str()), pos))
            }
            Tok::Sym("(") => {
                self.bump();
                let e = self.expr()?;
                self.expect_sym(")")?;
                Ok(e)
            }
            Tok::Word(w) if w.eq_ignore_ascii_case("TRUE") => {
                self.bump();
                Ok(lit(Scalar::Bool(true), pos))
            }
            Tok::Word(w) if w.eq_ignore_ascii_case("FALSE") => {
                self.bump();
                Ok(lit(Scalar::Bool(false), pos))
            }
            Tok::Word(w) if w.eq_ignore_ascii_case("NULL") => {
                self.bump();
                Ok(lit(Scalar::Null, pos))
            }
            Tok::Word(w) if w.eq_ignore_ascii_case("CASE") => {
                self.bump();
                let mut whens = Vec::new();
                while self.keyword("WHEN") {
                    let c = self.expr()?;
                    self.expect_keyword("THEN")?;
                    whens.push((c, self.expr()?));
                }
                if whens.is_empty() {
                    return Err(self.unexpected("WHEN"));
                }
                let other = if self.keyword("ELSE") {
                    Some(Box::new(self.expr()?))
                } else {
                    None
                };
                self.expect_keyword("END")?;
                Ok(SynExpr {
                    kind: SynKind::Case(whens, other),
                    pos,
                })
            }
            Tok::Word(w)
                if (w.eq_ignore_ascii_case("RUNNING") || w.eq_ignore_ascii_case("FINAL"))
                    && matches!(self.peek_at(1), Tok::Word(_))
                    && self.peek_at(2) == &Tok::Sym("(") =>
            {
                self.bump();
                let final_ = w.eq_ignore_ascii_case("FINAL");
                let mut call = self.primary()?;
                match &mut call.kind {
                    SynKind::Call { semantics, .. } => *semantics = Some(final_),
                    _ => return Err(pos.error(format!("{w} must precede a function call"))),
                }
                Ok(call)
            }
            Tok::Word(_) | Tok::Quoted(_) => {
                let quoted = matches!(self.peek(), Tok::Quoted(_));
                let first = self.name()?;
                if !quoted && self.peek() == &Tok::Sym("(") {
                    self.bump();
                    let mut args = Vec::new();
                    if !self.sym(")") {
                        loop {
                            args.push(self.argument()?);
                            if !self.sym(",") {
                                break;
                            }
                        }
                        self.expect_sym(")")?;
                    }
                    return Ok(SynExpr {
                        kind: SynKind::Call {
                            name: first.to_uppercase(),
                            semantics: None,
                            args,
                        },
                        pos,
                    });
                }
                if self.sym(".") {
                    let var = if quoted { first } else { first.to_uppercase() };
                    if self.sym("*") {
                        return Ok(SynExpr {
                            kind: SynKind::Star(Some(var)),
                            pos,
                        });
                    }
                    let col = self.name()?;
                    return Ok(SynExpr {
                        kind: SynKind::Column(Some(var), col),
                        pos,
                    });
                }
                Ok(SynExpr {
                    kind: SynKind::Column(None, first),
                    pos,
                })
            }
            _ => Err(self.unexpected("an expression")),
        }
    }

    fn argument(&mut self) -> Result<SynExpr, SqlError> {
        let pos = self.pos();
        if self.sym("*") {
            return Ok(SynExpr {
                kind: SynKind::Star(None),
                pos,
            });
        }
        self.expr()
    }
}

fn sym_static(s: &str) -> &'static str {
    const ALL: [&str; 24] = [
        "<>", "!=", "<=", ">=", "||", "(", ")", ",", ".", ";", "*", "+", "-", "/", "%", "=", "<",
        ">", "|", "?", "{", "}", "^", "$",
    ];
    ALL.iter().find(|a| **a == s).copied().unwrap_or("")
}

fn lit(v: Scalar, pos: Pos) -> SynExpr {
    SynExpr {
        kind: SynKind::Lit(v),
        pos,
    }
}

fn bin(op: &'static str, l: SynExpr, r: SynExpr, pos: Pos) -> SynExpr {
    SynExpr {
        kind: SynKind::Binary(op, Box::new(l), Box::new(r)),
        pos,
    }
}
