//! The windows benchmark's job as a plain binary, for `perf stat` (events per CPU-second):
//! `window_throughput tumbling|sliding PARALLELISM [EVENTS]`.
//!
//! 100 000 keys, 100 events per ms of event time, 1% of events up to 5 s out of order;
//! a 10 s tumbling window or a 10 s window sliding by 1 s, summing a value.

use std::time::Instant;

use eddy_datastream::window::WindowAssigner;
use eddy_datastream::{Generator, StreamExecutionEnvironment, WatermarkStrategy};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: window_throughput tumbling|sliding PARALLELISM [EVENTS]";
    let assigner = match args.get(1).map(String::as_str) {
        Some("tumbling") => WindowAssigner::tumbling(10_000),
        Some("sliding") => WindowAssigner::sliding(10_000, 1_000),
        _ => panic!("{usage}"),
    };
    let parallelism: u32 = args.get(2).and_then(|s| s.parse().ok()).expect(usage);
    let events: u64 = args
        .get(3)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000_000);
    let env = StreamExecutionEnvironment::new();
    env.set_parallelism(parallelism);
    let strategy = WatermarkStrategy::for_bounded_out_of_orderness(5_000)
        .with_timestamp_assigner(|e: &(u64, i64, i64)| e.1);
    let out = env
        .from_generator(Generator::bounded(events), eddy_benches::window_event)
        .assign_timestamps_and_watermarks(strategy)
        .key_by(|e: &(u64, i64, i64)| e.0)
        .window(assigner)
        .aggregate(eddy_benches::SumValues)
        .filter(|w| w.value == i64::MIN)
        .collect();
    let start = Instant::now();
    let result = env.execute("window throughput").expect("job failed");
    let seconds = start.elapsed().as_secs_f64();
    let fired = result
        .operator("window results")
        .map_or(0, |o| o.records_out);
    assert!(out.take().is_empty());
    println!(
        "RESULT windows={} par={parallelism} events={events} wall_s={seconds:.3} events_per_s={:.0} firings={fired}",
        args[1],
        events as f64 / seconds
    );
}
