//! Iterations against references: a bulk iteration reaching a fixpoint (max propagation
//! along a chain), the termination criterion stopping early, and connected components by
//! delta iteration compared with a union-find, with proptest on random graphs at parallelism
//! 1, 2 and 4.

mod common;

use std::collections::BTreeMap;

use common::{assert_clean, env, sorted};
use eddy_dataset::DataSet;
use proptest::prelude::*;

/// Connected components with a union-find: each vertex labelled by its component's
/// smallest vertex.
fn union_find(vertices: &[u64], edges: &[(u64, u64)]) -> Vec<(u64, u64)> {
    let mut parent: BTreeMap<u64, u64> = vertices.iter().map(|v| (*v, *v)).collect();
    fn root(parent: &mut BTreeMap<u64, u64>, v: u64) -> u64 {
        let p = parent[&v];
        if p == v {
            return v;
        }
        let r = root(parent, p);
        parent.insert(v, r);
        r
    }
    for &(a, b) in edges {
        let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
        let (lo, hi) = (ra.min(rb), ra.max(rb));
        parent.insert(hi, lo);
    }
    vertices
        .iter()
        .map(|v| (*v, root(&mut parent, *v)))
        .collect()
}

/// Connected components by delta iteration, as in the crate docs and the example.
fn components(vertices: &DataSet<u64>, edges: &DataSet<(u64, u64)>) -> DataSet<(u64, u64)> {
    let both_ways = edges.flat_map(|(a, b)| [(a, b), (b, a)]);
    let initial = vertices.map(|v| (v, v));
    initial.iterate_delta(
        &initial,
        1000,
        |v: &(u64, u64)| v.0,
        |it| {
            let candidates = it
                .workset()
                .join(&both_ways)
                .where_key(|v: &(u64, u64)| v.0)
                .equal_to(|e: &(u64, u64)| e.0)
                .with(|v: (u64, u64), e: (u64, u64)| (e.1, v.1))
                .group_by(|c| c.0)
                .min(|c: &mut (u64, u64)| &mut c.1);
            let changes = it.solution_set().lookup(
                &candidates,
                |c: &(u64, u64)| c.0,
                |c, old: Option<&(u64, u64)>| old.filter(|o| c.1 < o.1).map(|_| c),
            );
            (changes.clone(), changes)
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10))]

    #[test]
    fn connected_components_match_union_find(
        n in 1u64..60,
        raw_edges in prop::collection::vec((0u64..60, 0u64..60), 0..80),
        p in prop::sample::select(vec![1u32, 2, 4]),
    ) {
        let vertices: Vec<u64> = (0..n).collect();
        let edges: Vec<(u64, u64)> = raw_edges.into_iter().map(|(a, b)| (a % n, b % n)).collect();
        let dir = tempfile::tempdir().unwrap();
        let env = env(p, 64, dir.path());
        let got = components(&env.from_collection(vertices.clone()), &env.from_collection(edges.clone()))
            .collect()
            .unwrap();
        prop_assert_eq!(sorted(got), union_find(&vertices, &edges));
        assert_clean(&env, dir.path());
    }
}

#[test]
fn bulk_iteration_reaches_the_fixpoint_of_max_propagation() {
    // A chain 0-1-...-9, each vertex starting with its own value; each superstep every
    // vertex takes the largest value of itself and its neighbours. After 9 supersteps all
    // hold 9, and more supersteps change nothing.
    for p in [1, 2, 4] {
        let dir = tempfile::tempdir().unwrap();
        let env = env(p, 64, dir.path());
        let edges = env.from_collection((0u64..9).flat_map(|v| [(v, v + 1), (v + 1, v)]));
        let values = env.from_collection((0u64..10).map(|v| (v, v)));
        let result = values.iterate(12, |partial| {
            partial
                .join(&edges)
                .where_key(|v: &(u64, u64)| v.0)
                .equal_to(|e: &(u64, u64)| e.0)
                .with(|v: (u64, u64), e: (u64, u64)| (e.1, v.1))
                .union(partial)
                .group_by(|v| v.0)
                .max(|v: &mut (u64, u64)| &mut v.1)
        });
        let got = sorted(result.collect().unwrap());
        assert_eq!(got, (0u64..10).map(|v| (v, 9)).collect::<Vec<_>>(), "p={p}");
    }
}

#[test]
fn bulk_iteration_stops_when_the_termination_criterion_is_empty() {
    let env = eddy_dataset::ExecutionEnvironment::new();
    env.set_parallelism(2);
    // Each superstep adds one to every value and counts its supersteps in the second field;
    // the criterion is empty once every value reached 5.
    let result = env
        .from_collection(vec![(0u32, 0u32), (3, 0)])
        .iterate_with_termination(100, |partial| {
            let next = partial.map(|(v, steps)| (v.max(v + 1).min(5), steps + 1));
            let unfinished = next.filter(|t| t.0 < 5);
            (next, unfinished)
        })
        .collect()
        .unwrap();
    assert_eq!(sorted(result), vec![(5, 5), (5, 5)]);
}

#[test]
fn delta_iteration_honours_max_iterations() {
    let env = eddy_dataset::ExecutionEnvironment::new();
    env.set_parallelism(2);
    // A chain of 20 vertices needs 19 supersteps to converge; after 3 only the first four
    // vertices carry component 0.
    let vertices = env.from_collection(0u64..20);
    let edges = env.from_collection((0u64..19).map(|v| (v, v + 1)));
    let both_ways = edges.flat_map(|(a, b)| [(a, b), (b, a)]);
    let initial = vertices.map(|v| (v, v));
    let result = initial.iterate_delta(
        &initial,
        3,
        |v: &(u64, u64)| v.0,
        |it| {
            let candidates = it
                .workset()
                .join(&both_ways)
                .where_key(|v: &(u64, u64)| v.0)
                .equal_to(|e: &(u64, u64)| e.0)
                .with(|v: (u64, u64), e: (u64, u64)| (e.1, v.1))
                .group_by(|c| c.0)
                .min(|c: &mut (u64, u64)| &mut c.1);
            let changes = it
                .solution_set()
                .join(
                    &candidates,
                    |c: &(u64, u64)| c.0,
                    |c, old: &(u64, u64)| (c, old.1),
                )
                .filter(|(c, old)| c.1 < *old)
                .map(|(c, _)| c);
            (changes.clone(), changes)
        },
    );
    let zeros = result.filter(|v| v.1 == 0).count().unwrap();
    assert_eq!(zeros, 4);
}

/// Outer joins with a loop-invariant side inside an iteration probe the iteration's index of
/// that side: the left side kept (left outer, invariant right) and mirrored (right outer,
/// invariant left) give the plain join's rows.
#[test]
fn outer_joins_with_a_loop_invariant_side_match_the_reference() {
    for p in [1, 3] {
        let env = eddy_dataset::ExecutionEnvironment::new();
        env.set_parallelism(p);
        let lookup = env.from_collection(vec![(1u64, 10u64), (1, 11), (3, 30)]);
        let start = env.from_collection(vec![(1u64, 0u64), (2, 0), (3, 0)]);
        let left = start.iterate(1, |partial| {
            partial
                .left_outer_join(&lookup)
                .where_key(|v: &(u64, u64)| v.0)
                .equal_to(|l: &(u64, u64)| l.0)
                .with(|v: Option<(u64, u64)>, l: Option<(u64, u64)>| {
                    let v = v.unwrap_or_default();
                    (v.0, l.map_or(0, |l| l.1))
                })
        });
        assert_eq!(
            sorted(left.collect().unwrap()),
            vec![(1, 10), (1, 11), (2, 0), (3, 30)],
            "p={p}"
        );
        let right = start.iterate(1, |partial| {
            lookup
                .right_outer_join(partial)
                .where_key(|l: &(u64, u64)| l.0)
                .equal_to(|v: &(u64, u64)| v.0)
                .with(|l: Option<(u64, u64)>, v: Option<(u64, u64)>| {
                    let v = v.unwrap_or_default();
                    (v.0, l.map_or(0, |l| l.1))
                })
        });
        assert_eq!(
            sorted(right.collect().unwrap()),
            vec![(1, 10), (1, 11), (2, 0), (3, 30)],
            "p={p}"
        );
    }
}

/// A user function failing inside a superstep fails the iteration with its operator's name,
/// at every parallelism, without hanging the other subtasks.
#[test]
fn a_failing_step_function_is_reported_by_name() {
    for p in [1, 2, 4] {
        let env = eddy_dataset::ExecutionEnvironment::new();
        env.set_parallelism(p);
        let result = env
            .from_collection(0u64..100)
            .iterate(10, |partial| {
                partial
                    .map(|x| {
                        assert!(x != 103, "value 103 reached");
                        x + 1
                    })
                    .name("fragile step")
            })
            .collect();
        let message = result.unwrap_err().to_string();
        assert!(
            message.contains("fragile step") && message.contains("103"),
            "p={p}: {message}"
        );
    }
}

/// An empty initial workset runs no superstep: the result is the initial solution set.
#[test]
fn delta_iteration_with_an_empty_workset_returns_the_solution_set() {
    let env = eddy_dataset::ExecutionEnvironment::new();
    env.set_parallelism(2);
    let solution = env.from_collection(vec![(1u64, 10u64), (2, 20)]);
    let workset = env.from_collection(Vec::<(u64, u64)>::new());
    let result = solution.iterate_delta(
        &workset,
        5,
        |s: &(u64, u64)| s.0,
        |it| {
            let bumped = it.workset().map(|(k, v)| (k, v + 1));
            (bumped.clone(), bumped)
        },
    );
    assert_eq!(sorted(result.collect().unwrap()), vec![(1, 10), (2, 20)]);
}

/// Supersteps are counted in the data: each adds one to a counter, and a delta iteration
/// whose workset shrinks by one record per superstep stops when it is empty (after as many
/// supersteps as the workset had records), every superstep seeing the solution set as it
/// was when it started.
#[test]
fn delta_iteration_stops_on_the_empty_workset_after_the_expected_supersteps() {
    for p in [1, 2, 4] {
        let env = eddy_dataset::ExecutionEnvironment::new();
        env.set_parallelism(p);
        // Solution: key -> supersteps that updated it. Workset: (key, remaining).
        let solution = env.from_collection((0u64..6).map(|k| (k, 0u64)));
        let workset = env.from_collection((0u64..6).map(|k| (k, k)));
        let result = solution.iterate_delta(
            &workset,
            100,
            |s: &(u64, u64)| s.0,
            |it| {
                let delta = it.solution_set().join(
                    &it.workset().filter(|w| w.1 > 0),
                    |w: &(u64, u64)| w.0,
                    |_w, old: &(u64, u64)| (old.0, old.1 + 1),
                );
                let next = it.workset().filter(|w| w.1 > 1).map(|(k, r)| (k, r - 1));
                (delta, next)
            },
        );
        // Key k is updated in supersteps 1..=k (5 supersteps in all: key 5 needs them).
        let expected: Vec<(u64, u64)> = (0u64..6).map(|k| (k, k)).collect();
        assert_eq!(sorted(result.collect().unwrap()), expected, "p={p}");
    }
}

/// Random bulk iterations against a sequential model: each superstep every value moves to
/// `(3v + 1) mod m`, with a termination criterion on values above a threshold.
#[test]
fn bulk_iterations_match_a_sequential_model_on_random_inputs() {
    use proptest::test_runner::{Config, TestRunner};
    let mut runner = TestRunner::new(Config::with_cases(8));
    runner
        .run(
            &(
                prop::collection::vec(0u64..1000, 0..50),
                1u32..12,
                500u64..1000,
                prop::sample::select(vec![1u32, 2, 4]),
            ),
            |(values, max, threshold, p)| {
                let m = 1009;
                let mut model = values.clone();
                for _ in 0..max {
                    model = model.iter().map(|v| (3 * v + 1) % m).collect();
                    if !model.iter().any(|v| *v > threshold) {
                        break;
                    }
                }
                let env = eddy_dataset::ExecutionEnvironment::new();
                env.set_parallelism(p);
                let got = env
                    .from_collection(values)
                    .iterate_with_termination(max, move |partial| {
                        let next = partial.map(move |v| (3 * v + 1) % m);
                        let big = next.filter(move |v| *v > threshold);
                        (next, big)
                    })
                    .collect()
                    .unwrap();
                prop_assert_eq!(sorted(got), sorted(model));
                Ok(())
            },
        )
        .unwrap();
}
