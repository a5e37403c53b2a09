//! Updating a [`Graph`]'s values from other DataSets by id: `join_with_vertices` and the
//! `join_with_edges` family. A vertex or edge without a match keeps its value; with several
//! matches, one of them is used (as in Flink, which takes the first).

use eddy_dataset::DataSet;
use eddy_runtime::Data;

use super::{Edge, Graph, Vertex, VertexKey};

impl<K: VertexKey, VV: Data, EV: Data> Graph<K, VV, EV> {
    /// Each vertex with an `(id, t)` in `input` gets the value `f(value, t)` (Flink's
    /// `joinWithVertices`).
    ///
    /// ```
    /// use eddy_gelly::{Edge, Graph};
    /// let env = eddy_dataset::ExecutionEnvironment::new();
    /// let graph = Graph::from_edge_collection(&env, vec![Edge::new(1u64, 2u64, ())], |_| 0u64);
    /// let degrees = graph.out_degrees();
    /// let with_degrees = graph.join_with_vertices(&degrees, |_, d| d);
    /// assert_eq!(with_degrees.collect()?.0.iter().map(|v| v.value).collect::<Vec<_>>(), vec![1, 0]);
    /// # Ok::<(), eddy_gelly::Error>(())
    /// ```
    pub fn join_with_vertices<T: Data, F>(
        &self,
        input: &DataSet<(K, T)>,
        mut f: F,
    ) -> Graph<K, VV, EV>
    where
        F: FnMut(VV, T) -> VV + Clone + Send + Sync + 'static,
    {
        let vertices = self
            .vertices
            .co_group(input)
            .where_key(|v: &Vertex<K, VV>| v.id.clone())
            .equal_to(|p: &(K, T)| p.0.clone())
            .with(move |vertices: Vec<Vertex<K, VV>>, input: Vec<(K, T)>| {
                let first = input.into_iter().next();
                vertices
                    .into_iter()
                    .map(|v| match &first {
                        Some((_, t)) => Vertex::new(v.id, f(v.value, t.clone())),
                        None => v,
                    })
                    .collect::<Vec<_>>()
            });
        Graph {
            vertices,
            edges: self.edges.clone(),
        }
    }

    /// Each edge with a `(source, target, t)` in `input` gets the value `f(value, t)`
    /// (Flink's `joinWithEdges`).
    pub fn join_with_edges<T: Data, F>(&self, input: &DataSet<(K, K, T)>, f: F) -> Graph<K, VV, EV>
    where
        F: FnMut(EV, T) -> EV + Clone + Send + Sync + 'static,
    {
        self.join_edges_by(
            input,
            |e: &Edge<K, EV>| (e.source.clone(), e.target.clone()),
            |i: &(K, K, T)| (i.0.clone(), i.1.clone()),
            |i: (K, K, T)| i.2,
            f,
        )
    }

    /// Each edge whose source has a `(source, t)` in `input` gets the value `f(value, t)`
    /// (Flink's `joinWithEdgesOnSource`).
    pub fn join_with_edges_on_source<T: Data, F>(
        &self,
        input: &DataSet<(K, T)>,
        f: F,
    ) -> Graph<K, VV, EV>
    where
        F: FnMut(EV, T) -> EV + Clone + Send + Sync + 'static,
    {
        self.join_edges_by(
            input,
            |e: &Edge<K, EV>| e.source.clone(),
            |i: &(K, T)| i.0.clone(),
            |i: (K, T)| i.1,
            f,
        )
    }

    /// Each edge whose target has a `(target, t)` in `input` gets the value `f(value, t)`
    /// (Flink's `joinWithEdgesOnTarget`).
    pub fn join_with_edges_on_target<T: Data, F>(
        &self,
        input: &DataSet<(K, T)>,
        f: F,
    ) -> Graph<K, VV, EV>
    where
        F: FnMut(EV, T) -> EV + Clone + Send + Sync + 'static,
    {
        self.join_edges_by(
            input,
            |e: &Edge<K, EV>| e.target.clone(),
            |i: &(K, T)| i.0.clone(),
            |i: (K, T)| i.1,
            f,
        )
    }

    fn join_edges_by<X: Data, T: Data, JK: eddy_runtime::Key, F>(
        &self,
        input: &DataSet<X>,
        edge_key: impl Fn(&Edge<K, EV>) -> JK + Send + Sync + 'static,
        input_key: impl Fn(&X) -> JK + Send + Sync + 'static,
        value: impl Fn(X) -> T + Clone + Send + Sync + 'static,
        mut f: F,
    ) -> Graph<K, VV, EV>
    where
        F: FnMut(EV, T) -> EV + Clone + Send + Sync + 'static,
    {
        let edges = self
            .edges
            .co_group(input)
            .where_key(edge_key)
            .equal_to(input_key)
            .with(move |edges: Vec<Edge<K, EV>>, input: Vec<X>| {
                let first = input.into_iter().next().map(&value);
                edges
                    .into_iter()
                    .map(|e| match &first {
                        Some(t) => Edge::new(e.source, e.target, f(e.value, t.clone())),
                        None => e,
                    })
                    .collect::<Vec<_>>()
            });
        Graph {
            vertices: self.vertices.clone(),
            edges,
        }
    }
}
