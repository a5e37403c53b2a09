//! Optimizers for the linear models: [`lbfgs`] (L-BFGS, and OWL-QN for L1 penalties) and
//! [`sgd`] (Flink ML's mini-batch SGD with proximal regularization).

pub mod lbfgs;
pub mod sgd;
