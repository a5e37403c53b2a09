//! Tokens of a MATCH_RECOGNIZE statement: identifiers (quoted ones keep their case), numbers,
//! string literals, operators and punctuation, each with the line and column it starts at.
//! `--` comments run to the end of the line, `/* */` comments may span lines.
//!
//! ```
//! use eddy_cep::sql::MatchRecognize;
//! // The lexer is internal; its errors surface through parsing, with a position.
//! let err = MatchRecognize::parse("MATCH_RECOGNIZE (PATTERN (A) DEFINE A AS x = 'open").unwrap_err();
//! assert_eq!((err.line, err.column), (1, 46));
//! ```

use super::SqlError;

/// A position in the statement text (1-based).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Pos {
    pub(crate) line: u32,
    pub(crate) column: u32,
}

impl Pos {
    pub(crate) fn error(self, message: impl Into<String>) -> SqlError {
        SqlError {
            line: self.line,
            column: self.column,
            message: message.into(),
        }
    }
}

/// What a token is.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tok {
    /// An unquoted identifier or keyword, as written.
    Word(String),
    /// A `"quoted"` identifier, without the quotes.
    Quoted(String),
    /// An integer literal.
    Int(i64),
    /// A decimal literal.
    Float(f64),
    /// A `'string'` literal, without the quotes.
    Str(String),
    /// Punctuation or an operator: `( ) , . ; * + - / % = <> != < <= > >= | || ? { } ^ $`.
    Sym(&'static str),
    /// The end of the text.
    End,
}

/// A token and where it starts.
#[derive(Clone, Debug)]
pub(crate) struct Token {
    pub(crate) tok: Tok,
    pub(crate) pos: Pos,
}

const SYMBOLS: [&str; 24] = [
    "<>", "!=", "<=", ">=", "||", "(", ")", ",", ".", ";", "*", "+", "-", "/", "%", "=", "<", ">",
    "|", "?", "{", "}", "^", "$",
];

/// Splits `text` into tokens, ending with [`Tok::End`].
pub(crate) fn tokenize(text: &str) -> Result<Vec<Token>, SqlError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line, mut col) = (0usize, 1u32, 1u32);
    // Advances over `n` characters, keeping line and column.
    let step = |i: &mut usize, line: &mut u32, col: &mut u32, n: usize| {
        for _ in 0..n {
            if chars[*i] == '\n' {
                *line += 1;
                *col = 1;
            } else {
                *col += 1;
            }
            *i += 1;
        }
    };
    while i < chars.len() {
        let c = chars[i];
        let pos = Pos { line, column: col };
        let next = chars.get(i + 1).copied();
        if c.is_whitespace() {
            step(&mut i, &mut line, &mut col, 1);
        } else if c == '-' && next == Some('-') {
            while i < chars.len() && chars[i] != '\n' {
                step(&mut i, &mut line, &mut col, 1);
            }
        } else if c == '/' && next == Some('*') {
            step(&mut i, &mut line, &mut col, 2);
            loop {
                if i + 1 >= chars.len() {
                    return Err(pos.error("unterminated /* comment"));
                }
                if chars[i] == '*' && chars[i + 1] == '/' {
                    step(&mut i, &mut line, &mut col, 2);
                    break;
                }
                step(&mut i, &mut line, &mut col, 1);
            }
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                step(&mut i, &mut line, &mut col, 1);
            }
            out.push(Token {
                tok: Tok::Word(chars[start..i].iter().collect()),
                pos,
            });
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                step(&mut i, &mut line, &mut col, 1);
            }
            let mut float = false;
            if i + 1 < chars.len() && chars[i] == '.' && chars[i + 1].is_ascii_digit() {
                float = true;
                step(&mut i, &mut line, &mut col, 1);
                while i < chars.len() && chars[i].is_ascii_digit() {
                    step(&mut i, &mut line, &mut col, 1);
                }
            }
            if i < chars.len() && (chars[i] == 'e' || chars[i] == 'E') {
                let mut j = i + 1;
                if j < chars.len() && (chars[j] == '+' || chars[j] == '-') {
                    j += 1;
                }
                if j < chars.len() && chars[j].is_ascii_digit() {
                    float = true;
                    let n = j - i;
                    step(&mut i, &mut line, &mut col, n);
                    while i < chars.len() && chars[i].is_ascii_digit() {
                        step(&mut i, &mut line, &mut col, 1);
                    }
                }
            }
            let s: String = chars[start..i].iter().collect();
            let tok = if float {
                Tok::Float(
                    s.parse()
                        .map_err(|_| pos.error(format!("bad number {s}")))?,
                )
            } else {
                Tok::Int(
                    s.parse()
                        .map_err(|_| pos.error(format!("integer {s} is out of range")))?,
                )
            };
            out.push(Token { tok, pos });
        } else if c == '\'' || c == '"' {
            step(&mut i, &mut line, &mut col, 1);
            let mut s = String::new();
            loop {
                if i >= chars.len() {
                    let what = if c == '\'' {
                        "string"
                    } else {
                        "quoted identifier"
                    };
                    return Err(pos.error(format!("unterminated {what}")));
                }
                if chars[i] == c {
                    if chars.get(i + 1) == Some(&c) {
                        s.push(c);
                        step(&mut i, &mut line, &mut col, 2);
                        continue;
                    }
                    step(&mut i, &mut line, &mut col, 1);
                    break;
                }
                s.push(chars[i]);
                step(&mut i, &mut line, &mut col, 1);
            }
            let tok = if c == '\'' {
                Tok::Str(s)
            } else {
                Tok::Quoted(s)
            };
            out.push(Token { tok, pos });
        } else {
            let sym = SYMBOLS.iter().find(|s| {
                let mut it = s.chars();
                it.next() == Some(c) && it.next().is_none_or(|d| next == Some(d))
            });
            match sym {
                Some(s) => {
                    let n = s.len();
                    out.push(Token {
                        tok: Tok::Sym(s),
                        pos,
                    });
                    step(&mut i, &mut line, &mut col, n);
                }
                None => return Err(pos.error(format!("unexpected character {c:?}"))),
            }
        }
    }
    out.push(Token {
        tok: Tok::End,
        pos: Pos { line, column: col },
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_positions_and_skip_comments() {
        let t = tokenize("a -- c\n  <= 'it''s' /* x\n */ 1.5e1 \"Q\"").unwrap();
        let toks: Vec<_> = t
            .iter()
            .map(|t| (t.tok.clone(), t.pos.line, t.pos.column))
            .collect();
        assert_eq!(
            toks,
            vec![
                (Tok::Word("a".into()), 1, 1),
                (Tok::Sym("<="), 2, 3),
                (Tok::Str("it's".into()), 2, 6),
                (Tok::Float(15.0), 3, 5),
                (Tok::Quoted("Q".into()), 3, 11),
                (Tok::End, 3, 14),
            ]
        );
    }
}
