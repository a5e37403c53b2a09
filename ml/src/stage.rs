//! The stage traits, in Flink ML's shape: every [`Stage`] has typed parameters and can be
//! saved; an [`AlgoOperator`] turns tables into tables; a [`Transformer`] is an operator
//! that maps one table to one table, row for row; an [`Estimator`] fits a [`Model`] (a
//! transformer carrying learned data) on a table.
//!
//! ```
//! use eddy_ml::feature::StandardScaler;
//! use eddy_ml::{Column, DenseMatrix, Estimator, Table, Transformer, WithParams};
//!
//! let data = DenseMatrix::from_rows(&[vec![1.0], vec![3.0]])?;
//! let table = Table::new().with_column("input", Column::Matrix(data))?;
//! let model = StandardScaler::new().fit(&table)?;           // Estimator -> Model
//! let scaled = model.transform(&table)?;                     // Model is a Transformer
//! assert_eq!(scaled.matrix("output")?.values, vec![1.0 / 2f64.sqrt(), 3.0 / 2f64.sqrt()]);
//! # Ok::<(), eddy_ml::Error>(())
//! ```

use std::path::Path;

use serde_json::Value;

use crate::error::Result;
use crate::param::{ParamSpec, Params};
use crate::table::Table;

/// What every pipeline stage has: a kind (its saved type name), typed parameters, and
/// save to a directory.
pub trait Stage: Send + Sync + 'static {
    /// The stage's type name as saved in its metadata (`KMeans`, `KMeansModel`).
    fn kind(&self) -> &'static str;

    /// Every parameter this stage accepts.
    fn param_specs(&self) -> &'static [&'static dyn ParamSpec];

    /// The parameter values.
    fn params(&self) -> &Params;

    /// The parameter values, mutably (prefer [`WithParams::set`](crate::WithParams::set),
    /// which checks the value).
    fn params_mut(&mut self) -> &mut Params;

    /// The learned data of a model, as JSON (none for stages that learn nothing).
    ///
    /// # Errors
    /// If the data cannot be serialized.
    fn model_data(&self) -> Result<Option<Value>> {
        Ok(None)
    }

    /// Writes the stage's files into the (existing, empty) directory `dir`: metadata and
    /// model data. Pipelines add their stages in subdirectories.
    ///
    /// # Errors
    /// [`Error::Io`](crate::Error::Io) if a file cannot be written.
    fn write_to(&self, dir: &Path) -> Result<()> {
        crate::persist::write_stage_files(
            self.kind(),
            self.param_specs(),
            self.params(),
            self.model_data()?,
            dir,
        )
    }

    /// Saves the stage to directory `dir` (replacing what is there), atomically: the files
    /// are written to a temporary directory beside it, renamed into place when complete.
    /// [`load_stage`](crate::load_stage) or the type's `load` reads it back, in any process.
    ///
    /// # Errors
    /// [`Error::Io`](crate::Error::Io) if the directory cannot be written.
    fn save(&self, dir: &Path) -> Result<()> {
        crate::persist::save_atomically(dir, |tmp| self.write_to(tmp))
    }
}

/// Turns input tables into output tables (Flink ML's `AlgoOperator`): evaluators, and every
/// [`Transformer`].
pub trait AlgoOperator: Stage {
    /// The outputs computed from `inputs`.
    ///
    /// # Errors
    /// [`Error::Schema`](crate::Error::Schema) for missing or mistyped columns, and the
    /// operator's own errors.
    fn transform_tables(&self, inputs: &[&Table]) -> Result<Vec<Table>>;
}

/// An operator mapping one table to one table with the same rows plus output columns.
pub trait Transformer: Stage {
    /// The input table with this transformer's output column(s) added.
    ///
    /// # Errors
    /// [`Error::Schema`](crate::Error::Schema) for missing or mistyped input columns.
    fn transform(&self, input: &Table) -> Result<Table>;
}

impl<T: Transformer> AlgoOperator for T {
    fn transform_tables(&self, inputs: &[&Table]) -> Result<Vec<Table>> {
        let input = inputs.first().ok_or_else(|| {
            crate::Error::Schema(format!("{} needs one input table", self.kind()))
        })?;
        Ok(vec![self.transform(input)?])
    }
}

/// A transformer that carries data learned by an [`Estimator`].
pub trait Model: Transformer {}

/// Learns a [`Model`] from a table.
pub trait Estimator: Stage {
    /// The model it fits.
    type Model: Model;

    /// Fits the model on `input`.
    ///
    /// # Errors
    /// [`Error::Schema`](crate::Error::Schema) for missing columns,
    /// [`Error::Data`](crate::Error::Data) for data it cannot learn from.
    fn fit(&self, input: &Table) -> Result<Self::Model>;
}

/// An [`Estimator`] with its model type erased, as pipelines hold them.
pub trait DynEstimator: Stage {
    /// [`Estimator::fit`], boxed.
    ///
    /// # Errors
    /// As [`Estimator::fit`].
    fn fit_boxed(&self, input: &Table) -> Result<Box<dyn Transformer>>;
}

impl<E: Estimator> DynEstimator for E {
    fn fit_boxed(&self, input: &Table) -> Result<Box<dyn Transformer>> {
        Ok(Box::new(self.fit(input)?))
    }
}

/// A stage type that can be read back from a saved directory.
pub trait Loadable: Stage + Sized {
    /// The kind written in its metadata.
    const KIND: &'static str;

    /// Every parameter of this stage type.
    fn specs() -> &'static [&'static dyn ParamSpec];

    /// Rebuilds the stage from its checked parameters, its model data and its directory.
    ///
    /// # Errors
    /// [`Error::Format`](crate::Error::Format) for model data that does not fit.
    fn from_parts(params: Params, data: Option<Value>, dir: &Path) -> Result<Self>;

    /// Loads a stage of this type saved in `dir`.
    ///
    /// # Errors
    /// [`Error::Format`](crate::Error::Format) for a directory of another kind or format
    /// version, [`Error::InvalidParam`](crate::Error::InvalidParam) for bad saved params.
    fn load(dir: impl AsRef<Path>) -> Result<Self> {
        crate::persist::load_typed(dir.as_ref())
    }
}

/// Implements [`Stage`] and [`Loadable`] for a stage struct with a `params: Params` field
/// (and, for models, a serde `data` field).
macro_rules! stage_impl {
    ($ty:ty, $kind:literal, [$($p:expr),* $(,)?]) => {
        impl $crate::stage::Stage for $ty {
            fn kind(&self) -> &'static str { $kind }
            fn param_specs(&self) -> &'static [&'static dyn $crate::param::ParamSpec] {
                <Self as $crate::stage::Loadable>::specs()
            }
            fn params(&self) -> &$crate::param::Params { &self.params }
            fn params_mut(&mut self) -> &mut $crate::param::Params { &mut self.params }
        }
        impl $crate::stage::Loadable for $ty {
            const KIND: &'static str = $kind;
            fn specs() -> &'static [&'static dyn $crate::param::ParamSpec] {
                const SPECS: &[&dyn $crate::param::ParamSpec] = &[$(&$p),*];
                SPECS
            }
            fn from_parts(
                params: $crate::param::Params,
                _data: Option<serde_json::Value>,
                _dir: &std::path::Path,
            ) -> $crate::error::Result<Self> {
                Ok(Self { params })
            }
        }
    };
    ($ty:ty, $kind:literal, [$($p:expr),* $(,)?], data) => {
        impl $crate::stage::Stage for $ty {
            fn kind(&self) -> &'static str { $kind }
            fn param_specs(&self) -> &'static [&'static dyn $crate::param::ParamSpec] {
                <Self as $crate::stage::Loadable>::specs()
            }
            fn params(&self) -> &$crate::param::Params { &self.params }
            fn params_mut(&mut self) -> &mut $crate::param::Params { &mut self.params }
            fn model_data(&self) -> $crate::error::Result<Option<serde_json::Value>> {
                serde_json::to_value(&self.data).map(Some).map_err(|e| {
                    $crate::error::Error::Data(format!("{}: cannot serialize model data: {e}", $kind))
                })
            }
        }
        impl $crate::stage::Loadable for $ty {
            const KIND: &'static str = $kind;
            fn specs() -> &'static [&'static dyn $crate::param::ParamSpec] {
                const SPECS: &[&dyn $crate::param::ParamSpec] = &[$(&$p),*];
                SPECS
            }
            fn from_parts(
                params: $crate::param::Params,
                data: Option<serde_json::Value>,
                dir: &std::path::Path,
            ) -> $crate::error::Result<Self> {
                let data = data.ok_or_else(|| $crate::error::Error::Format {
                    path: dir.to_path_buf(),
                    message: format!("{} has no model data", $kind),
                })?;
                let data = serde_json::from_value(data).map_err(|e| $crate::error::Error::Format {
                    path: dir.join($crate::persist::DATA_FILE),
                    message: format!("bad {} model data: {e}", $kind),
                })?;
                let model = Self { params, data };
                model.check_data().map_err(|message| $crate::error::Error::Format {
                    path: dir.join($crate::persist::DATA_FILE),
                    message,
                })?;
                Ok(model)
            }
        }
        impl $crate::stage::Model for $ty {}
    };
}
pub(crate) use stage_impl;
