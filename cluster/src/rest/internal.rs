//! The taskmanagers' side of the jobmanager (`/internal/...`): registration, heartbeats,
//! worker reports, and downloading an executable to a taskmanager that does not share the
//! jobmanager's disk.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::jobmanager::{dispatcher, JobManager};
use crate::protocol::{Heartbeat, RegisterRequest, RegisterResponse, WorkerReport};

pub(super) async fn register(
    State(jm): State<Arc<JobManager>>,
    Json(request): Json<RegisterRequest>,
) -> Json<RegisterResponse> {
    let slots = request.slots;
    let address = request.address.clone();
    let (id, deployments) = {
        let mut state = jm.state();
        let id = state.register(request);
        (id, state.schedule())
    };
    tracing::info!(taskmanager = %id, %address, slots, "taskmanager registered");
    dispatcher::deploy(&jm, deployments);
    Json(RegisterResponse {
        taskmanager_id: id,
        heartbeat_interval_ms: jm.config.heartbeat_interval.as_millis() as u64,
    })
}

fn apply(jm: &Arc<JobManager>, taskmanager: &str, reports: Vec<WorkerReport>) {
    let deployments = {
        let mut state = jm.state();
        for report in reports {
            state.report(taskmanager, report);
        }
        state.schedule()
    };
    dispatcher::deploy(jm, deployments);
}

pub(super) async fn heartbeat(
    State(jm): State<Arc<JobManager>>,
    Path(id): Path<String>,
    Json(heartbeat): Json<Heartbeat>,
) -> Response {
    if !jm.state().heartbeat(&id) {
        return super::error(
            StatusCode::NOT_FOUND,
            format!("TaskManager {id} not registered"),
        );
    }
    apply(&jm, &id, heartbeat.workers);
    StatusCode::OK.into_response()
}

pub(super) async fn report(
    State(jm): State<Arc<JobManager>>,
    Path(id): Path<String>,
    Json(report): Json<WorkerReport>,
) -> Response {
    tracing::info!(job = %report.job_id, taskmanager = %id, state = report.state.name(), "job state reported");
    apply(&jm, &id, vec![report]);
    StatusCode::OK.into_response()
}

pub(super) async fn download(
    State(jm): State<Arc<JobManager>>,
    Path(id): Path<String>,
) -> Response {
    let Some(path) = jm.jars.path(&id) else {
        return super::error(StatusCode::NOT_FOUND, format!("jar {id} not found"));
    };
    match tokio::fs::read(&path).await {
        Ok(bytes) => (
            [(header::CONTENT_TYPE, "application/octet-stream")],
            Body::from(bytes),
        )
            .into_response(),
        Err(e) => super::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot read {}: {e}", path.display()),
        ),
    }
}
