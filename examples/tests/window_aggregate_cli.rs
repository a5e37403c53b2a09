//! The `window_aggregate` binary: its output format, Flink's firing and lateness rules on
//! small hand-checked inputs, the same output at every parallelism, and its bad-input
//! contract (one line, exit 2, no output file).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_window_aggregate");

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn sorted_lines(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines: Vec<String> = text.lines().skip(1).map(String::from).collect();
    assert_eq!(
        text.lines().next(),
        Some("key,window_start,window_end,count,sum,min,max")
    );
    lines.sort();
    lines
}

const EVENTS: &str = "key,ts,value\n\
a,1000,1.5\n\
a,2000,2\n\
b,1500,3\n\
a,12000,4\n\
a,3000,10\n\
b,25000,1\n\
a,9000,0.5\n";

#[test]
fn tumbling_with_lateness_refires_late_windows_and_diverts_rows_past_it() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "in.csv", EVENTS);
    let (out, late) = (dir.path().join("out.csv"), dir.path().join("late.csv"));
    let status = run(&[
        "--input",
        input.to_str().unwrap(),
        "--window",
        "tumbling:10s",
        "--allowed-lateness",
        "5s",
        "--late-output",
        late.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
    ]);
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(
        text.lines().next(),
        Some("key,window_start,window_end,count,sum,min,max")
    );
    // a@3000 arrives after the watermark (11999) passed [0,10000) but within the lateness: the
    // window fires again with it. a@9000 arrives after its cleanup (14999 <= 24999): late.
    let rows: Vec<&str> = text.lines().skip(1).collect();
    let a0: Vec<&&str> = rows
        .iter()
        .filter(|r| r.starts_with("a,0,10000,"))
        .collect();
    assert_eq!(
        a0,
        [&"a,0,10000,2,3.5,1.5,2.0", &"a,0,10000,3,13.5,1.5,10.0"]
    );
    let mut others: Vec<&str> = rows
        .iter()
        .copied()
        .filter(|r| !r.starts_with("a,0,10000,"))
        .collect();
    others.sort();
    assert_eq!(
        others,
        [
            "a,10000,20000,1,4.0,4.0,4.0",
            "b,0,10000,1,3.0,3.0,3.0",
            "b,20000,30000,1,1.0,1.0,1.0"
        ]
    );
    assert_eq!(
        std::fs::read_to_string(&late).unwrap(),
        "key,ts,value\na,9000,0.5\n"
    );
}

#[test]
fn without_lateness_late_rows_are_dropped_and_logged() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "in.csv", EVENTS);
    let out = dir.path().join("out.csv");
    let result = run(&[
        "--input",
        input.to_str().unwrap(),
        "--window",
        "tumbling:10s",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert!(result.status.success());
    // a@3000 and a@9000 both arrive after [0,10000) was cleared.
    assert!(sorted_lines(&out).contains(&"a,0,10000,2,3.5,1.5,2.0".to_string()));
    assert!(
        String::from_utf8_lossy(&result.stderr).contains("dropped=2"),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
}

#[test]
fn sessions_merge_when_they_touch_and_sliding_windows_overlap() {
    let dir = tempfile::tempdir().unwrap();
    // Gap 5 ms: a@0 -> [0,5), a@5 touches it -> [0,10), a@20 starts anew; with out-of-orderness
    // 100 ms nothing is late.
    let input = write(dir.path(), "s.csv", "key,ts,value\na,0,1\na,20,2\na,5,3\n");
    let out = dir.path().join("out.csv");
    let r = run(&[
        "--input",
        input.to_str().unwrap(),
        "--window",
        "session:5ms",
        "--out-of-orderness",
        "100ms",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert!(r.status.success());
    assert_eq!(
        sorted_lines(&out),
        ["a,0,10,2,4.0,1.0,3.0", "a,20,25,1,2.0,2.0,2.0"]
    );

    let input = write(dir.path(), "w.csv", "key,ts,value\nk,1,1\nk,3,2\n");
    let r = run(&[
        "--input",
        input.to_str().unwrap(),
        "--window",
        "sliding:4ms,2ms",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert!(r.status.success());
    assert_eq!(
        sorted_lines(&out),
        [
            "k,-2,2,1,1.0,1.0,1.0",
            "k,0,4,2,3.0,1.0,2.0",
            "k,2,6,1,2.0,2.0,2.0"
        ]
    );
}

#[test]
fn every_parallelism_gives_the_same_rows() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("key,ts,value\n");
    let mut state = 7u64;
    for i in 0..3000u64 {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
        let ts = i as i64 * 10 - ((state >> 40) % 300) as i64;
        text.push_str(&format!(
            "k{},{},{}\n",
            (state >> 33) % 17,
            ts,
            (state >> 20) % 1000
        ));
    }
    let input = write(dir.path(), "in.csv", &text);
    let mut outputs = Vec::new();
    for p in ["1", "2", "4"] {
        for spec in ["tumbling:500ms", "sliding:1s,250ms", "session:40ms"] {
            let out = dir
                .path()
                .join(format!("out-{p}-{}.csv", spec.replace([':', ','], "_")));
            let r = run(&[
                "--input",
                input.to_str().unwrap(),
                "--window",
                spec,
                "--out-of-orderness",
                "100ms",
                "--allowed-lateness",
                "100ms",
                "--parallelism",
                p,
                "--output",
                out.to_str().unwrap(),
            ]);
            assert!(r.status.success());
            outputs.push((spec, sorted_lines(&out)));
        }
    }
    for (spec, lines) in &outputs[3..] {
        let first = &outputs.iter().find(|(s, _)| s == spec).unwrap().1;
        assert!(!first.is_empty());
        assert_eq!(lines, first, "{spec}");
    }
}

#[test]
fn malformed_rows_are_one_line_exit_2_and_leave_no_output() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text, expected) in [
        ("ts.csv", "key,ts,value\na,1,2\na,x,3\n", ":3: column 'ts'"),
        (
            "cols.csv",
            "key,ts,value\na,1,2\na,2,3,4\n",
            ":3: expected 3 columns, found 4",
        ),
        (
            "value.csv",
            "key,ts,value\na,1,2\na,2,zz\n",
            ":3: column 'value': 'zz' is not a number",
        ),
    ] {
        let input = write(dir.path(), name, text);
        let out = dir.path().join("out.csv");
        let late = dir.path().join("late.csv");
        let r = run(&[
            "--input",
            input.to_str().unwrap(),
            "--window",
            "tumbling:1s",
            "--late-output",
            late.to_str().unwrap(),
            "--output",
            out.to_str().unwrap(),
        ]);
        assert_eq!(r.status.code(), Some(2), "{name}");
        let stderr = String::from_utf8(r.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains(name) && stderr.contains(expected),
            "{stderr}"
        );
        assert!(!out.exists() && !late.exists(), "{name} left output behind");
    }
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            name.starts_with('.').then_some(name)
        })
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn bad_flags_and_missing_files_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o.csv");
    for args in [
        vec![
            "--input",
            "/no/such.csv",
            "--window",
            "tumbling:1s",
            "--output",
            out.to_str().unwrap(),
        ],
        vec![
            "--input",
            "x.csv",
            "--window",
            "hopping:1s",
            "--output",
            "o.csv",
        ],
        vec![
            "--input",
            "x.csv",
            "--window",
            "tumbling:0s",
            "--output",
            "o.csv",
        ],
        vec![
            "--input",
            "x.csv",
            "--window",
            "sliding:1s",
            "--output",
            "o.csv",
        ],
        vec![
            "--input",
            "x.csv",
            "--window",
            "tumbling:1s",
            "--out-of-orderness",
            "soon",
            "--output",
            "o.csv",
        ],
    ] {
        let r = run(&args);
        assert_eq!(r.status.code(), Some(2), "{args:?}");
    }
    assert!(!out.exists());
}
