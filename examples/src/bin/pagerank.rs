//! pagerank: PageRank (LDBC Graphalytics semantics) on a generated RMAT graph, or on an
//! edge-list file, printing the top vertices.
//!
//! ```text
//! pagerank [--edges FILE] [--directed] [--scale N] [--seed S] [--iterations N]
//!     [--damping-factor F] [--threads N] [--top K]
//! ```

use std::time::Instant;

use clap::Parser;
use eddy_examples::graph_input::GraphInput;
use eddy_examples::{fail, init_logging, EXIT_BAD_INPUT};
use eddy_gelly::PageRank;

/// PageRank with dangling mass spread evenly and a fixed number of iterations; prints the K
/// highest-ranked vertices as `vertex score`.
#[derive(Parser, Debug)]
#[command(name = "pagerank", version)]
struct Args {
    #[command(flatten)]
    input: GraphInput,
    /// Iterations.
    #[arg(long, default_value_t = 20)]
    iterations: usize,
    /// Damping factor.
    #[arg(long, default_value_t = 0.85)]
    damping_factor: f64,
    /// How many vertices to print.
    #[arg(long, default_value_t = 10)]
    top: usize,
}

fn main() {
    init_logging();
    let args = Args::parse();
    let threads = args.input.threads();
    let start = Instant::now();
    let graph = args
        .input
        .load()
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
