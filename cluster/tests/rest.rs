//! The REST API on a real cluster: every endpoint answers with Flink's field names; the token
//! is required everywhere (401 and a log line without it); malformed uploads, executables
//! that are not Eddy jobs and uploads over the size limit are refused with a clear message.

mod common;

use std::time::Duration;

use common::{wordcount, Cluster};
use reqwest::blocking::multipart;
use reqwest::Method;
use serde_json::Value;

/// Every GET path of the API, for a job `job`, taskmanager `tm`.
fn get_paths(job: &str, tm: &str) -> Vec<String> {
    [
        "/overview",
        "/config",
        "/jobmanager/config",
        "/taskmanagers",
        &format!("/taskmanagers/{tm}"),
        "/jobs",
        "/jobs/overview",
        &format!("/jobs/{job}"),
        &format!("/jobs/{job}/plan"),
        &format!("/jobs/{job}/exceptions"),
        &format!("/jobs/{job}/checkpoints"),
        "/jars",
        "/metrics",
        "/openapi.json",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn upload(cluster: &Cluster, form: multipart::Form) -> (u16, Value) {
    let response = cluster
        .request(Method::POST, "/jars/upload")
        .multipart(form)
        .send()
        .unwrap();
    let status = response.status().as_u16();
    (
        status,
        serde_json::from_str(&response.text().unwrap()).unwrap_or(Value::Null),
    )
}

fn file_part(bytes: Vec<u8>, name: &str) -> multipart::Part {
    multipart::Part::bytes(bytes).file_name(name.to_string())
}

#[test]
fn every_endpoint_answers_with_flinks_fields() {
    let wordcount = wordcount();
    let cluster = Cluster::start(2, 2, &[]);
    let overview = cluster.get_ok("/overview");
    for (field, value) in [
        ("taskmanagers", 2),
        ("slots-total", 4),
        ("slots-available", 4),
        ("jobs-running", 0),
        ("jobs-finished", 0),
        ("jobs-cancelled", 0),
        ("jobs-failed", 0),
    ] {
        assert_eq!(overview[field], value, "{field}: {overview}");
    }

    // Upload (content addressed and checksummed), list, run, then every GET.
    let bytes = std::fs::read(&wordcount).unwrap();
    let sha = {
        use sha2::Digest;
        sha2::Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let (status, uploaded) = upload(
        &cluster,
        multipart::Form::new()
            .text("sha256", sha.clone())
            .part("jarfile", file_part(bytes, "wordcount")),
    );
    assert_eq!(status, 200, "{uploaded}");
    assert_eq!(uploaded["status"], "success");
    assert_eq!(uploaded["id"], sha.as_str());
    let jars = cluster.get_ok("/jars");
    assert_eq!(jars["address"], cluster.address.as_str());
    assert_eq!(jars["files"][0]["id"], sha.as_str());
    assert_eq!(jars["files"][0]["name"], "wordcount");

    let response = cluster
        .request(Method::POST, &format!("/jars/{sha}/run"))
        .json(&serde_json::json!({"programArgsList": [], "parallelism": 2}))
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let job = response.json::<Value>().unwrap()["jobid"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(job.len(), 32);
    cluster.wait_state(&job, "FINISHED", Duration::from_secs(60));
    let tm = cluster.get_ok("/taskmanagers")["taskmanagers"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    for path in get_paths(&job, &tm) {
        let (status, body) = cluster.get(&path);
        assert_eq!(status, 200, "GET {path}: {body}");
    }

    let jobs = cluster.get_ok("/jobs");
    assert_eq!(
        jobs["jobs"][0],
        serde_json::json!({"id": job, "status": "FINISHED"})
    );
    let listed = &cluster.get_ok("/jobs/overview")["jobs"][0];
    assert_eq!(listed["jid"], job.as_str());
    assert_eq!(listed["name"], "wordcount");
    assert_eq!(listed["state"], "FINISHED");
    let (start, end, duration) = (
        listed["start-time"].as_i64().unwrap(),
        listed["end-time"].as_i64().unwrap(),
        listed["duration"].as_i64().unwrap(),
    );
    assert!(
        start > 0 && end >= start && duration == end - start,
        "{listed}"
    );
    let plan = cluster.get_ok(&format!("/jobs/{job}/plan"));
    let tasks: u64 = plan["plan"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["parallelism"].as_u64().unwrap())
        .sum();
    assert_eq!(listed["tasks"]["total"], tasks);
    assert_eq!(listed["tasks"]["finished"], tasks);
    assert!(plan["plan"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .all(|n| n["id"].as_str().unwrap().len() == 32));

    let details = cluster.get_ok(&format!("/jobs/{job}"));
    assert_eq!(details["jid"], job.as_str());
    assert_eq!(details["job-type"], "BATCH");
    assert_eq!(details["maxParallelism"], 128);
    assert!(
        details["timestamps"]["CREATED"].as_i64().unwrap()
            <= details["timestamps"]["RUNNING"].as_i64().unwrap()
    );
    assert!(
        details["timestamps"]["RUNNING"].as_i64().unwrap()
            <= details["timestamps"]["FINISHED"].as_i64().unwrap()
    );
    assert_eq!(details["plan"], plan["plan"]);

    let exceptions = cluster.get_ok(&format!("/jobs/{job}/exceptions"));
    assert_eq!(exceptions["root-exception"], Value::Null);
    assert_eq!(
        exceptions["exceptionHistory"]["entries"],
        serde_json::json!([])
    );
    let checkpoints = cluster.get_ok(&format!("/jobs/{job}/checkpoints"));
    assert_eq!(checkpoints["counts"]["completed"], 0);
    assert_eq!(checkpoints["history"], serde_json::json!([]));

    let overview = cluster.get_ok("/overview");
    assert_eq!(overview["jobs-finished"], 1);
    assert_eq!(overview["slots-available"], 4);
    let tms = cluster.get_ok("/taskmanagers");
    assert_eq!(tms["taskmanagers"].as_array().unwrap().len(), 2);
    let one = cluster.get_ok(&format!("/taskmanagers/{tm}"));
    assert_eq!(one["slotsNumber"], 2);
    assert_eq!(one["freeSlots"], 2);
    assert!(one["timeSinceLastHeartbeat"].as_i64().unwrap() > 0);
    assert_eq!(cluster.get("/taskmanagers/nope").0, 404);
    let config = cluster.get_ok("/jobmanager/config");
    let port = cluster.address.rsplit(':').next().unwrap();
    assert!(
        config
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["key"] == "rest.port" && e["value"] == port),
        "{config}"
    );
    assert_eq!(cluster.get_ok("/config")["refresh-interval"], 3000);

    let metrics = cluster.get_ok("/metrics");
    let metrics = metrics.as_str().unwrap();
    assert!(
        metrics.contains("eddy_jobmanager_numRegisteredTaskManagers 2\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("eddy_jobmanager_taskSlotsTotal 4\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("# TYPE eddy_taskmanager_job_task_operator_numRecordsIn counter"),
        "{metrics}"
    );

    // The OpenAPI document names every route.
    let openapi = cluster.get_ok("/openapi.json");
    assert_eq!(openapi["openapi"], "3.0.3");
    for path in [
        "/overview",
        "/jobs/{id}",
        "/jars/upload",
        "/jars/{id}/run",
        "/jars/{id}",
        "/metrics",
    ] {
        assert!(openapi["paths"][path].is_object(), "{path} missing");
    }
    assert!(openapi["paths"]["/jobs/{id}"]["patch"].is_object());
    assert!(openapi["paths"]["/jars/{id}"]["delete"].is_object());

    // Unknown job: 404 with Flink's error shape.
    let (status, body) = cluster.get(&format!("/jobs/{}", "f".repeat(32)));
    assert_eq!(status, 404);
    assert!(body["errors"][0].as_str().unwrap().contains("not found"));

    // DELETE /jars/:id.
    let response = cluster
        .request(Method::DELETE, &format!("/jars/{sha}"))
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(cluster.get_ok("/jars")["files"], serde_json::json!([]));
    let response = cluster
        .request(Method::DELETE, &format!("/jars/{sha}"))
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);

    // The CLI finds the cluster from EDDY_JOBMANAGER and EDDY_TOKEN too.
    let mut command = common::eddy();
    command
        .args(["list", "-a", "--dir", "/nonexistent"])
        .env("EDDY_JOBMANAGER", &cluster.address)
        .env("EDDY_TOKEN", &cluster.token);
    let output = common::run_with_timeout(command, Duration::from_secs(30));
    assert!(output.status.success(), "{output:?}");
    assert!(
        String::from_utf8_lossy(&output.stdout).contains(&format!("{job} : wordcount (FINISHED)"))
    );
}

#[test]
fn requests_without_the_token_get_401_and_are_logged() {
    let cluster = Cluster::start(1, 1, &[]);
    // The token file is readable by its owner only.
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(cluster.path().join("token"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let http = reqwest::blocking::Client::new();
    let job = "0".repeat(32);
    let mut requests: Vec<(Method, String)> = get_paths(&job, "taskmanager-0")
        .into_iter()
        .map(|p| (Method::GET, p))
        .collect();
    requests.push((Method::PATCH, format!("/jobs/{job}?mode=cancel")));
    requests.push((Method::POST, "/jars/upload".into()));
    requests.push((Method::POST, format!("/jars/{job}/run")));
    requests.push((Method::DELETE, format!("/jars/{job}")));
    for (method, path) in &requests {
        let url = format!("{}{path}", cluster.address);
        let none = http.request(method.clone(), &url).send().unwrap();
        assert_eq!(
            none.status().as_u16(),
            401,
            "{method} {path} without a token"
        );
        let wrong = http
            .request(method.clone(), &url)
            .bearer_auth("wrong")
            .send()
            .unwrap();
        assert_eq!(
            wrong.status().as_u16(),
            401,
            "{method} {path} with a wrong token"
        );
    }
    let log = std::fs::read_to_string(cluster.path().join("log").join("jobmanager.log")).unwrap();
    assert!(
        log.contains("unauthorized request refused") && log.contains("reason=\"wrong token\""),
        "{log}"
    );
    // The CLI without a token file fails with a clear message.
    let mut command = common::eddy();
    command.args([
        "list",
        "--jobmanager",
        &cluster.address,
        "--dir",
        "/nonexistent",
    ]);
    let output = common::run_with_timeout(command, Duration::from_secs(30));
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("no token"),
        "{output:?}"
    );
}

#[test]
fn malformed_uploads_and_executables_that_are_not_eddy_jobs_get_400() {
    let cluster = Cluster::start(1, 1, &["--max-upload-mb", "1"]);
    let error = |body: &Value| body["errors"][0].as_str().unwrap_or("").to_string();

    // Not multipart at all.
    let response = cluster
        .request(Method::POST, "/jars/upload")
        .body("hello")
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    assert!(error(&response.json().unwrap()).contains("malformed upload"));
    // Multipart without the executable.
    let (status, body) = upload(&cluster, multipart::Form::new().text("other", "x"));
    assert_eq!(status, 400);
    assert!(error(&body).contains("no 'jarfile' field"), "{body}");
    // A checksum that does not match.
    let elf = std::fs::read("/bin/true").unwrap();
    let (status, body) = upload(
        &cluster,
        multipart::Form::new()
            .text("sha256", "0".repeat(64))
            .part("jarfile", file_part(elf.clone(), "true")),
    );
    assert_eq!(status, 400);
    assert!(error(&body).contains("checksum mismatch"), "{body}");
    // Not a native executable.
    let (status, body) = upload(
        &cluster,
        multipart::Form::new().part(
            "jarfile",
            file_part(b"#!/bin/sh\necho hi\n".to_vec(), "job.sh"),
        ),
    );
    assert_eq!(status, 400);
    assert!(error(&body).contains("not a native executable"), "{body}");
    // Over the size limit (1 MiB here).
    // The server answers 413 as soon as the limit is passed and closes the connection, so
    // the client may see the answer or only the connection closing under its feet.
    let response = cluster
        .request(Method::POST, "/jars/upload")
        .multipart(multipart::Form::new().part("jarfile", file_part(vec![0x7f; 2 << 20], "big")))
        .send();
    match response {
        Ok(response) => assert_eq!(response.status().as_u16(), 413),
        Err(e) => assert!(e.is_body() || e.is_request(), "{e}"),
    }
    assert!(cluster.get_ok("/jars")["files"]
        .as_array()
        .unwrap()
        .is_empty());

    // A native executable that is not an Eddy job: uploaded fine, refused at run.
    let (status, body) = upload(
        &cluster,
        multipart::Form::new().part("jarfile", file_part(elf, "true")),
    );
    assert_eq!(status, 200, "{body}");
    let id = body["id"].as_str().unwrap();
    let response = cluster
        .request(Method::POST, &format!("/jars/{id}/run"))
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let message = error(&response.json().unwrap());
    assert!(message.contains("true is not an Eddy job"), "{message}");
    // A malformed run request.
    let response = cluster
        .request(Method::POST, &format!("/jars/{id}/run"))
        .body("{")
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    // An unknown executable.
    let response = cluster
        .request(Method::POST, &format!("/jars/{}/run", "a".repeat(64)))
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);

    // The CLI says so in one line and exits 2; nothing was submitted.
    let output = cluster.run_job(&[], std::path::Path::new("/bin/true"), &[]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("true is not an Eddy job"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert_eq!(cluster.get_ok("/jobs")["jobs"], serde_json::json!([]));
    let missing = cluster.run_job(&[], std::path::Path::new("/nonexistent/job"), &[]);
    assert_eq!(missing.status.code(), Some(2));
}
