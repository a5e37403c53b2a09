//! The compact CSR graph: dense `u32` vertex indices, offset arrays and neighbour arrays.
//!
//! # Layout
//!
//! Vertex ids are relabelled to `0..n`, in ascending id order or, with
//! [`VertexOrder::Degree`](crate::VertexOrder), hubs first ([`Csr::vertex_id`] maps back).
//! Out-neighbours of vertex `v` are `out_targets[out_offsets[v]..out_offsets[v + 1]]`, sorted
//! ascending, with their weights (for weighted graphs) in a parallel array. A directed graph
//! also keeps in-neighbours the same way, for pull-based kernels; an undirected graph stores
//! each edge in both directions once, and its in-neighbours are its out-neighbours.
//!
//! # Memory
//!
//! An undirected graph costs 8 bytes per edge (two `u32` arcs) plus 8 bytes per vertex
//! (offsets), plus 16 bytes per edge for weights. A directed graph costs 8 bytes per edge
//! (one out-arc, one in-arc) plus 16 bytes per vertex, plus 8 bytes per edge for weights.
//! Contiguous ids cost nothing to map; scattered ids cost a lookup table or a hash map;
//! [`VertexOrder::Degree`](crate::VertexOrder::Degree) adds 8 bytes per vertex. Measured on a
//! Graph500 scale-20 graph (1 M vertices, 15.7 M undirected edges): 142 MB for the graph, and
//! a peak of 11.5 bytes per edge for the whole process loading it and running PageRank.

pub(crate) mod assemble;
pub(crate) mod builder;
pub(crate) mod ids;
pub(crate) mod load;
pub(crate) mod order;

use ids::IdIndex;
use order::Relabel;

use crate::error::Result;

/// A graph in compressed sparse row form, with dense `u32` vertex indices.
///
/// Build one with [`Csr::builder`], [`Csr::load_ldbc`] or [`Csr::from_petgraph`].
/// Algorithms return one value per dense index; [`Csr::vertex_id`] gives the original id.
///
/// ```
/// use eddy_gelly::Csr;
///
/// let g = Csr::builder(false).edges([(10, 20), (20, 30), (20, 10)]).build()?;
/// assert_eq!(g.num_vertices(), 3);
/// assert_eq!(g.num_edges(), 2); // 20-10 repeats 10-20 in an undirected graph
/// assert_eq!(g.out_neighbors(1), &[0, 2]); // vertex 20's neighbours: 10 and 30
/// assert_eq!(g.index_of(30), Some(2));
/// # Ok::<(), eddy_gelly::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Csr {
    directed: bool,
    ids: IdIndex,
    out: Adjacency,
    /// In-adjacency of a directed graph; empty for an undirected one.
    inc: Adjacency,
    /// `None` when dense indices are ranks (ascending id order).
    relabel: Option<Relabel>,
}

/// One direction of adjacency: offsets, sorted targets, optional weights.
#[derive(Debug, Clone, Default)]
pub(crate) struct Adjacency {
    pub(crate) offsets: Vec<usize>,
    pub(crate) targets: Vec<u32>,
    pub(crate) weights: Option<Vec<f64>>,
}

impl Adjacency {
    #[inline]
    fn range(&self, v: u32) -> std::ops::Range<usize> {
        let v = v as usize;
        self.offsets[v]..self.offsets[v + 1]
    }

    fn heap_bytes(&self) -> usize {
        self.offsets.capacity() * 8
            + self.targets.capacity() * 4
            + self.weights.as_ref().map_or(0, |w| w.capacity() * 8)
    }
}

impl Csr {
    /// Starts building a graph from in-memory vertices and edges.
    pub fn builder(directed: bool) -> builder::Builder {
        builder::Builder::new(directed)
    }

    pub(crate) fn from_parts(
        directed: bool,
        ids: IdIndex,
        out: Adjacency,
        inc: Adjacency,
        relabel: Option<Relabel>,
    ) -> Self {
        debug_assert_eq!(out.offsets.len(), ids.len() + 1);
        debug_assert!(directed || inc.targets.is_empty());
        Csr {
            directed,
            ids,
            out,
            inc,
            relabel,
        }
    }

    /// How dense indices were assigned.
    pub fn vertex_order(&self) -> crate::VertexOrder {
        match self.relabel {
            None => crate::VertexOrder::Id,
            Some(_) => crate::VertexOrder::Degree,
        }
    }

    /// The rank of dense index `v`: its position in ascending id order. Comparing ranks
    /// compares ids, whatever the vertex order.
    #[inline]
    pub(crate) fn rank(&self, v: u32) -> u32 {
        match &self.relabel {
            None => v,
            Some(r) => r.rank[v as usize],
        }
    }

    /// The id of the vertex of rank `r`.
    #[inline]
    pub(crate) fn id_of_rank(&self, r: u32) -> u64 {
        self.ids.id(r)
    }

    /// Whether edges have a direction.
    pub fn is_directed(&self) -> bool {
        self.directed
    }

    /// Whether edges carry `f64` weights.
    pub fn is_weighted(&self) -> bool {
        self.out.weights.is_some()
    }

    /// The number of vertices.
    pub fn num_vertices(&self) -> usize {
        self.ids.len()
    }

    /// The number of edges; an undirected edge counts once.
    pub fn num_edges(&self) -> usize {
        if self.directed {
            self.out.targets.len()
        } else {
            self.out.targets.len() / 2
        }
    }

    /// The number of stored out-arcs: edges, or twice the edges of an undirected graph.
    pub fn num_arcs(&self) -> usize {
        self.out.targets.len()
    }

    /// The original id of dense index `v`.
    ///
    /// # Panics
    ///
    /// If `v` is not below [`Csr::num_vertices`].
    pub fn vertex_id(&self, v: u32) -> u64 {
        self.ids.id(self.rank(v))
    }

    /// The dense index of original id `id`, if it is a vertex.
    pub fn index_of(&self, id: u64) -> Option<u32> {
        let r = self.ids.get(id)?;
        Some(match &self.relabel {
            None => r,
            Some(relabel) => relabel.dense[r as usize],
        })
    }

    /// The original ids, in dense index order (ascending, with [`VertexOrder::Id`]).
    ///
    /// [`VertexOrder::Id`]: crate::VertexOrder::Id
    pub fn vertex_ids(&self) -> impl ExactSizeIterator<Item = u64> + '_ {
        (0..self.num_vertices() as u32).map(|v| self.vertex_id(v))
    }

    /// Dense indices in ascending id order, whatever the vertex order.
    pub fn vertices_by_id(&self) -> impl ExactSizeIterator<Item = u32> + '_ {
        (0..self.num_vertices() as u32).map(|r| match &self.relabel {
            None => r,
            Some(relabel) => relabel.dense[r as usize],
        })
    }

    /// Out-neighbours of `v` (all neighbours, for an undirected graph), sorted ascending.
    ///
    /// # Panics
    ///
    /// If `v` is not below [`Csr::num_vertices`].
    #[inline]
    pub fn out_neighbors(&self, v: u32) -> &[u32] {
        &self.out.targets[self.out.range(v)]
    }

    /// Weights of the edges to [`Csr::out_neighbors`], in the same order; `None` if unweighted.
    ///
    /// # Panics
    ///
    /// If `v` is not below [`Csr::num_vertices`].
    pub fn out_weights(&self, v: u32) -> Option<&[f64]> {
        let r = self.out.range(v);
        self.out.weights.as_ref().map(|w| &w[r])
    }

    /// In-neighbours of `v` (all neighbours, for an undirected graph), sorted ascending.
    ///
    /// # Panics
    ///
    /// If `v` is not below [`Csr::num_vertices`].
    #[inline]
    pub fn in_neighbors(&self, v: u32) -> &[u32] {
        if self.directed {
            &self.inc.targets[self.inc.range(v)]
        } else {
            self.out_neighbors(v)
        }
    }

    /// The number of out-neighbours of `v`.
    ///
    /// # Panics
    ///
    /// If `v` is not below [`Csr::num_vertices`].
    #[inline]
    pub fn out_degree(&self, v: u32) -> usize {
        self.out.range(v).len()
    }

    /// The number of in-neighbours of `v`.
    ///
    /// # Panics
    ///
    /// If `v` is not below [`Csr::num_vertices`].
    pub fn in_degree(&self, v: u32) -> usize {
        if self.directed {
            self.inc.range(v).len()
        } else {
            self.out_degree(v)
        }
    }

    /// All edges as `(source index, target index, weight)`; an undirected edge once, with the
    /// smaller index first. The weight is `None` for an unweighted graph.
    pub fn edges(&self) -> impl Iterator<Item = (u32, u32, Option<f64>)> + '_ {
        (0..self.num_vertices() as u32).flat_map(move |v| {
            let weights = self.out_weights(v);
            self.out_neighbors(v)
                .iter()
                .enumerate()
                .filter(move |&(_, &u)| self.directed || v <= u)
                .map(move |(i, &u)| (v, u, weights.map(|w| w[i])))
        })
    }

    /// Bytes of heap memory held by the graph.
    pub fn heap_bytes(&self) -> usize {
        let relabel = self
            .relabel
            .as_ref()
            .map_or(0, |r| (r.rank.len() + r.dense.len()) * 4);
        self.ids.heap_bytes() + self.out.heap_bytes() + self.inc.heap_bytes() + relabel
    }

    /// The dense index of `id`, or [`Error::NotAVertex`](crate::Error::NotAVertex).
    pub(crate) fn require(&self, id: u64) -> Result<u32> {
        self.index_of(id)
            .ok_or(crate::Error::NotAVertex { vertex: id })
    }

    /// The raw out-adjacency, for kernels.
    pub(crate) fn out_adjacency(&self) -> &Adjacency {
        &self.out
    }

    /// The raw in-adjacency (the out-adjacency for an undirected graph), for kernels.
    pub(crate) fn in_adjacency(&self) -> &Adjacency {
        if self.directed {
            &self.inc
        } else {
            &self.out
        }
    }
}
