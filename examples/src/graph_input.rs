//! The input graph of the `pagerank` and `label_propagation` examples: a generated
//! Graph500 Kronecker (RMAT) graph by default, or an edge-list file.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use eddy_gelly::{Csr, Kronecker};

/// Reads `src dst` pairs (whitespace separated; `#` comments and blank lines skipped); the
/// vertices are those the edges name.
///
/// # Errors
/// One line naming the file, the line and the problem.
pub fn load_edge_list(path: &Path, directed: bool, threads: usize) -> Result<Csr> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut edges = Vec::new();
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line =
            line.with_context(|| format!("{}:{}: cannot read the line", path.display(), n + 1))?;
        let text = line.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        let mut fields = text.split_whitespace();
        let mut id = |what: &str| -> Result<u64> {
            let field = fields
                .next()
                .with_context(|| format!("{}:{}: missing {what} vertex", path.display(), n + 1))?;
            field.parse().with_context(|| {
                format!(
                    "{}:{}: {what} vertex '{field}' is not a non-negative integer",
                    path.display(),
                    n + 1
                )
            })
        };
        let (src, dst) = (id("source")?, id("target")?);
        edges.push((src, dst));
    }
    if edges.is_empty() {
        bail!("{}: no edges", path.display());
    }
    let mut ids: Vec<u64> = edges.iter().flat_map(|&(a, b)| [a, b]).collect();
    ids.sort_unstable();
    ids.dedup();
    Ok(Csr::builder(directed)
        .vertices(ids)
        .edges(edges)
        .threads(threads)
        .build()?)
}

/// A seeded Kronecker graph with Graph500 parameters: 2^scale vertices, edge factor 16.
///
/// # Errors
/// When the generator fails (it does not for valid parameters).
pub fn generated(scale: u32, directed: bool, seed: u64, threads: usize) -> Result<Csr> {
    Ok(Kronecker::new(scale)
        .edge_factor(16)
        .seed(seed)
        .threads(threads)
        .build(directed)?)
}

/// The input flags the graph examples share.
#[derive(clap::Args, Debug)]
pub struct GraphInput {
    /// Edge list (`src dst` per line); without it a Kronecker graph is generated.
    #[arg(long, value_name = "FILE")]
    pub edges: Option<PathBuf>,
    /// Treat the edges as directed.
    #[arg(long)]
    pub directed: bool,
    /// Scale of the generated graph (2^scale vertices, 16 edges per vertex).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=26))]
    pub scale: u32,
    /// Seed of the generated graph.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Worker threads [default: the number of cores].
    #[arg(long)]
    pub threads: Option<usize>,
}

impl GraphInput {
    /// The worker threads to use.
    pub fn threads(&self) -> usize {
        self.threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
    }

    /// The graph: the edge list if given, else a generated one.
    ///
    /// # Errors
    /// As [`load_edge_list`].
    pub fn load(&self) -> Result<Csr> {
        match &self.edges {
            Some(path) => load_edge_list(path, self.directed, self.threads()),
            None => generated(self.scale, self.directed, self.seed, self.threads()),
        }
    }
}
