//! dataset_join: joins two CSV files on one column each with the DataSet join engines, under
//! a memory budget.
//!
//! ```text
//! dataset_join --left L.csv --right R.csv --left-key COL --right-key COL
//!              [--type inner|left|right|full]
//!              [--hint auto|broadcast-hash-first|broadcast-hash-second|
//!                      repartition-hash-first|repartition-hash-second|sort-merge]
//!              [--memory MB] [--parallelism N] --output OUT.csv
//! ```
//! Output columns are all left columns then all right columns (the right key included), the
//! unmatched side of an outer row as empty fields; the header line is the two headers joined;
//! row order is free. Keys match when their bytes are equal. With a repartition or sort-merge
//! hint (and `auto`, which hashes the smaller file), rows are hash-partitioned over N threads,
//! each running its own join under a share of the budget; with a broadcast hint one side is
//! loaded into one shared table and N threads probe it. Bad input (missing column, ragged
//! row, missing file): one line naming file, line and column, exit code 2, no output file.

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use anyhow::Context as _;
use clap::{Parser, ValueEnum};
use crossbeam_channel::{Receiver, Sender};
use eddy_dataset::join::{BroadcastHashJoin, BuildSide, HybridHashJoin, JoinType, SortMergeJoin};
use eddy_dataset::key::hash_bytes;
use eddy_examples::csv_table::{encode_row, resolve_column, AtomicOutput, BadInput, CsvTable};
use eddy_examples::{fail, init_logging, EXIT_BAD_INPUT};
use eddy_runtime::memory::MemoryManager;

/// Joins two CSV files on a column each, under a memory budget (hybrid hash join by default).
#[derive(Parser, Debug)]
#[command(name = "dataset_join", version)]
struct Args {
    /// The left (first) CSV file; its first line is the header.
    #[arg(long, value_name = "L.csv")]
    left: PathBuf,
    /// The right (second) CSV file; its first line is the header.
    #[arg(long, value_name = "R.csv")]
    right: PathBuf,
    /// The left join column: a 0-based index or a header name.
    #[arg(long, value_name = "COL")]
    left_key: String,
    /// The right join column: a 0-based index or a header name.
    #[arg(long, value_name = "COL")]
    right_key: String,
    /// Which rows to output.
    #[arg(long = "type", value_enum, default_value_t = Type::Inner)]
    join_type: Type,
    /// The join strategy, as Flink's join hints.
    #[arg(long, value_enum, default_value_t = Hint::Auto)]
    hint: Hint,
    /// Memory budget in MiB for the hash tables, sort buffers and bloom filters.
    #[arg(long, value_name = "MB", default_value_t = 512,
          value_parser = clap::value_parser!(u64).range(1..=1 << 20))]
    memory: u64,
    /// Joining threads [default: the number of cores].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=128))]
    parallelism: Option<u32>,
    /// The joined CSV file (created only when the join succeeds).
    #[arg(long, value_name = "OUT.csv")]
    output: PathBuf,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Type {
    Inner,
    Left,
    Right,
    Full,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Hint {
    Auto,
    BroadcastHashFirst,
    BroadcastHashSecond,
    RepartitionHashFirst,
    RepartitionHashSecond,
    SortMerge,
}

/// A row: its key field and its CSV line (no line break).
type Row = (Vec<u8>, Vec<u8>);

/// Rows travel between threads in batches of this many.
const BATCH: usize = 2048;

/// Output is handed to the shared writer in chunks of about this many bytes.
const CHUNK: usize = 256 * 1024;

fn main() {
    init_logging();
    let args = Args::parse();
    match join(&args) {
        Ok(rows) => tracing::info!(rows, "joined"),
        Err(e) => match e.downcast_ref::<BadInput>() {
            Some(bad) => fail("dataset_join", bad, EXIT_BAD_INPUT),
            None => fail("dataset_join", format!("{e:#}"), 1),
        },
    }
}

/// One side being read: the table and its key column.
struct Side {
    table: CsvTable,
    key: usize,
}

impl Side {
    /// Reads every row, in batches, handing each batch to `deliver`; stops early (`Ok`) when
    /// `deliver` returns false.
    fn read(
        &mut self,
        failed: &AtomicBool,
        mut deliver: impl FnMut(Vec<Row>) -> bool,
    ) -> Result<(), BadInput> {
        let mut row = csv::ByteRecord::new();
        loop {
            let mut batch = Vec::with_capacity(BATCH);
            while batch.len() < BATCH {
                match self.table.next_row(&mut row) {
                    Ok(Some(_)) => {
                        let mut line = Vec::with_capacity(row.as_slice().len() + row.len());
                        encode_row(&row, &mut line);
                        batch.push((row[self.key].to_vec(), line));
                    }
                    Ok(None) => break,
                    Err(e) => {
                        failed.store(true, Ordering::Relaxed);
                        return Err(e);
                    }
                }
            }
            let done = batch.len() < BATCH;
            if !batch.is_empty() && !deliver(batch) {
                return Ok(());
            }
            if done {
                return Ok(());
            }
        }
    }
}

/// Formats output rows and hands them to the shared file in chunks.
struct RowWriter<'a> {
    buffer: Vec<u8>,
    file: &'a Mutex<BufWriter<std::fs::File>>,
    left_columns: usize,
    right_columns: usize,
    rows: u64,
    error: Option<std::io::Error>,
}

impl<'a> RowWriter<'a> {
    fn new(file: &'a Mutex<BufWriter<std::fs::File>>, left: usize, right: usize) -> Self {
        RowWriter {
            buffer: Vec::with_capacity(CHUNK + 4096),
            file,
            left_columns: left,
            right_columns: right,
            rows: 0,
            error: None,
        }
    }

    fn emit(&mut self, left: Option<&Row>, right: Option<&Row>) {
        match left {
            Some(l) => self.buffer.extend_from_slice(&l.1),
            None => self
                .buffer
                .extend(std::iter::repeat_n(b',', self.left_columns - 1)),
        }
        self.buffer.push(b',');
        match right {
            Some(r) => self.buffer.extend_from_slice(&r.1),
            None => self
                .buffer
                .extend(std::iter::repeat_n(b',', self.right_columns - 1)),
        }
        self.buffer.push(b'\n');
        self.rows += 1;
        if self.buffer.len() >= CHUNK {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if self.error.is_none() && !self.buffer.is_empty() {
            let mut file = self.file.lock().expect("no writer panicked");
            if let Err(e) = file.write_all(&self.buffer) {
                self.error = Some(e);
            }
        }
        self.buffer.clear();
    }

    /// Flushes and returns the rows written.
    fn finish(mut self) -> std::io::Result<u64> {
        self.flush();
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.rows),
        }
    }
}

/// Joins `args.left` with `args.right` into `args.output`; returns the rows written.
fn join(args: &Args) -> anyhow::Result<u64> {
    let left_table = CsvTable::open(&args.left)?;
    let right_table = CsvTable::open(&args.right)?;
    let left_key = resolve_column(&args.left, left_table.header(), &args.left_key)?;
    let right_key = resolve_column(&args.right, right_table.header(), &args.right_key)?;
    let (left_columns, right_columns) = (left_table.header().len(), right_table.header().len());
    let mut left = Side {
        table: left_table,
        key: left_key,
    };
    let mut right = Side {
        table: right_table,
        key: right_key,
    };
    let join_type = match args.join_type {
        Type::Inner => JoinType::Inner,
        Type::Left => JoinType::LeftOuter,
        Type::Right => JoinType::RightOuter,
        Type::Full => JoinType::FullOuter,
    };
    let threads = args.parallelism.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()),
        |n| n as usize,
    );
    let hint = match args.hint {
        Hint::Auto => {
            let size = |p: &PathBuf| std::fs::metadata(p).map_or(0, |m| m.len());
            if size(&args.right) < size(&args.left) {
                Hint::RepartitionHashSecond
            } else {
                Hint::RepartitionHashFirst
            }
        }
        hint => hint,
    };
    tracing::info!(?hint, threads, "joining");
    let memory = MemoryManager::new((args.memory as usize) << 20);
    let output = AtomicOutput::create(&args.output)?;

    let mut header = Vec::new();
    encode_row(left.table.header(), &mut header);
    header.push(b',');
    encode_row(right.table.header(), &mut header);
    header.push(b'\n');
    let mut writer = BufWriter::with_capacity(1 << 20, output.try_clone_file()?);
    writer.write_all(&header).context("writing the output")?;
    let file = Mutex::new(writer);
    let failed = AtomicBool::new(false);
    let progress = indicatif::ProgressBar::new_spinner();
    progress.set_message("joining");
    progress.enable_steady_tick(std::time::Duration::from_millis(200));

    let rows = match hint {
        Hint::BroadcastHashFirst | Hint::BroadcastHashSecond => {
            let build_left = hint == Hint::BroadcastHashFirst;
            let (build, probe) = if build_left {
                (&mut left, &mut right)
            } else {
                (&mut right, &mut left)
            };
            let mut rows = Vec::new();
            build.read(&failed, |batch| {
                rows.extend(batch);
                true
            })?;
            let keep_build = if build_left {
                join_type.keeps_left()
            } else {
                join_type.keeps_right()
            };
            let keep_probe = if build_left {
                join_type.keeps_right()
            } else {
                join_type.keeps_left()
            };
            let table = BroadcastHashJoin::build(&memory, rows, |r: &Row| r.0.clone(), keep_build);
            let (sender, receiver) = crossbeam_channel::bounded::<Vec<Row>>(2 * threads);
            let results = std::thread::scope(|s| {
                let workers: Vec<_> = (0..threads)
                    .map(|_| {
                        let receiver = receiver.clone();
                        let (table, file) = (&table, &file);
                        s.spawn(move || {
                            let mut out = RowWriter::new(file, left_columns, right_columns);
                            for batch in receiver {
                                table.probe(
                                    batch,
                                    |r: &Row| r.0.clone(),
                                    keep_probe,
                                    |b, p| {
                                        if build_left {
                                            out.emit(b, p)
                                        } else {
                                            out.emit(p, b)
                                        }
                                    },
                                );
                            }
                            out.finish()
                        })
                    })
                    .collect();
                drop(receiver);
                let read = probe.read(&failed, |batch| sender.send(batch).is_ok());
                drop(sender);
                let written: Vec<_> = workers
                    .into_iter()
                    .map(|w| w.join().expect("a join thread panicked"))
                    .collect();
                (read, written)
            });
            results.0?;
            let mut total = 0;
            for written in results.1 {
                total += written.context("writing the output")?;
            }
            if keep_build {
                let mut out = RowWriter::new(&file, left_columns, right_columns);
                table.for_each_unmatched(|b| {
                    if build_left {
                        out.emit(Some(b), None)
                    } else {
                        out.emit(None, Some(b))
                    }
                });
                total += out.finish().context("writing the output")?;
            }
            total
        }
        _ => {
            // Repartition: hash rows to N partitions, each joined by its own thread. The side
            // the engine consumes first is read first, so no channel waits on the other.
            let build = match hint {
                Hint::RepartitionHashSecond => BuildSide::Right,
                _ => BuildSide::Left,
            };
            let sort_merge = hint == Hint::SortMerge;
            let channels = |n| {
                (0..n)
                    .map(|_| crossbeam_channel::bounded::<Vec<Row>>(4))
                    .unzip::<_, _, Vec<Sender<Vec<Row>>>, Vec<Receiver<Vec<Row>>>>()
            };
            let (left_senders, left_receivers) = channels(threads);
            let (right_senders, right_receivers) = channels(threads);
            let results = std::thread::scope(|s| {
                let workers: Vec<_> = left_receivers
                    .into_iter()
                    .zip(right_receivers)
                    .map(|(lr, rr)| {
                        let (memory, file) = (&memory, &file);
                        s.spawn(move || -> anyhow::Result<u64> {
                            let mut out = RowWriter::new(file, left_columns, right_columns);
                            let lrows = lr.into_iter().flatten();
                            let rrows = rr.into_iter().flatten();
                            let heap = |r: &Row| r.0.capacity() + r.1.capacity() + 32;
                            let metrics = if sort_merge {
                                SortMergeJoin::new(
                                    memory,
                                    join_type,
                                    |l: &Row| l.0.clone(),
                                    |r: &Row| r.0.clone(),
                                )
                                .run(lrows, rrows, |l, r| out.emit(l, r))?
                            } else {
                                HybridHashJoin::new(
                                    memory,
                                    join_type,
                                    |l: &Row| l.0.clone(),
                                    |r: &Row| r.0.clone(),
                                )
                                .build_side(build)
                                .left_record_size(heap)
                                .right_record_size(heap)
                                .run(lrows, rrows, |l, r| out.emit(l, r))?
                            };
                            tracing::info!(?metrics, "partition joined");
                            Ok(out.finish()?)
                        })
                    })
                    .collect();
                let route = |senders: &[Sender<Vec<Row>>], batch: Vec<Row>| -> bool {
                    let mut parts: Vec<Vec<Row>> = (0..senders.len()).map(|_| Vec::new()).collect();
                    for row in batch {
                        let p = (hash_bytes(&row.0, 0x9a27) % senders.len() as u64) as usize;
                        parts[p].push(row);
                    }
                    parts
                        .into_iter()
                        .zip(senders)
                        .all(|(part, sender)| part.is_empty() || sender.send(part).is_ok())
                };
                let (first, first_senders, second, second_senders) = if build == BuildSide::Right {
                    (&mut right, right_senders, &mut left, left_senders)
                } else {
                    (&mut left, left_senders, &mut right, right_senders)
                };
                let mut read = first.read(&failed, |batch| route(&first_senders, batch));
                drop(first_senders);
                if read.is_ok() {
                    read = second.read(&failed, |batch| route(&second_senders, batch));
                }
                drop(second_senders);
                let written: Vec<_> = workers
                    .into_iter()
                    .map(|w| w.join().expect("a join thread panicked"))
                    .collect();
                (read, written)
            });
            results.0?;
            let mut total = 0;
            for written in results.1 {
                total += written?;
            }
            total
        }
    };
    file.into_inner()
        .expect("no writer panicked")
        .into_inner()
        .map_err(|e| e.into_error())
        .context("writing the output")?;
    output
        .commit()
        .with_context(|| format!("{}: cannot write", args.output.display()))?;
    progress.finish_and_clear();
    Ok(rows)
}
