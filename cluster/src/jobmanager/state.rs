//! What the jobmanager knows: registered taskmanagers (the resource manager's view) and jobs
//! (the dispatcher's), with the decisions that change them: registration, heartbeats, slot
//! assignment, reports from workers, loss of a taskmanager. Pure data, no I/O: the REST
//! handlers call it under one lock and do the I/O it asks for afterwards.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use eddy_runtime::cluster::plan::PlanDescription;
use eddy_runtime::cluster::status::OperatorCounts;

use crate::process::now_ms;
use crate::protocol::{
    DeployRequest, ExceptionEntry, Hardware, JobState, RegisterRequest, WorkerReport,
};

/// A registered taskmanager.
#[derive(Debug, Clone)]
pub(crate) struct TaskManager {
    pub(crate) id: String,
    pub(crate) address: String,
    pub(crate) slots: u32,
    pub(crate) pid: u32,
    pub(crate) hardware: Hardware,
    pub(crate) last_heartbeat: Instant,
    pub(crate) last_heartbeat_ms: i64,
}

/// A submitted job.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) jar_id: String,
    pub(crate) jar_path: String,
    pub(crate) args: Vec<String>,
    pub(crate) parallelism: Option<u32>,
    pub(crate) plan: PlanDescription,
    pub(crate) state: JobState,
    pub(crate) timestamps: BTreeMap<JobState, i64>,
    pub(crate) start_time: i64,
    pub(crate) end_time: i64,
    pub(crate) submitted: Instant,
    /// The taskmanager it was deployed to.
    pub(crate) taskmanager: Option<String>,
    pub(crate) slots: u32,
    pub(crate) cancel_requested: bool,
    /// Newest first.
    pub(crate) exceptions: Vec<ExceptionEntry>,
    pub(crate) operators: Vec<OperatorCounts>,
    /// Records in and out per second, per operator, over the last two reports.
    pub(crate) rates: Vec<(f64, f64)>,
    pub(crate) counts_at: Option<Instant>,
    /// Restarts by the cluster (after losing its taskmanager).
    pub(crate) restarts: u32,
    /// Restarts inside its worker (the program's own restart strategy).
    pub(crate) worker_restarts: u32,
    /// Whether the job store holds its latest state.
    pub(crate) saved: bool,
}

/// What the job store keeps of a job, so that a restarted jobmanager knows it again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct JobRecord {
    id: String,
    name: String,
    jar_id: String,
    jar_path: String,
    args: Vec<String>,
    parallelism: Option<u32>,
    plan: PlanDescription,
    state: JobState,
    timestamps: BTreeMap<JobState, i64>,
    start_time: i64,
    end_time: i64,
    taskmanager: Option<String>,
    slots: u32,
    cancel_requested: bool,
    exceptions: Vec<ExceptionEntry>,
    #[serde(default)]
    restarts: u32,
}

impl JobRecord {
    /// The job's id.
    pub(crate) fn id(&self) -> &str {
        &self.id
    }
}

impl Job {
    fn record(&self) -> JobRecord {
        JobRecord {
            id: self.id.clone(),
            name: self.name.clone(),
            jar_id: self.jar_id.clone(),
            jar_path: self.jar_path.clone(),
            args: self.args.clone(),
            parallelism: self.parallelism,
            plan: self.plan.clone(),
            state: self.state,
            timestamps: self.timestamps.clone(),
            start_time: self.start_time,
            end_time: self.end_time,
            taskmanager: self.taskmanager.clone(),
            slots: self.slots,
            cancel_requested: self.cancel_requested,
            exceptions: self.exceptions.clone(),
            restarts: self.restarts,
        }
    }

    fn from_record(r: JobRecord) -> Job {
        Job {
            id: r.id,
            name: r.name,
            jar_id: r.jar_id,
            jar_path: r.jar_path,
            args: r.args,
            parallelism: r.parallelism,
            plan: r.plan,
            state: r.state,
            timestamps: r.timestamps,
            start_time: r.start_time,
            end_time: r.end_time,
            submitted: Instant::now(),
            taskmanager: r.taskmanager,
            slots: r.slots,
            cancel_requested: r.cancel_requested,
            exceptions: r.exceptions,
            operators: Vec::new(),
            rates: Vec::new(),
            counts_at: None,
            restarts: r.restarts,
            worker_restarts: 0,
            saved: true,
        }
    }

    /// Milliseconds the job has run (until now, or until it ended).
    pub(crate) fn duration(&self) -> i64 {
        let end = if self.end_time >= 0 {
            self.end_time
        } else {
            now_ms()
        };
        (end - self.start_time).max(0)
    }

    /// The last time its state changed.
    pub(crate) fn last_modification(&self) -> i64 {
        self.timestamps
            .values()
            .copied()
            .max()
            .unwrap_or(self.start_time)
    }

    fn enter(&mut self, state: JobState) {
        if self.state == state {
            return;
        }
        let now = now_ms();
        self.saved = false;
        self.state = state;
        self.timestamps.insert(state, now);
        if state.is_terminal() {
            self.end_time = now;
        }
    }

    fn fail(&mut self, name: &str, message: String, taskmanager: Option<String>) {
        self.record_exception(name, message, taskmanager);
        self.enter(JobState::Failed);
    }

    /// The job's taskmanager is gone: the job waits for slots again (RESTARTING, its worker
    /// started afresh: from the program's own latest checkpoint, if it takes checkpoints)
    /// while `attempts` allow, and fails after that.
    fn lose_taskmanager(&mut self, taskmanager: &str, message: String, attempts: u32) {
        if self.cancel_requested {
            self.enter(JobState::Canceled);
        } else if self.restarts < attempts {
            self.record_exception(
                "TaskManagerLostException",
                message,
                Some(taskmanager.into()),
            );
            self.restarts += 1;
            self.taskmanager = None;
            self.submitted = Instant::now();
            self.enter(JobState::Restarting);
        } else {
            self.fail(
                "TaskManagerLostException",
                message,
                Some(taskmanager.into()),
            );
        }
    }

    /// Adds a failure to the job's exception history (newest first).
    fn record_exception(&mut self, name: &str, message: String, taskmanager: Option<String>) {
        self.saved = false;
        self.exceptions.insert(
            0,
            ExceptionEntry {
                exception_name: name.to_string(),
                stacktrace: message,
                timestamp: now_ms(),
                task_name: None,
                taskmanager_id: taskmanager,
            },
        );
    }
}

/// A job to start on a taskmanager, decided by [`ClusterState::schedule`].
#[derive(Debug, Clone)]
pub(crate) struct Deployment {
    pub(crate) taskmanager: String,
    pub(crate) address: String,
    pub(crate) request: DeployRequest,
}

/// The jobmanager's state.
#[derive(Debug, Default)]
pub(crate) struct ClusterState {
    pub(crate) taskmanagers: BTreeMap<String, TaskManager>,
    /// In submission order.
    pub(crate) jobs: Vec<Job>,
    /// How often a job is restarted after losing its taskmanager before it fails.
    pub(crate) restart_attempts: u32,
}

impl ClusterState {
    /// Registers (or re-registers) a taskmanager; returns its id.
    pub(crate) fn register(&mut self, request: RegisterRequest) -> String {
        let port = request
            .address
            .rsplit(':')
            .next()
            .unwrap_or("0")
            .trim_end_matches('/');
        let id = format!("taskmanager-{}-{port}", request.index);
        self.taskmanagers.insert(
            id.clone(),
            TaskManager {
                id: id.clone(),
                address: request.address,
                slots: request.slots,
                pid: request.pid,
                hardware: request.hardware,
                last_heartbeat: Instant::now(),
                last_heartbeat_ms: now_ms(),
            },
        );
        id
    }

    /// Slots of `taskmanager` not held by a job that is still alive.
    pub(crate) fn free_slots(&self, taskmanager: &TaskManager) -> u32 {
        let used: u32 = self
            .jobs
            .iter()
            .filter(|j| !j.state.is_terminal() && j.taskmanager.as_deref() == Some(&taskmanager.id))
            .map(|j| j.slots)
            .sum();
        taskmanager.slots.saturating_sub(used)
    }

    /// Slots over all taskmanagers, and those free.
    pub(crate) fn slots(&self) -> (u32, u32) {
        self.taskmanagers
            .values()
            .fold((0, 0), |(total, free), tm| {
                (total + tm.slots, free + self.free_slots(tm))
            })
    }

    /// The job with this id.
    pub(crate) fn job(&self, id: &str) -> Option<&Job> {
        self.jobs.iter().find(|j| j.id == id)
    }

    fn job_mut(&mut self, id: &str) -> Option<&mut Job> {
        self.jobs.iter_mut().find(|j| j.id == id)
    }

    /// Adds a job in state CREATED.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn submit(
        &mut self,
        id: String,
        jar_id: String,
        jar_path: String,
        args: Vec<String>,
        parallelism: Option<u32>,
        plan: PlanDescription,
    ) {
        let now = now_ms();
        self.jobs.push(Job {
            name: plan.job_name.clone(),
            slots: plan.slots_needed(),
            id,
            jar_id,
            jar_path,
            args,
            parallelism,
            plan,
            state: JobState::Created,
            timestamps: BTreeMap::from([(JobState::Created, now)]),
            start_time: now,
            end_time: -1,
            submitted: Instant::now(),
            taskmanager: None,
            cancel_requested: false,
            exceptions: Vec::new(),
            operators: Vec::new(),
            rates: Vec::new(),
            counts_at: None,
            restarts: 0,
            worker_restarts: 0,
            saved: false,
        });
    }

    /// Assigns waiting jobs (first come, first served) to the taskmanager with the most free
    /// slots that can hold them; returns what to deploy. A job holds as many slots as its
    /// highest operator parallelism (slot sharing).
    pub(crate) fn schedule(&mut self) -> Vec<Deployment> {
        let mut deployments = Vec::new();
        for j in 0..self.jobs.len() {
            let job = &self.jobs[j];
            let waiting = matches!(job.state, JobState::Created | JobState::Restarting);
            if !waiting || job.taskmanager.is_some() || job.cancel_requested {
                continue;
            }
            let best = self
                .taskmanagers
                .values()
                .map(|tm| (self.free_slots(tm), tm))
                .filter(|(free, _)| *free >= job.slots)
                .max_by(|a, b| a.0.cmp(&b.0).then_with(|| b.1.id.cmp(&a.1.id)))
                .map(|(_, tm)| (tm.id.clone(), tm.address.clone()));
            let Some((taskmanager, address)) = best else {
                continue;
            };
            let job = &mut self.jobs[j];
            job.taskmanager = Some(taskmanager.clone());
            job.saved = false;
            deployments.push(Deployment {
                taskmanager,
                address,
                request: DeployRequest {
                    job_id: job.id.clone(),
                    jar_id: job.jar_id.clone(),
                    jar_path: job.jar_path.clone(),
                    args: job.args.clone(),
                    parallelism: job.parallelism,
                },
            });
        }
        deployments
    }

    /// Fails waiting jobs that got no slots within `timeout`.
    pub(crate) fn expire_waiting(&mut self, timeout: Duration) {
        for job in &mut self.jobs {
            if matches!(job.state, JobState::Created | JobState::Restarting)
                && job.taskmanager.is_none()
                && job.submitted.elapsed() > timeout
            {
                let message = format!(
                    "NoResourceAvailableException: the job needs {} slots on one taskmanager \
                     and got none within {} s",
                    job.slots,
                    timeout.as_secs()
                );
                job.fail("NoResourceAvailableException", message, None);
            }
        }
    }

    /// A deployment failed: the job fails.
    pub(crate) fn deployment_failed(&mut self, job_id: &str, taskmanager: &str, message: String) {
        if let Some(job) = self.job_mut(job_id) {
            if !job.state.is_terminal() {
                job.fail(
                    "DeploymentException",
                    message,
                    Some(taskmanager.to_string()),
                );
            }
        }
    }

    /// Applies a worker's report from `taskmanager`.
    pub(crate) fn report(&mut self, taskmanager: &str, report: WorkerReport) {
        let Some(job) = self.job_mut(&report.job_id) else {
            return;
        };
        if job.state.is_terminal() || job.taskmanager.as_deref() != Some(taskmanager) {
            return;
        }
        if !report.operators.is_empty() {
            let now = Instant::now();
            if let Some(at) = job.counts_at {
                let dt = now.duration_since(at).as_secs_f64();
                if dt > 0.05 && job.operators.len() == report.operators.len() {
                    job.rates = job
                        .operators
                        .iter()
                        .zip(&report.operators)
                        .map(|(old, new)| {
                            (
                                new.records_in.saturating_sub(old.records_in) as f64 / dt,
                                new.records_out.saturating_sub(old.records_out) as f64 / dt,
                            )
                        })
                        .collect();
                }
            }
            job.operators = report.operators;
            job.counts_at = Some(now);
        }
        job.worker_restarts = report.restarts;
        match report.state {
            JobState::Failed => {
                let message = report.error.unwrap_or_else(|| "the job failed".into());
                job.fail(
                    "JobExecutionException",
                    message,
                    Some(taskmanager.to_string()),
                );
            }
            JobState::Canceled if !job.cancel_requested => job.fail(
                "JobExecutionException",
                "the worker was stopped from outside the cluster".into(),
                Some(taskmanager.to_string()),
            ),
            state => {
                if state.is_terminal() {
                    job.rates = vec![(0.0, 0.0); job.operators.len()];
                }
                job.enter(state)
            }
        }
    }

    /// Records a heartbeat; false when the taskmanager is unknown (it must register again).
    pub(crate) fn heartbeat(&mut self, taskmanager: &str) -> bool {
        match self.taskmanagers.get_mut(taskmanager) {
            Some(tm) => {
                tm.last_heartbeat = Instant::now();
                tm.last_heartbeat_ms = now_ms();
                true
            }
            None => false,
        }
    }

    /// Removes taskmanagers silent for longer than `timeout`; their jobs fail. Returns the
    /// ids removed.
    pub(crate) fn expire_taskmanagers(&mut self, timeout: Duration) -> Vec<String> {
        let lost: Vec<String> = self
            .taskmanagers
            .values()
            .filter(|tm| tm.last_heartbeat.elapsed() > timeout)
            .map(|tm| tm.id.clone())
            .collect();
        for id in &lost {
            self.taskmanagers.remove(id);
            for job in &mut self.jobs {
                if !job.state.is_terminal() && job.taskmanager.as_deref() == Some(id) {
                    let message = format!(
                        "taskmanager {id} was lost: no heartbeat for more than {} ms",
                        timeout.as_millis()
                    );
                    job.lose_taskmanager(id, message, self.restart_attempts);
                }
            }
        }
        lost
    }

    /// Records of the jobs changed since the last call, for the job store.
    pub(crate) fn take_unsaved(&mut self) -> Vec<JobRecord> {
        self.jobs
            .iter_mut()
            .filter(|j| !j.saved)
            .map(|j| {
                j.saved = true;
                j.record()
            })
            .collect()
    }

    /// Takes back the jobs of a previous jobmanager, oldest first. Their taskmanagers
    /// report them again once they have registered with this jobmanager.
    pub(crate) fn recover(&mut self, mut records: Vec<JobRecord>) {
        records.sort_by(|a, b| (a.start_time, &a.id).cmp(&(b.start_time, &b.id)));
        self.jobs.extend(records.into_iter().map(Job::from_record));
    }

    /// Fails jobs deployed to a taskmanager that is not registered (after a jobmanager
    /// restart, one that did not come back within the grace period).
    pub(crate) fn expire_orphans(&mut self) {
        for job in &mut self.jobs {
            let Some(tm) = job.taskmanager.clone() else {
                continue;
            };
            if !job.state.is_terminal() && !self.taskmanagers.contains_key(&tm) {
                let message = format!(
                    "taskmanager {tm} did not register again after the jobmanager restarted"
                );
                job.lose_taskmanager(&tm, message, self.restart_attempts);
            }
        }
    }

    /// Marks a job for cancellation. Returns the taskmanager address to tell, if it was
    /// deployed; a job still waiting for slots is cancelled at once. `None` when unknown.
    pub(crate) fn cancel(&mut self, job_id: &str) -> Option<Option<String>> {
        let job = self.jobs.iter_mut().find(|j| j.id == job_id)?;
        if job.state.is_terminal() {
            return Some(None);
        }
        job.cancel_requested = true;
        job.saved = false;
        match job.taskmanager.clone() {
            None => {
                job.enter(JobState::Canceled);
                Some(None)
            }
            Some(tm) => Some(self.taskmanagers.get(&tm).map(|t| t.address.clone())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use eddy_runtime::cluster::plan::OperatorDescription;

    fn plan(parallelism: u32) -> PlanDescription {
        PlanDescription {
            protocol_version: eddy_runtime::cluster::PROTOCOL_VERSION,
            runtime_version: "test".into(),
            job_name: "job".into(),
            mode: "BATCH".into(),
            parallelism,
            max_parallelism: 128,
            operators: vec![OperatorDescription {
                id: 0,
                uid: "source".into(),
                name: "source".into(),
                parallelism,
                source: true,
                chain: 0,
            }],
            edges: vec![],
            vertices: vec![],
        }
    }

    fn register(state: &mut ClusterState, index: u32, slots: u32) -> String {
        state.register(RegisterRequest {
            index,
            address: format!("http://127.0.0.1:{}", 9000 + index),
            slots,
            pid: 1,
            hardware: Hardware::default(),
        })
    }

    fn submit(state: &mut ClusterState, id: &str, parallelism: u32) {
        state.submit(
            id.into(),
            "jar".into(),
            "/jar".into(),
            vec![],
            Some(parallelism),
            plan(parallelism),
        );
    }

    #[test]
    fn jobs_go_where_the_slots_are_and_wait_when_there_are_none() {
        let mut state = ClusterState::default();
        let a = register(&mut state, 0, 2);
        let b = register(&mut state, 1, 3);
        submit(&mut state, "j1", 3);
        submit(&mut state, "j2", 2);
        submit(&mut state, "j3", 2);
        let deployed = state.schedule();
        assert_eq!(
            deployed
                .iter()
                .map(|d| (d.request.job_id.as_str(), d.taskmanager.as_str()))
                .collect::<Vec<_>>(),
            vec![("j1", b.as_str()), ("j2", a.as_str())]
        );
        assert_eq!(state.slots(), (5, 0));
        // j1 finishes: its slots free up and j3 goes there.
        state.report(
            &b,
            WorkerReport {
                job_id: "j1".into(),
                state: JobState::Finished,
                error: None,
                operators: vec![],
                restarts: 0,
            },
        );
        let deployed = state.schedule();
        assert_eq!(deployed.len(), 1);
        assert_eq!(deployed[0].request.job_id, "j3");
        assert_eq!(deployed[0].taskmanager, b);
        assert_eq!(state.slots(), (5, 1));
    }

    #[test]
    fn a_lost_taskmanager_fails_its_jobs_and_frees_nothing_elsewhere() {
        let mut state = ClusterState::default();
        let a = register(&mut state, 0, 2);
        submit(&mut state, "j1", 2);
        state.schedule();
        state.taskmanagers.get_mut(&a).unwrap().last_heartbeat =
            Instant::now() - Duration::from_secs(10);
        assert_eq!(
            state.expire_taskmanagers(Duration::from_secs(3)),
            vec![a.clone()]
        );
        let job = state.job("j1").unwrap();
        assert_eq!(job.state, JobState::Failed);
        assert!(job.exceptions[0].stacktrace.contains(&a));
        assert_eq!(state.slots(), (0, 0));
    }

    #[test]
    fn a_recovered_job_is_known_again_and_reported_to() {
        let mut state = ClusterState::default();
        let a = register(&mut state, 0, 2);
        submit(&mut state, "j1", 2);
        state.schedule();
        let records = state.take_unsaved();
        assert_eq!(records.len(), 1);
        assert!(state.take_unsaved().is_empty());
        let json = serde_json::to_string(&records).unwrap();

        let mut restarted = ClusterState::default();
        restarted.recover(serde_json::from_str(&json).unwrap());
        assert_eq!(restarted.slots(), (0, 0));
        let again = register(&mut restarted, 0, 2);
        assert_eq!(again, a);
        assert_eq!(restarted.slots(), (2, 0));
        restarted.report(
            &a,
            WorkerReport {
                job_id: "j1".into(),
                state: JobState::Running,
                error: None,
                operators: vec![],
                restarts: 0,
            },
        );
        restarted.expire_orphans();
        assert_eq!(restarted.job("j1").unwrap().state, JobState::Running);
        assert!(restarted.schedule().is_empty());
        // A taskmanager that never comes back fails its jobs.
        restarted.taskmanagers.clear();
        restarted.expire_orphans();
        assert_eq!(restarted.job("j1").unwrap().state, JobState::Failed);
    }

    #[test]
    fn a_job_restarts_on_the_remaining_slots_while_attempts_last() {
        let mut state = ClusterState {
            restart_attempts: 1,
            ..ClusterState::default()
        };
        let a = register(&mut state, 0, 2);
        let b = register(&mut state, 1, 2);
        submit(&mut state, "j1", 2);
        let first = state.schedule()[0].taskmanager.clone();
        state.taskmanagers.get_mut(&first).unwrap().last_heartbeat =
            Instant::now() - Duration::from_secs(10);
        state.expire_taskmanagers(Duration::from_secs(3));
        let job = state.job("j1").unwrap();
        assert_eq!((job.state, job.restarts), (JobState::Restarting, 1));
        assert!(job.exceptions[0].stacktrace.contains("was lost"));
        let second = state.schedule();
        let other = if first == a { &b } else { &a };
        assert_eq!(&second[0].taskmanager, other);
        // Reports from the lost taskmanager no longer count.
        let running = |tm: &str, state: &mut ClusterState| {
            state.report(
                tm,
                WorkerReport {
                    job_id: "j1".into(),
                    state: JobState::Running,
                    error: None,
                    operators: vec![],
                    restarts: 0,
                },
            )
        };
        running(&first, &mut state);
        assert_eq!(state.job("j1").unwrap().state, JobState::Restarting);
        running(other, &mut state);
        assert_eq!(state.job("j1").unwrap().state, JobState::Running);
        // No attempts left: losing the second taskmanager fails the job.
        state.taskmanagers.get_mut(other).unwrap().last_heartbeat =
            Instant::now() - Duration::from_secs(10);
        state.expire_taskmanagers(Duration::from_secs(3));
        assert_eq!(state.job("j1").unwrap().state, JobState::Failed);
        assert_eq!(state.job("j1").unwrap().exceptions.len(), 2);
    }

    #[test]
    fn cancelling_a_waiting_job_needs_no_taskmanager() {
        let mut state = ClusterState::default();
        submit(&mut state, "j1", 2);
        assert_eq!(state.cancel("j1"), Some(None));
        assert_eq!(state.job("j1").unwrap().state, JobState::Canceled);
        assert_eq!(state.cancel("nope"), None);
    }
}
