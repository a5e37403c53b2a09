//! pagerank: PageRank (LDBC Graphalytics semantics) on a generated RMAT graph, or on an
//! edge-list file, printing the top vertices.
//!
//! ```text
//! pagerank [--edges FILE] [--directed] [--scale N] [--seed S] [--iterations N]
//!     [--damping-factor F] [--threads N] [--top K]
//! ```

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use eddy_examples::graph_input::{generated, load_edge_list};
use eddy_examples::{fail, init_logging, EXIT_BAD_INPUT};
use eddy_gelly::PageRank;

/// PageRank with dangling mass spread evenly and a fixed number of iterations; prints the K
/// highest-ranked vertices as `vertex score`.
#[derive(Parser, Debug)]
#[command(name = "pagerank", version, about, long_about = None)]
struct Args {
    /// Edge list (`src dst` per line); without it a Kronecker graph is generated.
    #[arg(long, value_name = "FILE")]
    edges: Option<PathBuf>,
    /// Treat the edges as directed.
    #[arg(long)]
    directed: bool,
    /// Scale of the generated graph (2^scale vertices, 16 edges per vertex).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=26))]
    scale: u32,
    /// Seed of the generated graph.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Iterations.
    #[arg(long, default_value_t = 20)]
    iterations: usize,
    /// Damping factor.
    #[arg(long, default_value_t = 0.85)]
    damping_factor: f64,
    /// Worker threads [default: the number of cores].
    #[arg(long)]
    threads: Option<usize>,
    /// How many vertices to print.
    #[arg(long, default_value_t = 10)]
    top: usize,
}

fn main() {
    init_logging();
    let args = Args::parse();
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let start = Instant::now();
    let graph = match &args.edges {
        Some(path) => load_edge_list(path, args.directed, threads),
        None => generated(args.scale, args.directed, args.seed, threads),
    }
    .unwrap_or_else(|e| fail("pagerank", format!("{e:#}"), EXIT_BAD_INPUT));
    let loaded = start.elapsed();
    let ranks = PageRank::new()
        .iterations(args.iterations)
        .damping_factor(args.damping_factor)
        .threads(threads)
        .run(&graph)
        .unwrap_or_else(|e| fail("pagerank", e, EXIT_BAD_INPUT));
    let mut order: Vec<u32> = (0..graph.num_vertices() as u32).collect();
    order.sort_by(|&a, &b| {
        ranks[b as usize]
            .total_cmp(&ranks[a as usize])
            .then(graph.vertex_id(a).cmp(&graph.vertex_id(b)))
    });
    for &v in order.iter().take(args.top) {
        println!("{} {}", graph.vertex_id(v), ranks[v as usize]);
    }
    eprintln!(
        "{} vertices, {} edges; loaded in {:.2} s, {} iterations in {:.2} s",
        graph.num_vertices(),
        graph.num_edges(),
        loaded.as_secs_f64(),
        args.iterations,
        (start.elapsed() - loaded).as_secs_f64()
    );
}
