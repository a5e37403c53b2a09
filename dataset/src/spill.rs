//! Spill files: sequences of records written once with buffered I/O and read back in order,
//! encoded with `bincode` (fixed-width little-endian integers, so `(u64, u64)` costs exactly
//! 16 bytes and decodes without branching on lengths).
//!
//! A [`RunWriter`] appends records to a new file of a [`SpillDir`]; [`RunWriter::finish`]
//! flushes it into a [`RunFile`], which knows its record count and size and deletes the file
//! when dropped (so an intermediate merge run disappears as soon as it is consumed, and
//! nothing outlives an operator even when it fails). [`RunReader`] streams the records back;
//! it shares the file through an `Arc`, so a run can be read several times.
//!
//! ```
//! use eddy_dataset::spill::RunWriter;
//! use eddy_runtime::memory::MemoryManager;
//!
//! let memory = MemoryManager::new(1 << 20);
//! let dir = memory.spill_dir()?;
//! let mut writer = RunWriter::create(&dir, "example", 4096)?;
//! for pair in [(1u64, 10u64), (2, 20)] {
//!     writer.write(&pair)?;
//! }
//! let run = writer.finish()?;
//! assert_eq!((run.len(), run.bytes()), (2, 32));
//! let back: Vec<(u64, u64)> = run.into_reader(4096)?.collect::<Result<_, _>>()?;
//! assert_eq!(back, [(1, 10), (2, 20)]);
//! # Ok::<(), eddy_runtime::Error>(())
//! ```

use std::fs::File;
use std::io::{BufReader, BufWriter, Seek, SeekFrom, Write};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use eddy_runtime::memory::SpillDir;
use eddy_runtime::{Error, Result};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Writes one run of records to a new spill file.
pub struct RunWriter<R> {
    path: PathBuf,
    writer: BufWriter<File>,
    count: u64,
    _records: PhantomData<fn(&R)>,
}

impl<R: Serialize> RunWriter<R> {
    /// A writer of a new file in `dir`, named after `stem`, buffering `buffer` bytes.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the file cannot be created.
    pub fn create(dir: &SpillDir, stem: &str, buffer: usize) -> Result<Self> {
        let (path, file) = dir.create_file(stem)?;
        Ok(RunWriter {
            path,
            writer: BufWriter::with_capacity(buffer.max(64), file),
            count: 0,
            _records: PhantomData,
        })
    }

    /// Appends one record.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the disk refuses the write (full, for example).
    #[inline]
    pub fn write(&mut self, record: &R) -> Result<()> {
        bincode::serialize_into(&mut self.writer, record)
            .map_err(|e| codec_error(&self.path, e))?;
        self.count += 1;
        Ok(())
    }

    /// Records written so far.
    pub fn len(&self) -> u64 {
        self.count
    }

    /// True when nothing was written yet.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Flushes the file and returns it as a readable run.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the final flush fails.
    pub fn finish(mut self) -> Result<RunFile> {
        self.writer.flush().map_err(|e| Error::io(&self.path, e))?;
        let bytes = self
            .writer
            .get_mut()
            .stream_position()
            .map_err(|e| Error::io(&self.path, e))?;
        Ok(RunFile {
            path: std::mem::take(&mut self.path),
            count: self.count,
            bytes,
        })
    }
}

/// A finished spill file: its record count and size. Dropping it deletes the file.
#[derive(Debug)]
pub struct RunFile {
    path: PathBuf,
    count: u64,
    bytes: u64,
}

impl RunFile {
    /// Records in the run.
    pub fn len(&self) -> u64 {
        self.count
    }

    /// True for a run of no records.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The file's size in bytes.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Where the run lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the run, buffering `buffer` bytes; the file is deleted once the reader (and
    /// every other handle) is dropped.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the file cannot be opened.
    pub fn into_reader<R: DeserializeOwned>(self, buffer: usize) -> Result<RunReader<R>> {
        RunReader::open(Arc::new(self), buffer)
    }
}

impl Drop for RunFile {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            // Already gone when its spill directory was removed first; nothing to report.
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

impl<R> Drop for RunWriter<R> {
    fn drop(&mut self) {
        // A writer dropped before `finish` (an error elsewhere) leaves no file behind.
        if !self.path.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Streams the records of a [`RunFile`] in the order they were written.
pub struct RunReader<R> {
    run: Arc<RunFile>,
    reader: BufReader<File>,
    remaining: u64,
    _records: PhantomData<fn() -> R>,
}

impl<R: DeserializeOwned> RunReader<R> {
    /// Opens a reader of a shared run, buffering `buffer` bytes.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the file cannot be opened.
    pub fn open(run: Arc<RunFile>, buffer: usize) -> Result<Self> {
        let mut file = File::open(&run.path).map_err(|e| Error::io(&run.path, e))?;
        file.seek(SeekFrom::Start(0))
            .map_err(|e| Error::io(&run.path, e))?;
        Ok(RunReader {
            remaining: run.count,
            run,
            reader: BufReader::with_capacity(buffer.max(64), file),
            _records: PhantomData,
        })
    }

    /// The run being read.
    pub fn run(&self) -> &Arc<RunFile> {
        &self.run
    }

    /// Records not read yet.
    pub fn remaining(&self) -> u64 {
        self.remaining
    }
}

impl<R: DeserializeOwned> Iterator for RunReader<R> {
    type Item = Result<R>;

    #[inline]
    fn next(&mut self) -> Option<Result<R>> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        Some(
            bincode::deserialize_from(&mut self.reader).map_err(|e| codec_error(&self.run.path, e)),
        )
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = usize::try_from(self.remaining).unwrap_or(usize::MAX);
        (n, Some(n))
    }
}

#[allow(clippy::boxed_local)] // bincode's error type is a Box; we take it as it comes
fn codec_error(path: &Path, error: bincode::Error) -> Error {
    match *error {
        bincode::ErrorKind::Io(io) => Error::io(path, io),
        other => Error::Internal(format!(
            "spill file {} does not decode: {other}",
            path.display()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use eddy_runtime::memory::MemoryManager;

    #[test]
    fn runs_round_trip_and_delete_their_file() {
        let base = tempfile::tempdir().unwrap();
        let memory = MemoryManager::builder().spill_dir(base.path()).build();
        let dir = memory.spill_dir().unwrap();
        let mut writer = RunWriter::create(&dir, "t", 128).unwrap();
        let records: Vec<(String, i64)> = (0..1000).map(|i| (format!("r{i}"), -i)).collect();
        for r in &records {
            writer.write(r).unwrap();
        }
        let run = Arc::new(writer.finish().unwrap());
        let path = run.path().to_path_buf();
        for _ in 0..2 {
            let back: Vec<(String, i64)> = RunReader::open(run.clone(), 100)
                .unwrap()
                .collect::<Result<_>>()
                .unwrap();
            assert_eq!(back, records);
        }
        assert!(path.exists());
        drop(run);
        assert!(!path.exists());
    }

    #[test]
    fn an_unfinished_writer_leaves_no_file() {
        let memory = MemoryManager::new(1 << 20);
        let dir = memory.spill_dir().unwrap();
        let mut writer = RunWriter::create(&dir, "t", 128).unwrap();
        writer.write(&1u64).unwrap();
        drop(writer);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
