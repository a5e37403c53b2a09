//! The file sink: writes a data set to one file, atomically.
//!
//! The sink (parallelism 1) writes a hidden temporary file beside the destination; when the
//! job has succeeded the environment renames it into place, so a reader sees either no file
//! or the whole file. A failed job removes the temporary file.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use eddy_runtime::{Error, Operator, OperatorContext, Output, Record, Result};

/// Files written by sinks of a job, waiting for its success: `(temporary, destination)`.
pub(crate) type PendingFiles = Arc<Mutex<Vec<(PathBuf, PathBuf)>>>;

/// How a sink writes a record: appends its bytes (a line, a CSV row) to the buffer.
pub(crate) type Encoder<T> = Arc<dyn Fn(&T, &mut Vec<u8>) -> Result<(), String> + Send + Sync>;

/// The temporary name of `destination`: hidden, in the same directory (so that the rename is
/// atomic), unique to this process.
fn temporary_path(destination: &Path) -> PathBuf {
    let name = destination
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".into());
    destination.with_file_name(format!(".{name}.eddy-{}.tmp", std::process::id()))
}

/// Writes records to a temporary file and hands it over to be committed at the end.
pub(crate) struct FileSink<T> {
    destination: PathBuf,
    encode: Encoder<T>,
    pending: PendingFiles,
    header: Option<Vec<u8>>,
    temporary: PathBuf,
    writer: Option<BufWriter<File>>,
    line: Vec<u8>,
}

impl<T> FileSink<T> {
    pub(crate) fn new(
        destination: PathBuf,
        encode: Encoder<T>,
        pending: PendingFiles,
        header: Option<Vec<u8>>,
    ) -> Self {
        FileSink {
            temporary: temporary_path(&destination),
            destination,
            encode,
            pending,
            header,
            writer: None,
            line: Vec::new(),
        }
    }

    fn io(&self, e: std::io::Error) -> Error {
        Error::io(&self.destination, e)
    }
}

impl<T: Send> Operator<T, ()> for FileSink<T> {
    fn open(&mut self, _: &mut OperatorContext<'_>) -> Result<()> {
        let file = File::create(&self.temporary).map_err(|e| self.io(e))?;
        let mut writer = BufWriter::with_capacity(1 << 16, file);
        if let Some(header) = &self.header {
            writer.write_all(header).map_err(|e| self.io(e))?;
        }
        self.writer = Some(writer);
        Ok(())
    }

    fn process_record(&mut self, record: Record<T>, _: &mut dyn Output<()>) -> Result<()> {
        self.line.clear();
        (self.encode)(&record.value, &mut self.line)
            .map_err(|message| Error::user(self.destination.display().to_string(), message))?;
        let result = match self.writer.as_mut() {
            Some(writer) => writer.write_all(&self.line),
            None => return Err(Error::Internal("file sink used before open".into())),
        };
        result.map_err(|e| self.io(e))
    }

    fn finish(&mut self, _: &mut dyn Output<()>) -> Result<()> {
        if let Some(writer) = self.writer.take() {
            let file = writer.into_inner().map_err(|e| self.io(e.into_error()))?;
            file.sync_all().map_err(|e| self.io(e))?;
            let mut pending = self
                .pending
                .lock()
                .map_err(|_| Error::Internal("pending files lock poisoned".into()))?;
            pending.push((self.temporary.clone(), self.destination.clone()));
        }
        Ok(())
    }
}

impl<T> Drop for FileSink<T> {
    fn drop(&mut self) {
        // Still open: the job failed before this sink finished. Leave nothing behind.
        if self.writer.take().is_some() {
            let _ = std::fs::remove_file(&self.temporary);
        }
    }
}

/// Renames every pending file into place (the job succeeded) or removes them (it failed).
pub(crate) fn settle(pending: &PendingFiles, success: bool) -> Result<()> {
    let files = std::mem::take(&mut *pending.lock().unwrap_or_else(|p| p.into_inner()));
    let mut first_error = None;
    for (temporary, destination) in files {
        if success {
            if let Err(e) = std::fs::rename(&temporary, &destination) {
                let _ = std::fs::remove_file(&temporary);
                first_error.get_or_insert(Error::io(&destination, e));
            }
        } else {
            let _ = std::fs::remove_file(&temporary);
        }
    }
    first_error.map_or(Ok(()), Err)
}
