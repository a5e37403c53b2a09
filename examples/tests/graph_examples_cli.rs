//! The `pagerank` and `label_propagation` binaries: the hub of a star ranks first, two
//! cliques are two communities, a generated graph runs, and bad input is one line, exit 2.

use std::process::Command;

fn run(bin: &str, args: &[&str]) -> std::process::Output {
    Command::new(bin).args(args).output().unwrap()
}

#[test]
fn the_hub_of_a_star_ranks_first() {
    let dir = tempfile::tempdir().unwrap();
    let edges = dir.path().join("star.txt");
    let star: String = (1..=20).map(|leaf| format!("{leaf} 100\n")).collect();
    std::fs::write(&edges, star).unwrap();
    let out = run(
        env!("CARGO_BIN_EXE_pagerank"),
        &[
            "--edges",
            edges.to_str().unwrap(),
            "--directed",
            "--top",
            "3",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[0].starts_with("100 "), "{text}");
    let hub: f64 = lines[0].split(' ').nth(1).unwrap().parse().unwrap();
    let leaf: f64 = lines[1].split(' ').nth(1).unwrap().parse().unwrap();
    assert!(hub > 5.0 * leaf, "{text}");
}

#[test]
fn two_cliques_are_two_communities() {
    let dir = tempfile::tempdir().unwrap();
    let edges = dir.path().join("cliques.txt");
    let mut text = String::new();
    for group in [[1u64, 2, 3, 4], [10, 11, 12, 13]] {
        for (i, a) in group.iter().enumerate() {
            for b in &group[i + 1..] {
                text.push_str(&format!("{a} {b}\n"));
            }
        }
    }
    std::fs::write(&edges, text).unwrap();
    for extra in [&[][..], &["--gelly"][..]] {
        let mut args = vec!["--edges", edges.to_str().unwrap()];
        args.extend_from_slice(extra);
        let out = run(env!("CARGO_BIN_EXE_label_propagation"), &args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut sizes: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| l.split(' ').nth(1).unwrap().to_string())
            .collect();
        sizes.sort();
        assert_eq!(sizes, ["4", "4"], "{extra:?}");
    }
}

#[test]
fn generated_graphs_run_and_bad_input_is_one_line_exit_2() {
    let out = run(
        env!("CARGO_BIN_EXE_pagerank"),
        &["--scale", "8", "--top", "5"],
    );
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 5);
    let out = run(
        env!("CARGO_BIN_EXE_label_propagation"),
        &["--scale", "8", "--top", "2"],
    );
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 2);

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.txt");
    std::fs::write(&bad, "1 2\n2 x\n").unwrap();
    for bin in [
        env!("CARGO_BIN_EXE_pagerank"),
        env!("CARGO_BIN_EXE_label_propagation"),
    ] {
        let out = run(bin, &["--edges", bad.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains("bad.txt:2"), "{stderr}");
        let out = run(bin, &["--edges", "/no/such/edges.txt"]);
        assert_eq!(out.status.code(), Some(2));
    }
}
