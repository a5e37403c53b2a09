//! start_end_duration: Flink's KeyedProcessFunction example. Per key, a START event is
//! paired with the next END event and the duration between them is emitted; a timer four
//! hours (event time) after a START clears the state, so a START without an END is forgotten.
//!
//! ```text
//! start_end_duration --input FILE.csv --output FILE.csv [--timeout DUR]
//!     [--out-of-orderness DUR] [--parallelism N]
//! ```

use std::path::PathBuf;

use clap::Parser;
use eddy_datastream::process::{Context, KeyedProcessFunction};
use eddy_datastream::{BoxError, StreamExecutionEnvironment, WatermarkStrategy};
use eddy_examples::duration::parse_millis;
use eddy_examples::{fail, init_logging, EXIT_BAD_INPUT};
use eddy_runtime::state::{StateDescriptor, ValueState};
use serde::{Deserialize, Serialize};

/// Pairs START and END events per key and writes `key,duration_ms` for each pair.
#[derive(Parser, Debug)]
#[command(name = "start_end_duration", version)]
struct Args {
    /// Input CSV with header `key,ts,kind` (ts in integer ms; kind START or END; other kinds
    /// are ignored), rows in arrival order.
    #[arg(long, value_name = "FILE.csv")]
    input: PathBuf,
    /// Output CSV with header `key,duration_ms`.
    #[arg(long, value_name = "FILE.csv")]
    output: PathBuf,
    /// How long after a START its state is cleared (event time).
    #[arg(long, value_name = "DUR", value_parser = parse_millis, default_value = "4h")]
    timeout: i64,
    /// How far rows may arrive out of order (the watermark trails the largest ts by this).
    #[arg(long, value_name = "DUR", value_parser = parse_millis, default_value = "0ms")]
    out_of_orderness: i64,
    /// Parallel subtasks of the keyed operator.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=128))]
    parallelism: u32,
}

/// One input row.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Event {
    key: String,
    ts: i64,
    kind: String,
}

/// The seed's StartEndDuration function.
struct StartEndDuration {
    start: Box<dyn ValueState<String, i64>>,
    timeout: i64,
}

impl KeyedProcessFunction<String, Event, (String, i64)> for StartEndDuration {
    fn process_element(
        &mut self,
        event: Event,
        ctx: &mut Context<'_, String, (String, i64)>,
    ) -> Result<(), BoxError> {
        match event.kind.as_str() {
            "START" => {
                self.start.put(ctx.key(), event.ts)?;
                ctx.register_event_time_timer(event.ts + self.timeout);
            }
            "END" => {
                if let Some(start) = self.start.get(ctx.key())? {
                    ctx.collect((event.key, event.ts - start));
                    self.start.clear(ctx.key())?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn on_timer(
        &mut self,
        _: i64,
        ctx: &mut Context<'_, String, (String, i64)>,
    ) -> Result<(), BoxError> {
        // The timeout passed: forget the START.
        self.start.clear(ctx.key())?;
        Ok(())
    }
}

fn main() {
    init_logging();
    let args = Args::parse();
    let env = StreamExecutionEnvironment::new();
    env.set_parallelism(args.parallelism);
    let timeout = args.timeout;
    let strategy = WatermarkStrategy::for_bounded_out_of_orderness(args.out_of_orderness)
        .with_timestamp_assigner(|e: &Event| e.ts)
        .punctuated();
    env.read_csv::<Event>(&args.input)
        .assign_timestamps_and_watermarks(strategy)
        .key_by_ref(|e: &Event| &e.key)
        .process(move |states| {
            Ok(StartEndDuration {
                start: states.value_state(StateDescriptor::new("start"))?,
                timeout,
            })
        })
        .write_as_csv(&args.output, Some(&["key", "duration_ms"]));
    match env.execute("start_end_duration") {
        Ok(result) => tracing::info!(?result, "done"),
        Err(e @ (eddy_runtime::Error::Io { .. } | eddy_runtime::Error::InvalidInput { .. })) => {
            fail("start_end_duration", e, EXIT_BAD_INPUT)
        }
        Err(e) => fail("start_end_duration", e, 1),
    }
}
