//! A source of the lines read from a TCP socket (Flink's `socketTextStream`).

use std::io::{BufRead, BufReader, ErrorKind};
use std::net::TcpStream;
use std::time::Duration;

use eddy_runtime::{Error, Output, Record, Result, Source, SourceContext, SourceStatus};

/// Lines per poll.
const CHUNK: usize = 1024;
/// How long a read waits before the poll reports the source idle.
const READ_TIMEOUT: Duration = Duration::from_millis(20);

/// Connects to `endpoint` and emits one record per line until the peer closes the
/// connection. Not parallel.
pub(crate) struct SocketSource {
    pub(crate) endpoint: String,
    reader: Option<BufReader<TcpStream>>,
    partial: Vec<u8>,
}

impl SocketSource {
    pub(crate) fn new(endpoint: String) -> Self {
        SocketSource {
            endpoint,
            reader: None,
            partial: Vec::new(),
        }
    }

    fn network(&self, source: std::io::Error) -> Error {
        Error::Network {
            endpoint: self.endpoint.clone(),
            source,
        }
    }
}

impl Source<String> for SocketSource {
    fn open(&mut self, _: &SourceContext) -> Result<()> {
        let stream = TcpStream::connect(&self.endpoint).map_err(|e| self.network(e))?;
        stream
            .set_read_timeout(Some(READ_TIMEOUT))
            .map_err(|e| self.network(e))?;
        self.reader = Some(BufReader::new(stream));
        Ok(())
    }

    fn poll(&mut self, out: &mut dyn Output<String>) -> Result<SourceStatus> {
        let Some(reader) = self.reader.as_mut() else {
            return Err(Error::Internal("socket source polled before open".into()));
        };
        for _ in 0..CHUNK {
            // On a timeout the bytes read so far stay in `partial` for the next poll.
            match reader.read_until(b'\n', &mut self.partial) {
                Ok(0) => {
                    if !self.partial.is_empty() {
                        let line = String::from_utf8_lossy(&self.partial).into_owned();
                        self.partial.clear();
                        out.collect(Record::new(line))?;
                    }
                    return Ok(SourceStatus::Finished);
                }
                Ok(_) if self.partial.last() == Some(&b'\n') => {
                    self.partial.pop();
                    if self.partial.last() == Some(&b'\r') {
                        self.partial.pop();
                    }
                    let line = String::from_utf8_lossy(&self.partial).into_owned();
                    self.partial.clear();
                    out.collect(Record::new(line))?;
                }
                Ok(_) => {}
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return Ok(SourceStatus::Idle)
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(self.network(e)),
            }
        }
        Ok(SourceStatus::More)
    }
}
