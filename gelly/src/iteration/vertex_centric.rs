//! Vertex-centric iterations (Pregel; Flink's `runVertexCentricIteration`): each superstep,
//! every vertex that received messages runs one compute function that reads them, updates
//! its value and sends messages.

use eddy_runtime::Data;

use super::config::Config;
use super::engine::{self, Context};
use crate::graph::{Graph, Vertex, VertexKey};

impl<K: VertexKey, VV: Data, EV: Data> Graph<K, VV, EV> {
    /// Runs a vertex-centric iteration and returns the graph with the final vertex values.
    ///
    /// In superstep 1 every vertex computes (with no messages); afterwards, the vertices that
    /// received messages (every vertex with [`Config::all_active`]). The iteration ends after
    /// `max_iterations` supersteps, or after a superstep that sent no message.
    ///
    /// ```
    /// use eddy_gelly::{iteration::Config, Edge, EdgeDirection, Graph};
    /// // Every vertex learns the largest id in its component.
    /// let env = eddy_dataset::ExecutionEnvironment::new();
    /// let edges = vec![Edge::new(1u64, 2u64, ()), Edge::new(2, 3, ()), Edge::new(7, 8, ())];
    /// let graph = Graph::from_edge_collection(&env, edges, |id| *id);
    /// let config = Config::new(10).direction(EdgeDirection::All);
    /// let result = graph.run_vertex_centric(&config, |v, messages: Vec<u64>, ctx| {
    ///     let best = messages.into_iter().max().unwrap_or(v.value).max(v.value);
    ///     if ctx.superstep() == 1 || best > v.value {
    ///         v.value = best;
    ///         ctx.send_message_to_all_neighbors(best);
    ///     }
    /// });
    /// let values: Vec<u64> = result.collect()?.0.iter().map(|v| v.value).collect();
    /// assert_eq!(values, vec![3, 3, 3, 8, 8]);
    /// # Ok::<(), eddy_gelly::Error>(())
    /// ```
    pub fn run_vertex_centric<M: Data, A: Data, B: Data, C>(
        &self,
        config: &Config<A, B>,
        compute: C,
    ) -> Graph<K, VV, EV>
    where
        C: FnMut(&mut Vertex<K, VV>, Vec<M>, &mut Context<K, EV, M, A, B>)
            + Clone
            + Send
            + Sync
            + 'static,
    {
        engine::run(
            self,
            config,
            config.direction,
            config.max_iterations,
            compute,
        )
    }
}
