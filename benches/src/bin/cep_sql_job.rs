//! Flink's CEP benchmark workload as MATCH_RECOGNIZE: event i has key i mod KEYS, ts = i ms,
//! type a when ((i * 2654435761) mod 1000003) is even, else b (as `cep_job`); the statement
//! below ("a followed by b within 10 s", the reluctant `X*?` letting B take the first b) runs
//! through `eddy_cep::sql::operator::match_recognize`, and its matches are counted. The same
//! events then go through the NFA path (`cep_job`'s pattern; also timed, to compare under the
//! same machine load) and the two match counts must be equal.
//!
//! `cep_sql_job EVENTS PARALLELISM [KEYS]` (the source runs at parallelism 1, as in Flink's job).

use std::sync::Arc;
use std::time::{Duration, Instant};

use eddy_cep::operator::pattern;
use eddy_cep::sql::{operator::match_recognize, MatchRecognize, Scalar};
use eddy_cep::Pattern;
use eddy_datastream::{Generator, KeyedStream, StreamExecutionEnvironment, WatermarkStrategy};

/// The statement; Flink SQL accepts the same text (its WITHIN clause is where Eddy took it from).
const SQL: &str = "SELECT * FROM events MATCH_RECOGNIZE (
  PARTITION BY k
  ORDER BY ts
  MEASURES A.ts AS a_ts, B.ts AS b_ts
  ONE ROW PER MATCH
  AFTER MATCH SKIP TO NEXT ROW
  PATTERN (A X*? B) WITHIN INTERVAL '10' SECOND
  DEFINE A AS type = 'a', B AS type = 'b'
)";

type Event = (u64, bool, i64);

fn is_a(i: u64) -> bool {
    (i.wrapping_mul(2_654_435_761) % 1_000_003).is_multiple_of(2)
}

fn events(env: &StreamExecutionEnvironment, n: u64, keys: u64) -> KeyedStream<Event, u64> {
    env.from_generator(Generator::bounded(n), move |i| {
        (i % keys, is_a(i), i as i64)
    })
    .set_parallelism(1)
    .assign_timestamps_and_watermarks(
        WatermarkStrategy::for_monotonous_timestamps()
            .with_timestamp_assigner(|e: &Event| e.2)
            .periodic(Duration::from_millis(10)),
    )
    .key_by(|e: &Event| e.0)
}

fn run_sql(n: u64, parallelism: u32, keys: u64) -> (f64, usize) {
    let q = Arc::new(MatchRecognize::parse(SQL).expect("valid statement"));
    // Where each column goes in a row.
    let layout: Vec<u8> = q
        .columns()
        .iter()
        .map(|c| match c.as_str() {
            "ts" => 0,
            "type" => 1,
            other => panic!("unexpected column {other}"),
        })
        .collect();
    let (a, b) = (Scalar::from("a"), Scalar::from("b"));
    let env = StreamExecutionEnvironment::new();
    env.set_parallelism(parallelism);
    let keyed = events(&env, n, keys);
    let counted = match_recognize(&keyed, q, move |e: &Event, row: &mut Vec<Scalar>| {
        for l in &layout {
            row.push(match l {
                0 => Scalar::Int(e.2),
                _ if e.1 => a.clone(),
                _ => b.clone(),
            });
        }
    })
    .build()
    .map(|_| 1u64)
    .collect();
    let start = Instant::now();
    env.execute("cep-sql-bench").expect("job failed");
    (start.elapsed().as_secs_f64(), counted.take().len())
}

fn run_nfa(n: u64, parallelism: u32, keys: u64) -> (f64, usize) {
    let env = StreamExecutionEnvironment::new();
    env.set_parallelism(parallelism);
    let nfa = Pattern::begin("a")
        .when(|e: &Event| e.1)
        .followed_by("b")
        .when(|e: &Event| !e.1)
        .within_ms(10_000)
        .compile()
        .expect("valid pattern");
    let counted = pattern(&events(&env, n, keys), nfa)
        .select(|_, _| 1u64)
        .collect();
    let start = Instant::now();
    env.execute("cep-nfa-check").expect("job failed");
    (start.elapsed().as_secs_f64(), counted.take().len())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: cep_sql_job EVENTS PARALLELISM [KEYS]";
    let n: u64 = args.get(1).and_then(|s| s.parse().ok()).expect(usage);
    let parallelism: u32 = args.get(2).and_then(|s| s.parse().ok()).expect(usage);
    let keys: u64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let (seconds, matches) = run_sql(n, parallelism, keys);
    let (nfa_seconds, nfa_matches) = run_nfa(n, parallelism, keys);
    println!(
        "RESULT engine=eddy-sql par={parallelism} events={n} keys={keys} wall_s={seconds:.3} events_per_s={:.0} matches={matches} nfa_events_per_s={:.0} nfa_matches={nfa_matches}",
        n as f64 / seconds,
        n as f64 / nfa_seconds
    );
    if matches != nfa_matches {
        eprintln!("match counts differ: MATCH_RECOGNIZE {matches}, NFA {nfa_matches}");
        std::process::exit(1);
    }
}
