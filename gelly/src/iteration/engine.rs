//! The superstep engine under the three iteration models: a bulk DataSet iteration over
//! vertex states and one global record, and the [`Context`] a vertex computes with.
//!
//! # Algorithm
//! The partial solution holds one `Vertex` state per vertex (its value and the messages it
//! received) and one `Global` record (the superstep number and the previous superstep's
//! aggregate). Each superstep:
//! 1. vertex states are joined (left outer) with their adjacency lists (built once, in the
//!    configured direction, and cached by the iteration as loop-invariant);
//! 2. with the global record and the user's broadcast set as a broadcast set, each vertex
//!    that is active (superstep 1, messages received, or `all_active`) computes, emitting its
//!    new value, messages and an aggregate;
//! 3. values and messages are grouped by vertex id into the next states (messages to ids
//!    that are not vertices are dropped); aggregates are reduced to one, which the next
//!    global record carries.
//!
//! The iteration stops after the configured number of supersteps, or (unless `all_active`)
//! after the first superstep that sent no message.

use eddy_dataset::DataSet;
use eddy_runtime::Data;
use serde::{Deserialize, Serialize};

use super::config::{Aggregator, Config};
use crate::graph::{Edge, EdgeDirection, Graph, Vertex, VertexKey};

/// What a vertex sees and does in one superstep: its edges, the superstep number, the
/// previous aggregate and the broadcast set; it sends messages and contributes to the
/// aggregate.
pub struct Context<'a, K, EV, M, A = (), B = ()> {
    id: K,
    superstep: u32,
    edges: &'a [Edge<K, EV>],
    previous: Option<&'a A>,
    shared: &'a [Shared<A, B>],
    aggregator: Option<&'a Aggregator<A>>,
    outbox: Vec<(K, M)>,
    aggregate: Option<A>,
}

impl<K: VertexKey, EV, M: Clone, A: Clone, B> Context<'_, K, EV, M, A, B> {
    /// The superstep, from 1.
    pub fn superstep(&self) -> u32 {
        self.superstep
    }

    /// The vertex's edges in the iteration's direction: for `In`, edges whose target is the
    /// vertex; for `Out`, whose source is; for `All`, both.
    pub fn edges(&self) -> &[Edge<K, EV>] {
        self.edges
    }

    /// The other end of one of [`edges`](Self::edges).
    pub fn neighbor<'e>(&self, edge: &'e Edge<K, EV>) -> &'e K {
        if edge.source == self.id {
            &edge.target
        } else {
            &edge.source
        }
    }

    /// Sends `message` to vertex `to`, received in the next superstep.
    pub fn send_message_to(&mut self, to: K, message: M) {
        self.outbox.push((to, message));
    }

    /// Sends `message` to the other end of every edge in [`edges`](Self::edges).
    pub fn send_message_to_all_neighbors(&mut self, message: M) {
        for edge in self.edges {
            let to = if edge.source == self.id {
                &edge.target
            } else {
                &edge.source
            };
            self.outbox.push((to.clone(), message.clone()));
        }
    }

    /// Contributes `value` to this superstep's aggregate (ignored if the configuration has
    /// no aggregator).
    pub fn aggregate(&mut self, value: A) {
        let Some(fold) = self.aggregator else { return };
        self.aggregate = Some(match self.aggregate.take() {
            Some(a) => fold(a, value),
            None => value,
        });
    }

    /// The aggregate of the previous superstep (`None` in the first, or if no vertex
    /// contributed).
    pub fn previous_aggregate(&self) -> Option<&A> {
        self.previous
    }

    /// The configuration's broadcast set (empty without one).
    pub fn broadcast_set(&self) -> impl Iterator<Item = &B> + '_ {
        self.shared.iter().filter_map(|s| match s {
            Shared::User(b) => Some(b),
            Shared::Global(..) => None,
        })
    }
}

/// A vertex, its messages and its edges, ready to compute.
type Active<K, VV, EV, M> = (Vertex<K, VV>, Vec<M>, Vec<Edge<K, EV>>);

/// One record of the iteration's partial solution.
#[derive(Clone, Serialize, Deserialize)]
enum State<K, VV, M, A> {
    /// A vertex and the messages it received.
    Vertex(Vertex<K, VV>, Vec<M>),
    /// The superstep about to run and the previous superstep's aggregate.
    Global(u32, Option<A>),
}

/// What every vertex reads through the broadcast set.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) enum Shared<A, B> {
    Global(u32, Option<A>),
    User(B),
}

/// What one vertex's computation emits.
#[derive(Clone, Serialize, Deserialize)]
enum Out<K, VV, M, A> {
    Vertex(Vertex<K, VV>),
    Message(K, M),
    Aggregate(A),
}

/// A value or a message on its way to a vertex's next state.
#[derive(Clone, Serialize, Deserialize)]
enum Item<VV, M> {
    Value(VV),
    Message(M),
}

/// Runs `compute` on every active vertex each superstep, for at most `supersteps`
/// supersteps, and returns the graph with the final vertex values.
pub(crate) fn run<K, VV, EV, M, A, B, C>(
    graph: &Graph<K, VV, EV>,
    config: &Config<A, B>,
    direction: EdgeDirection,
    supersteps: u32,
    compute: C,
) -> Graph<K, VV, EV>
where
    K: VertexKey,
    VV: Data,
    EV: Data,
    M: Data,
    A: Data,
    B: Data,
    C: FnMut(&mut Vertex<K, VV>, Vec<M>, &mut Context<K, EV, M, A, B>)
        + Clone
        + Send
        + Sync
        + 'static,
{
    let env = graph.environment().clone();
    let adjacency: DataSet<(K, Vec<Edge<K, EV>>)> = graph
        .keyed_edges(direction)
        .group_by(|p: &(K, Edge<K, EV>)| p.0.clone())
        .reduce_group(|group: Vec<(K, Edge<K, EV>)>| {
            let id = group.first().map(|p| p.0.clone());
            id.map(|id| (id, group.into_iter().map(|p| p.1).collect::<Vec<_>>()))
        });
    let initial: DataSet<State<K, VV, M, A>> = graph
        .vertices()
        .map(|v| State::Vertex(v, Vec::new()))
        .union(&env.from_collection(vec![State::Global(1, None)]));
    let user: Option<DataSet<Shared<A, B>>> =
        config.broadcast.as_ref().map(|b| b.map(Shared::User));
    let all_active = config.all_active;
    let aggregator = config.aggregator.clone();
    let result = initial.iterate_with_termination(supersteps, move |partial| {
        let mut shared = partial.flat_map(|s: State<K, VV, M, A>| match s {
            State::Global(step, aggregate) => Some(Shared::<A, B>::Global(step, aggregate)),
            State::Vertex(..) => None,
        });
        if let Some(user) = &user {
            shared = shared.union(user);
        }
        let vertices = partial.flat_map(|s: State<K, VV, M, A>| match s {
            State::Vertex(v, inbox) => Some((v, inbox)),
            State::Global(..) => None,
        });
        let joined = vertices
            .left_outer_join(&adjacency)
            .where_key(|p: &(Vertex<K, VV>, Vec<M>)| p.0.id.clone())
            .equal_to(|a: &(K, Vec<Edge<K, EV>>)| a.0.clone())
            .flat_with(
                |p: Option<(Vertex<K, VV>, Vec<M>)>, a: Option<(K, Vec<Edge<K, EV>>)>| {
                    p.map(|(v, inbox)| (v, inbox, a.map(|a| a.1).unwrap_or_default()))
                },
            );
        let fold = aggregator.clone();
        let mut compute = compute.clone();
        let mut global_at: usize = 0;
        let out = joined.with_broadcast_set(&shared).flat_map(
            move |(mut v, inbox, edges): Active<K, VV, EV, M>, shared: &[Shared<A, B>]| {
                if !matches!(shared.get(global_at), Some(Shared::Global(..))) {
                    global_at = shared
                        .iter()
                        .position(|s| matches!(s, Shared::Global(..)))
                        .unwrap_or(0);
                }
                let (superstep, previous) = match shared.get(global_at) {
                    Some(Shared::Global(step, aggregate)) => (*step, aggregate.as_ref()),
                    _ => (1, None),
                };
                let mut out = Vec::new();
                if superstep == 1 || all_active || !inbox.is_empty() {
                    let mut context = Context {
                        id: v.id.clone(),
                        superstep,
                        edges: &edges,
                        previous,
                        shared,
                        aggregator: fold.as_ref(),
                        outbox: Vec::new(),
                        aggregate: None,
                    };
                    compute(&mut v, inbox, &mut context);
                    out.extend(context.outbox.into_iter().map(|(k, m)| Out::Message(k, m)));
                    out.extend(context.aggregate.map(Out::Aggregate));
                }
                out.push(Out::Vertex(v));
                out
            },
        );
        let next_vertices = out
            .flat_map(|o: Out<K, VV, M, A>| match o {
                Out::Vertex(v) => Some((v.id, Item::Value(v.value))),
                Out::Message(k, m) => Some((k, Item::Message(m))),
                Out::Aggregate(_) => None,
            })
            .group_by(|p: &(K, Item<VV, M>)| p.0.clone())
            .reduce_group(|group: Vec<(K, Item<VV, M>)>| {
                let mut id = None;
                let mut value = None;
                let mut inbox = Vec::new();
                for (k, item) in group {
                    id = Some(k);
                    match item {
                        Item::Value(v) => value = Some(v),
                        Item::Message(m) => inbox.push(m),
                    }
                }
                match (id, value) {
                    (Some(id), Some(value)) => Some(State::Vertex(Vertex::new(id, value), inbox)),
                    _ => None,
                }
            });
        let fold = aggregator.clone();
        let aggregated = out
            .flat_map(|o: Out<K, VV, M, A>| match o {
                Out::Aggregate(a) => Some(a),
                _ => None,
            })
            .reduce(move |a, b| match &fold {
                Some(f) => f(a, b),
                None => a,
            });
        let next_global = partial
            .filter(|s: &State<K, VV, M, A>| matches!(s, State::Global(..)))
            .with_broadcast_set(&aggregated)
            .flat_map(|s: State<K, VV, M, A>, aggregate: &[A]| match s {
                State::Global(step, _) => Some(State::Global(step + 1, aggregate.first().cloned())),
                State::Vertex(..) => None,
            });
        let criterion = if all_active {
            next_global.clone()
        } else {
            next_vertices.filter(
                |s: &State<K, VV, M, A>| matches!(s, State::Vertex(_, inbox) if !inbox.is_empty()),
            )
        };
        (next_vertices.union(&next_global), criterion)
    });
    let vertices = result.flat_map(|s: State<K, VV, M, A>| match s {
        State::Vertex(v, _) => Some(v),
        State::Global(..) => None,
    });
    Graph::from_data_set(&vertices, graph.edges())
}
