//! Compares every algorithm on the CSR (at 1 and 2 threads) with a small, obviously correct
//! sequential reference written from the LDBC Graphalytics definitions, on random directed
//! and undirected graphs with isolated vertices, self-loops and duplicate edges; also the LDBC
//! file loader and the petgraph conversion against the in-memory builder.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use eddy_gelly::{
    Bfs, Cdlp, Csr, GellyLabelPropagation, Lcc, LoadOptions, PageRank, Sssp, VertexOrder, Wcc,
};
use proptest::prelude::*;

/// A random graph as the user gives it: raw edges, possibly repeated, possibly loops.
#[derive(Debug, Clone)]
struct Input {
    directed: bool,
    order: VertexOrder,
    ids: Vec<u64>,
    edges: Vec<(u64, u64, f64)>,
}

fn input() -> impl Strategy<Value = Input> {
    let order = prop_oneof![Just(VertexOrder::Id), Just(VertexOrder::Degree)];
    (
        any::<bool>(),
        order,
        prop::collection::btree_set(0u64..60, 1..14),
    )
        .prop_flat_map(|(directed, order, ids)| {
            let ids: Vec<u64> = ids.into_iter().collect();
            let n = ids.len();
            // Weights: quarter steps (exact sums, many ties) or arbitrary doubles.
            let weight = prop_oneof![(0u32..12).prop_map(|q| f64::from(q) / 4.0), 0.0f64..10.0];
            prop::collection::vec((0..n, 0..n, weight), 0..40).prop_map(move |edges| Input {
                directed,
                order,
                ids: ids.clone(),
                edges: edges
                    .into_iter()
                    .map(|(s, d, w)| (ids[s], ids[d], w))
                    .collect(),
            })
        })
}

impl Input {
    fn csr(&self, weighted: bool) -> Csr {
        let builder = Csr::builder(self.directed)
            .order(self.order)
            .vertices(self.ids.iter().copied());
        let builder = if weighted {
            builder.weighted_edges(self.edges.iter().copied())
        } else {
            builder.edges(self.edges.iter().map(|&(s, d, _)| (s, d)))
        };
        builder.build().unwrap()
    }

    /// The arcs of the simple graph the spec means: no loops, no repeats (smallest weight),
    /// both directions of an undirected edge.
    fn arcs(&self) -> BTreeMap<(u64, u64), f64> {
        let mut arcs = BTreeMap::new();
        for &(s, d, w) in &self.edges {
            if s == d {
                continue;
            }
            let mut add = |a, b| {
                let e = arcs.entry((a, b)).or_insert(w);
                *e = f64::min(*e, w);
            };
            add(s, d);
            if !self.directed {
                add(d, s);
            }
        }
        arcs
    }

    fn out(&self, v: u64) -> Vec<u64> {
        self.arcs()
            .keys()
            .filter(|a| a.0 == v)
            .map(|a| a.1)
            .collect()
    }

    fn inn(&self, v: u64) -> Vec<u64> {
        self.arcs()
            .keys()
            .filter(|a| a.1 == v)
            .map(|a| a.0)
            .collect()
    }
}

fn reference_pagerank(g: &Input, d: f64, iterations: usize) -> BTreeMap<u64, f64> {
    let n = g.ids.len() as f64;
    let mut pr: BTreeMap<u64, f64> = g.ids.iter().map(|&v| (v, 1.0 / n)).collect();
    for _ in 0..iterations {
        let dangling: f64 = g
            .ids
            .iter()
            .filter(|&&w| g.out(w).is_empty())
            .map(|w| pr[w])
            .sum();
        pr = g
            .ids
            .iter()
            .map(|&v| {
                let pulled: f64 = g
                    .inn(v)
                    .iter()
                    .map(|u| pr[u] / g.out(*u).len() as f64)
                    .sum();
                (v, (1.0 - d) / n + d * pulled + d * dangling / n)
            })
            .collect();
    }
    pr
}

fn reference_cdlp(g: &Input, iterations: usize) -> BTreeMap<u64, u64> {
    let mut labels: BTreeMap<u64, u64> = g.ids.iter().map(|&v| (v, v)).collect();
    for _ in 0..iterations {
        labels = g
            .ids
            .iter()
            .map(|&v| {
                let mut counts: BTreeMap<u64, usize> = BTreeMap::new();
                let heard: Vec<u64> = if g.directed {
                    g.inn(v).into_iter().chain(g.out(v)).collect()
                } else {
                    g.out(v)
                };
                for u in heard {
                    *counts.entry(labels[&u]).or_default() += 1;
                }
                let max = counts.values().copied().max();
                // The smallest label among the most frequent (BTreeMap iterates ascending).
                let best = counts
                    .iter()
                    .find(|(_, &c)| Some(c) == max)
                    .map(|(&l, _)| l);
                (v, best.unwrap_or(labels[&v]))
            })
            .collect();
    }
    labels
}

fn reference_gelly_lp(g: &Input, max_iterations: usize) -> BTreeMap<u64, u64> {
    let mut labels: BTreeMap<u64, u64> = g.ids.iter().map(|&v| (v, v)).collect();
    for _ in 0..max_iterations {
        let next: BTreeMap<u64, u64> = g
            .ids
            .iter()
            .map(|&v| {
                // Gelly's UpdateVertexLabel: start from (own label, frequency 1), then any label
                // with a higher count wins, and an equal count goes to the larger label.
                let mut counts: BTreeMap<u64, usize> = BTreeMap::new();
                for u in g.inn(v) {
                    *counts.entry(labels[&u]).or_default() += 1;
                }
                let (mut best, mut best_count) = (labels[&v], 1);
                for (&label, &count) in &counts {
                    if count > best_count || (count == best_count && label > best) {
                        (best, best_count) = (label, count);
                    }
                }
                (v, best)
            })
            .collect();
        let changed = next != labels;
        labels = next;
        if !changed {
            break;
        }
    }
    labels
}

fn reference_wcc(g: &Input) -> BTreeMap<u64, u64> {
    let mut label = BTreeMap::new();
    for &start in &g.ids {
        if label.contains_key(&start) {
            continue;
        }
        // `ids` ascend, so the first unlabelled vertex is its component's smallest.
        let mut queue = VecDeque::from([start]);
        label.insert(start, start);
        while let Some(v) = queue.pop_front() {
            for u in g.out(v).into_iter().chain(g.inn(v)) {
                if let std::collections::btree_map::Entry::Vacant(e) = label.entry(u) {
                    e.insert(start);
                    queue.push_back(u);
                }
            }
        }
    }
    label
}

fn reference_bfs(g: &Input, source: u64) -> BTreeMap<u64, i64> {
    let mut depth: BTreeMap<u64, i64> = g.ids.iter().map(|&v| (v, i64::MAX)).collect();
    depth.insert(source, 0);
    let mut queue = VecDeque::from([source]);
    while let Some(v) = queue.pop_front() {
        for u in g.out(v) {
            if depth[&u] == i64::MAX {
                depth.insert(u, depth[&v] + 1);
                queue.push_back(u);
            }
        }
    }
    depth
}

fn reference_sssp(g: &Input, source: u64) -> BTreeMap<u64, f64> {
    // Bellman-Ford: relax every arc until nothing changes.
    let mut dist: BTreeMap<u64, f64> = g.ids.iter().map(|&v| (v, f64::INFINITY)).collect();
    dist.insert(source, 0.0);
    let arcs = g.arcs();
    loop {
        let mut changed = false;
        for (&(u, v), &w) in &arcs {
            let candidate = dist[&u] + w;
            if candidate < dist[&v] {
                dist.insert(v, candidate);
                changed = true;
            }
        }
        if !changed {
            return dist;
        }
    }
}

fn reference_lcc(g: &Input) -> BTreeMap<u64, f64> {
    let arcs = g.arcs();
    g.ids
        .iter()
        .map(|&v| {
            let neighbours: BTreeSet<u64> = g.out(v).into_iter().chain(g.inn(v)).collect();
            let k = neighbours.len();
            if k < 2 {
                return (v, 0.0);
            }
            let links = arcs
                .keys()
                .filter(|(a, b)| neighbours.contains(a) && neighbours.contains(b))
                .count();
            (v, links as f64 / (k * (k - 1)) as f64)
        })
        .collect()
}

/// Runs `algorithm` at 1 and 2 threads, checks both agree exactly, returns them by vertex id.
fn at_1_and_2_threads<T: PartialEq + std::fmt::Debug>(
    csr: &Csr,
    algorithm: impl Fn(usize) -> Vec<T>,
) -> BTreeMap<u64, T> {
    let one = algorithm(1);
    let two = algorithm(2);
    assert_eq!(one, two, "1 and 2 threads differ");
    csr.vertex_ids().zip(one).collect()
}

fn assert_close(actual: &BTreeMap<u64, f64>, expected: &BTreeMap<u64, f64>) {
    assert_eq!(actual.len(), expected.len());
    for (v, e) in expected {
        let a = actual[v];
        let ok = if e.is_infinite() {
            a == *e
        } else {
            (a - e).abs() <= 1e-12 * e.abs().max(1e-300)
        };
        assert!(ok, "vertex {v}: expected {e}, got {a}");
    }
}

/// The edges as `(id, id, weight)`, an undirected edge with the smaller id first, sorted.
fn by_ids(g: &Csr) -> Vec<(u64, u64, Option<u64>)> {
    let mut edges: Vec<_> = g
        .edges()
        .map(|(s, d, w)| {
            let (s, d) = (g.vertex_id(s), g.vertex_id(d));
            let (s, d) = if g.is_directed() {
                (s, d)
            } else {
                (s.min(d), s.max(d))
            };
            (s, d, w.map(f64::to_bits))
        })
        .collect();
    edges.sort_unstable();
    edges
}

proptest! {
    #[test]
    fn pagerank_matches_reference(g in input(), iterations in 0usize..8, d in 0.0f64..=1.0) {
        let csr = g.csr(false);
        let actual = at_1_and_2_threads(&csr, |t| {
            PageRank::new().damping_factor(d).iterations(iterations).threads(t).run(&csr).unwrap()
        });
        assert_close(&actual, &reference_pagerank(&g, d, iterations));
    }

    #[test]
    fn cdlp_matches_reference(g in input(), iterations in 0usize..6) {
        let csr = g.csr(false);
        let actual = at_1_and_2_threads(&csr, |t| {
            Cdlp::new().iterations(iterations).threads(t).run(&csr).unwrap()
        });
        prop_assert_eq!(actual, reference_cdlp(&g, iterations));
    }

    #[test]
    fn gelly_label_propagation_matches_reference(g in input(), max in 0usize..8) {
        let csr = g.csr(false);
        let actual = at_1_and_2_threads(&csr, |t| {
            GellyLabelPropagation::new().max_iterations(max).threads(t).run(&csr).unwrap()
        });
        prop_assert_eq!(actual, reference_gelly_lp(&g, max));
    }

    #[test]
    fn wcc_matches_reference(g in input()) {
        let csr = g.csr(false);
        let actual = at_1_and_2_threads(&csr, |t| Wcc::new().threads(t).run(&csr).unwrap());
        prop_assert_eq!(actual, reference_wcc(&g));
    }

    #[test]
    fn bfs_matches_reference(g in input(), pick in any::<prop::sample::Index>()) {
        let csr = g.csr(false);
        let source = g.ids[pick.index(g.ids.len())];
        let actual = at_1_and_2_threads(&csr, |t| Bfs::new(source).threads(t).run(&csr).unwrap());
        prop_assert_eq!(actual, reference_bfs(&g, source));
    }

    #[test]
    fn sssp_matches_reference(g in input(), pick in any::<prop::sample::Index>()) {
        let csr = g.csr(true);
        let source = g.ids[pick.index(g.ids.len())];
        let actual = at_1_and_2_threads(&csr, |t| Sssp::new(source).threads(t).run(&csr).unwrap());
        // Every method computes the smallest left-to-right float sum over paths: exact.
        prop_assert_eq!(actual, reference_sssp(&g, source));
    }

    #[test]
    fn lcc_matches_reference(g in input()) {
        let csr = g.csr(false);
        let actual = at_1_and_2_threads(&csr, |t| Lcc::new().threads(t).run(&csr).unwrap());
        assert_close(&actual, &reference_lcc(&g));
    }

    #[test]
    fn loader_matches_builder(g in input(), weighted in any::<bool>()) {
        let dir = tempfile::tempdir().unwrap();
        let (v, e) = (dir.path().join("g.v"), dir.path().join("g.e"));
        let vertices: String = g.ids.iter().map(|id| format!("{id}\n")).collect();
        let edges: String = g.edges.iter().map(|(s, d, w)| format!("{s} {d} {w}\n")).collect();
        std::fs::write(&v, vertices).unwrap();
        std::fs::write(&e, edges).unwrap();
        let options = LoadOptions::new(g.directed).weighted(weighted).threads(2).order(g.order);
        let loaded = Csr::load_ldbc(&v, &e, &options).unwrap();
        let built = g.csr(weighted);
        // Dense indices may differ (degree order counts repeated lines), ids may not.
        prop_assert_eq!(loaded.vertex_order(), built.vertex_order());
        let sorted_ids = |g: &Csr| -> Vec<u64> { g.vertices_by_id().map(|v| g.vertex_id(v)).collect() };
        prop_assert_eq!(sorted_ids(&loaded), sorted_ids(&built));
        prop_assert_eq!(by_ids(&loaded), by_ids(&built));
        // The CSR holds exactly the spec's simple graph.
        let arcs: Vec<(u64, u64)> = g.arcs().into_keys().collect();
        let mut stored: Vec<(u64, u64)> = Vec::new();
        for v in 0..built.num_vertices() as u32 {
            for &u in built.out_neighbors(v) {
                stored.push((built.vertex_id(v), built.vertex_id(u)));
            }
        }
        stored.sort_unstable();
        prop_assert_eq!(stored, arcs);
        // Dense indices in id order really are in id order.
        let by_id: Vec<u64> = built.vertices_by_id().map(|v| built.vertex_id(v)).collect();
        prop_assert_eq!(by_id, g.ids.clone());
    }

    #[test]
    fn petgraph_round_trips(g in input(), weighted in any::<bool>()) {
        let csr = g.csr(weighted);
        let back = if g.directed {
            let p: petgraph::Graph<u64, Option<f64>, petgraph::Directed> = csr.to_petgraph().unwrap();
            Csr::from_petgraph(&p, |w| *w).unwrap()
        } else {
            let p: petgraph::Graph<u64, Option<f64>, petgraph::Undirected> = csr.to_petgraph().unwrap();
            Csr::from_petgraph(&p, |w| *w).unwrap()
        };
        // Without edges, petgraph cannot say whether the graph was weighted.
        prop_assert_eq!(back.is_weighted(), weighted && csr.num_edges() > 0);
        prop_assert_eq!(back.vertex_ids().collect::<Vec<_>>(), g.ids.clone());
        prop_assert_eq!(by_ids(&back), by_ids(&csr));
    }
}
