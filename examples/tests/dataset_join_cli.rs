//! The `dataset_join` binary on generated CSV files, compared with a nested-loop join of the
//! parsed rows, for every join type and hint, at several parallelisms and with a 1 MiB budget
//! (so partitions spill); and its bad-input contract.

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_dataset_join");

/// A CSV with a header and a key column drawn from `keys` distinct values (quoted ones too).
fn generate(header: &[&str], rows: usize, keys: u64, seed: u64) -> String {
    let mut state = seed;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        state >> 33
    };
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(header).unwrap();
    for i in 0..rows {
        let k = next() % keys;
        let key = if k % 10 == 3 {
            format!("k,{k}")
        } else {
            format!("k{k}")
        };
        let mut record = vec![key, format!("v{i}")];
        record.extend((2..header.len()).map(|c| format!("c{c}-{}", next() % 100)));
        writer.write_record(&record).unwrap();
    }
    String::from_utf8(writer.into_inner().unwrap()).unwrap()
}

fn parse(text: &[u8]) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text)
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

/// The nested-loop join of the parsed rows (header first, then sorted rows).
fn reference(left: &str, right: &str, lk: usize, rk: usize, kind: &str) -> Vec<Vec<String>> {
    let (mut l, mut r) = (parse(left.as_bytes()), parse(right.as_bytes()));
    let (lh, rh) = (l.remove(0), r.remove(0));
    let empty = |n: usize| vec![String::new(); n];
    let mut out = Vec::new();
    for lrow in &l {
        let matches: Vec<_> = r.iter().filter(|rrow| rrow[rk] == lrow[lk]).collect();
        for rrow in &matches {
            out.push([lrow.clone(), (*rrow).clone()].concat());
        }
        if matches.is_empty() && (kind == "left" || kind == "full") {
            out.push([lrow.clone(), empty(rh.len())].concat());
        }
    }
    if kind == "right" || kind == "full" {
        for rrow in &r {
            if !l.iter().any(|lrow| lrow[lk] == rrow[rk]) {
                out.push([empty(lh.len()), rrow.clone()].concat());
            }
        }
    }
    out.sort();
    out.insert(0, [lh, rh].concat());
    out
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn run(args: &[&str]) -> std::process::Output {
    Command::new(BIN).args(args).output().unwrap()
}

#[test]
fn every_type_and_hint_matches_the_nested_loop() {
    let dir = tempfile::tempdir().unwrap();
    let left_text = generate(&["id", "lv", "extra"], 6000, 2500, 1);
    let right_text = generate(&["rid", "rv"], 4000, 3000, 2);
    let left = write(dir.path(), "left.csv", &left_text);
    let right = write(dir.path(), "right.csv", &right_text);
    let output = dir.path().join("out.csv");
    let hints = [
        ("auto", "64", "1"),
        ("repartition-hash-first", "1", "2"),
        ("repartition-hash-second", "1", "3"),
        ("sort-merge", "1", "2"),
        ("broadcast-hash-first", "64", "2"),
        ("broadcast-hash-second", "64", "4"),
    ];
    for kind in ["inner", "left", "right", "full"] {
        let expected = reference(&left_text, &right_text, 0, 0, kind);
        for (hint, memory, parallelism) in hints {
            let result = run(&[
                "--left",
                left.to_str().unwrap(),
                "--right",
                right.to_str().unwrap(),
                "--left-key",
                "id",
                "--right-key",
                "0",
                "--type",
                kind,
                "--hint",
                hint,
                "--memory",
                memory,
                "--parallelism",
                parallelism,
                "--output",
                output.to_str().unwrap(),
            ]);
            assert!(
                result.status.success(),
                "{kind} {hint}: {}",
                String::from_utf8_lossy(&result.stderr)
            );
            let mut got = parse(&std::fs::read(&output).unwrap());
            got[1..].sort();
            assert_eq!(got.len(), expected.len(), "{kind} {hint}");
            assert!(got == expected, "{kind} {hint}: rows differ");
        }
    }
}

fn assert_bad_input(dir: &Path, args: &[&str], expected: &[&str]) {
    let before = std::fs::read_dir(dir).unwrap().count();
    let result = run(args);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    for part in expected {
        assert!(stderr.contains(part), "{stderr:?} lacks {part:?}");
    }
    assert_eq!(
        std::fs::read_dir(dir).unwrap().count(),
        before,
        "a file was left behind"
    );
}

#[test]
fn bad_input_names_file_line_and_column_and_leaves_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "good.csv", "a,b\n1,x\n2,y\n");
    let mut rows = String::from("a,b\n");
    for i in 0..9000 {
        rows.push_str(&format!("{i},x\n"));
    }
    let ragged = write(
        dir.path(),
        "ragged.csv",
        &rows.replace("\n7000,x\n", "\n7000\n"),
    );
    let missing = dir.path().join("missing.csv");
    let output = dir.path().join("out.csv");
    let base = |left: &Path, right: &Path, lk: &'static str| -> Vec<String> {
        [
            "--left",
            left.to_str().unwrap(),
            "--right",
            right.to_str().unwrap(),
            "--left-key",
            lk,
            "--right-key",
            "a",
            "--output",
            output.to_str().unwrap(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let cases: Vec<(Vec<String>, Vec<&str>)> = vec![
        (base(&good, &good, "nope"), vec!["good.csv:1", "nope"]),
        (
            base(&good, &ragged, "a"),
            vec!["ragged.csv:7002", "column 1"],
        ),
        (
            [
                base(&ragged, &good, "a"),
                vec!["--hint".into(), "broadcast-hash-second".into()],
            ]
            .concat(),
            vec!["ragged.csv:7002", "column 1"],
        ),
        (base(&missing, &good, "a"), vec!["missing.csv"]),
    ];
    for (args, expected) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_bad_input(dir.path(), &args, &expected);
    }
}
