//! Vertex degrees of a [`Graph`]: in, out, and both.

use eddy_dataset::DataSet;
use eddy_runtime::Data;

use super::{Edge, EdgeDirection, Graph, Vertex, VertexKey};

impl<K: VertexKey, VV: Data, EV: Data> Graph<K, VV, EV> {
    /// `(id, number of edges entering it)` for every vertex, 0 included (Flink's
    /// `inDegrees`).
    pub fn in_degrees(&self) -> DataSet<(K, u64)> {
        self.degrees_in(EdgeDirection::In)
    }

    /// `(id, number of edges leaving it)` for every vertex, 0 included (Flink's
    /// `outDegrees`).
    ///
    /// ```
    /// use eddy_gelly::{Edge, Graph, Vertex};
    /// let env = eddy_dataset::ExecutionEnvironment::new();
    /// let vertices = vec![Vertex::new(1u64, ()), Vertex::new(2, ())];
    /// let graph = Graph::from_collection(&env, vertices, vec![Edge::new(1, 2, ()), Edge::new(1, 1, ())]);
    /// let mut out = graph.out_degrees().collect()?;
    /// out.sort();
    /// assert_eq!(out, vec![(1, 2), (2, 0)]);
    /// # Ok::<(), eddy_gelly::Error>(())
    /// ```
    pub fn out_degrees(&self) -> DataSet<(K, u64)> {
        self.degrees_in(EdgeDirection::Out)
    }

    /// `(id, in-degree + out-degree)` for every vertex (Flink's `getDegrees`; a self-loop
    /// counts twice).
    pub fn degrees(&self) -> DataSet<(K, u64)> {
        self.degrees_in(EdgeDirection::All)
    }

    fn degrees_in(&self, direction: EdgeDirection) -> DataSet<(K, u64)> {
        let ends = edge_ends(&self.edges, direction);
        self.vertices
            .co_group(&ends)
            .where_key(|v: &Vertex<K, VV>| v.id.clone())
            .equal_to(|k: &K| k.clone())
            .with(|vertices: Vec<Vertex<K, VV>>, ends: Vec<K>| {
                let n = ends.len() as u64;
                vertices.into_iter().map(move |v| (v.id, n))
            })
    }
}

/// The vertex each edge counts for in `direction`: its target for `In`, its source for
/// `Out`, both for `All`.
fn edge_ends<K: VertexKey, EV: Data>(
    edges: &DataSet<Edge<K, EV>>,
    direction: EdgeDirection,
) -> DataSet<K> {
    edges.flat_map(move |e: Edge<K, EV>| match direction {
        EdgeDirection::In => vec![e.target],
        EdgeDirection::Out => vec![e.source],
        EdgeDirection::All => vec![e.source, e.target],
    })
}
