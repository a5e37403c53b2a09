//! Processes by pid: whether one lives, signalling it, waiting for it to end.

use std::time::{Duration, Instant};

/// Whether a process with this pid exists (and is not a zombie we could reap).
pub(crate) fn is_alive(pid: u32) -> bool {
    // SAFETY: kill with signal 0 only checks for existence and permission.
    let exists = unsafe { libc::kill(pid as libc::pid_t, 0) } == 0;
    if !exists {
        return false;
    }
    // A zombie exists until reaped; read its state to tell.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_none_or(|state| state != "Z"),
        Err(_) => true,
    }
}

/// Sends `signal` to `pid` (or to its process group when `group`).
pub(crate) fn signal(pid: u32, signal: libc::c_int, group: bool) -> bool {
    let target = if group {
        -(pid as libc::pid_t)
    } else {
        pid as libc::pid_t
    };
    // SAFETY: plain kill(2) with a valid signal number.
    unsafe { libc::kill(target, signal) == 0 }
}

/// Asks `pid` to end (SIGTERM), waits up to `grace`, then kills it (SIGKILL). True when it
/// was running.
pub(crate) fn terminate(pid: u32, grace: Duration) -> bool {
    if !is_alive(pid) {
        return false;
    }
    signal(pid, libc::SIGTERM, false);
    let start = Instant::now();
    while start.elapsed() < grace {
        if !is_alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    signal(pid, libc::SIGKILL, false);
    let start = Instant::now();
    while is_alive(pid) && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// `bytes` random bytes as lowercase hex.
pub(crate) fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::getrandom(&mut buf).expect("the OS random source works");
    hex(&buf)
}

/// Lowercase hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `id` looks like a job id: 32 lowercase hex characters.
pub(crate) fn is_job_id(id: &str) -> bool {
    id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}
