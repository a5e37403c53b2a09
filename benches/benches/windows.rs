//! Keyed event-time windows end to end (generator -> watermarks -> key_by -> window -> sink):
//! a tumbling-window sum (100 000 keys, 10 s windows, 1% of events out of order by up to 5 s)
//! and a sliding window of 10 s every 1 s, at parallelism 1 and 2.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use eddy_benches::{window_event, SumValues};
use eddy_datastream::window::WindowAssigner;
use eddy_datastream::{Generator, StreamExecutionEnvironment, WatermarkStrategy};

const EVENTS: u64 = 4_000_000;

fn run(parallelism: u32, assigner: WindowAssigner) -> usize {
    let env = StreamExecutionEnvironment::new();
    env.set_parallelism(parallelism);
    let strategy = WatermarkStrategy::for_bounded_out_of_orderness(5_000)
        .with_timestamp_assigner(|e: &(u64, i64, i64)| e.1);
    let out = env
        .from_generator(Generator::bounded(EVENTS), window_event)
        .assign_timestamps_and_watermarks(strategy)
        .key_by(|e: &(u64, i64, i64)| e.0)
        .window(assigner)
        .aggregate(SumValues)
        .filter(|w| w.value == i64::MIN)
        .collect();
    env.execute("windows").unwrap();
    out.take().len()
}

fn windows(c: &mut Criterion) {
    let mut group = c.benchmark_group("windows");
    group.throughput(Throughput::Elements(EVENTS));
    group.sample_size(10);
    for (name, assigner) in [
        ("tumbling_10s", WindowAssigner::tumbling(10_000)),
        ("sliding_10s_1s", WindowAssigner::sliding(10_000, 1_000)),
    ] {
        for parallelism in [1, 2] {
            group.bench_with_input(
                BenchmarkId::new(name, parallelism),
                &parallelism,
                |b, &p| b.iter(|| run(p, assigner)),
            );
        }
    }
    group.finish();
}

criterion_group!(benches, windows);
criterion_main!(benches);
