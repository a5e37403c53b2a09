//! Sinks, one per file: stdout, files, and in-memory collection.

pub(crate) mod collect;
pub(crate) mod exactly_once;
pub(crate) mod file;
pub(crate) mod print;

use std::fmt::Display;
use std::sync::Arc;

/// How a sink writes a record: appends its bytes (a line, a CSV row) to the buffer.
pub(crate) type Encoder<T> = Arc<dyn Fn(&T, &mut Vec<u8>) -> Result<(), String> + Send + Sync>;

/// Writes a record as its `Display` text and a newline.
pub(crate) fn display_line<T: Display>() -> Encoder<T> {
    Arc::new(|value, line| {
        use std::io::Write;
        writeln!(line, "{value}").map_err(|e| e.to_string())
    })
}
