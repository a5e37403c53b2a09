//! window_aggregate: per-key event-time window aggregates (count, sum, min, max) of a CSV
//! file, with Flink's watermark, lateness and firing rules.
//!
//! ```text
//! window_aggregate --input FILE.csv --window SPEC [--out-of-orderness DUR]
//!     [--allowed-lateness DUR] [--late-output FILE] --output FILE [--parallelism N]
//!     [--checkpoint-dir DIR] [--checkpoint-interval DUR] [--state-backend heap|rocksdb]
//!     [--restore PATH] [--savepoint-dir DIR] [--throttle RECORDS_PER_SEC]
//! ```
//!
//! The checkpoint flags are described in `eddy_examples::checkpointing`.

use std::path::PathBuf;

use clap::Parser;
use eddy_datastream::window::{AggregateFunction, WindowAssigner};
use eddy_datastream::{StreamExecutionEnvironment, WatermarkStrategy};
use eddy_examples::checkpointing::CheckpointArgs;
use eddy_examples::duration::parse_millis;
use eddy_examples::{fail, init_logging, EXIT_BAD_INPUT};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Aggregates `key,ts,value` rows in event-time windows: one output row per window firing.
///
/// The watermark is punctuated: after each row it becomes the largest ts so far minus the
/// out-of-orderness minus 1; a row is judged against the watermark as it stood before it. A
/// window fires when the watermark reaches its last millisecond (or at once, for a row
/// arriving after that within the allowed lateness); the last row for a window is final. End
/// of input fires every window.
#[derive(Parser, Debug)]
#[command(name = "window_aggregate", version)]
struct Args {
    /// Input CSV with header `key,ts,value` (ts in integer ms), rows in arrival order.
    #[arg(long, value_name = "FILE.csv")]
    input: PathBuf,
    /// tumbling:SIZE, sliding:SIZE,SLIDE or session:GAP; durations like 500ms, 10s, 5m, 1h.
    #[arg(long, value_name = "SPEC", value_parser = parse_window)]
    window: WindowAssigner,
    /// How far rows may arrive out of order.
    #[arg(long, value_name = "DUR", value_parser = parse_millis, default_value = "0ms")]
    out_of_orderness: i64,
    /// How long after its end a window still accepts (and re-fires for) late rows.
    #[arg(long, value_name = "DUR", value_parser = parse_millis, default_value = "0ms")]
    allowed_lateness: i64,
    /// Write rows too late for every window to FILE (same columns as the input); without it
    /// they are dropped and counted in the log.
    #[arg(long, value_name = "FILE")]
    late_output: Option<PathBuf>,
    /// Output CSV: key,window_start,window_end,count,sum,min,max (window_end exclusive).
    #[arg(long, value_name = "FILE")]
    output: PathBuf,
    /// Parallel subtasks of the window operator.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=128))]
    parallelism: u32,
    #[command(flatten)]
    checkpointing: CheckpointArgs,
}

fn parse_window(spec: &str) -> Result<WindowAssigner, String> {
    let positive = |text: &str| match parse_millis(text)? {
        0 => Err(format!("'{text}' must be longer than zero")),
        ms => Ok(ms),
    };
    match spec.split_once(':') {
        Some(("tumbling", size)) => Ok(WindowAssigner::tumbling(positive(size)?)),
        Some(("sliding", rest)) => {
            let (size, slide) = rest
                .split_once(',')
                .ok_or_else(|| format!("'{spec}': sliding needs SIZE,SLIDE"))?;
            Ok(WindowAssigner::sliding(positive(size)?, positive(slide)?))
        }
        Some(("session", gap)) => Ok(WindowAssigner::session(positive(gap)?)),
        _ => Err(format!(
            "'{spec}' is not tumbling:SIZE, sliding:SIZE,SLIDE or session:GAP"
        )),
    }
}

/// The `value` column: a float that remembers how it was written, so late rows are copied out
/// unchanged.
#[derive(Debug, Clone)]
struct Number {
    value: f64,
    text: String,
}

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let value = text.trim().parse::<f64>().map_err(|_| {
            serde::de::Error::custom(format!("column 'value': '{text}' is not a number"))
        })?;
        Ok(Number { value, text })
    }
}

impl Serialize for Number {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

/// One input row.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Event {
    key: String,
    ts: i64,
    value: Number,
}

/// One output row.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Row {
    key: String,
    window_start: i64,
    window_end: i64,
    count: u64,
    sum: f64,
    min: f64,
    max: f64,
}

/// Count, sum, min and max, folded in arrival order.
#[derive(Clone)]
struct Stats;

impl AggregateFunction<Event> for Stats {
    type Acc = (u64, f64, f64, f64);
    type Out = (u64, f64, f64, f64);
    fn create_accumulator(&self) -> Self::Acc {
        (0, 0.0, f64::INFINITY, f64::NEG_INFINITY)
    }
    fn add(&self, acc: &mut Self::Acc, event: &Event) {
        let v = event.value.value;
        *acc = (acc.0 + 1, acc.1 + v, acc.2.min(v), acc.3.max(v));
    }
    fn get_result(&self, acc: &Self::Acc) -> Self::Out {
        *acc
    }
    fn merge(&self, a: Self::Acc, b: Self::Acc) -> Self::Acc {
        (a.0 + b.0, a.1 + b.1, a.2.min(b.2), a.3.max(b.3))
    }
}

fn main() {
    init_logging();
    let args = Args::parse();
    let env = StreamExecutionEnvironment::new();
    env.set_parallelism(args.parallelism);
    args.checkpointing.apply(&env);
    let strategy = WatermarkStrategy::for_bounded_out_of_orderness(args.out_of_orderness)
        .with_timestamp_assigner(|e: &Event| e.ts)
        .punctuated();
    let windowed = env
        .read_csv::<Event>(&args.input)
        .assign_timestamps_and_watermarks(strategy)
        .key_by_ref(|e: &Event| &e.key)
        .window(args.window)
        .allowed_lateness(args.allowed_lateness)
        // Fold each row into every window it belongs to, so float sums add in Flink's order.
        .without_pane_sharing();
    let results = match &args.late_output {
        Some(path) => {
            let (results, late) = windowed.aggregate_with_late_data(Stats);
            late.write_as_csv(path, Some(&["key", "ts", "value"]));
            results
        }
        None => windowed.aggregate(Stats),
    };
    results
        .map(|w| Row {
            key: w.key,
            window_start: w.window.start,
            window_end: w.window.end,
            count: w.value.0,
            sum: w.value.1,
            min: w.value.2,
            max: w.value.3,
        })
        .write_as_csv(
            &args.output,
            Some(&[
                "key",
                "window_start",
                "window_end",
                "count",
                "sum",
                "min",
                "max",
            ]),
        );
    match env.execute("window_aggregate") {
        Ok(result) => tracing::info!(?result, "done"),
        Err(e @ (eddy_runtime::Error::Io { .. } | eddy_runtime::Error::InvalidInput { .. })) => {
            fail("window_aggregate", e, EXIT_BAD_INPUT)
        }
        Err(e) => fail("window_aggregate", e, 1),
    }
}
