//! The `ml_pipeline` binary: `fit` in one process, `predict` and `evaluate` in others
//! (the saved pipeline crosses processes), checked against the model loaded in this
//! process and against eddy-ml's evaluator; and the bad-input contract (missing label
//! column, non-numeric feature, a model directory of another format version: one line,
//! exit 2, no output).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use eddy_ml::{Loadable, PipelineModel, Transformer};

const BIN: &str = env!("CARGO_BIN_EXE_ml_pipeline");

fn train_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../ml/fixtures/lr_train.csv")
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn fit_predict_evaluate_across_processes() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    let train = train_file();
    ok(&run(&[
        "fit",
        "--input",
        path(&train),
        "--label",
        "label",
        "--reg",
        "0.01",
        "--model-dir",
        path(&model),
    ]));
    assert!(model.join("metadata.json").exists());

    let pred = dir.path().join("pred.csv");
    ok(&run(&[
        "predict",
        "--model-dir",
        path(&model),
        "--input",
        path(&train),
        "--output",
        path(&pred),
    ]));
    let text = std::fs::read_to_string(&pred).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("prediction,probability"));
    let rows: Vec<(f64, f64)> = lines
        .map(|l| {
            let (a, b) = l.split_once(',').unwrap();
            (a.parse().unwrap(), b.parse().unwrap())
        })
        .collect();
    assert_eq!(rows.len(), 600);

    // The same model, loaded here, predicts the same probabilities in the same order.
    let loaded = PipelineModel::load(&model).unwrap();
    let table = eddy_ml::read_csv(&train).unwrap();
    let out = loaded.transform(&table).unwrap();
    let probabilities: Vec<f64> = out
        .matrix("eddy_probability")
        .unwrap()
        .iter_rows()
        .map(|r| r[1])
        .collect();
    for ((prediction, p), q) in rows.iter().zip(&probabilities) {
        assert_eq!(p, q);
        assert_eq!(*prediction, if *q > 0.5 { 1.0 } else { 0.0 });
    }

    let out = run(&[
        "evaluate",
        "--model-dir",
        path(&model),
        "--input",
        path(&train),
    ]);
    ok(&out);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1);
    let metrics: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let labels = table.doubles("label").unwrap();
    let scored = eddy_ml::Table::new()
        .with_column("label", eddy_ml::Column::Double(labels.to_vec()))
        .unwrap()
        .with_column(
            "rawPrediction",
            eddy_ml::Column::Double(probabilities.clone()),
        )
        .unwrap();
    let want = eddy_ml::evaluation::BinaryClassificationEvaluator::new()
        .metrics(&scored)
        .unwrap();
    assert_eq!(
        metrics["areaUnderROC"].as_f64().unwrap(),
        want.area_under_roc
    );
    assert_eq!(metrics["areaUnderPR"].as_f64().unwrap(), want.area_under_pr);
    assert_eq!(metrics["ks"].as_f64().unwrap(), want.ks);
    let correct = rows
        .iter()
        .zip(labels)
        .filter(|((p, _), l)| p == *l)
        .count();
    assert_eq!(
        metrics["accuracy"].as_f64().unwrap(),
        correct as f64 / 600.0
    );
    assert!(
        want.area_under_roc > 0.8,
        "a useful model: {}",
        want.area_under_roc
    );

    // A subset of features and an L1 penalty fit too, and predict on a file without labels.
    let small = dir.path().join("small");
    ok(&run(&[
        "fit",
        "--input",
        path(&train),
        "--label",
        "label",
        "--features",
        "x0,x2",
        "--reg",
        "0.05",
        "--elastic-net",
        "1",
        "--max-iter",
        "50",
        "--model-dir",
        path(&small),
    ]));
    let unlabelled = dir.path().join("test.csv");
    std::fs::write(&unlabelled, "x2,x0\n1.0,2.0\n-3,0\n").unwrap();
    ok(&run(&[
        "predict",
        "--model-dir",
        path(&small),
        "--input",
        path(&unlabelled),
        "--output",
        path(&pred),
    ]));
    assert_eq!(std::fs::read_to_string(&pred).unwrap().lines().count(), 3);
}

#[test]
fn bad_input_fails_with_one_line_and_exit_2_and_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    let train = train_file();
    ok(&run(&[
        "fit",
        "--input",
        path(&train),
        "--label",
        "label",
        "--model-dir",
        path(&model),
    ]));
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "x0,x1,x2,x3,x4,label\n1,2,3,4,5,1\n1,2,oops,4,5,0\n").unwrap();
    let text_only = dir.path().join("text.csv");
    std::fs::write(&text_only, "name,label\na,1\nb,0\n").unwrap();
    let future = dir.path().join("future");
    ok(&run(&[
        "fit",
        "--input",
        path(&train),
        "--label",
        "label",
        "--model-dir",
        path(&future),
    ]));
    let meta = future.join("metadata.json");
    let text = std::fs::read_to_string(&meta)
        .unwrap()
        .replace("\"formatVersion\": 1", "\"formatVersion\": 2");
    std::fs::write(&meta, text).unwrap();
    let out_model = dir.path().join("never");
    let pred = dir.path().join("pred.csv");
    let cases: Vec<(Vec<&str>, String)> = vec![
        (
            vec![
                "fit",
                "--input",
                path(&train),
                "--label",
                "y",
                "--model-dir",
                path(&out_model),
            ],
            format!("{}:1: column 'y': column not found", train.display()),
        ),
        (
            vec![
                "fit",
                "--input",
                path(&bad),
                "--label",
                "label",
                "--features",
                "x1,x2",
                "--model-dir",
                path(&out_model),
            ],
            format!("{}:3: column 'x2': 'oops' is not numeric", bad.display()),
        ),
        (
            vec![
                "fit",
                "--input",
                path(&bad),
                "--label",
                "label",
                "--model-dir",
                path(&out_model),
            ],
            format!("{}:3: column 'x2': 'oops' is not numeric", bad.display()),
        ),
        (
            vec![
                "fit",
                "--input",
                path(&text_only),
                "--label",
                "label",
                "--model-dir",
                path(&out_model),
            ],
            "no numeric feature columns".to_string(),
        ),
        (
            vec![
                "predict",
                "--model-dir",
                path(&model),
                "--input",
                path(&bad),
                "--output",
                path(&pred),
            ],
            format!("{}:3: column 'x2': 'oops' is not numeric", bad.display()),
        ),
        (
            vec![
                "predict",
                "--model-dir",
                path(&future),
                "--input",
                path(&train),
                "--output",
                path(&pred),
            ],
            "model format version 2 is not supported (this build reads version 1)".to_string(),
        ),
        (
            vec![
                "evaluate",
                "--model-dir",
                path(&future),
                "--input",
                path(&train),
            ],
            "model format version 2 is not supported".to_string(),
        ),
        (
            vec![
                "fit",
                "--input",
                path(&train),
                "--label",
                "label",
                "--algorithm",
                "knn",
                "--model-dir",
                path(&out_model),
            ],
            "not implemented yet".to_string(),
        ),
    ];
    for (args, want) in cases {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(&want), "{args:?}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        assert!(out.stdout.is_empty());
        assert!(
            !out_model.exists() && !pred.exists(),
            "{args:?} left output"
        );
    }
}
