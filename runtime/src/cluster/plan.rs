//! The job plan a cluster asks a job executable for (version 1 of the wire format).
//!
//! Run with `--plan` (or `EDDY_CLUSTER_MODE=plan`), an Eddy program stops at its first
//! `execute` and writes this description of the job instead of running it: every operator
//! with its stable uid and parallelism, every edge with its partitioning and whether it is
//! chained, the tasks (chains) the runtime would start, the max parallelism, and the
//! [`PROTOCOL_VERSION`] it was built with, so that a cluster can refuse a job built against an
//! incompatible runtime.
//!
//! ```
//! use eddy_runtime::cluster::plan::{PlanDescription, PROTOCOL_VERSION};
//!
//! let json = r#"{"protocol_version":1,"runtime_version":"0.1.0","job_name":"job",
//!   "mode":"BATCH","parallelism":2,"max_parallelism":128,
//!   "operators":[{"id":0,"uid":"numbers","name":"numbers","parallelism":2,"source":true,"chain":0}],
//!   "edges":[],"vertices":[{"id":0,"name":"numbers","parallelism":2,"operators":[0]}]}"#;
//! let plan = PlanDescription::from_json(json).unwrap();
//! assert_eq!(plan.protocol_version, PROTOCOL_VERSION);
//! assert_eq!(plan.tasks(), 2);
//! ```

use serde::{Deserialize, Serialize};

use crate::operator::RuntimeMode;
use crate::partition::PartitionKind;

/// The version of the protocol between a job executable and a cluster: the plan format, the
/// worker environment and the worker status file. A cluster runs only jobs of its own version.
pub const PROTOCOL_VERSION: u32 = 1;

/// A job's plan, as a job executable describes it to a cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanDescription {
    /// [`PROTOCOL_VERSION`] of the runtime the executable was built with.
    pub protocol_version: u32,
    /// The runtime crate's version, for messages.
    pub runtime_version: String,
    /// The job's name (its checkpoint id, as passed to `execute`).
    pub job_name: String,
    /// `BATCH` or `STREAMING`, as resolved for this job.
    pub mode: String,
    /// The job's default parallelism.
    pub parallelism: u32,
    /// The number of key groups (the highest parallelism the job can be rescaled to).
    pub max_parallelism: u32,
    /// Every operator, in graph order (a topological order).
    pub operators: Vec<OperatorDescription>,
    /// Every edge between operators.
    pub edges: Vec<EdgeDescription>,
    /// The tasks (chains of operators) the runtime starts, each `parallelism` times.
    pub vertices: Vec<VertexDescription>,
}

/// One operator of a [`PlanDescription`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorDescription {
    /// Its index in the plan.
    pub id: usize,
    /// The stable id its state is stored under in checkpoints and savepoints.
    pub uid: String,
    /// Its display name.
    pub name: String,
    /// Its number of subtasks.
    pub parallelism: u32,
    /// Whether it is a source.
    pub source: bool,
    /// The id of the vertex (chain) it runs in.
    pub chain: usize,
}

/// One edge of a [`PlanDescription`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EdgeDescription {
    /// The producing operator's id.
    pub from: usize,
    /// The consuming operator's id.
    pub to: usize,
    /// `FORWARD`, `REBALANCE`, `SHUFFLE`, `BROADCAST` or `HASH`, after planning.
    pub partitioning: String,
    /// Whether the two operators are fused into one task.
    pub chained: bool,
}

/// One vertex (a chain of operators run as one task per subtask) of a [`PlanDescription`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VertexDescription {
    /// Its index in the plan.
    pub id: usize,
    /// The names of its operators, joined by ` -> `.
    pub name: String,
    /// Its number of subtasks.
    pub parallelism: u32,
    /// The ids of its operators, head first.
    pub operators: Vec<usize>,
}

impl PlanDescription {
    /// Parses a plan from JSON.
    ///
    /// # Errors
    /// The JSON error, naming line and column.
    pub fn from_json(json: &str) -> serde_json::Result<Self> {
        serde_json::from_str(json)
    }

    /// The plan as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a plan serializes")
    }

    /// The number of tasks (subtasks of every vertex) the job runs.
    pub fn tasks(&self) -> u32 {
        self.vertices.iter().map(|v| v.parallelism).sum()
    }

    /// The highest parallelism of any operator: the slots the job needs with slot sharing.
    pub fn slots_needed(&self) -> u32 {
        self.operators
            .iter()
            .map(|o| o.parallelism)
            .max()
            .unwrap_or(1)
    }
}

/// What planning decided about a graph, handed over by the executor.
pub(crate) struct Physical {
    pub(crate) names: Vec<String>,
    pub(crate) sources: Vec<bool>,
    pub(crate) parallelism: Vec<u32>,
    pub(crate) uids: Vec<String>,
    pub(crate) head_of: Vec<usize>,
    pub(crate) chain_names: Vec<String>,
    /// (from, to, partitioning, chained) of every edge.
    pub(crate) edges: Vec<(usize, usize, PartitionKind, bool)>,
    pub(crate) mode: RuntimeMode,
}

impl Physical {
    /// The description of this plan.
    pub(crate) fn describe(
        self,
        job_name: &str,
        parallelism: u32,
        max_parallelism: u32,
    ) -> PlanDescription {
        let heads: Vec<usize> = (0..self.names.len())
            .filter(|&i| self.head_of[i] == i)
            .collect();
        let vertex_of = |node: usize| {
            heads
                .iter()
                .position(|&h| h == self.head_of[node])
                .unwrap_or(0)
        };
        let operators = (0..self.names.len())
            .map(|i| OperatorDescription {
                id: i,
                uid: self.uids[i].clone(),
                name: self.names[i].clone(),
                parallelism: self.parallelism[i],
                source: self.sources[i],
                chain: vertex_of(i),
            })
            .collect();
        let vertices = heads
            .iter()
            .enumerate()
            .map(|(v, &head)| VertexDescription {
                id: v,
                name: self.chain_names[head].clone(),
                parallelism: self.parallelism[head],
                operators: (0..self.names.len())
                    .filter(|&i| self.head_of[i] == head)
                    .collect(),
            })
            .collect();
        let edges = self
            .edges
            .iter()
            .map(|&(from, to, kind, chained)| EdgeDescription {
                from,
                to,
                partitioning: format!("{kind:?}").to_uppercase(),
                chained,
            })
            .collect();
        PlanDescription {
            protocol_version: PROTOCOL_VERSION,
            runtime_version: env!("CARGO_PKG_VERSION").to_string(),
            job_name: job_name.to_string(),
            mode: match self.mode {
                RuntimeMode::Streaming => "STREAMING",
                _ => "BATCH",
            }
            .to_string(),
            parallelism,
            max_parallelism,
            operators,
            edges,
            vertices,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operator::{Source, SourceContext, SourceStatus};
    use crate::{ExecutionConfig, JobGraph, Operator, Output, Partitioner, Record, Result};

    struct Nothing;
    impl Source<u64> for Nothing {
        fn poll(&mut self, _: &mut dyn Output<u64>) -> Result<SourceStatus> {
            Ok(SourceStatus::Finished)
        }
    }
    struct Same;
    impl Operator<u64, u64> for Same {
        fn process_record(&mut self, r: Record<u64>, out: &mut dyn Output<u64>) -> Result<()> {
            out.collect(r)
        }
    }

    #[test]
    fn chains_become_vertices_and_uids_are_stable() {
        // source (p1) -forward-> map (p2): rebalanced, not chained; map -forward-> sink:
        // chained; map -hash-> keyed: a new vertex.
        let mut graph = JobGraph::new();
        let source = graph.add_source("source", 1, true, |_: &SourceContext| Box::new(Nothing));
        let map = graph.add_operator("map", 2, || Box::new(Same));
        let sink = graph.add_operator("sink", 2, || Box::new(Same));
        let keyed = graph.add_operator("keyed", 0, || Box::new(Same));
        graph.set_uid(keyed, "my-keyed");
        graph
            .connect(source, map, Partitioner::<u64>::Forward)
            .unwrap();
        graph
            .connect(map, sink, Partitioner::<u64>::Forward)
            .unwrap();
        graph
            .connect(
                map,
                keyed,
                Partitioner::Hash(std::sync::Arc::new(|v: &u64| *v)),
            )
            .unwrap();
        let config = ExecutionConfig {
            parallelism: 3,
            ..ExecutionConfig::default()
        };
        let plan = crate::executor::physical(&graph, &config)
            .unwrap()
            .describe("job", 3, 128);
        let uids: Vec<&str> = plan.operators.iter().map(|o| o.uid.as_str()).collect();
        assert_eq!(uids, ["source", "map", "sink", "my-keyed"]);
        let vertices: Vec<(&str, u32, &[usize])> = plan
            .vertices
            .iter()
            .map(|v| (v.name.as_str(), v.parallelism, v.operators.as_slice()))
            .collect();
        assert_eq!(
            vertices,
            [
                ("source", 1, &[0][..]),
                ("map -> sink", 2, &[1, 2][..]),
                ("keyed", 3, &[3][..])
            ]
        );
        let edges: Vec<(&str, bool)> = plan
            .edges
            .iter()
            .map(|e| (e.partitioning.as_str(), e.chained))
            .collect();
        assert_eq!(
            edges,
            [("REBALANCE", false), ("FORWARD", true), ("HASH", false)]
        );
        assert_eq!(plan.tasks(), 6);
        assert_eq!(plan.slots_needed(), 3);
        let json = plan.to_json();
        assert_eq!(PlanDescription::from_json(&json).unwrap(), plan);
    }
}
