//! A parallel reader of the lines of a text file.
//!
//! The file is cut into one contiguous byte range per subtask. A line belongs to the range
//! holding its first byte: a subtask whose range starts inside a line skips to the next line
//! start, and reads past its range's end to finish its last line, so every line is read once
//! whatever the parallelism. Line terminators (`\n`, `\r\n`) are removed; invalid UTF-8 is
//! replaced, not fatal.

use std::fs::File;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::PathBuf;

use eddy_runtime::{Error, Output, Record, Result, Source, SourceContext, SourceStatus};

use crate::sources::CHUNK;

/// Reads the lines of its subtask's byte range of one file.
pub(crate) struct TextSource {
    path: PathBuf,
    reader: Option<BufReader<File>>,
    /// Byte offset of the next line to read, and the end of this subtask's range.
    position: u64,
    end: u64,
}

impl TextSource {
    pub(crate) fn new(path: PathBuf) -> Self {
        TextSource {
            path,
            reader: None,
            position: 0,
            end: 0,
        }
    }
}

impl Source<String> for TextSource {
    fn open(&mut self, ctx: &SourceContext) -> Result<()> {
        let io = |e| Error::io(&self.path, e);
        let meta = std::fs::metadata(&self.path).map_err(io)?;
        if meta.is_dir() {
            return Err(io(std::io::Error::other("is a directory, not a file")));
        }
        let total = meta.len() as u128;
        let (p, s) = (ctx.parallelism as u128, ctx.subtask as u128);
        let start = (total * s / p) as u64;
        self.end = (total * (s + 1) / p) as u64;
        let mut reader = BufReader::with_capacity(1 << 16, File::open(&self.path).map_err(io)?);
        self.position = start;
        if start > 0 {
            // Start one byte early: if that byte ends a line, the range starts on a line start.
            reader.seek(SeekFrom::Start(start - 1)).map_err(io)?;
            let mut skipped = Vec::new();
            self.position = start - 1 + reader.read_until(b'\n', &mut skipped).map_err(io)? as u64;
        }
        self.reader = Some(reader);
        Ok(())
    }

    fn poll(&mut self, out: &mut dyn Output<String>) -> Result<SourceStatus> {
        let Some(reader) = self.reader.as_mut() else {
            return Err(Error::Internal("text source polled before open".into()));
        };
        for _ in 0..CHUNK {
            if self.position >= self.end {
                return Ok(SourceStatus::Finished);
            }
            let mut line = Vec::with_capacity(64);
            let n = reader
                .read_until(b'\n', &mut line)
                .map_err(|e| Error::io(&self.path, e))?;
            if n == 0 {
                return Ok(SourceStatus::Finished);
            }
            self.position += n as u64;
            if line.last() == Some(&b'\n') {
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
            }
            let text = String::from_utf8(line)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
            out.collect(Record::new(text))?;
        }
        Ok(SourceStatus::More)
    }
}
