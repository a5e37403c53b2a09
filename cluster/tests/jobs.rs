//! Jobs on a real cluster (a jobmanager and taskmanagers as processes on loopback): the
//! `wordcount` example run on the cluster gives exactly its embedded output; attached runs
//! report success and failure; list, cancel and info; a killed taskmanager is noticed and
//! its job restarts on the remaining one with exactly the embedded output.

mod common;

use std::time::Duration;

use common::{alive, sorted_lines, wait_for, wordcount, write_text, Cluster};

#[test]
fn wordcount_on_the_cluster_matches_the_embedded_run() {
    let wordcount = wordcount();
    let cluster = Cluster::start(2, 2, &[]);
    let work = tempfile::tempdir().unwrap();
    let input = work.path().join("words.txt");
    write_text(&input, 5_000);
    let input = input.to_str().unwrap();

    // Embedded, at parallelism 2.
    let embedded_file = work.path().join("embedded.txt");
    let embedded = std::process::Command::new(&wordcount)
        .args(["--input", input, "--parallelism", "2", "--output"])
        .arg(&embedded_file)
        .output()
        .unwrap();
    assert!(embedded.status.success(), "{embedded:?}");
    let expected = sorted_lines(&std::fs::read_to_string(&embedded_file).unwrap());
    assert!(expected.len() > 100, "{}", expected.len());

    // On the cluster, attached, -p 2: exit 0 once the job finished, output identical.
    let cluster_file = work.path().join("cluster.txt");
    let output = cluster.run_job(
        &["-p", "2"],
        &wordcount,
        &["--input", input, "--output", cluster_file.to_str().unwrap()],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("Job with JobID") && stdout.contains("has finished."),
        "{stdout}"
    );
    assert_eq!(
        sorted_lines(&std::fs::read_to_string(&cluster_file).unwrap()),
        expected
    );

    // Without --output the job writes to stdout: DIR/log/<jobid>.out.
    let job = cluster.submit(&["-p", "2"], &wordcount, &["--input", input]);
    cluster.wait_state(&job, "FINISHED", Duration::from_secs(60));
    let out =
        std::fs::read_to_string(cluster.path().join("log").join(format!("{job}.out"))).unwrap();
    assert_eq!(sorted_lines(&out), expected);

    // The job reported its parallelism, tasks and record counts.
    let details = cluster.get_ok(&format!("/jobs/{job}"));
    let plan = cluster.get_ok(&format!("/jobs/{job}/plan"));
    let nodes = plan["plan"]["nodes"].as_array().unwrap();
    assert!(nodes.iter().any(|n| n["parallelism"] == 2), "{plan}");
    let vertices = details["vertices"].as_array().unwrap();
    assert_eq!(vertices.len(), nodes.len());
    assert!(
        vertices.iter().all(|v| v["status"] == "FINISHED"),
        "{details}"
    );
    assert!(
        vertices
            .iter()
            .any(|v| v["metrics"]["write-records"].as_u64().unwrap() > 0),
        "{details}"
    );
    // Per-operator counts reach /metrics: one formatted line per distinct word.
    let metrics = cluster
        .request(reqwest::Method::GET, "/metrics")
        .send()
        .unwrap()
        .text()
        .unwrap();
    let line = metrics
        .lines()
        .find(|l| {
            l.starts_with("eddy_taskmanager_job_task_operator_numRecordsOut{")
                && l.contains(&job)
                && l.contains("operator_name=\"format\"")
        })
        .unwrap_or_else(|| panic!("{metrics}"));
    assert!(line.ends_with(&format!(" {}", expected.len())), "{line}");

    // Stop ends every process and removes the pid files.
    let pids = cluster.pids();
    assert_eq!(pids.len(), 3, "{pids:?}");
    let stop = cluster.cli(&["cluster", "stop"]);
    assert!(stop.status.success());
    for (name, pid) in pids {
        wait_for(&format!("{name} to end"), Duration::from_secs(10), || {
            (!alive(pid)).then_some(())
        });
    }
    assert!(cluster.pids().is_empty());
}

#[test]
fn a_failing_job_fails_the_attached_run_with_its_cause() {
    let wordcount = wordcount();
    let cluster = Cluster::start(1, 2, &[]);
    // A directory opens (so the program's own check passes) but cannot be read as text:
    // the job fails while running.
    let work = tempfile::tempdir().unwrap();
    let output = cluster.run_job(&[], &wordcount, &["--input", work.path().to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("failed") && stderr.contains("directory"),
        "{stderr}"
    );
    let overview = cluster.get_ok("/jobs/overview");
    let job = &overview["jobs"][0];
    assert_eq!(job["state"], "FAILED");
    let exceptions = cluster.get_ok(&format!(
        "/jobs/{}/exceptions",
        job["jid"].as_str().unwrap()
    ));
    assert!(
        exceptions["root-exception"]
            .as_str()
            .unwrap()
            .contains("directory"),
        "{exceptions}"
    );
    assert_eq!(cluster.get_ok("/overview")["jobs-failed"], 1);
}

#[test]
fn list_and_cancel_a_running_job() {
    let wordcount = wordcount();
    let cluster = Cluster::start(1, 2, &[]);
    let work = tempfile::tempdir().unwrap();
    let input = work.path().join("words.txt");
    write_text(&input, 5_000);
    // Throttled to 2 lines a second (after a first batch of up to 1024): it runs for minutes
    // unless cancelled.
    let job = cluster.submit(
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
    cluster.wait_state(&job, "RUNNING", Duration::from_secs(30));
    let worker = wait_for("the worker's pid file", Duration::from_secs(10), || {
        cluster
            .pids()
            .into_iter()
            .find(|(n, _)| n == &format!("worker-{job}.pid"))
    });
    assert!(alive(worker.1));

    let list = cluster.cli(&["list", "-r"]);
    let text = String::from_utf8_lossy(&list.stdout);
    assert!(list.status.success());
    assert!(
        text.contains(&format!("{job} : wordcount (RUNNING)")),
        "{text}"
    );
    let scheduled = cluster.cli(&["list", "-s"]);
    assert!(String::from_utf8_lossy(&scheduled.stdout).contains("No scheduled jobs."));
    assert_eq!(cluster.get_ok("/overview")["slots-available"], 1);

    let cancel = cluster.cli(&["cancel", &job]);
    assert!(cancel.status.success(), "{cancel:?}");
    assert_eq!(
        String::from_utf8_lossy(&cancel.stdout).trim(),
        format!("Cancelled job {job}.")
    );
    assert_eq!(cluster.state(&job), "CANCELED");
    wait_for("the worker to end", Duration::from_secs(10), || {
        (!alive(worker.1)).then_some(())
    });

    let all = cluster.cli(&["list", "-a"]);
    let text = String::from_utf8_lossy(&all.stdout);
    assert!(
        text.contains(&format!("{job} : wordcount (CANCELED)")),
        "{text}"
    );
    assert!(text.contains("No running jobs."), "{text}");
    let overview = cluster.get_ok("/overview");
    assert_eq!(overview["jobs-cancelled"], 1);
    assert_eq!(overview["slots-available"], 2);

    // A malformed job id is bad input (exit 2); an unknown one is an error (exit 1).
    assert_eq!(cluster.cli(&["cancel", "not-a-job"]).status.code(), Some(2));
    let unknown = cluster.cli(&["cancel", &"0".repeat(32)]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("not found"));
}

#[test]
fn a_killed_taskmanager_is_noticed_and_its_job_restarts_elsewhere_with_exact_output() {
    let wordcount = wordcount();
    let cluster = Cluster::start(2, 2, &[]);
    let work = tempfile::tempdir().unwrap();
    let input = work.path().join("words.txt");
    write_text(&input, 5_000);
    let input = input.to_str().unwrap();
    let embedded_file = work.path().join("embedded.txt");
    let embedded = std::process::Command::new(&wordcount)
        .args(["--input", input, "--parallelism", "2", "--output"])
        .arg(&embedded_file)
        .output()
        .unwrap();
    assert!(embedded.status.success(), "{embedded:?}");
    let expected = sorted_lines(&std::fs::read_to_string(&embedded_file).unwrap());

    // Throttled to about 2.5 s, so that the kill lands mid-run.
    let cluster_file = work.path().join("cluster.txt");
    let job = cluster.submit(
        &["-p", "2"],
        &wordcount,
        &[
            "--input",
            input,
            "--throttle",
            "2000",
            "--output",
            cluster_file.to_str().unwrap(),
        ],
    );
    cluster.wait_state(&job, "RUNNING", Duration::from_secs(30));
    let taskmanager = cluster.get_ok(&format!("/jobs/{job}"))["taskmanager"]
        .as_str()
        .unwrap()
        .to_string();
    let pid = cluster.get_ok(&format!("/taskmanagers/{taskmanager}"))["pid"]
        .as_u64()
        .unwrap() as u32;
    let worker = wait_for("the worker's pid file", Duration::from_secs(10), || {
        cluster
            .pids()
            .into_iter()
            .find(|(n, _)| n == &format!("worker-{job}.pid"))
    })
    .1;
    assert_eq!(cluster.get_ok("/overview")["taskmanagers"], 2);

    let killed = std::time::Instant::now();
    std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    // The worker does not outlive its taskmanager, and left no output behind.
    wait_for(
        "the orphaned worker to die",
        Duration::from_secs(10),
        || (!alive(worker)).then_some(()),
    );
    wait_for("the jobmanager to notice", Duration::from_secs(10), || {
        (cluster.get_ok("/overview")["taskmanagers"] == 1).then_some(())
    });
    let noticed = killed.elapsed();
    assert!(
        noticed < Duration::from_secs(6),
        "noticed after {noticed:?}"
    );
    assert_eq!(cluster.get(&format!("/taskmanagers/{taskmanager}")).0, 404);

    // Restarted on the remaining taskmanager, it finishes with exactly the embedded output.
    cluster.wait_state(&job, "FINISHED", Duration::from_secs(90));
    let details = cluster.get_ok(&format!("/jobs/{job}"));
    assert_ne!(details["taskmanager"], taskmanager.as_str(), "{details}");
    assert!(details["timestamps"]["RESTARTING"].is_i64(), "{details}");
    assert_eq!(
        sorted_lines(&std::fs::read_to_string(&cluster_file).unwrap()),
        expected
    );
    let exceptions = cluster.get_ok(&format!("/jobs/{job}/exceptions"));
    let entries = exceptions["exceptionHistory"]["entries"]
        .as_array()
        .unwrap();
    assert_eq!(entries.len(), 1, "{exceptions}");
    assert!(
        entries[0]["stacktrace"]
            .as_str()
            .unwrap()
            .contains(&format!("taskmanager {taskmanager} was lost")),
        "{exceptions}"
    );
    let metrics = cluster.get_ok("/metrics");
    assert!(
        metrics
            .as_str()
            .unwrap()
            .lines()
            .any(|l| l.starts_with("eddy_jobmanager_job_numRestarts{")
                && l.contains(&job)
                && l.ends_with(" 1")),
        "{metrics}"
    );
}

#[test]
fn info_prints_the_plan_without_a_cluster() {
    let wordcount = wordcount();
    let mut command = common::eddy();
    command.args(["info", "-p", "3"]).arg(&wordcount);
    let output = common::run_with_timeout(command, Duration::from_secs(60));
    assert!(output.status.success(), "{output:?}");
    let plan: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        plan["protocol_version"],
        eddy_runtime::cluster::PROTOCOL_VERSION
    );
    assert_eq!(plan["parallelism"], 3);
    assert_eq!(plan["max_parallelism"], 128);
    let uids: Vec<&str> = plan["operators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["uid"].as_str().unwrap())
        .collect();
    assert!(uids.contains(&"tokenize"), "{uids:?}");
    assert!(
        plan["edges"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["partitioning"] == "HASH"),
        "{plan}"
    );

    // The same plan from the program itself, with --plan.
    let direct = std::process::Command::new(&wordcount)
        .args(["--plan"])
        .env("EDDY_PARALLELISM", "3")
        .output()
        .unwrap();
    assert!(direct.status.success());
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&direct.stdout).unwrap(),
        plan
    );

    let mut command = common::eddy();
    command.args(["info", "/bin/true"]);
    let output = common::run_with_timeout(command, Duration::from_secs(60));
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("true is not an Eddy job"),
        "{output:?}"
    );
}
