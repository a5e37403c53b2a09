//! A keyed sum job end to end (generator -> key_by -> sum), in batch and streaming mode, at
//! parallelism 1 and 2.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use eddy_datastream::{Generator, RuntimeMode, StreamExecutionEnvironment};

const RECORDS: u64 = 2_000_000;
const KEYS: u64 = 10_000;

fn run(parallelism: u32, mode: RuntimeMode) -> usize {
    let env = StreamExecutionEnvironment::new();
    env.set_parallelism(parallelism).set_runtime_mode(mode);
    let out = env
        .from_generator(Generator::bounded(RECORDS), |i| {
            (i.wrapping_mul(0x9E37_79B9) % KEYS, 1u64)
        })
        .key_by(|t: &(u64, u64)| t.0)
        .sum(|t: &mut (u64, u64)| &mut t.1)
        .filter(|t| t.1 == u64::MAX)
        .collect();
    env.execute("keyed sum").unwrap();
    out.take().len()
}

fn keyed_sum(c: &mut Criterion) {
    let mut group = c.benchmark_group("keyed_sum");
    group.throughput(Throughput::Elements(RECORDS));
    group.sample_size(10);
    for (name, mode) in [
        ("batch", RuntimeMode::Batch),
        ("streaming", RuntimeMode::Streaming),
    ] {
        for parallelism in [1, 2] {
            group.bench_with_input(
                BenchmarkId::new(name, parallelism),
                &parallelism,
                |b, &p| b.iter(|| run(p, mode)),
            );
        }
    }
    group.finish();
}

criterion_group!(benches, keyed_sum);
criterion_main!(benches);
