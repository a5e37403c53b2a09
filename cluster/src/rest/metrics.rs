//! Metrics in the Prometheus text format (version 0.0.4), at `/metrics` on every process.
//!
//! Names follow Flink's Prometheus reporter with an `eddy_` prefix:
//! `eddy_jobmanager_numRegisteredTaskManagers`, `eddy_jobmanager_taskSlotsTotal`,
//! `eddy_jobmanager_job_uptime{job_id,job_name}`,
//! `eddy_taskmanager_job_task_operator_numRecordsIn{job_id,job_name,operator_name,operator_id}`,
//! and so on.

use std::fmt::Write;
use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use eddy_runtime::cluster::status::OperatorCounts;

use crate::jobmanager::JobManager;
use crate::protocol::JobState;

/// The content type of the text format.
pub(crate) const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Builds a Prometheus text exposition, one metric family at a time.
#[derive(Default)]
pub(crate) struct Exposition {
    text: String,
    declared: Vec<String>,
}

/// Escapes a label value.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Exposition {
    /// Adds one sample of metric `name` (of `kind` `gauge` or `counter`) with `labels`.
    pub(crate) fn sample(
        &mut self,
        name: &str,
        kind: &str,
        help: &str,
        labels: &[(&str, &str)],
        value: f64,
    ) {
        if !self.declared.iter().any(|d| d == name) {
            self.declared.push(name.to_string());
            let _ = writeln!(self.text, "# HELP {name} {help}");
            let _ = writeln!(self.text, "# TYPE {name} {kind}");
        }
        self.text.push_str(name);
        if !labels.is_empty() {
            let labels: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
                .collect();
            let _ = write!(self.text, "{{{}}}", labels.join(","));
        }
        let _ = writeln!(self.text, " {value}");
    }

    /// Per-operator record counts and rates of one job.
    pub(crate) fn operators(
        &mut self,
        job_id: &str,
        job_name: &str,
        uids: &[String],
        operators: &[OperatorCounts],
        rates: &[(f64, f64)],
    ) {
        let prefix = "eddy_taskmanager_job_task_operator_";
        for (i, op) in operators.iter().enumerate() {
            let uid = uids.get(i).map_or(op.name.as_str(), String::as_str);
            let labels = [
                ("job_id", job_id),
                ("job_name", job_name),
                ("operator_name", op.name.as_str()),
                ("operator_id", uid),
            ];
            let (rate_in, rate_out) = rates.get(i).copied().unwrap_or((0.0, 0.0));
            self.sample(
                &format!("{prefix}numRecordsIn"),
                "counter",
                "Records received by the operator.",
                &labels,
                op.records_in as f64,
            );
            self.sample(
                &format!("{prefix}numRecordsOut"),
                "counter",
                "Records emitted by the operator.",
                &labels,
                op.records_out as f64,
            );
            self.sample(
                &format!("{prefix}numRecordsInPerSecond"),
                "gauge",
                "Records received per second.",
                &labels,
                rate_in,
            );
            self.sample(
                &format!("{prefix}numRecordsOutPerSecond"),
                "gauge",
                "Records emitted per second.",
                &labels,
                rate_out,
            );
        }
    }

    /// The finished text.
    pub(crate) fn finish(self) -> String {
        self.text
    }
}

/// `GET /metrics` of the jobmanager.
pub(super) async fn jobmanager(State(jm): State<Arc<JobManager>>) -> impl IntoResponse {
    let mut out = Exposition::default();
    {
        let state = jm.state();
        let (total, free) = state.slots();
        out.sample(
            "eddy_jobmanager_uptime",
            "gauge",
            "Milliseconds since the jobmanager started.",
            &[],
            jm.started.elapsed().as_millis() as f64,
        );
        out.sample(
            "eddy_jobmanager_numRegisteredTaskManagers",
            "gauge",
            "Registered taskmanagers.",
            &[],
            state.taskmanagers.len() as f64,
        );
        out.sample(
            "eddy_jobmanager_taskSlotsTotal",
            "gauge",
            "Slots over all taskmanagers.",
            &[],
            total as f64,
        );
        out.sample(
            "eddy_jobmanager_taskSlotsAvailable",
            "gauge",
            "Slots not used by a job.",
            &[],
            free as f64,
        );
        let running = state.jobs.iter().filter(|j| !j.state.is_terminal()).count();
        out.sample(
            "eddy_jobmanager_numRunningJobs",
            "gauge",
            "Jobs created, running or restarting.",
            &[],
            running as f64,
        );
        for job in &state.jobs {
            let labels = [("job_id", job.id.as_str()), ("job_name", job.name.as_str())];
            let uptime = if job.state == JobState::Running {
                job.duration()
            } else {
                0
            };
            out.sample(
                "eddy_jobmanager_job_uptime",
                "gauge",
                "Milliseconds the job has been running (0 when not running).",
                &labels,
                uptime as f64,
            );
            out.sample(
                "eddy_jobmanager_job_numRestarts",
                "counter",
                "Restarts of the job after failures.",
                &labels,
                (job.restarts + job.worker_restarts) as f64,
            );
        }
        for job in &state.jobs {
            let uids: Vec<String> = job.plan.operators.iter().map(|o| o.uid.clone()).collect();
            out.operators(&job.id, &job.name, &uids, &job.operators, &job.rates);
        }
    }
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], out.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_are_declared_once_and_labels_escaped() {
        let mut out = Exposition::default();
        out.sample("m", "gauge", "help", &[("a", "x\"y")], 1.0);
        out.sample("m", "gauge", "help", &[("a", "z")], 2.5);
        assert_eq!(
            out.finish(),
            "# HELP m help\n# TYPE m gauge\nm{a=\"x\\\"y\"} 1\nm{a=\"z\"} 2.5\n"
        );
    }
}
