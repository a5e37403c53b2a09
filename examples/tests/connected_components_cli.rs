//! The `connected_components` binary on generated edge lists, compared with a union-find at
//! several parallelisms; and its bad-input contract (exit 2, one line naming file and line,
//! no output file).

use std::fmt::Write as _;
use std::process::Command;

use eddy_examples::connected_components::union_find;

const BIN: &str = env!("CARGO_BIN_EXE_connected_components");

/// A deterministic graph of several components, with duplicates, self-loops and comments.
fn edge_list() -> (String, Vec<(u64, u64)>) {
    let mut state = 7u64;
    let mut edges = Vec::new();
    for _ in 0..400 {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let a = (state >> 33) % 300;
        let b = (state >> 17) % 300;
        // Keep the graph in several components: only join vertices of equal residue mod 7.
        if a % 7 == b % 7 {
            edges.push((a, b));
        }
    }
    edges.push((5, 5));
    edges.push(edges[0]);
    let mut text = String::from("# a test graph\n\n");
    for (a, b) in &edges {
        writeln!(text, "{a}\t{b}").unwrap();
    }
    (text, edges)
}

fn parse(csv: &str) -> Vec<(u64, u64)> {
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("vertex,component"));
    lines
        .map(|line| {
            let (v, c) = line.split_once(',').expect(line);
            (v.parse().expect(line), c.parse().expect(line))
        })
        .collect()
}

#[test]
fn components_match_union_find_at_every_parallelism() {
    let dir = tempfile::tempdir().unwrap();
    let (text, edges) = edge_list();
    let input = dir.path().join("graph.txt");
    std::fs::write(&input, text).unwrap();
    let expected = union_find(&edges);
    for p in ["1", "2", "4"] {
        let output = dir.path().join(format!("cc-{p}.csv"));
        let status = Command::new(BIN)
            .args(["--parallelism", p, "--edges"])
            .arg(&input)
            .arg("--output")
            .arg(&output)
            .status()
            .unwrap();
        assert!(status.success(), "parallelism {p}");
        let got = parse(&std::fs::read_to_string(&output).unwrap());
        assert_eq!(got, expected, "parallelism {p}");
    }
    // Stdout gives the same rows.
    let out = Command::new(BIN)
        .args(["--parallelism", "2", "--edges"])
        .arg(&input)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(parse(&String::from_utf8(out.stdout).unwrap()), expected);
}

#[test]
fn a_generated_graph_is_labelled_consistently() {
    let out = Command::new(BIN)
        .args([
            "--vertices",
            "500",
            "--edge-count",
            "300",
            "--parallelism",
            "2",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let rows = parse(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(rows.len(), 500);
    for (vertex, component) in &rows {
        assert!(component <= vertex);
        // A component's label is a vertex labelled with itself.
        assert_eq!(rows[*component as usize], (*component, *component));
    }
}

#[test]
fn a_malformed_line_exits_2_naming_file_and_line_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("bad.txt");
    std::fs::write(&input, "1 2\n2 x\n").unwrap();
    let output = dir.path().join("out.csv");
    let out = Command::new(BIN)
        .arg("--edges")
        .arg(&input)
        .arg("--output")
        .arg(&output)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("bad.txt:2: target vertex 'x'"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(!output.exists());
}

#[test]
fn a_missing_file_and_bad_flags_exit_2() {
    let out = Command::new(BIN)
        .args(["--edges", "/nonexistent/graph.txt"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains("/nonexistent/graph.txt"));
    let out = Command::new(BIN)
        .args(["--parallelism", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
