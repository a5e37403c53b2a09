//! Eddy on the Flink peer's generated WordCount workload (../shared/peers/flink/java/
//! WordCountBench.java): N words, ten per line, keyBy word, sum; the same words, generated in
//! memory by a parallel source.
//!
//! `wordcount_generated WORDS PARALLELISM streaming|batch [VOCABULARY]`

use std::time::Instant;

use compact_str::CompactString;
use eddy_datastream::{Collector, Generator, RuntimeMode, StreamExecutionEnvironment};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: wordcount_generated WORDS PARALLELISM streaming|batch [VOCABULARY]";
    let words: u64 = args.get(1).and_then(|s| s.parse().ok()).expect(usage);
    let parallelism: u32 = args.get(2).and_then(|s| s.parse().ok()).expect(usage);
    let batch = args.get(3).map(String::as_str) == Some("batch");
    let vocabulary: u64 = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let lines = words / 10;

    let env = StreamExecutionEnvironment::new();
    env.set_parallelism(parallelism);
    env.set_runtime_mode(if batch {
        RuntimeMode::Batch
    } else {
        RuntimeMode::Streaming
    });
    let counts = env
        .from_generator(Generator::bounded(lines), move |i| {
            eddy_benches::flink_line(i, vocabulary)
        })
        // Words as inline small strings, as in the wordcount example: a word and every copy of
        // it (each streaming update emits one) cost no allocation.
        .process(|line: String, out: &mut Collector<(CompactString, u64)>| {
            for word in line.split(' ') {
                out.collect((CompactString::new(word), 1));
            }
            Ok(())
        })
        .key_by_ref(|t: &(CompactString, u64)| &t.0)
        .sum(|t: &mut (CompactString, u64)| &mut t.1);
    // Streaming: every update is discarded, as Flink's DiscardingSink; batch: the final counts
    // are collected and checked.
    let collected = if batch {
        Some(counts.collect())
    } else {
        counts.filter(|_| false).collect();
        None
    };
    let start = Instant::now();
    let result = env.execute("wordcount-generated").expect("job failed");
    let seconds = start.elapsed().as_secs_f64();
    let (distinct, total) = match collected {
        Some(c) => {
            let values = c.take();
            (
                values.len() as i64,
                values.iter().map(|t| t.1).sum::<u64>() as i64,
            )
        }
        None => (-1, -1),
    };
    let sum = result.operator("reduce").map_or(0, |o| o.records_out);
    println!(
        "RESULT engine=eddy mode={} par={parallelism} words={} vocab={vocabulary} wall_s={seconds:.3} words_per_s={:.0} distinct={distinct} total={total} reduce_out={sum}",
        if batch { "batch" } else { "streaming" },
        lines * 10,
        (lines * 10) as f64 / seconds,
    );
}
