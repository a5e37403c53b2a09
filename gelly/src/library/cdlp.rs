//! LDBC community detection by label propagation as a vertex-centric iteration.

use std::collections::HashMap;

use eddy_dataset::DataSet;
use eddy_runtime::Data;

use super::simple::simple;
use crate::graph::{EdgeDirection, Graph, VertexKey};
use crate::iteration::Config;

/// LDBC CDLP on the DataSet path: synchronous label propagation for a fixed number of
/// iterations; a vertex takes the label most frequent among its neighbours (in- and
/// out-neighbours counted separately in a directed graph), ties to the smallest; a vertex
/// without neighbours keeps its label. Labels start as vertex ids. The same results as
/// [`crate::Cdlp`].
#[derive(Clone, Debug)]
pub struct Cdlp {
    iterations: u32,
    directed: bool,
}

impl Default for Cdlp {
    fn default() -> Self {
        Cdlp {
            iterations: 10,
            directed: true,
        }
    }
}

impl Cdlp {
    /// 10 iterations, a directed graph.
    pub fn new() -> Self {
        Self::default()
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

    /// `(id, label)` for every vertex.
    pub fn run<K: VertexKey, VV: Data, EV: Data>(
        &self,
        graph: &Graph<K, VV, EV>,
    ) -> DataSet<(K, K)> {
        let last = self.iterations + 1;
        // Undirected graphs are symmetrized, so out-edges reach every neighbour once.
        let direction = if self.directed {
            EdgeDirection::All
        } else {
            EdgeDirection::Out
        };
        let graph = simple(graph, self.directed, |a, _| a).map_vertices(|v| v.id.clone());
        let config = Config::new(last).direction(direction).all_active(true);
        graph
            .run_vertex_centric(&config, move |v, labels: Vec<K>, ctx| {
                if ctx.superstep() > 1 && !labels.is_empty() {
                    let mut counts: HashMap<K, u64> = HashMap::new();
                    for label in labels {
                        *counts.entry(label).or_default() += 1;
                    }
                    if let Some((label, _)) = counts
                        .into_iter()
                        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0)))
                    {
                        v.value = label;
                    }
                }
                if ctx.superstep() < last {
                    ctx.send_message_to_all_neighbors(v.value.clone());
                }
            })
            .vertices()
            .map(|v| (v.id, v.value))
    }
}
