//! Golden tests against scikit-learn: the fixtures in `ml/fixtures/` were written by
//! `ml/fixtures/generate.py` with scikit-learn (see `fixtures/VERSIONS`); these tests only
//! read them. Compared: same-init KMeans centers (1e-9) and labels (exact), deterministic
//! logistic regression coefficients (1e-4 relative), scaler outputs (exact where
//! scikit-learn's arithmetic is ours, else 1e-15 relative), evaluator metrics (1e-9).

use std::path::PathBuf;

use eddy_ml::classification::LogisticRegression;
use eddy_ml::clustering::KMeans;
use eddy_ml::evaluation::BinaryClassificationEvaluator;
use eddy_ml::feature::{
    MaxAbsScaler, MinMaxScaler, Normalizer, StandardScaler, VectorAssembler, SEMANTICS,
};
use eddy_ml::param::common;
use eddy_ml::{DenseMatrix, Estimator, Table, Transformer, WithParams};
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

fn json(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture(name)).unwrap()).unwrap()
}

fn numbers(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn rows(v: &Value) -> Vec<Vec<f64>> {
    v.as_array().unwrap().iter().map(numbers).collect()
}

/// `file`'s columns (all numeric) assembled into the vector column `features`.
fn assembled(file: &str, columns: &[&str]) -> Table {
    let table = eddy_ml::read_csv(fixture(file)).unwrap();
    VectorAssembler::new()
        .set(
            &VectorAssembler::INPUT_COLS,
            columns.iter().map(|c| c.to_string()).collect(),
        )
        .unwrap()
        .set(&common::OUTPUT_COL, "features".into())
        .unwrap()
        .transform(&table)
        .unwrap()
}

fn assert_close(actual: &[f64], expected: &[f64], tol: f64, what: &str) {
    assert_eq!(actual.len(), expected.len(), "{what}: lengths");
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!(
            (a - e).abs() <= tol * e.abs().max(1.0),
            "{what}[{i}]: {a} vs {e} (tol {tol})"
        );
    }
}

#[test]
fn kmeans_matches_scikit_learn_from_the_same_initial_centers() {
    let cols = ["f0", "f1", "f2", "f3"];
    let points = assembled("kmeans_points.csv", &cols);
    let init = assembled("kmeans_init.csv", &cols)
        .matrix("features")
        .unwrap()
        .into_owned();
    let expected = json("kmeans_expected.json");
    let env = eddy_dataset::ExecutionEnvironment::new();
    env.set_parallelism(3);
    for (max_iter, case) in expected.as_object().unwrap() {
        let kmeans = KMeans::new()
            .set(&KMeans::K, 5)
            .unwrap()
            .set(&KMeans::MAX_ITER, max_iter.parse().unwrap())
            .unwrap();
        let want = DenseMatrix::from_rows(&rows(&case["centers"])).unwrap();
        let labels: Vec<f64> = numbers(&case["labels"]);
        for (engine, model) in [
            ("memory", kmeans.fit_from(&points, init.clone()).unwrap()),
            (
                "dataset",
                kmeans
                    .fit_dataset_from(&env, &points, init.clone())
                    .unwrap(),
            ),
        ] {
            let what = format!("{engine} engine, maxIter {max_iter}");
            assert_close(&model.data().centroids.values, &want.values, 1e-9, &what);
            let out = model.transform(&points).unwrap();
            assert_eq!(
                out.doubles("prediction").unwrap(),
                &labels[..],
                "{what}: labels"
            );
        }
    }
}

#[test]
fn logistic_regression_lbfgs_matches_scikit_learn() {
    let cols = ["x0", "x1", "x2", "x3", "x4"];
    let train = assembled("lr_train.csv", &cols);
    for case in json("lr_expected.json").as_array().unwrap() {
        let reg = case["reg"].as_f64().unwrap();
        let intercept = case["fit_intercept"].as_bool().unwrap();
        let model = LogisticRegression::new()
            .set(&LogisticRegression::SOLVER, "lbfgs".into())
            .unwrap()
            .set(&LogisticRegression::FIT_INTERCEPT, intercept)
            .unwrap()
            .set(&common::REG, reg)
            .unwrap()
            .set(&common::MAX_ITER, 10_000)
            .unwrap()
            .set(&common::TOL, 1e-12)
            .unwrap()
            .fit(&train)
            .unwrap();
        let what = format!("reg {reg}, intercept {intercept}");
        let want = numbers(&case["coefficient"]);
        for (i, (a, e)) in model.data().coefficient.iter().zip(&want).enumerate() {
            assert!(
                (a - e).abs() <= 1e-4 * e.abs().max(1e-3),
                "{what}: coefficient {i}: {a} vs {e}"
            );
        }
        let e = case["intercept"].as_f64().unwrap();
        let a = model.data().intercept;
        assert!(
            (a - e).abs() <= 1e-4 * e.abs().max(1e-3),
            "{what}: intercept {a} vs {e}"
        );
    }
}

#[test]
fn scalers_match_scikit_learn_and_flink_formulas() {
    let cols = ["c0", "c1", "c2", "c3"];
    let input = assembled("scalers_input.csv", &cols)
        .select(&["features"])
        .unwrap();
    let t = Table::new()
        .with_column("input", input.column("features").unwrap().clone())
        .unwrap();
    let expected = json("scalers_expected.json");
    let flat = |key: &str| rows(&expected[key]).concat();
    let output = |t: Table| t.matrix("output").unwrap().values.clone();

    let sk = |s: StandardScaler| s.set(&SEMANTICS, "scikit-learn".into()).unwrap();
    let standard = sk(StandardScaler::new()
        .set(&StandardScaler::WITH_MEAN, true)
        .unwrap());
    assert_close(
        &output(standard.fit(&t).unwrap().transform(&t).unwrap()),
        &flat("standard_sklearn"),
        1e-15,
        "standard (scikit-learn)",
    );

    let flink = StandardScaler::new().fit(&t).unwrap();
    assert_close(
        &flink.data().mean,
        &numbers(&expected["standard_flink_mean"]),
        1e-15,
        "flink mean",
    );
    assert_close(
        &flink.data().std,
        &numbers(&expected["standard_flink_std"]),
        1e-15,
        "flink std",
    );
    let scaled = output(flink.transform(&t).unwrap());
    assert!(
        scaled.chunks(4).all(|r| r[3] == 0.0),
        "Flink ML scales a constant column to 0"
    );

    let minmax = MinMaxScaler::new()
        .set(&SEMANTICS, "scikit-learn".into())
        .unwrap();
    assert_eq!(
        output(minmax.fit(&t).unwrap().transform(&t).unwrap()),
        flat("minmax_sklearn"),
        "minmax"
    );
    let flink_minmax = output(MinMaxScaler::new().fit(&t).unwrap().transform(&t).unwrap());
    assert!(
        flink_minmax.chunks(4).all(|r| r[3] == 0.5),
        "Flink ML maps a constant column to the middle"
    );

    assert_eq!(
        output(MaxAbsScaler::new().fit(&t).unwrap().transform(&t).unwrap()),
        flat("maxabs"),
        "maxabs"
    );

    for (p, key) in [(1.0, "normalizer_l1"), (2.0, "normalizer_l2")] {
        let n = Normalizer::new().set(&Normalizer::P, p).unwrap();
        assert_close(&output(n.transform(&t).unwrap()), &flat(key), 1e-15, key);
    }
}

#[test]
fn evaluator_matches_scikit_learn_curves_with_ties() {
    let table = eddy_ml::read_csv(fixture("evaluator_input.csv")).unwrap();
    let m = BinaryClassificationEvaluator::new()
        .metrics(&table)
        .unwrap();
    let want = json("evaluator_expected.json");
    for (name, value) in [
        ("areaUnderROC", m.area_under_roc),
        ("areaUnderPR", m.area_under_pr),
        ("ks", m.ks),
    ] {
        let e = want[name].as_f64().unwrap();
        assert!((value - e).abs() <= 1e-9, "{name}: {value} vs {e}");
    }
}
