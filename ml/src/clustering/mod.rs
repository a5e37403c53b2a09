//! Clustering: [`KMeans`].

pub mod kmeans;

pub use kmeans::{KMeans, KMeansModel, KMeansModelData};
