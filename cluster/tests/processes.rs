//! The cluster's processes: a taskmanager started alone joins a running cluster and is
//! stopped with it; a jobmanager killed and started again knows its jobs and still controls
//! them; a second `cluster start` in the same directory is refused; every subcommand has
//! `--help`.

mod common;

use std::time::Duration;

use common::{alive, eddy, run_with_timeout, wait_for, wordcount, write_text, Cluster};

/// A child process killed (and reaped) on every path out of a test.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_taskmanager_started_alone_joins_and_stops_with_the_cluster() {
    let cluster = Cluster::start(1, 2, &[]);
    // Killed (and reaped) on every path out of this test, like the cluster.
    let mut extra = KillOnDrop(
        eddy()
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
            .unwrap(),
    );
    wait_for(
        "the extra taskmanager to register",
        Duration::from_secs(20),
        || (cluster.get_ok("/overview")["slots-total"] == 5).then_some(()),
    );
    let pid_file = cluster.path().join("pids").join("taskmanager-1.pid");
    assert_eq!(
        std::fs::read_to_string(&pid_file).unwrap().trim(),
        extra.0.id().to_string()
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
        stdout.contains(&format!("Stopped taskmanager-1 (pid {})", extra.0.id())),
        "{stdout}"
    );
    let status = wait_for(
        "the extra taskmanager to end",
        Duration::from_secs(10),
        || extra.0.try_wait().unwrap(),
    );
    assert!(!status.success() || !alive(extra.0.id()));
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

#[test]
fn a_killed_jobmanager_started_again_recovers_its_jobs() {
    let wordcount = wordcount();
    let cluster = Cluster::start(1, 2, &[]);
    let work = tempfile::tempdir().unwrap();
    let input = work.path().join("words.txt");
    write_text(&input, 5_000);
    let finished = cluster.submit(&[], &wordcount, &[]);
    cluster.wait_state(&finished, "FINISHED", Duration::from_secs(60));
    // Throttled: it runs for minutes unless cancelled.
    let running = cluster.submit(
        &["-p", "1"],
        &wordcount,
        &[
            "--input",
            input.to_str().unwrap(),
            "--throttle",
            "2",
            "--mode",
            "streaming",
        ],
    );
    cluster.wait_state(&running, "RUNNING", Duration::from_secs(30));

    let pid_file = cluster.path().join("pids").join("jobmanager.pid");
    let old = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse::<u32>()
        .unwrap();
    std::process::Command::new("kill")
        .args(["-9", &old.to_string()])
        .status()
        .unwrap();
    wait_for("the jobmanager to die", Duration::from_secs(10), || {
        (!alive(old)).then_some(())
    });
    let port = cluster.address.rsplit(':').next().unwrap();
    // It writes its own pid file, so the cluster's guard stops it; this guard covers a
    // failure before that.
    let _restarted = KillOnDrop(
        eddy()
            .args(["jobmanager", "--port", port, "--dir"])
            .arg(cluster.path())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for(
        "the taskmanager to register again",
        Duration::from_secs(30),
        || {
            let body = cluster.try_get("/overview")?;
            (body["taskmanagers"] == 1).then_some(())
        },
    );
    assert_eq!(cluster.state(&finished), "FINISHED");
    // Its taskmanager reports it with its next heartbeat (the store may have missed the
    // last change: it is written within 200 ms of it).
    cluster.wait_state(&running, "RUNNING", Duration::from_secs(10));
    // Past the grace period the job is still running: its taskmanager reported it.
    std::thread::sleep(Duration::from_millis(3_500));
    assert_eq!(cluster.state(&running), "RUNNING");
    assert_eq!(cluster.get_ok("/overview")["slots-available"], 1);
    // And the new jobmanager controls it.
    let cancel = cluster.cli(&["cancel", &running]);
    assert!(cancel.status.success(), "{cancel:?}");
    assert_eq!(cluster.state(&running), "CANCELED");
}
