//! Community detection by label propagation as LDBC Graphalytics defines it (CDLP).

use rayon::prelude::*;

use super::LabelCounter;
use crate::csr::Csr;
use crate::error::Result;
use crate::parallel;

/// Synchronous label propagation with a fixed number of iterations (LDBC Graphalytics CDLP).
///
/// Every vertex starts with its own id as label. In each iteration, every vertex takes, from
/// the labels of the previous iteration, the label that is most frequent among its neighbours,
/// the smallest such label on a tie; a vertex without neighbours keeps its label. In a
/// directed graph, in-neighbours and out-neighbours are counted separately, so a neighbour
/// joined both ways counts twice.
///
/// For Flink Gelly's own variant (ties to the larger label, in-neighbours only, stops early),
/// see [`GellyLabelPropagation`](crate::GellyLabelPropagation).
///
/// # Algorithm
///
/// Each vertex gathers its neighbours' labels into a per-thread buffer and finds the most
/// frequent: by sorting a small buffer, by counting in a per-thread table of `n` counters
/// (4 bytes per vertex per thread, allocated on first use) for a large one; labels are kept as ranks (positions in id order), so comparing them
/// compares ids whatever the [`VertexOrder`](crate::VertexOrder). A vertex none of whose
/// neighbours changed label in the last iteration would compute the same label again, so it
/// is skipped: once communities settle, an iteration costs little more than a scan of flags,
/// and the result is still exactly that of running every iteration in full.
///
/// ```
/// use eddy_gelly::{Cdlp, Csr};
///
/// // 3 hears 1 once (1 -> 3) and 2 twice (2 -> 3 and 3 -> 2): label 2 wins. 1 and 2 hear
/// // only 3, 1 through an out-edge, 2 through both.
/// let g = Csr::builder(true).edges([(1, 3), (2, 3), (3, 2)]).build()?;
/// assert_eq!(Cdlp::new().iterations(1).run(&g)?, vec![3, 3, 2]);
/// # Ok::<(), eddy_gelly::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cdlp {
    iterations: usize,
    threads: usize,
}

impl Default for Cdlp {
    fn default() -> Self {
        Self::new()
    }
}

impl Cdlp {
    /// 10 iterations, one thread per core.
    pub fn new() -> Self {
        Cdlp {
            iterations: 10,
            threads: 0,
        }
    }

    /// Sets the number of iterations (CDLP always runs all of them).
    pub fn iterations(mut self, iterations: usize) -> Self {
        self.iterations = iterations;
        self
    }

    /// Sets the number of threads (0 means one per core).
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads;
        self
    }

    /// Runs CDLP; returns every vertex's label (a vertex id), by dense index.
    ///
    /// # Errors
    ///
    /// [`Error::ThreadPool`](crate::Error::ThreadPool) if the pool cannot start.
    pub fn run(&self, graph: &Csr) -> Result<Vec<u64>> {
        let labels = parallel::install(self.threads, || cdlp(graph, self.iterations))?;
        Ok(labels.into_iter().map(|l| graph.id_of_rank(l)).collect())
    }
}

fn cdlp(graph: &Csr, iterations: usize) -> Vec<u32> {
    let n = graph.num_vertices() as u32;
    // Labels are ranks (positions in id order), so the smallest label is the smallest id.
    let mut labels: Vec<u32> = (0..n).map(|v| graph.rank(v)).collect();
    let mut next = vec![0u32; n as usize];
    let counter = LabelCounter::new(n as usize);
    // Blocks by out-degree plus in-degree (the out-offsets of an undirected graph count both).
    let bounds = if graph.is_directed() {
        let (out, inc) = (
            &graph.out_adjacency().offsets,
            &graph.in_adjacency().offsets,
        );
        parallel::blocks(&out.iter().zip(inc).map(|(a, b)| a + b).collect::<Vec<_>>())
    } else {
        parallel::blocks(&graph.out_adjacency().offsets)
    };
    // changed[u]: u's label changed in the previous iteration. A vertex none of whose
    // neighbours changed would compute the same label as last time, so it keeps it unread.
    let mut changed = vec![true; n as usize];
    for _ in 0..iterations {
        let (labels_now, changed_now) = (&labels, &changed);
        parallel::map_blocks(&bounds, &mut next, |first, next| {
            let mut buf = Vec::new();
            for (i, next) in next.iter_mut().enumerate() {
                let v = (first + i) as u32;
                let out = graph.out_neighbors(v);
                let inc: &[u32] = if graph.is_directed() {
                    graph.in_neighbors(v)
                } else {
                    &[]
                };
                let stale = out.iter().chain(inc).any(|&u| changed_now[u as usize]);
                if !stale {
                    *next = labels_now[v as usize];
                    continue;
                }
                buf.clear();
                buf.extend(out.iter().chain(inc).map(|&u| labels_now[u as usize]));
                *next = counter.mode(&mut buf, false).0;
            }
        });
        changed
            .par_iter_mut()
            .zip(next.par_iter().zip(labels.par_iter()))
            .with_min_len(4096)
            .for_each(|(c, (a, b))| *c = a != b);
        if tracing::enabled!(tracing::Level::DEBUG) {
            let count = changed.par_iter().filter(|&&c| c).count();
            tracing::debug!(changed = count, "CDLP iteration");
        }
        std::mem::swap(&mut labels, &mut next);
    }
    labels
}
