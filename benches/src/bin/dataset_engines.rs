//! The DataSet engines in memory, on data shared with DuckDB and Polars: an inner join of
//! 10 million (u64 key, u64 value) rows against 1 million unique keys (count and sum of the
//! output) and a sort of 10 million random (u64, u64) pairs by the first field.
//!
//! ```text
//! dataset_engines gen  --dir DIR [--probe-rows N] [--build-rows N] [--sort-rows N] [--seed S]
//! dataset_engines join --dir DIR [--threads T] [--repeat R] [--strategy broadcast|repartition]
//! dataset_engines sort --dir DIR [--threads T] [--repeat R]
//! ```
//! `gen` writes `probe.bin`, `build.bin` and `sort.bin`: little-endian (u64, u64) pairs, so
//! numpy reads the very same rows (`numpy.fromfile(path, "<u8").reshape(-1, 2)`). `join` and
//! `sort` load them, then time the operation alone, `R` times, and print one line of
//! `key=value` pairs with the median seconds and a checksum of the output.

use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};
use eddy_dataset::join::{BroadcastHashJoin, HybridHashJoin, JoinType};
use eddy_dataset::key::{mix64, JoinKey};
use eddy_dataset::sort::ExternalSorter;
use eddy_runtime::memory::MemoryManager;

/// In-memory join and sort benchmarks of the DataSet engines.
#[derive(Parser, Debug)]
#[command(name = "dataset_engines")]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Writes the benchmark data.
    Gen {
        /// Output directory.
        #[arg(long)]
        dir: PathBuf,
        /// Rows of the probe (large) side of the join.
        #[arg(long, default_value_t = 10_000_000)]
        probe_rows: u64,
        /// Rows (unique keys) of the build side of the join.
        #[arg(long, default_value_t = 1_000_000)]
        build_rows: u64,
        /// Rows to sort.
        #[arg(long, default_value_t = 10_000_000)]
        sort_rows: u64,
        /// Random seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Times the join.
    Join {
        /// Directory written by `gen`.
        #[arg(long)]
        dir: PathBuf,
        /// Threads.
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Timed runs (the median is printed).
        #[arg(long, default_value_t = 5)]
        repeat: usize,
        /// broadcast: one shared table, threads probe halves; repartition: both sides
        /// hash-partitioned, one hybrid hash join per thread.
        #[arg(long, value_enum, default_value_t = Strategy::Broadcast)]
        strategy: Strategy,
    },
    /// Times the sort.
    Sort {
        /// Directory written by `gen`.
        #[arg(long)]
        dir: PathBuf,
        /// Threads.
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Timed runs (the median is printed).
        #[arg(long, default_value_t = 5)]
        repeat: usize,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Strategy {
    Broadcast,
    Repartition,
}

type Pair = (u64, u64);

fn main() -> anyhow::Result<()> {
    match Args::parse().command {
        Command::Gen {
            dir,
            probe_rows,
            build_rows,
            sort_rows,
            seed,
        } => generate(&dir, probe_rows, build_rows, sort_rows, seed),
        Command::Join {
            dir,
            threads,
            repeat,
            strategy,
        } => {
            let build = load(&dir.join("build.bin"))?;
            let probe = load(&dir.join("probe.bin"))?;
            let memory = MemoryManager::new(8 << 30);
            let mut result = (0, 0);
            let median = time(repeat, || {
                result = match strategy {
                    Strategy::Broadcast => broadcast_join(&memory, &build, &probe, threads),
                    Strategy::Repartition => repartition_join(&memory, &build, &probe, threads),
                }
            });
            println!(
                "engine=eddy op=join strategy={strategy:?} threads={threads} median_s={median:.4} count={} sum={}",
                result.0, result.1
            );
            Ok(())
        }
        Command::Sort {
            dir,
            threads,
            repeat,
        } => {
            let data = load(&dir.join("sort.bin"))?;
            let memory = MemoryManager::new(8 << 30);
            let mut checksum = 0;
            let median = time(repeat, || checksum = sort(&memory, &data, threads));
            println!(
                "engine=eddy op=sort threads={threads} median_s={median:.4} rows={} checksum={checksum}",
                data.len()
            );
            Ok(())
        }
    }
}

/// Runs `f` `repeat` times; the median wall time in seconds.
fn time(repeat: usize, mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..repeat.max(1))
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// One shared table over `build`; each thread probes its slice of `probe`.
fn broadcast_join(
    memory: &MemoryManager,
    build: &[Pair],
    probe: &[Pair],
    threads: usize,
) -> (u64, u64) {
    let table = BroadcastHashJoin::build(memory, build.iter().copied(), |b: &Pair| b.0, false);
    let chunk = probe.len().div_ceil(threads.max(1)).max(1);
    std::thread::scope(|s| {
        let workers: Vec<_> = probe
            .chunks(chunk)
            .map(|part| {
                let table = &table;
                s.spawn(move || {
                    let (mut count, mut sum) = (0u64, 0u64);
                    table.probe(
                        part.iter().copied(),
                        |p: &Pair| p.0,
                        false,
                        |b, p| {
                            count += 1;
                            sum = sum.wrapping_add(b.map_or(0, |b| b.1) + p.map_or(0, |p| p.1));
                        },
                    );
                    (count, sum)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a probe thread panicked"))
            .fold((0u64, 0u64), |a, b| (a.0 + b.0, a.1.wrapping_add(b.1)))
    })
}

/// Both sides hash-partitioned over the threads (in parallel), then one hybrid hash join per
/// thread, building its share of `build`.
fn repartition_join(
    memory: &MemoryManager,
    build: &[Pair],
    probe: &[Pair],
    threads: usize,
) -> (u64, u64) {
    let threads = threads.max(1);
    let split = |rows: &[Pair]| -> Vec<Vec<Vec<Pair>>> {
        let chunk = rows.len().div_ceil(threads).max(1);
        std::thread::scope(|s| {
            let parts: Vec<_> = rows
                .chunks(chunk)
                .map(|rows| {
                    s.spawn(move || {
                        let mut parts =
                            vec![Vec::with_capacity(rows.len() / threads + 16); threads];
                        for &row in rows {
                            parts[(row.0.hash_seeded(99) % threads as u64) as usize].push(row);
                        }
                        parts
                    })
                })
                .collect();
            parts
                .into_iter()
                .map(|p| p.join().expect("a split thread panicked"))
                .collect()
        })
    };
    let (build_parts, probe_parts) = (split(build), split(probe));
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let build = build_parts.iter().flat_map(move |p| p[t].iter().copied());
                let probe = probe_parts.iter().flat_map(move |p| p[t].iter().copied());
                s.spawn(move || {
                    let (mut count, mut sum) = (0u64, 0u64);
                    HybridHashJoin::new(memory, JoinType::Inner, |b: &Pair| b.0, |p: &Pair| p.0)
                        .run(build, probe, |b, p| {
                            count += 1;
                            sum = sum.wrapping_add(b.map_or(0, |b| b.1) + p.map_or(0, |p| p.1));
                        })
                        .expect("an in-memory join does not spill");
                    (count, sum)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a join thread panicked"))
            .fold((0u64, 0u64), |a, b| (a.0 + b.0, a.1.wrapping_add(b.1)))
    })
}

/// Sorts `data` by the first field; a checksum of the order (sum of position times value).
fn sort(memory: &MemoryManager, data: &[Pair], threads: usize) -> u64 {
    let mut sorter = ExternalSorter::new(memory, |p: &Pair| p.0).threads(threads);
    for &pair in data {
        sorter.push(pair).expect("an in-memory sort does not spill");
    }
    let output = sorter.finish().expect("an in-memory sort does not spill");
    assert_eq!(output.metrics().spilled_runs, 0, "the sort spilled");
    let mut checksum = 0u64;
    let mut previous = 0;
    for (i, entry) in output.enumerate() {
        let (key, pair) = entry.expect("in memory");
        assert!(key >= previous, "out of order");
        previous = key;
        checksum = checksum.wrapping_add((i as u64).wrapping_mul(pair.1));
    }
    checksum
}

/// A deterministic stream of 64-bit values (splitmix64).
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix64(self.0)
    }
}

fn generate(
    dir: &Path,
    probe_rows: u64,
    build_rows: u64,
    sort_rows: u64,
    seed: u64,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut random = Random(seed);
    // Build keys are unique (mix64 is a bijection); values stay below 2^32 so sums fit.
    let key = |i: u64| mix64(i ^ (seed << 40));
    write(
        &dir.join("build.bin"),
        (0..build_rows).map(|i| (key(i), i & 0xffff_ffff)),
    )?;
    write(
        &dir.join("probe.bin"),
        (0..probe_rows).map(|_| {
            let r = random.next();
            (key(r % build_rows), r >> 32)
        }),
    )?;
    write(
        &dir.join("sort.bin"),
        (0..sort_rows).map(|_| (random.next(), random.next())),
    )?;
    println!(
        "wrote {} rows to {}",
        probe_rows + build_rows + sort_rows,
        dir.display()
    );
    Ok(())
}

fn write(path: &Path, rows: impl Iterator<Item = Pair>) -> anyhow::Result<()> {
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    for (a, b) in rows {
        out.write_all(&a.to_le_bytes())?;
        out.write_all(&b.to_le_bytes())?;
    }
    out.flush()?;
    Ok(())
}

fn load(path: &Path) -> anyhow::Result<Vec<Pair>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .map_err(|e| anyhow::anyhow!("{}: {e} (run `dataset_engines gen` first)", path.display()))?
        .read_to_end(&mut bytes)?;
    Ok(bytes
        .chunks_exact(16)
        .map(|c| {
            (
                u64::from_le_bytes(c[..8].try_into().expect("8 bytes")),
                u64::from_le_bytes(c[8..].try_into().expect("8 bytes")),
            )
        })
        .collect())
}
