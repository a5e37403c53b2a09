//! MATCH_RECOGNIZE as a keyed DataStream operator at parallelism 1, 2 and 4, on events that
//! arrive out of order (bounded by the watermark strategy): every key's output equals the
//! statement run over that key's rows, sorted by time, in memory (`run_to_end`).

use std::sync::Arc;

use eddy_cep::sql::{operator::match_recognize, MatchRecognize, Scalar};
use eddy_datastream::{StreamExecutionEnvironment, WatermarkStrategy};

const SQL: &str = "MATCH_RECOGNIZE (PARTITION BY k ORDER BY ts
  MEASURES FIRST(v) AS first_v, LAST(v) AS last_v, count(*) AS n
  ALL ROWS PER MATCH AFTER MATCH SKIP TO NEXT ROW
  PATTERN (UP+ DOWN) DEFINE UP AS v > PREV(v), DOWN AS v < PREV(v))";

/// (key, value, ts): 5 keys, values from a small LCG, timestamps shuffled within 3 ms.
fn events() -> Vec<(u32, i64, i64)> {
    let mut x = 12345u64;
    let mut out = Vec::new();
    for i in 0..600i64 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let ts = i * 10 + ((x >> 40) % 3) as i64;
        out.push(((x >> 20) as u32 % 5, ((x >> 33) % 7) as i64, ts));
    }
    // Swap neighbours so input order is not time order (the watermark allows 30 ms).
    for i in (0..out.len() - 1).step_by(2) {
        out.swap(i, i + 1);
    }
    out
}

/// (key, row ts, match number, classifier, measures) per output row, sorted.
type Line = (u32, i64, u64, String, Vec<Scalar>);

fn expected() -> Vec<Line> {
    let mut all = Vec::new();
    let mut evs = events();
    evs.sort_by_key(|e| e.2); // stable
    for key in 0..5 {
        let rows: Vec<(i64, Vec<Scalar>)> = evs
            .iter()
            .filter(|e| e.0 == key)
            .map(|e| (e.2, vec![Scalar::Int(e.1)]))
            .collect();
        let q = MatchRecognize::parse(SQL).unwrap();
        assert_eq!(q.columns(), ["v"]);
        let out = q.run_to_end(rows.iter().map(|r| r.1.as_slice())).unwrap();
        for m in out {
            all.push((
                key,
                rows[m.row.unwrap()].0,
                m.match_number.unwrap(),
                m.classifier.unwrap().to_string(),
                m.measures,
            ));
        }
    }
    all.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    all
}

fn run(parallelism: u32) -> Vec<Line> {
    let env = StreamExecutionEnvironment::new();
    env.set_parallelism(parallelism);
    let q = Arc::new(MatchRecognize::parse(SQL).unwrap());
    let keyed = env
        .from_collection(events())
        .assign_timestamps_and_watermarks(
            WatermarkStrategy::for_bounded_out_of_orderness(30)
                .with_timestamp_assigner(|e: &(u32, i64, i64)| e.2)
                .punctuated(),
        )
        .key_by(|e: &(u32, i64, i64)| e.0);
    let out = match_recognize(&keyed, q, |e: &(u32, i64, i64), row: &mut Vec<Scalar>| {
        row.push(Scalar::Int(e.1))
    })
    .build()
    .map(|(k, m)| {
        let row = m.row.unwrap();
        (
            k,
            row.2,
            m.match_number.unwrap(),
            m.classifier.unwrap().to_string(),
            m.measures,
        )
    })
    .collect();
    env.execute("sql-operator").unwrap();
    let mut got = out.take();
    got.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    got
}

#[test]
fn keyed_operator_matches_the_in_memory_run_at_every_parallelism() {
    let want = expected();
    assert!(want.len() > 100, "{}", want.len());
    for p in [1, 2, 4] {
        assert_eq!(run(p), want, "parallelism {p}");
    }
}
