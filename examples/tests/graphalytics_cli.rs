//! Runs the `graphalytics` binary on LDBC reference graphs and compares its output file with
//! the reference output; and feeds it bad input (unknown vertex, malformed line, missing file,
//! missing parameter) to check for one error line, exit code 2 and no output file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_graphalytics");
const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/graphalytics");

fn data(name: &str) -> String {
    format!("{DATA}/{name}")
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("the binary runs")
}

/// `vertex value` lines of a file, by vertex.
fn read_pairs(path: &Path) -> Vec<(u64, String)> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| {
            let (v, value) = l
                .split_once(' ')
                .unwrap_or_else(|| panic!("bad line {l:?}"));
            (v.parse().unwrap(), value.to_owned())
        })
        .collect()
}

fn assert_close_to_reference(output: &Path, reference: &str) {
    let actual: HashMap<u64, String> = read_pairs(output).into_iter().collect();
    let expected = read_pairs(Path::new(&data(reference)));
    assert_eq!(actual.len(), expected.len(), "one line per vertex");
    for (v, e) in expected {
        let (e, a): (f64, f64) = (e.parse().unwrap(), actual[&v].parse().unwrap());
        if e.is_infinite() {
            assert_eq!(actual[&v], "infinity", "vertex {v}");
        } else {
            assert!(
                (e - a).abs() <= 1e-4 * e.abs(),
                "vertex {v}: expected {e}, got {a}"
            );
        }
    }
}

/// The error cases: one line on stderr mentioning `needle`, exit code 2, no output file and
/// no temporary file left in the output directory.
fn assert_bad_input(args: &[&str], out_dir: &Path, needle: &str) {
    let before = std::fs::read_dir(out_dir).unwrap().count();
    let output = run(args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line, got: {stderr}");
    assert!(
        stderr.contains(needle),
        "{stderr:?} should mention {needle:?}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!out_dir.join("out.txt").exists(), "no output file on error");
    assert_eq!(
        std::fs::read_dir(out_dir).unwrap().count(),
        before,
        "no temporary file left"
    );
}

#[test]
fn pagerank_on_example_directed_matches_reference() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pr.txt");
    let output = run(&[
        "--algorithm",
        "pr",
        "--vertices",
        &data("example-directed.v"),
        "--edges",
        &data("example-directed.e"),
        "--directed",
        "--damping-factor",
        "0.85",
        "--max-iterations",
        "2",
        "--threads",
        "2",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_close_to_reference(&out, "example-directed-PR");
    // Output lines follow the vertex file's order.
    let ids: Vec<u64> = read_pairs(&out).into_iter().map(|(v, _)| v).collect();
    let expected: Vec<u64> = std::fs::read_to_string(data("example-directed.v"))
        .unwrap()
        .lines()
        .map(|l| l.trim().parse().unwrap())
        .collect();
    assert_eq!(ids, expected);
}

#[test]
fn sssp_prints_infinity_and_matches_reference() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sssp.txt");
    let output = run(&[
        "--algorithm",
        "sssp",
        "--vertices",
        &data("example-directed.v"),
        "--edges",
        &data("example-directed.e"),
        "--directed",
        "--weighted",
        "--source-vertex",
        "1",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(read_pairs(&out).iter().any(|(_, v)| v == "infinity"));
    assert_close_to_reference(&out, "example-directed-SSSP");
}

#[test]
fn bfs_and_cdlp_on_example_undirected_match_exactly() {
    let dir = tempfile::tempdir().unwrap();
    for (algorithm, extra, reference) in [
        ("bfs", ["--source-vertex", "2"], "example-undirected-BFS"),
        ("cdlp", ["--max-iterations", "2"], "example-undirected-CDLP"),
    ] {
        let out = dir.path().join(format!("{algorithm}.txt"));
        let (vertices, edges) = (data("example-undirected.v"), data("example-undirected.e"));
        let mut args = vec!["--algorithm", algorithm, "--vertices", &vertices];
        args.extend(["--edges", &edges, "--output", out.to_str().unwrap()]);
        args.extend(extra);
        let output = run(&args);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(
            read_pairs(&out),
            read_pairs(Path::new(&data(reference))),
            "{algorithm}"
        );
    }
}

#[test]
fn bad_input_is_one_line_exit_2_and_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| -> PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let v = write("g.v", "1\n2\n3\n");
    let unknown = write("unknown.e", "1 2\n2 9\n");
    let malformed = write("malformed.e", "1 2\n2 x3\n");
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let out = out_dir.join("out.txt");
    let (v, out) = (v.to_str().unwrap(), out.to_str().unwrap());
    let base = |edges: &Path| -> Vec<String> {
        [
            "--algorithm",
            "wcc",
            "--vertices",
            v,
            "--edges",
            edges.to_str().unwrap(),
            "--output",
            out,
        ]
        .map(String::from)
        .to_vec()
    };
    let strs = |args: &[String]| -> Vec<String> { args.to_vec() };
    let check = |args: Vec<String>, needle: &str| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_bad_input(&args, &out_dir, needle);
    };
    check(base(&unknown), "unknown.e:2: edge names unknown vertex 9");
    check(base(&malformed), "malformed.e:2: malformed line");
    check(base(&dir.path().join("missing.e")), "missing.e");
    let mut bfs = strs(&base(&write("ok.e", "1 2\n")));
    bfs[1] = "bfs".into();
    check(bfs.clone(), "--source-vertex");
    bfs.extend(["--source-vertex".into(), "7".into()]);
    check(bfs, "--source-vertex 7");
    let mut no_output = base(&unknown);
    no_output.truncate(6);
    check(no_output, "--output");
    let mut sssp_unweighted = base(&write("plain.e", "1 2\n"));
    sssp_unweighted[1] = "sssp".into();
    sssp_unweighted.extend(["--source-vertex".into(), "1".into()]);
    check(sssp_unweighted, "plain.e:1: malformed line: missing weight");
}

#[test]
fn help_documents_every_option() {
    let output = run(&["--help"]);
    assert_eq!(output.status.code(), Some(0));
    let help = String::from_utf8_lossy(&output.stdout);
    for flag in [
        "--algorithm",
        "--vertices",
        "--edges",
        "--directed",
        "--weighted",
        "--source-vertex",
        "--max-iterations",
        "--damping-factor",
        "--threads",
        "--output",
        "pr",
        "cdlp",
        "wcc",
        "bfs",
        "sssp",
        "lcc",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}");
    }
}
