//! Eddy's side of `benches/scripts/ml_vs_sklearn_linfa.sh`: fits KMeans or logistic
//! regression (L-BFGS) with eddy-ml on matrices in the benchmarks' raw format, prints the
//! fit time as `fit_seconds=...`, and writes the result (centers or coefficients) for the
//! script to score.
//!
//! ```text
//! ml_eddy kmeans --points X.f64 --init C.f64 --iterations 20 --output CENTERS.f64
//! ml_eddy logreg --x X.f64 --y Y.f64 --reg R --max-iter N --output COEF.f64
//! ```

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::{Parser, Subcommand};
use eddy_benches::matrix_file;
use eddy_ml::classification::LogisticRegression;
use eddy_ml::clustering::KMeans;
use eddy_ml::param::common;
use eddy_ml::{Column, DenseMatrix, Estimator, Table, WithParams};

/// Times one eddy-ml fit on benchmark data.
#[derive(Parser)]
#[command(name = "ml_eddy")]
struct Args {
    #[command(subcommand)]
    command: Cmd,
    /// Worker threads [default: the number of cores].
    #[arg(long, global = true)]
    threads: Option<usize>,
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
        /// Iterations (fewer only if no center moves).
        #[arg(long, default_value_t = 20)]
        iterations: usize,
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
        /// L2 strength on the mean loss.
        #[arg(long, default_value_t = 1e-3)]
        reg: f64,
        /// L-BFGS iterations.
        #[arg(long, default_value_t = 100)]
        max_iter: usize,
        /// Where to write the coefficients, then the intercept.
        #[arg(long)]
        output: PathBuf,
    },
}

fn matrix(path: &std::path::Path) -> anyhow::Result<DenseMatrix> {
    let (rows, cols, values) =
        matrix_file::read(path).with_context(|| path.display().to_string())?;
    Ok(DenseMatrix::new(rows, cols, values)?)
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.unwrap_or(0))
        .build()?;
    match args.command {
        Cmd::Kmeans {
            points,
            init,
            iterations,
            output,
        } => {
            let points = matrix(&points)?;
            let init = matrix(&init)?;
            let k = init.rows;
            let table = Table::new().with_column("features", Column::Matrix(points))?;
            let kmeans = KMeans::new()
                .set(&KMeans::K, k)?
                .set(&KMeans::MAX_ITER, iterations)?;
            let start = Instant::now();
            let model = pool.install(|| kmeans.fit_from(&table, init))?;
            println!("fit_seconds={:.6}", start.elapsed().as_secs_f64());
            let c = &model.data().centroids;
            matrix_file::write(&output, c.rows, c.dim, &c.values)?;
        }
        Cmd::Logreg {
            x,
            y,
            reg,
            max_iter,
            output,
        } => {
            let x = matrix(&x)?;
            let y = matrix(&y)?;
            let table = Table::new()
                .with_column("features", Column::Matrix(x))?
                .with_column("label", Column::Double(y.values))?;
            let lr = LogisticRegression::new()
                .set(&LogisticRegression::SOLVER, "lbfgs".into())?
                .set(&LogisticRegression::FIT_INTERCEPT, true)?
                .set(&common::REG, reg)?
                .set(&common::MAX_ITER, max_iter)?
                .set(&common::TOL, 1e-8)?;
            let start = Instant::now();
            let model = pool.install(|| lr.fit(&table))?;
            println!("fit_seconds={:.6}", start.elapsed().as_secs_f64());
            let mut out = model.data().coefficient.clone();
            out.push(model.data().intercept);
            matrix_file::write(&output, 1, out.len(), &out)?;
        }
    }
    Ok(())
}
