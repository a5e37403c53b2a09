//! The jobmanager's REST API, on axum, with Flink's paths and field names. Every route
//! requires the bearer token ([`crate::auth`]). `openapi.rs` documents them all.

mod cluster;
mod internal;
mod jars;
mod jobs;
pub(crate) mod metrics;
pub(crate) mod openapi;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};

use crate::jobmanager::JobManager;
use crate::protocol::ErrorResponse;

/// The jobmanager's routes.
pub(crate) fn router(jobmanager: Arc<JobManager>) -> Router {
    let token = jobmanager.token.clone();
    let max_upload = jobmanager.config.max_upload;
    Router::new()
        .route("/overview", get(cluster::overview))
        .route("/config", get(cluster::config))
        .route("/jobmanager/config", get(cluster::jobmanager_config))
        .route("/taskmanagers", get(cluster::taskmanagers))
        .route("/taskmanagers/{id}", get(cluster::taskmanager))
        .route("/jobs", get(jobs::list))
        .route("/jobs/overview", get(jobs::overview))
        .route("/jobs/{id}", get(jobs::details).patch(jobs::patch))
        .route("/jobs/{id}/plan", get(jobs::plan))
        .route("/jobs/{id}/exceptions", get(jobs::exceptions))
        .route("/jobs/{id}/checkpoints", get(jobs::checkpoints))
        .route(
            "/jars/upload",
            post(jars::upload).layer(DefaultBodyLimit::max(max_upload)),
        )
        .route("/jars", get(jars::list))
        .route("/jars/{id}/run", post(jars::run))
        .route("/jars/{id}", delete(jars::delete))
        .route("/metrics", get(metrics::jobmanager))
        .route("/openapi.json", get(openapi::document))
        .route("/internal/taskmanagers", post(internal::register))
        .route(
            "/internal/taskmanagers/{id}/heartbeat",
            post(internal::heartbeat),
        )
        .route("/internal/taskmanagers/{id}/report", post(internal::report))
        .route("/internal/jars/{id}", get(internal::download))
        .layer(axum::middleware::from_fn_with_state(
            token,
            crate::auth::require_token,
        ))
        .with_state(jobmanager)
}

/// An error answer: `{"errors": [message]}` with `status`.
pub(crate) fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (
        status,
        Json(ErrorResponse {
            errors: vec![message.into()],
        }),
    )
        .into_response()
}

/// 404 for an unknown job.
pub(crate) fn no_job(id: &str) -> Response {
    error(StatusCode::NOT_FOUND, format!("Job {id} not found"))
}
