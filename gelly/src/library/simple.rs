//! The simple graph the LDBC algorithms see: no self-loops, each edge once, both directions
//! of each edge when the graph is undirected.

use eddy_runtime::Data;

use crate::graph::{Edge, Graph, VertexKey};

/// `graph` without self-loops and duplicate edges (`pick` chooses between duplicates' values),
/// with each edge in both directions if `directed` is false.
pub(crate) fn simple<K: VertexKey, VV: Data, EV: Data>(
    graph: &Graph<K, VV, EV>,
    directed: bool,
    pick: impl FnMut(EV, EV) -> EV + Clone + Send + Sync + 'static,
) -> Graph<K, VV, EV> {
    let mut pick = pick;
    let edges = graph
        .edges()
        .flat_map(move |e: Edge<K, EV>| {
            if e.source == e.target {
                Vec::new()
            } else if directed {
                vec![e]
            } else {
                let reversed = e.clone().reversed();
                vec![e, reversed]
            }
        })
        .group_by(|e: &Edge<K, EV>| (e.source.clone(), e.target.clone()))
        .reduce(move |a, b| {
            let value = pick(a.value, b.value);
            Edge::new(a.source, a.target, value)
        });
    Graph::from_data_set(graph.vertices(), &edges)
}
