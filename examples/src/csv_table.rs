//! CSV tables for the `dataset_sort` and `dataset_join` examples: opening a file with its
//! header, resolving a column given by index or name, reading rows with line numbers and
//! checked widths, encoding rows back to CSV, sort keys that compare as numbers or bytes,
//! and an output file that only appears when the job succeeds.
//!
//! ```
//! use eddy_examples::csv_table::{encode_row, resolve_column};
//!
//! let header = csv::ByteRecord::from(vec!["id", "name"]);
//! assert_eq!(resolve_column("t.csv", &header, "name"), Ok(1));
//! assert_eq!(resolve_column("t.csv", &header, "0"), Ok(0));
//! assert!(resolve_column("t.csv", &header, "price").unwrap_err().to_string().contains("t.csv:1"));
//! let mut line = Vec::new();
//! encode_row(&csv::ByteRecord::from(vec!["a,b", "c"]), &mut line);
//! assert_eq!(line, b"\"a,b\",c");
//! ```

use std::fmt;
use std::fs::File;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};

/// Bad input: a missing file, a missing column, a ragged row, a non-numeric key. The message
/// names the file, the line and the column; the examples exit with code 2 on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadInput(pub String);

impl fmt::Display for BadInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadInput {}

/// The column `spec` names in `header`: a 0-based index, or else a header name.
///
/// # Errors
///
/// [`BadInput`] naming the file's header line when there is no such column.
pub fn resolve_column(
    path: impl AsRef<Path>,
    header: &csv::ByteRecord,
    spec: &str,
) -> Result<usize, BadInput> {
    if let Some(i) = header.iter().position(|name| name == spec.as_bytes()) {
        return Ok(i);
    }
    match spec.parse::<usize>() {
        Ok(i) if i < header.len() => Ok(i),
        _ => Err(BadInput(format!(
            "{}:1: column '{spec}' not found (the header has {} columns: {})",
            path.as_ref().display(),
            header.len(),
            header
                .iter()
                .map(String::from_utf8_lossy)
                .collect::<Vec<_>>()
                .join(",")
        ))),
    }
}

/// A CSV file being read: its header, and rows with their 1-based line numbers.
pub struct CsvTable {
    path: PathBuf,
    reader: csv::Reader<BufReader<File>>,
    header: csv::ByteRecord,
}

impl CsvTable {
    /// Opens `path` and reads its header line.
    ///
    /// # Errors
    ///
    /// [`BadInput`] when the file cannot be read or has no header line.
    pub fn open(path: &Path) -> Result<Self, BadInput> {
        let file = File::open(path)
            .map_err(|e| BadInput(format!("{}: cannot read: {e}", path.display())))?;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(BufReader::with_capacity(1 << 20, file));
        let mut header = csv::ByteRecord::new();
        let read = reader
            .read_byte_record(&mut header)
            .map_err(|e| BadInput(format!("{}:1: {e}", path.display())))?;
        if !read {
            return Err(BadInput(format!(
                "{}:1: the file is empty (a header line is required)",
                path.display()
            )));
        }
        Ok(CsvTable {
            path: path.to_path_buf(),
            reader,
            header,
        })
    }

    /// The header row.
    pub fn header(&self) -> &csv::ByteRecord {
        &self.header
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the next row into `row`; returns its line number, or `None` at the end.
    ///
    /// # Errors
    ///
    /// [`BadInput`] for malformed CSV or a row whose width differs from the header's.
    pub fn next_row(&mut self, row: &mut csv::ByteRecord) -> Result<Option<u64>, BadInput> {
        let read = self.reader.read_byte_record(row).map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            BadInput(format!("{}:{line}: {e}", self.path.display()))
        })?;
        if !read {
            return Ok(None);
        }
        let line = row.position().map_or(0, |p| p.line());
        if row.len() != self.header.len() {
            return Err(BadInput(format!(
                "{}:{line}: column {}: the row has {} fields, the header {}",
                self.path.display(),
                row.len().min(self.header.len()),
                row.len(),
                self.header.len()
            )));
        }
        Ok(Some(line))
    }
}

/// Appends `row` to `out` as one CSV line without its line break, quoting only fields that
/// need it (as the `csv` crate's writer does).
pub fn encode_row(row: &csv::ByteRecord, out: &mut Vec<u8>) {
    if row.len() == 1 && row[0].is_empty() {
        out.extend_from_slice(b"\"\""); // a lone empty field must not read back as no row
        return;
    }
    for (i, field) in row.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let needs_quotes = field
            .iter()
            .any(|&b| matches!(b, b',' | b'"' | b'\r' | b'\n'));
        if needs_quotes {
            out.push(b'"');
            for &b in field {
                if b == b'"' {
                    out.push(b'"');
                }
                out.push(b);
            }
            out.push(b'"');
        } else {
            out.extend_from_slice(field);
        }
    }
}

/// IEEE total order of a double as unsigned bits (what `f64::total_cmp` compares).
fn ordered_bits(x: f64) -> u64 {
    let bits = x.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

/// Appends the order-preserving encoding of one key field to `key`: bytes compare as
/// unsigned byte strings, and the encoding of a whole key (several fields) compares like the
/// fields one after the other.
///
/// Numbers (`numeric`) become 24 bytes: the value as a double in total order, then the exact
/// integer when the field is one (so integers beyond 2^53 still order exactly). Byte strings
/// are escaped (`00` becomes `00 01`) and terminated by `00 00`, so no encoding is a prefix
/// of another.
///
/// # Errors
///
/// A message naming the field when `numeric` and the field is not a number.
pub fn encode_key_field(field: &[u8], numeric: bool, key: &mut Vec<u8>) -> Result<(), String> {
    if numeric {
        let text = std::str::from_utf8(field)
            .map_err(|_| "is not a number (not UTF-8)".to_string())?
            .trim();
        let value: f64 = text
            .parse()
            .map_err(|_| format!("'{text}' is not a number"))?;
        if value.is_nan() {
            return Err(format!("'{text}' is not a number"));
        }
        let exact = text.parse::<i128>().unwrap_or(value as i128);
        key.extend_from_slice(&ordered_bits(value).to_be_bytes());
        key.extend_from_slice(&((exact as u128) ^ (1 << 127)).to_be_bytes());
    } else {
        for &b in field {
            key.push(b);
            if b == 0 {
                key.push(1);
            }
        }
        key.extend_from_slice(&[0, 0]);
    }
    Ok(())
}

/// An output file written under a temporary name next to its destination and renamed into
/// place by [`AtomicOutput::commit`]; dropped uncommitted (an error, a panic), it vanishes.
pub struct AtomicOutput {
    file: tempfile::NamedTempFile,
    path: PathBuf,
}

impl AtomicOutput {
    /// Creates the temporary file for `path`.
    ///
    /// # Errors
    ///
    /// [`BadInput`] when the destination's directory cannot hold a new file.
    pub fn create(path: &Path) -> Result<Self, BadInput> {
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let file = tempfile::Builder::new()
            .prefix(".eddy-output-")
            .tempfile_in(dir)
            .map_err(|e| BadInput(format!("{}: cannot create: {e}", path.display())))?;
        Ok(AtomicOutput {
            file,
            path: path.to_path_buf(),
        })
    }

    /// The temporary file to write to.
    pub fn file(&mut self) -> &mut File {
        self.file.as_file_mut()
    }

    /// A second handle on the temporary file (for a writer on another thread).
    ///
    /// # Errors
    ///
    /// The operating system's, when the handle cannot be duplicated.
    pub fn try_clone_file(&self) -> std::io::Result<File> {
        self.file.as_file().try_clone()
    }

    /// Flushes and renames the file into place.
    ///
    /// # Errors
    ///
    /// The operating system's, when the rename fails.
    pub fn commit(mut self) -> std::io::Result<()> {
        self.file.as_file_mut().flush()?;
        self.file
            .persist(&self.path)
            .map(|_| ())
            .map_err(|e| e.error)
    }
}
