//! Weakly connected components (LDBC Graphalytics WCC).

use std::sync::atomic::{AtomicU32, Ordering};

use rayon::prelude::*;

use crate::csr::Csr;
use crate::error::Result;
use crate::parallel;

/// Weakly connected components: two vertices share a label if a path joins them when edge
/// directions are ignored. The label is the smallest vertex id of the component (the spec
/// only asks that the partition be right; this choice matches its reference files).
///
/// # Algorithm
///
/// A lock-free union-find over dense indices: each edge links the root with the larger id
/// below the other with a compare-and-swap, so every root is the smallest id of its tree, and
/// finds halve the path as they go. One pass over the edges, one over the
/// vertices, whatever the diameter.
///
/// ```
/// use eddy_gelly::{Csr, Wcc};
///
/// let g = Csr::builder(true).vertices([1, 2, 3, 4]).edges([(2, 1), (4, 3)]).build()?;
/// assert_eq!(Wcc::new().run(&g)?, vec![1, 1, 3, 3]);
/// # Ok::<(), eddy_gelly::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Wcc {
    threads: usize,
}

impl Wcc {
    /// One thread per core.
    pub fn new() -> Self {
        Wcc { threads: 0 }
    }

    /// Sets the number of threads (0 means one per core).
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads;
        self
    }

    /// Runs WCC; returns every vertex's component label (a vertex id), by dense index.
    ///
    /// # Errors
    ///
    /// [`Error::ThreadPool`](crate::Error::ThreadPool) if the pool cannot start.
    pub fn run(&self, graph: &Csr) -> Result<Vec<u64>> {
        let roots = parallel::install(self.threads, || components(graph))?;
        Ok(roots.into_iter().map(|r| graph.vertex_id(r)).collect())
    }
}

fn components(graph: &Csr) -> Vec<u32> {
    let n = graph.num_vertices() as u32;
    let parent: Vec<AtomicU32> = (0..n).map(AtomicU32::new).collect();
    let find = |mut x: u32| -> u32 {
        loop {
            let p = parent[x as usize].load(Ordering::Acquire);
            if p == x {
                return x;
            }
            let grand = parent[p as usize].load(Ordering::Acquire);
            if grand != p {
                // Path halving; losing this race is harmless, the pointer stays an ancestor.
                let _ = parent[x as usize].compare_exchange(
                    p,
                    grand,
                    Ordering::AcqRel,
                    Ordering::Relaxed,
                );
            }
            x = grand;
        }
    };
    let union = |a: u32, b: u32| loop {
        let (ra, rb) = (find(a), find(b));
        if ra == rb {
            return;
        }
        // Ranks order like ids, so every root is its tree's smallest id.
        let (high, low) = if graph.rank(ra) > graph.rank(rb) {
            (ra, rb)
        } else {
            (rb, ra)
        };
        if parent[high as usize]
            .compare_exchange(high, low, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
        {
            return;
        }
    };
    let directed = graph.is_directed();
    (0..n).into_par_iter().with_min_len(256).for_each(|v| {
        for &u in graph.out_neighbors(v) {
            // An undirected edge is stored both ways; one direction is enough.
            if directed || u > v {
                union(v, u);
            }
        }
    });
    (0..n)
        .into_par_iter()
        .with_min_len(1024)
        .map(find)
        .collect()
}
