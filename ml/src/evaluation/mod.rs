//! Evaluators: [`BinaryClassificationEvaluator`].

mod binary_classification;

pub use binary_classification::{BinaryClassificationEvaluator, BinaryMetrics};
