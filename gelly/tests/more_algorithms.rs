//! Triangle listing, HITS, Jaccard, Adamic-Adar, Gelly's CommunityDetection (CSR path, at one
//! and two threads), summarization (Graph API) and the regular generators, each against a
//! from-scratch sequential reference on small random graphs with isolated vertices,
//! self-loops and duplicate edges.

use std::collections::{BTreeMap, BTreeSet};

use eddy_dataset::ExecutionEnvironment;
use eddy_gelly::{
    generator, AdamicAdar, CommunityDetection, Csr, Edge, Graph, Hits, JaccardIndex, Triangles,
    Vertex,
};
use proptest::prelude::*;

type Edges = Vec<(u64, u64, f64)>;

fn random_graph() -> impl Strategy<Value = (bool, Vec<u64>, Edges)> {
    (any::<bool>(), 1usize..10).prop_flat_map(|(directed, n)| {
        let ids: Vec<u64> = (0..n as u64).map(|i| i * 3 + 1).collect();
        let edge = (0..n, 0..n, prop::sample::select(vec![0.5, 1.0, 2.0]));
        let edges = prop::collection::vec(edge, 0..30).prop_map({
            let ids = ids.clone();
            move |es| {
                es.into_iter()
                    .map(|(a, b, w)| (ids[a], ids[b], w))
                    .collect::<Edges>()
            }
        });
        (Just(directed), Just(ids), edges)
    })
}

fn csr(directed: bool, ids: &[u64], edges: &Edges) -> Csr {
    Csr::builder(directed)
        .vertices(ids.iter().copied())
        .weighted_edges(edges.iter().copied())
        .build()
        .unwrap()
}

/// The simple graph the CSR holds: no self-loops, each (directed) edge once with its
/// smallest weight; undirected edges in both directions.
fn simple(directed: bool, edges: &Edges) -> BTreeMap<(u64, u64), f64> {
    let mut out: BTreeMap<(u64, u64), f64> = BTreeMap::new();
    for &(a, b, w) in edges {
        if a == b {
            continue;
        }
        let mut put = |k| {
            let e = out.entry(k).or_insert(w);
            *e = e.min(w);
        };
        put((a, b));
        if !directed {
            put((b, a));
        }
    }
    out
}

/// Undirected neighbour sets.
fn neighbors(ids: &[u64], edges: &Edges) -> BTreeMap<u64, BTreeSet<u64>> {
    let mut n: BTreeMap<u64, BTreeSet<u64>> = ids.iter().map(|&v| (v, BTreeSet::new())).collect();
    for &(a, b, _) in edges {
        if a != b {
            n.get_mut(&a).unwrap().insert(b);
            n.get_mut(&b).unwrap().insert(a);
        }
    }
    n
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn triangles_match_brute_force((directed, ids, edges) in random_graph()) {
        let n = neighbors(&ids, &edges);
        let mut want = Vec::new();
        for (i, &a) in ids.iter().enumerate() {
            for (j, &b) in ids.iter().enumerate().skip(i + 1) {
                for &c in ids.iter().skip(j + 1) {
                    if n[&a].contains(&b) && n[&b].contains(&c) && n[&a].contains(&c) {
                        want.push((a, b, c));
                    }
                }
            }
        }
        let g = csr(directed, &ids, &edges);
        for threads in [1, 2] {
            prop_assert_eq!(Triangles::new().threads(threads).run(&g).unwrap(), want.clone());
        }
    }

    #[test]
    fn similarities_match_brute_force((directed, ids, edges) in random_graph()) {
        let n = neighbors(&ids, &edges);
        let (mut jaccard, mut adamic) = (Vec::new(), Vec::new());
        for &u in &ids {
            for &v in ids.iter().filter(|&&v| v > u) {
                let common: Vec<u64> = n[&u].intersection(&n[&v]).copied().collect();
                if common.is_empty() {
                    continue;
                }
                let union = n[&u].union(&n[&v]).count();
                jaccard.push((u, v, common.len() as f64 / union as f64));
                adamic.push((u, v, common.iter().map(|w| 1.0 / (n[w].len() as f64).ln()).sum::<f64>()));
            }
        }
        let g = csr(directed, &ids, &edges);
        for threads in [1, 2] {
            let got = JaccardIndex::new().threads(threads).run(&g).unwrap();
            prop_assert_eq!(got.len(), jaccard.len());
            for (x, y) in got.iter().zip(&jaccard) {
                prop_assert!(x.0 == y.0 && x.1 == y.1 && close(x.2, y.2), "{:?} vs {:?}", x, y);
            }
            let got = AdamicAdar::new().threads(threads).run(&g).unwrap();
            prop_assert_eq!(got.len(), adamic.len());
            for (x, y) in got.iter().zip(&adamic) {
                prop_assert!(x.0 == y.0 && x.1 == y.1 && close(x.2, y.2), "{:?} vs {:?}", x, y);
            }
        }
    }

    #[test]
    fn hits_matches_the_sequential_definition((directed, ids, edges) in random_graph(), iterations in 0usize..6) {
        let arcs = simple(directed, &edges);
        let mut hub: BTreeMap<u64, f64> = ids.iter().map(|&v| (v, 1.0)).collect();
        let mut auth = hub.clone();
        let normalize = |m: &mut BTreeMap<u64, f64>| {
            let norm = m.values().map(|x| x * x).sum::<f64>().sqrt();
            if norm > 0.0 {
                m.values_mut().for_each(|x| *x /= norm);
            }
        };
        for _ in 0..iterations {
            auth = ids.iter().map(|&v| (v, arcs.keys().filter(|k| k.1 == v).map(|k| hub[&k.0]).sum())).collect();
            normalize(&mut auth);
            hub = ids.iter().map(|&v| (v, arcs.keys().filter(|k| k.0 == v).map(|k| auth[&k.1]).sum())).collect();
            normalize(&mut hub);
        }
        let g = csr(directed, &ids, &edges);
        for threads in [1, 2] {
            let got = Hits::new().iterations(iterations).threads(threads).run(&g).unwrap();
            for (i, &v) in ids.iter().enumerate() {
                prop_assert!(close(got[i].0, hub[&v]) && close(got[i].1, auth[&v]), "vertex {}", v);
            }
        }
    }

    #[test]
    fn community_detection_matches_the_sequential_definition(
        (directed, ids, edges) in random_graph(),
        iterations in 0usize..6,
    ) {
        let arcs = simple(directed, &edges);
        let delta = 0.5;
        let mut state: BTreeMap<u64, (u64, f64)> = ids.iter().map(|&v| (v, (v, 1.0))).collect();
        for i in 1..=iterations {
            let mut next = state.clone();
            for &v in &ids {
                let mut received: BTreeMap<u64, (f64, f64)> = BTreeMap::new();
                for (&(s, _), &w) in arcs.iter().filter(|(k, _)| k.1 == v) {
                    let (label, score) = state[&s];
                    let e = received.entry(label).or_insert((0.0, f64::NEG_INFINITY));
                    e.0 += score * w;
                    e.1 = e.1.max(score * w);
                }
                let mut best: Option<(u64, f64, f64)> = None;
                for (label, (sum, high)) in received {
                    if best.is_none_or(|b| sum > b.1) {
                        best = Some((label, sum, high));
                    }
                }
                if let Some((label, _, high)) = best {
                    let penalty = if label == state[&v].0 { 0.0 } else { delta / i as f64 };
                    next.insert(v, (label, high - penalty));
                }
            }
            state = next;
        }
        let want: Vec<u64> = ids.iter().map(|v| state[v].0).collect();
        let g = csr(directed, &ids, &edges);
        for threads in [1, 2] {
            let got = CommunityDetection::new().iterations(iterations).delta(delta).threads(threads).run(&g).unwrap();
            prop_assert_eq!(&got, &want);
        }
    }

    #[test]
    fn generators_match_their_definitions(n in 0u64..9, rows in 1u64..5, cols in 1u64..5, wrap in any::<bool>()) {
        let pairs = |n: u64, adjacent: &dyn Fn(u64, u64) -> bool| -> Vec<(u64, u64)> {
            (0..n).flat_map(|a| (a + 1..n).map(move |b| (a, b))).filter(|&(a, b)| adjacent(a, b)).collect()
        };
        prop_assert_eq!(generator::complete(n).edges, pairs(n, &|_, _| true));
        prop_assert_eq!(generator::star(n).edges, pairs(n, &|a, _| a == 0));
        prop_assert_eq!(generator::path(n).edges, pairs(n, &|a, b| b == a + 1));
        prop_assert_eq!(generator::cycle(n).edges, pairs(n, &|a, b| b == a + 1 || (n > 2 && a == 0 && b == n - 1)));
        // Cells (x, y) with id x + rows * y; one step in x or y, or across the wrap.
        let step = |p: u64, q: u64, size: u64| p.abs_diff(q) == 1 || (wrap && size > 2 && p.abs_diff(q) == size - 1);
        let want = pairs(rows * cols, &|a, b| {
            let (ax, ay, bx, by) = (a % rows, a / rows, b % rows, b / rows);
            (ay == by && step(ax, bx, rows)) || (ax == bx && step(ay, by, cols))
        });
        let g = generator::grid(&[(rows, wrap), (cols, wrap)]);
        prop_assert_eq!(g.vertices, rows * cols);
        prop_assert_eq!(g.edges, want);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(8))]

    #[test]
    fn summarization_matches_grouping_by_value(
        values in prop::collection::vec(0u8..3, 1..8),
        raw in prop::collection::vec((0usize..8, 0usize..8, 0u8..2), 0..14),
    ) {
        let n = values.len();
        let edges: Vec<(u64, u64, u8)> = raw.into_iter().map(|(a, b, x)| ((a % n) as u64, (b % n) as u64, x)).collect();
        let rep: BTreeMap<u8, u64> = values.iter().enumerate().rev().map(|(i, &x)| (x, i as u64)).collect();
        let mut want_v: BTreeMap<u64, (u8, u64)> = BTreeMap::new();
        for &x in &values {
            want_v.entry(rep[&x]).or_insert((x, 0)).1 += 1;
        }
        let mut want_e: BTreeMap<(u64, u64, u8), u64> = BTreeMap::new();
        for &(a, b, x) in &edges {
            *want_e.entry((rep[&values[a as usize]], rep[&values[b as usize]], x)).or_default() += 1;
        }
        let env = ExecutionEnvironment::new();
        env.set_parallelism(2);
        let graph = Graph::from_collection(
            &env,
            values.iter().enumerate().map(|(i, &x)| Vertex::new(i as u64, x)),
            edges.iter().map(|&(a, b, x)| Edge::new(a, b, x)),
        );
        let (v, e) = graph.summarize().collect().unwrap();
        prop_assert_eq!(v.into_iter().map(|v| (v.id, v.value)).collect::<Vec<_>>(), want_v.into_iter().collect::<Vec<_>>());
        let mut got: Vec<_> = e.into_iter().map(|e| ((e.source, e.target, e.value.0), e.value.1)).collect();
        got.sort();
        prop_assert_eq!(got, want_e.into_iter().collect::<Vec<_>>());
    }
}

#[test]
fn community_detection_rejects_a_negative_delta() {
    let g = generator::path(3).csr().unwrap();
    let err = CommunityDetection::new().delta(-1.0).run(&g).unwrap_err();
    assert!(err.to_string().contains("delta"), "{err}");
}
