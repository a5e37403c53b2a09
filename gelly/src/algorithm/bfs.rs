//! Breadth-first search depths (LDBC Graphalytics BFS).

use std::sync::atomic::{AtomicU32, Ordering};

use rayon::prelude::*;

use crate::csr::Csr;
use crate::error::Result;
use crate::parallel;

/// Breadth-first search: the number of edges on a shortest path from the source, following
/// edge directions; [`Bfs::UNREACHED`] for a vertex the source cannot reach.
///
/// # Algorithm
///
/// Direction-optimizing (Beamer et al., SC 2012): level by level, a small frontier pushes to
/// its out-neighbours (claiming each with a compare-and-swap), and when the frontier's edges
/// exceed a fourteenth of all edges, every unvisited vertex instead pulls, looking for an
/// in-neighbour in the frontier.
///
/// ```
/// use eddy_gelly::{Bfs, Csr};
///
/// let g = Csr::builder(true).edges([(1, 2), (2, 3), (3, 1), (4, 1)]).build()?;
/// assert_eq!(Bfs::new(1).run(&g)?, vec![0, 1, 2, Bfs::UNREACHED]);
/// # Ok::<(), eddy_gelly::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bfs {
    source: u64,
    threads: usize,
}

impl Bfs {
    /// The depth of a vertex the source does not reach: `i64::MAX`, as the spec prints it.
    pub const UNREACHED: i64 = i64::MAX;

    /// A search from the vertex with id `source`, one thread per core.
    pub fn new(source: u64) -> Self {
        Bfs { source, threads: 0 }
    }

    /// Sets the number of threads (0 means one per core).
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads;
        self
    }

    /// Runs the search; returns every vertex's depth, by dense index.
    ///
    /// # Errors
    ///
    /// [`Error::NotAVertex`](crate::Error::NotAVertex) if the source is not a vertex;
    /// [`Error::ThreadPool`](crate::Error::ThreadPool) if the pool cannot start.
    pub fn run(&self, graph: &Csr) -> Result<Vec<i64>> {
        let source = graph.require(self.source)?;
        let depth = parallel::install(self.threads, || bfs(graph, source))?;
        Ok(depth
            .into_iter()
            .map(|d| {
                if d == u32::MAX {
                    Self::UNREACHED
                } else {
                    i64::from(d)
                }
            })
            .collect())
    }
}

fn bfs(graph: &Csr, source: u32) -> Vec<u32> {
    let n = graph.num_vertices();
    let depth: Vec<AtomicU32> = (0..n).map(|_| AtomicU32::new(u32::MAX)).collect();
    depth[source as usize].store(0, Ordering::Relaxed);
    let mut frontier = vec![source];
    let mut level = 0u32;
    let arcs = graph.num_arcs().max(1);
    while !frontier.is_empty() {
        let frontier_arcs: usize = frontier.par_iter().map(|&u| graph.out_degree(u)).sum();
        let next_level = level + 1;
        frontier = if frontier_arcs > arcs / 14 {
            // Bottom-up: only this vertex's task writes its depth, so plain loads suffice.
            (0..n as u32)
                .into_par_iter()
                .with_min_len(1024)
                .filter(|&v| {
                    if depth[v as usize].load(Ordering::Relaxed) != u32::MAX {
                        return false;
                    }
                    let found = graph
                        .in_neighbors(v)
                        .iter()
                        .any(|&u| depth[u as usize].load(Ordering::Relaxed) == level);
                    if found {
                        depth[v as usize].store(next_level, Ordering::Relaxed);
                    }
                    found
                })
                .collect()
        } else {
            frontier
                .par_iter()
                .flat_map_iter(|&u| {
                    graph.out_neighbors(u).iter().copied().filter(|&v| {
                        depth[v as usize].load(Ordering::Relaxed) == u32::MAX
                            && depth[v as usize]
                                .compare_exchange(
                                    u32::MAX,
                                    next_level,
                                    Ordering::Relaxed,
                                    Ordering::Relaxed,
                                )
                                .is_ok()
                    })
                })
                .collect()
        };
        level = next_level;
    }
    depth.into_iter().map(AtomicU32::into_inner).collect()
}
