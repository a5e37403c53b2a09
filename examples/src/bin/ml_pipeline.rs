//! Fits, applies and evaluates a binary classification pipeline (VectorAssembler,
//! StandardScaler, a classifier) with eddy-ml, saving it between processes.
//!
//! ```text
//! ml_pipeline fit --input TRAIN.csv --label COL [--features COL,COL...]
//!                 [--algorithm logistic-regression|linear-svc|naive-bayes|knn]
//!                 [--reg F] [--elastic-net F] [--max-iter N] --model-dir DIR
//! ml_pipeline predict --model-dir DIR --input TEST.csv --output PRED.csv
//! ml_pipeline evaluate --model-dir DIR --input TEST.csv
//! ```
//! `fit` assembles the named feature columns (default: every numeric column but the
//! label; a column that starts with numbers and then has text is an error, not skipped), standardizes them (mean and sample std) and fits the classifier on 0/1 labels;
//! the fitted pipeline is saved to DIR. `predict` loads it (in a new process) and writes
//! `prediction,probability` for every input row, in order. `evaluate` prints one JSON
//! object with `areaUnderROC`, `areaUnderPR`, `ks` and `accuracy`. Bad input (a missing
//! label column, a non-numeric feature, a model directory of another format version): one
//! line on stderr, exit code 2, no output file.
//!
//! Logistic regression here fits an intercept with L-BFGS (OWL-QN with an L1 term), up to
//! `--max-iter` iterations (default 100); the other algorithms are not implemented yet.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use eddy_examples::{fail, init_logging, EXIT_BAD_INPUT};
use eddy_ml::classification::LogisticRegression;
use eddy_ml::evaluation::BinaryClassificationEvaluator;
use eddy_ml::feature::{StandardScaler, VectorAssembler};
use eddy_ml::param::common;
use eddy_ml::{
    Column, CsvReadOptions, Error, Estimator, Loadable, Pipeline, PipelineModel, Stage, Table,
    Transformer, WithParams,
};

/// Fits, applies and evaluates a binary classifier pipeline.
#[derive(Parser, Debug)]
#[command(name = "ml_pipeline", version)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

/// The classifier at the end of the pipeline.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq)]
enum Algorithm {
    /// Logistic regression (L-BFGS).
    LogisticRegression,
    /// Linear SVM (not implemented yet).
    LinearSvc,
    /// Naive Bayes (not implemented yet).
    NaiveBayes,
    /// K nearest neighbours (not implemented yet).
    Knn,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Fits the pipeline on TRAIN.csv and saves it to DIR.
    Fit(FitArgs),
    /// Writes `prediction,probability` for every row of TEST.csv.
    Predict {
        /// A model directory written by `fit`.
        #[arg(long, value_name = "DIR")]
        model_dir: PathBuf,
        /// Rows to predict (the feature columns the model was fitted on).
        #[arg(long, value_name = "TEST.csv")]
        input: PathBuf,
        /// Where to write the predictions.
        #[arg(long, value_name = "PRED.csv")]
        output: PathBuf,
    },
    /// Prints areaUnderROC, areaUnderPR, ks and accuracy on TEST.csv as one JSON object.
    Evaluate {
        /// A model directory written by `fit`.
        #[arg(long, value_name = "DIR")]
        model_dir: PathBuf,
        /// Labelled rows (the features and the label column the model was fitted on).
        #[arg(long, value_name = "TEST.csv")]
        input: PathBuf,
    },
}

/// The arguments of `fit`.
#[derive(clap::Args, Debug)]
struct FitArgs {
    /// Training data: a header, feature columns and a 0/1 label column.
    #[arg(long, value_name = "TRAIN.csv")]
    input: PathBuf,
    /// The label column.
    #[arg(long, value_name = "COL")]
    label: String,
    /// Feature columns [default: every numeric column but the label].
    #[arg(long, value_name = "COL,COL...", value_delimiter = ',')]
    features: Option<Vec<String>>,
    /// The classifier.
    #[arg(long, value_enum, default_value = "logistic-regression")]
    algorithm: Algorithm,
    /// Regularization strength (Flink ML's `reg`).
    #[arg(long, value_name = "F", default_value_t = 0.0)]
    reg: f64,
    /// Elastic net mixing: 0 is L2, 1 is L1.
    #[arg(long, value_name = "F", default_value_t = 0.0)]
    elastic_net: f64,
    /// Optimizer iterations.
    #[arg(long, value_name = "N", default_value_t = 100)]
    max_iter: usize,
    /// Where to save the fitted pipeline.
    #[arg(long, value_name = "DIR")]
    model_dir: PathBuf,
}

const ASSEMBLED: &str = "eddy_assembled";
const FEATURES: &str = "eddy_features";
const PREDICTION: &str = "eddy_prediction";
const RAW: &str = "eddy_probability";

fn fit(args: &FitArgs) -> eddy_ml::Result<()> {
    let (input, label, algorithm) = (&args.input, args.label.as_str(), args.algorithm);
    let features = args.features.as_deref();
    if algorithm != Algorithm::LogisticRegression {
        return Err(Error::param(
            "ml_pipeline",
            "algorithm",
            format!("{algorithm:?} is not implemented yet (use logistic-regression)"),
        ));
    }
    let mut numeric = vec![label.to_string()];
    numeric.extend(features.iter().flat_map(|f| f.iter().cloned()));
    let table = eddy_ml::read_csv_with(input, &CsvReadOptions { numeric })?;
    let features: Vec<String> = match features {
        Some(f) => f.to_vec(),
        // Every numeric column but the label. A column whose first value is a number but
        // a later one is not is a malformed feature, not a text column: it is an error.
        None => {
            let mut numeric = Vec::new();
            for name in table.names() {
                let looks_numeric = match table.column(name)? {
                    Column::Double(_) => true,
                    Column::Str(cells) => cells.first().is_some_and(|c| c.parse::<f64>().is_ok()),
                    _ => false,
                };
                if name != label && looks_numeric {
                    table.doubles(name)?;
                    numeric.push(name.to_string());
                }
            }
            numeric
        }
    };
    if features.is_empty() {
        return Err(Error::Schema(format!(
            "{}: no numeric feature columns besides the label '{label}'",
            input.display()
        )));
    }
    let pipeline = Pipeline::new()
        .add_transformer(
            VectorAssembler::new()
                .set(&VectorAssembler::INPUT_COLS, features)?
                .set(&common::OUTPUT_COL, ASSEMBLED.into())?,
        )
        .add_estimator(
            StandardScaler::new()
                .set(&common::INPUT_COL, ASSEMBLED.into())?
                .set(&common::OUTPUT_COL, FEATURES.into())?
                .set(&StandardScaler::WITH_MEAN, true)?,
        )
        .add_estimator(
            LogisticRegression::new()
                .set(&common::FEATURES_COL, FEATURES.into())?
                .set(&common::LABEL_COL, label.into())?
                .set(&common::PREDICTION_COL, PREDICTION.into())?
                .set(&common::RAW_PREDICTION_COL, RAW.into())?
                .set(&LogisticRegression::SOLVER, "lbfgs".into())?
                .set(&LogisticRegression::FIT_INTERCEPT, true)?
                .set(&common::REG, args.reg)?
                .set(&common::ELASTIC_NET, args.elastic_net)?
                .set(&common::MAX_ITER, args.max_iter)?
                .set(&common::TOL, 1e-9)?,
        );
    let model = pipeline.fit(&table)?;
    model.save(&args.model_dir)
}

/// The loaded model, its feature columns and its label column.
fn load(model_dir: &Path) -> eddy_ml::Result<(PipelineModel, Vec<String>, String)> {
    let model = PipelineModel::load(model_dir)?;
    let stage = |kind: &str| {
        model
            .stages()
            .iter()
            .find(|s| s.kind() == kind)
            .ok_or_else(|| Error::Format {
                path: model_dir.to_path_buf(),
                message: format!("not an ml_pipeline model (it has no {kind})"),
            })
    };
    let features = stage("VectorAssembler")?
        .params()
        .get(&VectorAssembler::INPUT_COLS);
    let label = stage("LogisticRegressionModel")?
        .params()
        .get(&common::LABEL_COL);
    Ok((model, features, label))
}

fn read_input(path: &Path, columns: Vec<String>) -> eddy_ml::Result<Table> {
    eddy_ml::read_csv_with(path, &CsvReadOptions { numeric: columns })
}

fn predict(model_dir: &Path, input: &Path, output: &Path) -> eddy_ml::Result<()> {
    let (model, features, _) = load(model_dir)?;
    let table = read_input(input, features)?;
    let out = model.transform(&table)?;
    let prediction: Vec<String> = out
        .doubles(PREDICTION)?
        .iter()
        .map(|p| format!("{p:.0}"))
        .collect();
    let probability: Vec<f64> = out.matrix(RAW)?.iter_rows().map(|r| r[1]).collect();
    let result = Table::new()
        .with_column("prediction", Column::Str(prediction))?
        .with_column("probability", Column::Double(probability))?;
    eddy_ml::write_csv(&result, output, None)
}

fn evaluate(model_dir: &Path, input: &Path) -> eddy_ml::Result<String> {
    let (model, mut features, label) = load(model_dir)?;
    features.push(label.clone());
    let table = read_input(input, features)?;
    let out = model.transform(&table)?;
    let metrics = BinaryClassificationEvaluator::new()
        .set(&common::LABEL_COL, label.clone())?
        .set(&common::RAW_PREDICTION_COL, RAW.into())?
        .metrics(&out)?;
    let labels = out.doubles(&label)?;
    let predictions = out.doubles(PREDICTION)?;
    let correct = labels
        .iter()
        .zip(predictions)
        .filter(|(l, p)| l == p)
        .count();
    let accuracy = correct as f64 / labels.len().max(1) as f64;
    let json = serde_json::json!({
        "areaUnderROC": finite(metrics.area_under_roc),
        "areaUnderPR": finite(metrics.area_under_pr),
        "ks": finite(metrics.ks),
        "accuracy": finite(accuracy),
    });
    Ok(json.to_string())
}

/// A number, or JSON null for NaN (one class only).
fn finite(x: f64) -> serde_json::Value {
    serde_json::Number::from_f64(x).map_or(serde_json::Value::Null, serde_json::Value::Number)
}

fn main() {
    init_logging();
    let args = Args::parse();
    let spinner = indicatif::ProgressBar::new_spinner();
    spinner.enable_steady_tick(Duration::from_millis(150));
    let result = match &args.command {
        Command::Fit(fit_args) => {
            spinner.set_message("fitting");
            fit(fit_args).map(|()| None)
        }
        Command::Predict {
            model_dir,
            input,
            output,
        } => {
            spinner.set_message("predicting");
            predict(model_dir, input, output).map(|()| None)
        }
        Command::Evaluate { model_dir, input } => {
            spinner.set_message("evaluating");
            evaluate(model_dir, input).map(Some)
        }
    };
    spinner.finish_and_clear();
    match result {
        Ok(Some(json)) => println!("{json}"),
        Ok(None) => {}
        Err(e) => fail("ml_pipeline", e, EXIT_BAD_INPUT),
    }
}
