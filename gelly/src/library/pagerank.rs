//! LDBC PageRank as a vertex-centric iteration.

use eddy_dataset::DataSet;
use eddy_runtime::Data;

use super::simple::simple;
use crate::graph::{EdgeDirection, Graph, VertexKey};
use crate::iteration::Config;

/// LDBC PageRank on the DataSet path: a fixed number of iterations, dangling vertices'
/// rank spread evenly over all vertices (the same results as [`crate::PageRank`]).
///
/// Vertex-centric, every vertex active: superstep 1 counts the vertices through the
/// aggregator, superstep 2 sets every rank to `1 / n`, and each later superstep computes
/// `(1 - d) / n + d * (sum of in-neighbours' rank / out-degree) + d * dangling / n`, where the
/// aggregator carries the count and the dangling rank of the superstep before.
#[derive(Clone, Debug)]
pub struct PageRank {
    damping: f64,
    iterations: u32,
    directed: bool,
}

impl Default for PageRank {
    fn default() -> Self {
        PageRank {
            damping: 0.85,
            iterations: 20,
            directed: true,
        }
    }
}

impl PageRank {
    /// Damping factor 0.85, 20 iterations, a directed graph.
    pub fn new() -> Self {
        Self::default()
    }

    /// The damping factor `d`.
    pub fn damping_factor(mut self, d: f64) -> Self {
        self.damping = d;
        self
    }

    /// The number of iterations.
    pub fn iterations(mut self, iterations: u32) -> Self {
        self.iterations = iterations;
        self
    }

    /// Whether the graph is directed (default true).
    pub fn directed(mut self, directed: bool) -> Self {
        self.directed = directed;
        self
    }

    /// `(id, rank)` for every vertex.
    pub fn run<K: VertexKey, VV: Data, EV: Data>(
        &self,
        graph: &Graph<K, VV, EV>,
    ) -> DataSet<(K, f64)> {
        let d = self.damping;
        let last = self.iterations + 2;
        let graph = simple(graph, self.directed, |a, _| a).map_vertices(|_| 0.0f64);
        let config = Config::new(last)
            .direction(EdgeDirection::Out)
            .all_active(true)
            .aggregator(|a: (u64, f64), b: (u64, f64)| (a.0 + b.0, a.1 + b.1));
        graph
            .run_vertex_centric(&config, move |v, ranks: Vec<f64>, ctx| {
                let step = ctx.superstep();
                if step == 1 {
                    ctx.aggregate((1, 0.0));
                    return;
                }
                let (n, dangling) = ctx.previous_aggregate().copied().unwrap_or((1, 0.0));
                let n = n.max(1) as f64;
                v.value = if step == 2 {
                    1.0 / n
                } else {
                    (1.0 - d) / n + d * ranks.iter().sum::<f64>() + d * dangling / n
                };
                if step < last {
                    let degree = ctx.edges().len();
                    if degree == 0 {
                        ctx.aggregate((1, v.value));
                    } else {
                        ctx.aggregate((1, 0.0));
                        ctx.send_message_to_all_neighbors(v.value / degree as f64);
                    }
                }
            })
            .vertices()
            .map(|v| (v.id, v.value))
    }
}
