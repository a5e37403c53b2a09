//! Runs the `cep_match` binary on small pattern and event files and compares its exact output
//! (matches, timeouts, keys, line numbers), and checks that bad input gives exit code 2, one
//! line naming the file and line, and no output file.

use std::fs;
use std::path::{Path, PathBuf};
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

const FRAUD: &str = r#"{"stages": [
  {"name": "small", "condition": {"field": "amount", "op": "<", "value": 1.0}, "contiguity": "none"},
  {"name": "large", "condition": {"field": "amount", "op": ">", "value": 500}, "contiguity": "relaxed"}],
 "within_ms": 60000, "within_type": "first_and_last", "skip": {"strategy": "no_skip"}}
"#;

const TXNS: &str = r#"{"ts": 1000, "acct": "x", "amount": 0.5}
{"ts": 2000, "acct": "y", "amount": 0.2}
{"ts": 3000, "acct": "x", "amount": 20}
{"ts": 4000, "acct": "x", "amount": 900}

{"ts": 70000, "acct": "y", "amount": 900}
{"ts": 71000, "acct": 7, "amount": 0.1}
"#;

#[test]
fn keyed_matches_with_timeouts() {
    let c = Case::new();
    c.file("p.json", FRAUD);
    c.file("e.jsonl", TXNS);
    let o = c.run(&[
        "--pattern",
        "p.json",
        "--events",
        "e.jsonl",
        "--key",
        "acct",
        "--timeouts",
    ]);
    assert_eq!(
        stdout(&o),
        concat!(
            "{\"key\":\"x\",\"match\":{\"small\":[0],\"large\":[3]}}\n",
            "{\"key\":\"y\",\"timeout_ts\":62000,\"partial\":{\"small\":[1]}}\n",
            "{\"key\":7,\"timeout_ts\":131000,\"partial\":{\"small\":[6]}}\n",
        )
    );
}

#[test]
fn unkeyed_without_timeouts_and_final_watermark_none() {
    let c = Case::new();
    c.file("p.json", FRAUD);
    c.file("e.jsonl", TXNS);
    let o = c.run(&["--pattern", "p.json", "--events", "e.jsonl"]);
    assert_eq!(
        stdout(&o),
        "{\"key\":null,\"match\":{\"small\":[0],\"large\":[3]}}\n{\"key\":null,\"match\":{\"small\":[1],\"large\":[3]}}\n"
    );
    // time left at the last event: the partial match begun by line 6 never times out
    let two = "{\"key\":null,\"match\":{\"small\":[0],\"large\":[3]}}\n{\"key\":null,\"match\":{\"small\":[1],\"large\":[3]}}\n";
    let o = c.run(&[
        "--pattern",
        "p.json",
        "--events",
        "e.jsonl",
        "--timeouts",
        "--final-watermark",
        "none",
    ]);
    assert_eq!(stdout(&o), two);
    let o = c.run(&[
        "--pattern",
        "p.json",
        "--events",
        "e.jsonl",
        "--timeouts",
        "--final-watermark",
        "max",
    ]);
    assert_eq!(
        stdout(&o),
        format!("{two}{{\"key\":null,\"timeout_ts\":131000,\"partial\":{{\"small\":[6]}}}}\n")
    );
}

#[test]
fn events_are_ordered_by_time_and_equal_times_keep_input_order() {
    let c = Case::new();
    c.file(
        "p.json",
        r#"{"stages": [{"name": "a", "condition": {"field": "t", "op": "==", "value": "a"}},
                        {"name": "b", "contiguity": "strict", "condition": {"field": "t", "op": "==", "value": "b"}}]}"#,
    );
    c.file("e.jsonl", "{\"at\": 5, \"t\": \"b\"}\n{\"at\": 3, \"t\": \"a\"}\n{\"at\": 5, \"t\": \"a\"}\n{\"at\": 6, \"t\": \"b\"}\n");
    let o = c.run(&[
        "--pattern",
        "p.json",
        "--events",
        "e.jsonl",
        "--time-field",
        "at",
    ]);
    assert_eq!(
        stdout(&o),
        "{\"key\":null,\"match\":{\"a\":[1],\"b\":[0]}}\n{\"key\":null,\"match\":{\"a\":[2],\"b\":[3]}}\n"
    );
}

#[test]
fn skip_strategy_holds_matches_until_the_end_of_time() {
    let c = Case::new();
    c.file(
        "p.json",
        r#"{"stages": [{"name": "b", "condition": {"field": "t", "op": "==", "value": "b"}, "quantifier": {"min": 1, "max": null}},
                        {"name": "c", "contiguity": "strict", "condition": {"field": "t", "op": "==", "value": "c"}}],
            "skip": {"strategy": "skip_to_last", "stage": "b", "throw_on_miss": true}}"#,
    );
    c.file("e.jsonl", "{\"ts\": 1, \"t\": \"b\"}\n{\"ts\": 2, \"t\": \"b\"}\n{\"ts\": 3, \"t\": \"b\"}\n{\"ts\": 4, \"t\": \"c\"}\n");
    let o = c.run(&["--pattern", "p.json", "--events", "e.jsonl"]);
    assert_eq!(
        stdout(&o),
        "{\"key\":null,\"match\":{\"b\":[0,1,2],\"c\":[3]}}\n{\"key\":null,\"match\":{\"b\":[2],\"c\":[3]}}\n"
    );
    let o = c.run(&[
        "--pattern",
        "p.json",
        "--events",
        "e.jsonl",
        "--final-watermark",
        "none",
    ]);
    assert_eq!(stdout(&o), "");
}

#[test]
fn output_file_is_written_whole() {
    let c = Case::new();
    c.file("p.json", FRAUD);
    c.file("e.jsonl", TXNS);
    let o = c.run(&[
        "--pattern",
        "p.json",
        "--events",
        "e.jsonl",
        "--key",
        "acct",
        "--output",
        "out.jsonl",
    ]);
    assert_eq!(stdout(&o), "");
    assert_eq!(
        fs::read_to_string(c.dir.path().join("out.jsonl")).expect("output"),
        "{\"key\":\"x\",\"match\":{\"small\":[0],\"large\":[3]}}\n"
    );
    assert_eq!(c.entries(), vec!["e.jsonl", "out.jsonl", "p.json"]);
}

fn bad_case(pattern: &str, events: &str, needles: &[&str]) {
    let c = Case::new();
    c.file("p.json", pattern);
    c.file("e.jsonl", events);
    let o = c.run(&[
        "--pattern",
        "p.json",
        "--events",
        "e.jsonl",
        "--output",
        "out.jsonl",
    ]);
    assert_bad(&o, needles);
    assert_eq!(
        c.entries(),
        vec!["e.jsonl", "p.json"],
        "no output file may be left"
    );
}

#[test]
fn bad_event_json_names_file_and_line() {
    bad_case(
        FRAUD,
        "{\"ts\": 1, \"amount\": 0.5}\n{\"ts\": 2, \"amount\": 0.5\n",
        &["e.jsonl:2:", "bad JSON"],
    );
    bad_case(
        FRAUD,
        "{\"ts\": 1, \"amount\": 0.5}\n[1, 2]\n",
        &["e.jsonl:2:", "JSON object"],
    );
}

#[test]
fn event_without_time_field() {
    bad_case(
        FRAUD,
        "{\"ts\": 1, \"amount\": 0.5}\n\n{\"amount\": 900}\n",
        &["e.jsonl:3:", "no time field \"ts\""],
    );
    bad_case(
        FRAUD,
        "{\"ts\": \"soon\", \"amount\": 0.5}\n",
        &["e.jsonl:1:", "not an integer"],
    );
}

#[test]
fn unknown_stage_in_skip_strategy() {
    let p = "{\"stages\": [{\"name\": \"a\"}],\n \"skip\": {\"strategy\": \"skip_to_first\", \"stage\": \"zz\"}}\n";
    bad_case(p, "{\"ts\": 1}\n", &["p.json:2:", "unknown stage \"zz\""]);
}

#[test]
fn bad_op_and_bad_pattern_json() {
    let p = "{\"stages\": [\n {\"name\": \"a\", \"condition\": {\"field\": \"x\", \"op\": \"=~\", \"value\": 1}}]}\n";
    bad_case(p, "{\"ts\": 1}\n", &["p.json:2:", "unknown op \"=~\""]);
    bad_case(
        "{\"stages\": [\n",
        "{\"ts\": 1}\n",
        &["p.json:2:", "bad pattern"],
    );
}

#[test]
fn skip_throw_on_miss_at_run_time() {
    let p = r#"{"stages": [{"name": "a", "condition": {"field": "t", "op": "==", "value": "a"}},
        {"name": "b", "contiguity": "strict", "condition": {"field": "t", "op": "==", "value": "b"}, "quantifier": {"optional": true}},
        {"name": "c", "contiguity": "strict", "condition": {"field": "t", "op": "==", "value": "c"}}],
        "skip": {"strategy": "skip_to_first", "stage": "b", "throw_on_miss": true}}"#;
    bad_case(
        p,
        "{\"ts\": 1, \"t\": \"a\"}\n{\"ts\": 2, \"t\": \"c\"}\n",
        &["e.jsonl:2:", "stage \"b\" has no event"],
    );
}

#[test]
fn missing_files() {
    let c = Case::new();
    c.file("p.json", FRAUD);
    assert_bad(
        &c.run(&["--pattern", "p.json", "--events", "nope.jsonl"]),
        &["nope.jsonl", "cannot read"],
    );
    assert_bad(
        &c.run(&["--pattern", "nope.json", "--events", "p.json"]),
        &["nope.json", "cannot read"],
    );
}

#[test]
fn sql_mode_rejects_what_is_not_match_recognize() {
    // The --sql path itself is tested in cep_match_sql_cli.rs.
    let c = Case::new();
    c.file("q.sql", "SELECT 1");
    c.file("e.jsonl", "{\"ts\": 1}\n");
    assert_bad(
        &c.run(&["--sql", "q.sql", "--events", "e.jsonl"]),
        &["q.sql:1:8: bad SQL"],
    );
    // --pattern and --sql exclude each other; one is required
    assert_eq!(c.run(&["--events", "e.jsonl"]).status.code(), Some(2));
}

#[test]
fn help_documents_every_flag() {
    let c = Case::new();
    let out = stdout(&c.run(&["--help"]));
    for flag in [
        "--pattern",
        "--sql",
        "--events",
        "--key",
        "--time-field",
        "--final-watermark",
        "--timeouts",
        "--output",
        "timeout_ts",
    ] {
        assert!(out.contains(flag), "--help lacks {flag}");
    }
    let _ = Path::new(BIN);
}
