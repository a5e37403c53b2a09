//! MATCH_RECOGNIZE conformance: cases written from the documented semantics of SQL:2016 row
//! pattern recognition as Trino implements it (its docs and the behaviours its row pattern
//! matching tests cover: preference order, quantifiers and their reluctant forms, anchors,
//! exclusion, PERMUTE, SUBSET, empty and unmatched rows, every skip strategy, navigation,
//! RUNNING/FINAL, aggregates), each run over one partition and compared with the exact output.

use eddy_cep::sql::{MatchRecognize, MatchRow, Scalar};

/// Runs `sql` over rows whose only column is `value`.
fn run(sql: &str, values: &[i64]) -> Vec<MatchRow<usize>> {
    let q = MatchRecognize::parse(sql).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        q.columns().iter().all(|c| c == "value"),
        "{:?}",
        q.columns()
    );
    let rows: Vec<Vec<Scalar>> = values.iter().map(|v| vec![Scalar::Int(*v)]).collect();
    q.run_to_end(rows.iter().map(|r| r.as_slice())).unwrap()
}

/// ONE ROW PER MATCH as `n: A[0,1] B[2] | measures`.
fn one(out: &[MatchRow<usize>]) -> Vec<String> {
    out.iter()
        .map(|m| {
            let vars: Vec<String> = m
                .matched
                .iter()
                .map(|(v, rows)| format!("{v}{rows:?}"))
                .collect();
            let ms: Vec<String> = m.measures.iter().map(|v| v.to_string()).collect();
            format!(
                "{}: {} | {}",
                m.match_number.unwrap(),
                vars.join(" "),
                ms.join(" ")
            )
        })
        .collect()
}

/// ALL ROWS PER MATCH as `row match classifier | measures` (`-` for null).
fn all(out: &[MatchRow<usize>]) -> Vec<String> {
    let o = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    out.iter()
        .map(|m| {
            let ms: Vec<String> = m.measures.iter().map(|v| v.to_string()).collect();
            format!(
                "{} {} {} | {}",
                o(m.row.map(|r| r.to_string())),
                o(m.match_number.map(|n| n.to_string())),
                o(m.classifier.as_ref().map(|c| c.to_string())),
                ms.join(" ")
            )
        })
        .collect()
}

const V_SHAPE: [i64; 8] = [90, 80, 70, 80, 90, 50, 40, 60];

#[test]
fn all_rows_past_last_row_running_measures() {
    let out = run(
        "SELECT * FROM t MATCH_RECOGNIZE (
           ORDER BY id
           MEASURES MATCH_NUMBER() AS m, RUNNING LAST(value) AS val, CLASSIFIER() AS label
           ALL ROWS PER MATCH
           AFTER MATCH SKIP PAST LAST ROW
           PATTERN (A B+ C+)
           DEFINE B AS value < PREV(value), C AS value > PREV(value))",
        &V_SHAPE,
    );
    assert_eq!(
        all(&out),
        [
            "0 1 A | 1 90 \"A\"",
            "1 1 B | 1 80 \"B\"",
            "2 1 B | 1 70 \"B\"",
            "3 1 C | 1 80 \"C\"",
            "4 1 C | 1 90 \"C\"",
            "5 2 A | 2 50 \"A\"",
            "6 2 B | 2 40 \"B\"",
            "7 2 C | 2 60 \"C\"",
        ]
    );
}

#[test]
fn one_row_per_match_with_subset_and_aggregates() {
    let out = run(
        "MATCH_RECOGNIZE (
           MEASURES FIRST(value) AS top, LAST(B.value) AS bottom, LAST(U.value) AS last_up,
                    count(U.*) AS ups, sum(B.value) AS b_sum, avg(value) AS mean,
                    min(value) AS lo, max(U.value) AS hi, CLASSIFIER() AS last_label
           ONE ROW PER MATCH
           PATTERN (A B+ C+)
           SUBSET U = (C)
           DEFINE B AS value < PREV(value), C AS value > PREV(value))",
        &V_SHAPE,
    );
    assert_eq!(
        one(&out),
        [
            "1: A[0] B[1, 2] C[3, 4] | 90 70 90 2 150 82.0 70 90 \"C\"",
            "2: A[5] B[6] C[7] | 50 40 60 1 40 50.0 40 60 \"C\"",
        ]
    );
}

#[test]
fn skip_to_next_row_tries_every_row() {
    let out = run(
        "MATCH_RECOGNIZE (AFTER MATCH SKIP TO NEXT ROW PATTERN (A B+ C+)
           DEFINE B AS value < PREV(value), C AS value > PREV(value))",
        &V_SHAPE,
    );
    assert_eq!(
        one(&out),
        [
            "1: A[0] B[1, 2] C[3, 4] | ",
            "2: A[1] B[2] C[3, 4] | ",
            "3: A[4] B[5, 6] C[7] | ",
            "4: A[5] B[6] C[7] | ",
        ]
    );
}

#[test]
fn skip_to_first_and_last_variable() {
    let base = "PATTERN (A B+ C+) DEFINE B AS value < PREV(value), C AS value > PREV(value))";
    for (skip, want) in [
        (
            "TO LAST B",
            ["1: A[0] B[1, 2] C[3, 4] | ", "2: A[4] B[5, 6] C[7] | "],
        ),
        (
            "TO B",
            ["1: A[0] B[1, 2] C[3, 4] | ", "2: A[4] B[5, 6] C[7] | "],
        ),
        (
            "TO FIRST C",
            ["1: A[0] B[1, 2] C[3, 4] | ", "2: A[4] B[5, 6] C[7] | "],
        ),
    ] {
        let out = run(
            &format!("MATCH_RECOGNIZE (AFTER MATCH SKIP {skip} {base}"),
            &V_SHAPE,
        );
        assert_eq!(one(&out), want, "{skip}");
    }
}

#[test]
fn skip_to_the_first_row_or_a_missing_variable_fails() {
    let q = MatchRecognize::parse(
        "MATCH_RECOGNIZE (AFTER MATCH SKIP TO FIRST A PATTERN (A B) DEFINE B AS value > 0)",
    )
    .unwrap();
    let rows = [vec![Scalar::Int(1)], vec![Scalar::Int(2)]];
    let err = q.run_to_end(rows.iter().map(|r| r.as_slice())).unwrap_err();
    assert!(err.message.contains("first row of match 1"), "{err}");
    assert_eq!(err.row, 0);

    let q = MatchRecognize::parse(
        "MATCH_RECOGNIZE (AFTER MATCH SKIP TO A PATTERN (X A* X) DEFINE A AS false)",
    )
    .unwrap();
    let err = q.run_to_end(rows.iter().map(|r| r.as_slice())).unwrap_err();
    assert!(
        err.message.contains("no row of match 1 is mapped to A"),
        "{err}"
    );
}

#[test]
fn left_alternative_is_preferred() {
    let sql = |p: &str| {
        format!("MATCH_RECOGNIZE (ALL ROWS PER MATCH PATTERN ({p}) DEFINE A AS true, B AS true)")
    };
    assert_eq!(all(&run(&sql("A | B"), &[1])), ["0 1 A | "]);
    assert_eq!(all(&run(&sql("B | A"), &[1])), ["0 1 B | "]);
    // A later alternative wins only if the earlier cannot complete a match.
    let out = run(
        "MATCH_RECOGNIZE (ALL ROWS PER MATCH PATTERN ((A | B) C) DEFINE A AS true, C AS PREV(CLASSIFIER()) = 'B')",
        &[1, 2],
    );
    assert_eq!(all(&out), ["0 1 B | ", "1 1 C | "]);
}

#[test]
fn greedy_and_reluctant_quantifiers() {
    let rows = [1, 1, 1, 1, 1, 1, 1];
    let count = |p: &str| {
        let out = run(
            &format!("MATCH_RECOGNIZE (PATTERN ({p}) DEFINE A AS value = 1)"),
            &rows,
        );
        one(&out)
            .iter()
            .map(|s| s.split(" | ").next().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(count("A+"), ["1: A[0, 1, 2, 3, 4, 5, 6]"]);
    assert_eq!(count("A+?").len(), 7);
    assert_eq!(count("A{2,3}"), ["1: A[0, 1, 2]", "2: A[3, 4, 5]"]);
    assert_eq!(count("A{2,3}?"), ["1: A[0, 1]", "2: A[2, 3]", "3: A[4, 5]"]);
    assert_eq!(
        count("A{,2}"),
        ["1: A[0, 1]", "2: A[2, 3]", "3: A[4, 5]", "4: A[6]"]
    );
    assert_eq!(count("A{3}"), ["1: A[0, 1, 2]", "2: A[3, 4, 5]"]);
    assert_eq!(count("A{3,}"), ["1: A[0, 1, 2, 3, 4, 5, 6]"]);
    assert_eq!(count("A{5,}?"), ["1: A[0, 1, 2, 3, 4]"]);
    assert_eq!(
        count("A A??"),
        ["1: A[0]", "2: A[1]", "3: A[2]", "4: A[3]", "5: A[4]", "6: A[5]", "7: A[6]"]
    );
    assert_eq!(
        count("A A?"),
        ["1: A[0, 1]", "2: A[2, 3]", "3: A[4, 5]", "4: A[6]"]
    );
}

#[test]
fn reluctant_gap_finds_the_first_following_row() {
    // "a followed by b": the reluctant X*? lets B take the first b.
    let out = run(
        "MATCH_RECOGNIZE (MEASURES A.value AS a, B.value AS b AFTER MATCH SKIP TO NEXT ROW
           PATTERN (A X*? B) DEFINE A AS value < 10, B AS value >= 10)",
        &[1, 2, 30, 3, 40],
    );
    assert_eq!(
        one(&out),
        [
            "1: A[0] X[1] B[2] | 1 30",
            "2: A[1] B[2] | 2 30",
            "3: A[3] B[4] | 3 40",
        ]
    );
}

#[test]
fn empty_matches_and_unmatched_rows() {
    let data = [1, 200, 300, 2];
    let q = |rows: &str, p: &str| {
        format!(
            "MATCH_RECOGNIZE (MEASURES count(*) AS n {rows} PATTERN ({p}) DEFINE A AS value > 100)"
        )
    };
    assert_eq!(
        all(&run(&q("ALL ROWS PER MATCH", "A*"), &data)),
        ["- 1 - | 0", "1 2 A | 1", "2 2 A | 2", "- 3 - | 0"]
    );
    assert_eq!(
        all(&run(
            &q("ALL ROWS PER MATCH SHOW EMPTY MATCHES", "A*"),
            &data
        )),
        ["- 1 - | 0", "1 2 A | 1", "2 2 A | 2", "- 3 - | 0"]
    );
    assert_eq!(
        all(&run(
            &q("ALL ROWS PER MATCH OMIT EMPTY MATCHES", "A*"),
            &data
        )),
        ["1 2 A | 1", "2 2 A | 2"]
    );
    assert_eq!(
        all(&run(
            &q("ALL ROWS PER MATCH WITH UNMATCHED ROWS", "A+"),
            &data
        )),
        ["0 - - | null", "1 1 A | 1", "2 1 A | 2", "3 - - | null"]
    );
    assert_eq!(
        one(&run(&q("ONE ROW PER MATCH", "A*"), &data)),
        ["1:  | 0", "2: A[1, 2] | 2", "3:  | 0"]
    );
}

#[test]
fn anchors_bind_to_the_partition() {
    let p = |pat: &str| {
        one(&run(
            &format!("MATCH_RECOGNIZE (PATTERN ({pat}) DEFINE A AS true)"),
            &[1, 2, 3],
        ))
    };
    assert_eq!(p("^A"), ["1: A[0] | "]);
    assert_eq!(p("A$"), ["1: A[2] | "]);
    assert_eq!(p("A+$"), ["1: A[0, 1, 2] | "]);
    assert_eq!(p("^A+?"), ["1: A[0] | "]);
    assert_eq!(p("^A$").len(), 0);
}

#[test]
fn exclusion_hides_rows_from_all_rows_per_match_only() {
    let sql = |rows: &str| {
        format!(
            "MATCH_RECOGNIZE (MEASURES count(*) AS n {rows} PATTERN (A {{- B+ -}} C)
               DEFINE A AS value = 1, B AS value > 4, C AS value = 2)"
        )
    };
    let data = [1, 5, 6, 2];
    assert_eq!(
        all(&run(&sql("ALL ROWS PER MATCH"), &data)),
        ["0 1 A | 1", "3 1 C | 4"]
    );
    assert_eq!(
        one(&run(&sql("ONE ROW PER MATCH"), &data)),
        ["1: A[0] B[1, 2] C[3] | 4"]
    );
    let err = MatchRecognize::parse(&sql("ALL ROWS PER MATCH WITH UNMATCHED ROWS")).unwrap_err();
    assert!(err.message.contains("exclusion"), "{err}");
}

#[test]
fn permute_tries_orders_lexicographically() {
    let out = run(
        "MATCH_RECOGNIZE (ALL ROWS PER MATCH PATTERN (PERMUTE(A, B, C))
           DEFINE A AS value = 1, B AS value = 2, C AS value = 3)",
        &[3, 1, 2],
    );
    assert_eq!(all(&out), ["0 1 C | ", "1 1 A | ", "2 1 B | "]);
    let out = run(
        "MATCH_RECOGNIZE (ALL ROWS PER MATCH PATTERN (PERMUTE(A, B)) DEFINE A AS true, B AS true)",
        &[1, 2],
    );
    assert_eq!(all(&out), ["0 1 A | ", "1 1 B | "]);
}

#[test]
fn physical_navigation_stays_in_the_partition() {
    let out = run(
        "MATCH_RECOGNIZE (ALL ROWS PER MATCH PATTERN (A) DEFINE A AS PREV(value) IS NULL)",
        &[5, 6, 7],
    );
    assert_eq!(all(&out), ["0 1 A | "]);
    // NEXT in DEFINE looks ahead; past the last row it is null.
    let out = run(
        "MATCH_RECOGNIZE (MEASURES NEXT(A.value) AS next PATTERN (A) DEFINE A AS NEXT(value) > value)",
        &[1, 3, 2, 5],
    );
    assert_eq!(one(&out), ["1: A[0] | 3", "2: A[2] | 5"]);
}

#[test]
fn logical_offsets_and_composed_navigation() {
    let out = run(
        "MATCH_RECOGNIZE (
           MEASURES FIRST(A.value, 1) AS f1, LAST(A.value, 1) AS l1, PREV(LAST(A.value), 2) AS p2,
                    NEXT(FIRST(A.value), 1) AS n1, LAST(A.value, 9) AS missing, PREV(FIRST(value)) AS before
           PATTERN (A+) DEFINE A AS value > 0)",
        &[0, 1, 2, 3, 4],
    );
    assert_eq!(one(&out), ["1: A[1, 2, 3, 4] | 2 3 2 2 null 0"]);
}

#[test]
fn running_and_final_semantics() {
    let out = run(
        "MATCH_RECOGNIZE (
           MEASURES RUNNING LAST(value) AS r, FINAL LAST(value) AS f, FINAL count(*) AS n,
                    count(*) AS so_far, FINAL FIRST(value) AS first_value
           ALL ROWS PER MATCH PATTERN (A+) DEFINE A AS true)",
        &[1, 2, 3],
    );
    assert_eq!(
        all(&out),
        [
            "0 1 A | 1 3 3 1 1",
            "1 1 A | 2 3 3 2 1",
            "2 1 A | 3 3 3 3 1"
        ]
    );
    let err =
        MatchRecognize::parse("MATCH_RECOGNIZE (PATTERN (A) DEFINE A AS FINAL LAST(value) > 0)")
            .unwrap_err();
    assert!(
        err.message.contains("FINAL is not allowed in DEFINE"),
        "{err}"
    );
}

#[test]
fn conditions_read_the_match_so_far() {
    // The running sum of A rows bounds the match.
    let out = run(
        "MATCH_RECOGNIZE (PATTERN (A+) DEFINE A AS sum(A.value) <= 10)",
        &[4, 4, 4, 1],
    );
    assert_eq!(one(&out), ["1: A[0, 1] | ", "2: A[2, 3] | "]);
    // B is compared with the match's A row.
    let out = run(
        "MATCH_RECOGNIZE (MEASURES B.value - A.value AS rise AFTER MATCH SKIP TO NEXT ROW
           PATTERN (A X*? B) DEFINE B AS B.value > A.value + 5)",
        &[1, 3, 9, 2],
    );
    assert_eq!(one(&out), ["1: A[0] X[1] B[2] | 8", "2: A[1] B[2] | 6"]);
}

#[test]
fn preference_holds_when_conditions_read_labels() {
    // At row 2, B (loop) is preferred to C (exit): A A B C wins over A A C.
    let sql = "MATCH_RECOGNIZE (ALL ROWS PER MATCH PATTERN ((A | B)+ C)
                 DEFINE A AS true, B AS true, C AS count(A.*) = 2)";
    let labels = |out: Vec<MatchRow<usize>>| -> String {
        out.iter()
            .map(|m| m.classifier.clone().unwrap().to_string())
            .collect()
    };
    assert_eq!(labels(run(sql, &[0, 0, 0])), "AAC");
    assert_eq!(labels(run(sql, &[0, 0, 0, 0])), "AABC");
}

#[test]
fn match_number_and_classifier_in_define() {
    let out = run(
        "MATCH_RECOGNIZE (MEASURES MATCH_NUMBER() AS n ALL ROWS PER MATCH PATTERN (A B?)
           DEFINE A AS MATCH_NUMBER() <= 2, B AS PREV(CLASSIFIER()) = 'A')",
        &[1, 2, 3, 4, 5],
    );
    assert_eq!(
        all(&out),
        ["0 1 A | 1", "1 1 B | 1", "2 2 A | 2", "3 2 B | 2"]
    );
}

#[test]
fn expressions_follow_sql() {
    let out = run(
        "MATCH_RECOGNIZE (
           MEASURES value * 2 + 1 AS a, value / 2 AS b, value % 3 AS c, -value AS d,
                    CASE WHEN value > 5 THEN 'big' ELSE 'small' END AS e,
                    value || 'x' AS f, abs(-value) AS g, coalesce(PREV(value), 0) AS h
           PATTERN (A) DEFINE A AS NOT (value BETWEEN 3 AND 4) AND value IN (7, 8) OR value IS NULL)",
        &[3, 7],
    );
    assert_eq!(one(&out), ["1: A[1] | 15 3 1 -7 \"big\" null 7 3"]);
}

#[test]
fn names_fold_case_unless_quoted() {
    let out = run(
        "match_recognize (measures classifier() as c all rows per match pattern (a \"b\")
           define a as value = 1, \"b\" as value = 2)",
        &[1, 2],
    );
    assert_eq!(all(&out), ["0 1 A | \"A\"", "1 1 b | \"b\""]);
}

#[test]
fn errors_name_line_and_column() {
    for (sql, line, col, needle) in [
        (
            "MATCH_RECOGNIZE (\n  PATTERN (A B)\n  DEFINE C AS true)",
            3,
            10,
            "C does not appear in PATTERN",
        ),
        (
            "MATCH_RECOGNIZE (PATTERN (A) DEFINE A AS value >)",
            1,
            49,
            "expected an expression",
        ),
        ("MATCH_RECOGNIZE (\nPATTERN (A |* B))", 2, 13, "PATTERN"),
        (
            "MATCH_RECOGNIZE (MEASURES PREV(LAST(A.value)) + PREV(PREV(value)) AS x PATTERN (A))",
            1,
            54,
            "nested",
        ),
        (
            "MATCH_RECOGNIZE (MEASURES LAST(A.value + B.value) AS x PATTERN (A B))",
            1,
            42,
            "same pattern variable",
        ),
        (
            "MATCH_RECOGNIZE (ORDER BY ts DESC PATTERN (A))",
            1,
            27,
            "ORDER BY",
        ),
        (
            "MATCH_RECOGNIZE (PATTERN (A) SUBSET U = (Z))",
            1,
            37,
            "Z is not a pattern variable",
        ),
        (
            "MATCH_RECOGNIZE (AFTER MATCH SKIP TO Q PATTERN (A))",
            1,
            24,
            "unknown pattern variable Q",
        ),
    ] {
        let e = MatchRecognize::parse(sql).unwrap_err();
        assert!(e.message.contains(needle), "{sql}: {e}");
        assert_eq!((e.line, e.column), (line, col), "{sql}: {e}");
    }
}
