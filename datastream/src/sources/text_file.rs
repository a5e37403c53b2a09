//! A parallel source of the lines of one or more text files.
//!
//! The files are treated as one byte range, cut into one contiguous split per subtask. A line
//! belongs to the split holding its first byte: a subtask whose split starts inside a line
//! skips to the next line start, and reads on past its split's end to finish its last line. So
//! every line is read exactly once, whatever the parallelism, and large files are streamed.

use std::fs::File;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::PathBuf;

use eddy_runtime::checkpoint::{RestoredState, SnapshotWriter};
use eddy_runtime::{Error, Output, Record, Result, Source, SourceContext, SourceStatus};
use serde::{Deserialize, Serialize};

/// Lines per poll.
const CHUNK: usize = 1024;

/// One file's part of a subtask's split: bytes `start..end` of `path`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Segment {
    path: PathBuf,
    start: u64,
    end: u64,
    /// Whether `start` is known to be a line start (a restored read position), so that no
    /// partial line is skipped.
    at_line_start: bool,
}

/// The name of the source's operator state: the segments still to read.
const SEGMENTS: &str = "text file segments";

/// Reads the lines of its split of the files, without their line terminators.
pub(crate) struct TextFileSource {
    pub(crate) paths: Vec<PathBuf>,
    segments: std::vec::IntoIter<Segment>,
    current: Option<(BufReader<File>, u64, u64, PathBuf)>,
    /// Scratch space for the partial line skipped at the start of a segment.
    skipped: Vec<u8>,
    /// This subtask's index and the source's parallelism.
    subtask: (u32, u32),
}

impl TextFileSource {
    pub(crate) fn new(paths: Vec<PathBuf>) -> Self {
        TextFileSource {
            paths,
            segments: Vec::new().into_iter(),
            current: None,
            skipped: Vec::new(),
            subtask: (0, 1),
        }
    }

    /// Opens the next segment, positioned at its first line start.
    fn open_segment(&mut self, segment: Segment) -> Result<()> {
        let io = |e| Error::io(&segment.path, e);
        let file = File::open(&segment.path).map_err(io)?;
        let mut reader = BufReader::with_capacity(1 << 16, file);
        let mut position = segment.start;
        if segment.at_line_start {
            reader.seek(SeekFrom::Start(segment.start)).map_err(io)?;
        } else if segment.start > 0 {
            // Start one byte early: if that byte ends a line, the split starts on a line start.
            reader
                .seek(SeekFrom::Start(segment.start - 1))
                .map_err(io)?;
            self.skipped.clear();
            position =
                segment.start - 1 + reader.read_until(b'\n', &mut self.skipped).map_err(io)? as u64;
        }
        self.current = Some((reader, position, segment.end, segment.path));
        Ok(())
    }
}

impl Source<String> for TextFileSource {
    fn open(&mut self, ctx: &SourceContext) -> Result<()> {
        let mut sizes = Vec::with_capacity(self.paths.len());
        for path in &self.paths {
            let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
            if meta.is_dir() {
                return Err(Error::io(
                    path,
                    std::io::Error::other("is a directory, not a file"),
                ));
            }
            sizes.push(meta.len());
        }
        let total: u64 = sizes.iter().sum();
        let (p, s) = (ctx.parallelism as u128, ctx.subtask as u128);
        let split_start = (s * total as u128 / p) as u64;
        let split_end = ((s + 1) * total as u128 / p) as u64;
        let mut segments = Vec::new();
        let mut offset = 0u64;
        for (path, size) in self.paths.iter().zip(sizes) {
            let (file_start, file_end) = (offset, offset + size);
            let start = split_start.max(file_start);
            let end = split_end.min(file_end);
            if start < end {
                segments.push(Segment {
                    path: path.clone(),
                    start: start - file_start,
                    end: end - file_start,
                    at_line_start: false,
                });
            }
            offset = file_end;
        }
        self.segments = segments.into_iter();
        self.subtask = (ctx.subtask, ctx.parallelism);
        Ok(())
    }

    fn snapshot_state(&mut self, writer: &mut SnapshotWriter) -> Result<()> {
        let mut remaining = Vec::new();
        if let Some((_, position, end, path)) = &self.current {
            remaining.push(Segment {
                path: path.clone(),
                start: *position,
                end: *end,
                at_line_start: true,
            });
        }
        remaining.extend(self.segments.as_slice().iter().cloned());
        writer.operator_state(SEGMENTS, &remaining)
    }

    fn restore_state(&mut self, restored: &RestoredState) -> Result<()> {
        // Every old subtask's remaining segments; this subtask takes every p-th of them.
        let all: Vec<Segment> = restored
            .operator_state::<Vec<Segment>>(SEGMENTS)?
            .into_iter()
            .flatten()
            .filter(|segment| segment.start < segment.end)
            .collect();
        let (subtask, parallelism) = self.subtask;
        let mine: Vec<Segment> = all
            .into_iter()
            .enumerate()
            .filter(|(i, _)| *i as u32 % parallelism == subtask)
            .map(|(_, segment)| segment)
            .collect();
        self.current = None;
        self.segments = mine.into_iter();
        Ok(())
    }

    fn poll(&mut self, out: &mut dyn Output<String>) -> Result<SourceStatus> {
        for _ in 0..CHUNK {
            let Some((reader, position, end, path)) = self.current.as_mut() else {
                match self.segments.next() {
                    Some(segment) => {
                        self.open_segment(segment)?;
                        continue;
                    }
                    None => return Ok(SourceStatus::Finished),
                }
            };
            if *position >= *end {
                self.current = None;
                continue;
            }
            // A fresh vector per line: it becomes the record's `String` without a copy.
            let mut line = Vec::with_capacity(128);
            let n = reader
                .read_until(b'\n', &mut line)
                .map_err(|e| Error::io(path.as_path(), e))?;
            if n == 0 {
                self.current = None;
                continue;
            }
            *position += n as u64;
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
