//! `Graph`'s transformations (degrees, neighbourhood reductions, filters, set operations,
//! joins, reverse/undirected, validation) against a from-scratch model over plain vectors, on
//! small random graphs with self-loops, duplicate edges and isolated vertices.

use std::collections::{BTreeMap, BTreeSet};

use eddy_dataset::ExecutionEnvironment;
use eddy_gelly::{Edge, EdgeDirection, Graph, Vertex};
use proptest::prelude::*;

type V = Vec<(u64, u32)>;
type E = Vec<(u64, u64, u32)>;

fn random_graph() -> impl Strategy<Value = (V, E)> {
    (1usize..8).prop_flat_map(|n| {
        let vertices: V = (0..n as u64).map(|i| (i * 2, (i * 7 % 5) as u32)).collect();
        let edges =
            prop::collection::vec((0..n as u64, 0..n as u64, 0u32..4), 0..16).prop_map(|es| {
                es.into_iter()
                    .map(|(a, b, w)| (a * 2, b * 2, w))
                    .collect::<E>()
            });
        (Just(vertices), edges)
    })
}

fn build(env: &ExecutionEnvironment, v: &V, e: &E) -> Graph<u64, u32, u32> {
    Graph::from_collection(
        env,
        v.iter().map(|&(id, x)| Vertex::new(id, x)),
        e.iter().map(|&(s, t, x)| Edge::new(s, t, x)),
    )
}

fn env() -> ExecutionEnvironment {
    let env = ExecutionEnvironment::new();
    env.set_parallelism(2);
    env
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

fn edges_of(g: &Graph<u64, u32, u32>) -> Vec<(u64, u64, u32)> {
    sorted(
        g.edges()
            .collect()
            .unwrap()
            .into_iter()
            .map(|e| (e.source, e.target, e.value))
            .collect(),
    )
}

fn vertices_of(g: &Graph<u64, u32, u32>) -> Vec<(u64, u32)> {
    sorted(
        g.vertices()
            .collect()
            .unwrap()
            .into_iter()
            .map(|v| (v.id, v.value))
            .collect(),
    )
}

/// `(vertex, neighbour)` pairs of the model in a direction.
fn model_neighbors(e: &E, direction: EdgeDirection) -> Vec<(u64, u64, u32)> {
    let mut out = Vec::new();
    for &(s, t, x) in e {
        if direction != EdgeDirection::In {
            out.push((s, t, x));
        }
        if direction != EdgeDirection::Out {
            out.push((t, s, x));
        }
    }
    out
}

const DIRECTIONS: [EdgeDirection; 3] = [EdgeDirection::In, EdgeDirection::Out, EdgeDirection::All];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10))]

    #[test]
    fn degrees_and_neighbourhoods_match_the_model((v, e) in random_graph()) {
        let env = env();
        let g = build(&env, &v, &e);
        let value: BTreeMap<u64, u32> = v.iter().copied().collect();
        for direction in DIRECTIONS {
            let pairs = model_neighbors(&e, direction);
            let degrees: Vec<(u64, u64)> = v
                .iter()
                .map(|&(id, _)| (id, pairs.iter().filter(|p| p.0 == id).count() as u64))
                .collect();
            let got = match direction {
                EdgeDirection::In => g.in_degrees(),
                EdgeDirection::Out => g.out_degrees(),
                EdgeDirection::All => g.degrees(),
            };
            prop_assert_eq!(sorted(got.collect().unwrap()), degrees);

            let mut sums: BTreeMap<u64, u32> = BTreeMap::new();
            let mut edge_max: BTreeMap<u64, u32> = BTreeMap::new();
            for &(me, other, x) in &pairs {
                *sums.entry(me).or_default() += value[&other];
                let m = edge_max.entry(me).or_default();
                *m = (*m).max(x);
            }
            let got = g.reduce_on_neighbors(direction, |a, b| a + b).collect().unwrap();
            prop_assert_eq!(sorted(got), sums.into_iter().collect::<Vec<_>>());
            let got = g.reduce_on_edges(direction, |a, b| a.max(b)).collect().unwrap();
            prop_assert_eq!(sorted(got), edge_max.into_iter().collect::<Vec<_>>());

            // Every vertex is called, with its neighbours' ids.
            let got = g
                .group_reduce_on_neighbors(direction, |vertex, pairs| {
                    let mut ids: Vec<u64> = pairs.iter().map(|(_, n)| n.id).collect();
                    ids.sort();
                    Some((vertex.id, ids))
                })
                .collect()
                .unwrap();
            let want: Vec<(u64, Vec<u64>)> = v
                .iter()
                .map(|&(id, _)| {
                    let ids = sorted(pairs.iter().filter(|p| p.0 == id).map(|p| p.1).collect());
                    (id, ids)
                })
                .collect();
            prop_assert_eq!(sorted(got), want);
            let got = g
                .group_reduce_on_edges(direction, |vertex, edges| Some((vertex.id, edges.len())))
                .collect()
                .unwrap();
            let want: Vec<(u64, usize)> =
                v.iter().map(|&(id, _)| (id, pairs.iter().filter(|p| p.0 == id).count())).collect();
            prop_assert_eq!(sorted(got), want);
        }
    }

    #[test]
    fn transformations_match_the_model((v, e) in random_graph(), (v2, e2) in random_graph()) {
        let env = env();
        let g = build(&env, &v, &e);
        let h = build(&env, &v2, &e2);

        let kept: BTreeSet<u64> = v.iter().filter(|p| p.1 % 2 == 0).map(|p| p.0).collect();
        let f = g.filter_on_vertices(|v| v.value % 2 == 0);
        prop_assert_eq!(vertices_of(&f), v.iter().copied().filter(|p| kept.contains(&p.0)).collect::<Vec<_>>());
        let want: Vec<_> = sorted(e.iter().copied().filter(|x| kept.contains(&x.0) && kept.contains(&x.1)).collect());
        prop_assert_eq!(edges_of(&f), want.clone());
        let s = g.subgraph(|v| v.value % 2 == 0, |e| e.value > 1);
        prop_assert_eq!(edges_of(&s), want.into_iter().filter(|x| x.2 > 1).collect::<Vec<_>>());

        prop_assert_eq!(edges_of(&g.reverse()), sorted(e.iter().map(|&(s, t, x)| (t, s, x)).collect()));
        prop_assert_eq!(
            edges_of(&g.undirected()),
            sorted(e.iter().flat_map(|&(s, t, x)| [(s, t, x), (t, s, x)]).collect())
        );
        prop_assert_eq!(
            edges_of(&g.map_edges(|e| e.value + e.source as u32)),
            sorted(e.iter().map(|&(s, t, x)| (s, t, x + s as u32)).collect())
        );
        prop_assert_eq!(
            vertices_of(&g.map_vertices(|v| v.value * 2)),
            v.iter().map(|&(id, x)| (id, x * 2)).collect::<Vec<_>>()
        );

        // Union: vertices once per id, edges with duplicates.
        let u = g.union(&h);
        let ids: BTreeSet<u64> = v.iter().chain(&v2).map(|p| p.0).collect();
        prop_assert_eq!(vertices_of(&u).into_iter().map(|p| p.0).collect::<Vec<_>>(), ids.into_iter().collect::<Vec<_>>());
        prop_assert_eq!(edges_of(&u), sorted(e.iter().chain(&e2).copied().collect()));

        // Difference: without h's vertices and the edges touching them.
        let gone: BTreeSet<u64> = v2.iter().map(|p| p.0).collect();
        let d = g.difference(&h);
        prop_assert_eq!(vertices_of(&d), v.iter().copied().filter(|p| !gone.contains(&p.0)).collect::<Vec<_>>());
        prop_assert_eq!(
            edges_of(&d),
            sorted(e.iter().copied().filter(|x| !gone.contains(&x.0) && !gone.contains(&x.1)).collect())
        );

        // Intersect: multiset semantics of Flink (pairs) and distinct edges.
        let count = |list: &E| {
            let mut m: BTreeMap<(u64, u64, u32), usize> = BTreeMap::new();
            for x in list {
                *m.entry(*x).or_default() += 1;
            }
            m
        };
        let (ca, cb) = (count(&e), count(&e2));
        let mut distinct = Vec::new();
        let mut pairs = Vec::new();
        for (x, a) in &ca {
            if let Some(b) = cb.get(x) {
                distinct.push(*x);
                pairs.extend(std::iter::repeat_n(*x, 2 * a.min(b)));
            }
        }
        let i = g.intersect(&h, true);
        let got: Vec<_> = sorted(i.edges().collect().unwrap().into_iter().map(|e| (e.source, e.target, e.value)).collect());
        prop_assert_eq!(got, distinct.clone());
        let ends: BTreeSet<u64> = distinct.iter().flat_map(|x| [x.0, x.1]).collect();
        prop_assert_eq!(sorted(i.vertex_ids().collect().unwrap()), ends.into_iter().collect::<Vec<_>>());
        let got: Vec<_> = sorted(g.intersect(&h, false).edges().collect().unwrap().into_iter().map(|e| (e.source, e.target, e.value)).collect());
        prop_assert_eq!(got, pairs);

        // Joins: matched vertices and edges change, the others keep their values.
        let input = env.from_collection(vec![(0u64, 100u32), (4, 200), (99, 7)]);
        let j = g.join_with_vertices(&input, |a, b| a + b);
        let extra: BTreeMap<u64, u32> = [(0, 100), (4, 200)].into_iter().collect();
        prop_assert_eq!(
            vertices_of(&j),
            v.iter().map(|&(id, x)| (id, x + extra.get(&id).copied().unwrap_or(0))).collect::<Vec<_>>()
        );
        let j = g.join_with_edges_on_source(&input, |a, b| a + b);
        prop_assert_eq!(
            edges_of(&j),
            sorted(e.iter().map(|&(s, t, x)| (s, t, x + extra.get(&s).copied().unwrap_or(0))).collect())
        );
        let j = g.join_with_edges_on_target(&input, |a, b| a + b);
        prop_assert_eq!(
            edges_of(&j),
            sorted(e.iter().map(|&(s, t, x)| (s, t, x + extra.get(&t).copied().unwrap_or(0))).collect())
        );
        let j = g.join_with_edges(&env.from_collection(vec![(0u64, 2u64, 50u32)]), |a, b| a + b);
        prop_assert_eq!(
            edges_of(&j),
            sorted(e.iter().map(|&(s, t, x)| (s, t, if (s, t) == (0, 2) { x + 50 } else { x })).collect())
        );

        prop_assert!(g.validate().unwrap());
        prop_assert_eq!(g.number_of_vertices().unwrap(), v.len() as u64);
        prop_assert_eq!(g.number_of_edges().unwrap(), e.len() as u64);
    }
}
