//! Typed parameters with defaults and validation (Flink ML's `Param` and `WithParams`).
//!
//! Each stage declares its parameters as [`Param`] constants: a name (Flink ML's, such as
//! `maxIter`), a doc line, a default and a check. Values live in the stage's [`Params`] as
//! JSON, which is also how they are saved; setting or loading a value that fails its check
//! is an [`Error::InvalidParam`] naming the stage, the parameter and the reason.
//!
//! ```
//! use eddy_ml::clustering::KMeans;
//! use eddy_ml::WithParams;
//!
//! let kmeans = KMeans::new().set(&KMeans::K, 3)?;
//! assert_eq!(kmeans.get(&KMeans::K), 3);
//! assert_eq!(kmeans.get(&KMeans::MAX_ITER), 20); // Flink ML's default
//! let err = KMeans::new().set(&KMeans::K, 0).unwrap_err();
//! assert_eq!(err.to_string(), "KMeans: invalid value for param 'k': must be at least 1, got 0");
//! # Ok::<(), eddy_ml::Error>(())
//! ```

use std::collections::BTreeMap;
use std::fmt::Debug;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::stage::Stage;

/// A parameter of type `T`: its name, doc, default and check.
pub struct Param<T> {
    /// The name, as in Flink ML (`featuresCol`, `maxIter`).
    pub name: &'static str,
    /// One line saying what it does.
    pub doc: &'static str,
    default: fn() -> T,
    check: fn(&T) -> std::result::Result<(), String>,
}

impl<T> Param<T> {
    /// A parameter; `check` returns why a value is invalid.
    pub const fn new(
        name: &'static str,
        doc: &'static str,
        default: fn() -> T,
        check: fn(&T) -> std::result::Result<(), String>,
    ) -> Self {
        Param {
            name,
            doc,
            default,
            check,
        }
    }

    /// The default value.
    pub fn default_value(&self) -> T {
        (self.default)()
    }

    /// Why `value` is invalid, if it is.
    ///
    /// # Errors
    /// The reason, as one phrase.
    pub fn validate(&self, value: &T) -> std::result::Result<(), String> {
        (self.check)(value)
    }
}

/// A parameter with its type erased: what loading and listing need.
pub trait ParamSpec: Sync {
    /// The name.
    fn name(&self) -> &'static str;
    /// The doc line.
    fn doc(&self) -> &'static str;
    /// The default as JSON.
    fn default_json(&self) -> Value;
    /// Checks a JSON value: the right type and a valid value.
    ///
    /// # Errors
    /// Why it is not acceptable.
    fn check_json(&self, value: &Value) -> std::result::Result<(), String>;
}

impl<T: Serialize + DeserializeOwned + Sync> ParamSpec for Param<T> {
    fn name(&self) -> &'static str {
        self.name
    }

    fn doc(&self) -> &'static str {
        self.doc
    }

    fn default_json(&self) -> Value {
        serde_json::to_value(self.default_value()).unwrap_or(Value::Null)
    }

    fn check_json(&self, value: &Value) -> std::result::Result<(), String> {
        let typed: T = serde_json::from_value(value.clone())
            .map_err(|e| format!("{value} has the wrong type ({e})"))?;
        self.validate(&typed)
    }
}

/// The values of a stage's parameters (those set; the others read as their defaults).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Params {
    values: BTreeMap<String, Value>,
}

impl Params {
    /// The value of `param`, or its default.
    pub fn get<T: DeserializeOwned>(&self, param: &Param<T>) -> T {
        self.values
            .get(param.name)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_else(|| param.default_value())
    }

    /// Sets `param` after checking the value.
    ///
    /// # Errors
    /// [`Error::InvalidParam`] naming `stage` if the check fails.
    pub fn set<T: Serialize + DeserializeOwned + Sync>(
        &mut self,
        stage: &str,
        param: &Param<T>,
        value: T,
    ) -> Result<()> {
        param
            .validate(&value)
            .map_err(|m| Error::param(stage, param.name, m))?;
        let json = serde_json::to_value(value)
            .map_err(|e| Error::param(stage, param.name, e.to_string()))?;
        if json.is_null() && param.check_json(&json).is_err() {
            // serde_json writes NaN and infinities as null: such a value could not be saved.
            return Err(Error::param(
                stage,
                param.name,
                "must be finite (it is saved as JSON)",
            ));
        }
        self.values.insert(param.name.to_string(), json);
        Ok(())
    }

    /// Every parameter of `specs` with its value (defaults filled in), as a JSON object.
    pub fn to_json(&self, specs: &[&'static dyn ParamSpec]) -> Value {
        let mut map = serde_json::Map::new();
        for spec in specs {
            let value = self
                .values
                .get(spec.name())
                .cloned()
                .unwrap_or_else(|| spec.default_json());
            map.insert(spec.name().to_string(), value);
        }
        Value::Object(map)
    }

    /// Parameters read back from JSON, each checked; names not in `specs` are rejected.
    ///
    /// # Errors
    /// [`Error::InvalidParam`] for an unknown name, a wrong type or an invalid value.
    pub fn from_json(
        stage: &str,
        specs: &[&'static dyn ParamSpec],
        json: &Value,
    ) -> Result<Params> {
        let object = json
            .as_object()
            .ok_or_else(|| Error::param(stage, "*", "params must be a JSON object"))?;
        let mut values = BTreeMap::new();
        for (name, value) in object {
            let spec = specs.iter().find(|s| s.name() == name).ok_or_else(|| {
                let known: Vec<&str> = specs.iter().map(|s| s.name()).collect();
                Error::param(
                    stage,
                    name,
                    format!("unknown param (known: {})", known.join(", ")),
                )
            })?;
            spec.check_json(value)
                .map_err(|m| Error::param(stage, name, m))?;
            values.insert(name.clone(), value.clone());
        }
        Ok(Params { values })
    }
}

/// Builder-style access to any stage's parameters.
pub trait WithParams: Stage + Sized {
    /// This stage with `param` set to `value`.
    ///
    /// # Errors
    /// [`Error::InvalidParam`] if the value fails the parameter's check, or if the
    /// parameter is not one of this stage's.
    fn set<T: Serialize + DeserializeOwned + Sync>(
        mut self,
        param: &Param<T>,
        value: T,
    ) -> Result<Self> {
        if !self.param_specs().iter().any(|s| s.name() == param.name) {
            return Err(Error::param(
                self.kind(),
                param.name,
                "not a param of this stage",
            ));
        }
        let kind = self.kind();
        self.params_mut().set(kind, param, value)?;
        Ok(self)
    }

    /// The value of `param` (its default unless set).
    fn get<T: DeserializeOwned>(&self, param: &Param<T>) -> T {
        self.params().get(param)
    }
}

impl<S: Stage + Sized> WithParams for S {}

/// Checks shared by many parameters.
pub mod checks {
    /// Accepts anything.
    pub fn any<T>(_: &T) -> Result<(), String> {
        Ok(())
    }

    /// A non-empty name (of a column).
    #[allow(clippy::ptr_arg)] // the signature a `Param<String>` check must have
    pub fn non_empty(v: &String) -> Result<(), String> {
        if v.is_empty() {
            Err("must not be empty".into())
        } else {
            Ok(())
        }
    }

    /// At least one.
    pub fn at_least_one(v: &usize) -> Result<(), String> {
        if *v >= 1 {
            Ok(())
        } else {
            Err(format!("must be at least 1, got {v}"))
        }
    }

    /// A finite number, zero or more.
    pub fn non_negative(v: &f64) -> Result<(), String> {
        if v.is_finite() && *v >= 0.0 {
            Ok(())
        } else {
            Err(format!("must be a finite number >= 0, got {v}"))
        }
    }

    /// A finite number above zero.
    pub fn positive(v: &f64) -> Result<(), String> {
        if v.is_finite() && *v > 0.0 {
            Ok(())
        } else {
            Err(format!("must be a finite number > 0, got {v}"))
        }
    }

    /// A number in `[0, 1]`.
    pub fn unit_interval(v: &f64) -> Result<(), String> {
        if (0.0..=1.0).contains(v) {
            Ok(())
        } else {
            Err(format!("must be in [0, 1], got {v}"))
        }
    }
}

/// Parameters shared by many stages (Flink ML's `HasFeaturesCol`, `HasMaxIter`, ...).
pub mod common {
    use super::{checks, Param};

    /// The input features column (a vector).
    pub const FEATURES_COL: Param<String> = Param::new(
        "featuresCol",
        "Features column name.",
        || "features".into(),
        checks::non_empty,
    );
    /// The label column (numbers; 0/1 for binary classifiers).
    pub const LABEL_COL: Param<String> = Param::new(
        "labelCol",
        "Label column name.",
        || "label".into(),
        checks::non_empty,
    );
    /// An optional weight column.
    pub const WEIGHT_COL: Param<Option<String>> = Param::new(
        "weightCol",
        "Weight column name (none: every row weighs 1).",
        || None,
        checks::any,
    );
    /// The prediction column written by models.
    pub const PREDICTION_COL: Param<String> = Param::new(
        "predictionCol",
        "Prediction column name.",
        || "prediction".into(),
        checks::non_empty,
    );
    /// The raw prediction (probability or score) column written by classifiers.
    pub const RAW_PREDICTION_COL: Param<String> = Param::new(
        "rawPredictionCol",
        "Raw prediction column name (the probability of class 1 for binary classifiers).",
        || "rawPrediction".into(),
        checks::non_empty,
    );
    /// The input column of a feature transformer.
    pub const INPUT_COL: Param<String> = Param::new(
        "inputCol",
        "Input column name.",
        || "input".into(),
        checks::non_empty,
    );
    /// The output column of a feature transformer.
    pub const OUTPUT_COL: Param<String> = Param::new(
        "outputCol",
        "Output column name.",
        || "output".into(),
        checks::non_empty,
    );
    /// Maximum iterations.
    pub const MAX_ITER: Param<usize> = Param::new(
        "maxIter",
        "Maximum number of iterations.",
        || 20,
        checks::at_least_one,
    );
    /// Random seed. Flink ML's default is a hash of the class name; ours is a constant, so
    /// unseeded runs are reproducible too.
    pub const SEED: Param<u64> = Param::new("seed", "The random seed.", || 0x5eed, checks::any);
    /// Convergence tolerance.
    pub const TOL: Param<f64> = Param::new(
        "tol",
        "Convergence tolerance for iterative algorithms.",
        || 1e-6,
        checks::non_negative,
    );
    /// Regularization strength.
    pub const REG: Param<f64> = Param::new(
        "reg",
        "Regularization parameter.",
        || 0.0,
        checks::non_negative,
    );
    /// Elastic net mixing: 0 is L2, 1 is L1.
    pub const ELASTIC_NET: Param<f64> = Param::new(
        "elasticNet",
        "ElasticNet parameter: 0 is an L2 penalty, 1 an L1 penalty.",
        || 0.0,
        checks::unit_interval,
    );
    /// SGD learning rate.
    pub const LEARNING_RATE: Param<f64> = Param::new(
        "learningRate",
        "Learning rate of optimization method.",
        || 0.1,
        checks::positive,
    );
    /// SGD global batch size.
    pub const GLOBAL_BATCH_SIZE: Param<usize> = Param::new(
        "globalBatchSize",
        "Global batch size of training algorithms.",
        || 32,
        checks::at_least_one,
    );
}
