//! Runs `cep_match --sql` on small MATCH_RECOGNIZE statements and JSON-lines events and
//! compares its exact output (ONE ROW and ALL ROWS PER MATCH, partitions, line numbers,
//! final watermark), and checks that bad SQL, contradicting flags and runtime skip failures
//! give exit code 2 with one line naming the file and line, and no output file.

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_cep_match");

struct Case {
    dir: tempfile::TempDir,
}

impl Case {
    fn new() -> Self {
        Case {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        fs::write(&p, text).expect("write");
        p
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .expect("runs")
    }

    fn entries(&self) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(self.dir.path())
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into())
            .collect();
        v.sort();
        v
    }
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).expect("utf8")
}

/// Exit 2, exactly one line on stderr containing every `needle`.
fn assert_bad(o: &Output, needles: &[&str]) {
    assert_eq!(
        o.status.code(),
        Some(2),
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "expected one line, got: {err}");
    for n in needles {
        assert!(err.contains(n), "{err:?} lacks {n:?}");
    }
    assert!(!err.contains("panicked"), "{err}");
}

/// Prices per account, out of order in the file (line 2 comes before line 1 in time).
const TICKS: &str = r#"{"ts": 2000, "acct": "x", "price": 80}
{"ts": 1000, "acct": "x", "price": 90}
{"ts": 1500, "acct": "y", "price": 10}
{"ts": 3000, "acct": "x", "price": 70}
{"ts": 4000, "acct": "x", "price": 95}

{"ts": 4500, "acct": "y", "price": 5}
{"ts": 5000, "acct": "x", "price": 60}
"#;

const V_SHAPE: &str = "SELECT * FROM ticks MATCH_RECOGNIZE (
  PARTITION BY acct
  ORDER BY ts
  MEASURES A.price AS start_price, LAST(B.price) AS bottom, C.price AS top, A.acct AS acct
  ONE ROW PER MATCH
  AFTER MATCH SKIP PAST LAST ROW
  PATTERN (A B+ C)
  DEFINE B AS price < PREV(price), C AS price > A.price
);
";

#[test]
fn one_row_per_match_per_partition() {
    let c = Case::new();
    c.file("q.sql", V_SHAPE);
    c.file("e.jsonl", TICKS);
    let o = c.run(&["--sql", "q.sql", "--events", "e.jsonl"]);
    assert_eq!(
        stdout(&o),
        "{\"match_number\":1,\"match\":{\"A\":[1],\"B\":[0,3],\"C\":[4]},\"measures\":{\"start_price\":90,\"bottom\":70,\"top\":95,\"acct\":\"x\"}}\n"
    );
}

#[test]
fn all_rows_per_match_with_unmatched_rows() {
    let c = Case::new();
    c.file(
        "q.sql",
        "MATCH_RECOGNIZE (PARTITION BY acct ORDER BY ts
           MEASURES RUNNING count(*) AS n, CLASSIFIER() AS label
           ALL ROWS PER MATCH WITH UNMATCHED ROWS
           PATTERN (DOWN+) DEFINE DOWN AS price < PREV(price))",
    );
    c.file("e.jsonl", TICKS);
    let o = c.run(&[
        "--sql",
        "q.sql",
        "--events",
        "e.jsonl",
        "--output",
        "out.jsonl",
    ]);
    assert_eq!(stdout(&o), "");
    let out = fs::read_to_string(c.dir.path().join("out.jsonl")).expect("output");
    // x: 90 (line 1, unmatched) 80 70 (down) 95 (unmatched) 60 (down); y: 10 5 (down at 5).
    // The last two are decided at end of input, partitions in order of first appearance.
    assert_eq!(
        out,
        concat!(
            "{\"row\":1,\"match_number\":null,\"classifier\":null,\"measures\":{\"n\":null,\"label\":null}}\n",
            "{\"row\":2,\"match_number\":null,\"classifier\":null,\"measures\":{\"n\":null,\"label\":null}}\n",
            "{\"row\":0,\"match_number\":1,\"classifier\":\"DOWN\",\"measures\":{\"n\":1,\"label\":\"DOWN\"}}\n",
            "{\"row\":3,\"match_number\":1,\"classifier\":\"DOWN\",\"measures\":{\"n\":2,\"label\":\"DOWN\"}}\n",
            "{\"row\":4,\"match_number\":null,\"classifier\":null,\"measures\":{\"n\":null,\"label\":null}}\n",
            "{\"row\":7,\"match_number\":2,\"classifier\":\"DOWN\",\"measures\":{\"n\":1,\"label\":\"DOWN\"}}\n",
            "{\"row\":6,\"match_number\":1,\"classifier\":\"DOWN\",\"measures\":{\"n\":1,\"label\":\"DOWN\"}}\n",
        )
    );
}

#[test]
fn final_watermark_none_leaves_greedy_matches_open() {
    let c = Case::new();
    c.file(
        "q.sql",
        "MATCH_RECOGNIZE (ORDER BY ts MEASURES count(*) AS n PATTERN (A+) DEFINE A AS price > 0)",
    );
    c.file("e.jsonl", TICKS);
    let max = c.run(&["--sql", "q.sql", "--events", "e.jsonl"]);
    assert_eq!(
        stdout(&max),
        "{\"match_number\":1,\"match\":{\"A\":[1,2,0,3,4,6,7]},\"measures\":{\"n\":7}}\n"
    );
    let none = c.run(&[
        "--sql",
        "q.sql",
        "--events",
        "e.jsonl",
        "--final-watermark",
        "none",
    ]);
    assert_eq!(stdout(&none), "");
}

#[test]
fn key_and_time_field_flags_apply_without_the_clauses() {
    let c = Case::new();
    c.file(
        "q.sql",
        "MATCH_RECOGNIZE (MEASURES FIRST(t) AS first_t PATTERN (A B) DEFINE B AS price < A.price)",
    );
    c.file(
        "e.jsonl",
        "{\"t\": 1, \"acct\": \"x\", \"price\": 5}\n{\"t\": 2, \"acct\": \"y\", \"price\": 4}\n{\"t\": 3, \"acct\": \"x\", \"price\": 3}\n",
    );
    let o = c.run(&[
        "--sql",
        "q.sql",
        "--events",
        "e.jsonl",
        "--key",
        "acct",
        "--time-field",
        "t",
    ]);
    assert_eq!(
        stdout(&o),
        "{\"match_number\":1,\"match\":{\"A\":[0],\"B\":[2]},\"measures\":{\"first_t\":1}}\n"
    );
    // Unpartitioned, lines 0 and 1 match first.
    let o = c.run(&["--sql", "q.sql", "--events", "e.jsonl", "--time-field", "t"]);
    assert_eq!(
        stdout(&o),
        "{\"match_number\":1,\"match\":{\"A\":[0],\"B\":[1]},\"measures\":{\"first_t\":1}}\n"
    );
}

#[test]
fn bad_sql_names_file_line_and_column() {
    let c = Case::new();
    c.file(
        "bad.sql",
        "MATCH_RECOGNIZE (\n  PATTERN (A B)\n  DEFINE B AS price < )\n",
    );
    c.file("e.jsonl", TICKS);
    let o = c.run(&[
        "--sql",
        "bad.sql",
        "--events",
        "e.jsonl",
        "--output",
        "out.jsonl",
    ]);
    assert_bad(&o, &["bad.sql:3:23: bad SQL", "expected an expression"]);
    assert_eq!(c.entries(), ["bad.sql", "e.jsonl"]);

    c.file("bad2.sql", "MATCH_RECOGNIZE (PATTERN (A{3,1}))");
    let o = c.run(&["--sql", "bad2.sql", "--events", "e.jsonl"]);
    assert_bad(&o, &["bad2.sql:1:", "bad SQL", "PATTERN"]);
}

#[test]
fn contradicting_flags_and_bad_events_exit_2() {
    let c = Case::new();
    c.file("q.sql", V_SHAPE);
    c.file("e.jsonl", TICKS);
    let o = c.run(&["--sql", "q.sql", "--events", "e.jsonl", "--key", "price"]);
    assert_bad(&o, &["q.sql", "--key price contradicts PARTITION BY acct"]);
    let o = c.run(&["--sql", "q.sql", "--events", "e.jsonl", "--time-field", "t"]);
    assert_bad(&o, &["q.sql", "--time-field t contradicts ORDER BY ts"]);
    let o = c.run(&["--sql", "q.sql", "--events", "e.jsonl", "--timeouts"]);
    assert_bad(&o, &["--timeouts does not apply to --sql"]);
    c.file(
        "nots.jsonl",
        "{\"ts\": 1, \"acct\": \"x\", \"price\": 1}\n{\"acct\": \"x\"}\n",
    );
    let o = c.run(&["--sql", "q.sql", "--events", "nots.jsonl"]);
    assert_bad(&o, &["nots.jsonl:2: the event has no time field \"ts\""]);
}

#[test]
fn skip_failure_at_run_time_names_the_event_line() {
    let c = Case::new();
    c.file(
        "q.sql",
        "MATCH_RECOGNIZE (ORDER BY ts AFTER MATCH SKIP TO FIRST A PATTERN (A B) DEFINE B AS price < PREV(price))",
    );
    c.file("e.jsonl", TICKS);
    let o = c.run(&[
        "--sql",
        "q.sql",
        "--events",
        "e.jsonl",
        "--output",
        "out.jsonl",
    ]);
    assert_bad(&o, &["e.jsonl:2:", "AFTER MATCH SKIP TO FIRST A"]);
    assert!(
        !c.entries().iter().any(|e| e.contains("out.jsonl")),
        "{:?}",
        c.entries()
    );
}
