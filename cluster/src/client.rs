//! The REST client of the CLI and of taskmanagers, and how they find their cluster.
//!
//! The jobmanager's address comes from `--jobmanager URL`, else `EDDY_JOBMANAGER`, else the
//! cluster directory's `address` file; the token as [`crate::auth`] says.

use std::path::Path;
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use reqwest::blocking::{multipart, Client as Http, RequestBuilder, Response};
use serde::de::DeserializeOwned;

use crate::dir::ClusterDir;
use crate::protocol::ErrorResponse;

/// A jobmanager's REST API, with its token.
pub(crate) struct Client {
    base: String,
    token: String,
    http: Http,
}

impl Client {
    /// A client of the jobmanager at `base` (`http://host:port`).
    pub(crate) fn new(base: &str, token: String) -> Result<Self> {
        let http = Http::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(600))
            .build()
            .context("cannot build an HTTP client")?;
        Ok(Client {
            base: base.trim_end_matches('/').to_string(),
            token,
            http,
        })
    }

    /// Finds the cluster: `jobmanager` (from `--jobmanager` or `EDDY_JOBMANAGER`) or
    /// `DIR/address`; the token from `token_file`, `EDDY_TOKEN` or `DIR/token`.
    pub(crate) fn locate(
        jobmanager: Option<&str>,
        token_file: Option<&Path>,
        dir: &Path,
    ) -> Result<Self> {
        let dir = ClusterDir::new(dir);
        let base = match jobmanager {
            Some(url) => url.to_string(),
            None => std::fs::read_to_string(dir.address_file())
                .map(|s| s.trim().to_string())
                .with_context(|| {
                    format!(
                        "no jobmanager address: pass --jobmanager URL, set EDDY_JOBMANAGER, \
                         or start a cluster in {} (no {})",
                        dir.root().display(),
                        dir.address_file().display()
                    )
                })?,
        };
        let token = crate::auth::find_token(token_file, &dir.token_file())?;
        Client::new(&base, token)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn send<T: DeserializeOwned>(&self, request: RequestBuilder, what: &str) -> Result<T> {
        let response = request
            .bearer_auth(&self.token)
            .send()
            .with_context(|| format!("cannot reach the jobmanager at {}", self.base))?;
        decode(response, what)
    }

    /// `GET path`, decoded.
    pub(crate) fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.send(self.http.get(self.url(path)), path)
    }

    /// `PATCH path`; the answer's body is ignored.
    pub(crate) fn patch(&self, path: &str) -> Result<()> {
        self.send::<serde_json::Value>(self.http.patch(self.url(path)), path)
            .map(|_| ())
    }

    /// `POST path` with a JSON body, decoded.
    pub(crate) fn post<B: serde::Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T> {
        self.send(self.http.post(self.url(path)).json(body), path)
    }

    /// Uploads an executable (`POST /jars/upload`, field `jarfile`, with its SHA-256).
    pub(crate) fn upload(&self, executable: &Path) -> Result<crate::protocol::JarUploadResponse> {
        let bytes = std::fs::read(executable)
            .with_context(|| format!("cannot read {}", executable.display()))?;
        let sha = crate::jobmanager::jars::sha256_hex(&bytes);
        // Content-addressed: an executable the jobmanager already holds is not sent again.
        let known: crate::protocol::JarList = self.get("/jars")?;
        if let Some(file) = known.files.iter().find(|f| f.id == sha) {
            return Ok(crate::protocol::JarUploadResponse {
                filename: file.name.clone(),
                status: "success".into(),
                id: file.id.clone(),
            });
        }
        let name = executable
            .file_name()
            .map_or_else(|| "job".to_string(), |n| n.to_string_lossy().into_owned());
        let form = multipart::Form::new().text("sha256", sha).part(
            "jarfile",
            multipart::Part::bytes(bytes)
                .file_name(name)
                .mime_str("application/octet-stream")?,
        );
        self.send(
            self.http.post(self.url("/jars/upload")).multipart(form),
            "/jars/upload",
        )
    }
}

/// The body of a successful answer as `T`, or the server's error messages.
fn decode<T: DeserializeOwned>(response: Response, what: &str) -> Result<T> {
    let status = response.status();
    let body = response
        .text()
        .with_context(|| format!("{what}: cannot read the answer"))?;
    if !status.is_success() {
        let message = serde_json::from_str::<ErrorResponse>(&body)
            .map(|e| e.errors.join("; "))
            .unwrap_or(body);
        return Err(anyhow!("{what}: {status}: {message}"));
    }
    let body = if body.is_empty() { "null" } else { &body };
    serde_json::from_str(body).with_context(|| format!("{what}: unexpected answer: {body}"))
}
