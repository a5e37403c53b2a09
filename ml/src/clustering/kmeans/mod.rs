//! [`KMeans`]: Lloyd's algorithm from random or k-means|| initial centers.
//!
//! # Algorithm
//! 1. **Init.** `random` (Flink ML's default) takes `k` distinct rows chosen by the seeded
//!    generator. `k-means||` (Bahmani et al., "Scalable K-Means++", VLDB 2012, as Spark
//!    does it) picks one random row, then for `initSteps` rounds samples every row with
//!    probability `2k · d²(x) / Σ d²` (each row's coin derived from seed, round and row
//!    number, so the result does not depend on parallelism), weighs the candidates by the
//!    rows nearest to them, and reduces them to `k` with weighted k-means++ followed by
//!    weighted Lloyd iterations. Or the caller gives the initial centers
//!    ([`KMeans::fit_from`]).
//! 2. **Lloyd iterations**, `maxIter` of them unless no center moves: each row chunk (in
//!    parallel) assigns its rows to the nearest center (the smallest `‖c‖² - 2 x·c`, as
//!    scikit-learn computes it, four rows at a time, with AVX2 and FMA where the CPU has
//!    them; beyond 16 centers, exact squared distances) and sums them per center; the
//!    partial sums are merged in chunk order (so results do not depend on thread count)
//!    and each center becomes the mean of its rows. A center that no row is nearest to
//!    keeps its place (scikit-learn would move it to a far point).
//!
//! [`KMeans::fit_dataset`] runs step 2 as a DataSet bulk iteration: the points as cached
//! blocks, the centers a broadcast set, the per-block sums reduced, the loop ended by a
//! termination criterion ("some center moved").
//!
//! # Memory
//! The features as one flat matrix (borrowed from the table when stored dense), plus
//! `k × dim` sums per row chunk.
//!
//! ```
//! use eddy_ml::clustering::KMeans;
//! use eddy_ml::{Column, DenseMatrix, Estimator, Table, Transformer, WithParams};
//!
//! let points = DenseMatrix::from_rows(&[vec![0.0, 0.0], vec![0.0, 0.3], vec![9.0, 0.0], vec![9.6, 0.0]])?;
//! let table = Table::new().with_column("features", Column::Matrix(points))?;
//! let model = KMeans::new().set(&KMeans::K, 2)?.set(&KMeans::SEED, 1)?.fit(&table)?;
//! let out = model.transform(&table)?;
//! let p = out.doubles("prediction")?;
//! assert_eq!(p[0], p[1]);
//! assert_eq!(p[2], p[3]);
//! assert_ne!(p[0], p[2]);
//! # Ok::<(), eddy_ml::Error>(())
//! ```

mod dataset;
mod init;
mod lloyd;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::linalg::kernels;
use crate::param::{checks, common, Param, Params};
use crate::stage::{stage_impl, Estimator, Transformer};
use crate::table::{Column, DenseMatrix, Table};

/// K-means clustering (Flink ML's KMeans: `k = 2`, `maxIter = 20`, `initMode = random`,
/// Euclidean distance).
#[derive(Debug, Clone, Default)]
pub struct KMeans {
    params: Params,
}

/// The centers a [`KMeansModel`] assigns to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KMeansModelData {
    /// One row per cluster.
    pub centroids: DenseMatrix,
}

/// Assigns each vector to its nearest center.
#[derive(Debug, Clone)]
pub struct KMeansModel {
    params: Params,
    data: KMeansModelData,
}

stage_impl!(
    KMeans,
    "KMeans",
    [
        common::FEATURES_COL,
        common::PREDICTION_COL,
        KMeans::K,
        KMeans::DISTANCE_MEASURE,
        KMeans::INIT_MODE,
        KMeans::INIT_STEPS,
        common::SEED,
        common::MAX_ITER,
    ]
);
stage_impl!(
    KMeansModel,
    "KMeansModel",
    [
        common::FEATURES_COL,
        common::PREDICTION_COL,
        KMeans::K,
        KMeans::DISTANCE_MEASURE,
        KMeans::INIT_MODE,
        KMeans::INIT_STEPS,
        common::SEED,
        common::MAX_ITER,
    ],
    data
);

impl KMeans {
    /// Number of clusters.
    pub const K: Param<usize> = Param::new(
        "k",
        "The max number of clusters to create.",
        || 2,
        checks::at_least_one,
    );
    /// Distance measure (only `euclidean` so far).
    pub const DISTANCE_MEASURE: Param<String> = Param::new(
        "distanceMeasure",
        "Distance measure. Supported values: 'euclidean'.",
        || "euclidean".into(),
        |v| match v.as_str() {
            "euclidean" => Ok(()),
            o => Err(format!("only 'euclidean' is supported, got '{o}'")),
        },
    );
    /// Initialization: `random` or `k-means||`.
    pub const INIT_MODE: Param<String> = Param::new(
        "initMode",
        "The initialization algorithm: 'random' or 'k-means||'.",
        || "random".into(),
        |v| match v.as_str() {
            "random" | "k-means||" => Ok(()),
            o => Err(format!("must be 'random' or 'k-means||', got '{o}'")),
        },
    );
    /// Sampling rounds of `k-means||`.
    pub const INIT_STEPS: Param<usize> = Param::new(
        "initSteps",
        "Number of sampling rounds of the k-means|| initialization.",
        || 2,
        checks::at_least_one,
    );
    /// Random seed.
    pub const SEED: Param<u64> = common::SEED;
    /// Maximum Lloyd iterations.
    pub const MAX_ITER: Param<usize> = common::MAX_ITER;

    /// A KMeans with default params.
    pub fn new() -> Self {
        Self::default()
    }

    fn features<'a>(&self, input: &'a Table) -> Result<std::borrow::Cow<'a, DenseMatrix>> {
        let m = input.matrix(&self.params.get(&common::FEATURES_COL))?;
        let k = self.params.get(&Self::K);
        if m.rows < k {
            return Err(Error::Data(format!(
                "KMeans: k = {k} but the training set has {} rows",
                m.rows
            )));
        }
        Ok(m)
    }

    /// The initial centers this estimator's `initMode` and `seed` choose from `points`.
    ///
    /// # Errors
    /// [`Error::Data`] if there are fewer rows than `k`.
    pub fn initial_centers(&self, points: &DenseMatrix) -> Result<DenseMatrix> {
        let k = self.params.get(&Self::K);
        if points.rows < k {
            return Err(Error::Data(format!(
                "KMeans: k = {k} but the training set has {} rows",
                points.rows
            )));
        }
        let seed = self.params.get(&Self::SEED);
        Ok(match self.params.get(&Self::INIT_MODE).as_str() {
            "k-means||" => {
                init::k_means_parallel(points, k, self.params.get(&Self::INIT_STEPS), seed)
            }
            _ => init::random(points, k, seed),
        })
    }

    /// Fits starting from the given centers (`k` rows) instead of `initMode`'s.
    ///
    /// # Errors
    /// [`Error::Schema`] if the centers' width differs from the features', or their count
    /// from `k`.
    pub fn fit_from(&self, input: &Table, initial: DenseMatrix) -> Result<KMeansModel> {
        let m = self.features(input)?;
        self.check_initial(&m, &initial)?;
        let centroids = lloyd::run(&m, initial, self.params.get(&Self::MAX_ITER));
        Ok(self.model(centroids))
    }

    /// Fits with the DataSet engine: the Lloyd iterations as a bulk iteration on `env`.
    ///
    /// ```
    /// use eddy_ml::clustering::KMeans;
    /// use eddy_ml::{Column, DenseMatrix, Estimator, Table, WithParams};
    ///
    /// let env = eddy_dataset::ExecutionEnvironment::new();
    /// env.set_parallelism(2);
    /// let points = DenseMatrix::from_rows(&[vec![0.0], vec![1.0], vec![10.0], vec![11.0]])?;
    /// let table = Table::new().with_column("features", Column::Matrix(points))?;
    /// let kmeans = KMeans::new().set(&KMeans::SEED, 3)?;
    /// let a = kmeans.fit_dataset(&env, &table)?;
    /// let b = kmeans.fit(&table)?;
    /// assert_eq!(a.data().centroids, b.data().centroids);
    /// # Ok::<(), eddy_ml::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`fit`](Estimator::fit), and the job's errors.
    pub fn fit_dataset(
        &self,
        env: &eddy_dataset::ExecutionEnvironment,
        input: &Table,
    ) -> Result<KMeansModel> {
        let m = self.features(input)?;
        let initial = self.initial_centers(&m)?;
        let centroids = dataset::run(env, &m, initial, self.params.get(&Self::MAX_ITER))?;
        Ok(self.model(centroids))
    }

    /// [`fit_dataset`](Self::fit_dataset) starting from the given centers.
    ///
    /// # Errors
    /// As [`fit_from`](Self::fit_from), and the job's errors.
    pub fn fit_dataset_from(
        &self,
        env: &eddy_dataset::ExecutionEnvironment,
        input: &Table,
        initial: DenseMatrix,
    ) -> Result<KMeansModel> {
        let m = self.features(input)?;
        self.check_initial(&m, &initial)?;
        let centroids = dataset::run(env, &m, initial, self.params.get(&Self::MAX_ITER))?;
        Ok(self.model(centroids))
    }

    fn check_initial(&self, m: &DenseMatrix, initial: &DenseMatrix) -> Result<()> {
        let k = self.params.get(&Self::K);
        if initial.dim != m.dim || initial.rows != k {
            return Err(Error::Schema(format!(
                "KMeans: initial centers are {} x {}, expected k = {k} rows of dimension {}",
                initial.rows, initial.dim, m.dim
            )));
        }
        Ok(())
    }

    fn model(&self, centroids: DenseMatrix) -> KMeansModel {
        KMeansModel {
            params: self.params.clone(),
            data: KMeansModelData { centroids },
        }
    }
}

impl Estimator for KMeans {
    type Model = KMeansModel;

    fn fit(&self, input: &Table) -> Result<KMeansModel> {
        let m = self.features(input)?;
        let initial = self.initial_centers(&m)?;
        let centroids = lloyd::run(&m, initial, self.params.get(&Self::MAX_ITER));
        Ok(self.model(centroids))
    }
}

impl KMeansModel {
    /// The learned centers.
    pub fn data(&self) -> &KMeansModelData {
        &self.data
    }

    /// The cluster of one point.
    pub fn predict(&self, point: &[f64]) -> usize {
        kernels::nearest(point, &self.data.centroids.values).0
    }

    fn check_data(&self) -> std::result::Result<(), String> {
        let c = &self.data.centroids;
        if c.rows == 0 || c.values.len() != c.rows * c.dim {
            return Err("centroids must be a non-empty matrix".into());
        }
        Ok(())
    }
}

impl Transformer for KMeansModel {
    fn transform(&self, input: &Table) -> Result<Table> {
        let col = self.params.get(&common::FEATURES_COL);
        let m = input.matrix(&col)?;
        crate::feature::check_dim("KMeansModel", &col, m.dim, self.data.centroids.dim)?;
        let clusters = lloyd::assign(&m, &self.data.centroids);
        input.clone().with_column(
            &self.params.get(&common::PREDICTION_COL),
            Column::Double(clusters.into_iter().map(|c| c as f64).collect()),
        )
    }
}
