//! Generates the CSV files of the out-of-core DataSet benchmarks: fixed-width rows of 100
//! bytes (a 19-digit key below 2^63, a 10-digit value, a random payload), seeded.
//!
//! ```text
//! dataset_csv_gen sort       --bytes N --output F   # key,value,payload; random keys
//! dataset_csv_gen join-right --bytes N --output F   # key,name,payload; unique keys
//! dataset_csv_gen join-left  --bytes N --right-bytes M --output F
//!                                                   # key,value,payload; every key is one of
//!                                                   # the right file's (of M bytes)
//! ```

use std::io::{BufWriter, Write};
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use eddy_dataset::key::mix64;

/// Writes the CSV inputs of the out-of-core DataSet benchmarks.
#[derive(Parser, Debug)]
#[command(name = "dataset_csv_gen")]
struct Args {
    #[command(subcommand)]
    kind: Kind,
}

#[derive(Subcommand, Debug)]
enum Kind {
    /// Rows with random keys, to sort.
    Sort {
        /// Approximate file size in bytes.
        #[arg(long)]
        bytes: u64,
        /// The file to write.
        #[arg(long)]
        output: PathBuf,
    },
    /// The build side of the join: unique keys.
    JoinRight {
        /// Approximate file size in bytes.
        #[arg(long)]
        bytes: u64,
        /// The file to write.
        #[arg(long)]
        output: PathBuf,
    },
    /// The probe side of the join: keys drawn from the right file's.
    JoinLeft {
        /// Approximate file size in bytes.
        #[arg(long)]
        bytes: u64,
        /// The size the right file was generated with.
        #[arg(long)]
        right_bytes: u64,
        /// The file to write.
        #[arg(long)]
        output: PathBuf,
    },
}

/// Every row is this long, line break included.
const ROW: u64 = 100;

/// The `i`-th unique key of the right side.
fn right_key(i: u64) -> u64 {
    mix64(i ^ 0x00ab_cdef) >> 1
}

fn main() -> std::io::Result<()> {
    let kind = Args::parse().kind;
    let (output, rows, header) = match &kind {
        Kind::Sort { bytes, output } => (output.clone(), bytes / ROW, "key,value,payload"),
        Kind::JoinRight { bytes, output } => (output.clone(), bytes / ROW, "key,name,payload"),
        Kind::JoinLeft { bytes, output, .. } => (output.clone(), bytes / ROW, "key,value,payload"),
    };
    let temporary = output.with_extension("partial");
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(&temporary)?);
    writeln!(out, "{header}")?;
    let mut state = 0x5eed_u64;
    let mut random = move || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix64(state)
    };
    const LETTERS: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyzABCDEF";
    let mut payload = [0u8; 68];
    for i in 0..rows {
        let key = match &kind {
            Kind::Sort { .. } => random() >> 1,
            Kind::JoinRight { .. } => right_key(i),
            Kind::JoinLeft { right_bytes, .. } => right_key(random() % (right_bytes / ROW).max(1)),
        };
        for chunk in payload.chunks_mut(12) {
            let mut r = random();
            for b in chunk {
                *b = LETTERS[(r & 31) as usize];
                r >>= 5;
            }
        }
        write!(out, "{key:019},{:010},", random() >> 34)?;
        out.write_all(&payload)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    drop(out);
    std::fs::rename(&temporary, &output)?;
    println!("wrote {rows} rows to {}", output.display());
    Ok(())
}
