//! Classifiers: [`LogisticRegression`].

mod logistic_regression;

pub use logistic_regression::{
    LogisticRegression, LogisticRegressionModel, LogisticRegressionModelData,
};
