//! Readers and writers: typed CSV with and without a header, errors that name the file, the
//! line and the column, parallel text reading, and atomic writes (no file after a failure).

use eddy_dataset::{CsvOptions, ExecutionEnvironment};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Sale {
    shop: String,
    amount: u32,
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn csv_rows_are_read_by_column_name_and_written_back() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "sales.csv", "amount,shop\n3,a\n4,b\n5,a\n");
    let env = ExecutionEnvironment::new();
    env.set_parallelism(2);
    let totals = env
        .read_csv::<Sale>(&input)
        .group_by(|s| s.shop.clone())
        .sum(|s: &mut Sale| &mut s.amount);
    let output = dir.path().join("totals.csv");
    totals
        .sort_partition(|s| s.shop.clone(), eddy_dataset::Order::Ascending)
        .set_parallelism(1)
        .write_as_csv(&output, Some(&["shop", "amount"]));
    env.execute("totals").unwrap();
    assert_eq!(
        std::fs::read_to_string(&output).unwrap(),
        "shop,amount\na,8\nb,4\n"
    );
}

#[test]
fn csv_without_header_reads_tuples_by_position() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "pairs.tsv", "1\t2\n3\t4\n");
    let env = ExecutionEnvironment::new();
    let options = CsvOptions {
        has_header: false,
        delimiter: b'\t',
        ..CsvOptions::default()
    };
    let rows = env
        .read_csv_with::<(u32, u32)>(&input, options)
        .collect()
        .unwrap();
    assert_eq!(rows, vec![(1, 2), (3, 4)]);
}

#[test]
fn a_malformed_csv_value_names_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "bad.csv", "shop,amount\na,1\nb,x\n");
    let error = ExecutionEnvironment::new()
        .read_csv::<Sale>(&input)
        .collect()
        .unwrap_err()
        .to_string();
    assert!(error.contains("bad.csv:3:"), "{error}");
    assert!(error.contains("column 'amount'"), "{error}");
}

#[test]
fn a_csv_row_with_a_missing_column_names_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "short.csv", "shop,amount\na,1\nb,2\nc\n");
    let error = ExecutionEnvironment::new()
        .read_csv::<Sale>(&input)
        .collect()
        .unwrap_err()
        .to_string();
    assert!(error.contains("short.csv:4:"), "{error}");
    assert!(error.contains("expected 2 columns, found 1"), "{error}");
}

#[test]
fn a_missing_file_is_named() {
    let error = ExecutionEnvironment::new()
        .read_text_file("/nonexistent/input.txt")
        .collect()
        .unwrap_err()
        .to_string();
    assert!(error.contains("/nonexistent/input.txt"), "{error}");
}

#[test]
fn text_files_are_read_once_whatever_the_parallelism() {
    let dir = tempfile::tempdir().unwrap();
    let text: String = (0..5000).map(|i| format!("line {i}\r\n")).collect();
    let input = write(dir.path(), "lines.txt", &text);
    for p in [1, 2, 3, 4] {
        let env = ExecutionEnvironment::new();
        env.set_parallelism(p);
        let mut lines = env.read_text_file(&input).collect().unwrap();
        lines.sort_by_key(|l| l[5..].parse::<u32>().unwrap());
        let expected: Vec<String> = (0..5000).map(|i| format!("line {i}")).collect();
        assert_eq!(lines, expected, "parallelism {p}");
    }
}

#[test]
fn a_failed_job_writes_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out.txt");
    let env = ExecutionEnvironment::new();
    env.set_parallelism(2);
    env.generate_sequence(1, 10_000)
        .map(|x| {
            assert!(x != 9_999, "bad record");
            x
        })
        .write_as_text(&output);
    let error = env.execute("fails").unwrap_err().to_string();
    assert!(error.contains("bad record"), "{error}");
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}
