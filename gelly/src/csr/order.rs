//! Vertex orders: dense indices in id order, or relabelled by degree for cache locality.

use std::cmp::Reverse;

use rayon::prelude::*;

use super::{Adjacency, Csr};

/// How dense vertex indices are assigned.
///
/// Results never depend on the order: every algorithm returns one value per dense index, and
/// [`Csr::vertex_id`] and [`Csr::vertices_by_id`] map indices back to ids. The order only
/// changes speed.
///
/// ```
/// use eddy_gelly::{Csr, PageRank, VertexOrder};
///
/// let edges = [(4, 1), (4, 2), (4, 3), (1, 4)];
/// let by_id = Csr::builder(true).edges(edges).build()?;
/// let by_degree = Csr::builder(true).edges(edges).order(VertexOrder::Degree).build()?;
/// assert_eq!(by_degree.vertex_id(0), 4); // the vertex with the most out-edges comes first
/// let pr = |g: &Csr| -> Result<Vec<(u64, f64)>, eddy_gelly::Error> {
///     let scores = PageRank::new().run(g)?;
///     Ok(g.vertices_by_id().map(|v| (g.vertex_id(v), scores[v as usize])).collect())
/// };
/// assert_eq!(pr(&by_id)?, pr(&by_degree)?);
/// # Ok::<(), eddy_gelly::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VertexOrder {
    /// Index `i` is the `i`-th smallest id (the default).
    #[default]
    Id,
    /// Vertices sorted by out-degree, largest first (ties in id order; the file loader counts
    /// edge lines, before repeated edges and self-loops are dropped). Frequently read
    /// vertices (hubs) then share cache lines, which speeds up pull-based kernels such as
    /// PageRank on skewed graphs, at 8 bytes per vertex for the mapping.
    Degree,
}

/// The mapping between dense indices and ranks (positions in ascending id order).
#[derive(Debug, Clone)]
pub(crate) struct Relabel {
    /// `rank[v]`: the rank of dense index `v`.
    pub(crate) rank: Vec<u32>,
    /// `dense[r]`: the dense index of rank `r`.
    pub(crate) dense: Vec<u32>,
}

impl Relabel {
    /// Orders ranks by descending `degree[rank]`, ties by rank.
    pub(crate) fn by_degree(degree: impl Fn(usize) -> usize + Sync, n: usize) -> Relabel {
        let mut rank: Vec<u32> = (0..n as u32).collect();
        rank.par_sort_by_key(|&r| (Reverse(degree(r as usize)), r));
        let mut dense = vec![0u32; n];
        for (v, &r) in rank.iter().enumerate() {
            dense[r as usize] = v as u32;
        }
        Relabel { rank, dense }
    }
}

/// Relabels an id-ordered graph by degree (for graphs built in memory; the file loader
/// relabels while it reads, without a second copy of the arrays).
pub(crate) fn relabel_by_degree(graph: Csr) -> Csr {
    debug_assert!(graph.relabel.is_none());
    let n = graph.num_vertices();
    let offsets = &graph.out.offsets;
    let relabel = Relabel::by_degree(|r| offsets[r + 1] - offsets[r], n);
    let out = permute(&graph.out, &relabel);
    let inc = if graph.directed {
        permute(&graph.inc, &relabel)
    } else {
        Adjacency::default()
    };
    Csr {
        directed: graph.directed,
        ids: graph.ids,
        out,
        inc,
        relabel: Some(relabel),
    }
}

/// The adjacency with vertex `relabel.dense[r]` in place of rank `r`, lists sorted again.
fn permute(adj: &Adjacency, relabel: &Relabel) -> Adjacency {
    let n = relabel.rank.len();
    let mut offsets = vec![0usize; n + 1];
    for v in 0..n {
        let r = relabel.rank[v] as usize;
        offsets[v + 1] = offsets[v] + adj.offsets[r + 1] - adj.offsets[r];
    }
    let mut targets = vec![0u32; adj.targets.len()];
    let mut weights = adj.weights.as_ref().map(|w| vec![0f64; w.len()]);
    let mut pairs: Vec<(u32, f64)> = Vec::new();
    for v in 0..n {
        let r = relabel.rank[v] as usize;
        let (old, new) = (
            adj.offsets[r]..adj.offsets[r + 1],
            offsets[v]..offsets[v + 1],
        );
        match (&adj.weights, weights.as_mut()) {
            (Some(w), Some(new_w)) => {
                pairs.clear();
                pairs.extend(
                    adj.targets[old.clone()]
                        .iter()
                        .map(|&u| relabel.dense[u as usize])
                        .zip(w[old].iter().copied()),
                );
                pairs.sort_unstable_by_key(|p| p.0);
                for (i, (u, w)) in pairs.iter().enumerate() {
                    targets[new.start + i] = *u;
                    new_w[new.start + i] = *w;
                }
            }
            _ => {
                let list = &mut targets[new];
                for (t, &u) in list.iter_mut().zip(&adj.targets[old]) {
                    *t = relabel.dense[u as usize];
                }
                list.sort_unstable();
            }
        }
    }
    Adjacency {
        offsets,
        targets,
        weights,
    }
}
