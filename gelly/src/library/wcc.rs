//! LDBC weakly connected components as a gather-sum-apply iteration.

use eddy_dataset::DataSet;
use eddy_runtime::Data;

use crate::graph::{EdgeDirection, Graph, VertexKey};
use crate::iteration::Config;

/// LDBC WCC on the DataSet path: each vertex is labelled with the smallest id of its weakly
/// connected component (the same labels as [`crate::Wcc`]). Gather-sum-apply over all edges,
/// until no label changes.
#[derive(Clone, Debug)]
pub struct Wcc {
    max_iterations: u32,
}

impl Default for Wcc {
    fn default() -> Self {
        Wcc {
            max_iterations: u32::MAX - 1,
        }
    }
}

impl Wcc {
    /// Until convergence.
    pub fn new() -> Self {
        Self::default()
    }

    /// Accepted for symmetry with the other algorithms: weak connectivity ignores direction.
    pub fn directed(self, _directed: bool) -> Self {
        self
    }

    /// Stops after `max_iterations` iterations even if labels still change.
    pub fn max_iterations(mut self, max_iterations: u32) -> Self {
        self.max_iterations = max_iterations;
        self
    }

    /// `(id, component label)` for every vertex.
    pub fn run<K: VertexKey, VV: Data, EV: Data>(
        &self,
        graph: &Graph<K, VV, EV>,
    ) -> DataSet<(K, K)> {
        let config = Config::new(self.max_iterations).direction(EdgeDirection::All);
        graph
            .map_vertices(|v| v.id.clone())
            .run_gather_sum_apply(
                &config,
                |label: &K, _| label.clone(),
                |a: K, b: K| a.min(b),
                |least, v| (least < v.value).then_some(least),
            )
            .vertices()
            .map(|v| (v.id, v.value))
    }
}
