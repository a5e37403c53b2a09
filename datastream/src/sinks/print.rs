//! Printing to standard output.

use std::io::Write;

use eddy_runtime::{Error, Operator, OperatorContext, Output, Record, Result};

use super::Encoder;

/// Bytes buffered before they are written out.
const BUFFER: usize = 1 << 16;

/// Writes one line per record to stdout, buffered; a line is never split between subtasks.
///
/// With `prefix_subtask`, lines carry Flink's `N> ` prefix (N = subtask + 1) when the sink
/// runs with parallelism above one, exactly as Flink's `print()` does.
pub(crate) struct PrintSink<T> {
    pub(crate) encode: Encoder<T>,
    pub(crate) prefix_subtask: bool,
    prefix: Vec<u8>,
    buffer: Vec<u8>,
}

impl<T> PrintSink<T> {
    pub(crate) fn new(encode: Encoder<T>, prefix_subtask: bool) -> Self {
        PrintSink {
            encode,
            prefix_subtask,
            prefix: Vec::new(),
            buffer: Vec::with_capacity(BUFFER),
        }
    }

    fn write_out(&mut self) -> Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let mut stdout = std::io::stdout().lock();
        stdout
            .write_all(&self.buffer)
            .and_then(|_| stdout.flush())
            .map_err(|e| Error::io("<stdout>", e))?;
        self.buffer.clear();
        Ok(())
    }
}

impl<T: Send> Operator<T, ()> for PrintSink<T> {
    fn open(&mut self, ctx: &mut OperatorContext<'_>) -> Result<()> {
        if self.prefix_subtask && ctx.parallelism > 1 {
            self.prefix = format!("{}> ", ctx.subtask + 1).into_bytes();
        }
        Ok(())
    }

    #[inline]
    fn process_record(&mut self, record: Record<T>, _: &mut dyn Output<()>) -> Result<()> {
        self.buffer.extend_from_slice(&self.prefix);
        (self.encode)(&record.value, &mut self.buffer)
            .map_err(|message| Error::user("print", message))?;
        if self.buffer.len() >= BUFFER {
            self.write_out()?;
        }
        Ok(())
    }

    fn flush(&mut self, _: &mut dyn Output<()>) -> Result<()> {
        self.write_out()
    }

    fn finish(&mut self, _: &mut dyn Output<()>) -> Result<()> {
        self.write_out()
    }
}
