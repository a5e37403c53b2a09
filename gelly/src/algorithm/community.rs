//! Flink Gelly's `CommunityDetection`: label propagation with scores that fade with
//! distance (Leung et al., "Towards real-time community detection in large networks").

use std::collections::BTreeMap;

use rayon::prelude::*;

use crate::csr::Csr;
use crate::error::{Error, Result};
use crate::parallel;

/// Gelly's community detection. Every vertex starts with its id as label and score 1. Each
/// iteration, synchronously, every vertex with in-neighbours (all neighbours, undirected)
/// receives `(label, score * weight)` from each of them (weight 1 if unweighted); it takes the
/// label whose received scores sum highest (ties to the smallest label) and, as score, the
/// highest single score received with that label, minus `delta / iteration` if the label
/// changed (iterations count from 1). A fixed number of iterations, as Flink runs it.
///
/// ```
/// use eddy_gelly::{CommunityDetection, Csr};
/// // Two triangles joined by one edge settle into two communities.
/// let g = Csr::builder(false)
///     .edges([(1, 2), (2, 3), (3, 1), (3, 4), (4, 5), (5, 6), (6, 4)])
///     .build()?;
/// let labels = CommunityDetection::new().iterations(5).run(&g)?;
/// assert_eq!(labels[0], labels[1]);
/// assert_eq!(labels[4], labels[5]);
/// # Ok::<(), eddy_gelly::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CommunityDetection {
    iterations: usize,
    delta: f64,
    threads: usize,
}

impl Default for CommunityDetection {
    fn default() -> Self {
        CommunityDetection {
            iterations: 10,
            delta: 0.5,
            threads: 0,
        }
    }
}

impl CommunityDetection {
    /// 10 iterations, delta 0.5, one thread per core.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the number of iterations.
    pub fn iterations(mut self, iterations: usize) -> Self {
        self.iterations = iterations;
        self
    }

    /// Sets the hop attenuation `delta` (at least 0).
    pub fn delta(mut self, delta: f64) -> Self {
        self.delta = delta;
        self
    }

    /// Sets the number of threads (0 means one per core).
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads;
        self
    }

    /// Every vertex's final label (a vertex id), by dense index.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] for a negative or NaN delta;
    /// [`Error::ThreadPool`](crate::Error::ThreadPool) if the pool cannot start.
    pub fn run(&self, graph: &Csr) -> Result<Vec<u64>> {
        if self.delta.is_nan() || self.delta < 0.0 {
            return Err(Error::InvalidParameter {
                name: "delta",
                problem: format!("{} is not a non-negative number", self.delta),
            });
        }
        let incoming = incoming(graph);
        parallel::install(self.threads, || {
            let n = graph.num_vertices();
            let mut state: Vec<(u64, f64)> =
                (0..n as u32).map(|v| (graph.vertex_id(v), 1.0)).collect();
            for iteration in 1..=self.iterations {
                state = (0..n)
                    .into_par_iter()
                    .map(|v| {
                        update(
                            &incoming[v],
                            &state,
                            state[v],
                            self.delta / iteration as f64,
                        )
                    })
                    .collect();
            }
            state.into_iter().map(|(label, _)| label).collect()
        })
    }
}

/// One vertex's new `(label, score)` from its in-edges `(source, weight)`.
fn update(edges: &[(u32, f64)], state: &[(u64, f64)], own: (u64, f64), penalty: f64) -> (u64, f64) {
    if edges.is_empty() {
        return own;
    }
    // label -> (sum of scores, highest score)
    let mut received: BTreeMap<u64, (f64, f64)> = BTreeMap::new();
    for &(u, w) in edges {
        let (label, score) = state[u as usize];
        let s = score * w;
        let entry = received.entry(label).or_insert((0.0, f64::NEG_INFINITY));
        entry.0 += s;
        entry.1 = entry.1.max(s);
    }
    let mut best: Option<(u64, f64, f64)> = None;
    for (label, (sum, highest)) in received {
        if best.is_none_or(|b| sum > b.1) {
            best = Some((label, sum, highest));
        }
    }
    match best {
        Some((label, _, highest)) if label != own.0 => (label, highest - penalty),
        Some((label, _, highest)) => (label, highest),
        None => own,
    }
}

/// Every vertex's in-edges as `(source, weight)`, sources ascending.
fn incoming(graph: &Csr) -> Vec<Vec<(u32, f64)>> {
    let mut lists: Vec<Vec<(u32, f64)>> = vec![Vec::new(); graph.num_vertices()];
    for v in 0..graph.num_vertices() as u32 {
        let weights = graph.out_weights(v);
        for (i, &t) in graph.out_neighbors(v).iter().enumerate() {
            lists[t as usize].push((v, weights.map_or(1.0, |w| w[i])));
        }
    }
    lists
}
