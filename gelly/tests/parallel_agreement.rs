//! Compares every algorithm at 1 and 2 threads (results identical to the bit) and with
//! vertices in id order and in degree order (identical up to float rounding), on Kronecker
//! graphs large enough to span many parallel blocks, directed and undirected.

use eddy_gelly::{
    Bfs, Cdlp, Csr, GellyLabelPropagation, Kronecker, Lcc, PageRank, Sssp, VertexOrder, Wcc,
};

/// Results of every algorithm, by vertex id order.
#[derive(Debug, PartialEq)]
struct All {
    pr: Vec<f64>,
    cdlp: Vec<u64>,
    gelly_lp: Vec<u64>,
    wcc: Vec<u64>,
    bfs: Vec<i64>,
    sssp: Vec<f64>,
    lcc: Vec<f64>,
}

fn run_all(g: &Csr, source: u64, threads: usize) -> All {
    let by_id =
        |values: Vec<f64>| -> Vec<f64> { g.vertices_by_id().map(|v| values[v as usize]).collect() };
    let by_id_u =
        |values: Vec<u64>| -> Vec<u64> { g.vertices_by_id().map(|v| values[v as usize]).collect() };
    All {
        pr: by_id(
            PageRank::new()
                .iterations(10)
                .threads(threads)
                .run(g)
                .unwrap(),
        ),
        cdlp: by_id_u(Cdlp::new().iterations(5).threads(threads).run(g).unwrap()),
        gelly_lp: by_id_u(
            GellyLabelPropagation::new()
                .threads(threads)
                .run(g)
                .unwrap(),
        ),
        wcc: by_id_u(Wcc::new().threads(threads).run(g).unwrap()),
        bfs: {
            let d = Bfs::new(source).threads(threads).run(g).unwrap();
            g.vertices_by_id().map(|v| d[v as usize]).collect()
        },
        sssp: by_id(Sssp::new(source).threads(threads).run(g).unwrap()),
        lcc: by_id(Lcc::new().threads(threads).run(g).unwrap()),
    }
}

fn close(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x == y || (x - y).abs() <= 1e-12 * x.abs())
}

#[test]
fn threads_and_vertex_orders_agree() {
    let generator = Kronecker::new(13).edge_factor(16).seed(3);
    let edges = generator.edges().unwrap();
    // Deterministic weights from the endpoints.
    let weighted: Vec<(u64, u64, f64)> = edges
        .iter()
        .map(|&(s, d)| (s, d, ((s * 31 + d * 17) % 97) as f64 / 8.0))
        .collect();
    // The search source: the most frequent edge source, so that searches go far.
    let mut counts = std::collections::HashMap::new();
    for &(s, _) in &edges {
        *counts.entry(s).or_insert(0usize) += 1;
    }
    let source = counts
        .into_iter()
        .max_by_key(|&(v, c)| (c, std::cmp::Reverse(v)))
        .unwrap()
        .0;
    for directed in [false, true] {
        let mut by_order = Vec::new();
        for order in [VertexOrder::Id, VertexOrder::Degree] {
            let g = Csr::builder(directed)
                .vertices(0..generator.num_vertices())
                .weighted_edges(weighted.iter().copied())
                .order(order)
                .build()
                .unwrap();
            let one = run_all(&g, source, 1);
            let two = run_all(&g, source, 2);
            assert!(
                one == two,
                "directed={directed} order={order:?}: 1 and 2 threads differ"
            );
            by_order.push(one);
        }
        let (a, b) = (&by_order[0], &by_order[1]);
        assert!(
            a.cdlp == b.cdlp,
            "directed={directed}: CDLP differs across orders"
        );
        assert!(
            a.gelly_lp == b.gelly_lp,
            "directed={directed}: Gelly LP differs across orders"
        );
        assert!(
            a.wcc == b.wcc && a.bfs == b.bfs,
            "directed={directed}: WCC or BFS differ"
        );
        let reached = a.bfs.iter().filter(|&&d| d != Bfs::UNREACHED).count();
        assert!(reached > 100, "the search reaches only {reached} vertices");
        assert!(
            close(&a.pr, &b.pr),
            "directed={directed}: PageRank differs across orders"
        );
        assert!(
            close(&a.sssp, &b.sssp),
            "directed={directed}: SSSP differs across orders"
        );
        assert!(
            close(&a.lcc, &b.lcc),
            "directed={directed}: LCC differs across orders"
        );
    }
}
