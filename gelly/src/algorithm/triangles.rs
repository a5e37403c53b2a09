//! Triangle listing (Flink Gelly's `TriangleListing` and `TriangleEnumerator`).

use rayon::prelude::*;

use crate::csr::Csr;
use crate::error::Result;
use crate::parallel;

/// Lists the triangles of a graph's underlying undirected simple graph: every set of three
/// vertices joined pairwise, edge directions ignored, each once as `(a, b, c)` with
/// `a < b < c` by vertex id, sorted.
///
/// # Algorithm
///
/// Each vertex keeps only its neighbours of higher rank (degree, then index), so each
/// triangle is found once, from its lowest-ranked vertex, by intersecting two sorted lists;
/// rank order bounds the work by `O(m^1.5)`. Vertices are split across rayon tasks.
///
/// ```
/// use eddy_gelly::{Csr, Triangles};
/// let g = Csr::builder(true).edges([(1, 2), (2, 3), (3, 1), (3, 4), (1, 4)]).build()?;
/// assert_eq!(Triangles::new().run(&g)?, vec![(1, 2, 3), (1, 3, 4)]);
/// # Ok::<(), eddy_gelly::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Triangles {
    threads: usize,
}

impl Triangles {
    /// One thread per core.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the number of threads (0 means one per core).
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads;
        self
    }

    /// The triangles, as sorted id triples, in ascending order.
    ///
    /// # Errors
    ///
    /// [`Error::ThreadPool`](crate::Error::ThreadPool) if the pool cannot start.
    pub fn run(&self, graph: &Csr) -> Result<Vec<(u64, u64, u64)>> {
        parallel::install(self.threads, || {
            let neighbors = undirected_neighbors(graph);
            let rank = |v: u32| (neighbors[v as usize].len(), v);
            let higher: Vec<Vec<u32>> = neighbors
                .par_iter()
                .enumerate()
                .map(|(v, list)| {
                    let me = rank(v as u32);
                    let mut up: Vec<u32> = list.iter().copied().filter(|&u| rank(u) > me).collect();
                    up.sort_unstable();
                    up
                })
                .collect();
            let mut triangles: Vec<(u64, u64, u64)> = (0..graph.num_vertices() as u32)
                .into_par_iter()
                .flat_map_iter(|a| {
                    let mut found = Vec::new();
                    let up = &higher[a as usize];
                    for &b in up {
                        for c in intersect(up, &higher[b as usize]) {
                            let mut ids =
                                [graph.vertex_id(a), graph.vertex_id(b), graph.vertex_id(c)];
                            ids.sort_unstable();
                            found.push((ids[0], ids[1], ids[2]));
                        }
                    }
                    found
                })
                .collect();
            triangles.par_sort_unstable();
            triangles
        })
    }
}

/// The common elements of two ascending lists.
pub(crate) fn intersect<'a>(a: &'a [u32], b: &'a [u32]) -> impl Iterator<Item = u32> + 'a {
    let (mut i, mut j) = (0, 0);
    std::iter::from_fn(move || {
        while i < a.len() && j < b.len() {
            match a[i].cmp(&b[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    let x = a[i];
                    i += 1;
                    j += 1;
                    return Some(x);
                }
            }
        }
        None
    })
}

/// Every vertex's neighbours with edge directions ignored, ascending, without the vertex
/// itself (a self-loop is not a neighbour).
pub(crate) fn undirected_neighbors(graph: &Csr) -> Vec<Vec<u32>> {
    (0..graph.num_vertices() as u32)
        .into_par_iter()
        .map(|v| {
            let mut list: Vec<u32> = graph.out_neighbors(v).to_vec();
            if graph.is_directed() {
                list.extend_from_slice(graph.in_neighbors(v));
                list.sort_unstable();
                list.dedup();
            }
            list.retain(|&u| u != v);
            list
        })
        .collect()
}
