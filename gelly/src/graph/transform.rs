//! Transformations of a [`Graph`] that keep its shape or cut it: mapping values, translating
//! ids, filtering, reversing, symmetrizing.

use eddy_runtime::Data;

use super::{Edge, Graph, Vertex, VertexKey};

impl<K: VertexKey, VV: Data, EV: Data> Graph<K, VV, EV> {
    /// The same graph with each vertex valued by `f` of the vertex (Flink's `mapVertices`).
    pub fn map_vertices<NV: Data, F>(&self, mut f: F) -> Graph<K, NV, EV>
    where
        F: FnMut(&Vertex<K, VV>) -> NV + Clone + Send + Sync + 'static,
    {
        Graph {
            vertices: self.vertices.map(move |v: Vertex<K, VV>| {
                let value = f(&v);
                Vertex::new(v.id, value)
            }),
            edges: self.edges.clone(),
        }
    }

    /// The same graph with each edge valued by `f` of the edge (Flink's `mapEdges`).
    pub fn map_edges<NE: Data, F>(&self, mut f: F) -> Graph<K, VV, NE>
    where
        F: FnMut(&Edge<K, EV>) -> NE + Clone + Send + Sync + 'static,
    {
        Graph {
            vertices: self.vertices.clone(),
            edges: self.edges.map(move |e: Edge<K, EV>| {
                let value = f(&e);
                Edge::new(e.source, e.target, value)
            }),
        }
    }

    /// The graph with every id (of vertices and edge ends) replaced by `f` of it (Flink's
    /// `translateGraphIds`). `f` should be injective, or vertices merge into duplicates.
    ///
    /// ```
    /// use eddy_gelly::{Edge, Graph};
    /// let env = eddy_dataset::ExecutionEnvironment::new();
    /// let graph = Graph::from_edge_collection(&env, vec![Edge::new(1u64, 2u64, ())], |_| ());
    /// let named = graph.translate_ids(|id: &u64| format!("v{id}"));
    /// assert_eq!(named.collect()?.1, vec![Edge::new("v1".to_string(), "v2".to_string(), ())]);
    /// # Ok::<(), eddy_gelly::Error>(())
    /// ```
    pub fn translate_ids<NK: VertexKey, F>(&self, f: F) -> Graph<NK, VV, EV>
    where
        F: Fn(&K) -> NK + Clone + Send + Sync + 'static,
    {
        let g = f.clone();
        Graph {
            vertices: self
                .vertices
                .map(move |v: Vertex<K, VV>| Vertex::new(f(&v.id), v.value)),
            edges: self
                .edges
                .map(move |e: Edge<K, EV>| Edge::new(g(&e.source), g(&e.target), e.value)),
        }
    }

    /// The graph with each vertex value replaced by `f` of it (Flink's
    /// `translateVertexValues`).
    pub fn translate_vertex_values<NV: Data, F>(&self, mut f: F) -> Graph<K, NV, EV>
    where
        F: FnMut(VV) -> NV + Clone + Send + Sync + 'static,
    {
        Graph {
            vertices: self
                .vertices
                .map(move |v: Vertex<K, VV>| Vertex::new(v.id, f(v.value))),
            edges: self.edges.clone(),
        }
    }

    /// The graph with each edge value replaced by `f` of it (Flink's `translateEdgeValues`).
    pub fn translate_edge_values<NE: Data, F>(&self, mut f: F) -> Graph<K, VV, NE>
    where
        F: FnMut(EV) -> NE + Clone + Send + Sync + 'static,
    {
        Graph {
            vertices: self.vertices.clone(),
            edges: self
                .edges
                .map(move |e: Edge<K, EV>| Edge::new(e.source, e.target, f(e.value))),
        }
    }

    /// The vertices `keep` accepts, and the edges between two of them (Flink's
    /// `filterOnVertices`).
    pub fn filter_on_vertices<F>(&self, keep: F) -> Graph<K, VV, EV>
    where
        F: FnMut(&Vertex<K, VV>) -> bool + Clone + Send + Sync + 'static,
    {
        let vertices = self.vertices.filter(keep);
        let edges = edges_within(&self.edges, &vertices);
        Graph { vertices, edges }
    }

    /// All vertices, and the edges `keep` accepts (Flink's `filterOnEdges`).
    pub fn filter_on_edges<F>(&self, keep: F) -> Graph<K, VV, EV>
    where
        F: FnMut(&Edge<K, EV>) -> bool + Clone + Send + Sync + 'static,
    {
        Graph {
            vertices: self.vertices.clone(),
            edges: self.edges.filter(keep),
        }
    }

    /// The vertices `keep_vertex` accepts, and the edges `keep_edge` accepts between two of
    /// them (Flink's `subgraph`).
    pub fn subgraph<FV, FE>(&self, keep_vertex: FV, keep_edge: FE) -> Graph<K, VV, EV>
    where
        FV: FnMut(&Vertex<K, VV>) -> bool + Clone + Send + Sync + 'static,
        FE: FnMut(&Edge<K, EV>) -> bool + Clone + Send + Sync + 'static,
    {
        self.filter_on_edges(keep_edge)
            .filter_on_vertices(keep_vertex)
    }

    /// The graph with every edge turned round (Flink's `reverse`).
    pub fn reverse(&self) -> Graph<K, VV, EV> {
        Graph {
            vertices: self.vertices.clone(),
            edges: self.edges.map(Edge::reversed),
        }
    }

    /// The graph with every edge also in the other direction (Flink's `getUndirected`): an
    /// edge `a -> b` becomes `a -> b` and `b -> a`. An edge whose reverse already exists
    /// is then present twice in each direction; a self-loop twice.
    pub fn undirected(&self) -> Graph<K, VV, EV> {
        Graph {
            vertices: self.vertices.clone(),
            edges: self.edges.flat_map(|e: Edge<K, EV>| {
                let reversed = e.clone().reversed();
                [e, reversed]
            }),
        }
    }
}

/// The edges whose source and target are both ids of `vertices`.
pub(crate) fn edges_within<K: VertexKey, VV: Data, EV: Data>(
    edges: &eddy_dataset::DataSet<Edge<K, EV>>,
    vertices: &eddy_dataset::DataSet<Vertex<K, VV>>,
) -> eddy_dataset::DataSet<Edge<K, EV>> {
    let ids = vertices.map(|v: Vertex<K, VV>| v.id);
    edges
        .join(&ids)
        .where_key(|e: &Edge<K, EV>| e.source.clone())
        .equal_to(|k: &K| k.clone())
        .with(|e, _| e)
        .join(&ids)
        .where_key(|e: &Edge<K, EV>| e.target.clone())
        .equal_to(|k: &K| k.clone())
        .with(|e, _| e)
}
