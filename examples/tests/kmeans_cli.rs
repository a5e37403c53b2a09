//! The `kmeans` binary: from scikit-learn's initial centers it reproduces scikit-learn's
//! centers and labels (the golden fixture of eddy-ml), identically at every parallelism;
//! k-means|| gives K centers; and its bad-input contract (one line naming file, line and
//! column; exit 2; no output files).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_kmeans");

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../ml/fixtures")
        .join(name)
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn csv_rows(p: &Path) -> (String, Vec<Vec<f64>>) {
    let text = std::fs::read_to_string(p).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().to_string();
    (
        header,
        lines
            .map(|l| l.split(',').map(|x| x.parse().unwrap()).collect())
            .collect(),
    )
}

#[test]
fn reproduces_scikit_learn_from_the_same_initial_centers() {
    let dir = tempfile::tempdir().unwrap();
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("kmeans_expected.json")).unwrap())
            .unwrap();
    let case = &expected["3"];
    let mut outputs = Vec::new();
    for p in ["1", "2"] {
        let centers = dir.path().join(format!("centers{p}.csv"));
        let assignments = dir.path().join(format!("a{p}.csv"));
        let out = run(&[
            "--input",
            path(&fixture("kmeans_points.csv")),
            "--k",
            "5",
            "--max-iter",
            "3",
            "--initial-centers",
            path(&fixture("kmeans_init.csv")),
            "--parallelism",
            p,
            "--output",
            path(&centers),
            "--assignments",
            path(&assignments),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let (header, rows) = csv_rows(&centers);
        assert_eq!(header, "f0,f1,f2,f3");
        let want = case["centers"].as_array().unwrap();
        assert_eq!(rows.len(), 5);
        for (row, want) in rows.iter().zip(want) {
            for (a, e) in row.iter().zip(want.as_array().unwrap()) {
                let e = e.as_f64().unwrap();
                assert!((a - e).abs() <= 1e-9 * e.abs().max(1.0), "{a} vs {e}");
            }
        }
        let (header, labels) = csv_rows(&assignments);
        assert_eq!(header, "cluster");
        let want: Vec<f64> = case["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(labels.concat(), want);
        outputs.push((
            std::fs::read(&centers).unwrap(),
            std::fs::read(&assignments).unwrap(),
        ));
    }
    assert_eq!(outputs[0], outputs[1], "parallelism changed the output");
}

#[test]
fn k_means_parallel_init_gives_k_centers() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("x.csv");
    let mut text = String::from("a,b\n");
    for i in 0..300 {
        let blob = (i % 3) as f64 * 50.0;
        text.push_str(&format!(
            "{},{}\n",
            blob + (i % 7) as f64 * 0.1,
            (i % 11) as f64 * 0.1
        ));
    }
    std::fs::write(&input, text).unwrap();
    let centers = dir.path().join("c.csv");
    let out = run(&[
        "--input",
        path(&input),
        "--k",
        "3",
        "--init",
        "k-means-parallel",
        "--seed",
        "4",
        "--output",
        path(&centers),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (header, rows) = csv_rows(&centers);
    assert_eq!(header, "a,b");
    let mut blobs: Vec<i64> = rows.iter().map(|r| (r[0] / 50.0).round() as i64).collect();
    blobs.sort();
    assert_eq!(blobs, vec![0, 1, 2]);
}

#[test]
fn bad_input_fails_with_one_line_and_exit_2_and_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "a,b\n1,2\n3,x\n").unwrap();
    let wrong_centers = dir.path().join("c.csv");
    std::fs::write(&wrong_centers, "a,z\n1,2\n").unwrap();
    let good = dir.path().join("good.csv");
    std::fs::write(&good, "a,b\n1,2\n3,4\n").unwrap();
    let missing = dir.path().join("missing.csv");
    let output = dir.path().join("out.csv");
    let assignments = dir.path().join("a.csv");
    let cases: Vec<(Vec<&str>, String)> = vec![
        (
            vec!["--input", path(&bad), "--k", "1"],
            format!("{}:3: column 'b': 'x' is not numeric", bad.display()),
        ),
        (
            vec!["--input", path(&missing), "--k", "1"],
            "missing.csv".to_string(),
        ),
        (
            vec!["--input", path(&good), "--k", "3"],
            "k = 3 but the training set has 2 rows".to_string(),
        ),
        (
            vec![
                "--input",
                path(&good),
                "--k",
                "1",
                "--initial-centers",
                path(&wrong_centers),
            ],
            "c.csv:1".to_string(),
        ),
        (vec!["--input", path(&good), "--k", "0"], "--k".to_string()),
    ];
    for (mut args, want) in cases {
        args.extend([
            "--output",
            path(&output),
            "--assignments",
            path(&assignments),
        ]);
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(&want), "{args:?}: {stderr}");
        if !want.starts_with("--") {
            assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        }
        assert!(
            !output.exists() && !assignments.exists(),
            "{args:?} left output"
        );
    }
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 3, "temporary files left: {leftovers:?}");
}
