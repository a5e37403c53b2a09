//! Neighbourhood similarity of vertex pairs: the Jaccard index and the Adamic-Adar index
//! (Flink Gelly's `JaccardIndex` and `AdamicAdar`).

use std::collections::BTreeMap;

use rayon::prelude::*;

use super::triangles::undirected_neighbors;
use crate::csr::Csr;
use crate::error::Result;
use crate::parallel;

/// The Jaccard index of every pair of vertices with a common neighbour (edge directions
/// ignored, self-loops not neighbours): `shared / (degree(u) + degree(v) - shared)`.
///
/// ```
/// use eddy_gelly::{Csr, JaccardIndex};
/// // 1 and 2 share neighbour 3 (of 3 and 4); 3 and 4 share neighbour 1 (of 1 and 2).
/// let g = Csr::builder(false).edges([(1, 3), (2, 3), (1, 4)]).build()?;
/// assert_eq!(JaccardIndex::new().run(&g)?, vec![(1, 2, 0.5), (3, 4, 0.5)]);
/// # Ok::<(), eddy_gelly::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct JaccardIndex {
    threads: usize,
}

impl JaccardIndex {
    /// One thread per core.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the number of threads (0 means one per core).
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads;
        self
    }

    /// `(u, v, index)` with `u < v` by id, for each pair with a common neighbour, sorted.
    ///
    /// # Errors
    ///
    /// [`Error::ThreadPool`](crate::Error::ThreadPool) if the pool cannot start.
    pub fn run(&self, graph: &Csr) -> Result<Vec<(u64, u64, f64)>> {
        parallel::install(self.threads, || {
            let neighbors = undirected_neighbors(graph);
            pairs(
                graph,
                &neighbors,
                |_| 1.0,
                |u, v, shared| {
                    let union = neighbors[u as usize].len() + neighbors[v as usize].len();
                    shared / (union as f64 - shared)
                },
            )
        })
    }
}

/// The Adamic-Adar index of every pair of vertices with a common neighbour (edge directions
/// ignored): the sum, over their common neighbours `w`, of `1 / ln(degree(w))`.
///
/// ```
/// use eddy_gelly::{AdamicAdar, Csr};
/// let g = Csr::builder(false).edges([(1, 3), (2, 3)]).build()?;
/// let scores = AdamicAdar::new().run(&g)?;
/// assert_eq!(scores, vec![(1, 2, 1.0 / 2f64.ln())]);
/// # Ok::<(), eddy_gelly::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AdamicAdar {
    threads: usize,
}

impl AdamicAdar {
    /// One thread per core.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the number of threads (0 means one per core).
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads;
        self
    }

    /// `(u, v, index)` with `u < v` by id, for each pair with a common neighbour, sorted.
    ///
    /// # Errors
    ///
    /// [`Error::ThreadPool`](crate::Error::ThreadPool) if the pool cannot start.
    pub fn run(&self, graph: &Csr) -> Result<Vec<(u64, u64, f64)>> {
        parallel::install(self.threads, || {
            let neighbors = undirected_neighbors(graph);
            let weight = |w: u32| 1.0 / (neighbors[w as usize].len() as f64).ln();
            pairs(graph, &neighbors, weight, |_, _, sum| sum)
        })
    }
}

/// For each pair `(u, v)` with common neighbours, `score(u, v, sum of weight(w) over common
/// neighbours w in ascending index order)`, as `(id u, id v, score)` with `id u < id v`,
/// sorted. Each vertex's pairs are found from it, through its neighbours, in parallel.
fn pairs(
    graph: &Csr,
    neighbors: &[Vec<u32>],
    weight: impl Fn(u32) -> f64 + Sync,
    score: impl Fn(u32, u32, f64) -> f64 + Sync,
) -> Vec<(u64, u64, f64)> {
    let score = &score;
    let mut out: Vec<(u64, u64, f64)> = (0..graph.num_vertices() as u32)
        .into_par_iter()
        .flat_map_iter(|u| {
            let id_u = graph.vertex_id(u);
            // Common neighbours are visited in ascending order, so sums do not depend on
            // the number of threads.
            let mut sums: BTreeMap<u32, f64> = BTreeMap::new();
            for &w in &neighbors[u as usize] {
                let share = weight(w);
                for &v in &neighbors[w as usize] {
                    if v != u && graph.vertex_id(v) > id_u {
                        *sums.entry(v).or_default() += share;
                    }
                }
            }
            sums.into_iter()
                .map(move |(v, sum)| (id_u, graph.vertex_id(v), score(u, v, sum)))
                .collect::<Vec<_>>()
        })
        .collect();
    out.par_sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    out
}
