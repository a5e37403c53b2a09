//! Flink's CEP benchmark workload (../shared/peers/flink/java/CepBench.java) as an Eddy job:
//! event i has key i mod KEYS, ts = i ms, type a when ((i * 2654435761) mod 1000003) is even,
//! else b; pattern a followed_by b within 10 s, keyed; the matches are counted.
//!
//! `cep_job EVENTS PARALLELISM [KEYS] [flink|pathological]` (the source runs at parallelism 1,
//! as in Flink's job). `pathological` runs a followed_by_any b one_or_more within 10 s instead:
//! every a branches on every b of its window.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use eddy_cep::operator::pattern;
use eddy_cep::Pattern;
use eddy_datastream::{Generator, StreamExecutionEnvironment, WatermarkStrategy};

fn is_a(i: u64) -> bool {
    (i.wrapping_mul(2_654_435_761) % 1_000_003).is_multiple_of(2)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: cep_job EVENTS PARALLELISM [KEYS] [flink|pathological]";
    let events: u64 = args.get(1).and_then(|s| s.parse().ok()).expect(usage);
    let parallelism: u32 = args.get(2).and_then(|s| s.parse().ok()).expect(usage);
    let keys: u64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let workload = args.get(4).map_or("flink", String::as_str);
    assert!(matches!(workload, "flink" | "pathological"), "{usage}");
    let env = StreamExecutionEnvironment::new();
    env.set_parallelism(parallelism);
    let keyed = env
        .from_generator(Generator::bounded(events), move |i| {
            (i % keys, is_a(i), i as i64)
        })
        .set_parallelism(1)
        .assign_timestamps_and_watermarks(
            WatermarkStrategy::for_monotonous_timestamps()
                .with_timestamp_assigner(|e: &(u64, bool, i64)| e.2)
                .periodic(Duration::from_millis(10)),
        )
        .key_by(|e: &(u64, bool, i64)| e.0);
    let a = Pattern::begin("a").when(|e: &(u64, bool, i64)| e.1);
    let nfa = if workload == "flink" {
        a.followed_by("b").when(|e: &(u64, bool, i64)| !e.1)
    } else {
        a.followed_by_any("b")
            .when(|e: &(u64, bool, i64)| !e.1)
            .one_or_more()
    }
    .within_ms(10_000)
    .compile()
    .expect("valid pattern");
    // Count the matches as they pass, keeping none (the pathological pattern has millions).
    let matched = Arc::new(AtomicU64::new(0));
    let counter = matched.clone();
    pattern(&keyed, nfa)
        .select(|_, _| ())
        .filter(move |_| {
            counter.fetch_add(1, Ordering::Relaxed);
            false
        })
        .collect();
    let start = Instant::now();
    env.execute("cep-bench").expect("job failed");
    let seconds = start.elapsed().as_secs_f64();
    let matches = matched.load(Ordering::Relaxed);
    println!(
        "RESULT engine=eddy workload={workload} par={parallelism} events={events} keys={keys} wall_s={seconds:.3} events_per_s={:.0} matches={matches}",
        events as f64 / seconds
    );
}
