//! The logical job graph: operators (nodes) joined by partitioned edges.
//!
//! The APIs build a [`JobGraph`] with typed calls ([`JobGraph::add_source`],
//! [`JobGraph::add_operator`], [`JobGraph::connect`]); the graph erases the types so that one
//! plan can hold operators of many types, and keeps what the executor needs to instantiate each
//! subtask with its types restored.
//!
//! ```
//! use eddy_runtime::{execute, ExecutionConfig, JobGraph, Operator, Output, Partitioner, Record, Result};
//! use eddy_runtime::operator::{Source, SourceContext, SourceStatus};
//!
//! struct Numbers(u64);
//! impl Source<u64> for Numbers {
//!     fn poll(&mut self, out: &mut dyn Output<u64>) -> Result<SourceStatus> {
//!         if self.0 == 0 { return Ok(SourceStatus::Finished); }
//!         self.0 -= 1;
//!         out.collect(Record::new(self.0))?;
//!         Ok(SourceStatus::More)
//!     }
//! }
//! struct Square;
//! impl Operator<u64, u64> for Square {
//!     fn process_record(&mut self, r: Record<u64>, out: &mut dyn Output<u64>) -> Result<()> {
//!         out.collect(r.replace(r.value * r.value))
//!     }
//! }
//!
//! let mut graph = JobGraph::new();
//! let source = graph.add_source("numbers", 1, true, |_: &SourceContext| Box::new(Numbers(4)));
//! let square = graph.add_operator("square", 1, || Box::new(Square));
//! graph.connect(source, square, Partitioner::<u64>::Forward).unwrap();
//! let result = execute(&graph, &ExecutionConfig::default()).unwrap();
//! assert_eq!(result.operator("square").unwrap().records_out, 4);
//! ```

use std::any::{Any, TypeId};
use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender};

use crate::channel::{bounded, ChannelWriter};
use crate::checkpoint::RestoredState;
use crate::data::Data;
use crate::element::Envelope;
use crate::operator::{Operator, Source, SourceContext};
use crate::partition::{PartitionKind, Partitioner};
use crate::state::StateBackend;
use crate::task::{
    ChainedOperator, FailureFlag, InputTask, Link, NodeMetrics, NodeOutput, SourceTask,
    SubtaskInfo, TaskBody,
};
use crate::{Error, Result};

/// Identifies a node of a [`JobGraph`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NodeId(pub usize);

/// A type-erased value whose type the node that made it knows.
pub(crate) type AnyBox = Box<dyn Any + Send>;

/// One operator or source of the logical graph.
pub struct Node {
    /// Display name (also used in errors and metrics).
    pub name: String,
    /// Number of parallel subtasks; `None` takes the job's default.
    pub parallelism: Option<u32>,
    /// For sources: whether the input is finite.
    pub bounded: Option<bool>,
    /// A stable id that matches the operator's state in a checkpoint or savepoint to it;
    /// `None` derives one from the name.
    pub uid: Option<String>,
    pub(crate) inputs: Vec<usize>,
    pub(crate) outputs: Vec<usize>,
    pub(crate) imp: Box<dyn NodeImpl>,
}

/// A partitioned connection from a producer to a consumer.
pub struct Edge {
    /// Producer.
    pub from: NodeId,
    /// Consumer.
    pub to: NodeId,
    /// How records are distributed (before the forward-to-rebalance adjustment of planning).
    pub kind: PartitionKind,
    /// The typed `Partitioner<T>`, for the producer's writer.
    pub(crate) partitioner: Box<dyn Any + Send + Sync>,
}

/// A logical job: nodes and the edges between them.
#[derive(Default)]
pub struct JobGraph {
    pub(crate) nodes: Vec<Node>,
    pub(crate) edges: Vec<Edge>,
}

impl JobGraph {
    /// An empty graph.
    pub fn new() -> Self {
        JobGraph::default()
    }

    /// Adds a source. `factory` makes the source of each subtask; `bounded` says whether the
    /// input is finite (which decides [`crate::RuntimeMode::Automatic`]).
    pub fn add_source<O, F>(
        &mut self,
        name: impl Into<String>,
        parallelism: u32,
        bounded: bool,
        factory: F,
    ) -> NodeId
    where
        O: Data,
        F: Fn(&SourceContext) -> Box<dyn Source<O>> + Send + Sync + 'static,
    {
        self.push(
            name.into(),
            Some(parallelism),
            Some(bounded),
            Box::new(SourceNode::<O> {
                factory: Arc::new(factory),
            }),
        )
    }

    /// Adds an operator; `factory` makes the operator of each subtask.
    pub fn add_operator<I, O, F>(
        &mut self,
        name: impl Into<String>,
        parallelism: u32,
        factory: F,
    ) -> NodeId
    where
        I: Data,
        O: Data,
        F: Fn() -> Box<dyn Operator<I, O>> + Send + Sync + 'static,
    {
        self.push(
            name.into(),
            Some(parallelism),
            None,
            Box::new(OperatorNode::<I, O> {
                factory: Arc::new(factory),
            }),
        )
    }

    fn push(
        &mut self,
        name: String,
        parallelism: Option<u32>,
        bounded: Option<bool>,
        imp: Box<dyn NodeImpl>,
    ) -> NodeId {
        self.nodes.push(Node {
            name,
            parallelism: parallelism.filter(|p| *p > 0),
            bounded,
            uid: None,
            inputs: Vec::new(),
            outputs: Vec::new(),
            imp,
        });
        NodeId(self.nodes.len() - 1)
    }

    /// Connects `from`'s output to `to`'s input.
    ///
    /// # Errors
    /// [`Error::InvalidGraph`] when a node does not exist, `to` is a source, or the types of
    /// the two sides differ from `T`.
    pub fn connect<T: Data>(
        &mut self,
        from: NodeId,
        to: NodeId,
        partitioner: Partitioner<T>,
    ) -> Result<()> {
        let (Some(producer), Some(consumer)) = (self.nodes.get(from.0), self.nodes.get(to.0))
        else {
            return Err(Error::InvalidGraph(format!("no node {from:?} or {to:?}")));
        };
        let want = TypeId::of::<T>();
        if producer.imp.output_type() != want || consumer.imp.input_type() != Some(want) {
            return Err(Error::InvalidGraph(format!(
                "edge '{}' -> '{}' does not match the types of its ends",
                producer.name, consumer.name
            )));
        }
        self.edges.push(Edge {
            from,
            to,
            kind: partitioner.kind(),
            partitioner: Box::new(partitioner),
        });
        let edge = self.edges.len() - 1;
        self.nodes[from.0].outputs.push(edge);
        self.nodes[to.0].inputs.push(edge);
        Ok(())
    }

    /// Sets the parallelism of a node.
    pub fn set_parallelism(&mut self, node: NodeId, parallelism: u32) {
        if let Some(n) = self.nodes.get_mut(node.0) {
            n.parallelism = Some(parallelism.max(1));
        }
    }

    /// Sets the stable uid of a node, by which checkpoints and savepoints find its state.
    pub fn set_uid(&mut self, node: NodeId, uid: &str) {
        if let Some(n) = self.nodes.get_mut(node.0) {
            n.uid = Some(uid.to_string());
        }
    }

    /// Renames a node.
    pub fn rename(&mut self, node: NodeId, name: &str) {
        if let Some(n) = self.nodes.get_mut(node.0) {
            n.name = name.to_string();
        }
    }

    /// The node with this id.
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.0]
    }

    /// All nodes, in insertion order (a topological order: edges only point forward).
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// All edges.
    pub fn edges(&self) -> &[Edge] {
        &self.edges
    }
}

/// What the executor needs to build one output-side link of a node.
pub(crate) struct WriterSpec<'a> {
    pub(crate) senders: &'a AnyBox,
    pub(crate) partitioner: &'a (dyn Any + Send + Sync),
    pub(crate) kind: PartitionKind,
    pub(crate) producer_subtask: u32,
    pub(crate) channel: u32,
    pub(crate) batch_size: usize,
    pub(crate) max_parallelism: u32,
}

/// The typed operations of a node, behind an object-safe interface.
pub(crate) trait NodeImpl: Send + Sync {
    fn input_type(&self) -> Option<TypeId>;
    fn output_type(&self) -> TypeId;
    /// `parallelism` queues of this node's input type: (`Vec<Sender>`, each `Receiver`).
    fn make_queues(&self, parallelism: usize, capacity: usize) -> Result<(AnyBox, Vec<AnyBox>)>;
    /// A writer of this node's output type into a consumer's queues: `Box<dyn Link<O>>`.
    fn writer(&self, spec: WriterSpec<'_>) -> Result<AnyBox>;
    /// This node's output over its consumer links: `Vec<Box<dyn Link<O>>>` -> `NodeOutput<O>`.
    fn output(&self, links: Vec<AnyBox>, metrics: Arc<NodeMetrics>) -> Result<AnyBox>;
    /// This node's operator in front of `output`: `NodeOutput<O>` -> `Box<dyn Link<I>>`,
    /// with its state restored from `restored`.
    fn chain(
        &self,
        name: Arc<str>,
        info: SubtaskInfo,
        restored: RestoredState,
        output: AnyBox,
        metrics: Arc<NodeMetrics>,
    ) -> Result<AnyBox>;
    /// The task of a chain headed by this node, fed by a queue.
    fn input_task(
        &self,
        receiver: AnyBox,
        channels: usize,
        head: AnyBox,
        aligned: bool,
    ) -> Result<Box<dyn TaskBody>>;
    /// The task of a chain headed by this source.
    fn source_task(&self, spec: SourceTaskSpec) -> Result<Box<dyn TaskBody>>;
}

/// What the executor hands a source node to build its task.
pub(crate) struct SourceTaskSpec {
    pub(crate) name: Arc<str>,
    pub(crate) context: SourceContext,
    pub(crate) info: SubtaskInfo,
    pub(crate) restored: RestoredState,
    pub(crate) output: AnyBox,
    pub(crate) failed: FailureFlag,
    pub(crate) throttle: Option<f64>,
}

fn downcast<T: 'static>(value: AnyBox, what: &str) -> Result<T> {
    value
        .downcast::<T>()
        .map(|b| *b)
        .map_err(|_| Error::Internal(format!("type mismatch building {what}")))
}

/// The output-side operations, shared by sources and operators producing `O`.
fn writer_of<O: Data>(spec: WriterSpec<'_>) -> Result<AnyBox> {
    let senders = spec
        .senders
        .downcast_ref::<Vec<Sender<Envelope<O>>>>()
        .ok_or_else(|| Error::Internal("queue type mismatch".into()))?;
    let partitioner = spec
        .partitioner
        .downcast_ref::<Partitioner<O>>()
        .ok_or_else(|| Error::Internal("partitioner type mismatch".into()))?
        .clone();
    let targets = if spec.kind == PartitionKind::Forward {
        vec![senders[spec.producer_subtask as usize].clone()]
    } else {
        senders.clone()
    };
    let writer = ChannelWriter::new(
        targets,
        spec.channel,
        spec.kind,
        partitioner,
        spec.batch_size,
        spec.max_parallelism,
    );
    Ok(Box::new(Box::new(writer) as Box<dyn Link<O>>))
}

fn output_of<O: Data>(links: Vec<AnyBox>, metrics: Arc<NodeMetrics>) -> Result<AnyBox> {
    let links = links
        .into_iter()
        .map(|l| downcast::<Box<dyn Link<O>>>(l, "an output"))
        .collect::<Result<Vec<_>>>()?;
    Ok(Box::new(NodeOutput::new(links, metrics)))
}

impl<O: Data> Link<O> for ChannelWriter<O> {
    fn open(&mut self) -> Result<()> {
        Ok(())
    }
}

/// Makes the source of one subtask.
type SourceFactory<O> = Arc<dyn Fn(&SourceContext) -> Box<dyn Source<O>> + Send + Sync>;

struct SourceNode<O> {
    factory: SourceFactory<O>,
}

impl<O: Data> NodeImpl for SourceNode<O> {
    fn input_type(&self) -> Option<TypeId> {
        None
    }
    fn output_type(&self) -> TypeId {
        TypeId::of::<O>()
    }
    fn make_queues(&self, _: usize, _: usize) -> Result<(AnyBox, Vec<AnyBox>)> {
        Err(Error::Internal("a source has no input queue".into()))
    }
    fn writer(&self, spec: WriterSpec<'_>) -> Result<AnyBox> {
        writer_of::<O>(spec)
    }
    fn output(&self, links: Vec<AnyBox>, metrics: Arc<NodeMetrics>) -> Result<AnyBox> {
        output_of::<O>(links, metrics)
    }
    fn chain(
        &self,
        _: Arc<str>,
        _: SubtaskInfo,
        _: RestoredState,
        _: AnyBox,
        _: Arc<NodeMetrics>,
    ) -> Result<AnyBox> {
        Err(Error::Internal(
            "a source cannot be chained behind an operator".into(),
        ))
    }
    fn input_task(&self, _: AnyBox, _: usize, _: AnyBox, _: bool) -> Result<Box<dyn TaskBody>> {
        Err(Error::Internal("a source has no input".into()))
    }
    fn source_task(&self, spec: SourceTaskSpec) -> Result<Box<dyn TaskBody>> {
        Ok(Box::new(SourceTask {
            name: spec.name,
            source: (self.factory)(&spec.context),
            context: spec.context,
            output: downcast::<NodeOutput<O>>(spec.output, "a source output")?,
            failed: spec.failed,
            info: spec.info,
            restored: spec.restored,
            throttle: spec.throttle,
        }))
    }
}

struct OperatorNode<I, O> {
    factory: Arc<dyn Fn() -> Box<dyn Operator<I, O>> + Send + Sync>,
}

impl<I: Data, O: Data> NodeImpl for OperatorNode<I, O> {
    fn input_type(&self) -> Option<TypeId> {
        Some(TypeId::of::<I>())
    }
    fn output_type(&self) -> TypeId {
        TypeId::of::<O>()
    }
    fn make_queues(&self, parallelism: usize, capacity: usize) -> Result<(AnyBox, Vec<AnyBox>)> {
        let (senders, receivers): (Vec<Sender<_>>, Vec<Receiver<_>>) =
            (0..parallelism).map(|_| bounded::<I>(capacity)).unzip();
        let receivers = receivers
            .into_iter()
            .map(|r| Box::new(r) as AnyBox)
            .collect();
        Ok((Box::new(senders), receivers))
    }
    fn writer(&self, spec: WriterSpec<'_>) -> Result<AnyBox> {
        writer_of::<O>(spec)
    }
    fn output(&self, links: Vec<AnyBox>, metrics: Arc<NodeMetrics>) -> Result<AnyBox> {
        output_of::<O>(links, metrics)
    }
    fn chain(
        &self,
        name: Arc<str>,
        info: SubtaskInfo,
        restored: RestoredState,
        output: AnyBox,
        metrics: Arc<NodeMetrics>,
    ) -> Result<AnyBox> {
        let next = downcast::<NodeOutput<O>>(output, "an operator output")?;
        let state: Box<dyn StateBackend> = crate::state::create_backend(
            &info.state_backend,
            info.clock.clone(),
            info.key_groups(),
            info.max_parallelism,
            restored,
        )?;
        let chained = ChainedOperator::new(name, (self.factory)(), next, info, state, metrics);
        Ok(Box::new(Box::new(chained) as Box<dyn Link<I>>))
    }
    fn input_task(
        &self,
        receiver: AnyBox,
        channels: usize,
        head: AnyBox,
        aligned: bool,
    ) -> Result<Box<dyn TaskBody>> {
        Ok(Box::new(InputTask {
            receiver: downcast::<Receiver<Envelope<I>>>(receiver, "an input queue")?,
            num_channels: channels,
            head: downcast::<Box<dyn Link<I>>>(head, "a chain head")?,
            aligned,
        }))
    }
    fn source_task(&self, _: SourceTaskSpec) -> Result<Box<dyn TaskBody>> {
        Err(Error::Internal("an operator is not a source".into()))
    }
}
