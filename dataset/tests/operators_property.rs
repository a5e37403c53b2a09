//! One-input operators against a straightforward in-memory reference, with proptest: random
//! inputs at parallelism 1, 2 and 4, and memory budgets from 2 to 64 pages of 1 KiB so that
//! the sorts of `reduce_group` and `sort_partition` spill. Compared as multisets (order
//! only where the operator promises one); the spill directory must be empty afterwards.

mod common;

use std::collections::{BTreeMap, HashMap};

use common::{assert_clean, env, sorted};
use eddy_dataset::{Aggregations, Order};
use proptest::prelude::*;

fn records() -> impl Strategy<Value = Vec<(u8, u32)>> {
    prop::collection::vec((0u8..12, 0u32..1000), 0..300)
}

fn setup() -> impl Strategy<Value = (u32, usize)> {
    (prop::sample::select(vec![1u32, 2, 4]), 2usize..64)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn element_wise_operators_match_the_reference(input in records(), (p, pages) in setup()) {
        let dir = tempfile::tempdir().unwrap();
        let env = env(p, pages, dir.path());
        let data = env.from_collection(input.clone());
        let mapped = data.map(|(k, v)| (k, v * 2)).collect().unwrap();
        prop_assert_eq!(sorted(mapped), sorted(input.iter().map(|&(k, v)| (k, v * 2)).collect()));
        let filtered = data.filter(|t| t.1 % 3 == 0).collect().unwrap();
        prop_assert_eq!(sorted(filtered), sorted(input.iter().copied().filter(|t| t.1 % 3 == 0).collect()));
        let flat = data.flat_map(|(k, v)| (0..k % 3).map(move |i| v + i as u32)).collect().unwrap();
        let expected: Vec<u32> = input.iter().flat_map(|&(k, v)| (0..k % 3).map(move |i| v + i as u32)).collect();
        prop_assert_eq!(sorted(flat), sorted(expected));
        let total = data.rebalance().map_partition(|part| Some(part.len())).collect().unwrap();
        prop_assert_eq!(total.iter().sum::<usize>(), input.len());
        prop_assert_eq!(data.count().unwrap(), input.len() as u64);
        let doubled = data.union(&data).collect().unwrap();
        prop_assert_eq!(doubled.len(), 2 * input.len());
        let first = data.first(7).collect().unwrap();
        prop_assert_eq!(first.len(), input.len().min(7));
        assert_clean(&env, dir.path());
    }

    #[test]
    fn grouped_reductions_match_the_reference(input in records(), (p, pages) in setup()) {
        let dir = tempfile::tempdir().unwrap();
        let env = env(p, pages, dir.path());
        let data = env.from_collection(input.clone());
        let mut groups: BTreeMap<u8, Vec<u32>> = BTreeMap::new();
        for &(k, v) in &input {
            groups.entry(k).or_default().push(v);
        }
        let sums = data.group_by(|t| t.0).reduce(|a, b| (a.0, a.1 + b.1)).collect().unwrap();
        let expected: Vec<(u8, u32)> = groups.iter().map(|(k, vs)| (*k, vs.iter().sum())).collect();
        prop_assert_eq!(sorted(sums), expected.clone());
        let agg = data
            .map(|(k, v)| (k, v, v, v as u64))
            .group_by(|t| t.0)
            .aggregate(Aggregations::new().min(|t: &mut (u8, u32, u32, u64)| &mut t.1).max(|t: &mut (u8, u32, u32, u64)| &mut t.2).sum(|t: &mut (u8, u32, u32, u64)| &mut t.3))
            .collect()
            .unwrap();
        let expected_agg: Vec<(u8, u32, u32, u64)> = groups
            .iter()
            .map(|(k, vs)| (*k, *vs.iter().min().unwrap(), *vs.iter().max().unwrap(), vs.iter().map(|v| *v as u64).sum()))
            .collect();
        prop_assert_eq!(sorted(agg), expected_agg);
        let min_by = data.group_by(|t| t.0).min_by(|t| t.1).collect().unwrap();
        let expected_min: Vec<(u8, u32)> = groups.iter().map(|(k, vs)| (*k, *vs.iter().min().unwrap())).collect();
        prop_assert_eq!(sorted(min_by), expected_min);
        let max_all = data.max_by(|t| t.1).collect().unwrap();
        prop_assert_eq!(max_all.iter().map(|t| t.1).collect::<Vec<_>>(), input.iter().map(|t| t.1).max().into_iter().collect::<Vec<_>>());
        let global = data.map(|t| t.1 as u64).reduce(|a, b| a + b).collect().unwrap();
        let expected_global: Vec<u64> = if input.is_empty() { vec![] } else { vec![input.iter().map(|t| t.1 as u64).sum()] };
        prop_assert_eq!(global, expected_global);
        let distinct = data.map(|t| t.0).distinct().collect().unwrap();
        prop_assert_eq!(sorted(distinct), groups.keys().copied().collect::<Vec<_>>());
        // reduce_group with sort_group: each group's values in descending order.
        let ordered = data
            .group_by(|t| t.0)
            .sort_group(|t| t.1, Order::Descending)
            .reduce_group(|g: Vec<(u8, u32)>| Some((g[0].0, g.into_iter().map(|t| t.1).collect::<Vec<_>>())))
            .collect()
            .unwrap();
        let expected_ordered: Vec<(u8, Vec<u32>)> = groups
            .iter()
            .map(|(k, vs)| { let mut vs = vs.clone(); vs.sort_by(|a, b| b.cmp(a)); (*k, vs) })
            .collect();
        prop_assert_eq!(sorted(ordered), expected_ordered);
        // first(2) per group, smallest first.
        let firsts = data.group_by(|t| t.0).sort_group(|t| t.1, Order::Ascending).first(2).collect().unwrap();
        let expected_firsts: Vec<(u8, u32)> = groups
            .iter()
            .flat_map(|(k, vs)| { let mut vs = vs.clone(); vs.sort(); vs.truncate(2); vs.into_iter().map(move |v| (*k, v)) })
            .collect();
        prop_assert_eq!(sorted(firsts), sorted(expected_firsts));
        // combine_group pre-counts, reduce_group adds the partial counts.
        let counts = data
            .group_by(|t| t.0)
            .combine_group(|g: Vec<(u8, u32)>| Some((g[0].0, g.len() as u64)))
            .group_by(|t| t.0)
            .reduce_group(|g: Vec<(u8, u64)>| Some((g[0].0, g.iter().map(|t| t.1).sum::<u64>())))
            .collect()
            .unwrap();
        let expected_counts: Vec<(u8, u64)> = groups.iter().map(|(k, vs)| (*k, vs.len() as u64)).collect();
        prop_assert_eq!(sorted(counts), expected_counts);
        assert_clean(&env, dir.path());
    }

    #[test]
    fn partitioning_and_sorting_keep_their_promises(input in records(), (p, pages) in setup()) {
        let dir = tempfile::tempdir().unwrap();
        let env = env(p, pages, dir.path());
        let data = env.from_collection(input.clone());
        // Hash: every key in one partition only.
        let parts = data.partition_by_hash(|t| t.0).map_partition(Some).collect().unwrap();
        let mut owner: HashMap<u8, usize> = HashMap::new();
        for (i, part) in parts.iter().enumerate() {
            for t in part {
                prop_assert_eq!(*owner.entry(t.0).or_insert(i), i);
            }
        }
        prop_assert_eq!(parts.iter().map(Vec::len).sum::<usize>(), input.len());
        // Custom: every partition holds one value of the partitioner.
        let custom = data.partition_custom(|k: &u8, n| *k as usize % n, |t| t.0).map_partition(Some).collect().unwrap();
        for part in &custom {
            let targets: std::collections::HashSet<usize> = part.iter().map(|t| t.0 as usize % p as usize).collect();
            prop_assert!(targets.len() <= 1);
        }
        // Range + sort_partition: partitions are sorted and ordered among themselves.
        let ranged = data
            .partition_by_range(|t| t.1)
            .sort_partition(|t| t.1, Order::Ascending)
            .map_partition(|part| Some(part.into_iter().map(|t| t.1).collect::<Vec<_>>()))
            .collect()
            .unwrap();
        let mut spans: Vec<(u32, u32)> = Vec::new();
        for part in ranged.iter().filter(|p| !p.is_empty()) {
            prop_assert!(part.windows(2).all(|w| w[0] <= w[1]));
            spans.push((part[0], *part.last().unwrap()));
        }
        spans.sort();
        prop_assert!(spans.windows(2).all(|w| w[0].1 <= w[1].0));
        prop_assert_eq!(ranged.iter().map(Vec::len).sum::<usize>(), input.len());
        // sort_partition at parallelism 1 is a total, stable order.
        let total = data.sort_partition(|t| t.0, Order::Ascending).set_parallelism(1).collect().unwrap();
        let mut expected = input.clone();
        expected.sort_by_key(|t| t.0);
        prop_assert_eq!(total, expected);
        assert_clean(&env, dir.path());
    }
}
