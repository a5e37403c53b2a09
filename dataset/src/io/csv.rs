//! A reader of CSV files into typed records, with serde.
//!
//! Not parallel: rows are read in file order by one subtask. With a header line (the
//! default) columns are matched to the record type's fields by name; without one, by
//! position (tuples). A malformed row fails the job with [`Error::InvalidInput`] naming the
//! file, the line and the column.

use std::fs::File;
use std::io::BufReader;
use std::marker::PhantomData;
use std::path::PathBuf;

use serde::de::DeserializeOwned;

use eddy_runtime::{Error, Output, Record, Result, Source, SourceContext, SourceStatus};

use crate::sources::CHUNK;

/// How a CSV file is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CsvOptions {
    /// The first line names the columns (matched to fields by name); otherwise fields are
    /// read by position. Default: true.
    pub has_header: bool,
    /// The field separator. Default: `,`.
    pub delimiter: u8,
    /// Trims whitespace around fields. Default: false.
    pub trim: bool,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            has_header: true,
            delimiter: b',',
            trim: false,
        }
    }
}

/// Reads a CSV file into records of `T`.
pub(crate) struct CsvSource<T> {
    path: PathBuf,
    options: CsvOptions,
    reader: Option<csv::Reader<BufReader<File>>>,
    headers: Option<csv::StringRecord>,
    row: csv::StringRecord,
    _type: PhantomData<fn() -> T>,
}

impl<T> CsvSource<T> {
    pub(crate) fn new(path: PathBuf, options: CsvOptions) -> Self {
        CsvSource {
            path,
            options,
            reader: None,
            headers: None,
            row: csv::StringRecord::new(),
            _type: PhantomData,
        }
    }

    /// Turns a csv error into one naming the file, line and column.
    fn error(&self, error: csv::Error, line: Option<u64>) -> Error {
        let line = line.or_else(|| error.position().map(|p| p.line()));
        let message = match error.kind() {
            csv::ErrorKind::Io(e) => {
                return Error::io(&self.path, std::io::Error::new(e.kind(), e.to_string()))
            }
            csv::ErrorKind::UnequalLengths {
                expected_len, len, ..
            } => format!("expected {expected_len} columns, found {len}"),
            csv::ErrorKind::Deserialize { err, .. } => {
                let column = err.field().map_or(String::new(), |i| {
                    match self.headers.as_ref().and_then(|h| h.get(i as usize)) {
                        Some(name) => format!("column '{name}': "),
                        None => format!("column {}: ", i + 1),
                    }
                });
                format!("{column}{}", err.kind())
            }
            csv::ErrorKind::Utf8 { err, .. } => format!("not valid UTF-8: {err}"),
            _ => error.to_string(),
        };
        Error::InvalidInput {
            path: self.path.clone(),
            line: line.unwrap_or(0),
            message,
        }
    }
}

impl<T: DeserializeOwned + Send> Source<T> for CsvSource<T> {
    fn open(&mut self, ctx: &SourceContext) -> Result<()> {
        if ctx.subtask > 0 {
            return Err(Error::InvalidGraph("a CSV source is not parallel".into()));
        }
        let file = File::open(&self.path).map_err(|e| Error::io(&self.path, e))?;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(self.options.has_header)
            .delimiter(self.options.delimiter)
            .trim(if self.options.trim {
                csv::Trim::All
            } else {
                csv::Trim::None
            })
            .flexible(false)
            .from_reader(BufReader::with_capacity(1 << 16, file));
        if self.options.has_header {
            let headers = reader.headers().map_err(|e| self.error(e, None))?.clone();
            self.headers = Some(headers);
        }
        self.reader = Some(reader);
        Ok(())
    }

    fn poll(&mut self, out: &mut dyn Output<T>) -> Result<SourceStatus> {
        for _ in 0..CHUNK {
            let Some(reader) = self.reader.as_mut() else {
                return Err(Error::Internal("CSV source polled before open".into()));
            };
            match reader.read_record(&mut self.row) {
                Ok(false) => return Ok(SourceStatus::Finished),
                Ok(true) => {}
                Err(e) => return Err(self.error(e, None)),
            }
            let value = self
                .row
                .deserialize::<T>(self.headers.as_ref())
                .map_err(|e| {
                    // `StringRecord::deserialize` does not know the position; add it.
                    let line = self.row.position().map(|p| p.line());
                    self.error(e, line)
                })?;
            out.collect(Record::new(value))?;
        }
        Ok(SourceStatus::More)
    }
}
