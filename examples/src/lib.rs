//! Helpers shared by the example binaries in `src/bin/`: the word tokenizer of `wordcount`
//! (also used by the benchmarks' plain-loop baseline, so both count the same words), the
//! built-in text, and the one-line error exit every example uses.

pub mod checkpointing;
pub mod connected_components;
pub mod csv_table;
pub mod duration;
pub mod graph_input;
pub mod ml;
pub mod wordcount;

/// Sets up `tracing` to stderr, at `warn` unless `RUST_LOG` says otherwise. First, it lets
/// the program run on an `eddy` cluster: `--plan` as the first argument describes the job's
/// plan instead of running it (see `eddy_runtime::cluster`).
pub fn init_logging() {
    eddy_runtime::cluster::init();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    use std::io::IsTerminal;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}

/// Exit code for bad input (a missing file, a malformed line, bad flags).
pub const EXIT_BAD_INPUT: i32 = 2;

/// Prints `program: message` as one line to stderr and exits with `code`.
pub fn fail(program: &str, message: impl std::fmt::Display, code: i32) -> ! {
    eprintln!("{program}: {message}");
    std::process::exit(code)
}
