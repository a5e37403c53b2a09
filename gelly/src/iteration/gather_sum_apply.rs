//! Gather-sum-apply iterations (Flink's `runGatherSumApplyIteration`): each iteration, every
//! vertex gathers a value from each neighbour whose value changed, sums them, and applies
//! the sum to its own value.

use eddy_runtime::Data;

use super::config::Config;
use super::engine;
use crate::graph::{Graph, Vertex, VertexKey};

impl<K: VertexKey, VV: Data, EV: Data> Graph<K, VV, EV> {
    /// Runs a gather-sum-apply iteration and returns the graph with the final vertex values.
    ///
    /// For each edge between a vertex and a neighbour of [`Config::direction`] (`Out`: its
    /// out-neighbours) whose value changed in the previous iteration (all, in the first),
    /// `gather(neighbour value, edge value)` makes a partial value; `sum` folds a vertex's
    /// partial values; `apply(sum, vertex)` returns the vertex's new value, or `None` to keep
    /// it. The iteration ends after `max_iterations` iterations or when no value changed.
    ///
    /// ```
    /// use eddy_gelly::{iteration::Config, Edge, EdgeDirection, Graph};
    /// // Connected components: the smallest id wins.
    /// let env = eddy_dataset::ExecutionEnvironment::new();
    /// let edges = vec![Edge::new(1u64, 2u64, ()), Edge::new(3, 2, ()), Edge::new(5, 6, ())];
    /// let graph = Graph::from_edge_collection(&env, edges, |id| *id);
    /// let result = graph.run_gather_sum_apply(
    ///     &Config::new(10).direction(EdgeDirection::All),
    ///     |neighbour: &u64, _| *neighbour,
    ///     |a, b| a.min(b),
    ///     |least, v| (least < v.value).then_some(least),
    /// );
    /// let values: Vec<u64> = result.collect()?.0.iter().map(|v| v.value).collect();
    /// assert_eq!(values, vec![1, 1, 1, 5, 5]);
    /// # Ok::<(), eddy_gelly::Error>(())
    /// ```
    pub fn run_gather_sum_apply<M: Data, A: Data, B: Data, G, S, P>(
        &self,
        config: &Config<A, B>,
        mut gather: G,
        mut sum: S,
        mut apply: P,
    ) -> Graph<K, VV, EV>
    where
        G: FnMut(&VV, &EV) -> M + Clone + Send + Sync + 'static,
        S: FnMut(M, M) -> M + Clone + Send + Sync + 'static,
        P: FnMut(M, &Vertex<K, VV>) -> Option<VV> + Clone + Send + Sync + 'static,
    {
        let last = config.max_iterations;
        let compute = move |v: &mut Vertex<K, VV>,
                            messages: Vec<M>,
                            ctx: &mut engine::Context<K, EV, M, A, B>| {
            if ctx.superstep() > 1 {
                let Some(total) = messages.into_iter().reduce(&mut sum) else {
                    return;
                };
                match apply(total, v) {
                    Some(value) => v.value = value,
                    None => return,
                }
            }
            if ctx.superstep() <= last {
                // A changed vertex is a gathered neighbour of the other end of each edge.
                for i in 0..ctx.edges().len() {
                    let edge = &ctx.edges()[i];
                    let to = ctx.neighbor(edge).clone();
                    let partial = gather(&v.value, &edge.value);
                    ctx.send_message_to(to, partial);
                }
            }
        };
        let config = config.clone().all_active(false);
        // Values flow against the gather direction: out-neighbours' values reach a vertex
        // along its out-edges, backwards.
        engine::run(
            self,
            &config,
            config.direction.reversed(),
            last.saturating_add(1),
            compute,
        )
    }
}
