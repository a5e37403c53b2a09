//! The dispatcher: turns an uploaded executable and its arguments into a job (asking the
//! executable for its plan), deploys jobs to the taskmanagers the state chose, and cancels.

use std::sync::Arc;

use crate::plan_extract::{self, PlanError};
use crate::protocol::JarRunRequest;

use super::state::Deployment;
use super::JobManager;

/// Why a submission was refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SubmitError {
    /// No executable with this id.
    #[error("jar {0} not found")]
    NoJar(String),
    /// The request or the executable is not acceptable (a 400).
    #[error("{0}")]
    Bad(String),
}

/// Creates a job from an uploaded executable; returns its id once it is accepted (its plan
/// known, its slots requested).
pub(crate) async fn submit(
    jobmanager: &Arc<JobManager>,
    jar_id: &str,
    request: JarRunRequest,
) -> Result<String, SubmitError> {
    let path = jobmanager
        .jars
        .path(jar_id)
        .ok_or_else(|| SubmitError::NoJar(jar_id.to_string()))?;
    if request.parallelism == Some(0) {
        return Err(SubmitError::Bad("parallelism must be at least 1".into()));
    }
    let name = jobmanager.jars.name(jar_id);
    let (exe, args, parallelism) = (
        path.clone(),
        request.program_args.clone(),
        request.parallelism,
    );
    let plan = tokio::task::spawn_blocking(move || {
        plan_extract::extract(&exe, &name, &args, parallelism, plan_extract::PLAN_TIMEOUT)
    })
    .await
    .map_err(|e| SubmitError::Bad(format!("planning failed: {e}")))?
    .map_err(|e: PlanError| SubmitError::Bad(e.to_string()))?;
    let job_id = crate::process::random_hex(16);
    tracing::info!(job = %job_id, name = %plan.job_name, tasks = plan.tasks(), "job submitted");
    let deployments = {
        let mut state = jobmanager.state();
        state.submit(
            job_id.clone(),
            jar_id.to_string(),
            path.display().to_string(),
            request.program_args,
            request.parallelism,
            plan,
        );
        state.schedule()
    };
    jobmanager.persist();
    deploy(jobmanager, deployments);
    Ok(job_id)
}

/// Sends each deployment to its taskmanager (in the background); a failure fails the job.
pub(crate) fn deploy(jobmanager: &Arc<JobManager>, deployments: Vec<Deployment>) {
    for deployment in deployments {
        let jobmanager = jobmanager.clone();
        tokio::spawn(async move {
            let url = format!("{}/jobs", deployment.address);
            let result = jobmanager
                .http
                .post(&url)
                .bearer_auth(&*jobmanager.token)
                .json(&deployment.request)
                .send()
                .await
                .and_then(|r| r.error_for_status());
            match result {
                Ok(_) => tracing::info!(
                    job = %deployment.request.job_id,
                    taskmanager = %deployment.taskmanager,
                    "job deployed"
                ),
                Err(error) => {
                    let message = format!(
                        "cannot deploy to taskmanager {}: {error}",
                        deployment.taskmanager
                    );
                    tracing::warn!(job = %deployment.request.job_id, %message);
                    jobmanager.state().deployment_failed(
                        &deployment.request.job_id,
                        &deployment.taskmanager,
                        message,
                    );
                }
            }
        });
    }
}

/// Asks for a job's cancellation; false when the job is unknown.
pub(crate) fn cancel(jobmanager: &Arc<JobManager>, job_id: &str) -> bool {
    let Some(taskmanager) = jobmanager.state().cancel(job_id) else {
        return false;
    };
    tracing::info!(job = %job_id, "cancellation requested");
    if let Some(address) = taskmanager {
        let jobmanager = jobmanager.clone();
        let url = format!("{address}/jobs/{job_id}/cancel");
        tokio::spawn(async move {
            let result = jobmanager
                .http
                .post(&url)
                .bearer_auth(&*jobmanager.token)
                .send()
                .await
                .and_then(|r| r.error_for_status());
            if let Err(error) = result {
                tracing::warn!(%url, %error, "cannot tell the taskmanager to cancel");
            }
        });
    }
    true
}
