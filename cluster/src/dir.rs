//! The cluster directory: where a cluster keeps its logs, pid files, address and token.
//!
//! ```text
//! DIR/
//!   address                   the jobmanager's REST base URL
//!   token                     the bearer token (mode 0600)
//!   log/jobmanager.log        one log per process,
//!   log/taskmanager-<i>.log
//!   log/<jobid>.out           each job's stdout (and <jobid>.log, its stderr)
//!   pids/jobmanager.pid       one pid file per process
//!   pids/taskmanager-<i>.pid
//!   pids/worker-<jobid>.pid   each running job's worker process
//!   jars/                     uploaded executables, by SHA-256
//!   jobs/<jobid>.json         the jobmanager's job store
//!   taskmanager-<i>/          a taskmanager's scratch space (downloaded executables, status)
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// The default cluster directory, relative to the working directory.
pub(crate) const DEFAULT_DIR: &str = "eddy-cluster";

/// A cluster directory.
#[derive(Debug, Clone)]
pub(crate) struct ClusterDir {
    root: PathBuf,
}

impl ClusterDir {
    /// The directory at `root` (not created).
    pub(crate) fn new(root: impl Into<PathBuf>) -> Self {
        ClusterDir { root: root.into() }
    }

    /// Creates the directory and its `log/` and `pids/` folders.
    pub(crate) fn create(&self) -> Result<()> {
        for dir in [self.log_dir(), self.pid_dir()] {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        Ok(())
    }

    /// The directory itself.
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// `log/`.
    pub(crate) fn log_dir(&self) -> PathBuf {
        self.root.join("log")
    }

    /// `pids/`.
    pub(crate) fn pid_dir(&self) -> PathBuf {
        self.root.join("pids")
    }

    /// The log file of a process (`jobmanager`, `taskmanager-0`).
    pub(crate) fn log_file(&self, role: &str) -> PathBuf {
        self.log_dir().join(format!("{role}.log"))
    }

    /// The pid file of a process.
    pub(crate) fn pid_file(&self, role: &str) -> PathBuf {
        self.pid_dir().join(format!("{role}.pid"))
    }

    /// `address`.
    pub(crate) fn address_file(&self) -> PathBuf {
        self.root.join("address")
    }

    /// `token`.
    pub(crate) fn token_file(&self) -> PathBuf {
        self.root.join("token")
    }

    /// `jars/`.
    pub(crate) fn jar_dir(&self) -> PathBuf {
        self.root.join("jars")
    }

    /// Writes `contents` to `path` atomically (temporary file, then rename), with `mode`.
    pub(crate) fn write_atomic(path: &Path, contents: &[u8], mode: u32) -> Result<()> {
        let dir = path.parent().unwrap_or(Path::new("."));
        let mut tmp = tempfile::NamedTempFile::new_in(dir)
            .with_context(|| format!("cannot write in {}", dir.display()))?;
        set_mode(tmp.path(), mode)?;
        tmp.write_all(contents)
            .and_then(|()| tmp.as_file().sync_all())
            .with_context(|| format!("cannot write {}", path.display()))?;
        tmp.persist(path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(())
    }

    /// Writes this process's pid into the pid file of `role`.
    pub(crate) fn write_pid(&self, role: &str) -> Result<PathBuf> {
        let path = self.pid_file(role);
        Self::write_atomic(&path, format!("{}\n", std::process::id()).as_bytes(), 0o644)?;
        Ok(path)
    }

    /// Claims the first free taskmanager index: creates `pids/taskmanager-<i>.pid` holding
    /// this process's pid, where no live process holds it.
    pub(crate) fn claim_taskmanager_index(&self) -> Result<u32> {
        for i in 0..10_000 {
            let role = format!("taskmanager-{i}");
            let path = self.pid_file(&role);
            if let Some(pid) = read_pid(&path) {
                if crate::process::is_alive(pid) {
                    continue;
                }
            }
            self.write_pid(&role)?;
            return Ok(i);
        }
        anyhow::bail!("no free taskmanager index in {}", self.pid_dir().display())
    }
}

/// The pid in a pid file, if it holds one.
pub(crate) fn read_pid(path: &Path) -> Option<u32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Sets a file's permission bits (Unix; a no-op elsewhere).
pub(crate) fn set_mode(path: &Path, mode: u32) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .with_context(|| format!("cannot set the mode of {}", path.display()))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}
