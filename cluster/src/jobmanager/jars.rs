//! The jobmanager's store of uploaded executables, addressed by the SHA-256 of their content.
//!
//! `DIR/jars/<sha256>` is the executable (mode 0700), `DIR/jars/<sha256>.json` its name and
//! upload time. An upload is written to a temporary file while it is hashed, checked, then
//! renamed into place, so the store never holds half an executable.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::protocol::JarFile;

/// The SHA-256 of `bytes`, in lowercase hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    crate::process::hex(&Sha256::digest(bytes))
}

/// What is kept beside each executable.
#[derive(Debug, Serialize, Deserialize)]
struct Meta {
    name: String,
    uploaded: i64,
    size: u64,
}

/// Uploaded executables.
pub(crate) struct JarStore {
    dir: PathBuf,
}

/// An upload being received: written and hashed as it arrives.
pub(crate) struct Upload {
    file: tempfile::NamedTempFile,
    hasher: Sha256,
    size: u64,
    head: Vec<u8>,
}

impl Upload {
    /// Appends a chunk.
    pub(crate) fn write(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        if self.head.len() < 4 {
            let want = (4 - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..want]);
        }
        self.hasher.update(chunk);
        self.size += chunk.len() as u64;
        self.file.write_all(chunk)
    }
}

/// Whether `head` starts a native executable (ELF or Mach-O).
fn is_native_executable(head: &[u8]) -> bool {
    const MAGICS: [[u8; 4]; 5] = [
        [0x7f, b'E', b'L', b'F'],
        [0xfe, 0xed, 0xfa, 0xce],
        [0xfe, 0xed, 0xfa, 0xcf],
        [0xce, 0xfa, 0xed, 0xfe],
        [0xcf, 0xfa, 0xed, 0xfe],
    ];
    MAGICS.iter().any(|m| head.starts_with(m))
}

impl JarStore {
    /// The store in `dir` (created).
    pub(crate) fn open(dir: PathBuf) -> Result<Self> {
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(JarStore { dir })
    }

    /// Starts receiving an upload.
    pub(crate) fn begin(&self) -> std::io::Result<Upload> {
        Ok(Upload {
            file: tempfile::NamedTempFile::new_in(&self.dir)?,
            hasher: Sha256::new(),
            size: 0,
            head: Vec::new(),
        })
    }

    /// Checks a received upload against `expected_sha` (when given) and keeps it under its
    /// hash. The error is a message for a 400 answer.
    pub(crate) fn finish(
        &self,
        upload: Upload,
        name: &str,
        expected_sha: Option<&str>,
    ) -> std::result::Result<(JarFile, PathBuf), String> {
        let sha = crate::process::hex(&upload.hasher.finalize());
        if let Some(expected) = expected_sha {
            if !expected.eq_ignore_ascii_case(&sha) {
                return Err(format!(
                    "malformed upload: checksum mismatch for {name}: sent sha256 {expected}, \
                     received content has {sha}"
                ));
            }
        }
        if upload.size == 0 {
            return Err(format!("malformed upload: {name} is empty"));
        }
        if !is_native_executable(&upload.head) {
            return Err(format!(
                "malformed upload: {name} is not a native executable (no ELF or Mach-O header)"
            ));
        }
        let path = self.dir.join(&sha);
        let meta = Meta {
            name: name.to_string(),
            uploaded: crate::process::now_ms(),
            size: upload.size,
        };
        let keep = || -> Result<()> {
            upload.file.as_file().sync_all()?;
            crate::dir::set_mode(upload.file.path(), 0o700)?;
            upload.file.persist(&path)?;
            crate::dir::ClusterDir::write_atomic(
                &self.dir.join(format!("{sha}.json")),
                &serde_json::to_vec(&meta)?,
                0o600,
            )
        };
        keep().map_err(|e| format!("cannot store {name}: {e:#}"))?;
        Ok((
            JarFile {
                id: sha,
                name: meta.name,
                uploaded: meta.uploaded,
                size: meta.size,
            },
            path,
        ))
    }

    /// Every stored executable, oldest first.
    pub(crate) fn list(&self) -> Vec<JarFile> {
        let mut files: Vec<JarFile> = std::fs::read_dir(&self.dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| {
                let path = entry.path();
                let id = path
                    .file_name()?
                    .to_str()?
                    .strip_suffix(".json")?
                    .to_string();
                let meta: Meta = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
                self.dir.join(&id).exists().then_some(JarFile {
                    id,
                    name: meta.name,
                    uploaded: meta.uploaded,
                    size: meta.size,
                })
            })
            .collect();
        files.sort_by(|a, b| (a.uploaded, &a.id).cmp(&(b.uploaded, &b.id)));
        files
    }

    /// The path of a stored executable.
    pub(crate) fn path(&self, id: &str) -> Option<PathBuf> {
        let valid = id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit());
        let path = self.dir.join(id);
        (valid && path.is_file()).then_some(path)
    }

    /// The name an executable was uploaded under.
    pub(crate) fn name(&self, id: &str) -> String {
        std::fs::read(self.dir.join(format!("{id}.json")))
            .ok()
            .and_then(|b| serde_json::from_slice::<Meta>(&b).ok())
            .map_or_else(|| id.to_string(), |m| m.name)
    }

    /// Removes a stored executable; false when there was none.
    pub(crate) fn delete(&self, id: &str) -> bool {
        let Some(path) = self.path(id) else {
            return false;
        };
        let _ = std::fs::remove_file(self.dir.join(format!("{id}.json")));
        std::fs::remove_file(path).is_ok()
    }
}
