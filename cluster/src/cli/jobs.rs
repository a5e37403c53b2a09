//! `eddy run`, `list`, `cancel`, `info`: Flink's CLI verbs over the REST API.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use super::{BadInput, CancelArgs, Connection, InfoArgs, ListArgs, RunArgs};
use crate::client::Client;
use crate::protocol::{
    JarRunRequest, JarRunResponse, JobDetails, JobExceptions, JobOverview, JobState, JobsOverview,
};

fn connect(c: &Connection) -> Result<Client> {
    Client::locate(c.jobmanager.as_deref(), c.token_file.as_deref(), &c.dir)
}

fn check_executable(path: &Path) -> Result<()> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => Ok(()),
        Ok(_) => Err(BadInput(format!("{}: not a file", path.display())).into()),
        Err(e) => Err(BadInput(format!("cannot read {}: {e}", path.display())).into()),
    }
}

/// `eddy run`.
pub(super) fn run(args: &RunArgs) -> Result<i32> {
    check_executable(&args.executable)?;
    let client = connect(&args.connection)?;
    let jar = client.upload(&args.executable)?;
    let answer: JarRunResponse = client
        .post(
            &format!("/jars/{}/run", jar.id),
            &JarRunRequest {
                program_args: args.args.clone(),
                parallelism: args.parallelism,
            },
        )
        .map_err(|e| BadInput(format!("{e:#}")))?;
    let job = answer.jobid;
    println!("Job has been submitted with JobID {job}");
    if args.detached {
        return Ok(0);
    }
    // A spinner with the job's state on a terminal (indicatif draws nothing elsewhere).
    let spinner = indicatif::ProgressBar::new_spinner();
    let details = wait_until(&client, &job, None, |d| {
        spinner.set_message(format!(
            "job {job}: {} for {} ms",
            d.state.name(),
            d.duration
        ));
        spinner.tick();
        d.state.is_terminal()
    })?;
    spinner.finish_and_clear();
    match details.state {
        JobState::Finished => {
            println!("Program execution finished");
            println!("Job with JobID {job} has finished.");
            println!("Job Runtime: {} ms", details.duration);
            Ok(0)
        }
        state => {
            let exceptions: JobExceptions = client.get(&format!("/jobs/{job}/exceptions"))?;
            let cause = exceptions
                .root_exception
                .unwrap_or_else(|| "no cause recorded".into());
            eprintln!(
                "eddy: job {job} {}: {cause}",
                if state == JobState::Canceled {
                    "was cancelled"
                } else {
                    "failed"
                }
            );
            Ok(1)
        }
    }
}

/// Polls a job until `done(state)`, or fails after `timeout` (never, when `None`).
fn wait_until(
    client: &Client,
    job: &str,
    timeout: Option<Duration>,
    done: impl Fn(&JobDetails) -> bool,
) -> Result<JobDetails> {
    let start = Instant::now();
    let mut pause = Duration::from_millis(10);
    loop {
        let details: JobDetails = client.get(&format!("/jobs/{job}"))?;
        if done(&details) {
            return Ok(details);
        }
        if timeout.is_some_and(|t| start.elapsed() > t) {
            bail!(
                "job {job} is still {} after {} s",
                details.state.name(),
                start.elapsed().as_secs()
            );
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(200));
    }
}

/// `dd.MM.yyyy HH:mm:ss` (UTC) of a time in ms since the epoch, as Flink's `list` prints it.
fn format_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{day:02}.{month:02}.{year} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn print_section(title: &str, empty: &str, jobs: &[&JobOverview]) {
    if jobs.is_empty() {
        println!("{empty}");
        return;
    }
    println!("------------------ {title} -------------------");
    for job in jobs {
        println!(
            "{} : {} : {} ({})",
            format_time(job.start_time),
            job.jid,
            job.name,
            job.state.name()
        );
    }
    println!("--------------------------------------------------------------");
}

/// `eddy list`.
pub(super) fn list(args: &ListArgs) -> Result<i32> {
    let client = connect(&args.connection)?;
    let overview: JobsOverview = client.get("/jobs/overview")?;
    let mut jobs: Vec<&JobOverview> = overview.jobs.iter().collect();
    jobs.sort_by_key(|j| j.start_time);
    let pick = |f: &dyn Fn(JobState) -> bool| {
        jobs.iter()
            .copied()
            .filter(|j| f(j.state))
            .collect::<Vec<_>>()
    };
    let running = pick(&|s| matches!(s, JobState::Running | JobState::Restarting));
    let scheduled = pick(&|s| s == JobState::Created);
    let ended = pick(&|s| s.is_terminal());
    let (show_running, show_scheduled, show_ended) = match (args.running, args.scheduled, args.all)
    {
        (_, _, true) => (true, true, true),
        (false, false, false) => (true, true, false),
        (r, s, false) => (r, s, false),
    };
    if show_running {
        print_section("Running/Restarting Jobs", "No running jobs.", &running);
    }
    if show_scheduled {
        print_section("Scheduled Jobs", "No scheduled jobs.", &scheduled);
    }
    if show_ended {
        print_section("Terminated Jobs", "No terminated jobs.", &ended);
    }
    Ok(0)
}

/// `eddy cancel`.
pub(super) fn cancel(args: &CancelArgs) -> Result<i32> {
    if !crate::process::is_job_id(&args.job) {
        return Err(BadInput(format!(
            "'{}' is not a job id (32 lowercase hex characters)",
            args.job
        ))
        .into());
    }
    let client = connect(&args.connection)?;
    client.patch(&format!("/jobs/{}?mode=cancel", args.job))?;
    let details = wait_until(&client, &args.job, Some(Duration::from_secs(30)), |d| {
        d.state.is_terminal()
    })
    .context("the job did not end")?;
    if details.state == JobState::Canceled {
        println!("Cancelled job {}.", args.job);
        Ok(0)
    } else {
        eprintln!(
            "eddy: job {} ended as {} before it could be cancelled",
            args.job,
            details.state.name()
        );
        Ok(1)
    }
}

/// `eddy info`.
pub(super) fn info(args: &InfoArgs) -> Result<i32> {
    check_executable(&args.executable)?;
    let name = args.executable.file_name().map_or_else(
        || "the program".to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let plan = crate::plan_extract::extract(
        &args.executable,
        &name,
        &args.args,
        args.parallelism,
        crate::plan_extract::PLAN_TIMEOUT,
    )
    .map_err(|e| BadInput(e.to_string()))?;
    println!("{}", plan.to_json());
    Ok(0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_print_as_flink_prints_them() {
        assert_eq!(super::format_time(0), "01.01.1970 00:00:00");
        // 2026-12-08 00:37:33 UTC
        assert_eq!(super::format_time(1_796_690_253_000), "08.12.2026 00:37:33");
    }
}
