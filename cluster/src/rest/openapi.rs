//! The OpenAPI 3 document of the REST API, served at `/openapi.json`.

use axum::Json;
use serde_json::{json, Map, Value};

/// Every public route: method, path (OpenAPI syntax), summary.
pub(crate) const ROUTES: &[(&str, &str, &str)] = &[
    (
        "get",
        "/overview",
        "Cluster overview: taskmanagers, slots, jobs by state.",
    ),
    ("get", "/config", "Dashboard configuration."),
    (
        "get",
        "/jobmanager/config",
        "The jobmanager's configuration as key/value pairs.",
    ),
    ("get", "/taskmanagers", "Registered taskmanagers."),
    ("get", "/taskmanagers/{id}", "One taskmanager."),
    ("get", "/jobs", "Every job's id and state."),
    (
        "get",
        "/jobs/overview",
        "Every job with name, state, times and task counts.",
    ),
    (
        "get",
        "/jobs/{id}",
        "One job: state, timestamps, vertices with record counts, plan.",
    ),
    (
        "patch",
        "/jobs/{id}",
        "Cancels a job (query mode=cancel); answers 202.",
    ),
    (
        "get",
        "/jobs/{id}/plan",
        "A job's plan: vertices and their inputs.",
    ),
    (
        "get",
        "/jobs/{id}/exceptions",
        "A job's failures, newest first.",
    ),
    (
        "get",
        "/jobs/{id}/checkpoints",
        "A job's checkpoint statistics.",
    ),
    (
        "post",
        "/jars/upload",
        "Uploads a job executable (multipart field 'jarfile', optional 'sha256').",
    ),
    ("get", "/jars", "Uploaded executables."),
    (
        "post",
        "/jars/{id}/run",
        "Runs an uploaded executable as a job: body {programArgsList, parallelism}.",
    ),
    ("delete", "/jars/{id}", "Deletes an uploaded executable."),
    ("get", "/metrics", "Metrics in the Prometheus text format."),
    ("get", "/openapi.json", "This document."),
];

/// The document.
pub(crate) fn build() -> Value {
    let mut paths = Map::new();
    for (method, path, summary) in ROUTES {
        let mut operation = json!({
            "summary": summary,
            "responses": {
                "200": {"description": "Success"},
                "401": {"description": "Missing or wrong bearer token"},
            },
        });
        if path.contains("{id}") {
            operation["parameters"] = json!([{
                "name": "id", "in": "path", "required": true, "schema": {"type": "string"}
            }]);
            operation["responses"]["404"] = json!({"description": "Not found"});
        }
        if *method == "post" {
            operation["responses"]["400"] = json!({"description": "Malformed request, or an executable that is not an Eddy job"});
        }
        if *method == "patch" {
            operation["responses"]["202"] = json!({"description": "Cancellation requested"});
        }
        paths
            .entry(path.to_string())
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .expect("an object")
            .insert(method.to_string(), operation);
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Eddy cluster REST API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Apache Flink's REST paths and field names, served by the eddy jobmanager.",
        },
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}
        },
        "security": [{"bearerAuth": []}],
        "paths": paths,
    })
}

pub(super) async fn document() -> Json<Value> {
    Json(build())
}
