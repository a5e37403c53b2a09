//! The cluster's wire formats: the REST API's JSON (with Apache Flink's paths' field names,
//! so Flink's tools and habits carry over) and the messages between jobmanager and
//! taskmanagers. Everything that crosses a process boundary is declared here, once.
//!
//! ```
//! use eddy_cluster::protocol::{JobState, Overview};
//!
//! let json = r#"{"taskmanagers":1,"slots-total":2,"slots-available":2,"jobs-running":0,
//!   "jobs-finished":0,"jobs-cancelled":0,"jobs-failed":0,"flink-version":"eddy 0.1.0",
//!   "flink-commit":""}"#;
//! let overview: Overview = serde_json::from_str(json).unwrap();
//! assert_eq!(overview.slots_total, 2);
//! assert!(JobState::Canceled.is_terminal());
//! ```

use std::collections::BTreeMap;

use eddy_runtime::cluster::status::OperatorCounts;
use serde::{Deserialize, Serialize};

/// A job's state, as Flink names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobState {
    /// Accepted, waiting for slots or being deployed.
    Created,
    /// Its worker runs.
    Running,
    /// Ended successfully.
    Finished,
    /// Cancelled by a user.
    Canceled,
    /// Ended with an error.
    Failed,
    /// Being restarted after a failure.
    Restarting,
}

impl JobState {
    /// Whether the job has ended for good.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            JobState::Finished | JobState::Canceled | JobState::Failed
        )
    }

    /// The name Flink uses (`RUNNING`, ...).
    pub fn name(self) -> &'static str {
        match self {
            JobState::Created => "CREATED",
            JobState::Running => "RUNNING",
            JobState::Finished => "FINISHED",
            JobState::Canceled => "CANCELED",
            JobState::Failed => "FAILED",
            JobState::Restarting => "RESTARTING",
        }
    }
}

/// `GET /overview`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overview {
    /// Registered taskmanagers.
    pub taskmanagers: u32,
    /// Slots over all taskmanagers.
    #[serde(rename = "slots-total")]
    pub slots_total: u32,
    /// Slots not used by a job.
    #[serde(rename = "slots-available")]
    pub slots_available: u32,
    /// Jobs created, running or restarting.
    #[serde(rename = "jobs-running")]
    pub jobs_running: u32,
    /// Jobs finished.
    #[serde(rename = "jobs-finished")]
    pub jobs_finished: u32,
    /// Jobs cancelled.
    #[serde(rename = "jobs-cancelled")]
    pub jobs_cancelled: u32,
    /// Jobs failed.
    #[serde(rename = "jobs-failed")]
    pub jobs_failed: u32,
    /// The cluster's version.
    #[serde(rename = "flink-version")]
    pub version: String,
    /// The cluster's build (empty when unknown).
    #[serde(rename = "flink-commit")]
    pub commit: String,
}

/// Tasks of a job or vertex by state (`tasks` of `/jobs/overview`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskCounts {
    /// All tasks.
    pub total: u32,
    /// Not yet scheduled.
    pub created: u32,
    /// Waiting for a slot.
    pub scheduled: u32,
    /// Being deployed.
    pub deploying: u32,
    /// Running.
    pub running: u32,
    /// Finished.
    pub finished: u32,
    /// Being cancelled.
    pub canceling: u32,
    /// Cancelled.
    pub canceled: u32,
    /// Failed.
    pub failed: u32,
    /// Reconciling after a jobmanager failover.
    pub reconciling: u32,
    /// Initializing (restoring state).
    pub initializing: u32,
}

impl TaskCounts {
    /// `total` tasks, all in the state that matches `state`.
    pub fn all_in(state: JobState, total: u32) -> Self {
        let mut counts = TaskCounts {
            total,
            ..TaskCounts::default()
        };
        *match state {
            JobState::Created => &mut counts.scheduled,
            JobState::Running => &mut counts.running,
            JobState::Finished => &mut counts.finished,
            JobState::Canceled => &mut counts.canceled,
            JobState::Failed => &mut counts.failed,
            JobState::Restarting => &mut counts.created,
        } = total;
        counts
    }
}

/// One job of `GET /jobs/overview`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobOverview {
    /// The job id: 32 lowercase hex characters.
    pub jid: String,
    /// The job's name.
    pub name: String,
    /// Its state.
    pub state: JobState,
    /// When it was submitted, in ms since the epoch.
    #[serde(rename = "start-time")]
    pub start_time: i64,
    /// When it ended, in ms since the epoch, or -1.
    #[serde(rename = "end-time")]
    pub end_time: i64,
    /// How long it ran (so far), in ms.
    pub duration: i64,
    /// When its state last changed, in ms since the epoch.
    #[serde(rename = "last-modification")]
    pub last_modification: i64,
    /// Its tasks by state.
    pub tasks: TaskCounts,
}

/// `GET /jobs/overview`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobsOverview {
    /// Every job the jobmanager knows.
    pub jobs: Vec<JobOverview>,
}

/// One job of `GET /jobs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobIdStatus {
    /// The job id.
    pub id: String,
    /// Its state.
    pub status: JobState,
}

/// `GET /jobs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobList {
    /// Every job's id and state.
    pub jobs: Vec<JobIdStatus>,
}

/// Record counts of a vertex (`metrics` of a vertex in `GET /jobs/:id`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VertexMetrics {
    /// Bytes received (0 until records cross processes).
    #[serde(rename = "read-bytes")]
    pub read_bytes: u64,
    /// Bytes sent (0 until records cross processes).
    #[serde(rename = "write-bytes")]
    pub write_bytes: u64,
    /// Records received by the vertex's first operator.
    #[serde(rename = "read-records")]
    pub read_records: u64,
    /// Records emitted by the vertex's last operator.
    #[serde(rename = "write-records")]
    pub write_records: u64,
    /// Whether the counts are final.
    #[serde(rename = "read-records-complete")]
    pub complete: bool,
}

/// One vertex (task chain) of `GET /jobs/:id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VertexDetails {
    /// A stable 32-hex-character id, from the uid of the chain's first operator.
    pub id: String,
    /// The names of its operators, joined by ` -> `.
    pub name: String,
    /// The job's max parallelism.
    #[serde(rename = "maxParallelism")]
    pub max_parallelism: u32,
    /// Its number of subtasks.
    pub parallelism: u32,
    /// Its state (the job's).
    pub status: JobState,
    /// Start, in ms since the epoch.
    #[serde(rename = "start-time")]
    pub start_time: i64,
    /// End, in ms since the epoch, or -1.
    #[serde(rename = "end-time")]
    pub end_time: i64,
    /// Run time in ms.
    pub duration: i64,
    /// Its subtasks by state.
    pub tasks: TaskCounts,
    /// Its record counts.
    pub metrics: VertexMetrics,
}

/// `GET /jobs/:id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobDetails {
    /// The job id.
    pub jid: String,
    /// The job's name.
    pub name: String,
    /// Whether `stop` (savepoint then stop) applies; false until savepoints cross processes.
    #[serde(rename = "isStoppable")]
    pub is_stoppable: bool,
    /// Its state.
    pub state: JobState,
    /// `BATCH` or `STREAMING`.
    #[serde(rename = "job-type")]
    pub job_type: String,
    /// Submission time, in ms since the epoch.
    #[serde(rename = "start-time")]
    pub start_time: i64,
    /// End time, in ms since the epoch, or -1.
    #[serde(rename = "end-time")]
    pub end_time: i64,
    /// Run time in ms.
    pub duration: i64,
    /// The job's max parallelism (key groups).
    #[serde(rename = "maxParallelism")]
    pub max_parallelism: u32,
    /// The jobmanager's clock, in ms since the epoch.
    pub now: i64,
    /// When the job entered each state, in ms since the epoch.
    pub timestamps: BTreeMap<String, i64>,
    /// Its vertices.
    pub vertices: Vec<VertexDetails>,
    /// Vertices by state.
    #[serde(rename = "status-counts")]
    pub status_counts: BTreeMap<String, u32>,
    /// The job's plan, as `GET /jobs/:id/plan` answers it.
    pub plan: serde_json::Value,
    /// The taskmanager running it (an Eddy addition).
    pub taskmanager: Option<String>,
}

/// One entry of a job's exception history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExceptionEntry {
    /// The kind of failure.
    #[serde(rename = "exceptionName")]
    pub exception_name: String,
    /// The failure's message (Eddy has no stack traces: the root cause).
    pub stacktrace: String,
    /// When it happened, in ms since the epoch.
    pub timestamp: i64,
    /// The task that failed, when known.
    #[serde(rename = "taskName")]
    pub task_name: Option<String>,
    /// The taskmanager where it happened.
    #[serde(rename = "taskManagerId")]
    pub taskmanager_id: Option<String>,
}

/// The `exceptionHistory` of `GET /jobs/:id/exceptions`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExceptionHistory {
    /// Failures, newest first.
    pub entries: Vec<ExceptionEntry>,
    /// Whether older entries were dropped.
    pub truncated: bool,
}

/// `GET /jobs/:id/exceptions`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobExceptions {
    /// The latest failure's message.
    #[serde(rename = "root-exception")]
    pub root_exception: Option<String>,
    /// When it happened, in ms since the epoch.
    pub timestamp: Option<i64>,
    /// Failures, newest first.
    #[serde(rename = "exceptionHistory")]
    pub history: ExceptionHistory,
}

/// Hardware of a taskmanager.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hardware {
    /// CPU cores the process may use.
    #[serde(rename = "cpuCores")]
    pub cpu_cores: u32,
    /// Physical memory in bytes (0 when unknown).
    #[serde(rename = "physicalMemory")]
    pub physical_memory: u64,
}

/// One taskmanager of `GET /taskmanagers` (and `GET /taskmanagers/:id`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskManagerInfo {
    /// Its id.
    pub id: String,
    /// Its REST address.
    pub path: String,
    /// The port records will be exchanged on (0: none yet).
    #[serde(rename = "dataPort")]
    pub data_port: u16,
    /// When its last heartbeat arrived, in ms since the epoch (Flink's name).
    #[serde(rename = "timeSinceLastHeartbeat")]
    pub last_heartbeat: i64,
    /// Its slots.
    #[serde(rename = "slotsNumber")]
    pub slots: u32,
    /// Its slots not used by a job.
    #[serde(rename = "freeSlots")]
    pub free_slots: u32,
    /// Its hardware.
    pub hardware: Hardware,
    /// Its process id (an Eddy addition).
    pub pid: u32,
    /// The jobs it runs (an Eddy addition).
    pub jobs: Vec<String>,
}

/// `GET /taskmanagers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskManagers {
    /// Every registered taskmanager.
    pub taskmanagers: Vec<TaskManagerInfo>,
}

/// One entry of `GET /jobmanager/config`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigEntry {
    /// The option's name (Flink's where one exists).
    pub key: String,
    /// Its value.
    pub value: String,
}

/// `POST /jars/upload`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JarUploadResponse {
    /// Where the jobmanager stored it.
    pub filename: String,
    /// `success`.
    pub status: String,
    /// Its id: the SHA-256 of its content, in hex.
    pub id: String,
}

/// One executable of `GET /jars`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JarFile {
    /// Its id (SHA-256 of the content).
    pub id: String,
    /// The file name it was uploaded under.
    pub name: String,
    /// When it was uploaded, in ms since the epoch.
    pub uploaded: i64,
    /// Its size in bytes.
    pub size: u64,
}

/// `GET /jars`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JarList {
    /// The jobmanager's REST address.
    pub address: String,
    /// Every uploaded executable.
    pub files: Vec<JarFile>,
}

/// The body of `POST /jars/:id/run`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JarRunRequest {
    /// The program's arguments.
    #[serde(rename = "programArgsList", default)]
    pub program_args: Vec<String>,
    /// The job's default parallelism (the program's own when absent).
    #[serde(default)]
    pub parallelism: Option<u32>,
}

/// The answer to `POST /jars/:id/run`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JarRunResponse {
    /// The new job's id.
    pub jobid: String,
}

/// The body of every error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorResponse {
    /// What went wrong, one message each.
    pub errors: Vec<String>,
}

/// A taskmanager's registration (internal).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterRequest {
    /// Its index in its cluster directory (`taskmanager-<index>`).
    pub index: u32,
    /// Its own REST base URL.
    pub address: String,
    /// Its slots.
    pub slots: u32,
    /// Its process id.
    pub pid: u32,
    /// Its hardware.
    pub hardware: Hardware,
}

/// The jobmanager's answer to a registration (internal).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterResponse {
    /// The id the jobmanager knows it by.
    pub taskmanager_id: String,
    /// How often to send heartbeats, in ms.
    pub heartbeat_interval_ms: u64,
}

/// What a taskmanager reports of one job it runs (internal).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerReport {
    /// The job.
    pub job_id: String,
    /// Its state on the taskmanager.
    pub state: JobState,
    /// The failure cause, when it failed.
    pub error: Option<String>,
    /// Per-operator record counts, in plan order.
    pub operators: Vec<OperatorCounts>,
    /// Restarts inside the worker.
    pub restarts: u32,
}

/// A taskmanager's heartbeat (internal).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heartbeat {
    /// Every job it runs or ran since the last heartbeat.
    pub workers: Vec<WorkerReport>,
}

/// The jobmanager's order to start a job on a taskmanager (internal).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployRequest {
    /// The job.
    pub job_id: String,
    /// The executable's id (SHA-256).
    pub jar_id: String,
    /// Where the jobmanager keeps it (used directly when the taskmanager shares the disk).
    pub jar_path: String,
    /// The program's arguments.
    pub args: Vec<String>,
    /// The job's default parallelism, when `-p` gave one.
    pub parallelism: Option<u32>,
}
