//! The `gelly_graph` binary (Gelly's DataSet path): BFS and SSSP on the LDBC example graph
//! give the reference outputs line for line; a missing source, a malformed line and an edge
//! to an unknown vertex are one line on stderr and exit code 2.

use std::path::Path;
use std::process::Command;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/graphalytics");

fn run(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_gelly_graph"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn bfs_and_sssp_match_the_reference_outputs() {
    let v = Path::new(DATA).join("example-directed.v");
    let e = Path::new(DATA).join("example-directed.e");
    for (algorithm, reference) in [
        ("bfs", "example-directed-BFS"),
        ("sssp", "example-directed-SSSP"),
    ] {
        let out = run(&[
            "--algorithm",
            algorithm,
            "--vertices",
            v.to_str().unwrap(),
            "--edges",
            e.to_str().unwrap(),
            "--directed",
            "--weighted",
            "--source-vertex",
            "1",
            "--parallelism",
            "2",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let want = std::fs::read_to_string(Path::new(DATA).join(reference)).unwrap();
        let got = String::from_utf8(out.stdout).unwrap();
        let (got, want): (Vec<&str>, Vec<&str>) = (got.lines().collect(), want.lines().collect());
        assert_eq!(got.len(), want.len(), "{algorithm}");
        for (g, w) in got.iter().zip(&want) {
            let (gv, gx) = g.split_once(' ').unwrap();
            let (wv, wx) = w.split_once(' ').unwrap();
            assert_eq!(gv, wv);
            let (gx, wx): (f64, f64) = (gx.parse().unwrap(), wx.parse().unwrap());
            assert!(
                gx == wx || (gx - wx).abs() <= 1e-4 * wx.abs(),
                "{algorithm} {g} vs {w}"
            );
        }
    }
}

#[test]
fn bad_input_is_one_line_and_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let (v, e) = (dir.path().join("g.v"), dir.path().join("g.e"));
    std::fs::write(&v, "1\n2\n").unwrap();
    let (vs, es) = (v.to_str().unwrap(), e.to_str().unwrap());
    for (edges, args, needle) in [
        ("1 2\n", vec!["--algorithm", "bfs"], "--source-vertex"),
        ("1 2\n2 x\n", vec!["--algorithm", "wcc"], "g.e"),
        ("1 2\n2 3\n", vec!["--algorithm", "wcc"], "missing"),
    ] {
        std::fs::write(&e, edges).unwrap();
        let mut all = args.clone();
        all.extend(["--vertices", vs, "--edges", es]);
        let out = run(&all);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        assert!(stderr.contains(needle), "{stderr}");
    }
}
