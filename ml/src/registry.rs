//! The kinds [`load_stage`](crate::load_stage) knows: one line per loadable stage type.

use std::path::Path;

use crate::error::Result;
use crate::persist::LoadedStage;
use crate::stage::Loadable;

macro_rules! registry {
    ($kind:expr, $dir:expr; $($variant:ident $ty:ty),* $(,)?) => {
        match $kind {
            $(k if k == <$ty as Loadable>::KIND => {
                Some(<$ty as Loadable>::load($dir).map(|s| LoadedStage::$variant(Box::new(s))))
            })*
            _ => None,
        }
    };
}

/// Loads a stage of kind `kind` from `dir`, or `None` for an unknown kind.
pub(crate) fn load(kind: &str, dir: &Path) -> Option<Result<LoadedStage>> {
    use crate::classification::*;
    use crate::clustering::*;
    use crate::evaluation::*;
    use crate::feature::*;
    use crate::pipeline::*;
    registry!(kind, dir;
        Estimator Pipeline,
        Transformer PipelineModel,
        Transformer VectorAssembler,
        Transformer Normalizer,
        Estimator StandardScaler,
        Transformer StandardScalerModel,
        Estimator MinMaxScaler,
        Transformer MinMaxScalerModel,
        Estimator MaxAbsScaler,
        Transformer MaxAbsScalerModel,
        Estimator KMeans,
        Transformer KMeansModel,
        Estimator LogisticRegression,
        Transformer LogisticRegressionModel,
        Operator BinaryClassificationEvaluator,
    )
}
