//! `/jobs`, `/jobs/overview`, `/jobs/:id` (GET, and PATCH `?mode=cancel`), `/jobs/:id/plan`,
//! `/jobs/:id/exceptions`, `/jobs/:id/checkpoints`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::jobmanager::state::Job;
use crate::jobmanager::{dispatcher, JobManager};
use crate::protocol::{
    ExceptionHistory, JobDetails, JobExceptions, JobIdStatus, JobList, JobOverview, JobsOverview,
    TaskCounts, VertexDetails, VertexMetrics,
};

/// A stable 32-hex-character vertex id from the uid of the vertex's first operator.
pub(crate) fn vertex_id(job: &Job, vertex: usize) -> String {
    let head = job.plan.vertices[vertex]
        .operators
        .first()
        .copied()
        .unwrap_or(0);
    let uid = job.plan.operators.get(head).map_or("", |o| o.uid.as_str());
    crate::jobmanager::jars::sha256_hex(uid.as_bytes())[..32].to_string()
}

fn job_overview(job: &Job) -> JobOverview {
    JobOverview {
        jid: job.id.clone(),
        name: job.name.clone(),
        state: job.state,
        start_time: job.start_time,
        end_time: job.end_time,
        duration: job.duration(),
        last_modification: job.last_modification(),
        tasks: TaskCounts::all_in(job.state, job.plan.tasks()),
    }
}

pub(super) async fn list(State(jm): State<Arc<JobManager>>) -> Json<JobList> {
    let state = jm.state();
    Json(JobList {
        jobs: state
            .jobs
            .iter()
            .map(|j| JobIdStatus {
                id: j.id.clone(),
                status: j.state,
            })
            .collect(),
    })
}

pub(super) async fn overview(State(jm): State<Arc<JobManager>>) -> Json<JobsOverview> {
    let state = jm.state();
    Json(JobsOverview {
        jobs: state.jobs.iter().rev().map(job_overview).collect(),
    })
}

/// The job's plan in Flink's shape: `{"plan": {"jid", "name", "type", "nodes": [...]}}`.
fn plan_json(job: &Job) -> serde_json::Value {
    let plan = &job.plan;
    let vertex_of: HashMap<usize, usize> = plan
        .vertices
        .iter()
        .flat_map(|v| v.operators.iter().map(move |&o| (o, v.id)))
        .collect();
    let nodes: Vec<serde_json::Value> = plan
        .vertices
        .iter()
        .map(|v| {
            let inputs: Vec<serde_json::Value> = plan
                .edges
                .iter()
                .filter(|e| !e.chained && vertex_of.get(&e.to) == Some(&v.id))
                .enumerate()
                .map(|(num, e)| {
                    json!({
                        "num": num,
                        "id": vertex_id(job, vertex_of.get(&e.from).copied().unwrap_or(0)),
                        "ship_strategy": e.partitioning,
                        "exchange": "pipelined_bounded",
                    })
                })
                .collect();
            let operators: Vec<serde_json::Value> = v
                .operators
                .iter()
                .filter_map(|&o| plan.operators.get(o))
                .map(|o| json!({"uid": o.uid, "name": o.name, "parallelism": o.parallelism}))
                .collect();
            json!({
                "id": vertex_id(job, v.id),
                "parallelism": v.parallelism,
                "operator": "",
                "operator_strategy": "",
                "description": v.name,
                "inputs": inputs,
                "optimizer_properties": {},
                "operators": operators,
            })
        })
        .collect();
    json!({
        "jid": job.id,
        "name": job.name,
        "type": plan.mode,
        "maxParallelism": plan.max_parallelism,
        "nodes": nodes,
    })
}

fn job_details(job: &Job) -> JobDetails {
    let vertices: Vec<VertexDetails> = job
        .plan
        .vertices
        .iter()
        .map(|v| {
            let head = v.operators.first().copied().unwrap_or(0);
            let tail = v.operators.last().copied().unwrap_or(0);
            let counts = |i: usize| job.operators.get(i).cloned().unwrap_or_default();
            VertexDetails {
                id: vertex_id(job, v.id),
                name: v.name.clone(),
                max_parallelism: job.plan.max_parallelism,
                parallelism: v.parallelism,
                status: job.state,
                start_time: job.start_time,
                end_time: job.end_time,
                duration: job.duration(),
                tasks: TaskCounts::all_in(job.state, v.parallelism),
                metrics: VertexMetrics {
                    read_bytes: 0,
                    write_bytes: 0,
                    read_records: counts(head).records_in,
                    write_records: counts(tail).records_out,
                    complete: job.state.is_terminal(),
                },
            }
        })
        .collect();
    let mut status_counts = BTreeMap::new();
    status_counts.insert(job.state.name().to_string(), vertices.len() as u32);
    JobDetails {
        jid: job.id.clone(),
        name: job.name.clone(),
        is_stoppable: false,
        state: job.state,
        job_type: job.plan.mode.clone(),
        start_time: job.start_time,
        end_time: job.end_time,
        duration: job.duration(),
        max_parallelism: job.plan.max_parallelism,
        now: crate::process::now_ms(),
        timestamps: job
            .timestamps
            .iter()
            .map(|(s, t)| (s.name().to_string(), *t))
            .collect(),
        vertices,
        status_counts,
        plan: plan_json(job),
        taskmanager: job.taskmanager.clone(),
    }
}

pub(super) async fn details(State(jm): State<Arc<JobManager>>, Path(id): Path<String>) -> Response {
    match jm.state().job(&id) {
        Some(job) => Json(job_details(job)).into_response(),
        None => super::no_job(&id),
    }
}

/// The query of `PATCH /jobs/:id`.
#[derive(Debug, serde::Deserialize)]
pub(super) struct PatchQuery {
    mode: Option<String>,
}

pub(super) async fn patch(
    State(jm): State<Arc<JobManager>>,
    Path(id): Path<String>,
    Query(query): Query<PatchQuery>,
) -> Response {
    match query.mode.as_deref().unwrap_or("cancel") {
        "cancel" => {}
        other => {
            return super::error(
                StatusCode::BAD_REQUEST,
                format!("unknown mode '{other}': the only mode is 'cancel'"),
            )
        }
    }
    if dispatcher::cancel(&jm, &id) {
        (StatusCode::ACCEPTED, Json(json!({}))).into_response()
    } else {
        super::no_job(&id)
    }
}

pub(super) async fn plan(State(jm): State<Arc<JobManager>>, Path(id): Path<String>) -> Response {
    match jm.state().job(&id) {
        Some(job) => Json(json!({ "plan": plan_json(job) })).into_response(),
        None => super::no_job(&id),
    }
}

pub(super) async fn exceptions(
    State(jm): State<Arc<JobManager>>,
    Path(id): Path<String>,
) -> Response {
    match jm.state().job(&id) {
        Some(job) => {
            let latest = job.exceptions.first();
            Json(JobExceptions {
                root_exception: latest.map(|e| e.stacktrace.clone()),
                timestamp: latest.map(|e| e.timestamp),
                history: ExceptionHistory {
                    entries: job.exceptions.clone(),
                    truncated: false,
                },
            })
            .into_response()
        }
        None => super::no_job(&id),
    }
}

pub(super) async fn checkpoints(
    State(jm): State<Arc<JobManager>>,
    Path(id): Path<String>,
) -> Response {
    if jm.state().job(&id).is_none() {
        return super::no_job(&id);
    }
    // Checkpoints coordinated across processes come with a later increment; a job's own
    // in-process checkpoints are not reported yet.
    Json(json!({
        "counts": {"restored": 0, "total": 0, "in_progress": 0, "completed": 0, "failed": 0},
        "summary": {},
        "latest": {"completed": null, "savepoint": null, "failed": null, "restored": null},
        "history": [],
    }))
    .into_response()
}
