//! Checksummed file transfer between a database directory and snapshot storage: copies that
//! compute the CRC-32C on the way, land under a temporary name and are renamed when synced;
//! and the checks a restore makes before it trusts a file.

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;

use super::manifest::{corrupt, SnapshotFile};
use crate::{Error, Result};

/// Bytes read and written at a time.
const CHUNK_BYTES: usize = 1 << 20;

/// Copies `from` to `to`, synced, through a temporary name in `to`'s directory; returns the
/// size and CRC-32C of what was copied.
///
/// # Errors
/// [`Error::Io`] naming the file that could not be read or written.
pub(super) fn copy_checksummed(from: &Path, to: &Path) -> Result<(u64, u32)> {
    let tmp = temp_name(to);
    let mut source = File::open(from).map_err(|e| Error::io(from, e))?;
    let mut target = File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
    let mut buf = vec![0u8; CHUNK_BYTES];
    let (mut size, mut crc) = (0u64, 0u32);
    loop {
        let n = source.read(&mut buf).map_err(|e| Error::io(from, e))?;
        if n == 0 {
            break;
        }
        crc = crc32c::crc32c_append(crc, &buf[..n]);
        size += n as u64;
        target
            .write_all(&buf[..n])
            .map_err(|e| Error::io(&tmp, e))?;
    }
    target.sync_all().map_err(|e| Error::io(&tmp, e))?;
    drop(target);
    std::fs::rename(&tmp, to).map_err(|e| Error::io(to, e))?;
    Ok((size, crc))
}

/// The size and CRC-32C of the file at `path`.
///
/// # Errors
/// [`Error::Io`] when it cannot be read.
pub(super) fn checksum(path: &Path) -> Result<(u64, u32)> {
    let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut buf = vec![0u8; CHUNK_BYTES];
    let (mut size, mut crc) = (0u64, 0u32);
    loop {
        let n = file.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            return Ok((size, crc));
        }
        crc = crc32c::crc32c_append(crc, &buf[..n]);
        size += n as u64;
    }
}

/// Checks that `found` (size, CRC-32C) of the file at `path` matches what the manifest says.
///
/// # Errors
/// [`Error::Checkpoint`] saying whether the file is truncated, too long or corrupt.
pub(super) fn check(path: &Path, expected: &SnapshotFile, found: (u64, u32)) -> Result<()> {
    let (size, crc) = found;
    if size < expected.size {
        return Err(corrupt(
            path,
            format!(
                "truncated: {size} bytes, the snapshot manifest says {}",
                expected.size
            ),
        ));
    }
    if size > expected.size {
        return Err(corrupt(
            path,
            format!("{size} bytes, the snapshot manifest says {}", expected.size),
        ));
    }
    if crc != expected.crc32c {
        return Err(corrupt(
            path,
            format!(
                "checksum mismatch: CRC-32C {crc:08x}, the snapshot manifest says {:08x}",
                expected.crc32c
            ),
        ));
    }
    Ok(())
}

/// Brings a snapshot file from `from` into a database directory at `to`, checked against
/// the manifest. SST files are immutable, so they are hard-linked when both paths are on one
/// file system (a restore from local storage then costs one read to verify, no copy); other
/// files are appended to by RocksDB and are always copied.
///
/// # Errors
/// [`Error::Io`] when a file cannot be read or written; [`Error::Checkpoint`] when the file
/// does not match the manifest.
pub(super) fn fetch(from: &Path, to: &Path, expected: &SnapshotFile) -> Result<()> {
    let meta = std::fs::metadata(from).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            corrupt(from, "missing: the snapshot manifest lists it")
        } else {
            Error::io(from, e)
        }
    })?;
    if meta.len() != expected.size {
        // Fail before reading a file that cannot match.
        return check(from, expected, (meta.len(), 0));
    }
    if expected.is_sst() {
        check(from, expected, checksum(from)?)?;
        if std::fs::hard_link(from, to).is_ok() {
            return Ok(());
        }
    }
    let found = copy_checksummed(from, to)?;
    check(from, expected, found)
}

/// Makes the renames into `dir` durable.
///
/// # Errors
/// [`Error::Io`] when the directory cannot be synced.
pub(super) fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(dir, e))
}

/// The temporary name a file is written under before it is renamed to `path`.
fn temp_name(path: &Path) -> std::path::PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::rocksdb::manifest::FileLocation;

    #[test]
    fn copies_carry_the_checksum_and_fetch_rejects_damage() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, c) = (
            dir.path().join("a.sst"),
            dir.path().join("b.sst"),
            dir.path().join("c.sst"),
        );
        std::fs::write(&a, vec![42u8; 3 * CHUNK_BYTES / 2]).unwrap();
        let (size, crc) = copy_checksummed(&a, &b).unwrap();
        assert_eq!(size, 3 * CHUNK_BYTES as u64 / 2);
        assert_eq!(crc, crc32c::crc32c(&std::fs::read(&a).unwrap()));
        assert_eq!(checksum(&b).unwrap(), (size, crc));

        let expected = SnapshotFile {
            name: "b.sst".into(),
            size,
            crc32c: crc,
            location: FileLocation::Private,
        };
        fetch(&b, &c, &expected).unwrap();
        assert_eq!(std::fs::read(&c).unwrap(), std::fs::read(&a).unwrap());

        let mut bytes = std::fs::read(&a).unwrap();
        bytes[1000] ^= 1;
        std::fs::write(&b, &bytes).unwrap();
        let err = fetch(&b, &dir.path().join("d.sst"), &expected).unwrap_err();
        assert!(err.to_string().contains("checksum mismatch"), "{err}");

        std::fs::write(&b, &bytes[..10]).unwrap();
        let err = fetch(&b, &dir.path().join("d.sst"), &expected).unwrap_err();
        assert!(err.to_string().contains("truncated: 10 bytes"), "{err}");

        let err = fetch(&dir.path().join("gone.sst"), &c, &expected).unwrap_err();
        assert!(err.to_string().contains("missing"), "{err}");
    }
}
