//! Bulk iterations (Flink's `iterate`): the step function maps the partial solution to the
//! next one, a fixed number of times or until a termination criterion comes out empty.
//!
//! ```
//! // Halve every number until all are below 10 (at most 20 supersteps).
//! let mut out = eddy_dataset::example(|env| {
//!     env.from_collection(vec![100u64, 7, 40]).iterate_with_termination(20, |partial| {
//!         let next = partial.map(|x| if x >= 10 { x / 2 } else { x });
//!         let still_big = next.filter(|x| *x >= 10);
//!         (next, still_big)
//!     })
//! });
//! out.sort();
//! assert_eq!(out, vec![5, 6, 7]);
//! ```

use std::any::Any;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use eddy_runtime::{Data, Error, NodeId, Partitioner, Result};

use super::cache_invariants;
use crate::data_set::DataSet;
use crate::operators::collect::{CountSink, PartitionSink};
use crate::plan::{IterationState, Partitions, PlanNode, Translator};
use crate::sources::partitions::PartitionSource;

/// Adds a termination criterion's counting sink to a superstep's graph.
type CriterionSink = Rc<dyn Fn(&mut Translator) -> Result<Arc<AtomicU64>>>;

impl<T: Data> DataSet<T> {
    /// Applies `step` to this data set `iterations` times (Flink's `iterate`): the step
    /// function receives the partial solution and returns the next one.
    ///
    /// ```
    /// let out = eddy_dataset::example(|env| env.from_collection(vec![1u64]).iterate(10, |p| p.map(|x| x * 2)));
    /// assert_eq!(out, vec![1024]);
    /// ```
    pub fn iterate(
        &self,
        iterations: u32,
        step: impl FnOnce(&DataSet<T>) -> DataSet<T>,
    ) -> DataSet<T> {
        bulk_iteration::<T, ()>(self, iterations, |partial| (step(partial), None))
    }

    /// [`iterate`](Self::iterate) at most `max_iterations` times, stopping after the first
    /// superstep whose termination criterion (the second data set `step` returns) is empty.
    pub fn iterate_with_termination<C: Data>(
        &self,
        max_iterations: u32,
        step: impl FnOnce(&DataSet<T>) -> (DataSet<T>, DataSet<C>),
    ) -> DataSet<T> {
        bulk_iteration(self, max_iterations, |partial| {
            let (next, criterion) = step(partial);
            (next, Some(criterion))
        })
    }
}

fn bulk_iteration<T: Data, C: Data>(
    initial: &DataSet<T>,
    max_iterations: u32,
    step: impl FnOnce(&DataSet<T>) -> (DataSet<T>, Option<DataSet<C>>),
) -> DataSet<T> {
    let placeholder = PlanNode::new::<T>(
        "partial solution",
        None,
        Vec::new(),
        Box::new(|t, node, _| {
            let source = t.binding::<PartitionSource<T>>(node)?;
            Ok(t.add_partition_source(&node.name(), (*source).clone()))
        }),
    );
    let partial = DataSet::<T>::from_node(initial.env.clone(), placeholder.clone());
    let (next, criterion) = step(&partial);
    let mut upstream = vec![initial.node.clone(), next.node.clone()];
    let criterion_node = criterion.as_ref().map(|c| c.node.clone());
    let criterion_sink: Option<CriterionSink> = criterion.map(|c| {
        upstream.push(c.node.clone());
        let node = c.node.clone();
        Rc::new(move |st: &mut Translator| {
            let id = st.translate(&node)?;
            let count = Arc::new(AtomicU64::new(0));
            let shared = count.clone();
            let p = st.parallelism_of(id);
            let sink = st
                .graph
                .add_operator::<C, (), _>("termination criterion", p, move || {
                    Box::new(CountSink(shared.clone()))
                });
            st.connect(id, sink, Partitioner::<C>::Forward)?;
            Ok(count)
        }) as CriterionSink
    });
    let (initial_node, next_node) = (initial.node.clone(), next.node.clone());
    let node = PlanNode::with_upstream::<T>(
        "bulk iteration",
        None,
        Vec::new(),
        upstream,
        Box::new(move |t, node, _| {
            let mut partitions: Partitions<T> = t.materialize(&initial_node)?;
            let mut roots = vec![next_node.clone()];
            roots.extend(criterion_node.clone());
            let cached = cache_invariants(t, &roots, &[placeholder.id])?;
            let invariant: Rc<Vec<usize>> = Rc::new(cached.iter().map(|c| c.0).collect());
            let state = IterationState::default();
            for superstep in 1..=max_iterations {
                let mut bindings = (*t.bindings).clone();
                let source = PartitionSource::owned(std::mem::take(&mut partitions));
                bindings.insert(placeholder.id, Rc::new(source) as Rc<dyn Any>);
                let mut st = Translator::new(t.settings.clone(), Rc::new(bindings));
                st.invariant = invariant.clone();
                st.iteration_state = state.clone();
                for (id, replay) in &cached {
                    st.preset(*id, replay);
                }
                let next_id = st.translate(&next_node)?;
                let slots = add_partition_sink::<T>(&mut st, next_id)?;
                let count = match &criterion_sink {
                    Some(sink) => Some(sink(&mut st)?),
                    None => None,
                };
                st.run(&format!("{} superstep {superstep}", node.name()))?;
                partitions = take_slots(slots)?;
                let remaining = count.map(|c| c.load(Ordering::Relaxed));
                tracing::debug!(superstep, criterion = ?remaining, "bulk iteration superstep done");
                if remaining == Some(0) {
                    break;
                }
            }
            Ok(t.add_partition_source(&node.name(), PartitionSource::owned(partitions)))
        }),
    );
    DataSet::from_node(initial.env.clone(), node)
}

/// Slots a superstep's output is collected into, one per partition.
pub(crate) type Slots<T> = Arc<Vec<Mutex<Vec<T>>>>;

/// Adds a sink collecting `producer`'s output partition by partition.
pub(crate) fn add_partition_sink<T: Data>(
    st: &mut Translator,
    producer: NodeId,
) -> Result<Slots<T>> {
    let p = st.parallelism_of(producer);
    let slots: Slots<T> = Arc::new((0..p).map(|_| Mutex::new(Vec::new())).collect());
    let shared = slots.clone();
    let sink = st.graph.add_operator("superstep output", p, move || {
        Box::new(PartitionSink::new(shared.clone()))
    });
    st.connect(producer, sink, Partitioner::<T>::Forward)?;
    Ok(slots)
}

/// The collected partitions, once the job that filled them is over.
pub(crate) fn take_slots<T>(slots: Slots<T>) -> Result<Partitions<T>> {
    let slots = Arc::try_unwrap(slots)
        .map_err(|_| Error::Internal("superstep output still shared after its job".into()))?;
    Ok(slots
        .into_iter()
        .map(|m| m.into_inner().unwrap_or_else(|p| p.into_inner()))
        .collect())
}
