//! The logical plan: what a [`crate::DataSet`] is until a job runs, and its translation into
//! the runtime's [`JobGraph`].
//!
//! Every DataSet is a [`PlanNode`]: a name, an optional parallelism, its input nodes and a
//! `build` closure that adds the node's physical operators to a graph once its inputs are
//! there. Plans are lazy, as Flink's: nothing runs until [`crate::DataSet::collect`] or
//! [`crate::ExecutionEnvironment::execute`] translates the nodes it needs (each once, even
//! when several consumers share it) and hands the graph to `eddy_runtime::execute` in batch
//! mode.
//!
//! Some nodes cannot be one operator of one job: an iteration runs its step graph superstep
//! after superstep (`eddy_runtime::iteration`), and a range partitioning samples its input
//! first. Their `build` runs those jobs during the translation ([`Translator::materialize`])
//! and adds a source of the materialized result to the graph being built. Placeholders (an
//! iteration's partial solution, workset and solution set) are bound, once per iteration, in
//! [`Bindings`].

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use eddy_runtime::memory::MemoryManager;
use eddy_runtime::partition::{key_group_for_hash, subtask_for_key_group};
use eddy_runtime::{Data, ExecutionConfig, JobGraph, JobResult, NodeId, Partitioner, Result};

use crate::io::sink::{settle, PendingFiles};
use crate::operators::collect::PartitionSink;
use crate::sources::partitions::PartitionSource;

/// Adds a node's operators to the graph, given the graph ids of its inputs; returns the id
/// of the operator whose output is the node's data set.
pub(crate) type BuildFn = Box<dyn Fn(&mut Translator, &PlanNode, &[NodeId]) -> Result<NodeId>>;

/// One logical operator of a DataSet program.
pub(crate) struct PlanNode {
    /// Unique within the process: the key of translation memos and bindings.
    pub(crate) id: usize,
    pub(crate) name: RefCell<String>,
    /// Set by [`crate::DataSet::set_parallelism`]; `None` takes the environment's.
    pub(crate) parallelism: Cell<Option<u32>>,
    /// An upper bound on the number of records, where known (collections): lets the join
    /// optimizer broadcast a small side.
    pub(crate) size_hint: Option<u64>,
    pub(crate) inputs: Vec<Rc<PlanNode>>,
    /// Nodes this one reads through jobs of its own (an iteration's initial inputs, a
    /// solution set), not through graph edges: they count for [`PlanNode::depends_on`].
    pub(crate) upstream: Vec<Rc<PlanNode>>,
    /// The node's `build` translates its inputs itself (and may skip one): a join that probes
    /// an iteration's index of a loop-invariant side does not need that side in the graph.
    pub(crate) lazy_inputs: Cell<bool>,
    pub(crate) build: BuildFn,
    /// Materializes this node (typed by its output) into a replay that a later translation
    /// can add instead of the node: how an iteration computes loop-invariant inputs once.
    pub(crate) cache: CacheFn,
}

/// Adds a source replaying a materialized node to a translation.
pub(crate) type Replay = Rc<dyn Fn(&mut Translator) -> NodeId>;

/// See [`PlanNode::cache`].
pub(crate) type CacheFn = fn(&Translator, &Rc<PlanNode>) -> Result<Replay>;

/// The [`CacheFn`] of nodes whose output is `T`.
fn cache_of<T: Data>(t: &Translator, node: &Rc<PlanNode>) -> Result<Replay> {
    let partitions: Partitions<T> = t.materialize(node)?;
    let name = format!("{} (cached)", node.name());
    // Shared: an iteration's step graph runs this source once per superstep.
    let source = PartitionSource::shared(partitions);
    Ok(Rc::new(move |t: &mut Translator| {
        t.add_partition_source(&name, source.clone())
    }))
}

static NEXT_NODE_ID: AtomicUsize = AtomicUsize::new(0);

impl PlanNode {
    /// A node whose output is a data set of `T`.
    pub(crate) fn new<T: Data>(
        name: &str,
        parallelism: Option<u32>,
        inputs: Vec<Rc<PlanNode>>,
        build: BuildFn,
    ) -> Rc<PlanNode> {
        Self::with_upstream::<T>(name, parallelism, inputs, Vec::new(), build)
    }

    /// [`PlanNode::new`] for a node that also reads `upstream` through jobs of its own.
    pub(crate) fn with_upstream<T: Data>(
        name: &str,
        parallelism: Option<u32>,
        inputs: Vec<Rc<PlanNode>>,
        upstream: Vec<Rc<PlanNode>>,
        build: BuildFn,
    ) -> Rc<PlanNode> {
        Rc::new(PlanNode {
            id: NEXT_NODE_ID.fetch_add(1, Ordering::Relaxed),
            name: RefCell::new(name.to_string()),
            parallelism: Cell::new(parallelism),
            size_hint: None,
            inputs,
            upstream,
            lazy_inputs: Cell::new(false),
            build,
            cache: cache_of::<T>,
        })
    }

    /// [`PlanNode::new`] with a known bound on the number of records.
    pub(crate) fn with_size_hint(mut self: Rc<Self>, hint: Option<u64>) -> Rc<Self> {
        if let Some(node) = Rc::get_mut(&mut self) {
            node.size_hint = hint;
        }
        self
    }

    pub(crate) fn name(&self) -> String {
        self.name.borrow().clone()
    }

    /// Whether this node or anything upstream is one of `placeholders`.
    pub(crate) fn depends_on(&self, placeholders: &[usize]) -> bool {
        placeholders.contains(&self.id)
            || self
                .inputs
                .iter()
                .chain(&self.upstream)
                .any(|i| i.depends_on(placeholders))
    }
}

/// Values bound to placeholder nodes for one translation (a superstep's partial solution,
/// workset or solution set): node id to a type-erased `Arc` the placeholder downcasts.
pub(crate) type Bindings = Rc<HashMap<usize, Rc<dyn Any>>>;

/// The data of a materialized data set: one vector per partition (subtask).
pub(crate) type Partitions<T> = Vec<Vec<T>>;

/// What a translation needs to know beyond the runtime's configuration.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) config: ExecutionConfig,
    /// The budget sorts, hash tables and buffers draw on (shared by the environment's jobs).
    pub(crate) memory: MemoryManager,
}

/// Turns plan nodes into a [`JobGraph`], each node once.
pub(crate) struct Translator {
    pub(crate) graph: JobGraph,
    pub(crate) settings: Settings,
    pub(crate) bindings: Bindings,
    pub(crate) pending: PendingFiles,
    /// In a superstep: the loop-invariant nodes it replays from the iteration's cache.
    pub(crate) invariant: Rc<Vec<usize>>,
    /// In a superstep: what operators keep across the supersteps of their iteration (the
    /// index of a loop-invariant join side), by plan node id.
    pub(crate) iteration_state: IterationState,
    memo: HashMap<usize, NodeId>,
}

/// State kept across the supersteps of one iteration, by plan node id.
pub(crate) type IterationState = Rc<RefCell<HashMap<usize, Rc<dyn Any>>>>;

impl Translator {
    pub(crate) fn new(settings: Settings, bindings: Bindings) -> Self {
        Translator {
            graph: JobGraph::new(),
            settings,
            bindings,
            pending: PendingFiles::default(),
            invariant: Rc::default(),
            iteration_state: Rc::default(),
            memo: HashMap::new(),
        }
    }

    /// The graph id of `node`'s output, adding it (and its inputs) on first use.
    pub(crate) fn translate(&mut self, node: &Rc<PlanNode>) -> Result<NodeId> {
        if let Some(id) = self.memo.get(&node.id) {
            return Ok(*id);
        }
        let inputs = if node.lazy_inputs.get() {
            Vec::new()
        } else {
            node.inputs
                .iter()
                .map(|input| self.translate(input))
                .collect::<Result<Vec<_>>>()?
        };
        let id = (node.build)(self, node, &inputs)?;
        self.memo.insert(node.id, id);
        Ok(id)
    }

    /// The parallelism `node` runs with.
    pub(crate) fn parallelism(&self, node: &PlanNode) -> u32 {
        node.parallelism
            .get()
            .unwrap_or(self.settings.config.parallelism)
            .max(1)
    }

    /// The parallelism of an operator already in the graph.
    pub(crate) fn parallelism_of(&self, id: NodeId) -> u32 {
        self.graph
            .node(id)
            .parallelism
            .unwrap_or(self.settings.config.parallelism)
    }

    /// Connects two graph nodes (of one translation, so their types match).
    pub(crate) fn connect<T: Data>(
        &mut self,
        from: NodeId,
        to: NodeId,
        partitioner: Partitioner<T>,
    ) -> Result<()> {
        self.graph.connect(from, to, partitioner)
    }

    /// The value bound to placeholder `node`.
    pub(crate) fn binding<V: 'static>(&self, node: &PlanNode) -> Result<Rc<V>> {
        let value = self.bindings.get(&node.id).cloned().ok_or_else(|| {
            eddy_runtime::Error::InvalidGraph(format!(
                "'{}' belongs to an iteration and is used outside of its step function",
                node.name()
            ))
        })?;
        value.downcast::<V>().map_err(|_| {
            eddy_runtime::Error::Internal(format!("binding of '{}' has another type", node.name()))
        })
    }

    /// Runs `node` as a job of its own (with this translation's bindings) and returns its
    /// output, partition by partition.
    pub(crate) fn materialize<T: Data>(&self, node: &Rc<PlanNode>) -> Result<Partitions<T>> {
        materialize(&self.settings, self.bindings.clone(), node)
    }

    /// Uses `replay` wherever `node` is needed in this translation.
    pub(crate) fn preset(&mut self, node: usize, replay: &Replay) {
        let id = replay(self);
        self.memo.insert(node, id);
    }

    /// Adds a source replaying materialized partitions, one subtask per partition.
    pub(crate) fn add_partition_source<T: Data>(
        &mut self,
        name: &str,
        partitions: PartitionSource<T>,
    ) -> NodeId {
        let parallelism = partitions.len().max(1) as u32;
        self.graph
            .add_source(name, parallelism, true, move |_| partitions.boxed())
    }

    /// Runs the graph built so far; files written by sinks are renamed into place only if
    /// the job succeeded.
    pub(crate) fn run(self, job_name: &str) -> Result<JobResult> {
        let Translator {
            graph,
            settings,
            pending,
            ..
        } = self;
        tracing::debug!(
            job = job_name,
            nodes = graph.nodes().len(),
            "running DataSet job"
        );
        let result = eddy_runtime::execute(&graph, &settings.config);
        drop(graph);
        settle(&pending, result.is_ok())?;
        result
    }
}

/// Runs `node` as a job and returns its output partitions (one per subtask of `node`).
pub(crate) fn materialize<T: Data>(
    settings: &Settings,
    bindings: Bindings,
    node: &Rc<PlanNode>,
) -> Result<Partitions<T>> {
    let mut translator = Translator::new(settings.clone(), bindings);
    let producer = translator.translate(node)?;
    let parallelism = translator.parallelism_of(producer);
    let slots: Arc<Vec<Mutex<Vec<T>>>> =
        Arc::new((0..parallelism).map(|_| Mutex::new(Vec::new())).collect());
    let sink_slots = slots.clone();
    let sink = translator
        .graph
        .add_operator("materialize", parallelism, move || {
            Box::new(PartitionSink::new(sink_slots.clone()))
        });
    translator.connect(producer, sink, Partitioner::<T>::Forward)?;
    translator.run(&format!("materialize {}", node.name()))?;
    let slots = Arc::try_unwrap(slots).map_err(|_| {
        eddy_runtime::Error::Internal("materialized partitions still shared".into())
    })?;
    Ok(slots
        .into_iter()
        .map(|m| m.into_inner().unwrap_or_else(|p| p.into_inner()))
        .collect())
}

/// For each subtask of `parallelism`, a hash value that the runtime's key-group routing sends
/// to that subtask: lets a hash edge route a record to a chosen subtask (custom and range
/// partitioning, and the end markers of two-input operators).
pub(crate) fn hashes_for_subtasks(parallelism: u32, max_parallelism: u32) -> Vec<u64> {
    let mut found: Vec<Option<u64>> = vec![None; parallelism as usize];
    let mut missing = parallelism as usize;
    let mut h = 0u64;
    // Every subtask owns at least one key group (parallelism <= max parallelism), and the
    // mixing hash spreads consecutive values over the groups, so this ends quickly.
    while missing > 0 && h < 1 << 24 {
        let group = key_group_for_hash(h, max_parallelism);
        let subtask = subtask_for_key_group(group, max_parallelism, parallelism) as usize;
        if found[subtask].is_none() {
            found[subtask] = Some(h);
            missing -= 1;
        }
        h += 1;
    }
    found.into_iter().map(|h| h.unwrap_or(0)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crafted_hashes_reach_their_subtasks() {
        for (p, m) in [(1, 128), (3, 128), (4, 128), (7, 7), (128, 128)] {
            let hashes = hashes_for_subtasks(p, m);
            for (s, h) in hashes.iter().enumerate() {
                assert_eq!(
                    subtask_for_key_group(key_group_for_hash(*h, m), m, p) as usize,
                    s
                );
            }
        }
    }
}
