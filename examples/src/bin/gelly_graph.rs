//! Gelly's `Graph` API on the DataSet path: an LDBC algorithm run through the iteration
//! models as DataSet jobs, on LDBC `.v`/`.e` files or a generated grid.
//!
//! ```text
//! gelly_graph --algorithm pr|cdlp|wcc|bfs|sssp|triangles [--vertices X.v --edges X.e]
//!             [--directed] [--weighted] [--source-vertex N] [--iterations N]
//!             [--grid N] [--parallelism N] [--output FILE]
//! ```
//! Prints (or writes) one `vertex value` line per vertex, sorted by vertex (`a b c` per
//! triangle for `triangles`); unreached BFS vertices are `9223372036854775807`, unreached
//! SSSP vertices `infinity`. The same results as `graphalytics`, which runs on the CSR.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use eddy_dataset::{DataSet, ExecutionEnvironment, Order};
use eddy_examples::{fail, init_logging, EXIT_BAD_INPUT};
use eddy_gelly::{generator, library, Graph};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Algorithm {
    Pr,
    Cdlp,
    Wcc,
    Bfs,
    Sssp,
    Triangles,
}

/// Runs an LDBC algorithm on Gelly's DataSet path.
#[derive(Parser, Debug)]
#[command(name = "gelly_graph", version)]
struct Args {
    /// The algorithm.
    #[arg(long, value_enum)]
    algorithm: Algorithm,
    /// LDBC vertex file (one id per line); with --edges. Without both, a grid is generated.
    #[arg(long, value_name = "FILE", requires = "edges")]
    vertices: Option<PathBuf>,
    /// LDBC edge file (`src dst` or, with --weighted, `src dst weight` per line).
    #[arg(long, value_name = "FILE", requires = "vertices")]
    edges: Option<PathBuf>,
    /// The graph is directed.
    #[arg(long)]
    directed: bool,
    /// Edge lines carry a weight.
    #[arg(long)]
    weighted: bool,
    /// Source of BFS and SSSP.
    #[arg(long, value_name = "N")]
    source_vertex: Option<u64>,
    /// Iterations of PR (default 20) and CDLP (default 10).
    #[arg(long, value_name = "N")]
    iterations: Option<u32>,
    /// Side of the generated N x N grid.
    #[arg(long, value_name = "N", default_value_t = 10)]
    grid: u64,
    /// Parallel subtasks per operator [default: the number of cores].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=128))]
    parallelism: Option<u32>,
    /// Write the lines to FILE (created only when the job succeeds) instead of stdout.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// LDBC's float form: Rust's shortest round-tripping form, `infinity` for infinity.
fn float(x: f64) -> String {
    if x.is_infinite() {
        "infinity".into()
    } else {
        format!("{x}")
    }
}

fn main() {
    init_logging();
    let args = Args::parse();
    let program = "gelly_graph";
    let env = ExecutionEnvironment::new();
    if let Some(p) = args.parallelism {
        env.set_parallelism(p);
    }
    let graph = match (&args.vertices, &args.edges) {
        (Some(v), Some(e)) => {
            let graph = Graph::from_ldbc(&env, v, e, args.weighted);
            match graph.validate() {
                Ok(true) => graph,
                Ok(false) => fail(
                    program,
                    format!(
                        "{}: an edge names a vertex missing from {}",
                        e.display(),
                        v.display()
                    ),
                    EXIT_BAD_INPUT,
                ),
                Err(err) => fail(program, err, EXIT_BAD_INPUT),
            }
        }
        _ => generator::grid(&[(args.grid, false), (args.grid, false)])
            .graph(&env)
            .map_edges(|_| 1.0),
    };
    let directed = args.directed;
    let source = || {
        args.source_vertex.unwrap_or_else(|| {
            fail(
                program,
                "--source-vertex is required for bfs and sssp",
                EXIT_BAD_INPUT,
            )
        })
    };
    let lines: DataSet<(u64, String)> = match args.algorithm {
        Algorithm::Pr => library::PageRank::new()
            .iterations(args.iterations.unwrap_or(20))
            .directed(directed)
            .run(&graph)
            .map(|(v, r)| (v, float(r))),
        Algorithm::Cdlp => library::Cdlp::new()
            .iterations(args.iterations.unwrap_or(10))
            .directed(directed)
            .run(&graph)
            .map(|(v, l)| (v, l.to_string())),
        Algorithm::Wcc => library::Wcc::new()
            .run(&graph)
            .map(|(v, l)| (v, l.to_string())),
        Algorithm::Bfs => library::Bfs::new(source())
            .directed(directed)
            .run(&graph)
            .map(|(v, d)| (v, d.to_string())),
        Algorithm::Sssp => library::Sssp::new(source())
            .directed(directed)
            .run(&graph)
            .map(|(v, d)| (v, float(d))),
        Algorithm::Triangles => library::TriangleListing::new()
            .run(&graph)
            .map(|(a, b, c)| (a, format!("{b} {c}"))),
    };
    let sorted = lines
        .sort_partition(|l: &(u64, String)| (l.0, l.1.clone()), Order::Ascending)
        .set_parallelism(1)
        .map(|(v, value)| format!("{v} {value}"))
        .set_parallelism(1);
    let outcome = match &args.output {
        Some(path) => {
            sorted.write_as_text(path);
            env.execute("gelly graph").map(|_| None)
        }
        None => sorted.collect().map(Some),
    };
    match outcome {
        Ok(Some(rows)) => rows.iter().for_each(|r| println!("{r}")),
        Ok(None) => {}
        Err(e @ (eddy_runtime::Error::Io { .. } | eddy_runtime::Error::InvalidInput { .. })) => {
            fail(program, e, EXIT_BAD_INPUT)
        }
        Err(e) => fail(program, e, 1),
    }
}
