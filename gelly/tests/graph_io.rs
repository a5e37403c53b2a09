//! Making graphs from files and petgraph, and the iteration models' options (aggregators,
//! broadcast sets, directions), on small hand-checked cases; bad input names file and line.

use std::fs;

use eddy_dataset::{CsvOptions, ExecutionEnvironment};
use eddy_gelly::iteration::Config;
use eddy_gelly::{Edge, EdgeDirection, Error, Graph, Vertex};

fn env() -> ExecutionEnvironment {
    let env = ExecutionEnvironment::new();
    env.set_parallelism(2);
    env
}

#[test]
fn csv_files_make_a_graph() {
    let dir = tempfile::tempdir().unwrap();
    let (v, e) = (dir.path().join("v.csv"), dir.path().join("e.csv"));
    fs::write(&v, "id,name\n1,ann\n2,bob\n").unwrap();
    fs::write(&e, "src,dst,w\n1,2,0.5\n2,1,1.5\n").unwrap();
    let graph = Graph::<u64, String, f64>::from_csv(&env(), &v, &e, CsvOptions::default());
    let (vertices, edges) = graph.collect().unwrap();
    assert_eq!(
        vertices,
        vec![
            Vertex::new(1, "ann".to_string()),
            Vertex::new(2, "bob".to_string())
        ]
    );
    assert_eq!(edges, vec![Edge::new(1, 2, 0.5), Edge::new(2, 1, 1.5)]);
}

#[test]
fn a_malformed_ldbc_line_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let (v, e) = (dir.path().join("g.v"), dir.path().join("g.e"));
    fs::write(&v, "1\n2\n").unwrap();
    fs::write(&e, "1 2\n2 x\n").unwrap();
    let graph = Graph::from_ldbc(&env(), &v, &e, false);
    let message = graph.number_of_edges().unwrap_err().to_string();
    assert!(
        message.contains("g.e") && message.contains('2'),
        "{message}"
    );
    let missing = Graph::from_ldbc(&env(), dir.path().join("none.v"), &e, false);
    assert!(matches!(missing.number_of_vertices(), Err(Error::Job(_))));
}

#[test]
fn an_edge_to_an_unknown_vertex_fails_validation_and_petgraph_conversion() {
    let dir = tempfile::tempdir().unwrap();
    let (v, e) = (dir.path().join("g.v"), dir.path().join("g.e"));
    fs::write(&v, "1\n2\n").unwrap();
    fs::write(&e, "1 2 0.5\n2 3 1.0\n").unwrap();
    let graph = Graph::from_ldbc(&env(), &v, &e, true);
    assert!(!graph.validate().unwrap());
    assert!(matches!(graph.to_petgraph(), Err(Error::InvalidGraph(_))));
}

#[test]
fn petgraph_round_trip_keeps_nodes_edges_and_weights() {
    let mut pg = petgraph::Graph::<u32, f64>::new();
    let n: Vec<_> = (0..4).map(|i| pg.add_node(i * 10)).collect();
    pg.add_edge(n[0], n[1], 1.0);
    pg.add_edge(n[1], n[2], 2.0);
    pg.add_edge(n[3], n[3], 3.0);
    let graph = Graph::from_petgraph(&env(), &pg);
    let back = graph.to_petgraph().unwrap();
    assert_eq!(
        back.node_weights().copied().collect::<Vec<_>>(),
        vec![0, 10, 20, 30]
    );
    let edges: Vec<_> = back
        .edge_indices()
        .map(|e| {
            let (s, t) = back.edge_endpoints(e).unwrap();
            (s.index(), t.index(), back[e])
        })
        .collect();
    assert_eq!(edges, vec![(0, 1, 1.0), (1, 2, 2.0), (3, 3, 3.0)]);
}

/// A path 1 -> 2 -> 3 -> 4.
fn path(env: &ExecutionEnvironment) -> Graph<u64, u64, ()> {
    let edges = (1..4).map(|i| Edge::new(i, i + 1, ()));
    Graph::from_edge_collection(env, edges, |_| 0)
}

#[test]
fn vertex_centric_directions_send_along_the_right_edges() {
    let env = env();
    // Vertex 1 (Out) or 4 (In) floods a hop count; All reaches both ways from 2.
    for (direction, start, want) in [
        (EdgeDirection::Out, 1, vec![1, 2, 3, 4]),
        (EdgeDirection::In, 4, vec![4, 3, 2, 1]),
        (EdgeDirection::All, 2, vec![2, 1, 2, 3]),
    ] {
        let config = Config::new(10).direction(direction);
        let result = path(&env).run_vertex_centric(&config, move |v, hops: Vec<u64>, ctx| {
            let best = hops.into_iter().min();
            match (ctx.superstep(), best) {
                (1, _) if v.id == start => v.value = 1,
                (_, Some(h)) if v.value == 0 || h < v.value => v.value = h,
                _ => return,
            }
            ctx.send_message_to_all_neighbors(v.value + 1);
        });
        let values: Vec<u64> = result
            .collect()
            .unwrap()
            .0
            .iter()
            .map(|v| v.value)
            .collect();
        assert_eq!(values, want, "{direction:?}");
    }
}

#[test]
fn aggregator_and_broadcast_set_reach_every_vertex() {
    let env = env();
    let offset = env.from_collection(vec![1000u64]);
    let config = Config::new(3)
        .all_active(true)
        .aggregator(|a: u64, b: u64| a + b)
        .broadcast_set(&offset);
    // Each superstep every vertex adds 1 to the aggregate; a vertex's value becomes the
    // previous superstep's count plus the broadcast offset.
    let result = path(&env).run_vertex_centric(&config, |v, _: Vec<()>, ctx| {
        ctx.aggregate(1);
        let offset: u64 = ctx.broadcast_set().copied().sum();
        v.value += ctx.previous_aggregate().copied().unwrap_or(0) + offset;
    });
    let values: Vec<u64> = result
        .collect()
        .unwrap()
        .0
        .iter()
        .map(|v| v.value)
        .collect();
    // Supersteps add 1000, 1004, 1004.
    assert_eq!(values, vec![3008; 4]);
}

#[test]
fn scatter_gather_and_gsa_stop_when_nothing_changes() {
    let env = env();
    // Gather-sum-apply with direction In gathers from in-neighbours: the smallest id flows forward.
    let graph = path(&env).map_vertices(|v| v.id);
    let result = graph.run_gather_sum_apply(
        &Config::new(100).direction(EdgeDirection::In),
        |x: &u64, _| *x,
        |a: u64, b: u64| a.min(b),
        |least, v| (least < v.value).then_some(least),
    );
    let values: Vec<u64> = result
        .collect()
        .unwrap()
        .0
        .iter()
        .map(|v| v.value)
        .collect();
    assert_eq!(values, vec![1, 1, 1, 1]);
    // With direction Out, a vertex gathers from out-neighbours: nothing is smaller.
    let result = graph.run_gather_sum_apply(
        &Config::new(100),
        |x: &u64, _| *x,
        |a: u64, b: u64| a.min(b),
        |least, v| (least < v.value).then_some(least),
    );
    let values: Vec<u64> = result
        .collect()
        .unwrap()
        .0
        .iter()
        .map(|v| v.value)
        .collect();
    assert_eq!(values, vec![1, 2, 3, 4]);
    // Scatter-gather with one iteration moves labels one hop.
    let result = graph.run_scatter_gather(
        &Config::new(1),
        |v, ctx| ctx.send_message_to_all_neighbors(v.value),
        |v, labels: Vec<u64>, _| labels.into_iter().min().filter(|&l| l < v.value),
    );
    let values: Vec<u64> = result
        .collect()
        .unwrap()
        .0
        .iter()
        .map(|v| v.value)
        .collect();
    assert_eq!(values, vec![1, 1, 2, 3]);
}

#[test]
fn a_graph_converts_to_a_csr_with_the_same_results() {
    let dir = tempfile::tempdir().unwrap();
    let (v, e) = (dir.path().join("g.v"), dir.path().join("g.e"));
    fs::write(&v, "1\n2\n3\n9\n").unwrap();
    fs::write(&e, "1 2 0.5\n2 3 2.0\n1 3 4.0\n").unwrap();
    let graph = Graph::from_ldbc(&env(), &v, &e, true);
    let csr = graph.to_weighted_csr(true, |w| *w).unwrap();
    assert_eq!(csr.num_vertices(), 4);
    let csr_sssp = eddy_gelly::Sssp::new(1).run(&csr).unwrap();
    let mut dataset_sssp = eddy_gelly::library::Sssp::new(1)
        .run(&graph)
        .collect()
        .unwrap();
    dataset_sssp.sort_by_key(|p| p.0);
    assert_eq!(
        dataset_sssp.iter().map(|p| p.1).collect::<Vec<_>>(),
        csr_sssp
    );
    assert_eq!(csr_sssp, vec![0.0, 0.5, 2.5, f64::INFINITY]);
    let broken = Graph::from_edge_collection(&env(), vec![Edge::new(1u64, 2u64, ())], |_| ())
        .filter_on_vertices(|v| v.id == 1);
    assert!(broken.to_csr(true).is_ok(), "filtering drops the edge too");
    let unknown = Graph::from_collection(
        &env(),
        vec![Vertex::new(1u64, ())],
        vec![Edge::new(1, 5, ())],
    );
    assert!(matches!(
        unknown.to_csr(true),
        Err(Error::NotAVertex { vertex: 5 })
    ));
}
