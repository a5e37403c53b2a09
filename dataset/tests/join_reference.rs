//! The hybrid hash, sort-merge and broadcast joins against a nested-loop reference, for all
//! four join types, both build sides and memory budgets drawn down to a few 1 KiB pages, so
//! that build and probe rows spill, partitions recurse and fall back to sort-merge; a skew
//! test; and the cleanup of spill files after success and panics.

use std::path::Path;

use eddy_dataset::join::{
    BroadcastHashJoin, BuildSide, HybridHashJoin, JoinMetrics, JoinType, SortMergeJoin,
};
use eddy_runtime::memory::MemoryManager;
use proptest::prelude::*;

type Row = (u64, u32);
type Out = (Option<Row>, Option<Row>);

fn memory(budget: usize, dir: &Path) -> MemoryManager {
    MemoryManager::builder()
        .budget(budget)
        .page_size(1024)
        .spill_dir(dir)
        .build()
}

fn assert_clean(memory: &MemoryManager, dir: &Path) {
    assert_eq!(memory.used(), 0, "every reservation is returned");
    assert_eq!(
        std::fs::read_dir(dir).unwrap().count(),
        0,
        "no spill files left"
    );
}

/// The nested-loop join, sorted.
fn reference(left: &[Row], right: &[Row], join_type: JoinType) -> Vec<Out> {
    let mut out = Vec::new();
    for l in left {
        let mut matched = false;
        for r in right.iter().filter(|r| r.0 == l.0) {
            out.push((Some(*l), Some(*r)));
            matched = true;
        }
        if !matched && join_type.keeps_left() {
            out.push((Some(*l), None));
        }
    }
    if join_type.keeps_right() {
        for r in right {
            if !left.iter().any(|l| l.0 == r.0) {
                out.push((None, Some(*r)));
            }
        }
    }
    out.sort();
    out
}

fn hybrid(
    left: &[Row],
    right: &[Row],
    join_type: JoinType,
    build: BuildSide,
    memory: &MemoryManager,
) -> (Vec<Out>, JoinMetrics) {
    let mut out = Vec::new();
    let metrics = HybridHashJoin::new(memory, join_type, |l: &Row| l.0, |r: &Row| r.0)
        .build_side(build)
        .run(left.to_vec(), right.to_vec(), |l, r| {
            out.push((l.copied(), r.copied()))
        })
        .unwrap();
    out.sort();
    assert_eq!(metrics.output_rows, out.len() as u64);
    (out, metrics)
}

fn join_type() -> impl Strategy<Value = JoinType> {
    prop_oneof![
        Just(JoinType::Inner),
        Just(JoinType::LeftOuter),
        Just(JoinType::RightOuter),
        Just(JoinType::FullOuter),
    ]
}

fn rows(keys: &[u64]) -> Vec<Row> {
    keys.iter()
        .enumerate()
        .map(|(i, &k)| (k, i as u32))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn hybrid_hash_join_matches_the_nested_loop(
        left in proptest::collection::vec(0u64..300, 0..1500),
        right in proptest::collection::vec(0u64..300, 0..1500),
        join_type in join_type(),
        build_right: bool,
        budget_pages in 2usize..64,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let memory = memory(budget_pages * 1024, dir.path());
        let (left, right) = (rows(&left), rows(&right));
        let build = if build_right { BuildSide::Right } else { BuildSide::Left };
        let (got, _) = hybrid(&left, &right, join_type, build, &memory);
        prop_assert_eq!(got, reference(&left, &right, join_type));
        assert_clean(&memory, dir.path());
    }

    #[test]
    fn sort_merge_join_matches_the_nested_loop(
        left in proptest::collection::vec(0u64..100, 0..800),
        right in proptest::collection::vec(0u64..100, 0..800),
        join_type in join_type(),
        budget_pages in 2usize..32,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let memory = memory(budget_pages * 1024, dir.path());
        let (left, right) = (rows(&left), rows(&right));
        let mut got = Vec::new();
        let mut keys = Vec::new();
        SortMergeJoin::new(&memory, join_type, |l: &Row| l.0, |r: &Row| r.0)
            .run(left.clone(), right.clone(), |l, r| {
                keys.push(l.or(r).unwrap().0);
                got.push((l.copied(), r.copied()));
            })
            .unwrap();
        prop_assert!(keys.windows(2).all(|w| w[0] <= w[1]), "output in key order");
        got.sort();
        prop_assert_eq!(got, reference(&left, &right, join_type));
        assert_clean(&memory, dir.path());
    }

    #[test]
    fn broadcast_join_matches_the_nested_loop(
        left in proptest::collection::vec(0u64..50, 0..300),
        right in proptest::collection::vec(0u64..50, 0..3000),
        join_type in join_type(),
    ) {
        let memory = MemoryManager::new(16 << 20);
        let (left, right) = (rows(&left), rows(&right));
        let table = BroadcastHashJoin::build(&memory, left.clone(), |l: &Row| l.0, join_type.keeps_left());
        let (first, second) = right.split_at(right.len() / 2);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        std::thread::scope(|s| {
            s.spawn(|| table.probe(first.to_vec(), |r: &Row| r.0, join_type.keeps_right(),
                |l, r| a.push((l.copied(), r.copied()))));
            s.spawn(|| table.probe(second.to_vec(), |r: &Row| r.0, join_type.keeps_right(),
                |l, r| b.push((l.copied(), r.copied()))));
        });
        let mut got: Vec<Out> = a.into_iter().chain(b).collect();
        if join_type.keeps_left() {
            table.for_each_unmatched(|l| got.push((Some(*l), None)));
        }
        got.sort();
        prop_assert_eq!(got, reference(&left, &right, join_type));
    }
}

/// Every spilling path of the hybrid hash join runs, and its output is still right.
#[test]
fn build_spill_probe_spill_bloom_and_recursion_all_run() {
    let dir = tempfile::tempdir().unwrap();
    let memory = memory(48 * 1024, dir.path());
    let left = rows(&(0..20_000u64).map(|i| i * 3).collect::<Vec<_>>());
    // Half of the probe keys exist on the build side, half do not (for the bloom filters).
    let right = rows(&(0..20_000u64).map(|i| i * 3 + (i % 2)).collect::<Vec<_>>());
    let (got, metrics) = hybrid(&left, &right, JoinType::FullOuter, BuildSide::Left, &memory);
    assert!(metrics.spilled_partitions > 0, "{metrics:?}");
    assert!(metrics.spilled_probe_rows > 0, "{metrics:?}");
    assert!(metrics.bloom_filtered_rows > 0, "{metrics:?}");
    assert!(metrics.max_depth >= 1, "{metrics:?}");
    assert_eq!(got, reference(&left, &right, JoinType::FullOuter));
    assert_clean(&memory, dir.path());
}

/// Skew: one key holds half of both sides. Re-partitioning cannot split it, so the hash join
/// recurses to the maximum depth and finishes that partition by sort-merge, within a budget
/// far smaller than the key's rows.
#[test]
fn a_key_holding_half_of_both_sides_completes_under_a_tiny_budget() {
    let dir = tempfile::tempdir().unwrap();
    let memory = memory(16 * 1024, dir.path());
    let skewed = |n: u64| -> Vec<Row> {
        rows(
            &(0..n)
                .map(|i| if i % 2 == 0 { 7 } else { 1000 + i })
                .collect::<Vec<_>>(),
        )
    };
    let (left, right) = (skewed(3000), skewed(2000));
    for join_type in [JoinType::Inner, JoinType::FullOuter] {
        let (got, metrics) = hybrid(&left, &right, join_type, BuildSide::Left, &memory);
        assert_eq!(metrics.max_depth, 3, "{metrics:?}");
        assert!(metrics.sort_merge_fallbacks >= 1, "{metrics:?}");
        let hot = got
            .iter()
            .filter(|(l, r)| l.is_some_and(|l| l.0 == 7) && r.is_some())
            .count();
        assert_eq!(hot, 1500 * 1000);
        assert_eq!(got, reference(&left, &right, join_type));
        assert!(memory.peak() < 4 << 20, "peak {} bytes", memory.peak());
        assert_clean(&memory, dir.path());
    }
}

#[test]
fn string_keys_and_records_join_with_their_heap_counted() {
    let dir = tempfile::tempdir().unwrap();
    let memory = memory(16 * 1024, dir.path());
    let left: Vec<(String, String)> = (0..3000)
        .map(|i| (format!("key-{}", i % 700), format!("left-{i}")))
        .collect();
    let right: Vec<(String, String)> = (0..2000)
        .map(|i| (format!("key-{}", i % 900), format!("right-{i}")))
        .collect();
    let mut got = Vec::new();
    let metrics = HybridHashJoin::new(
        &memory,
        JoinType::Inner,
        |l: &(String, String)| l.0.clone(),
        |r: &(String, String)| r.0.clone(),
    )
    .left_record_size(|l| l.0.capacity() + l.1.capacity())
    .run(left.clone(), right.clone(), |l, r| {
        got.push((l.unwrap().1.clone(), r.unwrap().1.clone()))
    })
    .unwrap();
    assert!(metrics.spilled_partitions > 0, "{metrics:?}");
    let mut expected = Vec::new();
    for l in &left {
        for r in right.iter().filter(|r| r.0 == l.0) {
            expected.push((l.1.clone(), r.1.clone()));
        }
    }
    got.sort();
    expected.sort();
    assert_eq!(got, expected);
    assert_clean(&memory, dir.path());
}

#[test]
fn a_panicking_output_function_leaves_no_spill_files() {
    let dir = tempfile::tempdir().unwrap();
    let memory = memory(8 * 1024, dir.path());
    let left = rows(&(0..5000u64).collect::<Vec<_>>());
    let right = rows(&(0..5000u64).collect::<Vec<_>>());
    let result = std::panic::catch_unwind(|| {
        let mut seen = 0;
        HybridHashJoin::new(&memory, JoinType::Inner, |l: &Row| l.0, |r: &Row| r.0).run(
            left,
            right,
            |_, _| {
                seen += 1;
                assert!(seen < 4000, "the sink failed");
            },
        )
    });
    assert!(result.is_err());
    assert_clean(&memory, dir.path());
}

/// A build side far bigger than a cache-sized partition: the broadcast table splits into
/// partitions and probing threads order their rows by partition before probing.
#[test]
fn a_big_broadcast_table_is_partitioned_and_still_right() {
    let memory = MemoryManager::new(256 << 20);
    let build = rows(&(0..60_000u64).map(|i| i * 7 % 90_001).collect::<Vec<_>>());
    let probe = rows(
        &(0..150_000u64)
            .map(|i| i * 13 % 100_003)
            .collect::<Vec<_>>(),
    );
    let table = BroadcastHashJoin::build(&memory, build.clone(), |b: &Row| b.0, true);
    let mut got: Vec<Out> = Vec::new();
    let (first, second) = probe.split_at(70_000);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    std::thread::scope(|s| {
        s.spawn(|| {
            table.probe(
                first.to_vec(),
                |r: &Row| r.0,
                true,
                |l, r| a.push((l.copied(), r.copied())),
            )
        });
        s.spawn(|| {
            table.probe(
                second.to_vec(),
                |r: &Row| r.0,
                true,
                |l, r| b.push((l.copied(), r.copied())),
            )
        });
    });
    got.extend(a);
    got.extend(b);
    table.for_each_unmatched(|l| got.push((Some(*l), None)));
    got.sort();
    // The reference, by a hash map (a nested loop would take too long here).
    let mut by_key: std::collections::HashMap<u64, Vec<Row>> = std::collections::HashMap::new();
    for l in &build {
        by_key.entry(l.0).or_default().push(*l);
    }
    let mut expected: Vec<Out> = Vec::new();
    let mut matched = std::collections::HashSet::new();
    for r in &probe {
        match by_key.get(&r.0) {
            Some(ls) => {
                matched.insert(r.0);
                expected.extend(ls.iter().map(|l| (Some(*l), Some(*r))));
            }
            None => expected.push((None, Some(*r))),
        }
    }
    expected.extend(
        build
            .iter()
            .filter(|l| !matched.contains(&l.0))
            .map(|l| (Some(*l), None)),
    );
    expected.sort();
    assert_eq!(got, expected);
    drop(table);
    assert_eq!(memory.used(), 0);
}
