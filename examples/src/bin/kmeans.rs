//! K-means clustering of a CSV file of numbers with eddy-ml's [`KMeans`].
//!
//! ```text
//! kmeans --input X.csv --k K [--max-iter N] [--init random|k-means-parallel]
//!        [--initial-centers C.csv] [--seed S] [--parallelism N]
//!        --output CENTERS.csv [--assignments A.csv]
//! ```
//! X.csv has a header and numeric columns, all of them features. CENTERS.csv gets the same
//! header and K rows; A.csv the header `cluster` and the 0-based cluster of every input row,
//! in input order. Lloyd iterations run exactly `--max-iter` times (default 20) unless no
//! center moves; with `--initial-centers` (a CSV with the same columns and K rows) they
//! start from those rows, in order. Bad input: one line on stderr, exit code 2, no output.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Parser, ValueEnum};
use eddy_examples::ml::{numeric_matrix, with_threads};
use eddy_examples::{fail, init_logging, EXIT_BAD_INPUT};
use eddy_ml::clustering::KMeans;
use eddy_ml::{Column, DenseMatrix, Table, WithParams};

/// How the initial centers are chosen.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Init {
    /// K distinct random rows (Flink ML's default).
    Random,
    /// k-means|| (Bahmani et al.), a parallel k-means++.
    KMeansParallel,
}

/// Clusters the rows of a CSV file with k-means.
#[derive(Parser, Debug)]
#[command(name = "kmeans", version)]
struct Args {
    /// Input CSV: a header, then numeric columns (all used as features).
    #[arg(long, value_name = "X.csv")]
    input: PathBuf,
    /// Number of clusters.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    k: u64,
    /// Lloyd iterations (fewer if no center moves).
    #[arg(long, value_name = "N", default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..))]
    max_iter: u64,
    /// Initialization, unless --initial-centers is given.
    #[arg(long, value_enum, default_value = "random")]
    init: Init,
    /// Start from these centers (same columns as the input, K rows, in order).
    #[arg(long, value_name = "C.csv")]
    initial_centers: Option<PathBuf>,
    /// Random seed of the initialization.
    #[arg(long, default_value_t = 0x5eed)]
    seed: u64,
    /// Worker threads [default: the number of cores].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=256))]
    parallelism: Option<u64>,
    /// Where to write the centers (same header as the input, K rows).
    #[arg(long, value_name = "CENTERS.csv")]
    output: PathBuf,
    /// Where to write each row's cluster (header `cluster`).
    #[arg(long, value_name = "A.csv")]
    assignments: Option<PathBuf>,
}

fn run(args: &Args) -> eddy_ml::Result<()> {
    let table = eddy_ml::read_csv(&args.input)?;
    let header: Vec<String> = table.names().iter().map(|s| s.to_string()).collect();
    let names: Vec<&str> = header.iter().map(String::as_str).collect();
    let points = numeric_matrix(&table, &names)?;
    let features = Table::new().with_column("features", Column::Matrix(points))?;
    let kmeans = KMeans::new()
        .set(&KMeans::K, args.k as usize)?
        .set(&KMeans::MAX_ITER, args.max_iter as usize)?
        .set(&KMeans::SEED, args.seed)?
        .set(
            &KMeans::INIT_MODE,
            match args.init {
                Init::Random => "random".into(),
                Init::KMeansParallel => "k-means||".into(),
            },
        )?;
    let initial = match &args.initial_centers {
        Some(path) => Some(read_centers(path, &names)?),
        None => None,
    };
    let spinner = indicatif::ProgressBar::new_spinner();
    spinner.set_message("clustering");
    spinner.enable_steady_tick(Duration::from_millis(150));
    let threads = args.parallelism.map(|p| p as usize);
    let (model, clusters) = with_threads(threads, || -> eddy_ml::Result<_> {
        let model = match initial {
            Some(c) => kmeans.fit_from(&features, c)?,
            None => eddy_ml::Estimator::fit(&kmeans, &features)?,
        };
        let out = eddy_ml::Transformer::transform(&model, &features)?;
        let clusters = out.doubles("prediction")?.to_vec();
        Ok((model, clusters))
    })?;
    spinner.finish_and_clear();
    let centers = &model.data().centroids;
    let mut out = Table::new();
    for (j, name) in names.iter().enumerate() {
        let column = centers.iter_rows().map(|r| r[j]).collect();
        out = out.with_column(name, Column::Double(column))?;
    }
    eddy_ml::write_csv(&out, &args.output, None)?;
    if let Some(path) = &args.assignments {
        let rows = clusters.iter().map(|c| (*c as u64).to_string()).collect();
        let a = Table::new().with_column("cluster", Column::Str(rows))?;
        if let Err(e) = eddy_ml::write_csv(&a, path, None) {
            let _ = std::fs::remove_file(&args.output);
            return Err(e);
        }
    }
    Ok(())
}

/// The initial centers: a CSV with the input's columns.
fn read_centers(path: &Path, names: &[&str]) -> eddy_ml::Result<DenseMatrix> {
    let table = eddy_ml::read_csv(path)?;
    let found = table.names();
    if found != names {
        return Err(eddy_ml::Error::BadInput {
            file: path.display().to_string(),
            line: 1,
            column: String::new(),
            message: format!(
                "the header must match the input's ({}), found ({})",
                names.join(","),
                found.join(",")
            ),
        });
    }
    numeric_matrix(&table, names)
}

fn main() {
    init_logging();
    let args = Args::parse();
    if let Err(e) = run(&args) {
        fail("kmeans", e, EXIT_BAD_INPUT);
    }
}
