//! Checkpoint duration, size and recovery time of the heap state backend for N keys.
//!
//! ```text
//! cargo run --release -p eddy-benches --bin checkpoint_state -- [--keys 1000000] [--runs 3]
//! ```
//! Fills one subtask's value state with N `u64 -> (u64, u64)` entries (as a keyed sum would),
//! then times each step of a checkpoint (the synchronous copy at the barrier, and the
//! asynchronous serialization, write of the framed file and metadata commit) and of a restore (loading
//! and checking the files, and filling a fresh backend). Prints medians.

use std::time::{Duration, Instant};

use clap::Parser;
use eddy_runtime::checkpoint::metadata::{CheckpointMetadata, OperatorFiles, SnapshotKind};
use eddy_runtime::checkpoint::{
    CheckpointStorage, LoadedCheckpoint, LocalCheckpointStorage, RestoredState, SnapshotWriter,
};
use eddy_runtime::partition::KeyGroupRange;
use eddy_runtime::state::{value_state, HeapStateBackend, StateBackend, StateDescriptor};
use eddy_runtime::time::system_clock;

#[derive(Parser)]
#[command(about = "Checkpoint duration, size and recovery time of the heap backend")]
struct Args {
    /// Number of keys in state.
    #[arg(long, default_value_t = 1_000_000)]
    keys: u64,
    /// Repetitions (the median is printed).
    #[arg(long, default_value_t = 3)]
    runs: usize,
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let all = KeyGroupRange { start: 0, end: 127 };
    let mut backend = HeapStateBackend::new(system_clock());
    let mut state = value_state::<u64, (u64, u64)>(&mut backend, StateDescriptor::new("sum"))?;
    for key in 0..args.keys {
        state.put(&key, (key, key * 3))?;
    }
    let dir = tempfile::tempdir()?;
    let storage = LocalCheckpointStorage::new(dir.path(), "bench", None);
    let (mut sync, mut serialize, mut write) = (vec![], vec![], vec![]);
    let (mut load, mut fill) = (vec![], vec![]);
    let mut size = 0;
    for run in 0..args.runs {
        let id = run as u64 + 1;
        let started = Instant::now();
        let mut writer = SnapshotWriter::new(all, 128);
        backend.snapshot(&mut writer)?;
        sync.push(started.elapsed());

        // The coordinator's part: serialize the copy, write, commit.
        let started = Instant::now();
        let snapshot = writer.finish()?;
        serialize.push(started.elapsed());
        let location = storage.begin(id, None)?;
        let file = storage.write_subtask(&location, "op-0-0.state", 0, all, &snapshot)?;
        size = file.size;
        let metadata = CheckpointMetadata {
            job_id: "bench".into(),
            checkpoint_id: id,
            kind: SnapshotKind::Checkpoint,
            completed_at: 0,
            max_parallelism: 128,
            operators: vec![OperatorFiles {
                uid: "sum".into(),
                parallelism: 1,
                subtasks: vec![file],
            }],
        };
        storage.commit(&location, &metadata, 1)?;
        write.push(started.elapsed());

        let started = Instant::now();
        let loaded = LoadedCheckpoint::load_from(location.clone(), Some("bench"))?;
        load.push(started.elapsed());
        let started = Instant::now();
        let restored = RestoredState::assemble(all, loaded.operators["sum"].iter().map(|(_, s)| s));
        let mut fresh = HeapStateBackend::restoring(system_clock(), 128, restored);
        let mut state = value_state::<u64, (u64, u64)>(&mut fresh, StateDescriptor::new("sum"))?;
        fill.push(started.elapsed());
        anyhow::ensure!(state.len() as u64 == args.keys, "restore lost keys");
        anyhow::ensure!(state.get(&7)? == Some((7, 21)), "restore changed a value");
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("keys: {}", args.keys);
    println!(
        "copy at the barrier (sync):       {:.1} ms",
        ms(median(sync))
    );
    println!(
        "serialize + write + commit (async): {:.1} ms (serialize: {:.1} ms)",
        ms(median(write)),
        ms(median(serialize))
    );
    println!(
        "checkpoint size:                  {:.1} MB ({:.1} bytes/key)",
        size as f64 / 1e6,
        size as f64 / args.keys as f64
    );
    let (load, fill) = (median(load), median(fill));
    println!("restore: load and check files:   {:.1} ms", ms(load));
    println!("restore: fill the backend:        {:.1} ms", ms(fill));
    println!(
        "recovery (load + fill):           {:.1} ms",
        ms(load + fill)
    );
    Ok(())
}
