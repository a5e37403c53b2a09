//! Iterations: [`bulk`] (a step function applied to the whole partial solution, a fixed
//! number of times or until a termination criterion is empty) and [`delta`] (a solution set
//! updated by key from a shrinking workset, until the workset is empty).
//!
//! Which one to use: a bulk iteration recomputes everything each superstep (k-means,
//! PageRank with a fixed number of rounds); a delta iteration touches only what changed
//! (connected components, shortest paths), so its supersteps get cheaper as it converges.
//!
//! # Execution
//! This first increment runs each superstep as a job of its own over materialized
//! partitions, rather than as one job with a feedback edge (DESIGN.md's head, tail and
//! superstep barrier, still to come in the runtime):
//! 1. the iteration's inputs run as a job; their output is kept in memory, per partition;
//! 2. data sets the step function reads that do not depend on the iteration (the edges of a
//!    graph, the points of k-means) run once, before the first superstep, and are replayed
//!    from memory to every superstep;
//! 3. each superstep is a job: its partial solution or workset is replayed, partition by
//!    partition, and its output is collected for the next;
//! 4. the result replays the final partitions into the job that reads the iteration.
//!
//! The step function is called once, to build the plan of a superstep, so it can use every
//! DataSet operator, broadcast sets and joins included.

pub mod bulk;
pub mod delta;

use std::rc::Rc;

use eddy_runtime::Result;

use crate::plan::{PlanNode, Replay, Translator};

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
