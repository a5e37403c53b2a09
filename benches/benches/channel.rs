//! Channel throughput: records per second through a bounded queue between two threads, in
//! Eddy's batches, against one record per send.

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use eddy_runtime::channel::{bounded, ChannelWriter};
use eddy_runtime::element::{Message, Record};
use eddy_runtime::partition::{PartitionKind, Partitioner};
use eddy_runtime::Output;

const RECORDS: u64 = 1_000_000;

fn batched(c: &mut Criterion) {
    let mut group = c.benchmark_group("channel");
    group.throughput(Throughput::Elements(RECORDS));
    group.sample_size(20);
    group.bench_function("eddy_batches_1024", |b| {
        b.iter(|| {
            let (tx, rx) = bounded::<u64>(16);
            let consumer = std::thread::spawn(move || {
                let mut sum = 0u64;
                while let Ok(env) = rx.recv() {
                    match env.message {
                        Message::Records(batch) => {
                            sum += batch.iter().map(|r| r.value).sum::<u64>()
                        }
                        Message::EndOfInput => break,
                        _ => {}
                    }
                }
                sum
            });
            let mut writer = ChannelWriter::new(
                vec![tx],
                0,
                PartitionKind::Forward,
                Partitioner::Forward,
                1024,
                128,
            );
            for i in 0..RECORDS {
                writer.collect(Record::new(i)).unwrap();
            }
            writer.end_of_input().unwrap();
            consumer.join().unwrap()
        })
    });
    group.bench_function("crossbeam_per_record", |b| {
        b.iter(|| {
            let (tx, rx) = crossbeam_channel::bounded::<u64>(16 * 1024);
            let consumer = std::thread::spawn(move || rx.iter().sum::<u64>());
            for i in 0..RECORDS {
                tx.send(i).unwrap();
            }
            drop(tx);
            consumer.join().unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, batched);
criterion_main!(benches);
