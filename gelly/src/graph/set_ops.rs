//! Set operations between two [`Graph`]s: union, difference, intersection.

use eddy_runtime::{Data, Key};

use super::transform::edges_within;
use super::{Edge, Graph, Vertex, VertexKey};

impl<K: VertexKey, VV: Data, EV: Data> Graph<K, VV, EV> {
    /// The vertices of both graphs, one per id (the value of either), and the edges of both,
    /// duplicates kept (Flink's `union`).
    pub fn union(&self, other: &Graph<K, VV, EV>) -> Graph<K, VV, EV> {
        Graph {
            vertices: self
                .vertices
                .union(&other.vertices)
                .distinct_by(|v: &Vertex<K, VV>| v.id.clone()),
            edges: self.edges.union(&other.edges),
        }
    }

    /// This graph without the vertices whose ids are in `other`, and without the edges that
    /// touch them (Flink's `difference`, which removes `other`'s vertices).
    ///
    /// ```
    /// use eddy_gelly::{Edge, Graph};
    /// let env = eddy_dataset::ExecutionEnvironment::new();
    /// let path = Graph::from_edge_collection(&env, vec![Edge::new(1u64, 2u64, ()), Edge::new(2, 3, ())], |_| ());
    /// let three = Graph::from_edge_collection(&env, vec![Edge::new(3u64, 3u64, ())], |_| ());
    /// let (vertices, edges) = path.difference(&three).collect()?;
    /// assert_eq!(vertices.len(), 2);
    /// assert_eq!(edges, vec![Edge::new(1, 2, ())]);
    /// # Ok::<(), eddy_gelly::Error>(())
    /// ```
    pub fn difference(&self, other: &Graph<K, VV, EV>) -> Graph<K, VV, EV> {
        let vertices = self
            .vertices
            .co_group(&other.vertex_ids())
            .where_key(|v: &Vertex<K, VV>| v.id.clone())
            .equal_to(|k: &K| k.clone())
            .with(|vertices: Vec<Vertex<K, VV>>, removed: Vec<K>| {
                if removed.is_empty() {
                    vertices
                } else {
                    Vec::new()
                }
            });
        let edges = edges_within(&self.edges, &vertices);
        Graph { vertices, edges }
    }
}

impl<K: VertexKey, VV: Data, EV: Key> Graph<K, VV, EV> {
    /// The edges in both graphs (equal source, target and value), and the vertices they
    /// touch, without values (Flink's `intersect`). With `distinct`, each such edge once;
    /// otherwise, as Flink, pairs of equal edges: an edge `a` times here and `b` times in
    /// `other` gives `2 * min(a, b)` edges.
    ///
    /// ```
    /// use eddy_gelly::{Edge, Graph};
    /// let env = eddy_dataset::ExecutionEnvironment::new();
    /// let a = Graph::from_edge_collection(&env, vec![Edge::new(1u64, 3u64, 12u32), Edge::new(1, 3, 13), Edge::new(1, 3, 13)], |_| ());
    /// let b = Graph::from_edge_collection(&env, vec![Edge::new(1u64, 3u64, 13u32)], |_| ());
    /// assert_eq!(a.intersect(&b, true).collect()?.1, vec![Edge::new(1, 3, 13)]);
    /// assert_eq!(a.intersect(&b, false).number_of_edges()?, 2);
    /// # Ok::<(), eddy_gelly::Error>(())
    /// ```
    pub fn intersect(&self, other: &Graph<K, VV, EV>, distinct: bool) -> Graph<K, (), EV> {
        type Key3<K, EV> = (K, K, EV);
        let key = |e: &Edge<K, EV>| -> Key3<K, EV> {
            (e.source.clone(), e.target.clone(), e.value.clone())
        };
        let edges = self
            .edges
            .co_group(&other.edges)
            .where_key(key)
            .equal_to(key)
            .with(move |mine: Vec<Edge<K, EV>>, theirs: Vec<Edge<K, EV>>| {
                let pairs = mine.len().min(theirs.len());
                match (pairs, distinct) {
                    (0, _) => Vec::new(),
                    (_, true) => vec![mine[0].clone()],
                    (_, false) => mine
                        .into_iter()
                        .take(pairs)
                        .chain(theirs.into_iter().take(pairs))
                        .collect(),
                }
            });
        Graph::from_edges(&edges, |_| ())
    }
}
