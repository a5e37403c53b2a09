//! Building a [`Csr`] from vertices and edges held in memory.

use super::assemble::{assemble, EdgeArrays};
use super::ids::IdIndex;
use super::order::{relabel_by_degree, VertexOrder};
use super::Csr;
use crate::error::{Error, Result};
use crate::parallel;

/// Collects vertices and edges, then builds a [`Csr`]. Made by [`Csr::builder`].
///
/// Without a call to [`Builder::vertices`], the vertices are the ends of the edges. With one,
/// every edge end must be a listed vertex, and listed vertices without edges stay isolated.
///
/// ```
/// use eddy_gelly::Csr;
///
/// let g = Csr::builder(true)
///     .vertices([1, 2, 3])
///     .weighted_edges([(1, 2, 0.5), (2, 3, 1.5), (1, 2, 0.25)])
///     .build()?;
/// assert_eq!(g.num_edges(), 2); // the duplicate 1 -> 2 keeps its smallest weight
/// assert_eq!(g.out_weights(0), Some(&[0.25][..]));
/// # Ok::<(), eddy_gelly::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Builder {
    directed: bool,
    vertices: Option<Vec<u64>>,
    edges: Vec<(u64, u64)>,
    weights: Vec<f64>,
    weighted: bool,
    unweighted_edges: usize,
    threads: usize,
    order: VertexOrder,
}

impl Builder {
    pub(crate) fn new(directed: bool) -> Self {
        Builder {
            directed,
            vertices: None,
            edges: Vec::new(),
            weights: Vec::new(),
            weighted: false,
            unweighted_edges: 0,
            threads: 0,
            order: VertexOrder::Id,
        }
    }

    /// Adds vertices (ids in any order; each at most once).
    pub fn vertices(mut self, ids: impl IntoIterator<Item = u64>) -> Self {
        self.vertices.get_or_insert_with(Vec::new).extend(ids);
        self
    }

    /// Adds unweighted edges `(source, target)`.
    pub fn edges(mut self, edges: impl IntoIterator<Item = (u64, u64)>) -> Self {
        let before = self.edges.len();
        self.edges.extend(edges);
        self.unweighted_edges += self.edges.len() - before;
        self
    }

    /// Adds weighted edges `(source, target, weight)`; weights must be non-negative. Calling
    /// this, even with no edges, makes the graph weighted.
    pub fn weighted_edges(mut self, edges: impl IntoIterator<Item = (u64, u64, f64)>) -> Self {
        self.weighted = true;
        for (s, d, w) in edges {
            self.edges.push((s, d));
            self.weights.push(w);
        }
        self
    }

    /// Threads used to sort the adjacency lists (0, the default, means one per core).
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads;
        self
    }

    /// Sets how dense indices are assigned (default: [`VertexOrder::Id`]).
    pub fn order(mut self, order: VertexOrder) -> Self {
        self.order = order;
        self
    }

    /// Builds the graph.
    ///
    /// # Errors
    ///
    /// [`Error::NotAVertex`] if an edge names an unlisted vertex, [`Error::RepeatedVertex`] if a
    /// vertex is listed twice, [`Error::MixedWeights`] if only some edges have weights,
    /// [`Error::InvalidWeight`] for a negative or NaN weight, [`Error::TooManyVertices`] past
    /// `u32` indices, [`Error::ThreadPool`] if the pool cannot start.
    pub fn build(self) -> Result<Csr> {
        if self.unweighted_edges > 0 && self.weighted {
            return Err(Error::MixedWeights);
        }
        let explicit = self.vertices.is_some();
        let mut ids = match self.vertices {
            Some(v) => v,
            None => self.edges.iter().flat_map(|&(s, d)| [s, d]).collect(),
        };
        ids.sort_unstable();
        if explicit {
            if let Some(w) = ids.windows(2).find(|w| w[0] == w[1]) {
                return Err(Error::RepeatedVertex { vertex: w[0] });
            }
        } else {
            ids.dedup();
        }
        let index = IdIndex::from_sorted(ids)?;
        let mut arrays = EdgeArrays {
            src: Vec::with_capacity(self.edges.len()),
            dst: Vec::with_capacity(self.edges.len()),
            weights: None,
        };
        for &(s, d) in &self.edges {
            arrays
                .src
                .push(index.get(s).ok_or(Error::NotAVertex { vertex: s })?);
            arrays
                .dst
                .push(index.get(d).ok_or(Error::NotAVertex { vertex: d })?);
        }
        if self.weighted {
            for (&(src, dst), &weight) in self.edges.iter().zip(&self.weights) {
                if weight.is_nan() || weight < 0.0 {
                    return Err(Error::InvalidWeight { src, dst, weight });
                }
            }
            arrays.weights = Some(self.weights);
        }
        let (directed, order) = (self.directed, self.order);
        parallel::install(self.threads, move || {
            let graph = assemble(index, directed, arrays);
            match order {
                VertexOrder::Id => graph,
                VertexOrder::Degree => relabel_by_degree(graph),
            }
        })
    }
}
