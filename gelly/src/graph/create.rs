//! Making a [`Graph`]: from DataSets, collections, CSV and LDBC files, and petgraph graphs
//! (and back to petgraph, or on to a [`Csr`] for the in-memory algorithms).

use std::collections::HashMap;
use std::path::Path;

use eddy_dataset::{CsvOptions, DataSet, ExecutionEnvironment};
use eddy_runtime::Data;

use super::{Edge, Graph, Vertex, VertexKey};
use crate::csr::Csr;
use crate::error::{Error, Result};

impl<K: VertexKey, VV: Data, EV: Data> Graph<K, VV, EV> {
    /// A graph of these vertices and edges (Flink's `Graph.fromDataSet(vertices, edges)`).
    pub fn from_data_set(vertices: &DataSet<Vertex<K, VV>>, edges: &DataSet<Edge<K, EV>>) -> Self {
        Graph {
            vertices: vertices.clone(),
            edges: edges.clone(),
        }
    }

    /// A graph of `(id, value)` vertices and `(source, target, value)` edges (Flink's
    /// `fromTupleDataSet`).
    pub fn from_tuples(vertices: &DataSet<(K, VV)>, edges: &DataSet<(K, K, EV)>) -> Self {
        Graph {
            vertices: vertices.map(|(id, value)| Vertex::new(id, value)),
            edges: edges.map(|(s, t, v)| Edge::new(s, t, v)),
        }
    }

    /// A graph of these edges whose vertices are the edges' ends, each valued by `init` of
    /// its id (Flink's `fromDataSet(edges, vertexValueInitializer)`).
    ///
    /// ```
    /// use eddy_gelly::{Edge, Graph};
    /// let env = eddy_dataset::ExecutionEnvironment::new();
    /// let edges = env.from_collection(vec![Edge::new(1u64, 2u64, ()), Edge::new(2, 3, ())]);
    /// let graph = Graph::from_edges(&edges, |id: &u64| id * 10);
    /// let (vertices, _) = graph.collect()?;
    /// assert_eq!(vertices.iter().map(|v| v.value).collect::<Vec<_>>(), vec![10, 20, 30]);
    /// # Ok::<(), eddy_gelly::Error>(())
    /// ```
    pub fn from_edges<F>(edges: &DataSet<Edge<K, EV>>, init: F) -> Self
    where
        F: Fn(&K) -> VV + Clone + Send + Sync + 'static,
    {
        let vertices = edges
            .flat_map(|e: Edge<K, EV>| [e.source, e.target])
            .distinct_by(|k: &K| k.clone())
            .map(move |id: K| {
                let value = init(&id);
                Vertex::new(id, value)
            });
        Graph {
            vertices,
            edges: edges.clone(),
        }
    }

    /// A graph of in-memory vertices and edges (Flink's `fromCollection`).
    pub fn from_collection(
        env: &ExecutionEnvironment,
        vertices: impl IntoIterator<Item = Vertex<K, VV>>,
        edges: impl IntoIterator<Item = Edge<K, EV>>,
    ) -> Self {
        Graph {
            vertices: env.from_collection(vertices),
            edges: env.from_collection(edges),
        }
    }

    /// A graph of in-memory edges, vertices made from their ends as in
    /// [`from_edges`](Self::from_edges).
    pub fn from_edge_collection<F>(
        env: &ExecutionEnvironment,
        edges: impl IntoIterator<Item = Edge<K, EV>>,
        init: F,
    ) -> Self
    where
        F: Fn(&K) -> VV + Clone + Send + Sync + 'static,
    {
        Self::from_edges(&env.from_collection(edges), init)
    }

    /// A graph read from CSV files (Flink's `fromCsvReader`): `vertices` rows are `id,value`,
    /// `edges` rows `source,target,value`, fields by position (`options` says whether a
    /// header line is skipped, and the delimiter). A malformed row fails the job that reads
    /// it with an error naming the file, the line and the field.
    pub fn from_csv(
        env: &ExecutionEnvironment,
        vertices: impl AsRef<Path>,
        edges: impl AsRef<Path>,
        options: CsvOptions,
    ) -> Self {
        let v = env.read_csv_with::<(K, VV)>(vertices.as_ref(), options);
        let e = env.read_csv_with::<(K, K, EV)>(edges.as_ref(), options);
        Self::from_tuples(&v, &e)
    }
}

/// The CSV options of LDBC Graphalytics files: no header, fields separated by one space.
fn ldbc_options() -> CsvOptions {
    CsvOptions {
        has_header: false,
        delimiter: b' ',
        trim: false,
    }
}

impl Graph<u64, (), f64> {
    /// A graph read from LDBC Graphalytics files: `vertices` (`.v`) has one id per line,
    /// `edges` (`.e`) `source target` per line, or `source target weight` when `weighted`.
    /// Unweighted edges get weight `1.0`. Edges are kept as the file lists them (one
    /// direction for an undirected graph); the algorithms of [`crate::library`] take the
    /// directedness as a parameter. A malformed line fails the job that reads it with an
    /// error naming the file and line; [`validate`](Graph::validate) finds edges naming
    /// unknown vertices.
    pub fn from_ldbc(
        env: &ExecutionEnvironment,
        vertices: impl AsRef<Path>,
        edges: impl AsRef<Path>,
        weighted: bool,
    ) -> Self {
        let v = env
            .read_csv_with::<(u64,)>(vertices.as_ref(), ldbc_options())
            .map(|(id,)| Vertex::new(id, ()));
        let e = if weighted {
            env.read_csv_with::<(u64, u64, f64)>(edges.as_ref(), ldbc_options())
                .map(|(s, t, w)| Edge::new(s, t, w))
        } else {
            env.read_csv_with::<(u64, u64)>(edges.as_ref(), ldbc_options())
                .map(|(s, t)| Edge::new(s, t, 1.0))
        };
        Graph {
            vertices: v,
            edges: e,
        }
    }
}

impl<VV: Data, EV: Data> Graph<u64, VV, EV> {
    /// A graph of a petgraph graph's nodes and edges: vertex ids are node indices, values
    /// the node and edge weights (the petgraph graph's directedness is not kept: an
    /// undirected petgraph edge becomes one edge, as petgraph stores it).
    ///
    /// ```
    /// use eddy_gelly::Graph;
    /// let mut pg = petgraph::Graph::<&str, u32>::new();
    /// let (a, b) = (pg.add_node("a"), pg.add_node("b"));
    /// pg.add_edge(a, b, 7);
    /// let env = eddy_dataset::ExecutionEnvironment::new();
    /// let graph = Graph::from_petgraph(&env, &pg.map(|_, n| n.to_string(), |_, e| *e));
    /// let back = graph.to_petgraph()?;
    /// assert_eq!(back.node_count(), 2);
    /// assert_eq!(back.edge_weights().copied().collect::<Vec<_>>(), vec![7]);
    /// # Ok::<(), eddy_gelly::Error>(())
    /// ```
    pub fn from_petgraph<Ty: petgraph::EdgeType, Ix: petgraph::graph::IndexType>(
        env: &ExecutionEnvironment,
        graph: &petgraph::Graph<VV, EV, Ty, Ix>,
    ) -> Self {
        let vertices: Vec<_> = graph
            .node_indices()
            .map(|n| Vertex::new(n.index() as u64, graph[n].clone()))
            .collect();
        let edges: Vec<_> = graph
            .edge_indices()
            .filter_map(|e| {
                let (s, t) = graph.edge_endpoints(e)?;
                Some(Edge::new(
                    s.index() as u64,
                    t.index() as u64,
                    graph[e].clone(),
                ))
            })
            .collect();
        Self::from_collection(env, vertices, edges)
    }
}

impl<K: VertexKey, VV: Data, EV: Data> Graph<K, VV, EV> {
    /// Runs a job and builds a directed petgraph graph: one node per vertex, in id order,
    /// weighted by the vertex value; one edge per edge, in `(source, target)` order.
    ///
    /// # Errors
    /// [`Error::InvalidGraph`] if an edge names a vertex the graph lacks;
    /// [`Error::Job`] if the job fails.
    pub fn to_petgraph(&self) -> Result<petgraph::Graph<VV, EV>> {
        let (vertices, edges) = self.collect()?;
        let mut graph = petgraph::Graph::with_capacity(vertices.len(), edges.len());
        let mut index = HashMap::with_capacity(vertices.len());
        for v in vertices {
            let n = graph.add_node(v.value);
            index.insert(v.id, n);
        }
        for e in edges {
            let (Some(&s), Some(&t)) = (index.get(&e.source), index.get(&e.target)) else {
                return Err(Error::InvalidGraph(
                    "an edge names a vertex that the vertex set lacks".into(),
                ));
            };
            graph.add_edge(s, t, e.value);
        }
        Ok(graph)
    }
}

impl<VV: Data, EV: Data> Graph<u64, VV, EV> {
    /// Runs a job and builds an unweighted [`Csr`] of the graph, to run the in-memory
    /// algorithms (HITS, Jaccard, triangles, ...) on it. The CSR keeps the edges as a set
    /// (duplicates once, no self-loops).
    ///
    /// ```
    /// use eddy_gelly::{Edge, Graph, Triangles};
    /// let env = eddy_dataset::ExecutionEnvironment::new();
    /// let edges = vec![Edge::new(1u64, 2u64, ()), Edge::new(2, 3, ()), Edge::new(3, 1, ())];
    /// let csr = Graph::from_edge_collection(&env, edges, |_| ()).to_csr(false)?;
    /// assert_eq!(Triangles::new().run(&csr)?, vec![(1, 2, 3)]);
    /// # Ok::<(), eddy_gelly::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::NotAVertex`] if an edge names a vertex the graph lacks; [`Error::Job`] if the
    /// job fails.
    pub fn to_csr(&self, directed: bool) -> Result<Csr> {
        let (vertices, edges) = self.collect()?;
        Csr::builder(directed)
            .vertices(vertices.into_iter().map(|v| v.id))
            .edges(edges.into_iter().map(|e| (e.source, e.target)))
            .build()
    }

    /// [`to_csr`](Self::to_csr) with each edge weighted by `weight` of its value.
    ///
    /// # Errors
    /// As [`to_csr`](Self::to_csr), and [`Error::InvalidWeight`] for a negative or NaN
    /// weight.
    pub fn to_weighted_csr(&self, directed: bool, weight: impl Fn(&EV) -> f64) -> Result<Csr> {
        let (vertices, edges) = self.collect()?;
        Csr::builder(directed)
            .vertices(vertices.into_iter().map(|v| v.id))
            .weighted_edges(edges.iter().map(|e| (e.source, e.target, weight(&e.value))))
            .build()
    }
}
