//! The cluster's processes: a taskmanager started alone joins a running cluster and is
//! stopped with it; a second `cluster start` in the same directory is refused; every
//! subcommand has `--help`.

mod common;

use std::time::Duration;

use common::{alive, eddy, run_with_timeout, wait_for, Cluster};

#[test]
fn a_taskmanager_started_alone_joins_and_stops_with_the_cluster() {
    let cluster = Cluster::start(1, 2, &[]);
    let mut extra = eddy()
        .args([
            "taskmanager",
            "--jobmanager",
            &cluster.address,
            "--slots",
            "3",
            "--dir",
        ])
        .arg(cluster.path())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Killed on every path out of this test, like the cluster.
    struct Kill(u32);
    impl Drop for Kill {
        fn drop(&mut self) {
            if alive(self.0) {
                let _ = std::process::Command::new("kill")
                    .args(["-9", &self.0.to_string()])
                    .stderr(std::process::Stdio::null())
                    .status();
            }
        }
    }
    let _guard = Kill(extra.id());
    wait_for(
        "the extra taskmanager to register",
        Duration::from_secs(20),
        || (cluster.get_ok("/overview")["slots-total"] == 5).then_some(()),
    );
    let pid_file = cluster.path().join("pids").join("taskmanager-1.pid");
    assert_eq!(
        std::fs::read_to_string(&pid_file).unwrap().trim(),
        extra.id().to_string()
    );
    assert!(cluster
        .path()
        .join("log")
        .join("taskmanager-1.log")
        .is_file());

    // A second start in the same directory is refused while the cluster runs.
    let again = cluster.cli(&["cluster", "start", "--port", "0"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already runs"),
        "{again:?}"
    );

    let stop = cluster.cli(&["cluster", "stop"]);
    let stdout = String::from_utf8_lossy(&stop.stdout);
    assert!(
        stdout.contains(&format!("Stopped taskmanager-1 (pid {})", extra.id())),
        "{stdout}"
    );
    let status = wait_for(
        "the extra taskmanager to end",
        Duration::from_secs(10),
        || extra.try_wait().unwrap(),
    );
    assert!(!status.success() || !alive(extra.id()));
    assert!(!pid_file.exists());
    assert!(!cluster.path().join("address").exists());
}

#[test]
fn every_subcommand_has_help() {
    for args in [
        &["--help"][..],
        &["cluster", "start", "--help"],
        &["cluster", "stop", "--help"],
        &["jobmanager", "--help"],
        &["taskmanager", "--help"],
        &["run", "--help"],
        &["list", "--help"],
        &["cancel", "--help"],
        &["info", "--help"],
    ] {
        let mut command = eddy();
        command.args(args);
        let output = run_with_timeout(command, Duration::from_secs(30));
        assert!(output.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&output.stdout).contains("Usage: eddy"),
            "{args:?}"
        );
    }
    // Bad flags are bad input: exit code 2, one clear message.
    let mut command = eddy();
    command.args(["cluster", "start", "--taskmanagers", "lots"]);
    let output = run_with_timeout(command, Duration::from_secs(30));
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--taskmanagers"));
}
