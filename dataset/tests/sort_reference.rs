//! The external sorter against `slice::sort_by_key` (stable) and a `BTreeMap` fold, with
//! memory budgets drawn down to a few 1 KiB pages so that runs spill and merges go through
//! several levels; plus the cleanup of spill files after success, errors and panics.

use std::collections::BTreeMap;
use std::path::Path;

use eddy_dataset::sort::{ExternalSorter, SortMetrics};
use eddy_runtime::memory::MemoryManager;
use proptest::prelude::*;

/// A manager with 1 KiB pages spilling under `dir`.
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
        "no spill directory is left behind"
    );
}

/// Sorts `(key, position)` records; returns the output and the metrics.
fn sort(
    records: &[(u64, u32)],
    memory: &MemoryManager,
    descending: bool,
    stable: bool,
) -> (Vec<(u64, u32)>, SortMetrics) {
    let mut sorter = ExternalSorter::new(memory, |r: &(u64, u32)| r.0)
        .descending(descending)
        .stable(stable);
    for &r in records {
        sorter.push(r).unwrap();
    }
    let output = sorter.finish().unwrap();
    let metrics = output.metrics().clone();
    let sorted = output.map(|e| e.unwrap().1).collect();
    (sorted, metrics)
}

fn reference(records: &[(u64, u32)], descending: bool) -> Vec<(u64, u32)> {
    let mut expected = records.to_vec();
    if descending {
        expected.sort_by_key(|r| std::cmp::Reverse(r.0));
    } else {
        expected.sort_by_key(|r| r.0);
    }
    expected
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn sorts_like_a_stable_sort_under_any_budget(
        keys in proptest::collection::vec(0u64..64, 0..3000),
        budget_pages in 2usize..96,
        descending: bool,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let memory = memory(budget_pages * 1024, dir.path());
        let records: Vec<(u64, u32)> =
            keys.iter().enumerate().map(|(i, &k)| (k, i as u32)).collect();
        let (sorted, _) = sort(&records, &memory, descending, true);
        prop_assert_eq!(sorted, reference(&records, descending));
        assert_clean(&memory, dir.path());
    }

    #[test]
    fn string_keys_sort_like_the_reference(
        keys in proptest::collection::vec("[a-c]{0,6}", 0..1500),
        budget_pages in 2usize..64,
        stable: bool,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let memory = memory(budget_pages * 1024, dir.path());
        let mut sorter = ExternalSorter::new(&memory, |r: &(String, u32)| r.0.clone())
            .stable(stable)
            .record_size(|k: &String, r: &(String, u32)| k.capacity() + r.0.capacity());
        for (i, k) in keys.iter().enumerate() {
            sorter.push((k.clone(), i as u32)).unwrap();
        }
        let sorted: Vec<(String, u32)> = sorter.finish().unwrap().map(|e| e.unwrap().1).collect();
        let mut expected: Vec<(String, u32)> =
            keys.iter().enumerate().map(|(i, k)| (k.clone(), i as u32)).collect();
        expected.sort_by(|a, b| a.0.cmp(&b.0));
        if stable {
            prop_assert_eq!(sorted, expected);
        } else {
            let mut got = sorted;
            prop_assert!(got.windows(2).all(|w| w[0].0 <= w[1].0));
            got.sort();
            expected.sort();
            prop_assert_eq!(got, expected);
        }
        assert_clean(&memory, dir.path());
    }

    #[test]
    fn a_combiner_folds_each_key_once(
        records in proptest::collection::vec((0i64..40, 0u64..1000), 0..3000),
        budget_pages in 2usize..48,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let memory = memory(budget_pages * 1024, dir.path());
        let mut sorter = ExternalSorter::new(&memory, |r: &(i64, u64)| r.0)
            .combiner(|acc: &mut (i64, u64), r| acc.1 += r.1);
        for &r in &records {
            sorter.push(r).unwrap();
        }
        let got: Vec<(i64, u64)> = sorter.finish().unwrap().map(|e| e.unwrap().1).collect();
        let mut expected = BTreeMap::new();
        for (k, v) in records {
            *expected.entry(k).or_insert(0) += v;
        }
        prop_assert_eq!(got, expected.into_iter().collect::<Vec<_>>());
        assert_clean(&memory, dir.path());
    }
}

#[test]
fn tiny_budgets_spill_and_merge_in_several_levels() {
    let dir = tempfile::tempdir().unwrap();
    let memory = memory(4 * 1024, dir.path());
    let records: Vec<(u64, u32)> = (0..20_000u32)
        .map(|i| ((u64::from(i) * 2_654_435_761) % 5000, i))
        .collect();
    let (sorted, metrics) = sort(&records, &memory, false, true);
    assert_eq!(sorted, reference(&records, false));
    assert!(metrics.spilled_runs > 100, "{metrics:?}");
    assert!(metrics.merge_levels >= 2, "{metrics:?}");
    assert_clean(&memory, dir.path());
}

#[test]
fn a_generous_budget_stays_in_memory_and_merges_up_to_the_fan_in() {
    let dir = tempfile::tempdir().unwrap();
    let memory = memory(64 << 20, dir.path());
    let records: Vec<(u64, u32)> = (0..50_000u32).map(|i| (u64::from(i % 97), i)).collect();
    let (sorted, metrics) = sort(&records, &memory, true, true);
    assert_eq!(sorted, reference(&records, true));
    assert_eq!(metrics.spilled_runs, 0);

    // A budget of 2 MiB for the buffer, with 20 runs to merge in one level.
    let memory = self::memory(2 << 20, dir.path());
    let records: Vec<(u64, u32)> = (0..800_000u32)
        .map(|i| ((u64::from(i) * 7919) % 100_003, i))
        .collect();
    let (sorted, metrics) = sort(&records, &memory, false, true);
    assert_eq!(sorted, reference(&records, false));
    assert!(metrics.spilled_runs > 10, "{metrics:?}");
    assert_eq!(metrics.merge_levels, 0, "{metrics:?}");
    assert_eq!(metrics.fan_in, metrics.spilled_runs, "{metrics:?}");
    assert_clean(&memory, dir.path());
}

#[test]
fn float_and_tuple_keys_sort_in_total_order() {
    let dir = tempfile::tempdir().unwrap();
    let memory = memory(8 * 1024, dir.path());
    let values: Vec<f64> = (0..3000)
        .map(|i| ((i * 37) % 1001) as f64 / 7.0 - 60.0)
        .collect();
    let mut sorter = ExternalSorter::new(&memory, |v: &f64| *v);
    for &v in &values {
        sorter.push(v).unwrap();
    }
    let got: Vec<f64> = sorter.finish().unwrap().map(|e| e.unwrap().1).collect();
    let mut expected = values.clone();
    expected.sort_by(f64::total_cmp);
    assert_eq!(got, expected);

    let mut sorter = ExternalSorter::new(&memory, |r: &(i64, u64, u8)| (r.0, r.1)).stable(true);
    let rows: Vec<(i64, u64, u8)> = (0..3000u64)
        .map(|i| ((i % 7) as i64 - 3, i % 5, (i % 251) as u8))
        .collect();
    for &r in &rows {
        sorter.push(r).unwrap();
    }
    let got: Vec<(i64, u64, u8)> = sorter.finish().unwrap().map(|e| e.unwrap().1).collect();
    let mut expected = rows.clone();
    expected.sort_by_key(|r| (r.0, r.1));
    assert_eq!(got, expected);
    assert_clean(&memory, dir.path());
}

#[test]
fn dropping_the_output_early_removes_the_runs() {
    let dir = tempfile::tempdir().unwrap();
    let memory = memory(4 * 1024, dir.path());
    let mut sorter = ExternalSorter::new(&memory, |r: &u64| *r);
    for i in 0..5000u64 {
        sorter.push(i ^ 0x55).unwrap();
    }
    let mut output = sorter.finish().unwrap();
    assert_eq!(output.next().unwrap().unwrap().1, 0);
    assert!(std::fs::read_dir(dir.path()).unwrap().count() > 0);
    drop(output);
    assert_clean(&memory, dir.path());
}

#[test]
fn a_panic_while_sorting_leaves_no_files() {
    let dir = tempfile::tempdir().unwrap();
    let memory = memory(4 * 1024, dir.path());
    let result = std::panic::catch_unwind(|| {
        let mut sorter = ExternalSorter::new(&memory, |r: &u64| {
            assert!(*r != 4000, "key extractor failed");
            *r
        });
        for i in 0..5000u64 {
            sorter.push(i).unwrap();
        }
    });
    assert!(result.is_err());
    assert_clean(&memory, dir.path());
}

#[test]
fn a_missing_spill_directory_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let gone = dir.path().join("gone");
    let memory = memory(2 * 1024, &gone);
    let mut sorter = ExternalSorter::new(&memory, |r: &u64| *r);
    let error = (0..5000u64)
        .map(|i| sorter.push(i))
        .find_map(Result::err)
        .expect("spilling into a missing directory fails");
    assert!(error.to_string().contains("gone"), "{error}");
    drop(sorter);
    assert_eq!(memory.used(), 0);
}
