//! Neighbourhood methods of a [`Graph`]: reductions over each vertex's edges or neighbour
//! values, and group reductions that see a vertex with all its edges and neighbours.
//!
//! Which one to use: `reduce_on_*` fold with an associative, commutative function (a
//! combiner runs before the exchange) and emit one `(id, value)` per vertex that has edges in
//! the direction; `group_reduce_on_*` call a function once per vertex with everything at
//! once, vertices without edges included, and emit what it returns.

use eddy_dataset::DataSet;
use eddy_runtime::Data;

use super::{Edge, EdgeDirection, Graph, Neighbor, Vertex, VertexKey};

impl<K: VertexKey, VV: Data, EV: Data> Graph<K, VV, EV> {
    /// `(vertex, edge)` pairs: each edge paired with the vertex it counts for in `direction`
    /// (its source for `Out`, its target for `In`, both for `All`).
    pub(crate) fn keyed_edges(&self, direction: EdgeDirection) -> DataSet<(K, Edge<K, EV>)> {
        self.edges.flat_map(move |e: Edge<K, EV>| match direction {
            EdgeDirection::Out => vec![(e.source.clone(), e)],
            EdgeDirection::In => vec![(e.target.clone(), e)],
            EdgeDirection::All => vec![(e.source.clone(), e.clone()), (e.target.clone(), e)],
        })
    }

    /// `(vertex, edge, neighbour)` triples: for `Out` the neighbour is the edge's target,
    /// for `In` its source, for `All` both (one triple each).
    pub fn neighbors(&self, direction: EdgeDirection) -> DataSet<Neighbor<K, VV, EV>> {
        self.keyed_edges(direction)
            .join(&self.vertices)
            .where_key(|(k, e): &(K, Edge<K, EV>)| {
                if *k == e.source {
                    e.target.clone()
                } else {
                    e.source.clone()
                }
            })
            .equal_to(|v: &Vertex<K, VV>| v.id.clone())
            .with(|(k, e), v| (k, e, v))
    }

    /// `(id, fold of the values of its edges in direction)` per vertex with such edges
    /// (Flink's `reduceOnEdges`).
    ///
    /// ```
    /// use eddy_gelly::{Edge, EdgeDirection, Graph};
    /// let env = eddy_dataset::ExecutionEnvironment::new();
    /// let edges = vec![Edge::new(1u64, 2u64, 5u32), Edge::new(1, 3, 2), Edge::new(2, 3, 9)];
    /// let graph = Graph::from_edge_collection(&env, edges, |_| ());
    /// let mut lightest = graph.reduce_on_edges(EdgeDirection::In, |a: u32, b| a.min(b)).collect()?;
    /// lightest.sort();
    /// assert_eq!(lightest, vec![(2, 5), (3, 2)]);
    /// # Ok::<(), eddy_gelly::Error>(())
    /// ```
    pub fn reduce_on_edges<F>(&self, direction: EdgeDirection, mut f: F) -> DataSet<(K, EV)>
    where
        F: FnMut(EV, EV) -> EV + Clone + Send + Sync + 'static,
    {
        self.keyed_edges(direction)
            .map(|(k, e)| (k, e.value))
            .group_by(|p: &(K, EV)| p.0.clone())
            .reduce(move |a, b| (a.0, f(a.1, b.1)))
    }

    /// `(id, fold of its neighbours' values in direction)` per vertex with such neighbours
    /// (Flink's `reduceOnNeighbors`).
    pub fn reduce_on_neighbors<F>(&self, direction: EdgeDirection, mut f: F) -> DataSet<(K, VV)>
    where
        F: FnMut(VV, VV) -> VV + Clone + Send + Sync + 'static,
    {
        self.neighbors(direction)
            .map(|(k, _, v)| (k, v.value))
            .group_by(|p: &(K, VV)| p.0.clone())
            .reduce(move |a, b| (a.0, f(a.1, b.1)))
    }

    /// One call of `f` per vertex with its `(edge, neighbour)` pairs in direction (empty for
    /// a vertex without any), emitting what `f` returns (Flink's `groupReduceOnNeighbors`
    /// with the vertex value).
    ///
    /// ```
    /// use eddy_gelly::{Edge, EdgeDirection, Graph};
    /// let env = eddy_dataset::ExecutionEnvironment::new();
    /// let graph = Graph::from_edge_collection(&env, vec![Edge::new(1u64, 2u64, ()), Edge::new(3, 2, ())], |id| *id);
    /// let mut sums = graph
    ///     .group_reduce_on_neighbors(EdgeDirection::All, |v, pairs| {
    ///         Some((v.id, pairs.iter().map(|(_, n)| n.value).sum::<u64>()))
    ///     })
    ///     .collect()?;
    /// sums.sort();
    /// assert_eq!(sums, vec![(1, 2), (2, 4), (3, 2)]);
    /// # Ok::<(), eddy_gelly::Error>(())
    /// ```
    pub fn group_reduce_on_neighbors<O: Data, I, F>(
        &self,
        direction: EdgeDirection,
        mut f: F,
    ) -> DataSet<O>
    where
        I: IntoIterator<Item = O>,
        F: FnMut(&Vertex<K, VV>, Vec<(Edge<K, EV>, Vertex<K, VV>)>) -> I
            + Clone
            + Send
            + Sync
            + 'static,
    {
        self.vertices
            .co_group(&self.neighbors(direction))
            .where_key(|v: &Vertex<K, VV>| v.id.clone())
            .equal_to(|t: &Neighbor<K, VV, EV>| t.0.clone())
            .with(
                move |vertices: Vec<Vertex<K, VV>>, triples: Vec<Neighbor<K, VV, EV>>| {
                    let pairs: Vec<_> = triples.into_iter().map(|(_, e, n)| (e, n)).collect();
                    let mut out = Vec::new();
                    if let Some(v) = vertices.first() {
                        out.extend(f(v, pairs));
                    }
                    out
                },
            )
    }

    /// One call of `f` per vertex with its edges in direction (empty for a vertex without
    /// any), emitting what `f` returns (Flink's `groupReduceOnEdges` with the vertex value).
    pub fn group_reduce_on_edges<O: Data, I, F>(
        &self,
        direction: EdgeDirection,
        mut f: F,
    ) -> DataSet<O>
    where
        I: IntoIterator<Item = O>,
        F: FnMut(&Vertex<K, VV>, Vec<Edge<K, EV>>) -> I + Clone + Send + Sync + 'static,
    {
        self.vertices
            .co_group(&self.keyed_edges(direction))
            .where_key(|v: &Vertex<K, VV>| v.id.clone())
            .equal_to(|p: &(K, Edge<K, EV>)| p.0.clone())
            .with(
                move |vertices: Vec<Vertex<K, VV>>, edges: Vec<(K, Edge<K, EV>)>| {
                    let edges: Vec<_> = edges.into_iter().map(|(_, e)| e).collect();
                    let mut out = Vec::new();
                    if let Some(v) = vertices.first() {
                        out.extend(f(v, edges));
                    }
                    out
                },
            )
    }
}
