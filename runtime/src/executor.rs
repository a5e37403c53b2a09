//! The local executor: turns a [`JobGraph`] into chained tasks, one thread each, runs them to
//! the end and reports a [`JobResult`].
//!
//! Planning, in order:
//! 1. every node gets its parallelism (its own, or the job's default);
//! 2. a forward edge between nodes of different parallelism becomes rebalance;
//! 3. a forward edge into a node with that one input, at equal parallelism, is *chained*: the
//!    two operators run in one task, records passed by a direct call;
//! 4. every other node heads a chain and gets one bounded input queue per subtask.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::channel::DEFAULT_BATCH_SIZE;
use crate::checkpoint::config::{CheckpointConfig, CheckpointingMode, RestartStrategy};
use crate::checkpoint::control::JobControl;
use crate::checkpoint::coordinator::{CheckpointCoordinator, CheckpointHub, OperatorInfo};
use crate::checkpoint::storage::{CheckpointStorage, DirectoryStorage, LoadedCheckpoint};
use crate::checkpoint::RestoredState;
use crate::graph::{AnyBox, JobGraph, SourceTaskSpec, WriterSpec};
use crate::operator::{RuntimeMode, SourceContext};
use crate::partition::{KeyGroupRange, PartitionKind, DEFAULT_MAX_PARALLELISM};
use crate::task::{panic_message, NodeMetrics, SubtaskInfo, TaskBody};
use crate::time::{system_clock, Clock};
use crate::{Error, Result};

/// How a job is executed.
#[derive(Debug, Clone)]
pub struct ExecutionConfig {
    /// Parallelism of nodes that do not set their own.
    pub parallelism: u32,
    /// Number of key groups.
    pub max_parallelism: u32,
    /// Streaming, batch, or decided by the sources' boundedness.
    pub mode: RuntimeMode,
    /// Whether forward edges are fused into chains (turn off to test every exchange).
    pub chaining: bool,
    /// Records per channel batch.
    pub batch_size: usize,
    /// Batches a subtask's input queue holds per producer channel before producers block.
    pub queue_batches_per_channel: usize,
    /// Processing time for timers and state TTL.
    pub clock: Arc<dyn Clock>,
    /// Names the job: its checkpoints live in `<checkpoint dir>/<job_id>/`.
    pub job_id: String,
    /// Checkpointing, when enabled.
    pub checkpointing: Option<CheckpointConfig>,
    /// Restore from this checkpoint or savepoint (its directory or `_metadata` file) instead
    /// of the latest checkpoint in the checkpoint directory.
    pub restore_from: Option<PathBuf>,
    /// Start even when the checkpoint holds state of an operator the job no longer has.
    pub allow_non_restored_state: bool,
    /// What to do when a task fails.
    pub restart_strategy: RestartStrategy,
    /// At most this many records per second from each source (over all its subtasks).
    pub source_throttle: Option<f64>,
    /// Where keyed state lives.
    pub state_backend: crate::state::StateBackendKind,
}

impl Default for ExecutionConfig {
    fn default() -> Self {
        ExecutionConfig {
            parallelism: 1,
            max_parallelism: DEFAULT_MAX_PARALLELISM,
            mode: RuntimeMode::Automatic,
            chaining: true,
            batch_size: DEFAULT_BATCH_SIZE,
            queue_batches_per_channel: 4,
            clock: system_clock(),
            job_id: "job".into(),
            checkpointing: None,
            restore_from: None,
            allow_non_restored_state: false,
            restart_strategy: RestartStrategy::None,
            source_throttle: None,
            state_backend: crate::state::StateBackendKind::Heap,
        }
    }
}

/// Record counts of one operator, summed over its subtasks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorMetrics {
    /// The operator's name.
    pub name: String,
    /// Its number of subtasks.
    pub parallelism: u32,
    /// Records it received (0 for sources).
    pub records_in: u64,
    /// Records it emitted.
    pub records_out: u64,
    /// How long its longest-running subtask's task ran (a chain's operators share their task).
    pub wall_time: Duration,
}

/// What a finished job reports.
#[derive(Debug, Clone)]
pub struct JobResult {
    /// Wall time from start to the last task's end.
    pub duration: Duration,
    /// The resolved mode the job ran in.
    pub mode: RuntimeMode,
    /// One entry per operator, in graph order.
    pub operators: Vec<OperatorMetrics>,
    /// The checkpoint or savepoint the job started from.
    pub restored_from: Option<PathBuf>,
    /// The newest checkpoint completed during the (last) run, 0 if none.
    pub last_checkpoint: u64,
    /// Where the savepoint taken at the end of input, or by a stop, went.
    pub savepoint: Option<PathBuf>,
    /// The job was stopped with a savepoint without draining
    /// ([`crate::client::JobClient::stop_with_savepoint`]): its operators did not finish, and
    /// restoring `savepoint` resumes it exactly where it stopped.
    pub suspended: bool,
    /// How often the job restarted after a task failure.
    pub restarts: u32,
}

impl JobResult {
    /// The metrics of the first operator named `name`.
    pub fn operator(&self, name: &str) -> Option<&OperatorMetrics> {
        self.operators.iter().find(|o| o.name == name)
    }
}

/// Runs `graph` to completion in this process.
///
/// # Errors
/// The root cause of the first task that failed: an I/O error, a user function's failure
/// (named by operator), or an invalid graph. Errors that only follow from it (a producer
/// finding its consumer gone) are not reported.
pub fn execute(graph: &JobGraph, config: &ExecutionConfig) -> Result<JobResult> {
    execute_observed(graph, config, &mut |_| {})
}

/// How often [`execute_observed`] reports progress.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(200);

/// [`execute`], calling `progress` with every operator's record counts so far, about five
/// times a second while the job runs (for a progress bar). Counts are published by tasks in
/// steps of 65 536 records, so they trail the truth a little.
///
/// # Errors
/// As [`execute`].
///
/// On a cluster ([`crate::cluster`]) the same call describes the job's plan instead
/// (plan mode), or runs it with the cluster's parallelism and reports its status (worker mode).
pub fn execute_observed(
    graph: &JobGraph,
    config: &ExecutionConfig,
    progress: &mut dyn FnMut(&[OperatorMetrics]),
) -> Result<JobResult> {
    match crate::cluster::mode() {
        crate::cluster::Mode::Embedded => execute_local(graph, config, progress),
        crate::cluster::Mode::Plan => crate::cluster::describe_and_exit(graph, config),
        crate::cluster::Mode::Worker => {
            crate::cluster::run_worker(graph, config, progress, execute_local)
        }
    }
}

/// [`execute_observed`] in this process.
fn execute_local(
    graph: &JobGraph,
    config: &ExecutionConfig,
    progress: &mut dyn FnMut(&[OperatorMetrics]),
) -> Result<JobResult> {
    run_job(graph, config, None, progress)
}

/// [`execute_observed`] under the control of `control`: savepoints, stop and cancel requested
/// through it (by a [`crate::client::JobClient`]) are served while the job runs. The control
/// is [finished](JobControl::finish) when this returns. On a cluster in plan mode it describes
/// the plan instead, as [`execute_observed`] does.
///
/// # Errors
/// As [`execute`]; [`Error::Cancelled`] when the job was cancelled.
pub fn execute_controlled(
    graph: &JobGraph,
    config: &ExecutionConfig,
    control: &JobControl,
    progress: &mut dyn FnMut(&[OperatorMetrics]),
) -> Result<JobResult> {
    if crate::cluster::mode() == crate::cluster::Mode::Plan {
        return crate::cluster::describe_and_exit(graph, config);
    }
    let result = run_job(graph, config, Some(control), progress);
    control.finish();
    match result {
        Err(_) if control.is_cancelled() => Err(Error::Cancelled),
        result => result,
    }
}

fn run_job(
    graph: &JobGraph,
    config: &ExecutionConfig,
    control: Option<&JobControl>,
    progress: &mut dyn FnMut(&[OperatorMetrics]),
) -> Result<JobResult> {
    let plan = Plan::new(graph, config)?;
    let storage: Option<Arc<dyn CheckpointStorage>> = match &config.checkpointing {
        Some(c) => Some(Arc::new(DirectoryStorage::open(&c.dir, &config.job_id)?)),
        None => None,
    };
    let mut restore = match (&config.restore_from, &storage) {
        (Some(path), _) => Some(LoadedCheckpoint::load(path, None)?),
        (None, Some(storage)) => LoadedCheckpoint::latest(storage.as_ref(), &config.job_id)?,
        (None, None) => None,
    };
    let mut restarts = 0;
    let mut failures: Vec<Instant> = Vec::new();
    loop {
        if let Some(loaded) = &restore {
            check_compatible(loaded, &plan, config)?;
            tracing::info!(from = %loaded.dir.display(), "restoring");
        }
        let attempt = run_attempt(
            graph,
            config,
            &plan,
            restore.as_ref(),
            &storage,
            control,
            Some(&mut *progress),
        );
        match attempt {
            Ok(mut result) => {
                result.restarts = restarts;
                result.restored_from = restore.map(|r| r.dir);
                return Ok(result);
            }
            Err(error) => {
                if control.is_some_and(JobControl::is_cancelled) {
                    return Err(Error::Cancelled);
                }
                let Some(delay) = restart_delay(&config.restart_strategy, restarts, &mut failures)
                else {
                    return Err(error);
                };
                if matches!(error, Error::InvalidGraph(_)) {
                    return Err(error);
                }
                tracing::warn!(%error, restart = restarts + 1, "task failed; restarting the job");
                std::thread::sleep(delay);
                restarts += 1;
                if let Some(storage) = &storage {
                    if let Some(latest) =
                        LoadedCheckpoint::latest(storage.as_ref(), &config.job_id)?
                    {
                        restore = Some(latest);
                    }
                }
            }
        }
    }
}

/// How long to wait before restarting after a failure, or `None` to give up.
fn restart_delay(
    strategy: &RestartStrategy,
    restarts: u32,
    failures: &mut Vec<Instant>,
) -> Option<Duration> {
    match *strategy {
        RestartStrategy::None => None,
        RestartStrategy::FixedDelay { attempts, delay } => (restarts < attempts).then_some(delay),
        RestartStrategy::FailureRate {
            max_failures,
            interval,
            delay,
        } => {
            let now = Instant::now();
            failures.push(now);
            failures.retain(|at| now.duration_since(*at) <= interval);
            (failures.len() as u32 <= max_failures).then_some(delay)
        }
    }
}

/// Refuses a checkpoint that cannot be restored into this job.
fn check_compatible(
    loaded: &LoadedCheckpoint,
    plan: &Plan,
    config: &ExecutionConfig,
) -> Result<()> {
    let meta = &loaded.metadata;
    let at = || loaded.dir.join(crate::checkpoint::metadata::METADATA_FILE);
    if meta.max_parallelism != config.max_parallelism {
        return Err(Error::Checkpoint {
            path: at(),
            message: format!(
                "taken with max parallelism {}, the job has {} (key groups cannot be remapped)",
                meta.max_parallelism, config.max_parallelism
            ),
        });
    }
    if !config.allow_non_restored_state {
        for operator in &meta.operators {
            let has_state = loaded.operators[&operator.uid]
                .iter()
                .any(|(_, snapshot)| !snapshot.is_empty());
            if has_state && !plan.uids.contains(&operator.uid) {
                return Err(Error::Checkpoint {
                    path: at(),
                    message: format!(
                        "holds state of operator '{}', which this job does not have \
                         (allow non-restored state to skip it)",
                        operator.uid
                    ),
                });
            }
        }
    }
    Ok(())
}

/// The state of subtask `subtask` of node `node` in a restored checkpoint.
fn restored_state(
    restore: Option<&LoadedCheckpoint>,
    plan: &Plan,
    node: usize,
    key_groups: KeyGroupRange,
) -> RestoredState {
    let Some(loaded) = restore else {
        return RestoredState::empty();
    };
    let Some(subtasks) = loaded.operators.get(&plan.uids[node]) else {
        return RestoredState::assemble(key_groups, []);
    };
    // Every old subtask: operator state is a union; keyed state is filtered by group.
    let mut restored =
        RestoredState::assemble(key_groups, subtasks.iter().map(|(_, snapshot)| snapshot));
    for (file, snapshot) in subtasks {
        if let Some(manifest) = &snapshot.backend {
            if file.key_groups.overlaps(&key_groups) {
                let (dir, shared) = loaded.backend_dirs(file);
                restored.add_backend_snapshot(manifest.clone(), dir, shared);
            }
        }
    }
    restored
}

/// Called with every operator's record counts while a job runs.
pub(crate) type ProgressFn<'a> = &'a mut dyn FnMut(&[OperatorMetrics]);

/// One run of the job, from `restore` or from scratch; `progress` is polled while it runs
/// (without it, the caller just waits: a superstep of an iteration).
pub(crate) fn run_attempt(
    graph: &JobGraph,
    config: &ExecutionConfig,
    plan: &Plan,
    restore: Option<&LoadedCheckpoint>,
    storage: &Option<Arc<dyn CheckpointStorage>>,
    control: Option<&JobControl>,
    progress: Option<ProgressFn<'_>>,
) -> Result<JobResult> {
    let start = Instant::now();
    let failed = Arc::new(AtomicBool::new(false));
    let metrics: Vec<Arc<NodeMetrics>> = graph.nodes.iter().map(|_| Arc::default()).collect();
    let (coordinator, hub) = match (&config.checkpointing, storage) {
        (Some(checkpointing), Some(storage)) => {
            let operators = graph
                .nodes
                .iter()
                .enumerate()
                .map(|(i, node)| OperatorInfo {
                    uid: plan.uids[i].clone(),
                    parallelism: plan.parallelism[i],
                    is_source: node.inputs.is_empty(),
                })
                .collect();
            let first_id = storage
                .last_id()
                .max(restore.map_or(0, |r| r.metadata.checkpoint_id))
                + 1;
            let (coordinator, hub) = CheckpointCoordinator::new(
                checkpointing.clone(),
                storage.clone(),
                config.job_id.clone(),
                config.max_parallelism,
                operators,
                first_id,
            );
            (Some(coordinator), Some(hub))
        }
        _ => (None, None),
    };
    let aligned = config
        .checkpointing
        .as_ref()
        .is_none_or(|c| c.mode == CheckpointingMode::ExactlyOnce);
    let mut tasks = Vec::new();
    {
        // Queues of every chain head; dropped (with the executor's senders) before the tasks
        // run, so that a queue disconnects once its producers are gone.
        let mut queues: Vec<Option<AnyBox>> = Vec::new();
        let mut receivers: Vec<std::vec::IntoIter<AnyBox>> = Vec::new();
        for (i, node) in graph.nodes.iter().enumerate() {
            if plan.is_head[i] && !node.inputs.is_empty() {
                let capacity = (plan.channels[i] * config.queue_batches_per_channel).max(8);
                let (senders, rx) = node
                    .imp
                    .make_queues(plan.parallelism[i] as usize, capacity)?;
                queues.push(Some(senders));
                receivers.push(rx.into_iter());
            } else {
                queues.push(None);
                receivers.push(Vec::new().into_iter());
            }
        }
        let builder = TaskBuilder {
            graph,
            plan,
            config,
            queues: &queues,
            metrics: &metrics,
            hub: hub.clone(),
            restore,
        };
        for (i, node) in graph.nodes.iter().enumerate() {
            if !plan.is_head[i] {
                continue;
            }
            for s in 0..plan.parallelism[i] {
                let info = builder.info(i, s);
                let output = builder.output(i, &info)?;
                let body = if node.inputs.is_empty() {
                    let context = SourceContext {
                        subtask: s,
                        parallelism: plan.parallelism[i],
                    };
                    let restored = restored_state(restore, plan, i, info.key_groups());
                    node.imp.source_task(SourceTaskSpec {
                        name: node.name.as_str().into(),
                        context,
                        info,
                        restored,
                        output,
                        failed: failed.clone(),
                        throttle: config
                            .source_throttle
                            .map(|rate| rate / plan.parallelism[i] as f64),
                    })?
                } else {
                    let restored = restored_state(restore, plan, i, info.key_groups());
                    let head = node.imp.chain(
                        node.name.as_str().into(),
                        info,
                        restored,
                        output,
                        metrics[i].clone(),
                    )?;
                    let receiver = receivers[i]
                        .next()
                        .ok_or_else(|| Error::Internal("chain head without a queue".into()))?;
                    node.imp
                        .input_task(receiver, plan.channels[i], head, aligned)?
                };
                let name = format!(
                    "{} ({}/{})",
                    plan.chain_names[i],
                    s + 1,
                    plan.parallelism[i]
                );
                tasks.push((name, body, i));
            }
        }
    }
    let job_done = Arc::new(AtomicBool::new(false));
    if let Some(control) = control {
        control.run_started(coordinator.is_some(), failed.clone());
    }
    let coordinator_thread = match coordinator {
        Some(coordinator) => {
            let (job_done, fail_job) = (job_done.clone(), failed.clone());
            let requests = control.map(|c| c.requests().clone());
            Some(
                std::thread::Builder::new()
                    .name("checkpoint coordinator".into())
                    .spawn(move || coordinator.run(&job_done, &fail_job, requests.as_ref()))
                    .map_err(|e| Error::Internal(format!("cannot start the coordinator: {e}")))?,
            )
        }
        None => None,
    };
    drop(hub);
    let heads: Vec<usize> = tasks.iter().map(|(_, _, head)| *head).collect();
    let handles = tasks
        .into_iter()
        .map(|(name, body, _)| spawn(name, body, failed.clone()))
        .collect::<Result<Vec<_>>>()?;
    let mut task_wall = vec![Duration::ZERO; graph.nodes.len()];
    let snapshot = |task_wall: &[Duration]| -> Vec<OperatorMetrics> {
        graph
            .nodes
            .iter()
            .enumerate()
            .map(|(i, node)| OperatorMetrics {
                name: node.name.clone(),
                parallelism: plan.parallelism[i],
                records_in: metrics[i].records_in.load(Ordering::Relaxed),
                records_out: metrics[i].records_out.load(Ordering::Relaxed),
                wall_time: task_wall[plan.head_of[i]],
            })
            .collect()
    };
    if let Some(progress) = progress {
        while !handles.iter().all(|h| h.is_finished()) {
            std::thread::sleep(PROGRESS_INTERVAL.min(Duration::from_millis(
                5 + start.elapsed().as_millis() as u64 / 4,
            )));
            progress(&snapshot(&task_wall));
        }
    }
    let mut failures: Vec<(Instant, Error)> = Vec::new();
    for (handle, head) in handles.into_iter().zip(heads) {
        match handle.join() {
            Ok(Ok(elapsed)) => task_wall[head] = task_wall[head].max(elapsed),
            Ok(Err(failure)) => failures.push(failure),
            Err(panic) => failures.push((Instant::now(), Error::Internal(panic_message(&*panic)))),
        }
    }
    job_done.store(true, Ordering::Release);
    let report = match coordinator_thread.map(|t| t.join()) {
        None => Default::default(),
        Some(Ok(Ok(report))) => report,
        Some(Ok(Err(error))) => return Err(error),
        Some(Err(panic)) => return Err(Error::Internal(panic_message(&*panic))),
    };
    // A suspending stop ends the tasks through the failure flag, on purpose.
    if !report.suspended {
        if let Some(error) = root_cause(failures) {
            return Err(error);
        }
    }
    Ok(JobResult {
        duration: start.elapsed(),
        mode: plan.mode,
        operators: snapshot(&task_wall),
        restored_from: None,
        last_checkpoint: report.completed,
        savepoint: report.savepoint,
        suspended: report.suspended,
        restarts: 0,
    })
}

/// A task thread: how long it ran, or when and why it failed.
type TaskHandle = std::thread::JoinHandle<std::result::Result<Duration, (Instant, Error)>>;

fn spawn(name: String, body: Box<dyn TaskBody>, failed: Arc<AtomicBool>) -> Result<TaskHandle> {
    std::thread::Builder::new()
        .name(name.clone())
        .spawn(move || {
            let started = Instant::now();
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| body.run()))
                .unwrap_or_else(|panic| Err(Error::user(&name, panic_message(&*panic))));
            result.map(|()| started.elapsed()).map_err(|error| {
                failed.store(true, Ordering::Relaxed);
                // The caller reports the job's root cause; this is for tracing a run.
                tracing::debug!(task = %name, %error, "task failed");
                (Instant::now(), error)
            })
        })
        .map_err(|e| Error::Internal(format!("cannot start a task thread: {e}")))
}

/// The earliest failure that is not a mere consequence of another.
fn root_cause(mut failures: Vec<(Instant, Error)>) -> Option<Error> {
    failures.sort_by_key(|(at, _)| *at);
    let primary = failures
        .iter()
        .position(|(_, e)| !e.is_secondary())
        .unwrap_or(0);
    (!failures.is_empty()).then(|| failures.swap_remove(primary).1)
}

/// The physical decisions about a graph.
pub(crate) struct Plan {
    parallelism: Vec<u32>,
    /// The effective partitioning of every edge.
    kinds: Vec<PartitionKind>,
    chained: Vec<bool>,
    is_head: Vec<bool>,
    /// Input channels of each chain head's subtasks.
    channels: Vec<usize>,
    /// Channel index, at the consumer, of each edge's first producer subtask.
    channel_offset: Vec<usize>,
    chain_names: Vec<String>,
    /// The head of each node's chain (itself for a head).
    head_of: Vec<usize>,
    mode: RuntimeMode,
    /// Stable uid of every node: its own, or its name (numbered when names repeat).
    uids: Vec<String>,
}

impl Plan {
    pub(crate) fn new(graph: &JobGraph, config: &ExecutionConfig) -> Result<Self> {
        if graph.nodes.is_empty() {
            return Err(Error::InvalidGraph("the job has no operators".into()));
        }
        if config.max_parallelism == 0 {
            return Err(Error::InvalidGraph(
                "max parallelism must be at least 1".into(),
            ));
        }
        let parallelism: Vec<u32> = graph
            .nodes
            .iter()
            .map(|n| n.parallelism.unwrap_or(config.parallelism).max(1))
            .collect();
        for (node, p) in graph.nodes.iter().zip(&parallelism) {
            if *p > config.max_parallelism {
                return Err(Error::InvalidGraph(format!(
                    "'{}' has parallelism {p} above the max parallelism {}",
                    node.name, config.max_parallelism
                )));
            }
        }
        let kinds: Vec<PartitionKind> = graph
            .edges
            .iter()
            .map(|e| match e.kind {
                PartitionKind::Forward if parallelism[e.from.0] != parallelism[e.to.0] => {
                    PartitionKind::Rebalance
                }
                kind => kind,
            })
            .collect();
        let chained: Vec<bool> = graph
            .edges
            .iter()
            .zip(&kinds)
            .map(|(e, kind)| {
                config.chaining
                    && *kind == PartitionKind::Forward
                    && graph.nodes[e.to.0].inputs.len() == 1
            })
            .collect();
        let is_head: Vec<bool> = graph
            .nodes
            .iter()
            .map(|n| !(n.inputs.len() == 1 && chained[n.inputs[0]]))
            .collect();
        let mut channels = vec![0; graph.nodes.len()];
        let mut channel_offset = vec![0; graph.edges.len()];
        for (i, node) in graph.nodes.iter().enumerate() {
            for &e in &node.inputs {
                channel_offset[e] = channels[i];
                channels[i] += match kinds[e] {
                    PartitionKind::Forward => 1,
                    _ => parallelism[graph.edges[e].from.0] as usize,
                };
            }
        }
        // Nodes come in topological order, so a chained node's upstream is settled first.
        let mut head_of: Vec<usize> = (0..graph.nodes.len()).collect();
        for (i, node) in graph.nodes.iter().enumerate() {
            if !is_head[i] {
                head_of[i] = head_of[graph.edges[node.inputs[0]].from.0];
            }
        }
        let mut chain_names: Vec<String> = graph.nodes.iter().map(|n| n.name.clone()).collect();
        for (i, node) in graph.nodes.iter().enumerate() {
            if !is_head[i] {
                let upstream = graph.edges[node.inputs[0]].from.0;
                chain_names[i] = format!("{} -> {}", chain_names[upstream], node.name);
            }
        }
        for (i, node) in graph.nodes.iter().enumerate().rev() {
            let tail = node.outputs.iter().find(|&&e| chained[e]);
            if let Some(&e) = tail {
                chain_names[i] = chain_names[graph.edges[e].to.0].clone();
            }
        }
        let mode = match config.mode {
            RuntimeMode::Automatic => {
                let all_bounded = graph.nodes.iter().all(|n| n.bounded != Some(false));
                if all_bounded {
                    RuntimeMode::Batch
                } else {
                    RuntimeMode::Streaming
                }
            }
            mode => mode,
        };
        let mut seen: HashMap<String, usize> = HashMap::new();
        let uids = graph
            .nodes
            .iter()
            .map(|n| {
                n.uid.clone().unwrap_or_else(|| {
                    let count = seen.entry(n.name.clone()).or_default();
                    *count += 1;
                    if *count == 1 {
                        n.name.clone()
                    } else {
                        format!("{}#{count}", n.name)
                    }
                })
            })
            .collect();
        Ok(Plan {
            uids,
            parallelism,
            kinds,
            chained,
            is_head,
            channels,
            channel_offset,
            chain_names,
            head_of,
            mode,
        })
    }
}

/// Builds the links of one subtask's chain, back to front.
struct TaskBuilder<'a> {
    graph: &'a JobGraph,
    plan: &'a Plan,
    config: &'a ExecutionConfig,
    queues: &'a [Option<AnyBox>],
    metrics: &'a [Arc<NodeMetrics>],
    hub: Option<Arc<CheckpointHub>>,
    restore: Option<&'a LoadedCheckpoint>,
}

impl TaskBuilder<'_> {
    fn info(&self, node: usize, subtask: u32) -> SubtaskInfo {
        SubtaskInfo {
            node,
            subtask,
            parallelism: self.plan.parallelism[node],
            max_parallelism: self.config.max_parallelism,
            mode: self.plan.mode,
            clock: self.config.clock.clone(),
            hub: self.hub.clone(),
            state_backend: self.config.state_backend.clone(),
        }
    }

    /// The output of `node` in subtask `info.subtask`: chained consumers and channel writers.
    fn output(&self, node: usize, info: &SubtaskInfo) -> Result<AnyBox> {
        let imp = &self.graph.nodes[node].imp;
        let mut links = Vec::new();
        for &e in &self.graph.nodes[node].outputs {
            let edge = &self.graph.edges[e];
            let consumer = edge.to.0;
            if self.plan.chained[e] {
                let output = self.output(consumer, info)?;
                let name = self.graph.nodes[consumer].name.as_str().into();
                let consumer_info = self.info(consumer, info.subtask);
                let restored = restored_state(
                    self.restore,
                    self.plan,
                    consumer,
                    consumer_info.key_groups(),
                );
                links.push(self.graph.nodes[consumer].imp.chain(
                    name,
                    consumer_info,
                    restored,
                    output,
                    self.metrics[consumer].clone(),
                )?);
            } else {
                let senders = self.queues[consumer]
                    .as_ref()
                    .ok_or_else(|| Error::Internal("consumer without a queue".into()))?;
                let kind = self.plan.kinds[e];
                let within_edge = if kind == PartitionKind::Forward {
                    0
                } else {
                    info.subtask as usize
                };
                links.push(imp.writer(WriterSpec {
                    senders,
                    partitioner: edge.partitioner.as_ref(),
                    kind,
                    producer_subtask: info.subtask,
                    channel: (self.plan.channel_offset[e] + within_edge) as u32,
                    batch_size: self.config.batch_size,
                    max_parallelism: self.config.max_parallelism,
                })?);
            }
        }
        imp.output(links, self.metrics[node].clone())
    }
}

/// The planning decisions about `graph`, for the cluster's plan description.
pub(crate) fn physical(
    graph: &JobGraph,
    config: &ExecutionConfig,
) -> Result<crate::cluster::plan::Physical> {
    let plan = Plan::new(graph, config)?;
    Ok(crate::cluster::plan::Physical {
        names: graph.nodes.iter().map(|n| n.name.clone()).collect(),
        sources: graph.nodes.iter().map(|n| n.inputs.is_empty()).collect(),
        edges: graph
            .edges
            .iter()
            .enumerate()
            .map(|(e, edge)| (edge.from.0, edge.to.0, plan.kinds[e], plan.chained[e]))
            .collect(),
        parallelism: plan.parallelism,
        uids: plan.uids,
        head_of: plan.head_of,
        chain_names: plan.chain_names,
        mode: plan.mode,
    })
}
