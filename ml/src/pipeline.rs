//! [`Pipeline`] and [`PipelineModel`] (Flink ML's linear pipelines): a pipeline is an
//! estimator made of stages; fitting it runs the stages in order, fitting each estimator
//! on the table as transformed by the stages before it, and gives a [`PipelineModel`] of
//! transformers and fitted models.
//!
//! ```
//! use eddy_ml::feature::{StandardScaler, VectorAssembler};
//! use eddy_ml::{Column, Estimator, Loadable, Pipeline, PipelineModel, Stage, Table, Transformer, WithParams};
//!
//! let table = Table::new()
//!     .with_column("a", Column::Double(vec![1.0, 2.0, 3.0]))?
//!     .with_column("b", Column::Double(vec![0.0, 0.0, 3.0]))?;
//! let assembler = VectorAssembler::new()
//!     .set(&VectorAssembler::INPUT_COLS, vec!["a".into(), "b".into()])?
//!     .set(&eddy_ml::param::common::OUTPUT_COL, "features".into())?;
//! let scaler = StandardScaler::new()
//!     .set(&eddy_ml::param::common::INPUT_COL, "features".into())?
//!     .set(&eddy_ml::param::common::OUTPUT_COL, "scaled".into())?;
//! let model = Pipeline::new().add_transformer(assembler).add_estimator(scaler).fit(&table)?;
//!
//! let dir = tempfile::tempdir().unwrap();
//! model.save(&dir.path().join("model"))?;
//! let loaded = PipelineModel::load(dir.path().join("model"))?;
//! assert_eq!(loaded.transform(&table)?, model.transform(&table)?);
//! # Ok::<(), eddy_ml::Error>(())
//! ```

use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::param::{ParamSpec, Params};
use crate::persist::{self, LoadedStage, STAGES_DIR};
use crate::stage::{DynEstimator, Estimator, Loadable, Model, Stage, Transformer};
use crate::table::Table;

/// One stage of a [`Pipeline`].
pub enum PipelineStage {
    /// Applied as is.
    Transformer(Arc<dyn Transformer>),
    /// Fitted, then its model applied.
    Estimator(Box<dyn DynEstimator>),
}

impl PipelineStage {
    fn kind(&self) -> &'static str {
        match self {
            PipelineStage::Transformer(t) => t.kind(),
            PipelineStage::Estimator(e) => e.kind(),
        }
    }

    fn write_to(&self, dir: &Path) -> Result<()> {
        match self {
            PipelineStage::Transformer(t) => t.write_to(dir),
            PipelineStage::Estimator(e) => e.write_to(dir),
        }
    }
}

/// A linear pipeline of transformers and estimators; itself an [`Estimator`].
#[derive(Default)]
pub struct Pipeline {
    stages: Vec<PipelineStage>,
    params: Params,
}

impl Pipeline {
    /// An empty pipeline.
    pub fn new() -> Self {
        Pipeline::default()
    }

    /// Appends a transformer (or a fitted model).
    pub fn add_transformer(mut self, stage: impl Transformer) -> Self {
        self.stages
            .push(PipelineStage::Transformer(Arc::new(stage)));
        self
    }

    /// Appends an estimator.
    pub fn add_estimator(mut self, stage: impl DynEstimator) -> Self {
        self.stages.push(PipelineStage::Estimator(Box::new(stage)));
        self
    }

    /// Appends a boxed stage.
    pub fn add_stage(mut self, stage: PipelineStage) -> Self {
        self.stages.push(stage);
        self
    }

    /// The stages' kinds, in order.
    pub fn stage_kinds(&self) -> Vec<&'static str> {
        self.stages.iter().map(PipelineStage::kind).collect()
    }
}

impl Stage for Pipeline {
    fn kind(&self) -> &'static str {
        "Pipeline"
    }
    fn param_specs(&self) -> &'static [&'static dyn ParamSpec] {
        &[]
    }
    fn params(&self) -> &Params {
        &self.params
    }
    fn params_mut(&mut self) -> &mut Params {
        &mut self.params
    }
    fn write_to(&self, dir: &Path) -> Result<()> {
        persist::write_stage_files(self.kind(), &[], &self.params, None, dir)?;
        write_stages(
            dir,
            self.stages.iter().map(|s| move |d: &Path| s.write_to(d)),
        )
    }
}

fn write_stages<F: FnOnce(&Path) -> Result<()>>(
    dir: &Path,
    stages: impl Iterator<Item = F>,
) -> Result<()> {
    for (i, write) in stages.enumerate() {
        let sub = dir.join(STAGES_DIR).join(format!("{i:03}"));
        std::fs::create_dir_all(&sub).map_err(|e| Error::io(&sub, e))?;
        write(&sub)?;
    }
    Ok(())
}

fn read_stages(dir: &Path) -> Result<Vec<LoadedStage>> {
    let root = dir.join(STAGES_DIR);
    let mut subdirs = Vec::new();
    if root.exists() {
        for entry in std::fs::read_dir(&root).map_err(|e| Error::io(&root, e))? {
            let entry = entry.map_err(|e| Error::io(&root, e))?;
            subdirs.push(entry.path());
        }
    }
    subdirs.sort();
    subdirs.iter().map(persist::load_stage).collect()
}

impl Estimator for Pipeline {
    type Model = PipelineModel;

    fn fit(&self, input: &Table) -> Result<PipelineModel> {
        let last_estimator = self
            .stages
            .iter()
            .rposition(|s| matches!(s, PipelineStage::Estimator(_)));
        let mut table = input.clone();
        let mut fitted: Vec<Arc<dyn Transformer>> = Vec::with_capacity(self.stages.len());
        for (i, stage) in self.stages.iter().enumerate() {
            let transformer: Arc<dyn Transformer> = match stage {
                PipelineStage::Estimator(e) => Arc::from(e.fit_boxed(&table)?),
                // Transformers are shared between the pipeline and its model.
                PipelineStage::Transformer(t) => t.clone(),
            };
            if last_estimator.is_some_and(|last| i < last) {
                table = transformer.transform(&table)?;
            }
            fitted.push(transformer);
        }
        Ok(PipelineModel {
            stages: fitted,
            params: Params::default(),
        })
    }
}

impl Loadable for Pipeline {
    const KIND: &'static str = "Pipeline";
    fn specs() -> &'static [&'static dyn ParamSpec] {
        &[]
    }
    fn from_parts(params: Params, _data: Option<Value>, dir: &Path) -> Result<Self> {
        let stages = read_stages(dir)?
            .into_iter()
            .map(|s| match s {
                LoadedStage::Transformer(t) => Ok(PipelineStage::Transformer(Arc::from(t))),
                LoadedStage::Estimator(e) => Ok(PipelineStage::Estimator(e)),
                LoadedStage::Operator(o) => Err(Error::Format {
                    path: dir.to_path_buf(),
                    message: format!("{} cannot be a pipeline stage", o.kind()),
                }),
            })
            .collect::<Result<_>>()?;
        Ok(Pipeline { stages, params })
    }
}

/// The fitted form of a [`Pipeline`]: its transformers and models, applied in order.
pub struct PipelineModel {
    stages: Vec<Arc<dyn Transformer>>,
    params: Params,
}

impl PipelineModel {
    /// A pipeline model of the given transformers.
    pub fn new(stages: Vec<Arc<dyn Transformer>>) -> Self {
        PipelineModel {
            stages,
            params: Params::default(),
        }
    }

    /// The stages, in order.
    pub fn stages(&self) -> &[Arc<dyn Transformer>] {
        &self.stages
    }
}

impl Stage for PipelineModel {
    fn kind(&self) -> &'static str {
        "PipelineModel"
    }
    fn param_specs(&self) -> &'static [&'static dyn ParamSpec] {
        &[]
    }
    fn params(&self) -> &Params {
        &self.params
    }
    fn params_mut(&mut self) -> &mut Params {
        &mut self.params
    }
    fn write_to(&self, dir: &Path) -> Result<()> {
        persist::write_stage_files(self.kind(), &[], &self.params, None, dir)?;
        write_stages(
            dir,
            self.stages.iter().map(|s| move |d: &Path| s.write_to(d)),
        )
    }
}

impl Transformer for PipelineModel {
    fn transform(&self, input: &Table) -> Result<Table> {
        let mut table = input.clone();
        for stage in &self.stages {
            table = stage.transform(&table)?;
        }
        Ok(table)
    }
}

impl Model for PipelineModel {}

impl Loadable for PipelineModel {
    const KIND: &'static str = "PipelineModel";
    fn specs() -> &'static [&'static dyn ParamSpec] {
        &[]
    }
    fn from_parts(params: Params, _data: Option<Value>, dir: &Path) -> Result<Self> {
        let stages = read_stages(dir)?
            .into_iter()
            .map(|s| match s {
                LoadedStage::Transformer(t) => Ok(Arc::from(t)),
                other => Err(Error::Format {
                    path: dir.to_path_buf(),
                    message: format!("{} cannot be a pipeline model stage", other.kind()),
                }),
            })
            .collect::<Result<_>>()?;
        Ok(PipelineModel { stages, params })
    }
}
