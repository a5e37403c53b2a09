//! `/overview`, `/config`, `/jobmanager/config`, `/taskmanagers`, `/taskmanagers/:id`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::jobmanager::state::{ClusterState, TaskManager};
use crate::jobmanager::JobManager;
use crate::protocol::{ConfigEntry, JobState, Overview, TaskManagerInfo, TaskManagers};

/// The cluster's version string.
pub(crate) fn version() -> String {
    format!("eddy {}", env!("CARGO_PKG_VERSION"))
}

pub(super) async fn overview(State(jm): State<Arc<JobManager>>) -> Json<Overview> {
    let state = jm.state();
    let (total, free) = state.slots();
    let count =
        |f: &dyn Fn(JobState) -> bool| state.jobs.iter().filter(|j| f(j.state)).count() as u32;
    Json(Overview {
        taskmanagers: state.taskmanagers.len() as u32,
        slots_total: total,
        slots_available: free,
        jobs_running: count(&|s| !s.is_terminal()),
        jobs_finished: count(&|s| s == JobState::Finished),
        jobs_cancelled: count(&|s| s == JobState::Canceled),
        jobs_failed: count(&|s| s == JobState::Failed),
        version: version(),
        commit: String::new(),
    })
}

pub(super) async fn config(State(_jm): State<Arc<JobManager>>) -> Json<serde_json::Value> {
    Json(json!({
        "refresh-interval": 3000,
        "timezone-name": "Coordinated Universal Time",
        "timezone-offset": 0,
        "flink-version": version(),
        "flink-revision": "",
        "features": {
            "web-submit": false,
            "web-cancel": true,
            "web-rescale": false,
            "web-history": false
        }
    }))
}

pub(super) async fn jobmanager_config(State(jm): State<Arc<JobManager>>) -> Json<Vec<ConfigEntry>> {
    let c = &jm.config;
    let entries = [
        ("rest.address", c.bind.ip().to_string()),
        ("rest.bind-address", c.bind.to_string()),
        (
            "rest.port",
            jm.address.rsplit(':').next().unwrap_or("").to_string(),
        ),
        ("rest.server.max-content-length", c.max_upload.to_string()),
        (
            "heartbeat.interval",
            c.heartbeat_interval.as_millis().to_string(),
        ),
        (
            "heartbeat.timeout",
            c.heartbeat_timeout.as_millis().to_string(),
        ),
        (
            "slot.request.timeout",
            c.slot_timeout.as_millis().to_string(),
        ),
        ("eddy.cluster.dir", c.dir.display().to_string()),
        (
            "eddy.protocol.version",
            eddy_runtime::cluster::PROTOCOL_VERSION.to_string(),
        ),
    ];
    Json(
        entries
            .into_iter()
            .map(|(key, value)| ConfigEntry {
                key: key.to_string(),
                value,
            })
            .collect(),
    )
}

fn info(state: &ClusterState, tm: &TaskManager) -> TaskManagerInfo {
    TaskManagerInfo {
        id: tm.id.clone(),
        path: tm.address.clone(),
        data_port: 0,
        last_heartbeat: tm.last_heartbeat_ms,
        slots: tm.slots,
        free_slots: state.free_slots(tm),
        hardware: tm.hardware.clone(),
        pid: tm.pid,
        jobs: state
            .jobs
            .iter()
            .filter(|j| !j.state.is_terminal() && j.taskmanager.as_deref() == Some(&tm.id))
            .map(|j| j.id.clone())
            .collect(),
    }
}

pub(super) async fn taskmanagers(State(jm): State<Arc<JobManager>>) -> Json<TaskManagers> {
    let state = jm.state();
    Json(TaskManagers {
        taskmanagers: state
            .taskmanagers
            .values()
            .map(|tm| info(&state, tm))
            .collect(),
    })
}

pub(super) async fn taskmanager(
    State(jm): State<Arc<JobManager>>,
    Path(id): Path<String>,
) -> Response {
    let state = jm.state();
    match state.taskmanagers.get(&id) {
        Some(tm) => Json(info(&state, tm)).into_response(),
        None => super::error(StatusCode::NOT_FOUND, format!("TaskManager {id} not found")),
    }
}
