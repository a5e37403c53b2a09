//! The `dataset_sort` binary on generated CSV files, compared with a stable in-memory sort of
//! the parsed rows, at several parallelisms and with a 1 MiB budget (so runs spill); and its
//! bad-input contract (one line naming file, line and column; exit 2; no output file).

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_dataset_sort");

/// A CSV with a header, numeric columns (negative, decimal, large), a text column with
/// commas and quotes, and many duplicate keys.
fn generate(rows: usize, seed: u64) -> String {
    let cities = [
        "Oslo",
        "Lima",
        "Ulm, Germany",
        "Bern \"CH\"",
        "Oslo",
        "",
        "Åre",
    ];
    let mut state = seed;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        state >> 33
    };
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(["id", "city", "score", "big"]).unwrap();
    for i in 0..rows {
        let score = match next() % 4 {
            0 => format!("{}", next() % 50),
            1 => format!("-{}.{}", next() % 50, next() % 10),
            2 => format!("{}.5", next() % 50),
            _ => format!("{}", (next() % 50) as i64 - 25),
        };
        let big = format!("{}", 9_007_199_254_740_992u64 + next() % 4);
        writer
            .write_record([
                i.to_string(),
                cities[next() as usize % cities.len()].to_string(),
                score,
                big,
            ])
            .unwrap();
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

/// The reference: a stable sort of the parsed rows by the key columns.
fn reference(text: &str, columns: &[usize], numeric: bool, desc: bool) -> Vec<Vec<String>> {
    let mut rows = parse(text.as_bytes());
    let header = rows.remove(0);
    let compare = |a: &Vec<String>, b: &Vec<String>| {
        for &c in columns {
            let ordering = if numeric {
                let (x, y): (f64, f64) = (a[c].parse().unwrap(), b[c].parse().unwrap());
                x.total_cmp(&y)
                    .then_with(|| match (a[c].parse::<i128>(), b[c].parse::<i128>()) {
                        (Ok(i), Ok(j)) => i.cmp(&j),
                        _ => std::cmp::Ordering::Equal,
                    })
            } else {
                a[c].as_bytes().cmp(b[c].as_bytes())
            };
            let ordering = if desc { ordering.reverse() } else { ordering };
            if ordering.is_ne() {
                return ordering;
            }
        }
        std::cmp::Ordering::Equal
    };
    rows.sort_by(compare);
    rows.insert(0, header);
    rows
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
fn sorted_output_matches_a_stable_sort() {
    let dir = tempfile::tempdir().unwrap();
    let text = generate(40_000, 7);
    let input = write(dir.path(), "in.csv", &text);
    // (--key, its column indexes, --numeric, --desc, --memory, --parallelism)
    type Case = (
        &'static str,
        &'static [usize],
        bool,
        bool,
        &'static str,
        &'static str,
    );
    let cases: [Case; 5] = [
        ("city", &[1], false, false, "64", "1"),
        ("score", &[2], true, false, "1", "2"),
        ("score", &[2], true, true, "1", "3"),
        ("city,2", &[1, 2], false, true, "1", "4"),
        ("3,score", &[3, 2], true, false, "1", "2"),
    ];
    for (key, columns, numeric, desc, memory, parallelism) in cases {
        let output = dir.path().join("out.csv");
        let mut args = vec![
            "--input",
            input.to_str().unwrap(),
            "--key",
            key,
            "--memory",
            memory,
            "--parallelism",
            parallelism,
            "--output",
            output.to_str().unwrap(),
        ];
        if numeric {
            args.push("--numeric");
        }
        if desc {
            args.push("--desc");
        }
        let result = run(&args);
        assert!(
            result.status.success(),
            "{key}: {}",
            String::from_utf8_lossy(&result.stderr)
        );
        let got = parse(&std::fs::read(&output).unwrap());
        let expected = reference(&text, columns, numeric, desc);
        assert_eq!(got.len(), expected.len(), "{key}");
        assert!(
            got == expected,
            "{key} numeric={numeric} desc={desc}: order differs"
        );
    }
}

/// Runs a failing case: exit 2, one stderr line containing every `expected` part, and no
/// output file (nor a temporary one) left in the directory.
fn assert_bad_input(dir: &Path, args: &[&str], expected: &[&str]) {
    let before = std::fs::read_dir(dir).unwrap().count();
    let result = run(args);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    for part in expected {
        assert!(stderr.contains(part), "{stderr:?} lacks {part:?}");
    }
    assert!(!dir.join("out.csv").exists());
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
    let output = dir.path().join("out.csv");
    let out = output.to_str().unwrap();
    assert_bad_input(
        dir.path(),
        &[
            "--input",
            good.to_str().unwrap(),
            "--key",
            "price",
            "--output",
            out,
        ],
        &["good.csv:1", "price"],
    );
    assert_bad_input(
        dir.path(),
        &[
            "--input",
            good.to_str().unwrap(),
            "--key",
            "5",
            "--output",
            out,
        ],
        &["good.csv:1", "'5'"],
    );
    let mut rows = String::from("a,b\n");
    for i in 0..5000 {
        rows.push_str(&format!("{i},x\n"));
    }
    let not_numeric = write(
        dir.path(),
        "nan.csv",
        &rows.replace("\n4321,x\n", "\nabc,x\n"),
    );
    assert_bad_input(
        dir.path(),
        &[
            "--input",
            not_numeric.to_str().unwrap(),
            "--key",
            "a",
            "--numeric",
            "--parallelism",
            "3",
            "--output",
            out,
        ],
        &["nan.csv:4323", "column a", "abc"],
    );
    let ragged = write(
        dir.path(),
        "ragged.csv",
        &rows.replace("\n3000,x\n", "\n3000,x,extra\n"),
    );
    assert_bad_input(
        dir.path(),
        &[
            "--input",
            ragged.to_str().unwrap(),
            "--key",
            "b",
            "--output",
            out,
        ],
        &["ragged.csv:3002", "column 2"],
    );
    let missing = dir.path().join("missing.csv");
    assert_bad_input(
        dir.path(),
        &[
            "--input",
            missing.to_str().unwrap(),
            "--key",
            "a",
            "--output",
            out,
        ],
        &["missing.csv"],
    );
}

#[test]
fn help_describes_the_contract() {
    let result = run(&["--help"]);
    let help = String::from_utf8_lossy(&result.stdout);
    assert!(result.status.success());
    for flag in [
        "--input",
        "--key",
        "--numeric",
        "--desc",
        "--memory",
        "--parallelism",
        "--output",
    ] {
        assert!(help.contains(flag), "{flag} missing from --help");
    }
}
