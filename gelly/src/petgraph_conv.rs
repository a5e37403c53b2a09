//! Conversion to and from `petgraph::Graph`.

use petgraph::graph::{Graph, NodeIndex};
use petgraph::EdgeType;

use crate::csr::Csr;
use crate::error::{Error, Result};

impl Csr {
    /// Converts to a `petgraph::Graph` whose node `i` is dense vertex `i`, weighted by its
    /// original id, and whose edge weights are the edge weights (`None` if unweighted). An
    /// undirected graph gives each edge once. `Ty` must match the graph's directedness.
    ///
    /// ```
    /// use eddy_gelly::Csr;
    /// use petgraph::{Directed, Graph};
    ///
    /// let g = Csr::builder(true).weighted_edges([(7, 9, 2.5)]).build()?;
    /// let p: Graph<u64, Option<f64>, Directed> = g.to_petgraph()?;
    /// assert_eq!((p.node_count(), p.edge_count()), (2, 1));
    /// let back = Csr::from_petgraph(&p, |w| *w)?;
    /// assert_eq!(back.edges().collect::<Vec<_>>(), g.edges().collect::<Vec<_>>());
    /// # Ok::<(), eddy_gelly::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Directedness`] if `Ty` does not match.
    pub fn to_petgraph<Ty: EdgeType>(&self) -> Result<Graph<u64, Option<f64>, Ty>> {
        if Ty::is_directed() != self.is_directed() {
            let actual = if self.is_directed() {
                "directed"
            } else {
                "undirected"
            };
            return Err(Error::Directedness { actual });
        }
        let mut graph = Graph::with_capacity(self.num_vertices(), self.num_edges());
        for id in self.vertex_ids() {
            graph.add_node(id);
        }
        for (s, d, w) in self.edges() {
            graph.add_edge(NodeIndex::new(s as usize), NodeIndex::new(d as usize), w);
        }
        Ok(graph)
    }

    /// Converts from a `petgraph::Graph` whose node weights are vertex ids; `weight` gives an
    /// edge's weight, or `None` for an unweighted graph (a graph without edges converts as
    /// unweighted). Directedness follows `Ty`.
    ///
    /// # Errors
    ///
    /// [`Error::RepeatedVertex`] if two nodes have the same id, [`Error::MixedWeights`] if
    /// `weight` returns `Some` for some edges only, and the [`Builder`](crate::Builder) errors.
    pub fn from_petgraph<N, E, Ty: EdgeType>(
        graph: &Graph<N, E, Ty>,
        weight: impl Fn(&E) -> Option<f64>,
    ) -> Result<Csr>
    where
        N: Copy + Into<u64>,
    {
        let id = |n: NodeIndex| graph[n].into();
        let builder = Csr::builder(Ty::is_directed()).vertices(graph.node_indices().map(id));
        let mut weighted = Vec::new();
        let mut unweighted = Vec::new();
        for e in graph.edge_indices() {
            let (s, d) = graph
                .edge_endpoints(e)
                .ok_or(Error::Internal("dangling edge".into()))?;
            match weight(&graph[e]) {
                Some(w) => weighted.push((id(s), id(d), w)),
                None => unweighted.push((id(s), id(d))),
            }
        }
        match weighted.is_empty() {
            true => builder.edges(unweighted).build(),
            false => builder.edges(unweighted).weighted_edges(weighted).build(),
        }
    }
}
