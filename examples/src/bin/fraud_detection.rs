//! fraud_detection: Flink's fraud-detection walkthrough as a CEP job. Per account, a
//! transaction under 1.00 followed by one over 500.00 within a minute raises an alert.
//!
//! ```text
//! fraud_detection [--input FILE.csv] [--output FILE] [--transactions N] [--accounts N]
//!     [--fraud-every N] [--parallelism N]
//!     [--checkpoint-dir DIR] [--checkpoint-interval DUR] [--state-backend heap|rocksdb]
//!     [--restore PATH] [--savepoint-dir DIR] [--throttle RECORDS_PER_SEC]
//! ```
//! The checkpoint flags are described in `eddy_examples::checkpointing`: with
//! `--checkpoint-dir`, partial matches are checkpointed with the input's position, and a run
//! killed at any moment and started again with the same flags writes every alert exactly once.
//! Without `--input`, transactions are generated: amounts between 1.00 and 500.00, except that
//! every `--fraud-every`-th transaction is a small one (0.50) immediately followed by a large
//! one (750.00) on the same account, so the number of alerts is known in advance.

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use eddy_cep::operator::pattern;
use eddy_cep::Pattern;
use eddy_datastream::{Generator, StreamExecutionEnvironment, WatermarkStrategy};
use eddy_examples::checkpointing::CheckpointArgs;
use eddy_examples::{fail, init_logging, EXIT_BAD_INPUT};
use serde::{Deserialize, Serialize};

/// Raises an alert when an account makes a transaction under 1.00 and then, within one
/// minute, one over 500.00. Alerts are CSV lines `account,small_ts,small_amount,large_ts,large_amount`.
#[derive(Parser, Debug)]
#[command(name = "fraud_detection", version)]
struct Args {
    /// Transactions as CSV with header `account,ts,amount` (ts in ms), in arrival order.
    #[arg(long, value_name = "FILE.csv")]
    input: Option<PathBuf>,
    /// Write alerts to FILE (created when the job succeeds) instead of stdout.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Generated transactions.
    #[arg(long, default_value_t = 1_000_000)]
    transactions: u64,
    /// Generated accounts.
    #[arg(long, default_value_t = 100_000)]
    accounts: u64,
    /// One generated fraud pair per this many transactions (1000: a 0.1% fraud rate).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(2..))]
    fraud_every: u64,
    /// Parallel subtasks of the CEP operator.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=128))]
    parallelism: u32,
    #[command(flatten)]
    checkpointing: CheckpointArgs,
}

/// One transaction.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Transaction {
    account: u64,
    ts: i64,
    amount: f64,
}

/// Transaction `i` of the generated input (one per millisecond).
fn generated(i: u64, accounts: u64, fraud_every: u64) -> Transaction {
    let mix = |x: u64| x.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (x >> 29);
    // A fraud pair occupies positions k*N and k*N + 1, on one account.
    let pair_start = i - i % fraud_every;
    let (account, amount) = match i % fraud_every {
        0 => (mix(pair_start) % accounts, 0.5),
        1 => (mix(pair_start) % accounts, 750.0),
        _ => (
            mix(i) % accounts,
            1.0 + (mix(i ^ 0xABCD) % 49_900) as f64 / 100.0,
        ),
    };
    Transaction {
        account,
        ts: i as i64,
        amount,
    }
}

fn main() {
    init_logging();
    let args = Args::parse();
    let env = StreamExecutionEnvironment::new();
    env.set_parallelism(args.parallelism);
    args.checkpointing.apply(&env);
    let transactions = match &args.input {
        Some(path) => env.read_csv::<Transaction>(path),
        None => {
            let (accounts, fraud_every) = (args.accounts.max(1), args.fraud_every);
            eprintln!(
                "Generating {} transactions over {} accounts, a fraud pair every {} (use --input for a file).",
                args.transactions, accounts, fraud_every
            );
            // One source, so that the generated stream is in timestamp order.
            env.from_generator(Generator::bounded(args.transactions), move |i| {
                generated(i, accounts, fraud_every)
            })
            .set_parallelism(1)
        }
    };
    let keyed = transactions
        .assign_timestamps_and_watermarks(
            WatermarkStrategy::for_monotonous_timestamps()
                .with_timestamp_assigner(|t: &Transaction| t.ts),
        )
        .key_by(|t: &Transaction| t.account);
    let fraud = Pattern::begin("small")
        .when(|t: &Transaction| t.amount < 1.0)
        .followed_by("large")
        .when(|t: &Transaction| t.amount > 500.0)
        .within_ms(60_000)
        .compile()
        .unwrap_or_else(|e| fail("fraud_detection", e, 1));
    let alerts = pattern(&keyed, fraud).select(|account, m| {
        let small = &m.get("small").unwrap_or_default()[0];
        let large = &m.get("large").unwrap_or_default()[0];
        format!(
            "{account},{},{},{},{}",
            small.ts, small.amount, large.ts, large.amount
        )
    });
    match &args.output {
        Some(path) => alerts.write_as_text(path),
        None => alerts.write_to_stdout(),
    }
    let start = Instant::now();
    match env.execute("fraud_detection") {
        Ok(result) => {
            let seconds = start.elapsed().as_secs_f64();
            let read = result.operators.first().map_or(0, |o| o.records_out);
            let alerts = result.operator("cep").map_or(0, |o| o.records_out);
            eprintln!(
                "{read} transactions, {alerts} alerts in {seconds:.2} s ({:.0} transactions/s)",
                read as f64 / seconds
            );
        }
        Err(e @ (eddy_runtime::Error::Io { .. } | eddy_runtime::Error::InvalidInput { .. })) => {
            fail("fraud_detection", e, EXIT_BAD_INPUT)
        }
        Err(e) => fail("fraud_detection", e, 1),
    }
}
