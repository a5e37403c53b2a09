//! [`Config`]: the options every iteration model shares (supersteps, edge direction,
//! aggregator, broadcast set).

use std::sync::Arc;

use eddy_dataset::DataSet;
use eddy_runtime::Data;

use crate::graph::EdgeDirection;

/// Folds two partial aggregates into one.
pub(crate) type Aggregator<A> = Arc<dyn Fn(A, A) -> A + Send + Sync>;

/// The options of an iteration: how many supersteps at most, which edges a vertex sees, an
/// aggregator `A` folded over all vertices each superstep (readable in the next), and a
/// broadcast set `B` readable by every vertex.
///
/// ```
/// use eddy_gelly::{iteration::Config, EdgeDirection};
/// let config = Config::new(10)
///     .direction(EdgeDirection::All)
///     .aggregator(|a: u64, b: u64| a + b);
/// assert_eq!(config.max_iterations(), 10);
/// ```
pub struct Config<A = (), B = ()> {
    pub(crate) max_iterations: u32,
    pub(crate) direction: EdgeDirection,
    pub(crate) all_active: bool,
    pub(crate) aggregator: Option<Aggregator<A>>,
    pub(crate) broadcast: Option<DataSet<B>>,
}

impl<A, B> Clone for Config<A, B> {
    fn clone(&self) -> Self {
        Config {
            max_iterations: self.max_iterations,
            direction: self.direction,
            all_active: self.all_active,
            aggregator: self.aggregator.clone(),
            broadcast: self.broadcast.clone(),
        }
    }
}

impl Config {
    /// At most `max_iterations` iterations, along out-edges, no aggregator, no broadcast set.
    pub fn new(max_iterations: u32) -> Self {
        Config {
            max_iterations,
            direction: EdgeDirection::Out,
            all_active: false,
            aggregator: None,
            broadcast: None,
        }
    }
}

impl<A: Data, B: Data> Config<A, B> {
    /// The maximum number of iterations.
    pub fn max_iterations(&self) -> u32 {
        self.max_iterations
    }

    /// Which edges a vertex sees: for vertex-centric and scatter-gather, the edges it sends
    /// along (default `Out`: messages go from source to target); for gather-sum-apply, the
    /// neighbours it gathers from (default `Out`: a vertex gathers its out-neighbours'
    /// values), as in Flink.
    pub fn direction(mut self, direction: EdgeDirection) -> Self {
        self.direction = direction;
        self
    }

    /// Vertex-centric only: every vertex computes in every superstep, not only those that
    /// received messages, and the iteration runs all `max_iterations` supersteps (for
    /// algorithms with a fixed number of rounds, such as PageRank). Default: false.
    pub fn all_active(mut self, all_active: bool) -> Self {
        self.all_active = all_active;
        self
    }

    /// Folds the values vertices pass to
    /// [`Context::aggregate`](super::Context::aggregate) in a superstep with `f`
    /// (associative and commutative); the result is
    /// [`Context::previous_aggregate`](super::Context::previous_aggregate) in the next.
    pub fn aggregator<A2: Data>(
        self,
        f: impl Fn(A2, A2) -> A2 + Send + Sync + 'static,
    ) -> Config<A2, B> {
        Config {
            max_iterations: self.max_iterations,
            direction: self.direction,
            all_active: self.all_active,
            aggregator: Some(Arc::new(f)),
            broadcast: self.broadcast,
        }
    }

    /// Makes `set` readable, whole, by every vertex through
    /// [`Context::broadcast_set`](super::Context::broadcast_set).
    pub fn broadcast_set<B2: Data>(self, set: &DataSet<B2>) -> Config<A, B2> {
        Config {
            max_iterations: self.max_iterations,
            direction: self.direction,
            all_active: self.all_active,
            aggregator: self.aggregator,
            broadcast: Some(set.clone()),
        }
    }
}
