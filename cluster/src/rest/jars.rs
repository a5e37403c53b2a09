//! `/jars/upload` (multipart, field `jarfile`, optional `sha256`), `/jars`, `/jars/:id/run`,
//! `DELETE /jars/:id`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::jobmanager::dispatcher::{self, SubmitError};
use crate::jobmanager::JobManager;
use crate::protocol::{JarList, JarRunRequest, JarRunResponse, JarUploadResponse};

pub(super) async fn upload(
    State(jm): State<Arc<JobManager>>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let bad = |message: String| super::error(StatusCode::BAD_REQUEST, message);
    let mut multipart = match multipart {
        Ok(m) => m,
        Err(e) => {
            return bad(format!(
                "malformed upload: {e} (send multipart/form-data with a 'jarfile' field)"
            ))
        }
    };
    let mut sha: Option<String> = None;
    let mut received = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => {
                return super::error(e.status(), format!("malformed upload: {}", e.body_text()))
            }
        };
        match field.name() {
            Some("sha256") => match field.text().await {
                Ok(text) => sha = Some(text.trim().to_string()),
                Err(e) => {
                    return super::error(e.status(), format!("malformed upload: {}", e.body_text()))
                }
            },
            Some("jarfile") => {
                let name = field
                    .file_name()
                    .map(|n| n.rsplit(['/', '\\']).next().unwrap_or(n).to_string())
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| "job".to_string());
                let mut upload = match jm.jars.begin() {
                    Ok(u) => u,
                    Err(e) => {
                        return super::error(
                            StatusCode::INTERNAL_SERVER_ERROR,
                            format!("cannot store the upload: {e}"),
                        )
                    }
                };
                let mut field = field;
                loop {
                    match field.chunk().await {
                        Ok(Some(chunk)) => {
                            if let Err(e) = upload.write(&chunk) {
                                return super::error(
                                    StatusCode::INTERNAL_SERVER_ERROR,
                                    format!("cannot store the upload: {e}"),
                                );
                            }
                        }
                        Ok(None) => break,
                        Err(e) => {
                            return super::error(
                                e.status(),
                                format!("malformed upload: {}", e.body_text()),
                            )
                        }
                    }
                }
                received = Some((name, upload));
            }
            _ => {}
        }
    }
    let Some((name, upload)) = received else {
        return bad("malformed upload: no 'jarfile' field".into());
    };
    let jars = &jm.jars;
    match jars.finish(upload, &name, sha.as_deref()) {
        Ok((file, path)) => {
            tracing::info!(id = %file.id, name = %file.name, size = file.size, "executable uploaded");
            Json(JarUploadResponse {
                filename: path.display().to_string(),
                status: "success".into(),
                id: file.id,
            })
            .into_response()
        }
        Err(message) => {
            tracing::warn!(%message, "upload refused");
            bad(message)
        }
    }
}

pub(super) async fn list(State(jm): State<Arc<JobManager>>) -> Json<JarList> {
    Json(JarList {
        address: jm.address.clone(),
        files: jm.jars.list(),
    })
}

pub(super) async fn run(
    State(jm): State<Arc<JobManager>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let request: JarRunRequest = if body.iter().all(u8::is_ascii_whitespace) {
        JarRunRequest::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(r) => r,
            Err(e) => {
                return super::error(
                    StatusCode::BAD_REQUEST,
                    format!("malformed run request: {e}"),
                )
            }
        }
    };
    match dispatcher::submit(&jm, &id, request).await {
        Ok(jobid) => Json(JarRunResponse { jobid }).into_response(),
        Err(e @ SubmitError::NoJar(_)) => super::error(StatusCode::NOT_FOUND, e.to_string()),
        Err(e @ SubmitError::Bad(_)) => {
            tracing::warn!(jar = %id, error = %e, "job refused");
            super::error(StatusCode::BAD_REQUEST, e.to_string())
        }
    }
}

pub(super) async fn delete(State(jm): State<Arc<JobManager>>, Path(id): Path<String>) -> Response {
    if jm.jars.delete(&id) {
        Json(json!({})).into_response()
    } else {
        super::error(StatusCode::NOT_FOUND, format!("jar {id} not found"))
    }
}
