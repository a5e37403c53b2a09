//! Regular graph generators (Flink Gelly's `CompleteGraph`, `StarGraph`, `PathGraph`,
//! `CycleGraph`, `GridGraph`): undirected graphs on vertices `0..n`.

use eddy_dataset::ExecutionEnvironment;

use crate::csr::Csr;
use crate::error::Result;
use crate::graph::{Edge, Graph, Vertex};

/// A generated undirected graph: vertices `0..vertices`, each edge once as `(a, b)` with
/// `a < b`, sorted.
///
/// ```
/// use eddy_gelly::generator;
/// let cycle = generator::cycle(4);
/// assert_eq!(cycle.edges, vec![(0, 1), (0, 3), (1, 2), (2, 3)]);
/// let csr = cycle.csr()?;
/// assert_eq!(csr.num_edges(), 4);
/// # Ok::<(), eddy_gelly::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    /// The number of vertices; ids are `0..vertices`.
    pub vertices: u64,
    /// The edges, each once, smaller id first, sorted.
    pub edges: Vec<(u64, u64)>,
}

impl Generated {
    fn new(vertices: u64, mut edges: Vec<(u64, u64)>) -> Self {
        for e in &mut edges {
            if e.0 > e.1 {
                *e = (e.1, e.0);
            }
        }
        edges.sort_unstable();
        edges.dedup();
        Generated { vertices, edges }
    }

    /// An undirected [`Csr`] of the graph.
    ///
    /// # Errors
    ///
    /// As [`Builder::build`](crate::Builder::build) (more than `u32::MAX - 1` vertices).
    pub fn csr(&self) -> Result<Csr> {
        Csr::builder(false)
            .vertices(0..self.vertices)
            .edges(self.edges.iter().copied())
            .build()
    }

    /// A [`Graph`] of the graph, every edge in both directions as Flink's generators emit
    /// them.
    pub fn graph(&self, env: &ExecutionEnvironment) -> Graph<u64, (), ()> {
        let vertices = (0..self.vertices).map(|v| Vertex::new(v, ()));
        let edges: Vec<_> = self
            .edges
            .iter()
            .flat_map(|&(a, b)| [Edge::new(a, b, ()), Edge::new(b, a, ())])
            .collect();
        Graph::from_collection(env, vertices, edges)
    }
}

/// Every pair of the `n` vertices joined.
pub fn complete(n: u64) -> Generated {
    Generated::new(
        n,
        (0..n)
            .flat_map(|a| (a + 1..n).map(move |b| (a, b)))
            .collect(),
    )
}

/// Vertex 0 joined to each of the other `n - 1`.
pub fn star(n: u64) -> Generated {
    Generated::new(n, (1..n).map(|b| (0, b)).collect())
}

/// `0 - 1 - ... - (n - 1)`.
pub fn path(n: u64) -> Generated {
    grid(&[(n, false)])
}

/// A path closed into a ring (for `n > 2`).
pub fn cycle(n: u64) -> Generated {
    grid(&[(n, true)])
}

/// A grid with one dimension per `(size, wrap)`: vertex ids number the cells with the first
/// dimension varying fastest; cells one step apart in one dimension are joined, and with
/// `wrap` the ends of that dimension too (when its size is above 2).
///
/// ```
/// use eddy_gelly::generator;
/// // A 2 x 3 grid: 0 1 / 2 3 / 4 5.
/// let g = generator::grid(&[(2, false), (3, false)]);
/// assert_eq!(g.edges, vec![(0, 1), (0, 2), (1, 3), (2, 3), (2, 4), (3, 5), (4, 5)]);
/// ```
pub fn grid(dimensions: &[(u64, bool)]) -> Generated {
    let n: u64 = dimensions.iter().map(|d| d.0).product();
    let mut edges = Vec::new();
    let mut stride = 1;
    for &(size, wrap) in dimensions {
        for v in 0..n {
            let coordinate = (v / stride) % size;
            if coordinate + 1 < size {
                edges.push((v, v + stride));
            } else if wrap && size > 2 {
                edges.push((v, v - coordinate * stride));
            }
        }
        stride *= size;
    }
    Generated::new(n, edges)
}
