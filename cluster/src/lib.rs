//! # eddy-cluster
//!
//! The `eddy` binary's code: a jobmanager and taskmanagers as separate OS processes, job
//! submission of native Eddy executables (as Flink submits jars), a REST API with Apache
//! Flink's paths and field names, bearer-token security, Prometheus metrics, and a CLI shaped
//! like `flink`.
//!
//! - [`cli`]: the command line (`cluster start|stop`, `jobmanager`, `taskmanager`, `run`,
//!   `list`, `cancel`, `info`).
//! - `jobmanager/`: dispatcher, resource manager and the state they share.
//! - `taskmanager/`: slots, heartbeats, one worker process per job.
//! - `rest/`: the jobmanager's REST API, metrics and OpenAPI document.
//! - [`protocol`]: every JSON shape that crosses a process boundary.
//! - `plan_extract.rs`: asking an executable for its plan (`--plan`).
//! - `auth.rs`, `dir.rs`, `client.rs`, `process.rs`, `logging.rs`: token, cluster
//!   directory, REST client, pids and signals, logs.
//!
//! How a program becomes a job: `eddy run ./wordcount -- --input words.txt` uploads the
//! executable; the jobmanager runs `wordcount --plan --input words.txt`, which describes its
//! job graph instead of running it (`eddy_runtime::cluster`), picks a taskmanager with free
//! slots, and that taskmanager starts `wordcount --input words.txt` in worker mode.

mod auth;
pub mod cli;
mod client;
mod dir;
mod jobmanager;
mod logging;
mod plan_extract;
mod process;
pub mod protocol;
mod rest;
mod taskmanager;
