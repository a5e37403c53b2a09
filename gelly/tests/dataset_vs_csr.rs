//! The DataSet path ([`eddy_gelly::library`], LDBC algorithms on the iteration models) against
//! (1) the LDBC Graphalytics reference outputs of every small graph in `../shared/graphalytics`
//! (exact for BFS and CDLP, same partition for WCC, 1e-4 relative for PR and SSSP), and
//! (2) the CSR path on small random graphs, directed and undirected, with isolated vertices,
//! self-loops and duplicate edges (exact for BFS, CDLP, WCC; 1e-9 relative for PR and SSSP).

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use eddy_dataset::ExecutionEnvironment;
use eddy_gelly::{library, Bfs, Cdlp, Csr, Edge, Graph, PageRank, Sssp, Triangles, Vertex, Wcc};
use proptest::prelude::*;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/graphalytics");

fn env() -> ExecutionEnvironment {
    let env = ExecutionEnvironment::new();
    env.set_parallelism(2);
    env
}

fn sorted<V>(mut pairs: Vec<(u64, V)>) -> Vec<(u64, V)> {
    pairs.sort_by_key(|p| p.0);
    pairs
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    if a.is_infinite() || b.is_infinite() {
        return a == b;
    }
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(1e-300)
}

/// `graph.<name>.<key>` values of a `.properties` file.
fn properties(name: &str) -> HashMap<String, String> {
    let text = fs::read_to_string(Path::new(DATA).join(format!("{name}.properties"))).unwrap();
    let prefix = format!("graph.{name}.");
    text.lines()
        .filter_map(|l| l.split_once('='))
        .filter_map(|(k, v)| {
            Some((
                k.trim().strip_prefix(&prefix)?.to_owned(),
                v.trim().to_owned(),
            ))
        })
        .collect()
}

fn reference(path: &Path) -> Vec<(u64, String)> {
    sorted(
        fs::read_to_string(path)
            .unwrap()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let (v, x) = l.trim().split_once(' ').unwrap();
                (v.parse().unwrap(), x.trim().to_owned())
            })
            .collect(),
    )
}

/// Both partitions group the same vertices together.
fn same_partition(a: &[(u64, u64)], b: &[(u64, u64)]) -> bool {
    let (mut ab, mut ba) = (HashMap::new(), HashMap::new());
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            x.0 == y.0
                && *ab.entry(x.1).or_insert(y.1) == y.1
                && *ba.entry(y.1).or_insert(x.1) == x.1
        })
}

#[test]
fn dataset_path_matches_graphalytics_reference_outputs() {
    let mut checked = 0;
    let mut names: Vec<String> = fs::read_dir(DATA)
        .unwrap()
        .filter_map(|e| {
            let p: PathBuf = e.unwrap().path();
            (p.extension()? == "properties")
                .then(|| p.file_stem().unwrap().to_str().unwrap().to_owned())
        })
        .collect();
    names.sort();
    for name in names {
        let props = properties(&name);
        let directed = props["directed"] == "true";
        let weighted = props.contains_key("edge-properties.names");
        let env = env();
        let graph = Graph::from_ldbc(
            &env,
            // By name: one properties file names the wrong edge file.
            Path::new(DATA).join(format!("{name}.v")),
            Path::new(DATA).join(format!("{name}.e")),
            weighted,
        );
        for algorithm in props["algorithms"]
            .split(',')
            .map(|a| a.trim().to_uppercase())
        {
            let expected = reference(&Path::new(DATA).join(format!("{name}-{algorithm}")));
            let what = format!("{name} {algorithm}");
            match algorithm.as_str() {
                "BFS" => {
                    let source = props["bfs.source-vertex"].parse().unwrap();
                    let got = sorted(
                        library::Bfs::new(source)
                            .directed(directed)
                            .run(&graph)
                            .collect()
                            .unwrap(),
                    );
                    let want: Vec<(u64, i64)> = expected
                        .iter()
                        .map(|(v, x)| (*v, x.parse().unwrap()))
                        .collect();
                    assert_eq!(got, want, "{what}");
                }
                "CDLP" => {
                    let iterations = props["cdlp.max-iterations"].parse().unwrap();
                    let got = sorted(
                        library::Cdlp::new()
                            .iterations(iterations)
                            .directed(directed)
                            .run(&graph)
                            .collect()
                            .unwrap(),
                    );
                    let want: Vec<(u64, u64)> = expected
                        .iter()
                        .map(|(v, x)| (*v, x.parse().unwrap()))
                        .collect();
                    assert_eq!(got, want, "{what}");
                }
                "WCC" => {
                    let got = sorted(library::Wcc::new().run(&graph).collect().unwrap());
                    let want: Vec<(u64, u64)> = expected
                        .iter()
                        .map(|(v, x)| (*v, x.parse().unwrap()))
                        .collect();
                    assert!(same_partition(&got, &want), "{what}: {got:?} vs {want:?}");
                }
                "PR" => {
                    let got = sorted(
                        library::PageRank::new()
                            .damping_factor(props["pr.damping-factor"].parse().unwrap())
                            .iterations(props["pr.num-iterations"].parse().unwrap())
                            .directed(directed)
                            .run(&graph)
                            .collect()
                            .unwrap(),
                    );
                    assert_eq!(got.len(), expected.len(), "{what}");
                    for ((v, x), (w, y)) in got.iter().zip(&expected) {
                        assert_eq!(v, w, "{what}");
                        assert!(
                            close(*x, y.parse().unwrap(), 1e-4),
                            "{what}: vertex {v}: {x} vs {y}"
                        );
                    }
                }
                "SSSP" => {
                    let source = props["sssp.source-vertex"].parse().unwrap();
                    let got = sorted(
                        library::Sssp::new(source)
                            .directed(directed)
                            .run(&graph)
                            .collect()
                            .unwrap(),
                    );
                    assert_eq!(got.len(), expected.len(), "{what}");
                    for ((v, x), (w, y)) in got.iter().zip(&expected) {
                        assert_eq!(v, w, "{what}");
                        assert!(
                            close(*x, y.parse().unwrap(), 1e-4),
                            "{what}: vertex {v}: {x} vs {y}"
                        );
                    }
                }
                _ => continue, // LCC runs on the CSR path only.
            }
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} reference outputs checked");
}

/// A small random graph: vertex ids spaced by 3, edges with weights, some self-loops and
/// duplicates, some isolated vertices.
fn small_graph() -> impl Strategy<Value = (bool, Vec<u64>, Vec<(u64, u64, f64)>)> {
    (any::<bool>(), 1usize..9).prop_flat_map(|(directed, n)| {
        let ids: Vec<u64> = (0..n as u64).map(|i| i * 3 + 1).collect();
        let edge = (0..n, 0..n, prop::sample::select(vec![0.5, 1.0, 2.0, 3.5]));
        let edges = prop::collection::vec(edge, 0..20).prop_map({
            let ids = ids.clone();
            move |es| {
                es.into_iter()
                    .map(|(a, b, w)| (ids[a], ids[b], w))
                    .collect::<Vec<_>>()
            }
        });
        (Just(directed), Just(ids), edges)
    })
}

/// The CSR path's per-vertex results, as `(id, value)` in id order.
fn csr_results<V: Copy>(csr: &Csr, values: Vec<V>) -> Vec<(u64, V)> {
    sorted(
        (0..csr.num_vertices() as u32)
            .map(|i| (csr.vertex_id(i), values[i as usize]))
            .collect(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn dataset_path_agrees_with_csr_path((directed, ids, edges) in small_graph()) {
        let csr = Csr::builder(directed).vertices(ids.clone()).weighted_edges(edges.clone()).build().unwrap();
        let env = env();
        let graph = Graph::from_collection(
            &env,
            ids.iter().map(|&id| Vertex::new(id, ())),
            edges.iter().map(|&(s, t, w)| Edge::new(s, t, w)),
        );
        let source = ids[ids.len() / 2];

        let want = csr_results(&csr, PageRank::new().iterations(4).threads(1).run(&csr).unwrap());
        let got = sorted(library::PageRank::new().iterations(4).directed(directed).run(&graph).collect().unwrap());
        prop_assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            prop_assert!(g.0 == w.0 && close(g.1, w.1, 1e-9), "PR {:?} vs {:?}", g, w);
        }

        let want = csr_results(&csr, Cdlp::new().iterations(3).threads(1).run(&csr).unwrap());
        let got = sorted(library::Cdlp::new().iterations(3).directed(directed).run(&graph).collect().unwrap());
        prop_assert_eq!(got, want, "CDLP");

        let want = csr_results(&csr, Wcc::new().threads(1).run(&csr).unwrap());
        let got = sorted(library::Wcc::new().run(&graph).collect().unwrap());
        prop_assert_eq!(got, want, "WCC");

        let want = csr_results(&csr, Bfs::new(source).threads(1).run(&csr).unwrap());
        let got = sorted(library::Bfs::new(source).directed(directed).run(&graph).collect().unwrap());
        prop_assert_eq!(got, want, "BFS");

        let want = csr_results(&csr, Sssp::new(source).threads(1).run(&csr).unwrap());
        let got = sorted(library::Sssp::new(source).directed(directed).run(&graph).collect().unwrap());
        prop_assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            prop_assert!(g.0 == w.0 && close(g.1, w.1, 1e-9), "SSSP {:?} vs {:?}", g, w);
        }

        let want = Triangles::new().threads(1).run(&csr).unwrap();
        let mut got = library::TriangleListing::new().run(&graph).collect().unwrap();
        got.sort();
        prop_assert_eq!(got, want, "triangles");
    }
}
