//! Two-input transformations: [`join`] (inner and outer, with strategy hints),
//! [`co_group`], [`cross`] and functions with a [`broadcast`] set.
//!
//! The runtime gives an operator one input queue however many edges feed it, so both inputs
//! reach a two-input operator as one stream of tagged records: a tagger beside each producer
//! wraps its records and, when its input ends, sends end markers (see
//! `operators/tag.rs`), from which the operator learns when a side is complete. Each side is
//! routed by its own edge: forward, broadcast, or hashed by key.

pub(crate) mod broadcast;
pub(crate) mod co_group;
pub(crate) mod cross;
pub(crate) mod join;

use std::rc::Rc;
use std::sync::Arc;

use eddy_runtime::partition::hash_key;
use eddy_runtime::{Data, Key, NodeId, Partitioner, Result};

use crate::data_set::DataSet;
use crate::function::KeySelector;
use crate::operators::tag::{Tag, Tagged};
use crate::operators::two_input::{BinaryOperator, TwoInput};
use crate::plan::{hashes_for_subtasks, PlanNode, Translator};

/// How one side of a two-input operator reaches its subtasks.
pub(crate) enum Route<T> {
    /// Partition `i` of the side to subtask `i` (the side is rebalanced first when its
    /// parallelism differs).
    Forward,
    /// The whole side to every subtask.
    Broadcast,
    /// By the hash of a key: equal keys of both sides meet at one subtask.
    Hash(Arc<dyn Fn(&T) -> u64 + Send + Sync>),
}

impl<T: 'static> Route<T> {
    /// Routing by `key`.
    pub(crate) fn by_key<K: Key>(key: &KeySelector<T, K>) -> Self {
        let key = key.clone();
        Route::Hash(Arc::new(move |t: &T| hash_key(&key(t))))
    }
}

/// Makes the binary operator of each subtask.
pub(crate) type BinaryFactory<A, B, O> =
    Arc<dyn Fn() -> Box<dyn BinaryOperator<A, B, O>> + Send + Sync>;

/// The physical choice for a two-input node, made at translation.
pub(crate) struct BinaryPlan<A, B, O> {
    pub(crate) left: Route<A>,
    pub(crate) right: Route<B>,
    pub(crate) factory: BinaryFactory<A, B, O>,
}

/// Another way to translate a two-input node, tried first: returns the graph node it added
/// (having translated the inputs it needs), or `None` to fall back to the two-input operator.
pub(crate) type Shortcut = Box<dyn Fn(&mut Translator, &PlanNode) -> Result<Option<NodeId>>>;

/// Adds a two-input node over `left` and `right`; `plan` picks routes and operator when the
/// node is translated.
pub(crate) fn binary_node<A: Data, B: Data, O: Data>(
    name: &str,
    left: &DataSet<A>,
    right: &DataSet<B>,
    plan: impl Fn(&Translator, &PlanNode) -> Result<BinaryPlan<A, B, O>> + 'static,
) -> DataSet<O> {
    binary_node_with(name, left, right, plan, None)
}

/// [`binary_node`] with a [`Shortcut`].
pub(crate) fn binary_node_with<A: Data, B: Data, O: Data>(
    name: &str,
    left: &DataSet<A>,
    right: &DataSet<B>,
    plan: impl Fn(&Translator, &PlanNode) -> Result<BinaryPlan<A, B, O>> + 'static,
    shortcut: Option<Shortcut>,
) -> DataSet<O> {
    assert!(
        Rc::ptr_eq(&left.env.inner, &right.env.inner),
        "{name} of data sets from different environments"
    );
    let node = PlanNode::new::<O>(
        name,
        None,
        vec![left.node.clone(), right.node.clone()],
        Box::new(move |t, node, _| {
            if let Some(shortcut) = &shortcut {
                if let Some(id) = shortcut(t, node)? {
                    return Ok(id);
                }
            }
            let inputs = [t.translate(&node.inputs[0])?, t.translate(&node.inputs[1])?];
            let BinaryPlan {
                left,
                right,
                factory,
            } = plan(t, node)?;
            let p = t.parallelism(node);
            let (left_tag, left_p, left_edge) = tagger(
                t,
                inputs[0],
                left,
                p,
                false,
                Tagged::<A, B>::Left,
                |x| match x {
                    Tagged::Left(a) => Some(a),
                    _ => None,
                },
            )?;
            let (right_tag, right_p, right_edge) = tagger(
                t,
                inputs[1],
                right,
                p,
                true,
                Tagged::<A, B>::Right,
                |x| match x {
                    Tagged::Right(b) => Some(b),
                    _ => None,
                },
            )?;
            let id = t.graph.add_operator(node.name(), p, move || {
                Box::new(TwoInput::new(factory(), left_p, right_p))
            });
            t.connect(left_tag, id, left_edge)?;
            t.connect(right_tag, id, right_edge)?;
            Ok(id)
        }),
    );
    node.lazy_inputs.set(true);
    DataSet::from_node(left.env.clone(), node)
}

/// Adds the tagger of one side; returns it, the number of end markers each consumer subtask
/// waits for (one per tagger subtask that sends to it) and the edge into the consumer.
#[allow(clippy::type_complexity)]
fn tagger<V: Data, A: Data, B: Data>(
    t: &mut Translator,
    producer: NodeId,
    route: Route<V>,
    consumer_parallelism: u32,
    right: bool,
    wrap: fn(V) -> Tagged<A, B>,
    peek: fn(&Tagged<A, B>) -> Option<&V>,
) -> Result<(NodeId, u32, Partitioner<Tagged<A, B>>)> {
    let producer_parallelism = t.parallelism_of(producer);
    let (parallelism, markers, expected, edge) = match route {
        // The tagger runs at the consumer's parallelism, so its edge into it is forward:
        // each consumer subtask hears from one tagger subtask.
        Route::Forward => (consumer_parallelism, 1, 1, Partitioner::Forward),
        Route::Broadcast => (
            producer_parallelism,
            1,
            producer_parallelism,
            Partitioner::Broadcast,
        ),
        Route::Hash(hash) => {
            let targets =
                hashes_for_subtasks(consumer_parallelism, t.settings.config.max_parallelism);
            let edge = Partitioner::Hash(Arc::new(move |x: &Tagged<A, B>| match x {
                Tagged::End { target, .. } => targets[*target as usize],
                other => peek(other).map_or(0, |v| hash(v)),
            }));
            (
                producer_parallelism,
                consumer_parallelism,
                producer_parallelism,
                edge,
            )
        }
    };
    let name = if right { "tag second" } else { "tag first" };
    let id = t.graph.add_operator(name, parallelism, move || {
        Box::new(Tag {
            right,
            markers,
            wrap,
        })
    });
    t.connect(producer, id, Partitioner::<V>::Forward)?;
    Ok((id, expected, edge))
}
