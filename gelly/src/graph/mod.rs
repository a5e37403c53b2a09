//! [`Graph`]: a graph as two DataSets, one of [`Vertex`]es and one of [`Edge`]s, with Flink
//! Gelly's transformations. Everything is lazy: each method adds DataSet operators to the
//! environment's plan, and a job runs only when a result is collected or counted.
//!
//! ```
//! use eddy_dataset::ExecutionEnvironment;
//! use eddy_gelly::{Edge, EdgeDirection, Graph, Vertex};
//!
//! let env = ExecutionEnvironment::new();
//! env.set_parallelism(2);
//! let graph = Graph::from_collection(
//!     &env,
//!     vec![Vertex::new(1u64, 10u32), Vertex::new(2, 20), Vertex::new(3, 30)],
//!     vec![Edge::new(1, 2, 0.5f64), Edge::new(1, 3, 1.5), Edge::new(2, 3, 2.0)],
//! );
//! // The sum of the values of each vertex's out-neighbours.
//! let mut sums = graph.reduce_on_neighbors(EdgeDirection::Out, |a, b| a + b).collect()?;
//! sums.sort();
//! assert_eq!(sums, vec![(1, 50), (2, 30)]);
//! let heavy = graph.filter_on_edges(|e| e.value > 1.0);
//! assert_eq!(heavy.number_of_edges()?, 2);
//! # Ok::<(), eddy_gelly::Error>(())
//! ```
//!
//! Files: [`from_csv`](Graph::from_csv) (rows by position), and
//! [`from_ldbc`](Graph::from_ldbc) for LDBC Graphalytics `.v`/`.e` files; `petgraph` graphs
//! convert both ways ([`from_petgraph`](Graph::from_petgraph),
//! [`to_petgraph`](Graph::to_petgraph)). Iterative computations on a graph are in
//! [`crate::iteration`].

mod create;
mod degree;
mod join;
mod neighborhood;
mod set_ops;
mod summarize;
mod transform;

use eddy_dataset::key::JoinKey;
use eddy_dataset::{DataSet, ExecutionEnvironment};
use eddy_runtime::{Data, Key};
use serde::{Deserialize, Serialize};

use crate::error::Result;

/// What a vertex id must be: a key that hashes, compares, orders and joins (all integers,
/// `String`, `char`, tuples of those).
pub trait VertexKey: Key + JoinKey + Ord + Sync {}

impl<T: Key + JoinKey + Ord + Sync> VertexKey for T {}

/// A vertex: its id and its value (`()` for none, Flink's `NullValue`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Vertex<K, VV> {
    /// The vertex id, unique in a valid graph.
    pub id: K,
    /// The vertex value.
    pub value: VV,
}

impl<K, VV> Vertex<K, VV> {
    /// A vertex with this id and value.
    pub fn new(id: K, value: VV) -> Self {
        Vertex { id, value }
    }
}

/// A directed edge from `source` to `target` with a value (`()` for none).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Edge<K, EV> {
    /// The id of the vertex the edge leaves.
    pub source: K,
    /// The id of the vertex the edge enters.
    pub target: K,
    /// The edge value (a weight, a label).
    pub value: EV,
}

impl<K, EV> Edge<K, EV> {
    /// An edge from `source` to `target`.
    pub fn new(source: K, target: K, value: EV) -> Self {
        Edge {
            source,
            target,
            value,
        }
    }

    /// The same edge the other way round.
    pub fn reversed(self) -> Self {
        Edge {
            source: self.target,
            target: self.source,
            value: self.value,
        }
    }
}

/// A vertex id, one of its edges, and the neighbour at the edge's other end (see
/// [`Graph::neighbors`]).
pub type Neighbor<K, VV, EV> = (K, Edge<K, EV>, Vertex<K, VV>);

/// Which edges of a vertex a neighbourhood method or an iteration looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EdgeDirection {
    /// Edges entering the vertex: its in-neighbours are their sources.
    In,
    /// Edges leaving the vertex: its out-neighbours are their targets.
    Out,
    /// Both.
    All,
}

impl EdgeDirection {
    /// The opposite direction (`All` stays `All`).
    pub fn reversed(self) -> Self {
        match self {
            EdgeDirection::In => EdgeDirection::Out,
            EdgeDirection::Out => EdgeDirection::In,
            EdgeDirection::All => EdgeDirection::All,
        }
    }
}

/// A graph of vertices with ids `K` and values `VV`, and edges with values `EV`, held as two
/// DataSets (Flink Gelly's `Graph`). Cloning is cheap (handles on the same plan).
///
/// A graph is *valid* when every edge's ends are ids of its vertices and ids are unique
/// ([`validate`](Self::validate) checks the first); methods that join edges with vertices
/// assume it.
pub struct Graph<K, VV, EV> {
    vertices: DataSet<Vertex<K, VV>>,
    edges: DataSet<Edge<K, EV>>,
}

impl<K, VV, EV> Clone for Graph<K, VV, EV> {
    fn clone(&self) -> Self {
        Graph {
            vertices: self.vertices.clone(),
            edges: self.edges.clone(),
        }
    }
}

impl<K: VertexKey, VV: Data, EV: Data> Graph<K, VV, EV> {
    /// The graph's vertices.
    pub fn vertices(&self) -> &DataSet<Vertex<K, VV>> {
        &self.vertices
    }

    /// The graph's edges.
    pub fn edges(&self) -> &DataSet<Edge<K, EV>> {
        &self.edges
    }

    /// The environment the graph's data sets belong to.
    pub fn environment(&self) -> &ExecutionEnvironment {
        self.vertices.environment()
    }

    /// The vertex ids.
    pub fn vertex_ids(&self) -> DataSet<K> {
        self.vertices.map(|v: Vertex<K, VV>| v.id)
    }

    /// The `(source, target)` pairs of the edges.
    pub fn edge_ids(&self) -> DataSet<(K, K)> {
        self.edges.map(|e: Edge<K, EV>| (e.source, e.target))
    }

    /// Runs a job counting the vertices.
    ///
    /// # Errors
    /// [`Error::Job`](crate::Error::Job) if the job fails (an unreadable input file).
    pub fn number_of_vertices(&self) -> Result<u64> {
        Ok(self.vertices.count()?)
    }

    /// Runs a job counting the edges.
    ///
    /// # Errors
    /// As [`number_of_vertices`](Self::number_of_vertices).
    pub fn number_of_edges(&self) -> Result<u64> {
        Ok(self.edges.count()?)
    }

    /// Runs a job checking that every edge's source and target are vertex ids (Flink's
    /// `InvalidVertexIdsValidator`): `Ok(false)` if one is not.
    ///
    /// ```
    /// use eddy_gelly::{Edge, Graph, Vertex};
    /// let env = eddy_dataset::ExecutionEnvironment::new();
    /// let graph = Graph::from_collection(&env, vec![Vertex::new(1u64, ())], vec![Edge::new(1, 9, ())]);
    /// assert!(!graph.validate()?);
    /// # Ok::<(), eddy_gelly::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`number_of_vertices`](Self::number_of_vertices).
    pub fn validate(&self) -> Result<bool> {
        let ends = self
            .edges
            .flat_map(|e: Edge<K, EV>| [e.source, e.target])
            .distinct_by(|k: &K| k.clone());
        let unknown = ends
            .co_group(&self.vertex_ids())
            .where_key(|k: &K| k.clone())
            .equal_to(|k: &K| k.clone())
            .with(
                |ends: Vec<K>, ids: Vec<K>| {
                    if ids.is_empty() {
                        ends
                    } else {
                        Vec::new()
                    }
                },
            );
        Ok(unknown.count()? == 0)
    }

    /// Runs a job and returns the graph's vertices and edges, vertices sorted by id and
    /// edges by `(source, target)`.
    ///
    /// # Errors
    /// As [`number_of_vertices`](Self::number_of_vertices).
    #[allow(clippy::type_complexity)]
    pub fn collect(&self) -> Result<(Vec<Vertex<K, VV>>, Vec<Edge<K, EV>>)> {
        let mut vertices = self.vertices.collect()?;
        vertices.sort_by(|a, b| a.id.cmp(&b.id));
        let mut edges = self.edges.collect()?;
        edges.sort_by(|a, b| (&a.source, &a.target).cmp(&(&b.source, &b.target)));
        Ok((vertices, edges))
    }
}
