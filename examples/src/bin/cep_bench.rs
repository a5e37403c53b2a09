//! `cep_bench`: quick single-core measurements of eddy-cep on the workloads.
//!
//! - `flink` (default): Flink's CEP comparison workload (../shared/peers/flink/java/CepBench.java):
//!   event i has key i mod KEYS, ts = i ms and type a or b by a fixed hash; pattern a
//!   followed_by b within 10 s, keyed. The match count is checked against a direct count (as
//!   CepCheck.java computes it).
//! - `fraud`: card transactions (account = hash of i mod KEYS, ts = i ms, amounts 1.00 to
//!   500.00, and at a 0.1% rate a charge under 1.00 directly followed by one over 500.00 on the
//!   same account); pattern small followed_by large within 60 s, keyed by account; the count is
//!   checked against a direct count.
//! - `pathological`: a followed_by_any b, one_or_more, within 10 s on the `flink` events; prints
//!   the peak number of live partial-match nodes, which the window bounds.
//!
//! Prints one `RESULT` line per run and the best events/s.

use std::time::Instant;

use clap::Parser;
use eddy_cep::{Nfa, Output, Pattern};

/// Single-core CEP throughput on the workloads.
#[derive(Parser, Debug)]
#[command(name = "cep_bench")]
struct Args {
    /// `flink`, `fraud` or `pathological`.
    #[arg(long, default_value = "flink")]
    workload: String,
    /// Number of events (default 2 000 000; 10 000 000 for fraud).
    #[arg(long)]
    events: Option<u64>,
    /// Number of keys (default 1000; 100 000 accounts for fraud).
    #[arg(long)]
    keys: Option<u64>,
    /// Repetitions (the best is reported).
    #[arg(long, default_value_t = 3)]
    runs: u32,
}

#[derive(Clone, Copy, Debug)]
struct Event {
    is_a: bool,
}

#[derive(Clone, Copy, Debug)]
struct Txn {
    cents: u32,
}

/// The same rule as CepBench.java's `isA`.
fn is_a(i: u64) -> bool {
    (i.wrapping_mul(2_654_435_761) % 1_000_003) & 1 == 0
}

fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

/// 0.1% of transactions start a fraud: a charge under 1.00 ...
fn fraud_start(i: u64) -> bool {
    mix(i ^ 0x9e37_79b9_7f4a_7c15).is_multiple_of(1000)
}

/// ... immediately followed by a charge over 500.00 on the same account.
fn account(i: u64, keys: u64) -> usize {
    if i > 0 && fraud_start(i - 1) {
        account(i - 1, keys)
    } else {
        (mix(i) % keys) as usize
    }
}

fn cents(i: u64) -> u32 {
    if i > 0 && fraud_start(i - 1) {
        60_000
    } else if fraud_start(i) {
        50
    } else {
        100 + (mix(i ^ 0x5bd1_e995) % 49_900) as u32
    }
}

/// Matches of "x followed_by y within w": each x with a y of its key less than w later.
fn direct_count(
    n: u64,
    key: impl Fn(u64) -> usize,
    keys: u64,
    is_x: impl Fn(u64) -> bool,
    is_y: impl Fn(u64) -> bool,
    w: u64,
) -> u64 {
    let mut next_y = vec![u64::MAX; keys as usize];
    let mut count = 0;
    for i in (0..n).rev() {
        let k = key(i);
        if is_x(i) && next_y[k] != u64::MAX && next_y[k] - i < w {
            count += 1;
        }
        if is_y(i) {
            next_y[k] = i;
        }
    }
    count
}

/// Runs `n` events through one state per key; returns (matches, peak live nodes, seconds).
fn run<E: Clone>(
    nfa: &Nfa<E>,
    n: u64,
    keys: u64,
    key: impl Fn(u64) -> usize,
    ev: impl Fn(u64) -> E,
    sample: bool,
) -> (u64, usize, f64) {
    let mut states: Vec<_> = (0..keys).map(|_| nfa.new_state()).collect();
    let mut out = Output::default();
    let (mut matches, mut peak) = (0u64, 0usize);
    let t0 = Instant::now();
    for i in 0..n {
        out.clear();
        nfa.process_into(&mut states[key(i)], ev(i), i as i64, &mut out)
            .expect("no skip errors");
        matches += out.matches.len() as u64;
        if sample && i % 100_000 == 0 {
            peak = peak.max(states.iter().map(|s| s.buffer().live_nodes()).sum());
        }
    }
    for st in &mut states {
        matches += nfa.finish(st).expect("no skip errors").matches.len() as u64;
    }
    (matches, peak, t0.elapsed().as_secs_f64())
}

fn main() {
    eddy_examples::init_logging();
    let args = Args::parse();
    let w = args.workload.as_str();
    let fraud = w == "fraud";
    let n = args
        .events
        .unwrap_or(if fraud { 10_000_000 } else { 2_000_000 });
    let keys = args.keys.unwrap_or(if fraud { 100_000 } else { 1000 });
    let mut best = f64::MAX;
    for r in 0..args.runs {
        let (matches, peak, secs, want) = match w {
            "flink" | "pathological" => {
                let p = Pattern::<Event>::begin("a").when(|e| e.is_a);
                let p = if w == "flink" {
                    p.followed_by("b").when(|e| !e.is_a)
                } else {
                    p.followed_by_any("b").when(|e| !e.is_a).one_or_more()
                };
                let nfa = p.within_ms(10_000).compile().expect("valid pattern");
                let key = |i: u64| (i % keys) as usize;
                let (m, peak, secs) = run(
                    &nfa,
                    n,
                    keys,
                    key,
                    |i| Event { is_a: is_a(i) },
                    w != "flink",
                );
                let want =
                    (w == "flink").then(|| direct_count(n, key, keys, is_a, |i| !is_a(i), 10_000));
                (m, peak, secs, want)
            }
            "fraud" => {
                let nfa = Pattern::<Txn>::begin("small")
                    .when(|t| t.cents < 100)
                    .followed_by("large")
                    .when(|t| t.cents > 50_000)
                    .within_ms(60_000)
                    .compile()
                    .expect("valid pattern");
                let key = |i: u64| account(i, keys);
                let (m, peak, secs) = run(&nfa, n, keys, key, |i| Txn { cents: cents(i) }, false);
                let want = direct_count(
                    n,
                    key,
                    keys,
                    |i| cents(i) < 100,
                    |i| cents(i) > 50_000,
                    60_000,
                );
                (m, peak, secs, Some(want))
            }
            other => eddy_examples::fail("cep_bench", format!("unknown workload {other:?}"), 2),
        };
        if let Some(want) = want {
            assert_eq!(matches, want, "match count differs from the direct count");
        }
        best = best.min(secs);
        println!(
            "RESULT eddy-cep workload={w} run={r} events={n} keys={keys} wall_s={secs:.3} events_per_s={:.0} matches={matches}{}{}",
            n as f64 / secs,
            want.map_or(String::new(), |x| format!(" expected={x}")),
            if w == "pathological" { format!(" peak_live_nodes={peak}") } else { String::new() }
        );
    }
    println!("BEST workload={w} events_per_s={:.0}", n as f64 / best);
}
