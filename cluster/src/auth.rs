//! The bearer token: created at `cluster start`, required by every REST call.
//!
//! Clients find it (in order) in `--token-file FILE`, in `EDDY_TOKEN`, or in the cluster
//! directory's `token` file, readable by its owner only. A request without it, or with another
//! one, is answered 401 and logged with the caller's address.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::dir::ClusterDir;
use crate::protocol::ErrorResponse;

/// The environment variable holding the token.
pub(crate) const TOKEN_ENV: &str = "EDDY_TOKEN";

/// A new random token (256 bits, hex).
pub(crate) fn new_token() -> String {
    crate::process::random_hex(32)
}

/// Writes `token` to `path`, readable and writable by its owner only (mode 0600).
pub(crate) fn write_token(path: &Path, token: &str) -> Result<()> {
    ClusterDir::write_atomic(path, format!("{token}\n").as_bytes(), 0o600)
}

/// The token from `--token-file`, else `EDDY_TOKEN`, else `default_file`.
pub(crate) fn find_token(token_file: Option<&Path>, default_file: &Path) -> Result<String> {
    if let Some(file) = token_file {
        return read_token(file);
    }
    if let Ok(token) = std::env::var(TOKEN_ENV) {
        if !token.trim().is_empty() {
            return Ok(token.trim().to_string());
        }
    }
    read_token(default_file).with_context(|| {
        format!("no token: pass --token-file FILE or set {TOKEN_ENV} (is a cluster started?)")
    })
}

fn read_token(path: &Path) -> Result<String> {
    let token = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the token file {}", path.display()))?;
    let token = token.trim();
    anyhow::ensure!(
        !token.is_empty(),
        "{}: the token file is empty",
        path.display()
    );
    Ok(token.to_string())
}

/// Whether `a` equals `b`, in time independent of where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// axum middleware: lets a request through only with `Authorization: Bearer <token>`.
pub(crate) async fn require_token(
    State(token): State<Arc<str>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match given {
        Some(given) if same(given.trim().as_bytes(), token.as_bytes()) => next.run(request).await,
        _ => {
            tracing::warn!(
                %peer,
                method = %request.method(),
                path = %request.uri().path(),
                reason = if given.is_some() { "wrong token" } else { "no token" },
                "unauthorized request refused"
            );
            (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                Json(ErrorResponse {
                    errors: vec![
                        "missing or wrong bearer token (see the cluster's token file)".into(),
                    ],
                }),
            )
                .into_response()
        }
    }
}
