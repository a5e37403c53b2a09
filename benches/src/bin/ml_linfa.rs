//! linfa's side of `benches/scripts/ml_vs_sklearn_linfa.sh` (feature `linfa`): the same
//! fits as `ml_eddy` with linfa-clustering's KMeans and linfa-logistic's L-BFGS logistic
//! regression, on the same raw matrices, printing `fit_seconds=...`. linfa parallelizes
//! with rayon: set `RAYON_NUM_THREADS`.
//!
//! ```text
//! ml_linfa kmeans --points X.f64 --init C.f64 --iterations 20 --output CENTERS.f64
//! ml_linfa logreg --x X.f64 --y Y.f64 --reg R --max-iter N --output COEF.f64
//! ```

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::{Parser, Subcommand};
use eddy_benches::matrix_file;
use linfa::prelude::*;
use linfa_clustering::{KMeans, KMeansInit};
use ndarray::{Array1, Array2};

/// Times one linfa fit on benchmark data.
#[derive(Parser)]
#[command(name = "ml_linfa")]
struct Args {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Lloyd iterations from given centers.
    Kmeans {
        /// Points.
        #[arg(long)]
        points: PathBuf,
        /// Initial centers (k rows).
        #[arg(long)]
        init: PathBuf,
        /// Iterations.
        #[arg(long, default_value_t = 20)]
        iterations: u64,
        /// Where to write the centers.
        #[arg(long)]
        output: PathBuf,
    },
    /// Binomial logistic regression with an intercept, L-BFGS.
    Logreg {
        /// Features.
        #[arg(long)]
        x: PathBuf,
        /// 0/1 labels (one column).
        #[arg(long)]
        y: PathBuf,
        /// L2 strength on the mean loss (linfa's `alpha` is on the summed loss: n · reg).
        #[arg(long, default_value_t = 1e-3)]
        reg: f64,
        /// L-BFGS iterations.
        #[arg(long, default_value_t = 100)]
        max_iter: u64,
        /// Where to write the coefficients, then the intercept.
        #[arg(long)]
        output: PathBuf,
    },
}

fn array(path: &std::path::Path) -> anyhow::Result<Array2<f64>> {
    let (rows, cols, values) =
        matrix_file::read(path).with_context(|| path.display().to_string())?;
    Ok(Array2::from_shape_vec((rows, cols), values)?)
}

fn main() -> anyhow::Result<()> {
    match Args::parse().command {
        Cmd::Kmeans {
            points,
            init,
            iterations,
            output,
        } => {
            let points = array(&points)?;
            let init = array(&init)?;
            let k = init.nrows();
            let data = DatasetBase::from(points);
            let start = Instant::now();
            let model = KMeans::params(k)
                .init_method(KMeansInit::Precomputed(init))
                .n_runs(1)
                .max_n_iterations(iterations)
                .tolerance(f64::MIN_POSITIVE)
                .fit(&data)?;
            println!("fit_seconds={:.6}", start.elapsed().as_secs_f64());
            let c = model.centroids();
            let values: Vec<f64> = c.iter().copied().collect();
            matrix_file::write(&output, c.nrows(), c.ncols(), &values)?;
        }
        Cmd::Logreg {
            x,
            y,
            reg,
            max_iter,
            output,
        } => {
            let x = array(&x)?;
            let n = x.nrows() as f64;
            let labels: Array1<usize> = array(&y)?.iter().map(|v| *v as usize).collect();
            let data = Dataset::new(x, labels);
            let start = Instant::now();
            let model = linfa_logistic::LogisticRegression::default()
                .alpha(n * reg)
                .with_intercept(true)
                .max_iterations(max_iter)
                .gradient_tolerance(1e-8)
                .fit(&data)?;
            println!("fit_seconds={:.6}", start.elapsed().as_secs_f64());
            let mut out: Vec<f64> = model.params().iter().copied().collect();
            out.push(model.intercept());
            matrix_file::write(&output, 1, out.len(), &out)?;
        }
    }
    Ok(())
}
