//! Single-source shortest paths over edge weights (LDBC Graphalytics SSSP).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use rayon::prelude::*;

use crate::csr::Csr;
use crate::error::{Error, Result};
use crate::parallel;

/// Single-source shortest paths: the smallest sum of edge weights along a path from the
/// source, following edge directions; `f64::INFINITY` for a vertex the source cannot reach.
/// Weights are non-negative (loaders and builders reject others).
///
/// # Algorithm
///
/// With one thread, Dijkstra's algorithm with a binary heap. With more, a frontier-based
/// Bellman-Ford: the vertices whose distance dropped in the last round relax their out-edges
/// in parallel, lowering distances with an atomic minimum on the bits of the `f64` (which
/// order like the numbers, for non-negative values). Both compute, for every vertex, the
/// smallest left-to-right floating-point sum over all paths, so they agree to the bit.
///
/// ```
/// use eddy_gelly::{Csr, Sssp};
///
/// let g = Csr::builder(true)
///     .vertices([1, 2, 3, 4])
///     .weighted_edges([(1, 2, 0.5), (2, 3, 0.25), (1, 3, 1.0)])
///     .build()?;
/// assert_eq!(Sssp::new(1).run(&g)?, vec![0.0, 0.5, 0.75, f64::INFINITY]);
/// # Ok::<(), eddy_gelly::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sssp {
    source: u64,
    threads: usize,
}

impl Sssp {
    /// Shortest paths from the vertex with id `source`, one thread per core.
    pub fn new(source: u64) -> Self {
        Sssp { source, threads: 0 }
    }

    /// Sets the number of threads (0 means one per core; 1 runs Dijkstra's algorithm).
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads;
        self
    }

    /// Runs the search; returns every vertex's distance, by dense index.
    ///
    /// # Errors
    ///
    /// [`Error::Unweighted`] if the graph has no weights; [`Error::NotAVertex`] if the source
    /// is not a vertex; [`Error::ThreadPool`] if the pool cannot start.
    pub fn run(&self, graph: &Csr) -> Result<Vec<f64>> {
        if !graph.is_weighted() {
            return Err(Error::Unweighted { algorithm: "SSSP" });
        }
        let source = graph.require(self.source)?;
        parallel::install(self.threads, || {
            if rayon::current_num_threads() == 1 {
                dijkstra(graph, source)
            } else {
                frontier_bellman_ford(graph, source)
            }
        })
    }
}

fn dijkstra(graph: &Csr, source: u32) -> Vec<f64> {
    let adj = graph.out_adjacency();
    let weights = adj.weights.as_deref().unwrap_or(&[]);
    let mut dist = vec![f64::INFINITY; graph.num_vertices()];
    dist[source as usize] = 0.0;
    // Non-negative f64 bits order like the values, so the heap can hold integers.
    let mut heap = BinaryHeap::from([Reverse((0.0f64.to_bits(), source))]);
    while let Some(Reverse((bits, u))) = heap.pop() {
        let du = f64::from_bits(bits);
        if du > dist[u as usize] {
            continue;
        }
        let range = adj.offsets[u as usize]..adj.offsets[u as usize + 1];
        for (&v, &w) in adj.targets[range.clone()].iter().zip(&weights[range]) {
            let v = v as usize;
            let nd = du + w;
            if nd < dist[v] {
                dist[v] = nd;
                heap.push(Reverse((nd.to_bits(), v as u32)));
            }
        }
    }
    dist
}

fn frontier_bellman_ford(graph: &Csr, source: u32) -> Vec<f64> {
    let adj = graph.out_adjacency();
    let weights = adj.weights.as_deref().unwrap_or(&[]);
    let n = graph.num_vertices();
    let infinity = f64::INFINITY.to_bits();
    let dist: Vec<AtomicU64> = (0..n).map(|_| AtomicU64::new(infinity)).collect();
    let queued: Vec<AtomicBool> = (0..n).map(|_| AtomicBool::new(false)).collect();
    dist[source as usize].store(0.0f64.to_bits(), Ordering::Relaxed);
    let (dist_ref, queued_ref) = (&dist, &queued);
    let mut frontier = vec![source];
    while !frontier.is_empty() {
        frontier
            .par_iter()
            .for_each(|&u| queued[u as usize].store(false, Ordering::Relaxed));
        frontier = frontier
            .par_iter()
            .flat_map_iter(|&u| {
                let du = f64::from_bits(dist_ref[u as usize].load(Ordering::Relaxed));
                let range = adj.offsets[u as usize]..adj.offsets[u as usize + 1];
                range.filter_map(move |e| {
                    let v = adj.targets[e] as usize;
                    let nd = (du + weights[e]).to_bits();
                    let old = dist_ref[v].fetch_min(nd, Ordering::Relaxed);
                    (nd < old && !queued_ref[v].swap(true, Ordering::Relaxed)).then_some(v as u32)
                })
            })
            .collect();
    }
    dist.into_iter()
        .map(|d| f64::from_bits(d.into_inner()))
        .collect()
}
