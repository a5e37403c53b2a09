//! Eddy Gelly: graphs as DataSets with Flink Gelly's API, and graphs that fit in memory on a
//! compact CSR, with LDBC Graphalytics algorithms on both.
//!
//! # Two paths
//!
//! [`Graph<K, VV, EV>`](Graph) is Flink Gelly's graph: a DataSet of [`Vertex`]es and one of
//! [`Edge`]s, transformed lazily (see [`Graph`] for the methods), iterated with the three
//! models of [`iteration`] (vertex-centric, scatter-gather, gather-sum-apply), and analysed
//! with the LDBC algorithms of [`library`], which run as DataSet jobs:
//!
//! ```
//! use eddy_dataset::ExecutionEnvironment;
//! use eddy_gelly::{library, Edge, EdgeDirection, Graph};
//!
//! let env = ExecutionEnvironment::new();
//! let edges = vec![Edge::new(1u64, 2u64, 1.0), Edge::new(2, 3, 1.0), Edge::new(3, 1, 1.0)];
//! let graph = Graph::from_edge_collection(&env, edges, |_| ());
//! let mut degrees = graph.degrees().collect()?;
//! degrees.sort();
//! assert_eq!(degrees, vec![(1, 2), (2, 2), (3, 2)]);
//! let ranks = library::PageRank::new().iterations(5).run(&graph).collect()?;
//! assert!(ranks.iter().all(|(_, r)| (r - 1.0 / 3.0).abs() < 1e-12));
//! let reversed = graph.reverse().filter_on_edges(|e| e.source != 1);
//! assert_eq!(reversed.reduce_on_edges(EdgeDirection::Out, |a, b| a + b).count()?, 2);
//! # Ok::<(), eddy_gelly::Error>(())
//! ```
//!
//! A [`Csr`] holds a graph whose vertex ids (any `u64`) are relabelled to dense `u32` indices
//! in ascending id order, with out-adjacency, and in-adjacency for directed graphs. Its
//! algorithms run with rayon, on a thread pool of the size you ask for, and follow the LDBC
//! Graphalytics specification exactly. Use it when the graph fits in memory: it runs each iteration as
//! one parallel pass over arrays, where the DataSet path runs DataSet jobs (joins, group
//! reductions), which is what lets that path scale out with the runtime. The
//! `dataset_vs_csr` test checks that both give the same results.
//!
//! # Which CSR algorithm
//!
//! | algorithm | type | result per vertex |
//! |---|---|---|
//! | [`PageRank`] | LDBC PR: pull-based, dangling mass spread evenly, fixed iterations | `f64` score |
//! | [`Cdlp`] | LDBC CDLP: synchronous label propagation, ties to the smallest label | `u64` label |
//! | [`GellyLabelPropagation`] | Flink Gelly's variant: in-neighbours, ties to the larger label, stops early | `u64` label |
//! | [`Wcc`] | weakly connected components, labelled by their smallest vertex id | `u64` label |
//! | [`Bfs`] | breadth-first search depth from a source ([`Bfs::UNREACHED`] if unreached) | `i64` depth |
//! | [`Sssp`] | single-source shortest paths over edge weights (`f64::INFINITY` if unreached) | `f64` distance |
//! | [`Lcc`] | local clustering coefficient (directed variant for directed graphs) | `f64` |
//! | [`Hits`] | Kleinberg's hubs and authorities, L2-normalized, fixed iterations | `(f64, f64)` |
//! | [`CommunityDetection`] | Flink Gelly's label propagation with scores and hop attenuation | `u64` label |
//! | [`Triangles`] | triangle listing, directions ignored | `(a, b, c)` triples |
//! | [`JaccardIndex`], [`AdamicAdar`] | similarity of vertex pairs with a common neighbour | `(u, v, f64)` |
//!
//! # Example
//!
//! ```
//! use eddy_gelly::{Csr, PageRank, Wcc};
//!
//! // A directed triangle 1 -> 2 -> 3 -> 1 and a lone vertex 7.
//! let graph = Csr::builder(true)
//!     .vertices([1, 2, 3, 7])
//!     .edges([(1, 2), (2, 3), (3, 1)])
//!     .build()?;
//! let ranks = PageRank::new().iterations(10).threads(1).run(&graph)?;
//! let total: f64 = ranks.iter().sum();
//! assert!((total - 1.0).abs() < 1e-12);
//!
//! let components = Wcc::new().run(&graph)?;
//! assert_eq!(components, vec![1, 1, 1, 7]); // labels are original vertex ids
//! assert_eq!(graph.vertex_id(3), 7); // results are indexed by dense index
//! # Ok::<(), eddy_gelly::Error>(())
//! ```
//!
//! Graphs load from LDBC `.v`/`.e` files with [`Csr::load_ldbc`] (streamed, two passes, no
//! memory beyond the graph), come from an edge list with [`Csr::builder`] or a [`generator`], convert to and from
//! `petgraph` with [`Csr::to_petgraph`] and [`Csr::from_petgraph`], and synthetic Graph500
//! graphs come from [`Kronecker`]. [`VertexOrder::Degree`] relabels hubs first, which speeds
//! up the pull kernels on skewed graphs without changing any result.
//!
//! The `graphalytics` example binary (`examples/src/bin/graphalytics.rs`) is the LDBC
//! Graphalytics driver built on this crate; `gelly_bench` and
//! `benches/scripts/gelly_vs_networkit.sh` compare it with NetworKit.
//!
//! # Errors
//!
//! One [`Error`] enum for the crate. Input errors name the file and line
//! (`graph.e:12: edge names unknown vertex 99`); no input makes the crate panic.
//!
//! # Graph model
//!
//! A [`Graph`] keeps what it is given: duplicate edges, self-loops, edges naming unknown
//! vertices ([`Graph::validate`] finds those). The [`library`] algorithms, like the CSR,
//! follow the Graphalytics specification: there, the edges of a graph form a set: a duplicate edge is
//! stored once (for weighted graphs, the smallest weight is kept) and self-loops are dropped,
//! so every algorithm sees a simple graph. An undirected graph stores every edge in both
//! directions. Vertex ids are any `u64`; up to `u32::MAX - 1` vertices.

mod algorithm;
mod csr;
mod error;
pub mod generator;
mod graph;
pub mod iteration;
pub mod library;
mod parallel;
mod petgraph_conv;

pub use algorithm::bfs::Bfs;
pub use algorithm::cdlp::Cdlp;
pub use algorithm::community::CommunityDetection;
pub use algorithm::hits::Hits;
pub use algorithm::label_propagation::GellyLabelPropagation;
pub use algorithm::lcc::Lcc;
pub use algorithm::pagerank::PageRank;
pub use algorithm::similarity::{AdamicAdar, JaccardIndex};
pub use algorithm::sssp::Sssp;
pub use algorithm::triangles::Triangles;
pub use algorithm::wcc::Wcc;
pub use csr::builder::Builder;
pub use csr::load::LoadOptions;
pub use csr::order::VertexOrder;
pub use csr::Csr;
pub use error::{Error, Result};
pub use generator::kronecker::Kronecker;
pub use graph::{Edge, EdgeDirection, Graph, Neighbor, Vertex, VertexKey};
