//! Flink Gelly's `LabelPropagation`: in-neighbours only, ties to the larger label, early stop.

use std::sync::atomic::{AtomicBool, Ordering};

use super::LabelCounter;
use crate::csr::Csr;
use crate::error::Result;
use crate::parallel;

/// Label propagation as Flink Gelly's `LabelPropagation` library method computes it; not the
/// LDBC [`Cdlp`](crate::Cdlp).
///
/// Every vertex starts with its own id as label. In each (synchronous) superstep, a vertex
/// with in-neighbours counts their labels and takes the most frequent, breaking ties toward
/// the **larger** label; as in Gelly's `UpdateVertexLabel`, its current label competes with
/// frequency 1, so a vertex whose in-neighbours all differ keeps the largest of its own label
/// and theirs. Only in-neighbours count (all neighbours, for an undirected graph). The
/// iteration stops when no label changes, or after the maximum number of supersteps.
///
/// ```
/// use eddy_gelly::{Csr, GellyLabelPropagation};
///
/// let g = Csr::builder(true).edges([(1, 3), (2, 3)]).build()?;
/// // 3 hears 1 and 2 once each, and keeps the largest of 1, 2 and its own 3.
/// assert_eq!(GellyLabelPropagation::new().run(&g)?, vec![1, 2, 3]);
/// # Ok::<(), eddy_gelly::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GellyLabelPropagation {
    max_iterations: usize,
    threads: usize,
}

impl Default for GellyLabelPropagation {
    fn default() -> Self {
        Self::new()
    }
}

impl GellyLabelPropagation {
    /// At most 100 supersteps, one thread per core.
    pub fn new() -> Self {
        GellyLabelPropagation {
            max_iterations: 100,
            threads: 0,
        }
    }

    /// Sets the maximum number of supersteps.
    pub fn max_iterations(mut self, max_iterations: usize) -> Self {
        self.max_iterations = max_iterations;
        self
    }

    /// Sets the number of threads (0 means one per core).
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads;
        self
    }

    /// Runs label propagation; returns every vertex's label (a vertex id), by dense index.
    ///
    /// # Errors
    ///
    /// [`Error::ThreadPool`](crate::Error::ThreadPool) if the pool cannot start.
    pub fn run(&self, graph: &Csr) -> Result<Vec<u64>> {
        let labels = parallel::install(self.threads, || propagate(graph, self.max_iterations))?;
        Ok(labels.into_iter().map(|l| graph.id_of_rank(l)).collect())
    }
}

fn propagate(graph: &Csr, max_iterations: usize) -> Vec<u32> {
    let n = graph.num_vertices() as u32;
    // Labels are ranks (positions in id order), so the larger label is the larger id.
    let mut labels: Vec<u32> = (0..n).map(|v| graph.rank(v)).collect();
    let mut next = labels.clone();
    let counter = LabelCounter::new(n as usize);
    let bounds = parallel::blocks(&graph.in_adjacency().offsets);
    for _ in 0..max_iterations {
        let changed = AtomicBool::new(false);
        let labels_now = &labels;
        parallel::map_blocks(&bounds, &mut next, |first, next| {
            let mut buf = Vec::new();
            for (i, next) in next.iter_mut().enumerate() {
                let v = first + i;
                let own = labels_now[v];
                buf.clear();
                buf.extend(
                    graph
                        .in_neighbors(v as u32)
                        .iter()
                        .map(|&u| labels_now[u as usize]),
                );
                *next = match buf.is_empty() {
                    true => own,
                    false => match counter.mode(&mut buf, true) {
                        (label, 1) => label.max(own),
                        (label, _) => label,
                    },
                };
                if *next != own {
                    changed.store(true, Ordering::Relaxed);
                }
            }
        });
        std::mem::swap(&mut labels, &mut next);
        if !changed.load(Ordering::Relaxed) {
            break;
        }
    }
    labels
}
