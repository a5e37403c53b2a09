//! Equi-joins of two data sets: inner, left, right and full outer, with strategy hints.
//!
//! ```
//! let mut out = eddy_dataset::example(|env| {
//!     let people = env.from_collection(vec![(1, "ada".to_string()), (2, "bob".to_string())]);
//!     let cities = env.from_collection(vec![(1, "Paris".to_string()), (1, "Lyon".to_string()), (3, "Nice".to_string())]);
//!     people
//!         .join(&cities)
//!         .where_key(|p: &(i32, String)| p.0)
//!         .equal_to(|c: &(i32, String)| c.0)
//!         .with(|p: (i32, String), c: (i32, String)| format!("{} {}", p.1, c.1))
//! });
//! out.sort();
//! assert_eq!(out, vec!["ada Lyon", "ada Paris"]);
//! ```
//!
//! Outer joins pass `None` for the missing side:
//!
//! ```
//! let mut out = eddy_dataset::example(|env| {
//!     let left = env.from_collection(vec![1, 2]);
//!     let right = env.from_collection(vec![2, 3]);
//!     left.full_outer_join(&right)
//!         .where_key(|x: &i32| *x)
//!         .equal_to(|x: &i32| *x)
//!         .with(|a: Option<i32>, b: Option<i32>| (a, b))
//! });
//! out.sort();
//! assert_eq!(out, vec![(None, Some(3)), (Some(1), None), (Some(2), Some(2))]);
//! ```
//!
//! # Strategies
//! | hint | what moves | engine and memory per subtask |
//! |---|---|---|
//! | [`JoinHint::BroadcastHashFirst`] | the first input to every subtask; the second stays | in-memory hash table of all of the first input |
//! | [`JoinHint::BroadcastHashSecond`] | the second input to every subtask | in-memory hash table of all of the second input |
//! | [`JoinHint::RepartitionHashFirst`] | both inputs, by key | hybrid hash join building the first; spills under the budget |
//! | [`JoinHint::RepartitionHashSecond`] | both inputs, by key | hybrid hash join building the second; spills |
//! | [`JoinHint::RepartitionSortMerge`] | both inputs, by key | external sort of both, then merge; spills |
//!
//! Join keys implement [`JoinKey`](crate::key::JoinKey): integers, `String`, tuples of up to
//! three (with fixed-width fast paths), and any `Ord + Hash` type wrapped in
//! [`OrdKey`](crate::key::OrdKey).
//!
//! Broadcast the small side of an inner join. An outer join cannot broadcast its outer side
//! (each subtask would emit its unmatched rows): left outer joins allow broadcasting the
//! second input, right outer joins the first, full outer joins neither. The default,
//! [`JoinHint::OptimizerChooses`], broadcasts a side known to be small (a collection of at
//! most [`BROADCAST_THRESHOLD`] records) where the join type allows, and otherwise
//! repartitions both and builds on the smaller known side (the second when unknown).

use std::marker::PhantomData;
use std::sync::Arc;

use eddy_runtime::{Data, Error, Key, Result};

use std::rc::Rc;
use std::sync::Mutex;

use eddy_runtime::partition::{hash_key, key_group_for_hash, subtask_for_key_group};
use eddy_runtime::{NodeId, Partitioner};

use super::{binary_node_with, BinaryFactory, BinaryPlan, Route, Shortcut};
use crate::data_set::DataSet;
use crate::function::KeySelector;
use crate::join::{BuildSide, JoinType};
use crate::key::JoinKey;
use crate::operators::indexed_join::{Index, IndexTables, IndexedJoin};
use crate::operators::join::HashJoin;
use crate::operators::repartition_join::{Engine, RepartitionJoin};
use crate::plan::PlanNode;
use crate::plan::{Partitions, Translator};

/// Inputs of at most this many records (when known) are broadcast by the optimizer.
pub const BROADCAST_THRESHOLD: u64 = 10_000;

/// How a join is executed (see the module doc for when to use which).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JoinHint {
    /// Let Eddy choose.
    #[default]
    OptimizerChooses,
    /// Broadcast the first input and build a hash table of it.
    BroadcastHashFirst,
    /// Broadcast the second input and build a hash table of it.
    BroadcastHashSecond,
    /// Partition both by key, build a hash table of the first.
    RepartitionHashFirst,
    /// Partition both by key, build a hash table of the second.
    RepartitionHashSecond,
    /// Partition both by key, sort both and merge.
    RepartitionSortMerge,
}

/// Marks a join whose function takes both rows.
pub struct Inner;
/// Marks an outer join, whose function takes `Option`s.
pub struct Outer;

/// A join being described: inputs, type and hint; next, [`where_key`](Self::where_key).
pub struct JoinBuilder<A, B, Kind> {
    left: DataSet<A>,
    right: DataSet<B>,
    join_type: JoinType,
    hint: JoinHint,
    _kind: PhantomData<Kind>,
}

/// A join whose first key is known; next, [`equal_to`](Self::equal_to).
pub struct JoinWhere<A, B, K, Kind> {
    builder: JoinBuilder<A, B, Kind>,
    key_a: KeySelector<A, K>,
}

/// A join with both keys; finish it with `with` or `flat_with`.
pub struct KeyedJoin<A, B, K, Kind> {
    builder: JoinBuilder<A, B, Kind>,
    key_a: KeySelector<A, K>,
    key_b: KeySelector<B, K>,
}

impl<A: Data> DataSet<A> {
    /// An inner join with `other` (Flink's `join`).
    ///
    /// # Panics
    /// If `other` belongs to another environment (a programming error).
    pub fn join<B: Data>(&self, other: &DataSet<B>) -> JoinBuilder<A, B, Inner> {
        JoinBuilder::new(self, other, JoinType::Inner)
    }

    /// A join keeping the rows of this data set without a match.
    ///
    /// # Panics
    /// If `other` belongs to another environment (a programming error).
    pub fn left_outer_join<B: Data>(&self, other: &DataSet<B>) -> JoinBuilder<A, B, Outer> {
        JoinBuilder::new(self, other, JoinType::LeftOuter)
    }

    /// A join keeping the rows of `other` without a match.
    ///
    /// # Panics
    /// If `other` belongs to another environment (a programming error).
    pub fn right_outer_join<B: Data>(&self, other: &DataSet<B>) -> JoinBuilder<A, B, Outer> {
        JoinBuilder::new(self, other, JoinType::RightOuter)
    }

    /// A join keeping the rows of both without a match.
    ///
    /// # Panics
    /// If `other` belongs to another environment (a programming error).
    pub fn full_outer_join<B: Data>(&self, other: &DataSet<B>) -> JoinBuilder<A, B, Outer> {
        JoinBuilder::new(self, other, JoinType::FullOuter)
    }
}

impl<A: Data, B: Data, Kind> JoinBuilder<A, B, Kind> {
    fn new(left: &DataSet<A>, right: &DataSet<B>, join_type: JoinType) -> Self {
        JoinBuilder {
            left: left.clone(),
            right: right.clone(),
            join_type,
            hint: JoinHint::OptimizerChooses,
            _kind: PhantomData,
        }
    }

    /// Chooses the execution strategy.
    pub fn hint(mut self, hint: JoinHint) -> Self {
        self.hint = hint;
        self
    }

    /// The key of the first input.
    pub fn where_key<K: Key + JoinKey, F>(self, key: F) -> JoinWhere<A, B, K, Kind>
    where
        F: Fn(&A) -> K + Send + Sync + 'static,
    {
        JoinWhere {
            builder: self,
            key_a: Arc::new(key),
        }
    }
}

impl<A: Data, B: Data, K: Key + JoinKey, Kind> JoinWhere<A, B, K, Kind> {
    /// The key of the second input, which must equal the first's for rows to pair.
    pub fn equal_to<F>(self, key: F) -> KeyedJoin<A, B, K, Kind>
    where
        F: Fn(&B) -> K + Send + Sync + 'static,
    {
        KeyedJoin {
            builder: self.builder,
            key_a: self.key_a,
            key_b: Arc::new(key),
        }
    }
}

impl<A: Data, B: Data, K: Key + JoinKey> KeyedJoin<A, B, K, Inner> {
    /// One output per pair of rows with equal keys.
    pub fn with<O: Data, F>(self, mut function: F) -> DataSet<O>
    where
        F: FnMut(A, B) -> O + Clone + Send + Sync + 'static,
    {
        self.build(move |a: Option<A>, b: Option<B>| match (a, b) {
            (Some(a), Some(b)) => Some(function(a, b)),
            _ => None,
        })
    }

    /// Any number of outputs per pair of rows with equal keys.
    pub fn flat_with<O: Data, I, F>(self, mut function: F) -> DataSet<O>
    where
        I: IntoIterator<Item = O>,
        F: FnMut(A, B) -> I + Clone + Send + Sync + 'static,
    {
        self.build(move |a: Option<A>, b: Option<B>| match (a, b) {
            (Some(a), Some(b)) => Some(function(a, b)).into_iter().flatten(),
            _ => None.into_iter().flatten(),
        })
    }

    /// The pairs themselves (Flink's default join result).
    pub fn pairs(self) -> DataSet<(A, B)> {
        self.with(|a, b| (a, b))
    }
}

impl<A: Data, B: Data, K: Key + JoinKey> KeyedJoin<A, B, K, Outer> {
    /// One output per pair, and per unmatched row of an outer side (with `None` for the
    /// other side).
    pub fn with<O: Data, F>(self, mut function: F) -> DataSet<O>
    where
        F: FnMut(Option<A>, Option<B>) -> O + Clone + Send + Sync + 'static,
    {
        self.build(move |a, b| Some(function(a, b)))
    }

    /// Any number of outputs per pair or unmatched row.
    pub fn flat_with<O: Data, I, F>(self, function: F) -> DataSet<O>
    where
        I: IntoIterator<Item = O>,
        F: FnMut(Option<A>, Option<B>) -> I + Clone + Send + Sync + 'static,
    {
        self.build(function)
    }
}

/// The strategy a hint resolves to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Strategy {
    BroadcastFirst,
    BroadcastSecond,
    HashFirst,
    HashSecond,
    SortMerge,
}

/// Resolves the hint for this join type and these inputs.
fn strategy(
    join_type: JoinType,
    hint: JoinHint,
    left: &PlanNode,
    right: &PlanNode,
) -> Result<Strategy> {
    let can_broadcast_first = matches!(join_type, JoinType::Inner | JoinType::RightOuter);
    let can_broadcast_second = matches!(join_type, JoinType::Inner | JoinType::LeftOuter);
    let small = |node: &PlanNode| node.size_hint.is_some_and(|n| n <= BROADCAST_THRESHOLD);
    let chosen = match hint {
        JoinHint::OptimizerChooses => {
            let (l, r) = (left.size_hint, right.size_hint);
            if can_broadcast_second && small(right) && (!small(left) || r <= l) {
                Strategy::BroadcastSecond
            } else if can_broadcast_first && small(left) {
                Strategy::BroadcastFirst
            } else if matches!((l, r), (Some(l), Some(r)) if l < r) {
                Strategy::HashFirst
            } else {
                Strategy::HashSecond
            }
        }
        JoinHint::BroadcastHashFirst => Strategy::BroadcastFirst,
        JoinHint::BroadcastHashSecond => Strategy::BroadcastSecond,
        JoinHint::RepartitionHashFirst => Strategy::HashFirst,
        JoinHint::RepartitionHashSecond => Strategy::HashSecond,
        JoinHint::RepartitionSortMerge => Strategy::SortMerge,
    };
    let invalid = (chosen == Strategy::BroadcastFirst && !can_broadcast_first)
        || (chosen == Strategy::BroadcastSecond && !can_broadcast_second);
    if invalid {
        return Err(Error::InvalidGraph(format!(
            "join hint {hint:?} is not valid for a {join_type:?} join: the broadcast side \
             would emit its unmatched rows once per subtask"
        )));
    }
    Ok(chosen)
}

impl<A: Data, B: Data, K: Key + JoinKey, Kind> KeyedJoin<A, B, K, Kind> {
    fn build<O: Data, I, F>(self, function: F) -> DataSet<O>
    where
        I: IntoIterator<Item = O>,
        F: FnMut(Option<A>, Option<B>) -> I + Clone + Send + Sync + 'static,
    {
        let JoinBuilder {
            left,
            right,
            join_type,
            hint,
            ..
        } = self.builder;
        let (key_a, key_b) = (self.key_a, self.key_b);
        let (left_node, right_node) = (left.node.clone(), right.node.clone());
        let shortcut = (hint == JoinHint::OptimizerChooses).then(|| {
            indexed_shortcut(
                (left_node.clone(), right_node.clone()),
                (key_a.clone(), key_b.clone()),
                join_type,
                function.clone(),
            )
        });
        binary_node_with(
            "join",
            &left,
            &right,
            move |t, _| {
                let chosen = strategy(join_type, hint, &left_node, &right_node)?;
                let (ka, kb, f) = (key_a.clone(), key_b.clone(), function.clone());
                let memory = t.settings.memory.clone();
                let repartition = |engine: Engine| -> BinaryFactory<A, B, O> {
                    let (ka, kb, f, memory) = (ka.clone(), kb.clone(), f.clone(), memory.clone());
                    Arc::new(move || {
                        Box::new(RepartitionJoin::new(
                            &memory,
                            engine,
                            join_type,
                            (ka.clone(), kb.clone()),
                            f.clone(),
                        ))
                    })
                };
                let factory: BinaryFactory<A, B, O> = match chosen {
                    Strategy::SortMerge => repartition(Engine::SortMerge),
                    Strategy::HashFirst => repartition(Engine::HybridHash(BuildSide::Left)),
                    Strategy::HashSecond => repartition(Engine::HybridHash(BuildSide::Right)),
                    Strategy::BroadcastFirst | Strategy::BroadcastSecond => {
                        let build_left = chosen == Strategy::BroadcastFirst;
                        Arc::new(move || {
                            Box::new(HashJoin::new(
                                ka.clone(),
                                kb.clone(),
                                f.clone(),
                                join_type,
                                build_left,
                            ))
                        })
                    }
                };
                let (left_route, right_route) = match chosen {
                    Strategy::BroadcastFirst => (Route::Broadcast, Route::Forward),
                    Strategy::BroadcastSecond => (Route::Forward, Route::Broadcast),
                    _ => (Route::by_key(&key_a), Route::by_key(&key_b)),
                };
                Ok(BinaryPlan {
                    left: left_route,
                    right: right_route,
                    factory,
                })
            },
            shortcut,
        )
    }
}

/// In a superstep, a join whose one side is loop-invariant (and not an outer side) probes an
/// index of that side built once per iteration, instead of joining it anew each superstep.
fn indexed_shortcut<A: Data, B: Data, K: Key + JoinKey, O: Data, I, F>(
    nodes: (Rc<PlanNode>, Rc<PlanNode>),
    keys: (KeySelector<A, K>, KeySelector<B, K>),
    join_type: JoinType,
    function: F,
) -> Shortcut
where
    I: IntoIterator<Item = O>,
    F: FnMut(Option<A>, Option<B>) -> I + Clone + Send + Sync + 'static,
{
    Box::new(move |t, node| {
        let left_invariant = t.invariant.contains(&nodes.0.id);
        let right_invariant = t.invariant.contains(&nodes.1.id);
        let p = t.parallelism(node);
        if right_invariant && !left_invariant && !join_type.keeps_right() {
            let tables = index_tables(t, node.id, &nodes.1, &keys.1, p)?;
            let mut f = function.clone();
            let probe = move |a: A, b: Option<B>| f(Some(a), b);
            let keep = join_type.keeps_left();
            let input = t.translate(&nodes.0)?;
            return add_indexed(t, node, input, tables, keys.0.clone(), probe, keep, p);
        }
        if left_invariant && !right_invariant && !join_type.keeps_left() {
            let tables = index_tables(t, node.id, &nodes.0, &keys.0, p)?;
            let mut f = function.clone();
            let probe = move |b: B, a: Option<A>| f(a, Some(b));
            let keep = join_type.keeps_right();
            let input = t.translate(&nodes.1)?;
            return add_indexed(t, node, input, tables, keys.1.clone(), probe, keep, p);
        }
        Ok(None)
    })
}

/// Adds the probing operator, fed by `probe_input` hashed on its key.
#[allow(clippy::too_many_arguments)]
fn add_indexed<P: Data, X: Data, K: Key, O: Data, I, G>(
    t: &mut Translator,
    node: &PlanNode,
    probe_input: NodeId,
    tables: IndexTables<K, X>,
    key: KeySelector<P, K>,
    probe: G,
    keep_unmatched: bool,
    parallelism: u32,
) -> Result<Option<NodeId>>
where
    I: IntoIterator<Item = O>,
    G: FnMut(P, Option<X>) -> I + Clone + Send + Sync + 'static,
{
    let route_key = key.clone();
    let id = t.graph.add_operator(node.name(), parallelism, move || {
        Box::new(IndexedJoin::new(
            tables.clone(),
            key.clone(),
            probe.clone(),
            keep_unmatched,
        ))
    });
    let route = Partitioner::Hash(Arc::new(move |p: &P| hash_key(&route_key(p))));
    t.connect(probe_input, id, route)?;
    Ok(Some(id))
}

/// The index of a loop-invariant join side: built at the first superstep (a job of its own),
/// kept in the iteration's state for the next ones.
fn index_tables<X: Data, K: Key>(
    t: &Translator,
    join: usize,
    side: &Rc<PlanNode>,
    key: &KeySelector<X, K>,
    parallelism: u32,
) -> Result<IndexTables<K, X>> {
    if let Some(state) = t.iteration_state.borrow().get(&join) {
        let tables = state
            .clone()
            .downcast::<IndexTables<K, X>>()
            .map_err(|_| Error::Internal("index of a join side has another type".into()))?;
        return Ok((*tables).clone());
    }
    let partitions: Partitions<X> = t.materialize(side)?;
    let max_parallelism = t.settings.config.max_parallelism;
    let mut parts: Vec<Vec<X>> = (0..parallelism).map(|_| Vec::new()).collect();
    for x in partitions.into_iter().flatten() {
        let group = key_group_for_hash(hash_key(&key(&x)), max_parallelism);
        let i = subtask_for_key_group(group, max_parallelism, parallelism) as usize;
        parts[i].push(x);
    }
    let tables: IndexTables<K, X> = Arc::new(
        parts
            .into_iter()
            .map(|rows| Mutex::new(Some(Index::build(rows, |x| key(x)))))
            .collect(),
    );
    t.iteration_state
        .borrow_mut()
        .insert(join, Rc::new(tables.clone()));
    Ok(tables)
}
