//! Scatter-gather iterations (Flink's `runScatterGatherIteration`): each iteration, the
//! vertices whose value changed scatter messages along their edges, then every vertex that
//! received messages gathers them into a new value, or keeps its own.

use eddy_runtime::Data;

use super::config::Config;
use super::engine::{self, Context};
use crate::graph::{Graph, Vertex, VertexKey};

impl<K: VertexKey, VV: Data, EV: Data> Graph<K, VV, EV> {
    /// Runs a scatter-gather iteration and returns the graph with the final vertex values.
    ///
    /// `scatter` is called for every vertex in the first iteration and afterwards for each
    /// vertex whose value `gather` changed; it sends messages through the [`Context`] (its
    /// edges are those of [`Config::direction`]). `gather` is called for each vertex that
    /// received messages and returns its new value, or `None` to keep it. The iteration ends
    /// after `max_iterations` iterations or when no value changed.
    ///
    /// ```
    /// use eddy_gelly::{iteration::Config, Edge, Graph};
    /// // Shortest path lengths from vertex 1 along weighted edges.
    /// let env = eddy_dataset::ExecutionEnvironment::new();
    /// let edges = vec![Edge::new(1u64, 2u64, 4.0f64), Edge::new(1, 3, 1.0), Edge::new(3, 2, 1.0)];
    /// let graph = Graph::from_edge_collection(&env, edges, |id| if *id == 1 { 0.0 } else { f64::INFINITY });
    /// let result = graph.run_scatter_gather(
    ///     &Config::new(10),
    ///     |v, ctx| {
    ///         for e in ctx.edges().to_vec() {
    ///             ctx.send_message_to(e.target, v.value + e.value);
    ///         }
    ///     },
    ///     |v, distances: Vec<f64>, _| {
    ///         let best = distances.into_iter().fold(f64::INFINITY, f64::min);
    ///         (best < v.value).then_some(best)
    ///     },
    /// );
    /// let values: Vec<f64> = result.collect()?.0.iter().map(|v| v.value).collect();
    /// assert_eq!(values, vec![0.0, 2.0, 1.0]);
    /// # Ok::<(), eddy_gelly::Error>(())
    /// ```
    pub fn run_scatter_gather<M: Data, A: Data, B: Data, S, G>(
        &self,
        config: &Config<A, B>,
        mut scatter: S,
        mut gather: G,
    ) -> Graph<K, VV, EV>
    where
        S: FnMut(&Vertex<K, VV>, &mut Context<K, EV, M, A, B>) + Clone + Send + Sync + 'static,
        G: FnMut(&Vertex<K, VV>, Vec<M>, &mut Context<K, EV, M, A, B>) -> Option<VV>
            + Clone
            + Send
            + Sync
            + 'static,
    {
        let last = config.max_iterations;
        let compute =
            move |v: &mut Vertex<K, VV>, messages: Vec<M>, ctx: &mut Context<K, EV, M, A, B>| {
                // Superstep s gathers what iteration s - 1 scattered, then scatters iteration s.
                if ctx.superstep() > 1 {
                    match gather(v, messages, ctx) {
                        Some(value) => v.value = value,
                        None => return,
                    }
                }
                if ctx.superstep() <= last {
                    scatter(v, ctx);
                }
            };
        let config = config.clone().all_active(false);
        engine::run(
            self,
            &config,
            config.direction,
            last.saturating_add(1),
            compute,
        )
    }
}
