//! # Eddy ML
//!
//! Machine-learning pipelines in Flink ML's shape, on Eddy's batch engine: [`Transformer`]s,
//! [`Estimator`]s that fit [`Model`]s, [`AlgoOperator`]s, and [`Pipeline`]s of them, all with
//! typed parameters ([`param`]) and saved to directories that any process can load
//! ([`persist`]).
//!
//! ```
//! use eddy_ml::classification::LogisticRegression;
//! use eddy_ml::feature::{StandardScaler, VectorAssembler};
//! use eddy_ml::param::common::{FEATURES_COL, INPUT_COL, OUTPUT_COL};
//! use eddy_ml::{Column, Estimator, Pipeline, Table, Transformer, WithParams};
//!
//! let train = Table::new()
//!     .with_column("x", Column::Double(vec![-2.0, -1.0, 1.0, 2.0]))?
//!     .with_column("label", Column::Double(vec![0.0, 0.0, 1.0, 1.0]))?;
//! let pipeline = Pipeline::new()
//!     .add_transformer(VectorAssembler::new().set(&VectorAssembler::INPUT_COLS, vec!["x".into()])?.set(&OUTPUT_COL, "raw".into())?)
//!     .add_estimator(StandardScaler::new().set(&INPUT_COL, "raw".into())?.set(&OUTPUT_COL, "features".into())?)
//!     .add_estimator(LogisticRegression::new().set(&LogisticRegression::SOLVER, "lbfgs".into())?);
//! let model = pipeline.fit(&train)?;
//! let out = model.transform(&train)?;
//! assert_eq!(out.doubles("prediction")?, &[0.0, 0.0, 1.0, 1.0]);
//! # let _ = FEATURES_COL;
//! # Ok::<(), eddy_ml::Error>(())
//! ```
//!
//! ## Where to look
//!
//! - [`Table`]: named columns of numbers, text or vectors; [`read_csv`] and [`write_csv`].
//! - [`feature`]: VectorAssembler, StandardScaler, MinMaxScaler, MaxAbsScaler, Normalizer,
//!   and the table of Flink ML / scikit-learn differences.
//! - [`clustering::KMeans`] (random and k-means|| init; in memory or on the DataSet API).
//! - [`classification::LogisticRegression`] (L-BFGS, OWL-QN, mini-batch SGD).
//! - [`evaluation::BinaryClassificationEvaluator`] (areaUnderROC, areaUnderPR, KS).
//! - [`linalg`]: vectors and the numeric kernels.
//!
//! ## Execution
//!
//! Training runs on flat `f64` arrays split into row chunks that rayon processes in
//! parallel (the fast in-memory path). KMeans can also run as a DataSet bulk iteration
//! ([`clustering::KMeans::fit_dataset`]), the centers a broadcast set, the points cached
//! blocks: the same kernels, as a Flink program.

pub mod classification;
pub mod clustering;
mod error;
pub mod evaluation;
pub mod feature;
pub mod linalg;
pub mod optim;
pub mod param;
pub mod persist;
mod pipeline;
mod registry;
mod stage;
mod table;

pub use error::{Error, Result};
pub use param::{Param, Params, WithParams};
pub use persist::{load_stage, LoadedStage};
pub use pipeline::{Pipeline, PipelineModel, PipelineStage};
pub use stage::{AlgoOperator, DynEstimator, Estimator, Loadable, Model, Stage, Transformer};
pub use table::{
    format_f64, read_csv, read_csv_with, write_csv, Column, CsvReadOptions, DenseMatrix, Table,
};
