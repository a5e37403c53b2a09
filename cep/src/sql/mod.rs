//! MATCH_RECOGNIZE: SQL:2016 row pattern recognition, the subset Trino implements, as a
//! text form for CEP.
//!
//! A statement `[SELECT * FROM t] MATCH_RECOGNIZE ( ... )` has, in order: `PARTITION BY`
//! columns, `ORDER BY` one column (the event time, ascending), `MEASURES expr AS name, ...`
//! (`FIRST`, `LAST`, `PREV`, `NEXT`, `CLASSIFIER()`, `MATCH_NUMBER()`, `RUNNING` / `FINAL`,
//! `count sum avg min max`), `ONE ROW PER MATCH` or `ALL ROWS PER MATCH` (`SHOW EMPTY
//! MATCHES`, `OMIT EMPTY MATCHES`, `WITH UNMATCHED ROWS`), `AFTER MATCH SKIP` (`PAST LAST
//! ROW`, `TO NEXT ROW`, `TO FIRST v`, `TO LAST v`, `TO v`), `PATTERN (...)` (concatenation,
//! `|` with the left alternative preferred, grouping, `* + ? {n} {n,} {,m} {n,m}` and their
//! reluctant `?` forms, `^ $`, exclusion `{- -}`, `PERMUTE`), Flink SQL's `WITHIN INTERVAL
//! 'n' SECOND` as an extension, `SUBSET u = (a, b)`, and `DEFINE v AS condition` (comparisons,
//! arithmetic, `AND OR NOT`, `IS [NOT] NULL`, `BETWEEN`, `IN`, `CASE`, navigation). Semantics
//! are Trino's: see [`matcher`](self::Matcher) for matching, the `expr` module for evaluation.
//!
//! How the pieces fit: [`MatchRecognize::parse`] (a hand-written lexer and recursive-descent
//! parser, then name resolution) compiles the PATTERN clause through regex-syntax's AST into
//! a regex-automata Thompson NFA (the `pattern` module says how variables, exclusion and
//! PERMUTE are mapped); a [`Matcher`] walks that NFA over a [`Partition`]'s rows; and
//! [`operator::match_recognize`] runs it per key of a DataStream in event time, like the
//! NFA path's operator. The runnable example is `cep_match --sql`
//! (`examples/src/bin/cep_match.rs`).
//!
//! Differences from Trino worth knowing: values are dynamically typed [`Scalar`]s, so
//! comparing a number with a string is unknown (NULL) rather than a planning error, and
//! division by zero is NULL; ORDER BY takes exactly one column, the event time.
//!
//! ```
//! use eddy_cep::sql::{MatchRecognize, Scalar};
//! let q = MatchRecognize::parse("
//!     SELECT * FROM ticks MATCH_RECOGNIZE (
//!       ORDER BY ts
//!       MEASURES FIRST(price) AS top, LAST(DOWN.price) AS bottom, count(DOWN.*) AS falls
//!       ONE ROW PER MATCH
//!       PATTERN (START DOWN+)
//!       DEFINE DOWN AS price < PREV(price))").unwrap();
//! let prices = [10, 8, 6, 9, 7].map(|p| vec![Scalar::Int(p)]);
//! let out = q.run_to_end(prices.iter().map(|r| r.as_slice())).unwrap();
//! assert_eq!(out.len(), 2);
//! assert_eq!(out[0].measures, [Scalar::Int(10), Scalar::Int(6), Scalar::Int(2)]);
//! assert_eq!(out[0].matched[1].1, [1, 2]); // rows mapped to DOWN
//! ```

mod expr;
mod lexer;
mod matcher;
pub mod operator;
mod pattern;
mod plan;
mod syntax;
mod value;

pub use matcher::{MatchError, MatchRow, Matcher, Partition};
pub use plan::MatchRecognize;
pub use syntax::RowsPerMatch;
pub use value::{ArithOp, Scalar};

/// A statement that does not parse or resolve, with the position of the problem.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {message}")]
pub struct SqlError {
    /// 1-based line in the statement text.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// What is wrong.
    pub message: String,
}
