//! label_propagation: community detection by label propagation on a generated RMAT graph,
//! or on an edge-list file, printing the largest communities.
//!
//! ```text
//! label_propagation [--edges FILE] [--directed] [--scale N] [--seed S] [--iterations N]
//!     [--gelly] [--threads N] [--top K]
//! ```

use std::collections::HashMap;
use std::time::Instant;

use clap::Parser;
use eddy_examples::graph_input::GraphInput;
use eddy_examples::{fail, init_logging, EXIT_BAD_INPUT};
use eddy_gelly::{Cdlp, GellyLabelPropagation};

/// Label propagation: LDBC CDLP (synchronous, ties to the smallest label, fixed iterations)
/// or, with --gelly, Flink Gelly's LabelPropagation. Prints the K largest communities as
/// `label size`.
#[derive(Parser, Debug)]
#[command(name = "label_propagation", version)]
struct Args {
    #[command(flatten)]
    input: GraphInput,
    /// Iterations (CDLP: exactly this many; Gelly: at most).
    #[arg(long, default_value_t = 10)]
    iterations: usize,
    /// Flink Gelly's variant (in-neighbours, ties to the larger label, stops early).
    #[arg(long)]
    gelly: bool,
    /// How many communities to print.
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
        .unwrap_or_else(|e| fail("label_propagation", format!("{e:#}"), EXIT_BAD_INPUT));
    let loaded = start.elapsed();
    let labels = if args.gelly {
        GellyLabelPropagation::new()
            .max_iterations(args.iterations)
            .threads(threads)
            .run(&graph)
    } else {
        Cdlp::new()
            .iterations(args.iterations)
            .threads(threads)
            .run(&graph)
    }
    .unwrap_or_else(|e| fail("label_propagation", e, EXIT_BAD_INPUT));
    let mut sizes: HashMap<u64, u64> = HashMap::new();
    for label in &labels {
        *sizes.entry(*label).or_default() += 1;
    }
    let mut communities: Vec<(u64, u64)> = sizes.into_iter().collect();
    communities.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    for (label, size) in communities.iter().take(args.top) {
        println!("{label} {size}");
    }
    eprintln!(
        "{} vertices, {} edges, {} communities; loaded in {:.2} s, propagated in {:.2} s",
        graph.num_vertices(),
        graph.num_edges(),
        communities.len(),
        loaded.as_secs_f64(),
        (start.elapsed() - loaded).as_secs_f64()
    );
}
