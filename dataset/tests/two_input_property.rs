//! Two-input operators against nested-loop references, with proptest: every join type under
//! every hint it allows, co_group, cross (both broadcast sides) and broadcast sets, at
//! parallelism 1, 2 and 4 and memory budgets from 2 to 64 pages of 1 KiB (so the hybrid hash
//! and sort-merge joins spill). Duplicate keys on both sides; compared as multisets.

mod common;

use std::collections::BTreeMap;

use common::{assert_clean, env, sorted};
use eddy_dataset::{JoinHint, JoinType};
use proptest::prelude::*;

type Row = (u16, u32);
type Pair = (Option<Row>, Option<Row>);

fn rows() -> impl Strategy<Value = Vec<Row>> {
    prop::collection::vec((0u16..20, 0u32..100), 0..120)
}

/// The nested-loop join of the reference.
fn reference(left: &[Row], right: &[Row], join_type: JoinType) -> Vec<Pair> {
    let mut out = Vec::new();
    for l in left {
        let matches: Vec<&Row> = right.iter().filter(|r| r.0 == l.0).collect();
        for r in &matches {
            out.push((Some(*l), Some(**r)));
        }
        if matches.is_empty() && join_type.keeps_left() {
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
    sorted(out)
}

fn hints_for(join_type: JoinType) -> Vec<JoinHint> {
    let mut hints = vec![
        JoinHint::OptimizerChooses,
        JoinHint::RepartitionHashFirst,
        JoinHint::RepartitionHashSecond,
        JoinHint::RepartitionSortMerge,
    ];
    if matches!(join_type, JoinType::Inner | JoinType::RightOuter) {
        hints.push(JoinHint::BroadcastHashFirst);
    }
    if matches!(join_type, JoinType::Inner | JoinType::LeftOuter) {
        hints.push(JoinHint::BroadcastHashSecond);
    }
    hints
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(8))]

    #[test]
    fn joins_match_the_nested_loop_reference(
        left in rows(),
        right in rows(),
        p in prop::sample::select(vec![1u32, 2, 4]),
        pages in 2usize..64,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let env = env(p, pages, dir.path());
        let (l, r) = (env.from_collection(left.clone()), env.from_collection(right.clone()));
        for join_type in [JoinType::Inner, JoinType::LeftOuter, JoinType::RightOuter, JoinType::FullOuter] {
            for hint in hints_for(join_type) {
                let out = match join_type {
                    JoinType::Inner => l.join(&r).hint(hint).where_key(|a: &Row| a.0).equal_to(|b: &Row| b.0)
                        .with(|a, b| (Some(a), Some(b))),
                    JoinType::LeftOuter => l.left_outer_join(&r).hint(hint).where_key(|a: &Row| a.0).equal_to(|b: &Row| b.0)
                        .with(|a, b| (a, b)),
                    JoinType::RightOuter => l.right_outer_join(&r).hint(hint).where_key(|a: &Row| a.0).equal_to(|b: &Row| b.0)
                        .with(|a, b| (a, b)),
                    JoinType::FullOuter => l.full_outer_join(&r).hint(hint).where_key(|a: &Row| a.0).equal_to(|b: &Row| b.0)
                        .with(|a, b| (a, b)),
                };
                let got = sorted(out.collect().unwrap());
                prop_assert_eq!(got, reference(&left, &right, join_type), "{:?} {:?}", join_type, hint);
            }
        }
        assert_clean(&env, dir.path());
    }

    #[test]
    fn co_group_cross_and_broadcast_sets_match_the_reference(
        left in rows(),
        right in prop::collection::vec((0u16..20, 0u32..100), 0..30),
        p in prop::sample::select(vec![1u32, 2, 4]),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let env = env(p, 64, dir.path());
        let (l, r) = (env.from_collection(left.clone()), env.from_collection(right.clone()));
        let grouped = l
            .co_group(&r)
            .where_key(|a: &Row| a.0)
            .equal_to(|b: &Row| b.0)
            .with(|a: Vec<Row>, b: Vec<Row>| {
                let key = a.first().or(b.first()).map(|t| t.0);
                key.map(|k| (k, sorted(a.iter().map(|t| t.1).collect()), sorted(b.iter().map(|t| t.1).collect())))
            })
            .collect()
            .unwrap();
        let mut expected: BTreeMap<u16, (Vec<u32>, Vec<u32>)> = BTreeMap::new();
        for t in &left {
            expected.entry(t.0).or_default().0.push(t.1);
        }
        for t in &right {
            expected.entry(t.0).or_default().1.push(t.1);
        }
        let expected: Vec<(u16, Vec<u32>, Vec<u32>)> =
            expected.into_iter().map(|(k, (a, b))| (k, sorted(a), sorted(b))).collect();
        prop_assert_eq!(sorted(grouped), expected);
        let product: Vec<(Row, Row)> = left.iter().flat_map(|a| right.iter().map(move |b| (*a, *b))).collect();
        prop_assert_eq!(sorted(l.cross_with_tiny(&r).pairs().collect().unwrap()), sorted(product.clone()));
        prop_assert_eq!(sorted(l.cross_with_huge(&r).pairs().collect().unwrap()), sorted(product.clone()));
        prop_assert_eq!(sorted(l.cross(&r).pairs().collect().unwrap()), sorted(product));
        let total: u32 = right.iter().map(|t| t.1).sum();
        let shifted = l.with_broadcast_set(&r).map(|a: Row, set: &[Row]| a.1 + set.iter().map(|t| t.1).sum::<u32>()).collect().unwrap();
        prop_assert_eq!(sorted(shifted), sorted(left.iter().map(|t| t.1 + total).collect()));
        assert_clean(&env, dir.path());
    }
}

#[test]
fn an_outer_join_refuses_to_broadcast_its_outer_side() {
    let dir = tempfile::tempdir().unwrap();
    let env = env(2, 64, dir.path());
    let l = env.from_collection(vec![(1u16, 1u32)]);
    let r = env.from_collection(vec![(1u16, 2u32)]);
    let error = l
        .left_outer_join(&r)
        .hint(JoinHint::BroadcastHashFirst)
        .where_key(|a: &Row| a.0)
        .equal_to(|b: &Row| b.0)
        .with(|a, b| (a, b))
        .collect()
        .unwrap_err();
    assert!(error.to_string().contains("BroadcastHashFirst"), "{error}");
}

/// A join that spills, then fails in the user function: the spill files go too.
#[test]
fn a_failing_spilled_join_leaves_no_files() {
    let dir = tempfile::tempdir().unwrap();
    let env = env(2, 2, dir.path());
    let l = env.generate_sequence(0, 20_000).map(|x| (x % 100, x));
    let r = env.generate_sequence(0, 20_000).map(|x| (x % 100, x));
    let result = l
        .join(&r)
        .hint(JoinHint::RepartitionHashFirst)
        .where_key(|a: &(u64, u64)| a.0)
        .equal_to(|b: &(u64, u64)| b.0)
        .with(|a, b| {
            assert!(a.1 + b.1 < 39_000, "boom");
            a.1 + b.1
        })
        .count();
    assert!(result.unwrap_err().to_string().contains("boom"));
    assert_clean(&env, dir.path());
}
