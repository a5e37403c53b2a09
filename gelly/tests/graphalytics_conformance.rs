//! Compares every algorithm's output on every LDBC Graphalytics validation graph in
//! `../shared/graphalytics` with the reference output, by the Graphalytics validation rules
//! (exact for BFS and CDLP, same partition for WCC, 1e-4 relative for PR, SSSP and LCC), at one
//! and two threads, with vertices in id order and in degree order.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use eddy_gelly::{Bfs, Cdlp, Csr, Lcc, LoadOptions, PageRank, Sssp, VertexOrder, Wcc};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/graphalytics");

/// One graph's `.properties`, with the `graph.<name>.` prefix removed from keys.
struct Properties {
    name: String,
    values: HashMap<String, String>,
}

impl Properties {
    fn read(path: &Path) -> Properties {
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        let prefix = format!("graph.{name}.");
        let text = fs::read_to_string(path).unwrap();
        let values = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .filter_map(|l| l.split_once('='))
            .filter_map(|(k, v)| {
                Some((
                    k.trim().strip_prefix(&prefix)?.to_owned(),
                    v.trim().to_owned(),
                ))
            })
            .collect();
        Properties { name, values }
    }

    fn get(&self, key: &str) -> &str {
        self.values
            .get(key)
            .unwrap_or_else(|| panic!("{}: no property {key}", self.name))
    }

    fn algorithms(&self) -> Vec<String> {
        self.get("algorithms")
            .split(',')
            .map(|a| a.trim().to_uppercase())
            .collect()
    }
}

fn file(name: &str) -> PathBuf {
    Path::new(DATA).join(name)
}

/// The expected `vertex value` pairs of a reference output file.
fn expected(path: &Path) -> Vec<(u64, String)> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let (v, value) = l.trim().split_once(' ').unwrap();
            (v.parse().unwrap(), value.trim().to_owned())
        })
        .collect()
}

fn parse_float(s: &str) -> f64 {
    // `infinity` in any case; Rust's parser accepts it case-insensitively.
    s.parse().unwrap_or_else(|_| panic!("not a number: {s}"))
}

fn check_close(what: &str, v: u64, expected: f64, actual: f64) {
    if expected.is_infinite() {
        assert_eq!(actual, expected, "{what}: vertex {v}");
    } else {
        assert!(
            (expected - actual).abs() <= 1e-4 * expected.abs(),
            "{what}: vertex {v}: expected {expected}, got {actual}"
        );
    }
}

/// Runs one algorithm on one graph and checks it against the reference, at `threads`.
fn check(props: &Properties, algorithm: &str, threads: usize, order: VertexOrder) {
    let name = &props.name;
    let directed = props.get("directed") == "true";
    let weighted = algorithm == "SSSP";
    let options = LoadOptions::new(directed)
        .weighted(weighted)
        .threads(threads)
        .order(order);
    let graph = Csr::load_ldbc(
        file(&format!("{name}.v")),
        file(&format!("{name}.e")),
        &options,
    )
    .unwrap_or_else(|e| panic!("{name}: {e}"));
    let expected = expected(&file(&format!("{name}-{algorithm}")));
    assert_eq!(
        expected.len(),
        graph.num_vertices(),
        "{name}-{algorithm}: one line per vertex"
    );
    let what = format!("{name}-{algorithm} at {threads} threads, {order:?} order");
    let index = |v: u64| graph.index_of(v).unwrap() as usize;
    match algorithm {
        "BFS" => {
            let source = props.get("bfs.source-vertex").parse().unwrap();
            let actual = Bfs::new(source).threads(threads).run(&graph).unwrap();
            for (v, value) in &expected {
                assert_eq!(
                    actual[index(*v)],
                    value.parse::<i64>().unwrap(),
                    "{what}: vertex {v}"
                );
            }
        }
        "CDLP" => {
            let iterations = props.get("cdlp.max-iterations").parse().unwrap();
            let actual = Cdlp::new()
                .iterations(iterations)
                .threads(threads)
                .run(&graph)
                .unwrap();
            for (v, value) in &expected {
                assert_eq!(
                    actual[index(*v)],
                    value.parse::<u64>().unwrap(),
                    "{what}: vertex {v}"
                );
            }
        }
        "WCC" => {
            let actual = Wcc::new().threads(threads).run(&graph).unwrap();
            // Same partition: the label maps in both directions are functions.
            let mut forward = HashMap::new();
            let mut backward = HashMap::new();
            for (v, value) in &expected {
                let (e, a) = (value.parse::<u64>().unwrap(), actual[index(*v)]);
                assert_eq!(*forward.entry(e).or_insert(a), a, "{what}: vertex {v}");
                assert_eq!(*backward.entry(a).or_insert(e), e, "{what}: vertex {v}");
            }
        }
        "PR" => {
            let actual = PageRank::new()
                .damping_factor(props.get("pr.damping-factor").parse().unwrap())
                .iterations(props.get("pr.num-iterations").parse().unwrap())
                .threads(threads)
                .run(&graph)
                .unwrap();
            for (v, value) in &expected {
                check_close(&what, *v, parse_float(value), actual[index(*v)]);
            }
        }
        "SSSP" => {
            let source = props.get("sssp.source-vertex").parse().unwrap();
            let actual = Sssp::new(source).threads(threads).run(&graph).unwrap();
            for (v, value) in &expected {
                check_close(&what, *v, parse_float(value), actual[index(*v)]);
            }
        }
        "LCC" => {
            let actual = Lcc::new().threads(threads).run(&graph).unwrap();
            for (v, value) in &expected {
                check_close(&what, *v, parse_float(value), actual[index(*v)]);
            }
        }
        other => panic!("{name}: unknown algorithm {other}"),
    }
}

#[test]
fn every_reference_output_passes() {
    let mut properties: Vec<PathBuf> = fs::read_dir(DATA)
        .unwrap_or_else(|e| panic!("{DATA}: {e}"))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "properties"))
        .collect();
    properties.sort();
    assert!(!properties.is_empty(), "no .properties files in {DATA}");
    let mut checked = Vec::new();
    for path in &properties {
        let props = Properties::read(path);
        for algorithm in props.algorithms() {
            for threads in [1, 2] {
                for order in [VertexOrder::Id, VertexOrder::Degree] {
                    check(&props, &algorithm, threads, order);
                }
            }
            checked.push(format!("{}-{algorithm}", props.name));
        }
    }
    // Every reference output file in the directory was checked.
    let mut outputs: Vec<String> = fs::read_dir(DATA)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|f| {
            ["-BFS", "-CDLP", "-WCC", "-PR", "-SSSP", "-LCC"]
                .iter()
                .any(|s| f.ends_with(s))
        })
        .collect();
    outputs.sort();
    checked.sort();
    assert_eq!(checked, outputs);
}
