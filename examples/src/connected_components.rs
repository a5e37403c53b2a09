//! Weakly connected components with the DataSet API's delta iteration, shared by the
//! `connected_components` example and the `dataset_cc` benchmark: the job itself, a seeded
//! random graph generated in parallel, an edge-list parser with line-numbered errors, and a
//! union-find reference.

use std::io::BufRead;
use std::path::Path;

use anyhow::{Context, Result};
use eddy_dataset::{DataSet, ExecutionEnvironment};

/// Labels every vertex with the smallest vertex id of its component (edges are undirected).
///
/// Flink's algorithm: the solution set and the first workset hold `(vertex, vertex)`; each
/// superstep sends every changed vertex's label to its neighbours, keeps the smallest label
/// per vertex, and updates (and re-sends) the vertices whose label got smaller.
pub fn components(vertices: &DataSet<u64>, edges: &DataSet<(u64, u64)>) -> DataSet<(u64, u64)> {
    let neighbours = edges
        .flat_map(|(a, b)| [(a, b), (b, a)])
        .name("both directions");
    let initial = vertices.map(|v| (v, v)).name("initial labels");
    initial.iterate_delta(
        &initial,
        u32::MAX,
        |v: &(u64, u64)| v.0,
        |iteration| {
            let candidates = iteration
                .workset()
                .join(&neighbours)
                .where_key(|v: &(u64, u64)| v.0)
                .equal_to(|e: &(u64, u64)| e.0)
                .with(|v: (u64, u64), e: (u64, u64)| (e.1, v.1))
                .name("send labels")
                .group_by(|c| c.0)
                .min(|c: &mut (u64, u64)| &mut c.1)
                .name("smallest label");
            let changes = iteration
                .solution_set()
                .lookup(
                    &candidates,
                    |c: &(u64, u64)| c.0,
                    |c, old: Option<&(u64, u64)>| old.filter(|o| c.1 < o.1).map(|_| c),
                )
                .name("label changes");
            (changes.clone(), changes)
        },
    )
}

/// SplitMix64: a seeded, well-mixed function of an index.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// `edges` random edges between vertices `0..vertices`, generated in parallel from `seed`.
pub fn random_edges(
    env: &ExecutionEnvironment,
    vertices: u64,
    edges: u64,
    seed: u64,
) -> DataSet<(u64, u64)> {
    let n = vertices.max(1);
    env.generate_sequence(0, edges.saturating_sub(1))
        .filter(move |_| edges > 0)
        .map(move |i| {
            let h = mix(seed ^ mix(i));
            (h % n, mix(h) % n)
        })
        .name("random edges")
}

/// Flink's `DataSetCCBench` mix (MurmurHash3's finalizer, made non-negative as a Java long).
fn flink_mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x & (i64::MAX as u64)
}

/// The graph of `../shared/peers/flink/java120/DataSetCCBench.java`: undirected edge `e` of
/// `0..edges` is `(mix(2e) % vertices, mix(2e + 1) % vertices)`, generated in parallel.
pub fn flink_edges(env: &ExecutionEnvironment, vertices: u64, edges: u64) -> DataSet<(u64, u64)> {
    let n = vertices.max(1);
    env.generate_sequence(0, edges.saturating_sub(1))
        .filter(move |_| edges > 0)
        .map(move |e| (flink_mix(2 * e) % n, flink_mix(2 * e + 1) % n))
        .name("random edges (Flink's generator)")
}

/// Reads `src dst` pairs (whitespace separated; blank lines and `#` comments skipped).
///
/// # Errors
/// One line naming the file, the line and the field at fault.
pub fn read_edge_list(path: &Path) -> Result<Vec<(u64, u64)>> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut edges = Vec::new();
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let at = || format!("{}:{}", path.display(), n + 1);
        let line = line.with_context(|| format!("{}: cannot read the line", at()))?;
        let text = line.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        let mut fields = text.split_whitespace();
        let mut vertex = |what: &str| -> Result<u64> {
            let field = fields
                .next()
                .with_context(|| format!("{}: missing {what} vertex", at()))?;
            field.parse().with_context(|| {
                format!(
                    "{}: {what} vertex '{field}' is not a non-negative integer",
                    at()
                )
            })
        };
        edges.push((vertex("source")?, vertex("target")?));
    }
    Ok(edges)
}

/// The reference: union-find over `edges` (vertices are the edges' endpoints), each labelled
/// with its component's smallest vertex, sorted by vertex.
pub fn union_find(edges: &[(u64, u64)]) -> Vec<(u64, u64)> {
    let mut ids: Vec<u64> = edges.iter().flat_map(|&(a, b)| [a, b]).collect();
    ids.sort_unstable();
    ids.dedup();
    let index = |v: u64| ids.binary_search(&v).unwrap_or(0);
    let mut parent: Vec<usize> = (0..ids.len()).collect();
    fn root(parent: &mut [usize], mut v: usize) -> usize {
        while parent[v] != v {
            parent[v] = parent[parent[v]];
            v = parent[v];
        }
        v
    }
    for &(a, b) in edges {
        let (ra, rb) = (root(&mut parent, index(a)), root(&mut parent, index(b)));
        // The smaller index is the smaller vertex id: it becomes the root.
        parent[ra.max(rb)] = ra.min(rb);
    }
    (0..ids.len())
        .map(|i| (ids[i], ids[root(&mut parent, i)]))
        .collect()
}
