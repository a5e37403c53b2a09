//! The exactly-once file sink: a two-phase commit of part files, tied to checkpoints.
//!
//! With checkpointing on, a file sink must neither lose nor repeat records across a crash and
//! a restore. It writes records to an in-progress *part* file in a hidden directory beside the
//! destination (`.NAME.eddy-parts/`):
//!
//! 1. **Pre-commit** at a checkpoint barrier: the part is synced and renamed `*.pending`, and
//!    its name goes into the sink's snapshot; later records go to a new part.
//! 2. **Commit** when the checkpoint completes: pending parts are renamed to their final
//!    names.
//! 3. **Restore**: the parts the checkpoint lists are committed again (idempotently: a part
//!    already committed stays so), and every other file in the directory (parts written after
//!    the checkpoint by the crashed run) is deleted, so replayed records are not doubled.
//! 4. **End**: when the job succeeds, the environment commits the last parts and concatenates
//!    every committed part, in order, into the destination (through a temporary file and a
//!    rename), then removes the directory.
//!
//! A reader therefore never sees uncommitted data: the destination appears once, whole.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use eddy_runtime::checkpoint::SnapshotWriter;
use eddy_runtime::{CheckpointBarrier, Error, Operator, OperatorContext, Output, Record, Result};
use serde::{Deserialize, Serialize};

use super::Encoder;

/// The name of the sink's operator state.
const SINK_STATE: &str = "file sink parts";

/// What a sink snapshot records: parts committed, and parts pre-committed for the checkpoint.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct PartsState {
    committed: Vec<String>,
    pending: Vec<String>,
}

/// What the environment needs to finish a sink after the job succeeded.
#[derive(Debug)]
pub(crate) struct FinalCommit {
    pub(crate) parts_dir: PathBuf,
    pub(crate) destination: PathBuf,
    pub(crate) header: Option<Vec<u8>>,
    /// Every part, committed or not yet, in order.
    pub(crate) parts: Vec<String>,
}

/// Sinks of a job waiting for its success.
pub(crate) type FinalCommits = Arc<Mutex<Vec<FinalCommit>>>;

/// The hidden directory of the parts of `destination`.
pub(crate) fn parts_dir(destination: &Path) -> PathBuf {
    let name = destination
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".into());
    destination.with_file_name(format!(".{name}.eddy-parts"))
}

/// Writes records to part files committed with checkpoints. See the module documentation.
pub(crate) struct ExactlyOnceFileSink<T> {
    destination: PathBuf,
    dir: PathBuf,
    encode: Encoder<T>,
    header: Option<Vec<u8>>,
    finals: FinalCommits,
    /// Makes part names unique to this run, so parts of a crashed run never collide.
    run: String,
    sequence: u64,
    current: Option<(String, BufWriter<File>)>,
    committed: Vec<String>,
    /// Pre-committed parts and the checkpoint they belong to.
    pending: Vec<(u64, String)>,
    line: Vec<u8>,
}

impl<T> ExactlyOnceFileSink<T> {
    pub(crate) fn new(
        destination: PathBuf,
        encode: Encoder<T>,
        header: Option<Vec<u8>>,
        finals: FinalCommits,
    ) -> Self {
        let run = format!(
            "{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        );
        ExactlyOnceFileSink {
            dir: parts_dir(&destination),
            destination,
            encode,
            header,
            finals,
            run,
            sequence: 0,
            current: None,
            committed: Vec::new(),
            pending: Vec::new(),
            line: Vec::new(),
        }
    }

    fn io(&self, path: &Path, e: std::io::Error) -> Error {
        Error::io(path, e)
    }

    /// Syncs and closes the current part; returns its name.
    fn close_current(&mut self) -> Result<Option<String>> {
        let Some((name, writer)) = self.current.take() else {
            return Ok(None);
        };
        let path = self.dir.join(format!("{name}.inprogress"));
        let file = writer
            .into_inner()
            .map_err(|e| self.io(&path, e.into_error()))?;
        file.sync_all().map_err(|e| self.io(&path, e))?;
        Ok(Some(name))
    }

    /// Renames `name.from` to `name.to` (`to` empty: the final name), tolerating a rename
    /// that already happened.
    fn promote(&self, name: &str, from: &str, to: &str) -> Result<()> {
        let source = self.dir.join(format!("{name}.{from}"));
        let target = if to.is_empty() {
            self.dir.join(name)
        } else {
            self.dir.join(format!("{name}.{to}"))
        };
        if target.exists() {
            return Ok(());
        }
        std::fs::rename(&source, &target).map_err(|e| {
            Error::io(
                &source,
                std::io::Error::new(e.kind(), format!("cannot commit part {name}: {e}")),
            )
        })
    }
}

impl<T: Send> Operator<T, ()> for ExactlyOnceFileSink<T> {
    fn open(&mut self, ctx: &mut OperatorContext<'_>) -> Result<()> {
        std::fs::create_dir_all(&self.dir).map_err(|e| self.io(&self.dir, e))?;
        let restored: Vec<PartsState> = ctx.restored().operator_state(SINK_STATE)?;
        for state in restored {
            // The checkpoint completed (we restore from it): its pending parts are committed.
            for name in &state.pending {
                self.promote(name, "pending", "")?;
            }
            self.committed.extend(state.committed);
            self.committed.extend(state.pending);
        }
        // Everything else was written after the checkpoint, by a run that did not finish.
        let entries = std::fs::read_dir(&self.dir).map_err(|e| self.io(&self.dir, e))?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !self.committed.contains(&name) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        Ok(())
    }

    #[inline]
    fn process_record(&mut self, record: Record<T>, _: &mut dyn Output<()>) -> Result<()> {
        self.line.clear();
        (self.encode)(&record.value, &mut self.line)
            .map_err(|message| Error::user(self.destination.display().to_string(), message))?;
        if self.current.is_none() {
            self.sequence += 1;
            let name = format!("part-{}-{:06}", self.run, self.sequence);
            let path = self.dir.join(format!("{name}.inprogress"));
            let file = File::create(&path).map_err(|e| self.io(&path, e))?;
            self.current = Some((name, BufWriter::with_capacity(1 << 16, file)));
        }
        let Some((name, writer)) = self.current.as_mut() else {
            return Err(Error::Internal("no part file".into()));
        };
        if let Err(e) = writer.write_all(&self.line) {
            let path = self.dir.join(format!("{name}.inprogress"));
            return Err(Error::io(path, e));
        }
        Ok(())
    }

    fn snapshot_state(
        &mut self,
        barrier: &CheckpointBarrier,
        writer: &mut SnapshotWriter,
    ) -> Result<()> {
        if let Some(name) = self.close_current()? {
            self.promote(&name, "inprogress", "pending")?;
            self.pending.push((barrier.id, name));
        }
        let state = PartsState {
            committed: self.committed.clone(),
            pending: self.pending.iter().map(|(_, name)| name.clone()).collect(),
        };
        writer.operator_state(SINK_STATE, &state)
    }

    fn notify_checkpoint_complete(&mut self, checkpoint_id: u64) -> Result<()> {
        let (done, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|(id, _)| *id <= checkpoint_id);
        self.pending = waiting;
        for (_, name) in done {
            self.promote(&name, "pending", "")?;
            self.committed.push(name);
        }
        Ok(())
    }

    fn finish(&mut self, _: &mut dyn Output<()>) -> Result<()> {
        // The last parts are committed by the environment once the whole job has succeeded.
        let last = self.close_current()?;
        let mut parts = self.committed.clone();
        for (_, name) in &self.pending {
            self.promote(name, "pending", "")?;
            parts.push(name.clone());
        }
        if let Some(name) = last {
            self.promote(&name, "inprogress", "pending")?;
            parts.push(name);
        }
        self.finals
            .lock()
            .map_err(|_| Error::Internal("final commits lock poisoned".into()))?
            .push(FinalCommit {
                parts_dir: self.dir.clone(),
                destination: self.destination.clone(),
                header: self.header.clone(),
                parts,
            });
        Ok(())
    }
}

/// Commits the last parts of every sink and assembles each destination file. Called once the
/// job has succeeded, before its checkpoints are discarded; the parts directories are removed
/// by [`remove_parts`] after that, so a crash in between repeats this step identically.
pub(crate) fn commit_all(finals: &FinalCommits) -> Result<Vec<PathBuf>> {
    let finals = std::mem::take(&mut *finals.lock().unwrap_or_else(|p| p.into_inner()));
    let mut dirs = Vec::new();
    for sink in finals {
        let temporary = super::file::temporary_path(&sink.destination);
        let assemble = || -> std::io::Result<()> {
            let mut out = BufWriter::with_capacity(1 << 16, File::create(&temporary)?);
            if let Some(header) = &sink.header {
                out.write_all(header)?;
            }
            for name in &sink.parts {
                let committed = sink.parts_dir.join(name);
                let pending = sink.parts_dir.join(format!("{name}.pending"));
                if !committed.exists() {
                    std::fs::rename(&pending, &committed)?;
                }
                std::io::copy(&mut File::open(&committed)?, &mut out)?;
            }
            let file = out.into_inner().map_err(|e| e.into_error())?;
            file.sync_all()?;
            std::fs::rename(&temporary, &sink.destination)
        };
        if let Err(e) = assemble() {
            let _ = std::fs::remove_file(&temporary);
            return Err(Error::io(&sink.destination, e));
        }
        dirs.push(sink.parts_dir);
    }
    Ok(dirs)
}

/// Removes the parts directories of finished sinks.
pub(crate) fn remove_parts(dirs: &[PathBuf]) {
    for dir in dirs {
        let _ = std::fs::remove_dir_all(dir);
    }
}
