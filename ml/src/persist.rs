//! Save and load: a stage is a directory holding `metadata.json` (format version, kind,
//! parameters) and, for models, `data.json` (the learned data); a pipeline adds one
//! subdirectory per stage under `stages/`. Directories are written under a temporary name
//! and renamed into place, so a reader never sees half a model.
//!
//! ```text
//! model/
//!   metadata.json    {"formatVersion": 1, "kind": "PipelineModel", "eddyVersion": "0.1.0", "params": {}}
//!   stages/000/      metadata.json (VectorAssembler)
//!   stages/001/      metadata.json, data.json (StandardScalerModel)
//! ```
//!
//! Numbers round-trip exactly: JSON holds each `f64` in its shortest exact form.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::param::{ParamSpec, Params};
use crate::stage::{AlgoOperator, DynEstimator, Loadable, Transformer};

/// The format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// The metadata file of a saved stage.
pub const METADATA_FILE: &str = "metadata.json";
/// The model data file of a saved model.
pub const DATA_FILE: &str = "data.json";
/// The subdirectory holding a pipeline's stages.
pub const STAGES_DIR: &str = "stages";

/// The contents of `metadata.json`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Metadata {
    /// [`FORMAT_VERSION`] when written.
    pub format_version: u32,
    /// The stage's kind (`KMeansModel`).
    pub kind: String,
    /// The version of Eddy that wrote it.
    pub eddy_version: String,
    /// Every parameter's value.
    pub params: Value,
}

pub(crate) fn write_stage_files(
    kind: &str,
    specs: &[&'static dyn ParamSpec],
    params: &Params,
    data: Option<Value>,
    dir: &Path,
) -> Result<()> {
    let metadata = Metadata {
        format_version: FORMAT_VERSION,
        kind: kind.to_string(),
        eddy_version: env!("CARGO_PKG_VERSION").to_string(),
        params: params.to_json(specs),
    };
    write_json(
        &dir.join(METADATA_FILE),
        &serde_json::to_value(&metadata).unwrap_or(Value::Null),
    )?;
    if let Some(data) = data {
        write_json(&dir.join(DATA_FILE), &data)?;
    }
    Ok(())
}

fn write_json(path: &Path, value: &Value) -> Result<()> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Error::io(path, std::io::Error::other(e)))?;
    std::fs::write(path, text + "\n").map_err(|e| Error::io(path, e))
}

/// Runs `write` on a fresh temporary directory beside `dir`, then renames it to `dir`
/// (replacing an existing directory of that name).
pub(crate) fn save_atomically(dir: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
    let tmp = tempfile::Builder::new()
        .prefix(".eddy-ml-save-")
        .tempdir_in(&parent)
        .map_err(|e| Error::io(&parent, e))?;
    write(tmp.path())?;
    if dir.exists() {
        let old = tempfile::Builder::new()
            .prefix(".eddy-ml-old-")
            .tempdir_in(&parent)
            .map_err(|e| Error::io(&parent, e))?;
        let parked = old.path().join("old");
        std::fs::rename(dir, &parked).map_err(|e| Error::io(dir, e))?;
        let tmp_path = tmp.keep();
        if let Err(e) = std::fs::rename(&tmp_path, dir) {
            let _ = std::fs::rename(&parked, dir);
            let _ = std::fs::remove_dir_all(&tmp_path);
            return Err(Error::io(dir, e));
        }
    } else {
        let tmp_path = tmp.keep();
        if let Err(e) = std::fs::rename(&tmp_path, dir) {
            let _ = std::fs::remove_dir_all(&tmp_path);
            return Err(Error::io(dir, e));
        }
    }
    Ok(())
}

/// Reads and checks a stage directory's metadata.
///
/// # Errors
/// [`Error::Format`] if it is missing, malformed, or of another format version.
pub fn read_metadata(dir: &Path) -> Result<Metadata> {
    let path = dir.join(METADATA_FILE);
    if !dir.is_dir() {
        return Err(Error::Format {
            path: dir.to_path_buf(),
            message: "not a saved model or stage directory (no such directory)".into(),
        });
    }
    let text = std::fs::read_to_string(&path).map_err(|e| Error::Format {
        path: path.clone(),
        message: format!("not a saved model or stage ({e})"),
    })?;
    let raw: Value = serde_json::from_str(&text).map_err(|e| Error::Format {
        path: path.clone(),
        message: format!("malformed metadata: {e}"),
    })?;
    let version = raw.get("formatVersion").and_then(Value::as_u64);
    if version != Some(u64::from(FORMAT_VERSION)) {
        return Err(Error::Format {
            path,
            message: match version {
                Some(v) => format!(
                    "model format version {v} is not supported (this build reads version {FORMAT_VERSION})"
                ),
                None => "metadata has no formatVersion".into(),
            },
        });
    }
    serde_json::from_value(raw).map_err(|e| Error::Format {
        path,
        message: format!("malformed metadata: {e}"),
    })
}

pub(crate) fn read_data(dir: &Path) -> Result<Option<Value>> {
    let path = dir.join(DATA_FILE);
    if !path.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| Error::Format {
            path,
            message: format!("malformed model data: {e}"),
        })
}

/// Loads a stage of type `T` from `dir`, checking kind, version and params.
pub(crate) fn load_typed<T: Loadable>(dir: &Path) -> Result<T> {
    let metadata = read_metadata(dir)?;
    if metadata.kind != T::KIND {
        return Err(Error::Format {
            path: dir.join(METADATA_FILE),
            message: format!("holds a {}, not a {}", metadata.kind, T::KIND),
        });
    }
    let params = Params::from_json(T::KIND, T::specs(), &metadata.params)?;
    T::from_parts(params, read_data(dir)?, dir)
}

/// A stage loaded without knowing its type in advance.
pub enum LoadedStage {
    /// A transformer or model.
    Transformer(Box<dyn Transformer>),
    /// An estimator (or a pipeline).
    Estimator(Box<dyn DynEstimator>),
    /// An operator that is neither (an evaluator).
    Operator(Box<dyn AlgoOperator>),
}

impl LoadedStage {
    /// The loaded stage's kind.
    pub fn kind(&self) -> &'static str {
        match self {
            LoadedStage::Transformer(t) => t.kind(),
            LoadedStage::Estimator(e) => e.kind(),
            LoadedStage::Operator(o) => o.kind(),
        }
    }
}

/// Loads whatever stage `dir` holds (Flink ML's `ReadWriteUtils.loadStage`).
///
/// ```
/// use eddy_ml::feature::Normalizer;
/// use eddy_ml::{load_stage, LoadedStage, Stage, WithParams};
///
/// let dir = tempfile::tempdir().unwrap();
/// Normalizer::new().set(&Normalizer::P, 1.0)?.save(&dir.path().join("n"))?;
/// match load_stage(dir.path().join("n"))? {
///     LoadedStage::Transformer(t) => assert_eq!(t.kind(), "Normalizer"),
///     _ => unreachable!(),
/// }
/// # Ok::<(), eddy_ml::Error>(())
/// ```
///
/// # Errors
/// [`Error::Format`] for a directory that is not a saved stage, of an unknown kind or of
/// another format version; [`Error::InvalidParam`] for a saved param that fails its check.
pub fn load_stage(dir: impl AsRef<Path>) -> Result<LoadedStage> {
    let dir = dir.as_ref();
    let metadata = read_metadata(dir)?;
    crate::registry::load(&metadata.kind, dir).unwrap_or_else(|| {
        Err(Error::Format {
            path: dir.join(METADATA_FILE),
            message: format!("unknown stage kind '{}'", metadata.kind),
        })
    })
}
