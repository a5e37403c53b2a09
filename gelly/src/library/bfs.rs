//! LDBC breadth-first search as a scatter-gather iteration.

use eddy_dataset::DataSet;
use eddy_runtime::Data;

use super::simple::simple;
use crate::graph::{Graph, VertexKey};
use crate::iteration::Config;

/// LDBC BFS on the DataSet path: each vertex's depth (number of edges on a shortest path)
/// from the source, [`crate::Bfs::UNREACHED`] if unreachable; along out-edges in a directed
/// graph. The same results as [`crate::Bfs`].
#[derive(Clone, Debug)]
pub struct Bfs<K> {
    source: K,
    directed: bool,
}

impl<K: VertexKey> Bfs<K> {
    /// From `source`, on a directed graph.
    pub fn new(source: K) -> Self {
        Bfs {
            source,
            directed: true,
        }
    }

    /// Whether the graph is directed (default true).
    pub fn directed(mut self, directed: bool) -> Self {
        self.directed = directed;
        self
    }

    /// `(id, depth)` for every vertex.
    pub fn run<VV: Data, EV: Data>(&self, graph: &Graph<K, VV, EV>) -> DataSet<(K, i64)> {
        const UNREACHED: i64 = crate::Bfs::UNREACHED;
        let source = self.source.clone();
        simple(graph, self.directed, |a, _| a)
            .map_vertices(move |v| if v.id == source { 0 } else { UNREACHED })
            .run_scatter_gather(
                &Config::new(u32::MAX - 1),
                |v, ctx| {
                    if v.value != UNREACHED {
                        ctx.send_message_to_all_neighbors(v.value + 1);
                    }
                },
                |v, depths: Vec<i64>, _| {
                    let best = depths.into_iter().min().unwrap_or(UNREACHED);
                    (best < v.value).then_some(best)
                },
            )
            .vertices()
            .map(|v| (v.id, v.value))
    }
}
