//! Triangle listing on the DataSet path (Flink Gelly's `TriangleEnumerator`).

use eddy_dataset::DataSet;
use eddy_runtime::Data;

use crate::graph::{Edge, Graph, VertexKey};

/// Lists the triangles of a graph's underlying undirected simple graph (edge directions
/// ignored, self-loops and duplicates dropped), each once as `(a, b, c)` with `a < b < c`,
/// as [`crate::Triangles`] does on the CSR.
///
/// # Algorithm
/// As Flink's: every edge is kept once as `(low, high)`; grouped by `low`, each pair of its
/// higher neighbours `b < c` makes a triad `(low, b, c)`, and a join with the edges on
/// `(b, c)` keeps the triads that close.
///
/// ```
/// use eddy_gelly::{library::TriangleListing, Edge, Graph};
/// let env = eddy_dataset::ExecutionEnvironment::new();
/// let edges = vec![Edge::new(1u64, 2u64, ()), Edge::new(3, 2, ()), Edge::new(1, 3, ()), Edge::new(3, 4, ())];
/// let graph = Graph::from_edge_collection(&env, edges, |_| ());
/// assert_eq!(TriangleListing::new().run(&graph).collect()?, vec![(1, 2, 3)]);
/// # Ok::<(), eddy_gelly::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct TriangleListing;

impl TriangleListing {
    /// The triangle listing.
    pub fn new() -> Self {
        TriangleListing
    }

    /// The triangles, as id triples (in no particular order across partitions).
    pub fn run<K: VertexKey, VV: Data, EV: Data>(
        &self,
        graph: &Graph<K, VV, EV>,
    ) -> DataSet<(K, K, K)> {
        let edges = graph
            .edges()
            .flat_map(|e: Edge<K, EV>| match e.source.cmp(&e.target) {
                std::cmp::Ordering::Less => Some((e.source, e.target)),
                std::cmp::Ordering::Greater => Some((e.target, e.source)),
                std::cmp::Ordering::Equal => None,
            })
            .distinct_by(|p: &(K, K)| p.clone());
        let triads = edges
            .group_by(|p: &(K, K)| p.0.clone())
            .reduce_group(|group: Vec<(K, K)>| {
                let mut higher: Vec<K> = group.iter().map(|p| p.1.clone()).collect();
                higher.sort();
                let mut out = Vec::new();
                if let Some(low) = group.first().map(|p| p.0.clone()) {
                    for (i, b) in higher.iter().enumerate() {
                        for c in &higher[i + 1..] {
                            out.push((low.clone(), b.clone(), c.clone()));
                        }
                    }
                }
                out
            });
        triads
            .join(&edges)
            .where_key(|t: &(K, K, K)| (t.1.clone(), t.2.clone()))
            .equal_to(|p: &(K, K)| p.clone())
            .with(|t, _| t)
    }
}
