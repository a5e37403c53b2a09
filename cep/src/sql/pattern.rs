//! The PATTERN clause: from tokens to a Thompson NFA whose transitions are pattern variables.
//!
//! ## How
//! 1. Each pattern variable becomes one private-use character (`U+E000 + index`, in order of
//!    first appearance), so the clause becomes a regular expression that **regex-syntax**
//!    parses to its AST: `(`…`)` becomes a non-capturing group, `{- … -}` (exclusion, which
//!    regex syntax cannot say) becomes a named group `(?P<xN>…)`, `{,m}` becomes `{0,m}`, and
//!    `PERMUTE(a, b, …)` (which it cannot say either) is expanded here, before parsing, into the
//!    alternation of all permutations in lexicographic order of the arguments' positions, as
//!    the SQL standard and Trino define it. Quantifiers, reluctant forms, alternation and the
//!    anchors `^ $` are regex syntax already.
//! 2. The **AST**, not the HIR, is compiled: the HIR would merge `A | B` into a class and lose
//!    which alternative is preferred. The walk below emits states with **regex-automata**'s
//!    Thompson [`Builder`]: a byte-range transition per variable occurrence (the byte is the
//!    variable's index, with bit 7 set inside an exclusion), `Union` states whose alternates
//!    are in preference order (`UnionReverse` for reluctant quantifiers), `Look::Start` and
//!    `Look::End` for `^` and `$`. Bounded repetition is unrolled.
//! 3. The matcher ([`super::matcher`]) walks the resulting NFA itself: a transition is taken
//!    when the variable's DEFINE condition holds for the row, which no byte automaton can do.
//!
//! ```
//! use eddy_cep::sql::MatchRecognize;
//! let q = MatchRecognize::parse("MATCH_RECOGNIZE (PATTERN (PERMUTE(a, b) {- c -} d{1,3}?) )").unwrap();
//! assert_eq!(q.variables(), ["A", "B", "C", "D"]);
//! let err = MatchRecognize::parse("MATCH_RECOGNIZE (\n PATTERN (a\n b{3,1}) )").unwrap_err();
//! assert_eq!(err.line, 3, "{err}"); // regex-syntax's error, placed in the SQL text
//! ```

use regex_automata::nfa::thompson::{Builder, Transition, NFA};
use regex_automata::util::look::Look;
use regex_automata::util::primitives::StateID;
use regex_syntax::ast::{self, Ast};

use super::lexer::{Pos, Tok, Token};
use super::SqlError;

/// Bit 7 of a transition byte: the row is excluded from ALL ROWS PER MATCH output.
pub(crate) const EXCLUDED: u8 = 0x80;
/// At most this many pattern variables (the byte's low 7 bits).
pub(crate) const MAX_VARIABLES: usize = 127;
const PERMUTE_MAX: usize = 6;
const BASE: u32 = 0xE000;

/// Regex text with, for each piece, where it came from in the SQL.
#[derive(Default)]
struct Text {
    s: String,
    map: Vec<(usize, Pos)>,
}

impl Text {
    fn push(&mut self, piece: &str, pos: Pos) {
        self.map.push((self.s.len(), pos));
        self.s.push_str(piece);
    }

    fn append(&mut self, other: &Text) {
        let base = self.s.len();
        self.map
            .extend(other.map.iter().map(|(o, p)| (o + base, *p)));
        self.s.push_str(&other.s);
    }

    fn pos_at(&self, offset: usize, default: Pos) -> Pos {
        self.map
            .iter()
            .rev()
            .find(|(o, _)| *o <= offset)
            .map_or(default, |(_, p)| *p)
    }
}

/// The compiled PATTERN: the NFA and the variables in order of first appearance.
pub(crate) struct CompiledPattern {
    pub(crate) nfa: NFA,
    pub(crate) variables: Vec<String>,
    pub(crate) has_exclusion: bool,
}

/// Compiles the tokens between PATTERN's parentheses.
pub(crate) fn compile(tokens: &[Token], at: Pos) -> Result<CompiledPattern, SqlError> {
    let mut vars = Vec::new();
    let mut exclusions = 0usize;
    let text = translate(tokens, at, &mut vars, &mut exclusions)?;
    let parsed = ast::parse::ParserBuilder::new()
        .nest_limit(200)
        .build()
        .parse(&text.s)
        .map_err(|e| {
            let pos = text.pos_at(e.span().start.offset, at);
            pos.error(format!("PATTERN: {}", e.kind()))
        })?;
    let mut b = Builder::new();
    b.set_size_limit(Some(16 << 20))
        .map_err(|e| at.error(e.to_string()))?;
    let too_big = |e: regex_automata::nfa::thompson::BuildError| {
        at.error(format!("PATTERN is too large: {e}"))
    };
    b.start_pattern().map_err(too_big)?;
    let cap_start = b
        .add_capture_start(StateID::ZERO, 0, None)
        .map_err(too_big)?;
    let (start, end) = walk(&parsed, &mut b, false, &text, at)?;
    let cap_end = b.add_capture_end(StateID::ZERO, 0).map_err(too_big)?;
    let done = b.add_match().map_err(too_big)?;
    b.patch(cap_start, start).map_err(too_big)?;
    b.patch(end, cap_end).map_err(too_big)?;
    b.patch(cap_end, done).map_err(too_big)?;
    b.finish_pattern(cap_start).map_err(too_big)?;
    let nfa = b.build(cap_start, cap_start).map_err(too_big)?;
    Ok(CompiledPattern {
        nfa,
        variables: vars,
        has_exclusion: exclusions > 0,
    })
}

fn variable_char(name: String, pos: Pos, vars: &mut Vec<String>) -> Result<char, SqlError> {
    let idx = match vars.iter().position(|v| *v == name) {
        Some(i) => i,
        None => {
            if vars.len() >= MAX_VARIABLES {
                return Err(pos.error(format!("PATTERN has more than {MAX_VARIABLES} variables")));
            }
            vars.push(name);
            vars.len() - 1
        }
    };
    char::from_u32(BASE + idx as u32).ok_or_else(|| pos.error("internal: variable character"))
}

/// Translates PATTERN tokens to regex text (see the module doc).
fn translate(
    toks: &[Token],
    at: Pos,
    vars: &mut Vec<String>,
    exclusions: &mut usize,
) -> Result<Text, SqlError> {
    let mut out = Text::default();
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        let pos = t.pos;
        match &t.tok {
            Tok::Word(w)
                if w.eq_ignore_ascii_case("PERMUTE")
                    && toks.get(i + 1).map(|t| &t.tok) == Some(&Tok::Sym("(")) =>
            {
                // Arguments: split at depth-0 commas up to the matching parenthesis.
                let mut depth = 0;
                let mut args: Vec<&[Token]> = Vec::new();
                let mut from = i + 2;
                let mut j = i + 1;
                loop {
                    j += 1;
                    let Some(tj) = toks.get(j) else {
                        return Err(pos.error("PERMUTE ( is never closed"));
                    };
                    match tj.tok {
                        Tok::Sym("(") => depth += 1,
                        Tok::Sym(")") if depth > 0 => depth -= 1,
                        Tok::Sym(")") => {
                            args.push(&toks[from..j]);
                            break;
                        }
                        Tok::Sym(",") if depth == 0 => {
                            args.push(&toks[from..j]);
                            from = j + 1;
                        }
                        _ => {}
                    }
                }
                if args.iter().any(|a| a.is_empty()) {
                    return Err(pos.error("PERMUTE has an empty argument"));
                }
                if args.len() > PERMUTE_MAX {
                    return Err(pos.error(format!("PERMUTE takes at most {PERMUTE_MAX} arguments")));
                }
                let parts = args
                    .iter()
                    .map(|a| translate(a, pos, vars, exclusions))
                    .collect::<Result<Vec<_>, _>>()?;
                out.push("(?:", pos);
                for (n, perm) in permutations(parts.len()).into_iter().enumerate() {
                    if n > 0 {
                        out.push("|", pos);
                    }
                    for k in perm {
                        out.push("(?:", pos);
                        out.append(&parts[k]);
                        out.push(")", pos);
                    }
                }
                out.push(")", pos);
                i = j + 1;
                continue;
            }
            Tok::Word(w) => {
                let c = variable_char(w.to_uppercase(), pos, vars)?;
                out.push(c.encode_utf8(&mut [0; 4]), pos);
            }
            Tok::Quoted(w) => {
                let c = variable_char(w.clone(), pos, vars)?;
                out.push(c.encode_utf8(&mut [0; 4]), pos);
            }
            Tok::Sym("(") => out.push("(?:", pos),
            Tok::Sym(s @ (")" | "|" | "*" | "+" | "?" | "^" | "$")) => out.push(s, pos),
            Tok::Sym("{") if toks.get(i + 1).map(|t| &t.tok) == Some(&Tok::Sym("-")) => {
                out.push(&format!("(?P<x{}>", *exclusions), pos);
                *exclusions += 1;
                i += 2;
                continue;
            }
            Tok::Sym("-") if toks.get(i + 1).map(|t| &t.tok) == Some(&Tok::Sym("}")) => {
                out.push(")", pos);
                i += 2;
                continue;
            }
            Tok::Sym("{") => {
                // {n} {n,} {,m} {n,m}
                let mut q = String::from("{");
                let mut j = i + 1;
                let mut shape = String::new();
                while let Some(tj) = toks.get(j) {
                    match &tj.tok {
                        Tok::Int(n) => {
                            q.push_str(&n.to_string());
                            shape.push('n');
                        }
                        Tok::Sym(",") => {
                            if shape.is_empty() {
                                q.push('0');
                            }
                            q.push(',');
                            shape.push(',');
                        }
                        Tok::Sym("}") => break,
                        _ => {
                            return Err(tj
                                .pos
                                .error("bad quantifier: expected {n}, {n,}, {,m} or {n,m}"))
                        }
                    }
                    j += 1;
                }
                if j >= toks.len() || !matches!(shape.as_str(), "n" | "n," | "," | ",n" | "n,n") {
                    return Err(pos.error("bad quantifier: expected {n}, {n,}, {,m} or {n,m}"));
                }
                if shape == "," {
                    return Err(pos.error("bad quantifier {,}: give a bound"));
                }
                q.push('}');
                out.push(&q, pos);
                i = j + 1;
                continue;
            }
            other => {
                return Err(pos.error(format!("unexpected {other:?} in PATTERN")));
            }
        }
        i += 1;
    }
    if toks.is_empty() {
        out.map.push((0, at));
    }
    Ok(out)
}

/// All permutations of `0..n` in lexicographic order.
fn permutations(n: usize) -> Vec<Vec<usize>> {
    fn go(rest: &mut Vec<usize>, cur: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
        if rest.is_empty() {
            out.push(cur.clone());
            return;
        }
        for k in 0..rest.len() {
            let x = rest.remove(k);
            cur.push(x);
            go(rest, cur, out);
            cur.pop();
            rest.insert(k, x);
        }
    }
    let mut out = Vec::new();
    go(&mut (0..n).collect(), &mut Vec::new(), &mut out);
    out
}

type Frag = (StateID, StateID);

fn walk(a: &Ast, b: &mut Builder, excluded: bool, text: &Text, at: Pos) -> Result<Frag, SqlError> {
    let err =
        |span: &ast::Span, msg: &str| text.pos_at(span.start.offset, at).error(msg.to_string());
    let big = |e: regex_automata::nfa::thompson::BuildError| {
        at.error(format!("PATTERN is too large: {e}"))
    };
    match a {
        Ast::Empty(_) => {
            let e = b.add_empty().map_err(big)?;
            Ok((e, e))
        }
        Ast::Literal(lit) => {
            let idx = (lit.c as u32).wrapping_sub(BASE);
            if idx as usize >= MAX_VARIABLES {
                return Err(err(&lit.span, "unexpected character in PATTERN"));
            }
            let byte = idx as u8 | if excluded { EXCLUDED } else { 0 };
            let s = b
                .add_range(Transition {
                    start: byte,
                    end: byte,
                    next: StateID::ZERO,
                })
                .map_err(big)?;
            Ok((s, s))
        }
        Ast::Concat(c) => {
            let mut frag: Option<Frag> = None;
            for x in &c.asts {
                let f = walk(x, b, excluded, text, at)?;
                frag = Some(match frag {
                    None => f,
                    Some((s, e)) => {
                        b.patch(e, f.0).map_err(big)?;
                        (s, f.1)
                    }
                });
            }
            match frag {
                Some(f) => Ok(f),
                None => {
                    let e = b.add_empty().map_err(big)?;
                    Ok((e, e))
                }
            }
        }
        Ast::Alternation(alt) => {
            let u = b.add_union(Vec::new()).map_err(big)?;
            let end = b.add_empty().map_err(big)?;
            for x in &alt.asts {
                let (s, e) = walk(x, b, excluded, text, at)?;
                b.patch(u, s).map_err(big)?;
                b.patch(e, end).map_err(big)?;
            }
            Ok((u, end))
        }
        Ast::Group(g) => match &g.kind {
            ast::GroupKind::NonCapturing(flags) if flags.items.is_empty() => {
                walk(&g.ast, b, excluded, text, at)
            }
            ast::GroupKind::CaptureName { .. } => walk(&g.ast, b, true, text, at),
            _ => Err(err(&g.span, "unsupported group in PATTERN")),
        },
        Ast::Repetition(r) => {
            let (min, max) = match &r.op.kind {
                ast::RepetitionKind::ZeroOrOne => (0, Some(1)),
                ast::RepetitionKind::ZeroOrMore => (0, None),
                ast::RepetitionKind::OneOrMore => (1, None),
                ast::RepetitionKind::Range(ast::RepetitionRange::Exactly(n)) => (*n, Some(*n)),
                ast::RepetitionKind::Range(ast::RepetitionRange::AtLeast(n)) => (*n, None),
                ast::RepetitionKind::Range(ast::RepetitionRange::Bounded(n, m)) => (*n, Some(*m)),
            };
            repetition(&r.ast, min, max, r.greedy, b, excluded, text, at)
        }
        Ast::Assertion(x) => {
            let look = match x.kind {
                ast::AssertionKind::StartLine | ast::AssertionKind::StartText => Look::Start,
                ast::AssertionKind::EndLine | ast::AssertionKind::EndText => Look::End,
                _ => return Err(err(&x.span, "unsupported assertion in PATTERN")),
            };
            let s = b.add_look(StateID::ZERO, look).map_err(big)?;
            Ok((s, s))
        }
        other => Err(err(other.span(), "unsupported syntax in PATTERN")),
    }
}

#[allow(clippy::too_many_arguments)]
fn repetition(
    body: &Ast,
    min: u32,
    max: Option<u32>,
    greedy: bool,
    b: &mut Builder,
    excluded: bool,
    text: &Text,
    at: Pos,
) -> Result<Frag, SqlError> {
    let big = |e: regex_automata::nfa::thompson::BuildError| {
        at.error(format!("PATTERN is too large: {e}"))
    };
    let union = |b: &mut Builder| {
        if greedy {
            b.add_union(Vec::new()).map_err(big)
        } else {
            b.add_union_reverse(Vec::new()).map_err(big)
        }
    };
    let start = b.add_empty().map_err(big)?;
    let mut end = start;
    for _ in 0..min {
        let (s, e) = walk(body, b, excluded, text, at)?;
        b.patch(end, s).map_err(big)?;
        end = e;
    }
    match max {
        None => {
            // end -> u; u: [body -> u, exit]
            let u = union(b)?;
            let exit = b.add_empty().map_err(big)?;
            let (s, e) = walk(body, b, excluded, text, at)?;
            b.patch(end, u).map_err(big)?;
            b.patch(u, s).map_err(big)?;
            b.patch(u, exit).map_err(big)?;
            b.patch(e, u).map_err(big)?;
            Ok((start, exit))
        }
        Some(max) => {
            // Nested optionals: once one is skipped, the rest are skipped too.
            let exit = b.add_empty().map_err(big)?;
            for _ in min..max {
                let u = union(b)?;
                let (s, e) = walk(body, b, excluded, text, at)?;
                b.patch(end, u).map_err(big)?;
                b.patch(u, s).map_err(big)?;
                b.patch(u, exit).map_err(big)?;
                end = e;
            }
            b.patch(end, exit).map_err(big)?;
            Ok((start, exit))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permutations_are_lexicographic() {
        assert_eq!(
            permutations(3),
            vec![
                vec![0, 1, 2],
                vec![0, 2, 1],
                vec![1, 0, 2],
                vec![1, 2, 0],
                vec![2, 0, 1],
                vec![2, 1, 0]
            ]
        );
    }
}
