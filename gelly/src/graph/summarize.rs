//! Graph summarization (Flink Gelly's `Summarization`): one vertex per group of vertices
//! with equal values, one edge per group pair and edge value.

use eddy_dataset::key::SortKey;
use eddy_runtime::Key;

use super::{Edge, Graph, Vertex, VertexKey};

impl<K: VertexKey, VV: Key + SortKey, EV: Key + SortKey> Graph<K, VV, EV> {
    /// The summary graph: vertices with equal values become one vertex, whose id is the
    /// smallest of theirs and whose value is `(value, number of vertices)`; edges between the
    /// same two groups with equal values become one edge valued `(value, number of edges)`.
    ///
    /// ```
    /// use eddy_gelly::{Edge, Graph, Vertex};
    /// let env = eddy_dataset::ExecutionEnvironment::new();
    /// let vertices = vec![Vertex::new(1u64, 'a'), Vertex::new(2, 'a'), Vertex::new(3, 'b')];
    /// let edges = vec![Edge::new(1, 3, 0u8), Edge::new(2, 3, 0), Edge::new(1, 2, 0)];
    /// let (v, e) = Graph::from_collection(&env, vertices, edges).summarize().collect()?;
    /// assert_eq!(v, vec![Vertex::new(1, ('a', 2)), Vertex::new(3, ('b', 1))]);
    /// assert_eq!(e, vec![Edge::new(1, 1, (0, 1)), Edge::new(1, 3, (0, 2))]);
    /// # Ok::<(), eddy_gelly::Error>(())
    /// ```
    pub fn summarize(&self) -> Graph<K, (VV, u64), (EV, u64)> {
        let groups = self.vertices.group_by(|v: &Vertex<K, VV>| v.value.clone());
        let summary = groups.reduce_group(|group: Vec<Vertex<K, VV>>| {
            let count = group.len() as u64;
            group
                .into_iter()
                .min_by(|a, b| a.id.cmp(&b.id))
                .map(|v| Vertex::new(v.id, (v.value, count)))
        });
        let representative = groups.reduce_group(|group: Vec<Vertex<K, VV>>| {
            let least = group.iter().map(|v| v.id.clone()).min();
            let members: Vec<(K, K)> = match least {
                Some(rep) => group.into_iter().map(|v| (v.id, rep.clone())).collect(),
                None => Vec::new(),
            };
            members
        });
        let edges = self
            .edges
            .join(&representative)
            .where_key(|e: &Edge<K, EV>| e.source.clone())
            .equal_to(|m: &(K, K)| m.0.clone())
            .with(|e, m| Edge::new(m.1, e.target, e.value))
            .join(&representative)
            .where_key(|e: &Edge<K, EV>| e.target.clone())
            .equal_to(|m: &(K, K)| m.0.clone())
            .with(|e, m| (e.source, m.1, e.value))
            .group_by(|t: &(K, K, EV)| t.clone())
            .reduce_group(|group: Vec<(K, K, EV)>| {
                let count = group.len() as u64;
                group
                    .into_iter()
                    .next()
                    .map(|(s, t, value)| Edge::new(s, t, (value, count)))
            });
        Graph::from_data_set(&summary, &edges)
    }
}
