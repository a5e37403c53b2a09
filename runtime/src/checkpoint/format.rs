//! The framing of every checkpoint file: a magic number, a format version, the payload's
//! length and its CRC-32C, then the payload.
//!
//! Reading checks all four, so a truncated file, a flipped byte, a file of another program or
//! of a future format each give their own clear error instead of garbage state. Files are
//! written to a temporary name, synced and renamed, so a crash leaves either the whole file or
//! none.
//!
//! ```
//! use eddy_runtime::checkpoint::format::{read_framed, write_framed};
//!
//! let dir = std::env::temp_dir().join(format!("eddy-format-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let path = dir.join("state");
//! write_framed(&path, b"hello").unwrap();
//! assert_eq!(read_framed(&path).unwrap(), b"hello");
//! std::fs::remove_dir_all(&dir).unwrap();
//! ```

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// The first bytes of every checkpoint file.
pub const MAGIC: &[u8; 8] = b"EDDYCKPT";

/// The format this build writes and reads. Bumped on any incompatible change.
pub const FORMAT_VERSION: u32 = 1;

/// Magic, version, length, checksum.
const HEADER_LEN: usize = 8 + 4 + 8 + 4;

/// A checkpoint-file problem at `path`.
pub(crate) fn corrupt(path: &Path, message: impl Into<String>) -> Error {
    Error::Checkpoint {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// Frames `payload`: header then payload.
pub fn frame(payload: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(HEADER_LEN + payload.len());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    bytes.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&crc32c::crc32c(payload).to_le_bytes());
    bytes.extend_from_slice(payload);
    bytes
}

/// Checks the frame of `bytes` (read from `path`) and returns its payload.
///
/// # Errors
/// [`Error::Checkpoint`] naming what is wrong: not a checkpoint file, another format version,
/// truncated, or a checksum mismatch.
pub fn unframe<'a>(path: &Path, bytes: &'a [u8]) -> Result<&'a [u8]> {
    if bytes.len() < HEADER_LEN {
        if bytes.len() >= 8 && &bytes[..8] != MAGIC {
            return Err(corrupt(path, "not an Eddy checkpoint file"));
        }
        return Err(corrupt(
            path,
            format!("truncated: {} bytes, shorter than the header", bytes.len()),
        ));
    }
    if &bytes[..8] != MAGIC {
        return Err(corrupt(path, "not an Eddy checkpoint file"));
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
    if version != FORMAT_VERSION {
        return Err(corrupt(
            path,
            format!("format version {version}, this build reads version {FORMAT_VERSION}"),
        ));
    }
    let len = u64::from_le_bytes(bytes[12..20].try_into().expect("8 bytes"));
    let crc = u32::from_le_bytes(bytes[20..24].try_into().expect("4 bytes"));
    let payload = &bytes[HEADER_LEN..];
    if payload.len() as u64 != len {
        return Err(corrupt(
            path,
            format!(
                "truncated: payload of {} bytes, header says {len}",
                payload.len()
            ),
        ));
    }
    if crc32c::crc32c(payload) != crc {
        return Err(corrupt(path, "checksum mismatch (the file is corrupt)"));
    }
    Ok(payload)
}

/// Writes `payload` framed to `path` durably: a temporary file in the same directory, synced,
/// then renamed over `path` (and the directory synced), so `path` is whole or absent.
///
/// # Errors
/// [`Error::Io`] naming the file.
pub fn write_framed(path: &Path, payload: &[u8]) -> Result<()> {
    write_atomically(path, &frame(payload))
}

/// Writes `bytes` to `path` through a synced temporary file and a rename.
///
/// # Errors
/// [`Error::Io`] naming the file.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let temporary = temporary_name(path);
    let result = (|| {
        let mut file = File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)?;
        if let Some(dir) = path.parent() {
            // The rename is durable only once the directory entry is.
            if let Ok(dir) = File::open(dir) {
                let _ = dir.sync_all();
            }
        }
        Ok(())
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&temporary);
        Error::io(path, e)
    })
}

fn temporary_name(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.tmp", std::process::id()))
}

/// Reads a framed file and returns its checked payload.
///
/// # Errors
/// [`Error::Io`] when it cannot be read; [`Error::Checkpoint`] as [`unframe`].
pub fn read_framed(path: &Path) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(|e| Error::io(path, e))?;
    let payload = unframe(path, &bytes)?;
    Ok(payload.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(path: &Path, bytes: &[u8]) -> String {
        unframe(path, bytes).unwrap_err().to_string()
    }

    #[test]
    fn every_kind_of_damage_is_named() {
        let path = Path::new("chk-1/_metadata");
        let good = frame(b"some state");
        assert_eq!(unframe(path, &good).unwrap(), b"some state");

        let mut flipped = good.clone();
        *flipped.last_mut().unwrap() ^= 0x40;
        assert!(message(path, &flipped).contains("checksum mismatch"));

        assert!(message(path, &good[..good.len() - 3]).contains("truncated"));
        assert!(message(path, &good[..10]).contains("truncated"));

        let mut foreign = good.clone();
        foreign[..8].copy_from_slice(b"PK\x03\x04zip!");
        assert!(message(path, &foreign).contains("not an Eddy checkpoint file"));

        let mut future = good.clone();
        future[8..12].copy_from_slice(&7u32.to_le_bytes());
        assert!(message(path, &future).contains("format version 7"));
        assert!(message(path, &future).starts_with("chk-1/_metadata: "));
    }

    #[test]
    fn atomic_writes_leave_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x");
        write_framed(&path, b"one").unwrap();
        write_framed(&path, b"two").unwrap();
        assert_eq!(read_framed(&path).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
