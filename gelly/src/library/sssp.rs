//! LDBC single-source shortest paths as a scatter-gather iteration.

use eddy_dataset::DataSet;
use eddy_runtime::Data;

use super::simple::simple;
use crate::graph::{Edge, Graph, VertexKey};
use crate::iteration::Config;

/// LDBC SSSP on the DataSet path: each vertex's distance from the source over non-negative
/// `f64` edge weights, infinity if unreachable; along out-edges in a directed graph. The same
/// results as [`crate::Sssp`].
#[derive(Clone, Debug)]
pub struct Sssp<K> {
    source: K,
    directed: bool,
}

impl<K: VertexKey> Sssp<K> {
    /// From `source`, on a directed graph.
    pub fn new(source: K) -> Self {
        Sssp {
            source,
            directed: true,
        }
    }

    /// Whether the graph is directed (default true).
    pub fn directed(mut self, directed: bool) -> Self {
        self.directed = directed;
        self
    }

    /// `(id, distance)` for every vertex.
    pub fn run<VV: Data>(&self, graph: &Graph<K, VV, f64>) -> DataSet<(K, f64)> {
        let source = self.source.clone();
        simple(graph, self.directed, f64::min)
            .map_vertices(move |v| if v.id == source { 0.0 } else { f64::INFINITY })
            .run_scatter_gather(
                &Config::new(u32::MAX - 1),
                |v, ctx| {
                    if v.value.is_finite() {
                        let edges: Vec<Edge<K, f64>> = ctx.edges().to_vec();
                        for e in edges {
                            ctx.send_message_to(e.target, v.value + e.value);
                        }
                    }
                },
                |v, distances: Vec<f64>, _| {
                    let best = distances.into_iter().fold(f64::INFINITY, f64::min);
                    (best < v.value).then_some(best)
                },
            )
            .vertices()
            .map(|v| (v.id, v.value))
    }
}
