//! Side-by-side benchmark helper for `eddy-gelly`: generates a Graph500 Kronecker graph as LDBC
//! `.v`/`.e` files, and times one algorithm on such files, load and run separately.
//!
//! ```text
//! gelly_bench generate --scale 20 --edge-factor 16 --seed 1 --prefix /tmp/kron20
//! gelly_bench run --algorithm pr --vertices /tmp/kron20.v --edges /tmp/kron20.e \
//!     --iterations 20 --threads 1
//! ```
//!
//! `run` prints one line of `key=value` pairs: sizes, load and algorithm seconds, nanoseconds
//! per edge per iteration (per undirected edge and per stored arc), and peak resident memory
//! (`VmHWM`), so that `benches/scripts/gelly_vs_networkit.sh` can put peers side by side.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use eddy_gelly::{Cdlp, Csr, Kronecker, LoadOptions, PageRank, VertexOrder};

/// Generates Kronecker graphs and times `eddy-gelly` algorithms on them.
#[derive(Debug, Parser)]
#[command(name = "gelly_bench")]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Writes PREFIX.v (ids 0..2^scale) and PREFIX.e (the undirected simple graph: no loops,
    /// no repeats, `small large` per line, sorted) of a Graph500 Kronecker graph.
    Generate {
        /// log2 of the number of vertices.
        #[arg(long, default_value_t = 20)]
        scale: u32,
        /// Edges drawn per vertex (before removing loops and repeats).
        #[arg(long, default_value_t = 16)]
        edge_factor: u64,
        /// Random seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Output path prefix.
        #[arg(long)]
        prefix: PathBuf,
    },
    /// Loads an LDBC graph (undirected unless --directed) and times one algorithm on it.
    Run {
        /// pr (PageRank, damping 0.85) or cdlp (LDBC label propagation).
        #[arg(long, value_enum)]
        algorithm: Algorithm,
        /// Vertex file.
        #[arg(long)]
        vertices: PathBuf,
        /// Edge file.
        #[arg(long)]
        edges: PathBuf,
        /// Treat edges as directed.
        #[arg(long)]
        directed: bool,
        /// Fixed number of iterations.
        #[arg(long, default_value_t = 20)]
        iterations: usize,
        /// Worker threads (0: one per core).
        #[arg(long, default_value_t = 0)]
        threads: usize,
        /// Vertex order: `degree` (hubs first) or `id`.
        #[arg(long, value_enum, default_value_t = Order::Degree)]
        order: Order,
    },
}

/// The vertex orders of `eddy_gelly::VertexOrder`.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Order {
    /// Ascending id.
    Id,
    /// Out-degree, largest first.
    Degree,
}

/// The timed algorithms.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Algorithm {
    /// PageRank.
    Pr,
    /// LDBC CDLP.
    Cdlp,
}

fn main() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
    if let Err(e) = run(Args::parse().command) {
        eprintln!("gelly_bench: {e:#}");
        std::process::exit(2);
    }
}

fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Generate {
            scale,
            edge_factor,
            seed,
            prefix,
        } => {
            let started = Instant::now();
            let generator = Kronecker::new(scale).edge_factor(edge_factor).seed(seed);
            let edges = generator.simple_edges(true)?;
            let generated = started.elapsed().as_secs_f64();
            let path = |ext: &str| PathBuf::from(format!("{}.{ext}", prefix.display()));
            let mut v = BufWriter::with_capacity(1 << 20, File::create(path("v"))?);
            let mut line = Vec::with_capacity(48);
            for id in 0..generator.num_vertices() {
                line.clear();
                push_u64(&mut line, id);
                line.push(b'\n');
                v.write_all(&line)?;
            }
            v.flush()?;
            let mut e = BufWriter::with_capacity(1 << 20, File::create(path("e"))?);
            for &(s, d) in &edges {
                line.clear();
                push_u64(&mut line, s);
                line.push(b' ');
                push_u64(&mut line, d);
                line.push(b'\n');
                e.write_all(&line)?;
            }
            e.flush()?;
            println!(
                "generated scale={scale} edge_factor={edge_factor} seed={seed} vertices={} \
                 edges={} generate_s={generated:.3} total_s={:.3}",
                generator.num_vertices(),
                edges.len(),
                started.elapsed().as_secs_f64()
            );
        }
        Command::Run {
            algorithm,
            vertices,
            edges,
            directed,
            iterations,
            threads,
            order,
        } => {
            let started = Instant::now();
            let order = match order {
                Order::Id => VertexOrder::Id,
                Order::Degree => VertexOrder::Degree,
            };
            let options = LoadOptions::new(directed).threads(threads).order(order);
            let graph = Csr::load_ldbc(&vertices, &edges, &options)?;
            let load_s = started.elapsed().as_secs_f64();
            let started = Instant::now();
            let checksum = match algorithm {
                Algorithm::Pr => {
                    let pr = PageRank::new()
                        .iterations(iterations)
                        .threads(threads)
                        .run(&graph)?;
                    pr.iter().sum::<f64>()
                }
                Algorithm::Cdlp => {
                    let labels = Cdlp::new()
                        .iterations(iterations)
                        .threads(threads)
                        .run(&graph)?;
                    let distinct: std::collections::HashSet<u64> = labels.into_iter().collect();
                    distinct.len() as f64
                }
            };
            let algo_s = started.elapsed().as_secs_f64();
            let per = |count: usize| algo_s * 1e9 / (count as f64 * iterations.max(1) as f64);
            let peak = peak_rss_bytes().context("reading /proc/self/status")?;
            println!(
                "eddy algorithm={algorithm:?} threads={threads} order={order:?} vertices={} \
                 edges={} arcs={} \
                 load_s={load_s:.3} algo_s={algo_s:.3} ns_per_edge_iter={:.3} \
                 ns_per_arc_iter={:.3} graph_bytes={} peak_rss_bytes={peak} \
                 peak_bytes_per_edge={:.2} checksum={checksum}",
                graph.num_vertices(),
                graph.num_edges(),
                graph.num_arcs(),
                per(graph.num_edges()),
                per(graph.num_arcs()),
                graph.heap_bytes(),
                peak as f64 / graph.num_edges().max(1) as f64,
            );
        }
    }
    Ok(())
}

/// Appends the decimal digits of `n`.
fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// Peak resident set size of this process, from `VmHWM` in `/proc/self/status`.
fn peak_rss_bytes() -> anyhow::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .context("no VmHWM")?;
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .context("no value")?
        .parse()?;
    Ok(kib * 1024)
}
