//! The LDBC Graphalytics platform driver: runs one algorithm of `eddy-gelly` on a `.v`/`.e`
//! graph and writes one `vertex value` line per vertex.
//!
//! ```text
//! graphalytics --algorithm pr|cdlp|wcc|bfs|sssp|lcc --vertices X.v --edges X.e [--directed]
//!     [--weighted] [--source-vertex N] [--max-iterations N] [--damping-factor F]
//!     [--threads N] --output OUT
//! ```
//!
//! Bad input (a missing file or parameter, a malformed line, an edge naming an unknown vertex)
//! prints one line naming the file and line to stderr and exits with code 2, leaving no output
//! file: the output is written to a temporary file beside it and renamed when complete.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};
use clap::{Parser, ValueEnum};
use eddy_gelly::{Bfs, Cdlp, Csr, Lcc, LoadOptions, PageRank, Sssp, VertexOrder, Wcc};

/// Exit code for bad input.
const EXIT_BAD_INPUT: i32 = 2;

/// Runs one LDBC Graphalytics algorithm on a graph in Graphalytics `.v`/`.e` format and writes
/// one `vertex value` line per vertex, in ascending vertex id order.
///
/// Floats are printed so that they read back to the same value; unreached vertices are
/// `9223372036854775807` for BFS and `infinity` for SSSP. On bad input, one line on stderr
/// and exit code 2. Set RUST_LOG=info to log load and run times.
#[derive(Debug, Parser)]
#[command(name = "graphalytics", version)]
struct Args {
    /// The algorithm: pr (PageRank), cdlp (label propagation), wcc (weakly connected
    /// components), bfs (breadth-first depth), sssp (shortest paths over the weights),
    /// lcc (local clustering coefficient).
    #[arg(long, value_enum)]
    algorithm: Algorithm,
    /// Vertex file: one unsigned 64-bit vertex id per line.
    #[arg(long, value_name = "X.v")]
    vertices: PathBuf,
    /// Edge file: `src dst` or `src dst weight` per line, separated by spaces.
    #[arg(long, value_name = "X.e")]
    edges: PathBuf,
    /// Treat edges as directed (default: undirected, each line is an edge both ways).
    #[arg(long)]
    directed: bool,
    /// Read the third field of each edge line as its weight (always on for sssp).
    #[arg(long)]
    weighted: bool,
    /// Source vertex id, required by bfs and sssp.
    #[arg(long, value_name = "N")]
    source_vertex: Option<u64>,
    /// Iterations of pr and cdlp (default: 20 for pr, 10 for cdlp).
    #[arg(long, value_name = "N")]
    max_iterations: Option<usize>,
    /// Damping factor of pr, in [0, 1].
    #[arg(long, value_name = "F", default_value_t = 0.85)]
    damping_factor: f64,
    /// Worker threads (0: one per core).
    #[arg(long, value_name = "N", default_value_t = 0)]
    threads: usize,
    /// Output file, written to a temporary name beside it and renamed when complete.
    #[arg(long, value_name = "OUT")]
    output: PathBuf,
}

/// The six Graphalytics algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Algorithm {
    /// PageRank.
    Pr,
    /// Community detection by label propagation.
    Cdlp,
    /// Weakly connected components.
    Wcc,
    /// Breadth-first search.
    Bfs,
    /// Single-source shortest paths.
    Sssp,
    /// Local clustering coefficient.
    Lcc,
}

/// One algorithm's output, by dense vertex index.
enum Values {
    Int(Vec<i64>),
    Label(Vec<u64>),
    Float(Vec<f64>),
}

fn main() {
    init_logging();
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(e) if !e.use_stderr() => {
            // --help and --version.
            let _ = e.print();
            std::process::exit(0)
        }
        Err(e) => fail(one_line(&e.to_string())),
    };
    if let Err(e) = run(&args) {
        // The chain on one line: context first, then the cause (which names file and line).
        fail(format!("{e:#}"));
    }
}

fn run(args: &Args) -> anyhow::Result<()> {
    let source = match (args.algorithm, args.source_vertex) {
        (Algorithm::Bfs | Algorithm::Sssp, None) => {
            let name = args
                .algorithm
                .to_possible_value()
                .map(|v| v.get_name().to_owned());
            bail!(
                "--algorithm {} needs --source-vertex",
                name.unwrap_or_default()
            )
        }
        (_, source) => source.unwrap_or(0),
    };
    let weighted = args.weighted || args.algorithm == Algorithm::Sssp;
    // Hubs first: faster gathers, same results.
    let options = LoadOptions::new(args.directed)
        .weighted(weighted)
        .threads(args.threads)
        .order(VertexOrder::Degree);
    let started = Instant::now();
    let graph = Csr::load_ldbc(&args.vertices, &args.edges, &options)?;
    tracing::info!(
        vertices = graph.num_vertices(),
        edges = graph.num_edges(),
        seconds = started.elapsed().as_secs_f64(),
        "loaded graph"
    );
    let started = Instant::now();
    let threads = args.threads;
    let source_context = || {
        format!(
            "--source-vertex {source} is not listed in {}",
            args.vertices.display()
        )
    };
    let values = match args.algorithm {
        Algorithm::Pr => Values::Float(
            PageRank::new()
                .damping_factor(args.damping_factor)
                .iterations(args.max_iterations.unwrap_or(20))
                .threads(threads)
                .run(&graph)?,
        ),
        Algorithm::Cdlp => Values::Label(
            Cdlp::new()
                .iterations(args.max_iterations.unwrap_or(10))
                .threads(threads)
                .run(&graph)?,
        ),
        Algorithm::Wcc => Values::Label(Wcc::new().threads(threads).run(&graph)?),
        Algorithm::Bfs => Values::Int(
            Bfs::new(source)
                .threads(threads)
                .run(&graph)
                .with_context(source_context)?,
        ),
        Algorithm::Sssp => Values::Float(
            Sssp::new(source)
                .threads(threads)
                .run(&graph)
                .with_context(source_context)?,
        ),
        Algorithm::Lcc => Values::Float(Lcc::new().threads(threads).run(&graph)?),
    };
    tracing::info!(
        algorithm = ?args.algorithm,
        seconds = started.elapsed().as_secs_f64(),
        "ran algorithm"
    );
    write_atomically(&args.output, |out| {
        for v in graph.vertices_by_id() {
            let (id, v) = (graph.vertex_id(v), v as usize);
            match &values {
                Values::Int(values) => writeln!(out, "{id} {}", values[v])?,
                Values::Label(values) => writeln!(out, "{id} {}", values[v])?,
                Values::Float(values) if values[v].is_infinite() => writeln!(out, "{id} infinity")?,
                Values::Float(values) => writeln!(out, "{id} {}", values[v])?,
            }
        }
        Ok(())
    })
}

/// Writes `path` through `write` into a temporary file in the same directory, then renames
/// it, so `path` is either complete or absent.
fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .with_context(|| format!("{}: not a file name", path.display()))?;
    let temp = dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| -> std::io::Result<()> {
        let mut out = BufWriter::with_capacity(1 << 20, File::create(&temp)?);
        write(&mut out)?;
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&temp);
        return Err(e).with_context(|| format!("cannot write {}", path.display()));
    }
    Ok(())
}

/// Clap's message without its usage block, on one line.
fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .take_while(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
        .trim_start_matches("error: ")
        .to_owned()
}

fn fail(message: impl std::fmt::Display) -> ! {
    eprintln!("graphalytics: {message}");
    std::process::exit(EXIT_BAD_INPUT)
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
