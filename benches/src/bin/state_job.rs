//! State backends through a whole job: keyed-sum throughput, checkpoint cost and recovery
//! time, heap against RocksDB.
//!
//! ```text
//! cargo run --release -p eddy-benches --features rocksdb --bin state_job -- \
//!     throughput --backend heap|rocksdb --keys 10000000 --events 20000000
//! cargo run --release -p eddy-benches --features rocksdb --bin state_job -- \
//!     checkpoint --backend heap|rocksdb --keys 1000000 --changed 0.01 --runs 3
//! ```
//!
//! The job: a parallel source of `(key, 1)` records, a hash exchange by key, and a keyed sum
//! in value state (a get and a put per record), run by the executor with every task,
//! channel and state backend of a real job.
//!
//! - `throughput`: `--events` records over `--keys` distinct keys (key = i mod keys), as fast
//!   as the job goes; prints events per second.
//! - `checkpoint`: fills `--keys` keys, takes a checkpoint through the job client (the first
//!   one, full for both backends), changes `--changed` of the keys, takes another (RocksDB:
//!   incremental), then cancels the job and restores a new one from that checkpoint. Prints
//!   the medians of the checkpoints' duration, synchronous part and size, and of the
//!   recovery: from the start of the restored job until it has processed one record in every
//!   subtask (the RocksDB backend restores on first use) and finished.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use eddy_runtime::checkpoint::{CheckpointConfig, CheckpointStats, RestoredState};
use eddy_runtime::state::{value_state, StateBackendKind, StateDescriptor, ValueState};
use eddy_runtime::{
    execute_controlled, ExecutionConfig, JobClient, JobGraph, JobResult, Operator, OperatorContext,
    Output, Partitioner, Record, Result, RuntimeMode, Source, SourceContext, SourceStatus,
};

#[derive(Parser)]
#[command(about = "State backends through a whole job: throughput, checkpoints, recovery")]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Keyed-sum throughput over many keys.
    Throughput {
        /// Where keyed state lives.
        #[arg(long, value_enum, default_value_t = Backend::Heap)]
        backend: Backend,
        /// Distinct keys.
        #[arg(long, default_value_t = 10_000_000)]
        keys: u64,
        /// Records in all.
        #[arg(long, default_value_t = 20_000_000)]
        events: u64,
        /// Subtasks of the source and of the sum.
        #[arg(long, default_value_t = 2)]
        parallelism: u32,
        /// Repetitions (the median is printed).
        #[arg(long, default_value_t = 1)]
        runs: usize,
    },
    /// Checkpoint duration and size, full and after a few keys changed, and recovery time.
    Checkpoint {
        /// Where keyed state lives.
        #[arg(long, value_enum, default_value_t = Backend::Heap)]
        backend: Backend,
        /// Keys in state.
        #[arg(long, default_value_t = 1_000_000)]
        keys: u64,
        /// Share of the keys changed between the two checkpoints.
        #[arg(long, default_value_t = 0.01)]
        changed: f64,
        /// Subtasks of the source and of the sum.
        #[arg(long, default_value_t = 2)]
        parallelism: u32,
        /// Repetitions (medians are printed).
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Backend {
    Heap,
    Rocksdb,
}

/// Records `0..allowed` (this subtask's share: every `parallelism`-th), released by the
/// driver; the record `i` is `(key_of(i), 1)`.
struct PhasedSource {
    subtask: u64,
    parallelism: u64,
    next: u64,
    allowed: Arc<AtomicU64>,
    finish: Arc<AtomicBool>,
    keys: u64,
    stride: u64,
}

/// The key of record `i`: every key once, then every `stride`-th key again (modulo `keys`).
fn key_of(i: u64, keys: u64, stride: u64) -> u64 {
    if i < keys {
        i
    } else {
        ((i - keys) * stride) % keys
    }
}

impl Source<(u64, u64)> for PhasedSource {
    fn open(&mut self, ctx: &SourceContext) -> Result<()> {
        self.subtask = u64::from(ctx.subtask);
        self.parallelism = u64::from(ctx.parallelism);
        self.next = self.subtask;
        Ok(())
    }

    fn poll(&mut self, out: &mut dyn Output<(u64, u64)>) -> Result<SourceStatus> {
        let allowed = self.allowed.load(Ordering::Acquire);
        let mut emitted = 0;
        while self.next < allowed && emitted < 1024 {
            out.collect(Record::new((key_of(self.next, self.keys, self.stride), 1)))?;
            self.next += self.parallelism;
            emitted += 1;
        }
        Ok(if emitted > 0 {
            SourceStatus::More
        } else if self.finish.load(Ordering::Acquire) {
            SourceStatus::Finished
        } else {
            SourceStatus::Idle
        })
    }

    fn snapshot_state(
        &mut self,
        writer: &mut eddy_runtime::checkpoint::SnapshotWriter,
    ) -> Result<()> {
        writer.operator_state("next", &(self.subtask, self.next))
    }

    fn restore_state(&mut self, restored: &RestoredState) -> Result<()> {
        for (subtask, next) in restored.operator_state::<(u64, u64)>("next")? {
            if subtask == self.subtask {
                self.next = next;
            }
        }
        Ok(())
    }
}

/// The keyed sum; counts what it processed into `processed`.
struct KeyedSum {
    state: Option<Box<dyn ValueState<u64, u64>>>,
    processed: Arc<AtomicU64>,
    unpublished: u64,
}

impl Operator<(u64, u64), ()> for KeyedSum {
    fn open(&mut self, ctx: &mut OperatorContext<'_>) -> Result<()> {
        self.state = Some(value_state(ctx.state, StateDescriptor::new("sum"))?);
        Ok(())
    }

    fn process_record(&mut self, record: Record<(u64, u64)>, _: &mut dyn Output<()>) -> Result<()> {
        let state = self.state.as_mut().expect("opened");
        let (key, value) = record.value;
        let sum = state.get(&key)?.unwrap_or(0) + value;
        state.put(&key, sum)?;
        self.unpublished += 1;
        if self.unpublished == 4096 {
            self.processed.fetch_add(4096, Ordering::Release);
            self.unpublished = 0;
        }
        Ok(())
    }

    fn flush(&mut self, _: &mut dyn Output<()>) -> Result<()> {
        self.processed
            .fetch_add(std::mem::take(&mut self.unpublished), Ordering::Release);
        Ok(())
    }

    fn finish(&mut self, out: &mut dyn Output<()>) -> Result<()> {
        self.flush(out)
    }
}

/// The job, and the handles that drive it.
struct Job {
    graph: JobGraph,
    allowed: Arc<AtomicU64>,
    finish: Arc<AtomicBool>,
    processed: Arc<AtomicU64>,
}

fn job(keys: u64, stride: u64, parallelism: u32) -> Job {
    let allowed = Arc::new(AtomicU64::new(0));
    let finish = Arc::new(AtomicBool::new(false));
    let processed = Arc::new(AtomicU64::new(0));
    let mut graph = JobGraph::new();
    let source = {
        let (allowed, finish) = (allowed.clone(), finish.clone());
        graph.add_source("keys", parallelism, false, move |_| {
            Box::new(PhasedSource {
                subtask: 0,
                parallelism: 1,
                next: 0,
                allowed: allowed.clone(),
                finish: finish.clone(),
                keys,
                stride,
            })
        })
    };
    let sum = {
        let processed = processed.clone();
        graph.add_operator("sum", parallelism, move || {
            Box::new(KeyedSum {
                state: None,
                processed: processed.clone(),
                unpublished: 0,
            })
        })
    };
    let by_key: Partitioner<(u64, u64)> = Partitioner::Hash(Arc::new(|r: &(u64, u64)| {
        eddy_runtime::partition::hash_key(&r.0)
    }));
    graph.connect(source, sum, by_key).expect("types match");
    Job {
        graph,
        allowed,
        finish,
        processed,
    }
}

fn config(backend: Backend, parallelism: u32, work: &Path) -> ExecutionConfig {
    ExecutionConfig {
        parallelism,
        mode: RuntimeMode::Streaming,
        job_id: "state-bench".into(),
        state_backend: match backend {
            Backend::Heap => StateBackendKind::Heap,
            Backend::Rocksdb => StateBackendKind::RocksDb {
                dir: Some(work.join("rocksdb")),
            },
        },
        ..ExecutionConfig::default()
    }
}

/// Waits until the sum has processed `count` records.
fn wait_for(processed: &AtomicU64, count: u64, client: &JobClient) -> anyhow::Result<()> {
    while processed.load(Ordering::Acquire) < count {
        anyhow::ensure!(!client.is_finished(), "the job ended early");
        std::thread::sleep(Duration::from_millis(1));
    }
    Ok(())
}

fn median<T: PartialOrd + Copy>(mut values: Vec<T>) -> T {
    values.sort_by(|a, b| a.partial_cmp(b).expect("comparable"));
    values[values.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn throughput(
    backend: Backend,
    keys: u64,
    events: u64,
    parallelism: u32,
    runs: usize,
) -> anyhow::Result<()> {
    let mut rates = Vec::new();
    for _ in 0..runs {
        let work = tempfile::tempdir()?;
        let job = job(keys, 1, parallelism);
        // key_of(i) for i >= keys with stride 1 is i mod keys.
        job.allowed.store(events, Ordering::Release);
        job.finish.store(true, Ordering::Release);
        let started = Instant::now();
        let result = eddy_runtime::execute(&job.graph, &config(backend, parallelism, work.path()))?;
        let took = started.elapsed();
        anyhow::ensure!(
            job.processed.load(Ordering::Acquire) == events,
            "the job processed {} of {events} records",
            job.processed.load(Ordering::Acquire)
        );
        let rate = events as f64 / took.as_secs_f64();
        println!(
            "run: {events} events over {keys} keys in {:.2} s: {rate:.0} events/s (job {:.2} s)",
            took.as_secs_f64(),
            result.duration.as_secs_f64()
        );
        rates.push(rate);
    }
    println!("median: {:.0} events/s", median(rates));
    Ok(())
}

/// One checkpoint run: (full, after the change, recovery time).
fn checkpoint_run(
    backend: Backend,
    keys: u64,
    changed: f64,
    parallelism: u32,
) -> anyhow::Result<(CheckpointStats, CheckpointStats, Duration)> {
    let work = tempfile::tempdir()?;
    let stride = (1.0 / changed).round().max(1.0) as u64;
    let updates = keys / stride;
    let checkpoints = work.path().join("checkpoints");
    let mut config = config(backend, parallelism, work.path());
    // No periodic checkpoint: the driver triggers them.
    config.checkpointing = Some(CheckpointConfig::new(
        &checkpoints,
        Duration::from_secs(1_000_000),
    ));

    let job = job(keys, stride, parallelism);
    let graph = Arc::new(job.graph);
    let client = {
        let (graph, config) = (graph.clone(), config.clone());
        JobClient::spawn("state-bench", move |control| {
            execute_controlled(&graph, &config, control, &mut |_| {})
        })?
    };
    job.allowed.store(keys, Ordering::Release);
    wait_for(&job.processed, keys, &client)?;
    let full = client.trigger_checkpoint()?;
    job.allowed.store(keys + updates, Ordering::Release);
    wait_for(&job.processed, keys + updates, &client)?;
    let incremental = client.trigger_checkpoint()?;
    client.cancel();
    match client.wait() {
        Err(eddy_runtime::Error::Cancelled) => {}
        other => anyhow::bail!("the job should end cancelled: {other:?}"),
    }

    // Recovery: a new job from the last checkpoint, one more record per subtask.
    let job = job_after(keys, stride, parallelism, keys + updates);
    let mut config = config;
    config.restore_from = Some(PathBuf::from(&incremental.location));
    let started = Instant::now();
    let result: JobResult = eddy_runtime::execute(&job.graph, &config)?;
    let recovery = started.elapsed();
    anyhow::ensure!(
        result.restored_from.is_some(),
        "the second job did not restore"
    );
    anyhow::ensure!(
        job.processed.load(Ordering::Acquire) == u64::from(parallelism),
        "the restored job read {} records, not {parallelism}",
        job.processed.load(Ordering::Acquire)
    );
    Ok((full, incremental, recovery))
}

/// A job whose sources continue after `position` with one record each, then finish.
fn job_after(keys: u64, stride: u64, parallelism: u32, position: u64) -> Job {
    let job = job(keys, stride, parallelism);
    job.allowed
        .store(position + u64::from(parallelism), Ordering::Release);
    job.finish.store(true, Ordering::Release);
    job
}

fn checkpoint(
    backend: Backend,
    keys: u64,
    changed: f64,
    parallelism: u32,
    runs: usize,
) -> anyhow::Result<()> {
    let mut rows: Vec<(CheckpointStats, CheckpointStats, Duration)> = Vec::new();
    for run in 0..runs {
        let row = checkpoint_run(backend, keys, changed, parallelism)
            .with_context(|| format!("run {run}"))?;
        println!(
            "run {run}: full {:.1} ms (sync {:.1} ms) {} B; after {:.1}% changed {:.1} ms (sync {:.1} ms) {} B; recovery {:.1} ms",
            ms(row.0.duration),
            ms(row.0.sync_duration),
            row.0.bytes,
            changed * 100.0,
            ms(row.1.duration),
            ms(row.1.sync_duration),
            row.1.bytes,
            ms(row.2)
        );
        rows.push(row);
    }
    let full_bytes = median(rows.iter().map(|r| r.0.bytes).collect());
    let second_bytes = median(rows.iter().map(|r| r.1.bytes).collect());
    println!("keys: {keys}, parallelism {parallelism}, medians of {runs}:");
    println!(
        "first checkpoint (full):      {:.1} ms, sync {:.1} ms, {:.2} MB",
        ms(median(rows.iter().map(|r| r.0.duration).collect())),
        ms(median(rows.iter().map(|r| r.0.sync_duration).collect())),
        full_bytes as f64 / 1e6
    );
    println!(
        "after {:.1}% of keys changed:  {:.1} ms, sync {:.1} ms, {:.2} MB ({:.2}% of full)",
        changed * 100.0,
        ms(median(rows.iter().map(|r| r.1.duration).collect())),
        ms(median(rows.iter().map(|r| r.1.sync_duration).collect())),
        second_bytes as f64 / 1e6,
        100.0 * second_bytes as f64 / full_bytes as f64
    );
    println!(
        "recovery (restored job to its end): {:.1} ms",
        ms(median(rows.iter().map(|r| r.2).collect()))
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    match Args::parse().command {
        Command::Throughput {
            backend,
            keys,
            events,
            parallelism,
            runs,
        } => throughput(backend, keys, events, parallelism, runs.max(1)),
        Command::Checkpoint {
            backend,
            keys,
            changed,
            parallelism,
            runs,
        } => checkpoint(backend, keys, changed, parallelism, runs.max(1)),
    }
}
