//! The crate's one error type.

use std::path::PathBuf;

/// A `Result` whose error is this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in `eddy-gelly`, by cause.
///
/// Errors about input files name the file and the 1-based line, so that a binary can print
/// them as one line: `graph.e:12: edge names unknown vertex 99`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be opened or read (the cause is the error's `source`).
    #[error("cannot read {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A line of an input file does not have the expected shape.
    #[error("{}:{line}: malformed line: {problem}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// The 1-based line number.
        line: u64,
        /// What is wrong with the line.
        problem: String,
    },
    /// An edge line names a vertex that the vertex file does not list.
    #[error("{}:{line}: edge names unknown vertex {vertex}", path.display())]
    UnknownVertex {
        /// The edge file.
        path: PathBuf,
        /// The 1-based line number.
        line: u64,
        /// The vertex id that is not in the vertex file.
        vertex: u64,
    },
    /// A vertex file lists the same vertex twice.
    #[error("{}:{line}: duplicate vertex {vertex}", path.display())]
    DuplicateVertex {
        /// The vertex file.
        path: PathBuf,
        /// The 1-based line number of the second occurrence.
        line: u64,
        /// The repeated vertex id.
        vertex: u64,
    },
    /// A vertex id given in memory (an edge end, a source vertex) is not a vertex of the graph.
    #[error("vertex {vertex} is not a vertex of the graph")]
    NotAVertex {
        /// The vertex id.
        vertex: u64,
    },
    /// The same vertex id was given twice to a builder.
    #[error("vertex {vertex} is listed twice")]
    RepeatedVertex {
        /// The vertex id.
        vertex: u64,
    },
    /// An edge weight is negative or not a number.
    #[error("edge {src} -> {dst} has weight {weight}; weights must be non-negative numbers")]
    InvalidWeight {
        /// Source vertex id.
        src: u64,
        /// Destination vertex id.
        dst: u64,
        /// The offending weight.
        weight: f64,
    },
    /// Some edges have weights and others do not.
    #[error("some edges have weights and others do not")]
    MixedWeights,
    /// The graph has more vertices than dense `u32` indices can hold.
    #[error("{count} vertices do not fit in u32 indices")]
    TooManyVertices {
        /// The number of vertices.
        count: u64,
    },
    /// An algorithm parameter is out of range or missing.
    #[error("invalid parameter {name}: {problem}")]
    InvalidParameter {
        /// The parameter's name.
        name: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// An algorithm needs edge weights and the graph has none.
    #[error("{algorithm} needs a weighted graph")]
    Unweighted {
        /// The algorithm's name.
        algorithm: &'static str,
    },
    /// A petgraph conversion was asked for the wrong directedness.
    #[error("the graph is {actual}, the petgraph type is not")]
    Directedness {
        /// `"directed"` or `"undirected"`: what the CSR graph is.
        actual: &'static str,
    },
    /// The rayon thread pool could not be built.
    #[error("cannot start a thread pool: {0}")]
    ThreadPool(#[from] rayon::ThreadPoolBuildError),
    /// A DataSet job of a [`Graph`](crate::Graph) failed (an unreadable or malformed input
    /// file, naming file and line; a user function that panicked, naming the operator).
    #[error(transparent)]
    Job(#[from] eddy_runtime::Error),
    /// A [`Graph`](crate::Graph) is not valid for what was asked (an edge names a vertex the
    /// vertex set lacks).
    #[error("invalid graph: {0}")]
    InvalidGraph(String),
    /// A bug in this crate.
    #[error("internal error: {0}")]
    Internal(String),
}
