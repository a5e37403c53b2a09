//! CSV in and out of a [`Table`]: a header line, then one row per line. Column types are
//! inferred (all cells numbers: numeric; all vector literals: vectors; else text); columns
//! declared numeric must be, or the error names file, line and column. Output is written to
//! a temporary file and renamed into place, so a failed write leaves nothing behind.

use std::path::Path;

use super::{Column, DenseMatrix, Table};
use crate::error::{Error, Result};
use crate::linalg::Vector;

/// Options of [`read_csv_with`].
#[derive(Debug, Clone, Default)]
pub struct CsvReadOptions {
    /// Columns that must exist and hold numbers in every row.
    pub numeric: Vec<String>,
}

/// Reads a CSV file with a header into a [`Table`], inferring column types.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("t.csv");
/// std::fs::write(&path, "x,v,name\n1.5,\"[1,2]\",a\n2,\"[3,4]\",b\n").unwrap();
/// let table = eddy_ml::read_csv(&path)?;
/// assert_eq!(table.doubles("x")?, &[1.5, 2.0]);
/// assert_eq!(table.matrix("v")?.values, vec![1.0, 2.0, 3.0, 4.0]);
/// # Ok::<(), eddy_ml::Error>(())
/// ```
///
/// # Errors
/// [`Error::Io`] for an unreadable file, [`Error::BadInput`] (file, line, column) for a
/// ragged row, a bad vector literal or an empty file.
pub fn read_csv(path: impl AsRef<Path>) -> Result<Table> {
    read_csv_with(path, &CsvReadOptions::default())
}

/// [`read_csv`], requiring the columns of `options.numeric` to exist and be numeric.
///
/// # Errors
/// As [`read_csv`]; also [`Error::BadInput`] naming the first non-numeric cell of a required
/// column, or the header line for a missing one.
pub fn read_csv_with(path: impl AsRef<Path>, options: &CsvReadOptions) -> Result<Table> {
    let path = path.as_ref();
    let file_name = path.display().to_string();
    let bad = |line: u64, column: &str, message: String| Error::BadInput {
        file: file_name.clone(),
        line,
        column: column.to_string(),
        message,
    };
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(std::io::BufReader::new(file));
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| csv_error(&file_name, e))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    if header.is_empty() || header.iter().all(String::is_empty) {
        return Err(bad(1, "", "no header line".into()));
    }
    for name in &options.numeric {
        if !header.contains(name) {
            return Err(bad(
                1,
                name,
                format!("column not found (the header has: {})", header.join(",")),
            ));
        }
    }
    let mut cells: Vec<Vec<String>> = vec![Vec::new(); header.len()];
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {
                for (i, cell) in record.iter().enumerate() {
                    cells[i].push(cell.trim().to_string());
                }
            }
            Ok(false) => break,
            Err(e) => return Err(csv_error(&file_name, e)),
        }
    }
    let mut table = Table::new();
    table.set_origin(file_name.clone());
    let rows = cells.first().map_or(0, Vec::len);
    for (name, column) in header.iter().zip(cells) {
        let required = options.numeric.contains(name);
        let parsed = infer_column(&column, required)
            .map_err(|(row, message)| bad(row as u64 + 2, name, message))?;
        table = table.with_column(name, parsed)?;
    }
    table.rows = rows;
    Ok(table)
}

fn csv_error(file: &str, e: csv::Error) -> Error {
    let line = e.position().map_or(0, |p| p.line());
    let message = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("row has {len} fields, the header has {expected_len}"),
        csv::ErrorKind::Utf8 { .. } => "invalid UTF-8".to_string(),
        _ => e.to_string(),
    };
    Error::BadInput {
        file: file.to_string(),
        line,
        column: String::new(),
        message,
    }
}

/// The typed column of `cells`, or the first bad row and why.
fn infer_column(cells: &[String], numeric: bool) -> std::result::Result<Column, (usize, String)> {
    let mut numbers = Vec::with_capacity(cells.len());
    for (i, cell) in cells.iter().enumerate() {
        match cell.parse::<f64>() {
            Ok(x) => numbers.push(x),
            Err(_) if numeric => return Err((i, format!("'{cell}' is not numeric"))),
            Err(_) => break,
        }
    }
    if numbers.len() == cells.len() {
        return Ok(Column::Double(numbers));
    }
    let looks_like_vector = |c: &String| c.starts_with('[') || c.starts_with('(');
    if !cells.is_empty() && cells.iter().all(looks_like_vector) {
        let mut vectors = Vec::with_capacity(cells.len());
        for (i, cell) in cells.iter().enumerate() {
            vectors.push(cell.parse::<Vector>().map_err(|m| (i, m))?);
        }
        let dim = vectors[0].len();
        if vectors
            .iter()
            .all(|v| matches!(v, Vector::Dense(d) if d.len() == dim))
        {
            let values = vectors
                .iter()
                .flat_map(|v| v.stored_values().to_vec())
                .collect();
            return Ok(Column::Matrix(DenseMatrix {
                rows: vectors.len(),
                dim,
                values,
            }));
        }
        return Ok(Column::Vectors(vectors));
    }
    Ok(Column::Str(cells.to_vec()))
}

/// Writes `table` (or only its `columns`, in that order) as CSV with a header, atomically:
/// to a temporary file beside `path`, renamed into place once complete. Numbers are written
/// the shortest way that reads back to the same value; vectors as `[a,b]` or
/// `(size,[indices],[values])`.
///
/// # Errors
/// [`Error::Schema`] for a missing column, [`Error::Io`] if the file cannot be written.
pub fn write_csv(table: &Table, path: impl AsRef<Path>, columns: Option<&[&str]>) -> Result<()> {
    let path = path.as_ref();
    let names: Vec<&str> = match columns {
        Some(c) => c.to_vec(),
        None => table.names(),
    };
    let cols: Vec<&Column> = names
        .iter()
        .map(|n| table.column(n))
        .collect::<Result<_>>()?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let tmp = tempfile::Builder::new()
        .prefix(".eddy-ml-")
        .suffix(".tmp")
        .tempfile_in(&dir)
        .map_err(|e| Error::io(&dir, e))?;
    {
        let mut writer = csv::Writer::from_writer(std::io::BufWriter::new(tmp.as_file()));
        let io = |e: csv::Error| Error::io(path, std::io::Error::other(e.to_string()));
        writer.write_record(&names).map_err(io)?;
        let mut row = Vec::with_capacity(cols.len());
        for i in 0..table.num_rows() {
            row.clear();
            row.extend(cols.iter().map(|c| c.cell_text(i)));
            writer.write_record(&row).map_err(io)?;
        }
        writer.flush().map_err(|e| Error::io(path, e))?;
    }
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_file_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.csv");
        std::fs::write(&p, "a,b\n1,2\n3,oops\n").unwrap();
        let opts = CsvReadOptions {
            numeric: vec!["b".into()],
        };
        let e = read_csv_with(&p, &opts).unwrap_err().to_string();
        assert!(
            e.ends_with("x.csv:3: column 'b': 'oops' is not numeric"),
            "{e}"
        );
        std::fs::write(&p, "a,b\n1,2\n3\n").unwrap();
        let e = read_csv(&p).unwrap_err().to_string();
        assert!(e.contains("x.csv:3") && e.contains("1 fields"), "{e}");
        let e = read_csv(dir.path().join("missing.csv"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing.csv"), "{e}");
    }

    #[test]
    fn write_then_read_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.csv");
        let t = Table::new()
            .with_column("x", Column::Double(vec![0.1, 1e-300, -3.0]))
            .unwrap()
            .with_column("s", Column::Str(vec!["a,b".into(), "c".into(), "d".into()]))
            .unwrap()
            .with_column(
                "v",
                Column::Vectors(vec![
                    Vector::sparse(3, vec![0], vec![1.0]).unwrap(),
                    Vector::Dense(vec![1.0, 2.0, 3.0]),
                    Vector::sparse(3, vec![], vec![]).unwrap(),
                ]),
            )
            .unwrap();
        write_csv(&t, &p, None).unwrap();
        let mut back = read_csv(&p).unwrap();
        back.origin = None;
        assert_eq!(back, t);
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1);
    }
}
