//! WordCount: counts the words of text files (or of a built-in text) with the DataStream API.
//!
//! ```text
//! wordcount [--input FILE]... [--output FILE] [--parallelism N] [--mode batch|streaming]
//!     [--checkpoint-dir DIR] [--checkpoint-interval DUR] [--state-backend heap|rocksdb]
//!     [--restore PATH] [--savepoint-dir DIR] [--throttle RECORDS_PER_SEC]
//! ```
//!
//! The checkpoint flags are described in `eddy_examples::checkpointing`.
//! Prints one line `(word,count)` per distinct word (in streaming mode, one per update).

use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use compact_str::CompactString;
use eddy_datastream::{Collector, RuntimeMode, StreamExecutionEnvironment};
use eddy_examples::checkpointing::CheckpointArgs;
use eddy_examples::wordcount::{for_each_word, BUILT_IN_TEXT};
use eddy_examples::{fail, init_logging, EXIT_BAD_INPUT};

/// Counts words: lowercased, split on every character that is not ASCII [a-z0-9_].
#[derive(Parser, Debug)]
#[command(name = "wordcount", version)]
struct Args {
    /// A text file to count (repeat for several). Without any, a built-in text is counted.
    #[arg(long = "input", value_name = "FILE")]
    inputs: Vec<PathBuf>,
    /// Write the counts to FILE (created only when the job succeeds) instead of stdout.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Parallel subtasks per operator [default: the number of cores].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=128))]
    parallelism: Option<u32>,
    /// batch: one final count per word; streaming: every update, as Flink prints it.
    #[arg(long, value_enum, default_value_t = Mode::Batch)]
    mode: Mode,
    #[command(flatten)]
    checkpointing: CheckpointArgs,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Mode {
    Batch,
    Streaming,
}

fn main() {
    init_logging();
    let args = Args::parse();
    // Check the inputs before starting, so a bad path fails fast with one clear line.
    for input in &args.inputs {
        if let Err(e) = std::fs::File::open(input) {
            fail(
                "wordcount",
                format!("cannot read input {}: {e}", input.display()),
                EXIT_BAD_INPUT,
            );
        }
    }
    let env = StreamExecutionEnvironment::new();
    if let Some(p) = args.parallelism {
        env.set_parallelism(p);
    }
    args.checkpointing.apply(&env);
    env.set_runtime_mode(match args.mode {
        Mode::Batch => RuntimeMode::Batch,
        Mode::Streaming => RuntimeMode::Streaming,
    });
    let text = if args.inputs.is_empty() {
        eprintln!(
            "Executing WordCount example with built-in input text. Use --input to count files."
        );
        env.from_collection(BUILT_IN_TEXT.iter().map(|line| line.to_string()))
    } else {
        env.read_text_files(args.inputs.clone())
    }
    .name("source");
    let mut scratch = String::new();
    // Words are short: CompactString keeps up to 24 bytes inline, so a word costs no
    // allocation on its way through the job.
    let counts = text
        .process(
            move |line: String, out: &mut Collector<(CompactString, u64)>| {
                for_each_word(&line, &mut scratch, |word| {
                    out.collect((CompactString::new(word), 1))
                });
                Ok(())
            },
        )
        .name("tokenize")
        .key_by_ref(|pair: &(CompactString, u64)| &pair.0)
        .sum(|pair: &mut (CompactString, u64)| &mut pair.1)
        .map(|(word, count)| format!("({word},{count})"))
        .name("format");
    match &args.output {
        Some(path) => counts.write_as_text(path),
        None => counts.write_to_stdout(),
    }
    // A spinner with live counts on a terminal (indicatif draws nothing when stderr is not one).
    let spinner = indicatif::ProgressBar::new_spinner();
    let progress = |metrics: &[eddy_datastream::OperatorMetrics]| {
        let count = |name: &str| {
            metrics
                .iter()
                .find(|m| m.name == name)
                .map_or(0, |m| m.records_out)
        };
        spinner.set_message(format!(
            "{} lines, {} words",
            count("source"),
            count("tokenize")
        ));
        spinner.tick();
    };
    let outcome = env.execute_with_progress("WordCount", progress);
    spinner.finish_and_clear();
    match outcome {
        Ok(result) => tracing::info!(?result, "done"),
        Err(e @ eddy_runtime::Error::Io { .. }) => fail("wordcount", e, EXIT_BAD_INPUT),
        Err(e) => fail("wordcount", e, 1),
    }
}
