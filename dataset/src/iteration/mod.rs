//! Iterations: [`bulk`] (a step function applied to the whole partial solution, a fixed
//! number of times or until a termination criterion is empty) and [`delta`] (a solution set
//! updated by key from a shrinking workset, until the workset is empty).
//!
//! Which one to use: a bulk iteration recomputes everything each superstep (k-means,
//! PageRank with a fixed number of rounds); a delta iteration touches only what changed
//! (connected components, shortest paths), so its supersteps get cheaper as it converges.
//!
//! # Execution
//! An iteration is one step graph, translated once and run by the runtime's iteration
//! driver (`eddy_runtime::iteration`) superstep after superstep:
//! 1. the iteration's inputs run as a job; their output becomes the first superstep's
//!    feedback (the initial partial solution or workset), one partition per subtask;
//! 2. data sets the step function reads that do not depend on the iteration (the edges of a
//!    graph, the points of k-means) run once, before the first superstep. A join with one
//!    probes a hash index of it built once and kept for every superstep (Flink's cached
//!    static path); other uses replay it from memory;
//! 3. each superstep, the iteration head emits the feedback, the step's operators run, and
//!    the tails feed the next partial solution or workset back (moved, not copied). A delta
//!    iteration's solution set is one keyed hash table per subtask, partitioned like the hash
//!    edges that reach it; the delta's tail collects its changes by key, and they are applied
//!    to the tables in place at the superstep barrier, so every superstep reads the solution
//!    set as it was when it started;
//! 4. at the superstep barrier the termination criterion's count (bulk) or the workset's
//!    size (delta) decides globally whether the next superstep starts; the result replays the
//!    final partitions into the job that reads the iteration.
//!
//! The step function is called once, to build the step graph, so it can use every DataSet
//! operator, broadcast sets and joins included.

pub mod bulk;
pub mod delta;

use std::rc::Rc;

use eddy_runtime::iteration::{execute_iteration, Feedback, FeedbackSink, IterationResult};
use eddy_runtime::{Data, NodeId, Partitioner, Result};

use crate::io::sink::settle;
use crate::plan::{Partitions, PlanNode, Replay, Translator};

/// `parts` as exactly `parallelism` partitions (unchanged when the count matches, else
/// dealt round-robin): the first superstep's feedback.
fn spread<T>(parts: Partitions<T>, parallelism: u32) -> Partitions<T> {
    let p = parallelism.max(1) as usize;
    if parts.len() == p {
        return parts;
    }
    let mut out: Partitions<T> = (0..p).map(|_| Vec::new()).collect();
    for (i, x) in parts.into_iter().flatten().enumerate() {
        out[i % p].push(x);
    }
    out
}

/// Adds an iteration tail feeding `producer`'s output back into `feedback`, one subtask per
/// feedback slot, reached through `route`.
fn add_tail<T: Data>(
    st: &mut Translator,
    name: &str,
    producer: NodeId,
    feedback: &Feedback<T>,
    route: Partitioner<T>,
) -> Result<()> {
    let shared = feedback.clone();
    let tail = st
        .graph
        .add_operator(name, feedback.parallelism(), move || {
            Box::new(FeedbackSink::new(shared.clone()))
        });
    st.connect(producer, tail, route)
}

/// Runs a translated step graph as an iteration (see the module doc).
fn run_iteration(
    st: Translator,
    name: &str,
    max_supersteps: u32,
    end_of_superstep: impl FnMut(u32) -> Result<bool>,
) -> Result<IterationResult> {
    let result = execute_iteration(
        &st.graph,
        &st.settings.config,
        max_supersteps,
        end_of_superstep,
    );
    settle(&st.pending, result.is_ok())?;
    let result = result?;
    tracing::debug!(
        iteration = name,
        supersteps = result.supersteps,
        took = ?result.duration,
        "iteration done"
    );
    Ok(result)
}

/// Data sets under `roots` that do not depend on `placeholders` but feed a node that does:
/// what a superstep can take from a cache instead of computing again.
fn invariant_frontier(roots: &[Rc<PlanNode>], placeholders: &[usize]) -> Vec<Rc<PlanNode>> {
    fn visit(
        node: &Rc<PlanNode>,
        placeholders: &[usize],
        seen: &mut Vec<usize>,
        out: &mut Vec<Rc<PlanNode>>,
    ) {
        if seen.contains(&node.id) {
            return;
        }
        seen.push(node.id);
        for input in &node.inputs {
            if input.depends_on(placeholders) {
                visit(input, placeholders, seen, out);
            } else if !out.iter().any(|n| n.id == input.id) {
                out.push(input.clone());
            }
        }
    }
    let (mut seen, mut out) = (Vec::new(), Vec::new());
    for root in roots {
        if root.depends_on(placeholders) {
            visit(root, placeholders, &mut seen, &mut out);
        }
    }
    out
}

/// Materializes the loop-invariant inputs of a step function once.
fn cache_invariants(
    t: &Translator,
    roots: &[Rc<PlanNode>],
    placeholders: &[usize],
) -> Result<Vec<(usize, Replay)>> {
    invariant_frontier(roots, placeholders)
        .iter()
        .map(|node| Ok((node.id, (node.cache)(t, node)?)))
        .collect()
}
