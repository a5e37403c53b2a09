//! [`StreamExecutionEnvironment`]: where a job's sources are created and where it is run.

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use eddy_runtime::checkpoint::CheckpointStorage;
use eddy_runtime::checkpoint::{CheckpointConfig, DirectoryStorage, RestartStrategy};
use eddy_runtime::{
    Data, ExecutionConfig, JobClient, JobGraph, JobResult, OperatorMetrics, Partitioner, Result,
    RuntimeMode,
};

use crate::sinks::exactly_once::{commit_all, remove_parts, FinalCommits};
use crate::sinks::file::{settle, PendingFiles};
use crate::sources::collection::CollectionSource;
use crate::sources::csv_file::CsvSource;
use crate::sources::generator::GeneratorSource;
use crate::sources::socket::SocketSource;
use crate::sources::text_file::TextFileSource;
use crate::stream::DataStream;

/// How many records a generator source emits, and how fast.
#[derive(Debug, Clone, Copy, Default)]
pub struct Generator {
    /// Total records over all subtasks; `None` runs forever (an unbounded source).
    pub count: Option<u64>,
    /// Cap on records per second over all subtasks; `None` runs as fast as it can.
    pub records_per_second: Option<f64>,
}

impl Generator {
    /// A bounded generator of `count` records.
    pub fn bounded(count: u64) -> Self {
        Generator {
            count: Some(count),
            records_per_second: None,
        }
    }

    /// An unbounded generator.
    pub fn unbounded() -> Self {
        Generator::default()
    }

    /// Throttles the generator to `records_per_second`.
    pub fn with_rate(mut self, records_per_second: f64) -> Self {
        self.records_per_second = Some(records_per_second);
        self
    }
}

pub(crate) struct EnvironmentInner {
    pub(crate) graph: JobGraph,
    pub(crate) config: ExecutionConfig,
    pub(crate) pending_files: PendingFiles,
    /// Exactly-once file sinks waiting for the job's success.
    pub(crate) final_commits: FinalCommits,
    /// Set when the job starts with checkpointing: file sinks then commit with checkpoints.
    pub(crate) exactly_once_sinks: Arc<AtomicBool>,
}

/// The context of a streaming job: configure it, create sources, then [`execute`](Self::execute).
///
/// Embedded and local: the job runs in this process, one thread per task.
///
/// ```
/// use eddy_datastream::StreamExecutionEnvironment;
///
/// let env = StreamExecutionEnvironment::new();
/// env.set_parallelism(2);
/// let doubled = env.from_collection(vec![1u64, 2, 3]).map(|x| x * 2).collect();
/// env.execute("double").unwrap();
/// let mut values = doubled.take();
/// values.sort();
/// assert_eq!(values, vec![2, 4, 6]);
/// ```
#[derive(Clone)]
pub struct StreamExecutionEnvironment {
    pub(crate) inner: Rc<RefCell<EnvironmentInner>>,
}

impl Default for StreamExecutionEnvironment {
    fn default() -> Self {
        Self::new()
    }
}

impl StreamExecutionEnvironment {
    /// A local environment with the parallelism of the machine's cores.
    pub fn new() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
        let config = ExecutionConfig {
            parallelism: cores,
            ..ExecutionConfig::default()
        };
        StreamExecutionEnvironment {
            inner: Rc::new(RefCell::new(EnvironmentInner {
                graph: JobGraph::new(),
                config,
                pending_files: PendingFiles::default(),
                final_commits: FinalCommits::default(),
                exactly_once_sinks: Arc::default(),
            })),
        }
    }

    /// Sets the default parallelism of operators.
    pub fn set_parallelism(&self, parallelism: u32) -> &Self {
        self.inner.borrow_mut().config.parallelism = parallelism.max(1);
        self
    }

    /// The default parallelism of operators.
    pub fn parallelism(&self) -> u32 {
        self.inner.borrow().config.parallelism
    }

    /// Sets the number of key groups (the most parallelism keyed state can be spread over).
    pub fn set_max_parallelism(&self, max_parallelism: u32) -> &Self {
        self.inner.borrow_mut().config.max_parallelism = max_parallelism.max(1);
        self
    }

    /// Sets streaming, batch, or automatic mode (the default: batch when all sources are
    /// bounded).
    pub fn set_runtime_mode(&self, mode: RuntimeMode) -> &Self {
        self.inner.borrow_mut().config.mode = mode;
        self
    }

    /// Runs every operator in its own task, with a channel on every edge (for testing the
    /// exchanges; slower).
    pub fn disable_operator_chaining(&self) -> &Self {
        self.inner.borrow_mut().config.chaining = false;
        self
    }

    /// Sets the clock of processing time (timers, processing-time windows, state TTL); tests
    /// pass an [`eddy_runtime::time::ManualClock`].
    pub fn set_clock(&self, clock: std::sync::Arc<dyn eddy_runtime::time::Clock>) -> &Self {
        self.inner.borrow_mut().config.clock = clock;
        self
    }

    /// Sets the number of records per channel batch (default 1024).
    pub fn set_batch_size(&self, records: usize) -> &Self {
        self.inner.borrow_mut().config.batch_size = records.max(1);
        self
    }

    /// Takes a checkpoint every `interval` into `dir` (Flink's `enableCheckpointing`), with
    /// exactly-once file sinks. On start, the job restores from the latest complete
    /// checkpoint of the same job name in `dir`, if there is one.
    ///
    /// ```
    /// use std::time::Duration;
    /// let dir = std::env::temp_dir().join(format!("eddy-ckpt-doc-{}", std::process::id()));
    /// let out = eddy_datastream::example(|env| {
    ///     env.enable_checkpointing(Duration::from_millis(50), &dir);
    ///     env.from_collection(vec![1, 2, 3]).map(|x: i32| x * 2)
    /// });
    /// assert_eq!(out, vec![2, 4, 6]);
    /// # let _ = std::fs::remove_dir_all(&dir);
    /// ```
    pub fn enable_checkpointing(&self, interval: Duration, dir: impl Into<PathBuf>) -> &Self {
        let mut inner = self.inner.borrow_mut();
        let savepoint_at_end = inner
            .config
            .checkpointing
            .take()
            .and_then(|c| c.savepoint_at_end);
        let mut config = CheckpointConfig::new(dir, interval);
        config.savepoint_at_end = savepoint_at_end;
        inner.config.checkpointing = Some(config);
        self
    }

    /// Replaces the whole checkpoint configuration (mode, timeout, pause, retention...).
    pub fn set_checkpoint_config(&self, config: CheckpointConfig) -> &Self {
        self.inner.borrow_mut().config.checkpointing = Some(config);
        self
    }

    /// The checkpoint configuration, if checkpointing is on.
    pub fn checkpoint_config(&self) -> Option<CheckpointConfig> {
        self.inner.borrow().config.checkpointing.clone()
    }

    /// Takes a savepoint into `dir` when every source has reached the end of its input,
    /// before the job finishes (and before event time ends, so windows still open are in it).
    /// Works with or without periodic checkpoints.
    pub fn set_savepoint_at_end(&self, dir: impl Into<PathBuf>) -> &Self {
        let dir = dir.into();
        let mut inner = self.inner.borrow_mut();
        let config = inner.config.checkpointing.get_or_insert_with(|| {
            // Savepoints only: no periodic checkpoint ever falls due.
            CheckpointConfig::new(dir.clone(), Duration::from_secs(u64::MAX / 4))
        });
        config.savepoint_at_end = Some(dir);
        self
    }

    /// Starts from this checkpoint or savepoint (its directory or `_metadata` file) rather
    /// than from the latest checkpoint of the checkpoint directory.
    pub fn restore_from(&self, path: impl Into<PathBuf>) -> &Self {
        self.inner.borrow_mut().config.restore_from = Some(path.into());
        self
    }

    /// Starts even if the checkpoint holds state of operators the job no longer has.
    pub fn allow_non_restored_state(&self, allow: bool) -> &Self {
        self.inner.borrow_mut().config.allow_non_restored_state = allow;
        self
    }

    /// What happens when a task fails: restart from the latest checkpoint, or fail.
    pub fn set_restart_strategy(&self, strategy: RestartStrategy) -> &Self {
        self.inner.borrow_mut().config.restart_strategy = strategy;
        self
    }

    /// Keeps keyed state in RocksDB (one database per subtask, in a temporary directory)
    /// instead of on the heap: for state larger than memory, with incremental checkpoints.
    pub fn use_rocksdb_state_backend(&self) -> &Self {
        self.inner.borrow_mut().config.state_backend =
            eddy_runtime::state::StateBackendKind::RocksDb { dir: None };
        self
    }

    /// Limits every source to `records_per_second` (over all its subtasks): for tests and
    /// demos that need a job to run for a while.
    pub fn set_source_throttle(&self, records_per_second: f64) -> &Self {
        self.inner.borrow_mut().config.source_throttle = Some(records_per_second.max(0.001));
        self
    }

    /// A stream of the items, in order. Not parallel (like Flink's `fromCollection`).
    pub fn from_collection<T: Data + Sync>(
        &self,
        items: impl IntoIterator<Item = T>,
    ) -> DataStream<T> {
        let items = Arc::new(items.into_iter().collect::<Vec<T>>());
        let node = self
            .inner
            .borrow_mut()
            .graph
            .add_source("collection", 1, true, move |_| {
                Box::new(CollectionSource {
                    items: items.clone(),
                    next: 0,
                })
            });
        DataStream::new(self.clone(), node)
    }

    /// A parallel stream of `function(i)` for `i` in `0..count`, as configured by `generator`.
    pub fn from_generator<T: Data>(
        &self,
        generator: Generator,
        function: impl Fn(u64) -> T + Send + Sync + 'static,
    ) -> DataStream<T> {
        let function: Arc<dyn Fn(u64) -> T + Send + Sync> = Arc::new(function);
        let node = self.inner.borrow_mut().graph.add_source(
            "generator",
            0,
            generator.count.is_some(),
            move |_| {
                Box::new(GeneratorSource::new(
                    function.clone(),
                    generator.count,
                    generator.records_per_second,
                ))
            },
        );
        DataStream::new(self.clone(), node)
    }

    /// The lines of a text file, read in parallel splits.
    pub fn read_text_file(&self, path: impl Into<PathBuf>) -> DataStream<String> {
        self.read_text_files(vec![path.into()])
    }

    /// The lines of several text files, read in parallel splits.
    pub fn read_text_files(&self, paths: Vec<PathBuf>) -> DataStream<String> {
        let node = self
            .inner
            .borrow_mut()
            .graph
            .add_source("text file", 0, true, move |_| {
                Box::new(TextFileSource::new(paths.clone()))
            });
        DataStream::new(self.clone(), node)
    }

    /// The rows of a CSV file with a header line, deserialized into `T` by column name, in
    /// file order. Not parallel. A malformed row fails the job with
    /// [`eddy_runtime::Error::InvalidInput`], naming the file, line and column.
    pub fn read_csv<T: Data>(&self, path: impl Into<PathBuf>) -> DataStream<T> {
        let path = path.into();
        let node = self
            .inner
            .borrow_mut()
            .graph
            .add_source("csv file", 1, true, move |_| {
                Box::new(CsvSource::<T>::new(path.clone()))
            });
        DataStream::new(self.clone(), node)
    }

    /// The lines read from a TCP socket until the peer closes it. Not parallel.
    pub fn socket_text_stream(&self, host: &str, port: u16) -> DataStream<String> {
        let endpoint = format!("{host}:{port}");
        let node = self
            .inner
            .borrow_mut()
            .graph
            .add_source("socket", 1, false, move |_| {
                Box::new(SocketSource::new(endpoint.clone()))
            });
        DataStream::new(self.clone(), node)
    }

    /// Runs the job built so far and waits for it to end. The environment is empty again
    /// afterwards; files written by sinks appear only if the job succeeded.
    ///
    /// # Errors
    /// The job's root cause of failure, such as an unreadable input file or a user function
    /// that panicked (named by operator).
    pub fn execute(&self, job_name: &str) -> Result<JobResult> {
        self.execute_with_progress(job_name, |_| {})
    }

    /// [`execute`](Self::execute), calling `progress` with every operator's record counts
    /// about five times a second while the job runs (to drive a progress bar).
    ///
    /// # Errors
    /// As [`execute`](Self::execute).
    pub fn execute_with_progress(
        &self,
        job_name: &str,
        mut progress: impl FnMut(&[OperatorMetrics]),
    ) -> Result<JobResult> {
        let job = self.take_job(job_name);
        let result = eddy_runtime::execute_observed(&job.graph, &job.config, &mut progress);
        job.conclude(result)
    }

    /// Starts the job built so far on a thread of its own and returns at once (Flink's
    /// `executeAsync`). The [`JobClient`] takes savepoints while it runs, stops it with a
    /// savepoint, cancels it, and waits for its result; see [`eddy_runtime::client`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use eddy_datastream::{Generator, StreamExecutionEnvironment};
    ///
    /// let dir = std::env::temp_dir().join(format!("eddy-async-doc-{}", std::process::id()));
    /// let env = StreamExecutionEnvironment::new();
    /// env.set_parallelism(1)
    ///     .enable_checkpointing(Duration::from_secs(3600), dir.join("checkpoints"));
    /// let records = Generator::bounded(1_000).with_rate(2_000.0); // half a second
    /// let out = env.from_generator(records, |i| i).collect();
    /// let client = env.execute_async("async doc").unwrap();
    /// let savepoint = client.trigger_savepoint(dir.join("savepoints")).unwrap();
    /// assert!(savepoint.join("_metadata").exists());
    /// client.wait().unwrap();
    /// assert_eq!(out.take().len(), 1_000);
    /// # let _ = std::fs::remove_dir_all(&dir);
    /// ```
    ///
    /// # Errors
    /// [`eddy_runtime::Error::Internal`] when the job's thread cannot be started; the job's
    /// own errors come from [`JobClient::wait`].
    pub fn execute_async(&self, job_name: &str) -> Result<JobClient> {
        let job = self.take_job(job_name);
        JobClient::spawn(job.config.job_id.clone(), move |control| {
            let result =
                eddy_runtime::execute_controlled(&job.graph, &job.config, control, &mut |_| {});
            job.conclude(result)
        })
    }

    /// Takes the job built so far out of the environment, ready to run.
    fn take_job(&self, job_name: &str) -> PreparedJob {
        let mut inner = self.inner.borrow_mut();
        let graph = std::mem::take(&mut inner.graph);
        let checkpointing = inner.config.checkpointing.is_some();
        inner
            .exactly_once_sinks
            .store(checkpointing, Ordering::Relaxed);
        let mut config = inner.config.clone();
        config.job_id = job_id(job_name);
        tracing::info!(
            job = job_name,
            parallelism = config.parallelism,
            "executing job"
        );
        PreparedJob {
            graph,
            config,
            pending: inner.pending_files.clone(),
            finals: inner.final_commits.clone(),
        }
    }

    /// Adds an operator node fed by `input` and returns the stream of its output.
    pub(crate) fn add_node<I: Data, O: Data>(
        &self,
        input: &DataStream<I>,
        name: &str,
        parallelism: u32,
        factory: impl Fn() -> Box<dyn eddy_runtime::Operator<I, O>> + Send + Sync + 'static,
    ) -> DataStream<O> {
        let mut inner = self.inner.borrow_mut();
        let node = inner.graph.add_operator(name, parallelism, factory);
        inner
            .graph
            .connect(input.node, node, input.partitioner.clone())
            .expect("streams of one environment connect with matching types");
        DataStream::new(self.clone(), node)
    }

    /// Connects another input to an existing node.
    pub(crate) fn connect<T: Data>(
        &self,
        input: &DataStream<T>,
        to: eddy_runtime::NodeId,
        partitioner: Partitioner<T>,
    ) {
        self.inner
            .borrow_mut()
            .graph
            .connect(input.node, to, partitioner)
            .expect("streams of one environment connect with matching types");
    }
}

/// A job taken out of its environment: what runs, and what its sinks leave to do after.
struct PreparedJob {
    graph: JobGraph,
    config: ExecutionConfig,
    pending: PendingFiles,
    finals: FinalCommits,
}

impl PreparedJob {
    /// Settles the sinks' files after the run: outputs appear only for a job that finished
    /// (a suspended one keeps its committed parts for the run that resumes it).
    fn conclude(self, result: Result<JobResult>) -> Result<JobResult> {
        let PreparedJob {
            graph,
            config,
            pending,
            finals,
        } = self;
        drop(graph);
        settle(&pending, result.as_ref().is_ok_and(|r| !r.suspended))?;
        let result = result?;
        if let Some(checkpointing) = &config.checkpointing {
            // Order matters for a crash in between: assemble outputs from committed parts,
            // then drop the checkpoints (a rerun now starts afresh), then the parts.
            let parts = commit_all(&finals)?;
            DirectoryStorage::open(&checkpointing.dir, &config.job_id)?.discard_all();
            remove_parts(&parts);
        }
        tracing::info!(job = %config.job_id, duration = ?result.duration, mode = ?result.mode, suspended = result.suspended, "job ended");
        Ok(result)
    }
}

/// The job id under which a job's checkpoints are kept: its name, lowercased, with every
/// character that is not a letter or digit replaced by `-`.
fn job_id(job_name: &str) -> String {
    let id: String = job_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    if id.is_empty() {
        "job".into()
    } else {
        id
    }
}
