//! A source of the rows of a CSV file, deserialized with serde.
//!
//! Not parallel: rows are emitted in file order (what event-time jobs with punctuated
//! watermarks need for deterministic results). The first line is a header naming the columns,
//! matched to the row type's fields by name; a malformed row fails the job with the file, the
//! line and the column.

use std::fs::File;
use std::io::BufReader;
use std::marker::PhantomData;
use std::path::PathBuf;

use serde::de::DeserializeOwned;

use eddy_runtime::checkpoint::{RestoredState, SnapshotWriter};
use eddy_runtime::{Error, Output, Record, Result, Source, SourceContext, SourceStatus};

/// The name of the source's operator state: `(byte, line, record)` of the next row.
const POSITION: &str = "csv position";

/// Rows per poll.
const CHUNK: usize = 1024;

/// Reads a CSV file with a header line into records of `T`.
pub(crate) struct CsvSource<T> {
    pub(crate) path: PathBuf,
    reader: Option<csv::Reader<BufReader<File>>>,
    headers: Option<csv::StringRecord>,
    row: csv::StringRecord,
    _type: PhantomData<fn() -> T>,
}

impl<T> CsvSource<T> {
    pub(crate) fn new(path: PathBuf) -> Self {
        CsvSource {
            path,
            reader: None,
            headers: None,
            row: csv::StringRecord::new(),
            _type: PhantomData,
        }
    }

    /// Turns a csv error into one naming the file, line and column.
    fn error(&self, error: csv::Error) -> Error {
        let line = error.position().map_or(0, |p| p.line());
        let message = match error.kind() {
            csv::ErrorKind::Io(e) => {
                return Error::io(&self.path, std::io::Error::new(e.kind(), e.to_string()))
            }
            csv::ErrorKind::UnequalLengths {
                expected_len, len, ..
            } => {
                format!("expected {expected_len} columns, found {len}")
            }
            csv::ErrorKind::Deserialize { err, .. } => {
                let column = err
                    .field()
                    .and_then(|i| self.headers.as_ref()?.get(i as usize).map(str::to_string))
                    .map_or(String::new(), |name| format!("column '{name}': "));
                format!("{column}{}", err.kind())
            }
            csv::ErrorKind::Utf8 { err, .. } => format!("not valid UTF-8: {err}"),
            _ => error.to_string(),
        };
        Error::InvalidInput {
            path: self.path.clone(),
            line,
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
            .has_headers(true)
            .flexible(false)
            .from_reader(BufReader::with_capacity(1 << 16, file));
        let headers = reader.headers().map_err(|e| self.error(e))?.clone();
        self.headers = Some(headers);
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
                Err(e) => return Err(self.error(e)),
            }
            let value = self
                .row
                .deserialize::<T>(self.headers.as_ref())
                .map_err(|e| {
                    // `StringRecord::deserialize` does not know the position; add it.
                    let line = self.row.position().map_or(0, |p| p.line());
                    match self.error(e) {
                        Error::InvalidInput { path, message, .. } => Error::InvalidInput {
                            path,
                            line,
                            message,
                        },
                        other => other,
                    }
                })?;
            out.collect(Record::new(value))?;
        }
        Ok(SourceStatus::More)
    }

    fn snapshot_state(&mut self, writer: &mut SnapshotWriter) -> Result<()> {
        if let Some(reader) = &self.reader {
            let p = reader.position();
            writer.operator_state(POSITION, &(p.byte(), p.line(), p.record()))?;
        }
        Ok(())
    }

    fn restore_state(&mut self, restored: &RestoredState) -> Result<()> {
        let Some((byte, line, record)) = restored
            .operator_state::<(u64, u64, u64)>(POSITION)?
            .into_iter()
            .max()
        else {
            return Ok(());
        };
        let Some(reader) = self.reader.as_mut() else {
            return Err(Error::Internal("CSV source restored before open".into()));
        };
        let mut position = csv::Position::new();
        position.set_byte(byte).set_line(line).set_record(record);
        let sought = reader.seek(position);
        sought.map_err(|e| self.error(e))
    }
}
