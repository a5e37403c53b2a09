//! dataset_sort: sorts a CSV file by one or more columns with the external merge sort, under a
//! memory budget, into one totally ordered file (the header line kept).
//!
//! ```text
//! dataset_sort --input IN.csv --key COL[,COL...] [--numeric] [--desc] [--memory MB]
//!              [--parallelism N] --output OUT.csv
//! ```
//! COL is a 0-based column index or a header name. `--numeric` compares keys as numbers,
//! otherwise as byte strings. Ties keep input order. N threads each sort their share of the
//! rows (spilling sorted runs when the shared budget is used up); the N sorted streams are
//! merged into the output. Bad input (missing column, non-numeric key with `--numeric`,
//! ragged row, missing file): one line naming file, line and column, exit code 2, and no
//! output file.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context as _;
use clap::Parser;
use eddy_dataset::sort::{merge_sorted, ExternalSorter, SortedOutput};
use eddy_examples::csv_table::{
    encode_key_field, encode_row, resolve_column, AtomicOutput, BadInput, CsvTable,
};
use eddy_examples::{fail, init_logging, EXIT_BAD_INPUT};
use eddy_runtime::memory::MemoryManager;

/// Sorts a CSV file by columns under a memory budget (external merge sort).
#[derive(Parser, Debug)]
#[command(name = "dataset_sort", version)]
struct Args {
    /// The CSV file to sort (its first line is the header).
    #[arg(long, value_name = "IN.csv")]
    input: PathBuf,
    /// Sort columns, most significant first: 0-based indexes or header names.
    #[arg(long, value_name = "COL[,COL...]")]
    key: String,
    /// Compare the key columns as numbers (otherwise as byte strings).
    #[arg(long)]
    numeric: bool,
    /// Largest key first.
    #[arg(long)]
    desc: bool,
    /// Memory budget in MiB for the sort buffers and merge buffers.
    #[arg(long, value_name = "MB", default_value_t = 512,
          value_parser = clap::value_parser!(u64).range(1..=1 << 20))]
    memory: u64,
    /// Sorting threads [default: the number of cores].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=128))]
    parallelism: Option<u32>,
    /// The sorted CSV file (created only when the sort succeeds).
    #[arg(long, value_name = "OUT.csv")]
    output: PathBuf,
}

/// Rows travel from the reader to the sorting threads in batches of this many.
const BATCH: usize = 2048;

/// A row's sort key: the encoded key columns, then its line number (ties keep input order).
type RowKey = (Vec<u8>, u64);

fn main() {
    init_logging();
    let args = Args::parse();
    match sort(&args) {
        Ok(rows) => tracing::info!(rows, "sorted"),
        Err(e) => match e.downcast_ref::<BadInput>() {
            Some(bad) => fail("dataset_sort", bad, EXIT_BAD_INPUT),
            None => fail("dataset_sort", format!("{e:#}"), 1),
        },
    }
}

/// Sorts `args.input` into `args.output`; returns the number of data rows.
fn sort(args: &Args) -> anyhow::Result<u64> {
    let mut table = CsvTable::open(&args.input)?;
    let columns: Vec<(usize, String)> = args
        .key
        .split(',')
        .map(|spec| {
            let spec = spec.trim();
            resolve_column(&args.input, table.header(), spec).map(|c| (c, spec.to_string()))
        })
        .collect::<Result<_, _>>()?;
    let threads = args.parallelism.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()),
        |n| n as usize,
    );
    let memory = MemoryManager::new((args.memory as usize) << 20);
    let mut output = AtomicOutput::create(&args.output)?;
    let progress = indicatif::ProgressBar::new_spinner();

    let failed = AtomicBool::new(false);
    let (batches, receiver) =
        crossbeam_channel::bounded::<Vec<(u64, csv::ByteRecord)>>(2 * threads);
    let job = SortJob {
        input: &args.input,
        columns: &columns,
        numeric: args.numeric,
        desc: args.desc,
        memory: &memory,
        failed: &failed,
    };
    let (read, sorted) = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let receiver = receiver.clone();
                let job = &job;
                s.spawn(move || job.sort_share(receiver))
            })
            .collect();
        drop(receiver);
        let read = read_rows(&mut table, batches, &failed, &progress);
        let sorted: Vec<_> = workers
            .into_iter()
            .map(|w| w.join().expect("a sorting thread panicked"))
            .collect();
        (read, sorted)
    });

    // Report the earliest bad line, whether the reader or a sorter found it.
    let mut outputs = Vec::with_capacity(sorted.len());
    let mut first_error: Option<(u64, anyhow::Error)> = None;
    for result in std::iter::once(read.map(|_| None)).chain(sorted.into_iter().map(|r| r.map(Some)))
    {
        match result {
            Ok(Some(output)) => outputs.push(output),
            Ok(None) => {}
            Err((line, e)) => {
                if first_error.as_ref().is_none_or(|(l, _)| line < *l) {
                    first_error = Some((line, e));
                }
            }
        }
    }
    if let Some((_, e)) = first_error {
        return Err(e);
    }

    progress.set_message("merging");
    let mut writer = BufWriter::with_capacity(1 << 20, output.file());
    let mut header = Vec::new();
    encode_row(table.header(), &mut header);
    header.push(b'\n');
    writer.write_all(&header).context("writing the output")?;
    let mut rows = 0u64;
    for entry in merge_sorted(outputs, false)? {
        let (_, line) = entry?;
        writer.write_all(&line).context("writing the output")?;
        rows += 1;
        if rows.is_multiple_of(1 << 20) {
            progress.set_message(format!("{rows} rows written"));
        }
    }
    writer.flush().context("writing the output")?;
    drop(writer);
    output
        .commit()
        .with_context(|| format!("{}: cannot write", args.output.display()))?;
    progress.finish_and_clear();
    Ok(rows)
}

/// Reads rows into batches for the sorting threads; an error comes with its line number.
fn read_rows(
    table: &mut CsvTable,
    batches: crossbeam_channel::Sender<Vec<(u64, csv::ByteRecord)>>,
    failed: &AtomicBool,
    progress: &indicatif::ProgressBar,
) -> Result<(), (u64, anyhow::Error)> {
    let mut count = 0u64;
    loop {
        let mut batch = Vec::with_capacity(BATCH);
        while batch.len() < BATCH {
            let mut row = csv::ByteRecord::new();
            match table.next_row(&mut row) {
                Ok(Some(line)) => batch.push((line, row)),
                Ok(None) => break,
                Err(e) => {
                    failed.store(true, Ordering::Relaxed);
                    let line = line_of(&e);
                    return Err((line, e.into()));
                }
            }
        }
        let done = batch.len() < BATCH;
        count += batch.len() as u64;
        if batches.send(batch).is_err() || failed.load(Ordering::Relaxed) {
            return Ok(()); // a sorting thread failed and will report why
        }
        if count % (1 << 18) < BATCH as u64 {
            progress.set_message(format!("{count} rows read"));
            progress.tick();
        }
        if done {
            return Ok(());
        }
    }
}

/// The line number a [`BadInput`] message names (`path:line: ...`), for picking the first.
fn line_of(e: &BadInput) -> u64 {
    e.0.split(':')
        .find_map(|part| part.parse().ok())
        .unwrap_or(u64::MAX)
}

/// What every sorting thread shares.
struct SortJob<'a> {
    input: &'a Path,
    columns: &'a [(usize, String)],
    numeric: bool,
    desc: bool,
    memory: &'a MemoryManager,
    failed: &'a AtomicBool,
}

impl SortJob<'_> {
    /// Sorts the batches this thread receives.
    fn sort_share(
        &self,
        batches: crossbeam_channel::Receiver<Vec<(u64, csv::ByteRecord)>>,
    ) -> Result<SortedOutput<RowKey, Vec<u8>>, (u64, anyhow::Error)> {
        let mut sorter = ExternalSorter::<Vec<u8>, RowKey, _>::with_keys(self.memory)
            // Heap bytes of the key and the line, plus the allocator's bookkeeping.
            .record_size(|key: &RowKey, line: &Vec<u8>| key.0.capacity() + line.capacity() + 32);
        for batch in batches {
            for (line_number, row) in batch {
                let mut key = Vec::with_capacity(24 * self.columns.len());
                for (column, name) in self.columns {
                    if let Err(message) = encode_key_field(&row[*column], self.numeric, &mut key) {
                        self.failed.store(true, Ordering::Relaxed);
                        let e = BadInput(format!(
                            "{}:{line_number}: column {name}: {message}",
                            self.input.display()
                        ));
                        return Err((line_number, e.into()));
                    }
                }
                if self.desc {
                    // The encoding is prefix-free, so flipping every bit reverses its order
                    // while the line number still breaks ties in input order.
                    key.iter_mut().for_each(|b| *b = !*b);
                }
                let mut line = Vec::with_capacity(row.as_slice().len() + row.len() + 1);
                encode_row(&row, &mut line);
                line.push(b'\n');
                sorter
                    .push_keyed((key, line_number), line)
                    .map_err(|e| (u64::MAX, e.into()))?;
            }
            if self.failed.load(Ordering::Relaxed) {
                break;
            }
        }
        sorter.finish().map_err(|e| (u64::MAX, e.into()))
    }
}
