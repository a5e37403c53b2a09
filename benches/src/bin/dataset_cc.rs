//! Benchmark: weakly connected components by the DataSet API's delta iteration on a generated
//! random graph, at several parallelisms, beside a single-threaded union-find baseline over
//! the same edges.
//!
//! ```text
//! cargo run --release -p eddy-benches --bin dataset_cc -- [--vertices N] [--edge-count M]
//!     [--parallelism 1,2] [--runs 5] [--flink-graph]
//! ```
//! Prints the median wall time of each configuration (the result is checked against the
//! union-find on every run).

use std::time::{Duration, Instant};

use clap::Parser;
use eddy_dataset::ExecutionEnvironment;
use eddy_examples::connected_components::{components, flink_edges, random_edges, union_find};

/// Times connected components by delta iteration.
#[derive(Parser, Debug)]
#[command(name = "dataset_cc")]
struct Args {
    /// Vertices of the generated graph.
    #[arg(long, default_value_t = 200_000)]
    vertices: u64,
    /// Edges of the generated graph.
    #[arg(long, default_value_t = 400_000)]
    edge_count: u64,
    /// Parallelisms to measure, comma separated.
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    parallelism: Vec<u32>,
    /// Runs per configuration (the median is reported).
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Seed of the generated graph.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Generate the graph as Flink's DataSetCCBench does (`../shared/peers/flink/java120`),
    /// instead of the seeded SplitMix64 graph.
    #[arg(long)]
    flink_graph: bool,
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn main() -> anyhow::Result<()> {
    eddy_examples::init_logging();
    let args = Args::parse();
    let (n, m) = (args.vertices, args.edge_count);
    // The edges, materialized once, for the baseline and the check.
    let env = ExecutionEnvironment::new();
    env.set_parallelism(1);
    let generate = |env: &ExecutionEnvironment| {
        if args.flink_graph {
            flink_edges(env, n, m)
        } else {
            random_edges(env, n, m, args.seed)
        }
    };
    let edges = generate(&env).collect()?;
    let mut expected = union_find(&edges);
    // Isolated vertices are their own components; the reference only knows edge endpoints.
    let mut all: Vec<(u64, u64)> = (0..n).map(|v| (v, v)).collect();
    for (v, c) in expected.drain(..) {
        all[v as usize] = (v, c);
    }
    let baseline = median(
        (0..args.runs)
            .map(|_| {
                let start = Instant::now();
                std::hint::black_box(union_find(&edges));
                start.elapsed()
            })
            .collect(),
    );
    let generator = if args.flink_graph {
        "Flink's generator".to_string()
    } else {
        format!("seed {}", args.seed)
    };
    println!("graph: {n} vertices, {m} edges ({generator})");
    println!(
        "union-find baseline (1 thread): median {:.1} ms",
        baseline.as_secs_f64() * 1e3
    );
    for &p in &args.parallelism {
        let mut times = Vec::new();
        for _ in 0..args.runs {
            let env = ExecutionEnvironment::new();
            env.set_parallelism(p);
            let vertices = env.generate_sequence(0, n - 1);
            let edges = generate(&env);
            let start = Instant::now();
            let mut labels = components(&vertices, &edges).collect()?;
            times.push(start.elapsed());
            labels.sort_unstable();
            anyhow::ensure!(labels == all, "wrong components at parallelism {p}");
        }
        let runs: Vec<String> = times
            .iter()
            .map(|t| format!("{:.0}", t.as_secs_f64() * 1e3))
            .collect();
        println!(
            "delta iteration, parallelism {p}: median {:.1} ms (runs: {} ms)",
            median(times).as_secs_f64() * 1e3,
            runs.join(", ")
        );
    }
    Ok(())
}
