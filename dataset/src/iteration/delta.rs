//! Delta iterations (Flink's `iterateDelta`): a solution set, keyed and held in hash tables,
//! is updated each superstep by a delta computed from a workset; the iteration stops when
//! the workset is empty (or after `max_iterations` supersteps).
//!
//! The step function receives a [`DeltaIteration`]: its [`workset`](DeltaIteration::workset)
//! is a data set, and its [`solution_set`](DeltaIteration::solution_set) is joined by key
//! with [`SolutionSet::join`] or [`SolutionSet::lookup`]. The step returns the delta (records
//! that replace the solution set's entries with the same key) and the next workset.
//!
//! Connected components: every vertex starts in its own component (its id); a vertex that
//! learns a smaller component id from a neighbour takes it and tells its neighbours.
//!
//! ```
//! let mut out = eddy_dataset::example(|env| {
//!     let edges = env.from_collection(vec![(1u64, 2u64), (2, 1), (2, 3), (3, 2), (7, 8), (8, 7)]);
//!     let vertices = env.from_collection(vec![1u64, 2, 3, 7, 8]).map(|v| (v, v));
//!     vertices.iterate_delta(&vertices, 100, |v: &(u64, u64)| v.0, |it| {
//!         let candidates = it
//!             .workset()
//!             .join(&edges)
//!             .where_key(|v: &(u64, u64)| v.0)
//!             .equal_to(|e: &(u64, u64)| e.0)
//!             .with(|v: (u64, u64), e: (u64, u64)| (e.1, v.1))
//!             .group_by(|c: &(u64, u64)| c.0)
//!             .min(|c: &mut (u64, u64)| &mut c.1);
//!         let changes = it.solution_set().lookup(&candidates, |c: &(u64, u64)| c.0, |c, old: Option<&(u64, u64)>| {
//!             old.filter(|o| c.1 < o.1).map(|_| c)
//!         });
//!         (changes.clone(), changes)
//!     })
//! });
//! out.sort();
//! assert_eq!(out, vec![(1, 1), (2, 1), (3, 1), (7, 7), (8, 7)]);
//! ```

use std::any::Any;
use std::rc::Rc;
use std::sync::{Arc, Mutex};

use eddy_runtime::iteration::{Feedback, FeedbackSource};
use eddy_runtime::partition::{hash_key, key_group_for_hash, subtask_for_key_group};
use eddy_runtime::{Data, Error, Key, Partitioner};

use super::{add_tail, cache_invariants, run_iteration, spread};
use crate::data_set::DataSet;
use crate::function::KeySelector;
use crate::operators::solution_set::{apply_delta, SolutionSetJoin, SolutionTables};
use crate::plan::{Partitions, PlanNode, Translator};
use crate::sources::partitions::PartitionSource;

/// What a delta iteration's step function works with.
pub struct DeltaIteration<S, W, K> {
    workset: DataSet<W>,
    solution_set: SolutionSet<S, K>,
}

impl<S, W, K> DeltaIteration<S, W, K> {
    /// The current superstep's workset.
    pub fn workset(&self) -> &DataSet<W> {
        &self.workset
    }

    /// The solution set as it was at the start of the superstep.
    pub fn solution_set(&self) -> &SolutionSet<S, K> {
        &self.solution_set
    }
}

/// The solution set of a delta iteration: records keyed in hash tables, one per subtask, read
/// by key with [`join`](Self::join) and [`lookup`](Self::lookup).
pub struct SolutionSet<S, K> {
    node: Rc<PlanNode>,
    _types: std::marker::PhantomData<fn(&S) -> K>,
}

impl<S: Data + Sync, K: Key + Sync> SolutionSet<S, K> {
    /// For each record of `input`, the solution-set entry with its key (records without one
    /// are dropped): Flink's join with the solution set.
    pub fn join<X: Data, O: Data, KF, F>(
        &self,
        input: &DataSet<X>,
        key: KF,
        mut function: F,
    ) -> DataSet<O>
    where
        KF: Fn(&X) -> K + Send + Sync + 'static,
        F: FnMut(X, &S) -> O + Clone + Send + Sync + 'static,
    {
        self.lookup(input, key, move |x, entry: Option<&S>| {
            entry.map(|s| function(x, s))
        })
    }

    /// For each record of `input`, the solution-set entry with its key or `None`, emitting
    /// what the function returns (an outer join, or a co-group with at most one entry).
    pub fn lookup<X: Data, O: Data, KF, I, F>(
        &self,
        input: &DataSet<X>,
        key: KF,
        function: F,
    ) -> DataSet<O>
    where
        KF: Fn(&X) -> K + Send + Sync + 'static,
        I: IntoIterator<Item = O>,
        F: FnMut(X, Option<&S>) -> I + Clone + Send + Sync + 'static,
    {
        let key: KeySelector<X, K> = Arc::new(key);
        let solution = self.node.clone();
        let node = PlanNode::with_upstream::<O>(
            "solution set join",
            None,
            vec![input.node.clone()],
            vec![self.node.clone()],
            Box::new(move |t, node, inputs| {
                let tables: SolutionTables<K, S> =
                    (*t.binding::<SolutionTables<K, S>>(&solution)?).clone();
                let p = tables.len() as u32;
                let (key, function) = (key.clone(), function.clone());
                let route_key = key.clone();
                let id = t.graph.add_operator(node.name(), p, move || {
                    Box::new(SolutionSetJoin::new(
                        tables.clone(),
                        key.clone(),
                        function.clone(),
                    ))
                });
                let route = Partitioner::Hash(Arc::new(move |x: &X| hash_key(&route_key(x))));
                t.connect(inputs[0], id, route)?;
                Ok(id)
            }),
        );
        DataSet::from_node(input.env.clone(), node)
    }
}

impl<S: Data + Sync> DataSet<S> {
    /// A delta iteration over this data set as the initial solution set, keyed by `key`,
    /// starting from `workset` (see the module doc). Returns the final solution set.
    pub fn iterate_delta<W: Data, K: Key + Sync, KF, F>(
        &self,
        workset: &DataSet<W>,
        max_iterations: u32,
        key: KF,
        step: F,
    ) -> DataSet<S>
    where
        KF: Fn(&S) -> K + Send + Sync + 'static,
        F: FnOnce(&DeltaIteration<S, W, K>) -> (DataSet<S>, DataSet<W>),
    {
        let key: KeySelector<S, K> = Arc::new(key);
        let workset_placeholder = PlanNode::new::<W>(
            "workset",
            None,
            Vec::new(),
            Box::new(|t, node, _| {
                let feedback: Feedback<W> = (*t.binding::<Feedback<W>>(node)?).clone();
                let p = feedback.parallelism();
                Ok(t.graph.add_source(node.name(), p, true, move |_| {
                    Box::new(FeedbackSource::new(feedback.clone()))
                }))
            }),
        );
        let solution_placeholder = PlanNode::new::<S>(
            "solution set",
            None,
            Vec::new(),
            Box::new(|_, node, _| {
                Err(Error::InvalidGraph(format!(
                    "'{}' is read with SolutionSet::join or lookup, not as a data set",
                    node.name()
                )))
            }),
        );
        let iteration = DeltaIteration {
            workset: DataSet::from_node(self.env.clone(), workset_placeholder.clone()),
            solution_set: SolutionSet {
                node: solution_placeholder.clone(),
                _types: std::marker::PhantomData,
            },
        };
        let (delta, next_workset) = step(&iteration);
        let upstream = vec![
            self.node.clone(),
            workset.node.clone(),
            delta.node.clone(),
            next_workset.node.clone(),
        ];
        let (solution_node, workset_node) = (self.node.clone(), workset.node.clone());
        let (delta_node, next_node) = (delta.node.clone(), next_workset.node.clone());
        let placeholders = [workset_placeholder.id, solution_placeholder.id];
        let node = PlanNode::with_upstream::<S>(
            "delta iteration",
            None,
            Vec::new(),
            upstream,
            Box::new(move |t, node, _| {
                let p = t.parallelism(node);
                let max_parallelism = t.settings.config.max_parallelism;
                let table_of = |k: &K| {
                    let group = key_group_for_hash(hash_key(k), max_parallelism);
                    subtask_for_key_group(group, max_parallelism, p) as usize
                };
                let mut tables: Vec<hashbrown::HashMap<K, S>> =
                    (0..p).map(|_| hashbrown::HashMap::new()).collect();
                for s in t.materialize::<S>(&solution_node)?.into_iter().flatten() {
                    let k = key(&s);
                    tables[table_of(&k)].insert(k, s);
                }
                let tables: SolutionTables<K, S> = Arc::new(
                    tables
                        .into_iter()
                        .map(|table| Mutex::new(Arc::new(table)))
                        .collect(),
                );
                let initial: Partitions<W> = t.materialize(&workset_node)?;
                let empty = initial.iter().all(Vec::is_empty);
                let workset = Feedback::with_initial(spread(initial, p));
                let delta = Feedback::<S>::new(p);
                let roots = [delta_node.clone(), next_node.clone()];
                let cached = cache_invariants(t, &roots, &placeholders)?;
                let mut bindings = (*t.bindings).clone();
                bindings.insert(placeholders[0], Rc::new(workset.clone()) as Rc<dyn Any>);
                bindings.insert(placeholders[1], Rc::new(tables.clone()) as Rc<dyn Any>);
                // The step graph, translated once and run superstep after superstep.
                let mut st = Translator::new(t.settings.clone(), Rc::new(bindings));
                st.invariant = Rc::new(cached.iter().map(|c| c.0).collect());
                for (id, replay) in &cached {
                    st.preset(*id, replay);
                }
                let delta_id = st.translate(&delta_node)?;
                let route_key = key.clone();
                let route = Partitioner::Hash(Arc::new(move |s: &S| hash_key(&route_key(s))));
                add_tail(&mut st, "solution set delta", delta_id, &delta, route)?;
                let next_id = st.translate(&next_node)?;
                add_tail(
                    &mut st,
                    "workset tail",
                    next_id,
                    &workset,
                    Partitioner::Forward,
                )?;
                let max = if empty { 0 } else { max_iterations };
                run_iteration(st, &node.name(), max, |superstep| {
                    // The barrier: every subtask is done; apply the delta in place and
                    // decide on the workset's size.
                    apply_delta(&tables, delta.take_next(), &key);
                    let size = workset.pending();
                    workset.advance();
                    tracing::debug!(superstep, workset = size, "delta iteration superstep done");
                    Ok(size > 0)
                })?;
                let partitions: Partitions<S> = tables
                    .iter()
                    .map(|slot| {
                        let table =
                            std::mem::take(&mut *slot.lock().unwrap_or_else(|p| p.into_inner()));
                        Arc::try_unwrap(table)
                            .unwrap_or_else(|shared| (*shared).clone())
                            .into_values()
                            .collect()
                    })
                    .collect();
                Ok(t.add_partition_source(&node.name(), PartitionSource::owned(partitions)))
            }),
        );
        DataSet::from_node(self.env.clone(), node)
    }
}
