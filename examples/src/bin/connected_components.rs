//! Connected components with the DataSet API: a delta iteration over an edge list (or a
//! generated random graph), written as `vertex,component` CSV.
//!
//! ```text
//! connected_components [--edges FILE] [--vertices N] [--edge-count M] [--seed S]
//!                      [--parallelism N] [--output FILE]
//! ```
//! Every vertex is labelled with the smallest vertex id of its (weakly connected) component.
//! Without `--edges`, a random graph of `--vertices` vertices and `--edge-count` edges is
//! generated. Output rows are sorted by vertex; without `--output` they go to stdout.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use eddy_dataset::{ExecutionEnvironment, Order};
use eddy_examples::connected_components::{components, random_edges, read_edge_list};
use eddy_examples::{fail, init_logging, EXIT_BAD_INPUT};

/// Labels every vertex of a graph with its connected component.
#[derive(Parser, Debug)]
#[command(name = "connected_components", version)]
struct Args {
    /// Edge list: `src dst` per line (whitespace separated, `#` comments). Without it a
    /// random graph is generated.
    #[arg(long, value_name = "FILE")]
    edges: Option<PathBuf>,
    /// Vertices of the generated graph.
    #[arg(long, default_value_t = 100_000)]
    vertices: u64,
    /// Edges of the generated graph.
    #[arg(long, default_value_t = 200_000)]
    edge_count: u64,
    /// Seed of the generated graph.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Parallel subtasks per operator [default: the number of cores].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=128))]
    parallelism: Option<u32>,
    /// Write `vertex,component` CSV to FILE (created only when the job succeeds).
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
}

fn main() {
    init_logging();
    let args = Args::parse();
    let program = "connected_components";
    let env = ExecutionEnvironment::new();
    if let Some(p) = args.parallelism {
        env.set_parallelism(p);
    }
    let (vertices, edges) = match &args.edges {
        Some(path) => {
            let list = read_edge_list(path).unwrap_or_else(|e| fail(program, e, EXIT_BAD_INPUT));
            let edges = env.from_collection(list).name("edge list");
            let vertices = edges.flat_map(|(a, b)| [a, b]).distinct();
            (vertices, edges)
        }
        None => {
            let n = args.vertices;
            let vertices = env
                .generate_sequence(0, n.saturating_sub(1))
                .filter(move |_| n > 0);
            (vertices, random_edges(&env, n, args.edge_count, args.seed))
        }
    };
    let labels = components(&vertices, &edges)
        .sort_partition(|v| v.0, Order::Ascending)
        .set_parallelism(1);
    let spinner = indicatif::ProgressBar::new_spinner();
    spinner.set_message("computing connected components");
    spinner.enable_steady_tick(Duration::from_millis(120));
    let outcome = match &args.output {
        Some(path) => {
            labels.write_as_csv(path, Some(&["vertex", "component"]));
            env.execute("connected components").map(|_| None)
        }
        None => labels.collect().map(Some),
    };
    spinner.finish_and_clear();
    match outcome {
        Ok(Some(rows)) => {
            println!("vertex,component");
            for (vertex, component) in rows {
                println!("{vertex},{component}");
            }
        }
        Ok(None) => {}
        Err(e @ eddy_runtime::Error::Io { .. }) => fail(program, e, EXIT_BAD_INPUT),
        Err(e) => fail(program, e, 1),
    }
}
