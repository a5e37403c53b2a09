//! The crate's one error type.

/// Everything that can go wrong when building, loading or running a pattern.
#[derive(Debug, thiserror::Error)]
pub enum CepError {
    /// The pattern is malformed (duplicate stage names, a negated first stage, ...).
    #[error("invalid pattern: {0}")]
    InvalidPattern(String),
    /// The JSON form of a pattern could not be read.
    #[error("pattern JSON: {0}")]
    Json(String),
    /// A skip-to-first/last strategy with `throw_on_miss` found no event of its stage in a match.
    #[error("after-match skip: stage {0:?} has no event in the match")]
    SkipStageMissing(String),
    /// A bug in eddy-cep.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, CepError>;
