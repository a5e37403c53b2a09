//! The row pattern matcher against a brute-force reference: random patterns over variables
//! A (value <= 1), B (value >= 1) and C (always true), built from concatenation, alternation
//! and greedy or reluctant `? * +` (loop bodies never match empty), run over random rows with
//! SKIP PAST LAST ROW and SKIP TO NEXT ROW. The reference is a backtracking matcher that
//! enumerates a start's matches in preference order and takes the first, the textbook reading
//! of the standard; the compared output is every match's start and labels. A variant gives C
//! a condition that reads the match's labels (`count(C.*) >= 0`, always true) so the
//! matcher's history-aware thread merging is compared too.

use eddy_cep::sql::{MatchRecognize, Scalar};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Pat {
    Var(u8),
    Concat(Box<Pat>, Box<Pat>),
    Alt(Box<Pat>, Box<Pat>),
    Opt(Box<Pat>, bool),
    Star(Box<Pat>, bool),
    Plus(Box<Pat>, bool),
}

impl Pat {
    fn nullable(&self) -> bool {
        match self {
            Pat::Var(_) => false,
            Pat::Concat(a, b) => a.nullable() && b.nullable(),
            Pat::Alt(a, b) => a.nullable() || b.nullable(),
            Pat::Opt(..) | Pat::Star(..) => true,
            Pat::Plus(a, _) => a.nullable(),
        }
    }

    fn text(&self) -> String {
        let q = |g: bool| if g { "" } else { "?" };
        match self {
            Pat::Var(v) => ["A", "B", "C"][*v as usize].to_string(),
            Pat::Concat(a, b) => format!("({} {})", a.text(), b.text()),
            Pat::Alt(a, b) => format!("({} | {})", a.text(), b.text()),
            Pat::Opt(a, g) => format!("({})?{}", a.text(), q(*g)),
            Pat::Star(a, g) => format!("({})*{}", a.text(), q(*g)),
            Pat::Plus(a, g) => format!("({})+{}", a.text(), q(*g)),
        }
    }
}

fn pattern() -> impl Strategy<Value = Pat> {
    let leaf = (0u8..3).prop_map(Pat::Var);
    leaf.prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Pat::Concat(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Pat::Alt(Box::new(a), Box::new(b))),
            (inner.clone(), any::<bool>()).prop_map(|(a, g)| Pat::Opt(Box::new(a), g)),
            (inner.clone(), any::<bool>()).prop_filter_map("loop body may be empty", |(a, g)| {
                (!a.nullable()).then(|| Pat::Star(Box::new(a), g))
            }),
            (inner, any::<bool>()).prop_filter_map("loop body may be empty", |(a, g)| {
                (!a.nullable()).then(|| Pat::Plus(Box::new(a), g))
            }),
        ]
    })
}

fn holds(var: u8, value: i64) -> bool {
    match var {
        0 => value <= 1,
        1 => value >= 1,
        _ => true,
    }
}

type Cont<'a> = &'a mut dyn FnMut(usize, &mut Vec<u8>) -> bool;

/// Backtracking in preference order: calls `k` with each way `p` can match from `pos`, most
/// preferred first, until `k` accepts.
// `a || b` and `b || a` differ here: the order is the preference order of the alternatives
// (clippy sees commutative blocks).
#[allow(clippy::if_same_then_else)]
fn matches(p: &Pat, rows: &[i64], pos: usize, labels: &mut Vec<u8>, k: Cont<'_>) -> bool {
    match p {
        Pat::Var(v) => {
            if pos < rows.len() && holds(*v, rows[pos]) {
                labels.push(*v);
                let r = k(pos + 1, labels);
                labels.pop();
                r
            } else {
                false
            }
        }
        Pat::Concat(a, b) => matches(a, rows, pos, labels, &mut |p2, l| {
            matches(b, rows, p2, l, k)
        }),
        Pat::Alt(a, b) => matches(a, rows, pos, labels, k) || matches(b, rows, pos, labels, k),
        Pat::Opt(a, greedy) => {
            if *greedy {
                matches(a, rows, pos, labels, k) || k(pos, labels)
            } else {
                k(pos, labels) || matches(a, rows, pos, labels, k)
            }
        }
        Pat::Star(a, greedy) => {
            let again = |p2: usize, l: &mut Vec<u8>, k: Cont<'_>| matches(p, rows, p2, l, k);
            if *greedy {
                matches(a, rows, pos, labels, &mut |p2, l| again(p2, l, k)) || k(pos, labels)
            } else {
                k(pos, labels) || matches(a, rows, pos, labels, &mut |p2, l| again(p2, l, k))
            }
        }
        Pat::Plus(a, greedy) => {
            let star = Pat::Star(a.clone(), *greedy);
            matches(a, rows, pos, labels, &mut |p2, l| {
                matches(&star, rows, p2, l, k)
            })
        }
    }
}

/// Every match (start, labels) with the given skip (past last row, or to next row).
fn reference(p: &Pat, rows: &[i64], next_row: bool) -> Vec<(usize, Vec<u8>)> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < rows.len() {
        let mut found = None;
        matches(p, rows, start, &mut Vec::new(), &mut |end, l| {
            found = Some((end, l.clone()));
            true
        });
        match found {
            Some((end, labels)) => {
                out.push((start, labels));
                start = if next_row || end == start {
                    start + 1
                } else {
                    end
                };
            }
            None => start += 1,
        }
    }
    out
}

fn eddy(p: &Pat, rows: &[i64], next_row: bool, history: bool) -> Vec<(usize, Vec<u8>)> {
    let skip = if next_row {
        "TO NEXT ROW"
    } else {
        "PAST LAST ROW"
    };
    let text = p.text();
    let mut defines = Vec::new();
    if text.contains('A') {
        defines.push("A AS value <= 1");
    }
    if text.contains('B') {
        defines.push("B AS value >= 1");
    }
    if history && text.contains('C') {
        defines.push("C AS count(C.*) >= 0");
    }
    let define = if defines.is_empty() {
        String::new()
    } else {
        format!("DEFINE {}", defines.join(", "))
    };
    let sql = format!(
        "MATCH_RECOGNIZE (MEASURES FIRST(pos) AS s ALL ROWS PER MATCH AFTER MATCH SKIP {skip}
           PATTERN ({text}) {define})"
    );
    let q = MatchRecognize::parse(&sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let cols = q.columns().to_vec();
    let data: Vec<Vec<Scalar>> = rows
        .iter()
        .enumerate()
        .map(|(i, v)| {
            cols.iter()
                .map(|c| {
                    if c == "pos" {
                        Scalar::Int(i as i64)
                    } else {
                        Scalar::Int(*v)
                    }
                })
                .collect()
        })
        .collect();
    let out = q.run_to_end(data.iter().map(|r| r.as_slice())).unwrap();
    let mut matches: Vec<(u64, usize, Vec<u8>)> = Vec::new();
    for r in out {
        let n = r.match_number.unwrap();
        let label = match r.classifier.as_deref() {
            Some("A") => 0,
            Some("B") => 1,
            Some("C") => 2,
            None => {
                // An empty match (no row to read its start from).
                matches.push((n, usize::MAX, Vec::new()));
                continue;
            }
            Some(other) => panic!("label {other}"),
        };
        let Scalar::Int(s) = r.measures[0] else {
            panic!("start")
        };
        match matches.last_mut() {
            Some(m) if m.0 == n => m.2.push(label),
            _ => matches.push((n, s as usize, vec![label])),
        }
    }
    matches.into_iter().map(|(_, s, l)| (s, l)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn matcher_agrees_with_backtracking(
        p in pattern(),
        rows in prop::collection::vec(0i64..3, 0..12),
        next_row in any::<bool>(),
        history in any::<bool>(),
    ) {
        let want: Vec<(usize, Vec<u8>)> = reference(&p, &rows, next_row)
            .into_iter()
            .map(|(s, l)| if l.is_empty() { (usize::MAX, l) } else { (s, l) })
            .collect();
        let got = eddy(&p, &rows, next_row, history);
        prop_assert_eq!(got, want, "pattern {}", p.text());
    }
}
