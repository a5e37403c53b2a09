//! [`ExecutionEnvironment`]: where a batch program's data sets come from, how it is
//! configured, and where its sinks are executed.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;
use std::rc::Rc;

use eddy_runtime::memory::MemoryManager;
use eddy_runtime::{Data, ExecutionConfig, JobResult, RuntimeMode};
use serde::de::DeserializeOwned;

use crate::data_set::DataSet;
use crate::io::csv::{CsvOptions, CsvSource};
use crate::io::text::TextSource;
use crate::plan::{PlanNode, Settings, Translator};
use crate::sources::partitions::PartitionSource;
use crate::sources::sequence::SequenceSource;

pub(crate) struct EnvironmentInner {
    pub(crate) settings: Settings,
    /// Sink nodes registered by `write_as_*`, run by [`ExecutionEnvironment::execute`].
    pub(crate) sinks: Vec<Rc<PlanNode>>,
}

/// The context of a batch program: configure it, create data sets, transform them, then
/// [`collect`](DataSet::collect) a result or [`execute`](Self::execute) the program's sinks.
///
/// Embedded and local: every job runs in this process on Eddy's runtime, in batch mode, one
/// thread per parallel task.
///
/// ```
/// use eddy_dataset::ExecutionEnvironment;
///
/// let env = ExecutionEnvironment::new();
/// env.set_parallelism(2);
/// let mut squares = env.generate_sequence(1, 4).map(|x| x * x).collect().unwrap();
/// squares.sort();
/// assert_eq!(squares, vec![1, 4, 9, 16]);
/// ```
#[derive(Clone)]
pub struct ExecutionEnvironment {
    pub(crate) inner: Rc<RefCell<EnvironmentInner>>,
}

impl Default for ExecutionEnvironment {
    fn default() -> Self {
        Self::new()
    }
}

impl ExecutionEnvironment {
    /// A local environment with the parallelism of the machine's cores and the default
    /// memory budget (a quarter of the machine's memory, see
    /// [`MemoryManager::with_default_budget`]).
    pub fn new() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
        let config = ExecutionConfig {
            parallelism: cores,
            mode: RuntimeMode::Batch,
            ..ExecutionConfig::default()
        };
        ExecutionEnvironment {
            inner: Rc::new(RefCell::new(EnvironmentInner {
                settings: Settings {
                    config,
                    memory: MemoryManager::with_default_budget(),
                },
                sinks: Vec::new(),
            })),
        }
    }

    /// Sets the default parallelism of operators.
    pub fn set_parallelism(&self, parallelism: u32) -> &Self {
        self.inner.borrow_mut().settings.config.parallelism = parallelism.max(1);
        self
    }

    /// The default parallelism of operators.
    pub fn parallelism(&self) -> u32 {
        self.inner.borrow().settings.config.parallelism
    }

    /// Sets the bytes of managed memory that sorts, hash tables and buffers share; beyond
    /// it they spill to disk. Tiny budgets (a few 32 KiB pages) work, slowly.
    pub fn set_memory_budget(&self, bytes: usize) -> &Self {
        let spill = self.memory().spill_base().to_path_buf();
        self.set_memory(
            MemoryManager::builder()
                .budget(bytes)
                .spill_dir(spill)
                .build(),
        )
    }

    /// Sets the directory under which operators create their (temporary) spill directories.
    pub fn set_spill_directory(&self, path: impl Into<PathBuf>) -> &Self {
        let budget = self.memory().budget();
        self.set_memory(
            MemoryManager::builder()
                .budget(budget)
                .spill_dir(path)
                .build(),
        )
    }

    /// Uses `memory` as the budget of this environment's jobs (to share one budget between
    /// environments, or to read its usage and spill counters).
    pub fn set_memory(&self, memory: MemoryManager) -> &Self {
        self.inner.borrow_mut().settings.memory = memory;
        self
    }

    /// The memory budget of this environment's jobs.
    pub fn memory(&self) -> MemoryManager {
        self.inner.borrow().settings.memory.clone()
    }

    /// Runs every operator in its own task, with a channel on every edge (for testing the
    /// exchanges; slower).
    pub fn disable_operator_chaining(&self) -> &Self {
        self.inner.borrow_mut().settings.config.chaining = false;
        self
    }

    /// Sets the number of records per channel batch (default 1024).
    pub fn set_batch_size(&self, records: usize) -> &Self {
        self.inner.borrow_mut().settings.config.batch_size = records.max(1);
        self
    }

    pub(crate) fn settings(&self) -> Settings {
        self.inner.borrow().settings.clone()
    }

    /// A data set of the items, in order, read by one subtask (Flink's `fromCollection`).
    ///
    /// ```
    /// let env = eddy_dataset::ExecutionEnvironment::new();
    /// let lengths = env.from_collection(vec!["a".to_string(), "bc".to_string()]).map(|s| s.len());
    /// // One subtask keeps the collection's order.
    /// assert_eq!(lengths.set_parallelism(1).collect().unwrap(), vec![1, 2]);
    /// ```
    pub fn from_collection<T: Data>(&self, items: impl IntoIterator<Item = T>) -> DataSet<T> {
        let items: Vec<T> = items.into_iter().collect();
        let size = items.len() as u64;
        let node = PlanNode::new::<T>(
            "collection",
            Some(1),
            Vec::new(),
            Box::new(move |t, node, _| {
                let source = PartitionSource::owned(vec![items.clone()]);
                Ok(t.add_partition_source(&node.name(), source))
            }),
        )
        .with_size_hint(Some(size));
        DataSet::from_node(self.clone(), node)
    }

    /// The numbers `from..=to`, generated in parallel (Flink's `generateSequence`).
    pub fn generate_sequence(&self, from: u64, to: u64) -> DataSet<u64> {
        let size = if from > to { 0 } else { to - from + 1 };
        let node = PlanNode::new::<u64>(
            "sequence",
            None,
            Vec::new(),
            Box::new(move |t, node, _| {
                let p = t.parallelism(node);
                Ok(t.graph.add_source(node.name(), p, true, move |_| {
                    Box::new(SequenceSource::new(from, to))
                }))
            }),
        )
        .with_size_hint(Some(size));
        DataSet::from_node(self.clone(), node)
    }

    /// The lines of a text file (without line terminators), read in parallel byte ranges.
    /// A missing file fails the job with [`eddy_runtime::Error::Io`] naming it.
    pub fn read_text_file(&self, path: impl Into<PathBuf>) -> DataSet<String> {
        let path = path.into();
        let node = PlanNode::new::<String>(
            "text file",
            None,
            Vec::new(),
            Box::new(move |t, node, _| {
                let p = t.parallelism(node);
                let path = path.clone();
                Ok(t.graph.add_source(node.name(), p, true, move |_| {
                    Box::new(TextSource::new(path.clone()))
                }))
            }),
        );
        DataSet::from_node(self.clone(), node)
    }

    /// The rows of a CSV file with a header line, deserialized into `T` by column name.
    /// Read by one subtask, in file order. A malformed row fails the job with
    /// [`eddy_runtime::Error::InvalidInput`] naming the file, the line and the column.
    ///
    /// ```
    /// #[derive(serde::Deserialize, serde::Serialize, Clone)]
    /// struct City { name: String, population: u64 }
    ///
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("cities.csv");
    /// std::fs::write(&path, "name,population\nLyon,522000\nNantes,320000\n").unwrap();
    /// let env = eddy_dataset::ExecutionEnvironment::new();
    /// let total = env.read_csv::<City>(&path).map(|c| c.population).reduce(|a, b| a + b).collect().unwrap();
    /// assert_eq!(total, vec![842000]);
    /// ```
    pub fn read_csv<T: Data + DeserializeOwned>(&self, path: impl Into<PathBuf>) -> DataSet<T> {
        self.read_csv_with(path, CsvOptions::default())
    }

    /// [`read_csv`](Self::read_csv) with options: no header (fields by position), another
    /// delimiter, trimming.
    pub fn read_csv_with<T: Data + DeserializeOwned>(
        &self,
        path: impl Into<PathBuf>,
        options: CsvOptions,
    ) -> DataSet<T> {
        let path = path.into();
        let node = PlanNode::new::<T>(
            "csv file",
            Some(1),
            Vec::new(),
            Box::new(move |t, node, _| {
                let path = path.clone();
                Ok(t.graph.add_source(node.name(), 1, true, move |_| {
                    Box::new(CsvSource::<T>::new(path.clone(), options))
                }))
            }),
        );
        DataSet::from_node(self.clone(), node)
    }

    /// Runs every sink added with `write_as_text` / `write_as_csv` as one job and waits for
    /// it. Files appear (renamed from hidden temporary files) only if the job succeeded. The
    /// environment has no sinks afterwards.
    ///
    /// # Errors
    /// The job's root cause of failure: an unreadable or malformed input (naming file and
    /// line), a user function that panicked (naming the operator), an invalid plan.
    pub fn execute(&self, job_name: &str) -> eddy_runtime::Result<JobResult> {
        let (sinks, settings) = {
            let mut inner = self.inner.borrow_mut();
            (std::mem::take(&mut inner.sinks), inner.settings.clone())
        };
        if sinks.is_empty() {
            return Err(eddy_runtime::Error::InvalidGraph(
                "the program has no sinks: add write_as_text/write_as_csv before execute".into(),
            ));
        }
        let mut translator = Translator::new(settings, Rc::new(HashMap::new()));
        for sink in &sinks {
            translator.translate(sink)?;
        }
        tracing::info!(job = job_name, "executing DataSet program");
        translator.run(job_name)
    }
}
