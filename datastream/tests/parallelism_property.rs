//! Property: a random pipeline of map/filter/key_by/reduce over random input gives the same
//! result at every parallelism and with or without chaining, equal to a sequential model.

use std::collections::BTreeMap;

use eddy_datastream::{RuntimeMode, StreamExecutionEnvironment};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Step {
    Add(u64),
    Mul(u64),
    KeepMod(u64),
    /// key_by(x % m) then a sum, re-emitting `key * 1_000_003 + sum`.
    SumByMod(u64),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0u64..100).prop_map(Step::Add),
        (1u64..5).prop_map(Step::Mul),
        (2u64..6).prop_map(Step::KeepMod),
        (1u64..20).prop_map(Step::SumByMod),
    ]
}

/// The obviously-correct model: a `Vec` and a `BTreeMap`.
fn model(input: &[u64], steps: &[Step]) -> Vec<u64> {
    let mut data = input.to_vec();
    for s in steps {
        data = match *s {
            Step::Add(a) => data.iter().map(|x| x.wrapping_add(a)).collect(),
            Step::Mul(m) => data.iter().map(|x| x.wrapping_mul(m)).collect(),
            Step::KeepMod(m) => data.into_iter().filter(|x| !x.is_multiple_of(m)).collect(),
            Step::SumByMod(m) => {
                let mut sums: BTreeMap<u64, u64> = BTreeMap::new();
                for x in data {
                    let e = sums.entry(x % m).or_default();
                    *e = e.wrapping_add(x);
                }
                sums.into_iter()
                    .map(|(k, s)| k.wrapping_mul(1_000_003).wrapping_add(s))
                    .collect()
            }
        };
    }
    data.sort();
    data
}

fn run(input: &[u64], steps: &[Step], parallelism: u32, chaining: bool) -> Vec<u64> {
    let env = StreamExecutionEnvironment::new();
    env.set_parallelism(parallelism)
        .set_runtime_mode(RuntimeMode::Batch);
    if !chaining {
        env.disable_operator_chaining();
    }
    env.set_batch_size(7);
    let mut stream = env.from_collection(input.to_vec());
    for s in steps {
        stream = match *s {
            Step::Add(a) => stream.map(move |x: u64| x.wrapping_add(a)),
            Step::Mul(m) => stream.map(move |x: u64| x.wrapping_mul(m)),
            Step::KeepMod(m) => stream.filter(move |x: &u64| !x.is_multiple_of(m)),
            Step::SumByMod(m) => stream
                .map(move |x: u64| (x % m, x))
                .key_by(|t: &(u64, u64)| t.0)
                .reduce(|a, b| (a.0, a.1.wrapping_add(b.1)))
                .map(|(k, s)| k.wrapping_mul(1_000_003).wrapping_add(s)),
        };
    }
    let out = stream.collect();
    env.execute("property").unwrap();
    let mut values = out.take();
    values.sort();
    values
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn every_parallelism_gives_the_sequential_result(
        input in prop::collection::vec(0u64..1000, 0..300),
        steps in prop::collection::vec(step(), 0..5),
    ) {
        let expected = model(&input, &steps);
        for parallelism in [1, 2, 3] {
            for chaining in [true, false] {
                prop_assert_eq!(&run(&input, &steps, parallelism, chaining), &expected,
                    "parallelism {} chaining {}", parallelism, chaining);
            }
        }
    }
}
