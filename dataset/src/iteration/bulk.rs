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

use eddy_runtime::iteration::{Aggregator, CountInto, Feedback, FeedbackSource};
use eddy_runtime::{Data, Partitioner, Result};

use super::{add_tail, cache_invariants, run_iteration, spread};
use crate::data_set::DataSet;
use crate::plan::{PlanNode, Translator};
use crate::sources::partitions::PartitionSource;

/// Adds a termination criterion's counting sink to the step graph.
type CriterionSink = Rc<dyn Fn(&mut Translator) -> Result<Aggregator>>;

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
    // The iteration head: reads what the previous superstep fed back.
    let placeholder = PlanNode::new::<T>(
        "partial solution",
        None,
        Vec::new(),
        Box::new(|t, node, _| {
            let feedback: Feedback<T> = (*t.binding::<Feedback<T>>(node)?).clone();
            let p = feedback.parallelism();
            Ok(t.graph.add_source(node.name(), p, true, move |_| {
                Box::new(FeedbackSource::new(feedback.clone()))
            }))
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
            let count = Aggregator::default();
            let shared = count.clone();
            let p = st.parallelism_of(id);
            let sink = st
                .graph
                .add_operator::<C, (), _>("termination criterion", p, move || {
                    Box::new(CountInto(shared.clone()))
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
            let p = t.parallelism(node);
            let feedback = Feedback::with_initial(spread(t.materialize(&initial_node)?, p));
            let mut roots = vec![next_node.clone()];
            roots.extend(criterion_node.clone());
            let cached = cache_invariants(t, &roots, &[placeholder.id])?;
            let mut bindings = (*t.bindings).clone();
            bindings.insert(placeholder.id, Rc::new(feedback.clone()) as Rc<dyn Any>);
            // The step graph, translated once and run superstep after superstep.
            let mut st = Translator::new(t.settings.clone(), Rc::new(bindings));
            st.invariant = Rc::new(cached.iter().map(|c| c.0).collect());
            for (id, replay) in &cached {
                st.preset(*id, replay);
            }
            let next_id = st.translate(&next_node)?;
            add_tail::<T>(
                &mut st,
                "iteration tail",
                next_id,
                &feedback,
                Partitioner::Forward,
            )?;
            let count = match &criterion_sink {
                Some(sink) => Some(sink(&mut st)?),
                None => None,
            };
            run_iteration(st, &node.name(), max_iterations, |superstep| {
                feedback.advance();
                let remaining = count.as_ref().map(Aggregator::take);
                tracing::debug!(superstep, criterion = ?remaining, "bulk iteration superstep done");
                Ok(remaining != Some(0))
            })?;
            let partitions = feedback.into_partitions();
            Ok(t.add_partition_source(&node.name(), PartitionSource::owned(partitions)))
        }),
    );
    DataSet::from_node(initial.env.clone(), node)
}
