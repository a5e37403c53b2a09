//! LDBC Graphalytics algorithms on the DataSet path: each runs on a [`Graph`](crate::Graph)
//! through one of the [`iteration`](crate::iteration) models, as DataSet jobs, and gives the
//! same results as the in-memory CSR algorithms of the crate root ([`crate::PageRank`] and
//! friends), which the `dataset_vs_csr` test checks.
//!
//! | algorithm | model | result per vertex |
//! |---|---|---|
//! | [`PageRank`] | vertex-centric, all active, aggregator for vertex count and dangling mass | `f64` |
//! | [`Cdlp`] | vertex-centric, all active, fixed rounds | label `K` |
//! | [`Wcc`] | gather-sum-apply over all edges | label `K` (smallest id) |
//! | [`Bfs`] | scatter-gather | `i64` depth, [`crate::Bfs::UNREACHED`] if unreached |
//! | [`Sssp`] | scatter-gather over `f64` weights | `f64`, infinity if unreached |
//! | [`TriangleListing`] | group and join (no iteration) | `(a, b, c)` triples, not per vertex |
//!
//! As the specification says, the graph is simple: self-loops are ignored and duplicate
//! edges count once (the lightest, for SSSP). Each algorithm is told whether the graph is
//! directed; an undirected graph lists each edge once, in either direction.
//!
//! ```
//! use eddy_gelly::{library, Edge, Graph};
//! let env = eddy_dataset::ExecutionEnvironment::new();
//! let edges = vec![Edge::new(1u64, 2u64, 1.0), Edge::new(2, 3, 1.0), Edge::new(5, 6, 1.0)];
//! let graph = Graph::from_edge_collection(&env, edges, |_| ());
//! let mut components = library::Wcc::new().directed(false).run(&graph).collect()?;
//! components.sort();
//! assert_eq!(components, vec![(1, 1), (2, 1), (3, 1), (5, 5), (6, 5)]);
//! # Ok::<(), eddy_gelly::Error>(())
//! ```

mod bfs;
mod cdlp;
mod pagerank;
mod simple;
mod sssp;
mod triangles;
mod wcc;

pub use bfs::Bfs;
pub use cdlp::Cdlp;
pub use pagerank::PageRank;
pub use sssp::Sssp;
pub use triangles::TriangleListing;
pub use wcc::Wcc;
