//! Writes the seeded Zipf text file of the WordCount benchmark.

use std::io::{BufWriter, Write};
use std::path::PathBuf;

use clap::Parser;

/// Generates text whose words follow a Zipf distribution over a fixed vocabulary.
#[derive(Parser)]
#[command(name = "gen_zipf_text", about)]
struct Args {
    /// Where to write the text (written to a temporary name, then renamed).
    #[arg(long)]
    output: PathBuf,
    /// Size of the file in megabytes (10^6 bytes).
    #[arg(long, default_value_t = 500)]
    megabytes: u64,
    /// Number of distinct words.
    #[arg(long, default_value_t = 100_000)]
    vocabulary: usize,
    /// Random seed.
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let vocabulary = eddy_benches::vocabulary(args.vocabulary, args.seed);
    let temporary = args.output.with_extension("partial");
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(&temporary)?);
    let words = eddy_benches::write_zipf_text(
        &mut out,
        args.megabytes * 1_000_000,
        &vocabulary,
        args.seed,
    )?;
    out.flush()?;
    drop(out);
    std::fs::rename(&temporary, &args.output)?;
    println!("words={words}");
    Ok(())
}
