//! Save/load round trips of every stage kind (typed `load` and `load_stage`), params
//! rejected with clear messages when set or loaded, and foreign or future model
//! directories refused.

use std::path::Path;

use eddy_ml::classification::LogisticRegression;
use eddy_ml::clustering::KMeans;
use eddy_ml::evaluation::BinaryClassificationEvaluator;
use eddy_ml::feature::{MaxAbsScaler, MinMaxScaler, Normalizer, StandardScaler, VectorAssembler};
use eddy_ml::param::common;
use eddy_ml::{
    load_stage, AlgoOperator, Column, DenseMatrix, Estimator, Loadable, LoadedStage, Pipeline,
    PipelineModel, Stage, Table, Transformer, WithParams,
};

fn data() -> Table {
    let x = DenseMatrix::from_rows(&[
        vec![1.0, 2.0],
        vec![2.0, 0.5],
        vec![8.0, 9.0],
        vec![9.5, 7.0],
        vec![0.3, 1.0],
    ])
    .unwrap();
    Table::new()
        .with_column("input", Column::Matrix(x.clone()))
        .unwrap()
        .with_column("features", Column::Matrix(x))
        .unwrap()
        .with_column("label", Column::Double(vec![0.0, 0.0, 1.0, 1.0, 0.0]))
        .unwrap()
}

/// Saves `stage`, loads it back both ways, and checks the copies transform alike.
fn round_trip<T: Transformer + Loadable>(stage: &T) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stage");
    stage.save(&path).unwrap();
    let typed = T::load(&path).unwrap();
    let t = data();
    let want = stage.transform(&t).unwrap();
    assert_eq!(typed.transform(&t).unwrap(), want, "{}", stage.kind());
    assert_eq!(
        typed.params().to_json(typed.param_specs()),
        stage.params().to_json(stage.param_specs())
    );
    match load_stage(&path).unwrap() {
        LoadedStage::Transformer(t2) => assert_eq!(t2.transform(&t).unwrap(), want),
        _ => panic!("{} did not load as a transformer", stage.kind()),
    }
}

#[test]
fn every_model_round_trips() {
    let t = data();
    round_trip(
        &StandardScaler::new()
            .set(&StandardScaler::WITH_MEAN, true)
            .unwrap()
            .fit(&t)
            .unwrap(),
    );
    round_trip(
        &MinMaxScaler::new()
            .set(&MinMaxScaler::MIN, -1.0)
            .unwrap()
            .fit(&t)
            .unwrap(),
    );
    round_trip(&MaxAbsScaler::new().fit(&t).unwrap());
    round_trip(&Normalizer::new().set(&Normalizer::P, 3.0).unwrap());
    round_trip(
        &VectorAssembler::new()
            .set(
                &VectorAssembler::INPUT_COLS,
                vec!["label".into(), "input".into()],
            )
            .unwrap(),
    );
    round_trip(
        &KMeans::new()
            .set(&KMeans::INIT_MODE, "k-means||".into())
            .unwrap()
            .fit(&t)
            .unwrap(),
    );
    round_trip(
        &LogisticRegression::new()
            .set(&LogisticRegression::SOLVER, "lbfgs".into())
            .unwrap()
            .set(&common::REG, 0.1)
            .unwrap()
            .fit(&t)
            .unwrap(),
    );
}

#[test]
fn estimators_and_pipelines_round_trip_and_refit_alike() {
    let t = data();
    let pipeline = || {
        Pipeline::new()
            .add_estimator(
                StandardScaler::new()
                    .set(&common::OUTPUT_COL, "scaled".into())
                    .unwrap(),
            )
            .add_estimator(
                KMeans::new()
                    .set(&common::FEATURES_COL, "scaled".into())
                    .unwrap()
                    .set(&KMeans::SEED, 9)
                    .unwrap(),
            )
    };
    let dir = tempfile::tempdir().unwrap();
    pipeline().save(&dir.path().join("p")).unwrap();
    let loaded = Pipeline::load(dir.path().join("p")).unwrap();
    assert_eq!(loaded.stage_kinds(), vec!["StandardScaler", "KMeans"]);
    let a = loaded.fit(&t).unwrap();
    let b = pipeline().fit(&t).unwrap();
    assert_eq!(a.transform(&t).unwrap(), b.transform(&t).unwrap());
    b.save(&dir.path().join("m")).unwrap();
    // Saving again replaces the directory whole.
    b.save(&dir.path().join("m")).unwrap();
    let m = PipelineModel::load(dir.path().join("m")).unwrap();
    assert_eq!(m.transform(&t).unwrap(), b.transform(&t).unwrap());
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "no temporary directories left: {names:?}");

    let evaluator = BinaryClassificationEvaluator::new()
        .set(
            &BinaryClassificationEvaluator::METRICS_NAMES,
            vec!["ks".into()],
        )
        .unwrap()
        .set(&common::RAW_PREDICTION_COL, "label".into())
        .unwrap();
    evaluator.save(&dir.path().join("e")).unwrap();
    match load_stage(dir.path().join("e")).unwrap() {
        LoadedStage::Operator(op) => {
            let out = op.transform_tables(&[&t]).unwrap();
            assert_eq!(out, evaluator.transform_tables(&[&t]).unwrap());
            assert_eq!(out[0].doubles("ks").unwrap(), &[1.0]);
        }
        _ => panic!("evaluator did not load as an operator"),
    }
}

fn edit_metadata(dir: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let path = dir.join("metadata.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    edit(&mut v);
    std::fs::write(&path, v.to_string()).unwrap();
}

#[test]
fn bad_params_are_rejected_with_clear_messages() {
    let cases = [
        (KMeans::new().set(&KMeans::K, 0).unwrap_err(), "KMeans: invalid value for param 'k': must be at least 1, got 0"),
        (
            KMeans::new().set(&KMeans::INIT_MODE, "k-means++".into()).unwrap_err(),
            "KMeans: invalid value for param 'initMode': must be 'random' or 'k-means||', got 'k-means++'",
        ),
        (
            LogisticRegression::new().set(&common::ELASTIC_NET, 1.5).unwrap_err(),
            "LogisticRegression: invalid value for param 'elasticNet': must be in [0, 1], got 1.5",
        ),
        (
            LogisticRegression::new().set(&LogisticRegression::MULTI_CLASS, "multinomial".into()).unwrap_err(),
            "LogisticRegression: invalid value for param 'multiClass': multinomial logistic regression is not supported yet",
        ),
        (
            Normalizer::new().set(&Normalizer::P, 0.5).unwrap_err(),
            "Normalizer: invalid value for param 'p': must be a finite number >= 1, got 0.5",
        ),
        (
            Normalizer::new().set(&KMeans::K, 3).unwrap_err(),
            "Normalizer: invalid value for param 'k': not a param of this stage",
        ),
        (
            MinMaxScaler::new().set(&MinMaxScaler::MIN, 2.0).unwrap().fit(&data()).unwrap_err(),
            "MinMaxScaler: invalid value for param 'max': must be above min (2), got 1",
        ),
    ];
    for (err, want) in cases {
        assert_eq!(err.to_string(), want);
    }
}

#[test]
fn bad_saved_params_and_foreign_directories_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k");
    KMeans::new().save(&path).unwrap();

    edit_metadata(&path, |v| v["params"]["k"] = serde_json::json!(0));
    let e = KMeans::load(&path).unwrap_err().to_string();
    assert_eq!(
        e,
        "KMeans: invalid value for param 'k': must be at least 1, got 0"
    );

    edit_metadata(&path, |v| v["params"]["k"] = serde_json::json!("three"));
    let e = KMeans::load(&path).unwrap_err().to_string();
    assert!(
        e.starts_with("KMeans: invalid value for param 'k': \"three\" has the wrong type"),
        "{e}"
    );

    edit_metadata(&path, |v| {
        v["params"]["k"] = serde_json::json!(2);
        v["params"]["clusters"] = serde_json::json!(2);
    });
    let e = KMeans::load(&path).unwrap_err().to_string();
    assert!(
        e.contains("'clusters': unknown param (known: featuresCol"),
        "{e}"
    );

    edit_metadata(&path, |v| v["formatVersion"] = serde_json::json!(2));
    let e = load_stage(&path).err().unwrap().to_string();
    assert!(
        e.ends_with(
            "metadata.json: model format version 2 is not supported (this build reads version 1)"
        ),
        "{e}"
    );

    StandardScaler::new().save(&path).unwrap();
    let e = KMeans::load(&path).unwrap_err().to_string();
    assert!(
        e.ends_with("metadata.json: holds a StandardScaler, not a KMeans"),
        "{e}"
    );

    let e = load_stage(dir.path().join("nothing"))
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("not a saved model or stage directory"), "{e}");
}
