//! The RocksDB state backend's checkpoint and throughput figures (issue 4):
//! `rocksdb_state [--keys N] [--throughput-keys M] [--runs R] [--dir DIR]`.
//!
//! With `N` keys (u64 key, 64-byte random value; default 1 000 000) in one state: the time
//! and size of a full (self-contained) snapshot, of an incremental snapshot after 1% of the
//! keys changed, and the time to restore from each. Then put and get throughput over `M`
//! keys (default 10 000 000), gets in random order. Each figure is the median of `R` runs
//! (default 5); the lines starting with RESULT are the ones quoted in BENCHMARKS.md.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use eddy_runtime::partition::{hash_key, key_group_for_hash, KeyGroupRange};
use eddy_runtime::state::{
    RocksDbStateBackend, RocksSnapshotManifest, RocksTable, SnapshotSource, StateDescriptor,
};
use eddy_runtime::time::SystemClock;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const MAX_PARALLELISM: u32 = 128;
const ALL: KeyGroupRange = KeyGroupRange { start: 0, end: 127 };

#[derive(Parser)]
#[command(about = "RocksDB state backend: snapshot sizes and times, restore, throughput")]
struct Args {
    /// Keys in the snapshot benchmarks.
    #[arg(long, default_value_t = 1_000_000)]
    keys: u64,
    /// Keys in the put/get throughput benchmark.
    #[arg(long, default_value_t = 10_000_000)]
    throughput_keys: u64,
    /// Runs per figure (the median is reported).
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Scratch directory (default: a new one under the system temp directory).
    #[arg(long)]
    dir: Option<PathBuf>,
}

fn main() {
    let args = Args::parse();
    let root = args.dir.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("eddy-rocksdb-bench-{}", std::process::id()))
    });
    std::fs::create_dir_all(&root).expect("create the scratch directory");
    snapshots(&args, &root);
    throughput(&args, &root);
    std::fs::remove_dir_all(&root).expect("remove the scratch directory");
}

/// A 64-byte value that does not compress away.
fn value(rng: &mut StdRng) -> [u8; 64] {
    let mut v = [0u8; 64];
    rng.fill(&mut v[..]);
    v
}

fn group(key: u64) -> u16 {
    key_group_for_hash(hash_key(&key), MAX_PARALLELISM) as u16
}

fn open(dir: &Path) -> (RocksDbStateBackend, RocksTable) {
    let mut backend = RocksDbStateBackend::open(dir, ALL, Arc::new(SystemClock)).expect("open");
    let table = backend
        .table(&StateDescriptor::new("bench"))
        .expect("table");
    (backend, table)
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1 << 20) as f64
}

/// Takes a snapshot and uploads it; returns the manifest, the synchronous part's time and
/// the upload's time.
fn take(
    backend: &mut RocksDbStateBackend,
    id: u64,
    incremental: bool,
    dir: &Path,
    shared: &Path,
) -> (RocksSnapshotManifest, Duration, Duration) {
    let start = Instant::now();
    let pending = backend.snapshot(id, incremental).expect("snapshot");
    let sync = start.elapsed();
    let start = Instant::now();
    let manifest = pending.upload(dir, Some(shared)).expect("upload");
    let upload = start.elapsed();
    backend.notify_checkpoint_complete(id);
    (manifest, sync, upload)
}

fn restore_time(root: &Path, source: &SnapshotSource, probe: &[(u16, u64)]) -> Duration {
    let dir = root.join("restore");
    let start = Instant::now();
    let mut backend = RocksDbStateBackend::restore(
        &dir,
        ALL,
        Arc::new(SystemClock),
        std::slice::from_ref(source),
    )
    .expect("restore");
    let table = backend
        .table(&StateDescriptor::new("bench"))
        .expect("table");
    let elapsed = start.elapsed();
    for &(g, k) in probe {
        assert!(
            table.get(g, &k.to_be_bytes()).expect("get").is_some(),
            "key {k} lost"
        );
    }
    drop((table, backend));
    std::fs::remove_dir_all(&dir).expect("remove the restore directory");
    elapsed
}

fn snapshots(args: &Args, root: &Path) {
    let mut rng = StdRng::seed_from_u64(42);
    let (mut backend, table) = open(&root.join("work"));
    let start = Instant::now();
    for key in 0..args.keys {
        table
            .put(group(key), &key.to_be_bytes(), &value(&mut rng))
            .expect("put");
    }
    println!("loaded {} keys in {:.0} ms", args.keys, ms(start.elapsed()));
    let probe: Vec<(u16, u64)> = (0..100)
        .map(|_| rng.gen_range(0..args.keys))
        .map(|k| (group(k), k))
        .collect();
    let shared = root.join("shared");
    let mut next_id = 1;

    // Full, self-contained snapshots (savepoints) of the same state.
    let (mut sync, mut upload, mut restore, mut size) = (vec![], vec![], vec![], 0);
    for _ in 0..args.runs {
        let dir = root.join(format!("full-{next_id}"));
        let (manifest, s, u) = take(&mut backend, next_id, false, &dir, &shared);
        next_id += 1;
        size = manifest.total_bytes();
        sync.push(ms(s));
        upload.push(ms(u));
        restore.push(ms(restore_time(
            root,
            &SnapshotSource::new(manifest, &dir, None),
            &probe,
        )));
        std::fs::remove_dir_all(&dir).expect("remove");
    }
    let full_size = size;
    println!(
        "RESULT full keys={} size_mib={:.1} sync_ms={:.1} upload_ms={:.1} total_ms={:.1} restore_ms={:.1}",
        args.keys,
        mib(size),
        median(sync.clone()),
        median(upload.clone()),
        median(sync.iter().zip(&upload).map(|(a, b)| a + b).collect()),
        median(restore)
    );

    // Incremental: a base checkpoint, then each run changes 1% of the keys and checkpoints.
    let base_dir = root.join(format!("chk-{next_id}"));
    let (base, _, _) = take(&mut backend, next_id, true, &base_dir, &shared);
    next_id += 1;
    println!(
        "incremental base: {:.1} MiB uploaded",
        mib(base.uploaded_bytes())
    );
    let changed = args.keys / 100;
    let (mut sync, mut upload, mut restore, mut sizes) = (vec![], vec![], vec![], vec![]);
    for _ in 0..args.runs {
        for _ in 0..changed {
            let key = rng.gen_range(0..args.keys);
            table
                .put(group(key), &key.to_be_bytes(), &value(&mut rng))
                .expect("put");
        }
        let dir = root.join(format!("chk-{next_id}"));
        let (manifest, s, u) = take(&mut backend, next_id, true, &dir, &shared);
        next_id += 1;
        sizes.push(manifest.uploaded_bytes() as f64);
        sync.push(ms(s));
        upload.push(ms(u));
        let source = SnapshotSource::new(manifest, &dir, Some(shared.clone()));
        restore.push(ms(restore_time(root, &source, &probe)));
    }
    let size = median(sizes.clone());
    println!(
        "RESULT incremental changed={changed} uploaded_mib={:.2} ({:.2}% of full; runs: {}) sync_ms={:.1} upload_ms={:.1} total_ms={:.1} restore_ms={:.1}",
        size / (1 << 20) as f64,
        100.0 * size / full_size as f64,
        sizes
            .iter()
            .map(|s| format!("{:.2}", s / (1 << 20) as f64))
            .collect::<Vec<_>>()
            .join("/"),
        median(sync.clone()),
        median(upload.clone()),
        median(sync.iter().zip(&upload).map(|(a, b)| a + b).collect()),
        median(restore)
    );
}

fn throughput(args: &Args, root: &Path) {
    let mut rng = StdRng::seed_from_u64(7);
    let (backend, table) = open(&root.join("throughput"));
    let n = args.throughput_keys;
    let batch = (n / args.runs as u64).max(1);
    let mut put_rates = vec![];
    let mut key = 0;
    while key < n {
        let end = (key + batch).min(n);
        let start = Instant::now();
        for k in key..end {
            table
                .put(group(k), &k.to_be_bytes(), &value(&mut rng))
                .expect("put");
        }
        put_rates.push((end - key) as f64 / start.elapsed().as_secs_f64());
        key = end;
    }
    let mut get_rates = vec![];
    for _ in 0..args.runs {
        let keys: Vec<u64> = (0..batch).map(|_| rng.gen_range(0..n)).collect();
        let start = Instant::now();
        let mut found = 0u64;
        for &k in &keys {
            found += u64::from(
                table
                    .get_with(group(k), &k.to_be_bytes(), |v| v.len() == 64)
                    .expect("get")
                    .unwrap_or(false),
            );
        }
        get_rates.push(batch as f64 / start.elapsed().as_secs_f64());
        assert_eq!(found, batch, "every key is present");
    }
    let disk: u64 = std::fs::read_dir(backend.directory())
        .expect("list")
        .map(|e| e.expect("entry").metadata().expect("metadata").len())
        .sum();
    println!(
        "RESULT throughput keys={n} put_per_s={:.0} (batches: {}) get_per_s={:.0} (batches: {}) disk_mib={:.0}",
        median(put_rates.clone()),
        put_rates.iter().map(|r| format!("{:.0}k", r / 1e3)).collect::<Vec<_>>().join("/"),
        median(get_rates.clone()),
        get_rates.iter().map(|r| format!("{:.0}k", r / 1e3)).collect::<Vec<_>>().join("/"),
        mib(disk)
    );
}
