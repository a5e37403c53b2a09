//! Iterations as runtime constructs, shared by the DataSet API (bulk and delta iterations),
//! Gelly and ML: one planned job whose step runs superstep after superstep, records fed
//! back from its tails to its heads, with a superstep barrier between supersteps.
//!
//! # Model
//! - The **step graph** is an ordinary [`JobGraph`]. Its iteration **heads** are sources that
//!   read what the previous superstep fed back ([`FeedbackSource`]); its **tails** are sinks
//!   that feed their input back ([`FeedbackSink`]) over the [`Feedback`] channel. Other
//!   sinks may count into [`Aggregator`]s (a termination criterion) or collect a delta.
//! - [`execute_iteration`] plans the graph once (parallelism, chaining, channels) and runs it
//!   superstep by superstep, each subtask as one task thread, exactly as [`crate::execute`]
//!   runs a job.
//! - **Superstep barrier.** Superstep n ends when every task of the step has finished it
//!   (every head emitted its feedback, every tail and aggregator has everything). Only then
//!   does the driver call the `end_of_superstep` control with n: it reads the aggregators,
//!   moves the feedback ([`Feedback::advance`]), applies a delta to a solution set, and
//!   decides globally whether superstep n+1 starts (termination criterion, empty workset,
//!   convergence). No record of superstep n+1 exists before that decision.
//! - **State across supersteps.** Operators are instantiated afresh for each superstep: that
//!   is their reset, so an operator needs no superstep protocol. What must outlive a superstep
//!   (a delta iteration's solution set, the hash table of a join's loop-invariant side) lives
//!   in iteration-scoped slots owned by the subtask that uses it, built once and updated in
//!   place; the records fed back move, partition by partition, without a copy.
//! - **Failure.** A task failing in a superstep fails the iteration with the root cause (a
//!   user function's error names its operator), as any job; tasks that still run see their
//!   neighbours disconnect and stop, so nothing hangs.
//!
//! ```
//! use eddy_runtime::iteration::{execute_iteration, Feedback, FeedbackSink, FeedbackSource};
//! use eddy_runtime::{ExecutionConfig, JobGraph, Operator, Output, Partitioner, Record, Result};
//!
//! /// Halves every number.
//! struct Halve;
//! impl Operator<u64, u64> for Halve {
//!     fn process_record(&mut self, r: Record<u64>, out: &mut dyn Output<u64>) -> Result<()> {
//!         out.collect(Record::new(r.value / 2))
//!     }
//! }
//!
//! let feedback = Feedback::with_initial(vec![vec![100u64, 40]]);
//! let mut graph = JobGraph::new();
//! let head_feedback = feedback.clone();
//! let head = graph.add_source("head", 1, true, move |_| Box::new(FeedbackSource::new(head_feedback.clone())));
//! let halve = graph.add_operator("halve", 1, || Box::new(Halve));
//! let tail_feedback = feedback.clone();
//! let tail = graph.add_operator("tail", 1, move || Box::new(FeedbackSink::new(tail_feedback.clone())));
//! graph.connect(head, halve, Partitioner::<u64>::Forward).unwrap();
//! graph.connect(halve, tail, Partitioner::<u64>::Forward).unwrap();
//! // Three supersteps: 100 -> 50 -> 25 -> 12 and 40 -> 20 -> 10 -> 5.
//! let result = execute_iteration(&graph, &ExecutionConfig::default(), 3, |_| {
//!     feedback.advance();
//!     Ok(true)
//! })
//! .unwrap();
//! assert_eq!(result.supersteps, 3);
//! assert_eq!(feedback.into_partitions(), vec![vec![12, 5]]);
//! ```

mod aggregator;
mod feedback;

pub use aggregator::{Aggregator, CountInto};
pub use feedback::{Feedback, FeedbackSink, FeedbackSource};

use std::time::{Duration, Instant};

use crate::executor::{run_attempt, ExecutionConfig, Plan};
use crate::graph::JobGraph;
use crate::{OperatorMetrics, Result};

/// What an iteration reports.
#[derive(Debug, Clone)]
pub struct IterationResult {
    /// Supersteps run (the last one included).
    pub supersteps: u32,
    /// Wall time of all supersteps.
    pub duration: Duration,
    /// Record counts of every operator of the step, summed over the supersteps.
    pub operators: Vec<OperatorMetrics>,
}

/// Runs the step graph `graph` superstep after superstep, at most `max_supersteps` times
/// (see the module doc). After each superstep `n` (its barrier), `end_of_superstep(n)`
/// moves the feedback and returns whether superstep `n + 1` starts.
///
/// Checkpointing is off inside an iteration (a bounded batch job restarts as a whole).
///
/// # Errors
/// An invalid graph; the root cause of a superstep's failure; an error of the control.
pub fn execute_iteration(
    graph: &JobGraph,
    config: &ExecutionConfig,
    max_supersteps: u32,
    mut end_of_superstep: impl FnMut(u32) -> Result<bool>,
) -> Result<IterationResult> {
    let config = ExecutionConfig {
        checkpointing: None,
        restore_from: None,
        ..config.clone()
    };
    let plan = Plan::new(graph, &config)?;
    let start = Instant::now();
    let mut operators: Vec<OperatorMetrics> = Vec::new();
    let mut supersteps = 0;
    while supersteps < max_supersteps {
        supersteps += 1;
        let result = run_attempt(graph, &config, &plan, None, &None, None, None)?;
        if operators.is_empty() {
            operators = result.operators;
        } else {
            for (total, step) in operators.iter_mut().zip(result.operators) {
                total.records_in += step.records_in;
                total.records_out += step.records_out;
                total.wall_time += step.wall_time;
            }
        }
        tracing::debug!(
            superstep = supersteps,
            took = ?result.duration,
            "superstep done"
        );
        if !end_of_superstep(supersteps)? {
            break;
        }
    }
    Ok(IterationResult {
        supersteps,
        duration: start.elapsed(),
        operators,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Error, Operator, Output, Partitioner, Record};

    /// Adds one to every value; panics on `panic_at`.
    struct Increment {
        panic_at: Option<u64>,
    }
    impl Operator<u64, u64> for Increment {
        fn process_record(&mut self, r: Record<u64>, out: &mut dyn Output<u64>) -> Result<()> {
            assert!(
                Some(r.value) != self.panic_at,
                "value {} is cursed",
                r.value
            );
            out.collect(Record::new(r.value + 1))
        }
    }

    /// Passes on values below 10 (the termination criterion's data set).
    struct BelowTen;
    impl Operator<u64, u64> for BelowTen {
        fn process_record(&mut self, r: Record<u64>, out: &mut dyn Output<u64>) -> Result<()> {
            if r.value < 10 {
                out.collect(r)?;
            }
            Ok(())
        }
    }

    /// head -> increment (p2, rebalanced) -> tail, and increment -> below ten -> count.
    fn step_graph(
        feedback: &Feedback<u64>,
        criterion: &Aggregator,
        panic_at: Option<u64>,
    ) -> JobGraph {
        let mut graph = JobGraph::new();
        let fb = feedback.clone();
        let head = graph.add_source("head", 2, true, move |_| {
            Box::new(FeedbackSource::new(fb.clone()))
        });
        let inc = graph.add_operator("increment", 2, move || Box::new(Increment { panic_at }));
        let fb = feedback.clone();
        let tail = graph.add_operator("tail", 2, move || Box::new(FeedbackSink::new(fb.clone())));
        let below = graph.add_operator("below ten", 1, || Box::new(BelowTen));
        let count = criterion.clone();
        let sink = graph
            .add_operator::<u64, (), _>("criterion", 1, move || Box::new(CountInto(count.clone())));
        graph
            .connect(head, inc, Partitioner::<u64>::Rebalance)
            .unwrap();
        graph
            .connect(inc, tail, Partitioner::<u64>::Forward)
            .unwrap();
        graph
            .connect(inc, below, Partitioner::<u64>::Forward)
            .unwrap();
        graph
            .connect(below, sink, Partitioner::<u64>::Forward)
            .unwrap();
        graph
    }

    #[test]
    fn supersteps_run_until_the_global_decision_stops_them() {
        let feedback = Feedback::with_initial(vec![vec![0, 5], vec![3]]);
        let criterion = Aggregator::default();
        let graph = step_graph(&feedback, &criterion, None);
        let mut seen = Vec::new();
        let result = execute_iteration(&graph, &ExecutionConfig::default(), 100, |n| {
            let below_ten = criterion.take();
            seen.push((n, below_ten, feedback.pending()));
            feedback.advance();
            Ok(below_ten > 0)
        })
        .unwrap();
        // Superstep n holds values n, n + 3 and n + 5; the last value reaches 10 at n = 10.
        assert_eq!(result.supersteps, 10);
        assert_eq!(seen.len(), 10);
        assert_eq!(seen[0], (1, 3, 3));
        assert_eq!(seen[4], (5, 2, 3));
        assert_eq!(seen[9], (10, 0, 3));
        let mut values: Vec<u64> = feedback.into_partitions().concat();
        values.sort_unstable();
        assert_eq!(values, vec![10, 13, 15]);
        let increment = result
            .operators
            .iter()
            .find(|o| o.name == "increment")
            .unwrap();
        assert_eq!(increment.records_in, 30);
    }

    #[test]
    fn max_supersteps_bounds_the_iteration_and_zero_runs_nothing() {
        let feedback = Feedback::with_initial(vec![vec![0], vec![]]);
        let criterion = Aggregator::default();
        let graph = step_graph(&feedback, &criterion, None);
        let control = |_| {
            feedback.advance();
            Ok(true)
        };
        let result = execute_iteration(&graph, &ExecutionConfig::default(), 4, control).unwrap();
        assert_eq!(result.supersteps, 4);
        let none = execute_iteration(&graph, &ExecutionConfig::default(), 0, |_| Ok(true)).unwrap();
        assert_eq!(none.supersteps, 0);
        assert_eq!(feedback.into_partitions().concat(), vec![4]);
    }

    #[test]
    fn a_failure_inside_a_step_names_the_operator_and_stops_the_iteration() {
        let feedback = Feedback::with_initial(vec![vec![0, 1], vec![2]]);
        let criterion = Aggregator::default();
        let graph = step_graph(&feedback, &criterion, Some(4));
        let mut supersteps = 0;
        let error = execute_iteration(&graph, &ExecutionConfig::default(), 100, |n| {
            supersteps = n;
            feedback.advance();
            Ok(true)
        })
        .unwrap_err();
        // Value 4 exists from superstep 3 on (2 + 2), so superstep 3 fails.
        assert_eq!(supersteps, 2);
        assert!(matches!(error, Error::UserFunction { .. }), "{error:?}");
        let message = error.to_string();
        assert!(
            message.contains("increment") && message.contains("cursed"),
            "{message}"
        );
    }
}
