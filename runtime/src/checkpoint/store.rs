//! Where checkpoint files physically go: a [`Store`] of whole files under `/`-separated keys,
//! and a [`Location`] in one.
//!
//! Two kinds of store hold the same layout ([`super::storage`]):
//!
//! - a plain path (`/var/eddy/checkpoints`) is a local directory: every file is written to a
//!   temporary name, synced and renamed, and the directory synced, so it is durable once
//!   written; RocksDB's files are copied there and hard-linked back on restore;
//! - a URL goes through the [`object_store`] crate: `file:///abs/dir` (its local file
//!   system: atomic renames, no fsync) or `memory://NAME/prefix` (an in-memory store shared
//!   by every job of the process under that `NAME`: for tests and short-lived jobs). RocksDB's
//!   files are staged in a temporary directory and uploaded, and downloaded again on restore.
//!
//! ```
//! use eddy_runtime::checkpoint::Location;
//! use std::path::Path;
//!
//! let dir = Location::parse(Path::new("memory://doc-store/checkpoints")).unwrap();
//! let file = dir.join("chk-1").join("_metadata");
//! file.put(b"committed").unwrap();
//! assert_eq!(file.get().unwrap().as_deref(), Some(&b"committed"[..]));
//! assert_eq!(dir.join("chk-1").children().unwrap(), vec!["_metadata".to_string()]);
//! assert_eq!(file.display(), Path::new("memory://doc-store/checkpoints/chk-1/_metadata"));
//! ```

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use object_store::memory::InMemory;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};

use super::format::write_atomically;
use crate::{Error, Result};

/// Files under `/`-separated keys: the primitive operations checkpoints need.
pub trait Store: Send + Sync + std::fmt::Debug {
    /// Writes `bytes` under `key`, whole or not at all.
    ///
    /// # Errors
    /// [`Error::Io`] naming the file.
    fn put(&self, key: &str, bytes: &[u8]) -> Result<()>;

    /// The bytes under `key`, `None` when there is no such file.
    ///
    /// # Errors
    /// [`Error::Io`] naming the file.
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>>;

    /// Names of the files and directories directly under `prefix`, sorted.
    ///
    /// # Errors
    /// [`Error::Io`] when the listing fails (a missing directory is empty).
    fn children(&self, prefix: &str) -> Result<Vec<String>>;

    /// Removes the file `key`, if any.
    fn delete(&self, key: &str);

    /// Removes `prefix` and everything under it.
    fn delete_all(&self, prefix: &str);

    /// How `key` is shown to users: a path or a URL.
    fn display(&self, key: &str) -> PathBuf;

    /// The local directory or file of `key`, for a store that is a local directory.
    fn local_path(&self, key: &str) -> Option<PathBuf>;
}

/// A local directory tree, written durably (temporary file, fsync, rename, directory fsync).
#[derive(Debug)]
struct LocalStore;

impl LocalStore {
    fn path(key: &str) -> PathBuf {
        PathBuf::from(format!("/{key}"))
    }
}

impl Store for LocalStore {
    fn put(&self, key: &str, bytes: &[u8]) -> Result<()> {
        let path = LocalStore::path(key);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        write_atomically(&path, bytes)
    }

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let path = LocalStore::path(key);
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(path, e)),
        }
    }

    fn children(&self, prefix: &str) -> Result<Vec<String>> {
        let path = LocalStore::path(prefix);
        let entries = match std::fs::read_dir(&path) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io(path, e)),
        };
        let mut names: Vec<String> = entries
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|name| !(name.starts_with('.') && name.ends_with(".tmp")))
            .collect();
        names.sort();
        Ok(names)
    }

    fn delete(&self, key: &str) {
        let _ = std::fs::remove_file(LocalStore::path(key));
    }

    fn delete_all(&self, prefix: &str) {
        let path = LocalStore::path(prefix);
        if std::fs::remove_dir_all(&path).is_err() {
            let _ = std::fs::remove_file(&path);
        }
    }

    fn display(&self, key: &str) -> PathBuf {
        LocalStore::path(key)
    }

    fn local_path(&self, key: &str) -> Option<PathBuf> {
        Some(LocalStore::path(key))
    }
}

/// A store of the `object_store` crate, driven synchronously (its local and in-memory stores
/// need no async runtime).
struct Objects {
    store: Arc<dyn ObjectStore>,
    /// `scheme://authority` shown before keys.
    base: String,
    /// For `file://`: the object store leaves emptied directories behind; they are removed.
    file_system: bool,
}

impl std::fmt::Debug for Objects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Objects").field("base", &self.base).finish()
    }
}

impl Objects {
    fn path(&self, key: &str) -> ObjectPath {
        ObjectPath::from(key)
    }

    fn error(&self, key: &str, error: object_store::Error) -> Error {
        Error::io(self.display(key), std::io::Error::other(error.to_string()))
    }

    /// Every object under `prefix`.
    fn list_all(&self, prefix: &str) -> Result<Vec<ObjectPath>> {
        use futures::StreamExt;
        let prefix_path = self.path(prefix);
        futures::executor::block_on(async {
            let mut stream = self.store.list(Some(&prefix_path));
            let mut paths = Vec::new();
            while let Some(meta) = stream.next().await {
                paths.push(meta.map_err(|e| self.error(prefix, e))?.location);
            }
            Ok(paths)
        })
    }
}

impl Store for Objects {
    fn put(&self, key: &str, bytes: &[u8]) -> Result<()> {
        let payload = object_store::PutPayload::from(bytes.to_vec());
        futures::executor::block_on(self.store.put(&self.path(key), payload))
            .map(|_| ())
            .map_err(|e| self.error(key, e))
    }

    fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        futures::executor::block_on(async {
            match self.store.get(&self.path(key)).await {
                Ok(result) => Ok(Some(
                    result
                        .bytes()
                        .await
                        .map_err(|e| self.error(key, e))?
                        .to_vec(),
                )),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(self.error(key, e)),
            }
        })
    }

    fn children(&self, prefix: &str) -> Result<Vec<String>> {
        let path = self.path(prefix);
        let listing = futures::executor::block_on(self.store.list_with_delimiter(Some(&path)))
            .map_err(|e| self.error(prefix, e))?;
        let mut names: Vec<String> = listing
            .common_prefixes
            .iter()
            .chain(listing.objects.iter().map(|o| &o.location))
            .filter_map(|p| p.filename().map(str::to_string))
            .collect();
        names.sort();
        names.dedup();
        Ok(names)
    }

    fn delete(&self, key: &str) {
        let _ = futures::executor::block_on(self.store.delete(&self.path(key)));
    }

    fn delete_all(&self, prefix: &str) {
        for path in self.list_all(prefix).unwrap_or_default() {
            let _ = futures::executor::block_on(self.store.delete(&path));
        }
        if self.file_system {
            let _ = std::fs::remove_dir_all(LocalStore::path(prefix));
        }
    }

    fn display(&self, key: &str) -> PathBuf {
        PathBuf::from(format!("{}/{key}", self.base))
    }

    fn local_path(&self, _: &str) -> Option<PathBuf> {
        None
    }
}

/// The in-memory stores of this process, by name.
fn memory_store(name: &str) -> Arc<dyn ObjectStore> {
    static STORES: OnceLock<Mutex<HashMap<String, Arc<InMemory>>>> = OnceLock::new();
    let mut stores = STORES
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    stores
        .entry(name.to_string())
        .or_insert_with(|| Arc::new(InMemory::new()))
        .clone()
}

/// A directory or file in a [`Store`]: a checkpoint, a savepoint, one of their files.
#[derive(Clone, Debug)]
pub struct Location {
    store: Arc<dyn Store>,
    key: String,
}

impl PartialEq for Location {
    fn eq(&self, other: &Self) -> bool {
        self.display() == other.display()
    }
}

/// Checks the `/`-separated segments of a URL's path (no empty, `.` or `..` segment).
fn url_key(url: &Path, path: &str) -> Result<String> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if segments.iter().any(|s| *s == "." || *s == "..") {
        return Err(Error::Checkpoint {
            path: url.to_path_buf(),
            message: "'.' and '..' are not allowed in a checkpoint URL".into(),
        });
    }
    Ok(segments.join("/"))
}

impl Location {
    /// A location given by the user: a local path (absolute or relative to the working
    /// directory), `file:///abs/dir` or `memory://NAME/prefix`.
    ///
    /// # Errors
    /// [`Error::Checkpoint`] for a URL of another scheme or a malformed one; [`Error::Io`]
    /// when a relative path cannot be made absolute.
    pub fn parse(path: &Path) -> Result<Location> {
        let text = path.to_string_lossy();
        if let Some((scheme, rest)) = text.split_once("://") {
            let (store, key): (Arc<dyn Store>, String) = match scheme {
                "memory" => {
                    let (name, rest) = rest.split_once('/').unwrap_or((rest, ""));
                    if name.is_empty() {
                        return Err(Error::Checkpoint {
                            path: path.to_path_buf(),
                            message: "a memory URL names its store: memory://NAME/path".into(),
                        });
                    }
                    let store = Objects {
                        store: memory_store(name),
                        base: format!("memory://{name}"),
                        file_system: false,
                    };
                    (Arc::new(store), url_key(path, rest)?)
                }
                "file" => {
                    let Some(absolute) = rest.strip_prefix('/') else {
                        return Err(Error::Checkpoint {
                            path: path.to_path_buf(),
                            message: "a file URL needs an absolute path: file:///dir".into(),
                        });
                    };
                    let store = Objects {
                        store: Arc::new(object_store::local::LocalFileSystem::new()),
                        base: "file://".into(),
                        file_system: true,
                    };
                    (Arc::new(store), url_key(path, absolute)?)
                }
                other => {
                    return Err(Error::Checkpoint {
                        path: path.to_path_buf(),
                        message: format!(
                            "unknown storage scheme '{other}://' (this build knows file:// and \
                             memory://, and plain paths)"
                        ),
                    })
                }
            };
            return Ok(Location { store, key });
        }
        let absolute = std::path::absolute(path).map_err(|e| Error::io(path, e))?;
        let key = absolute
            .to_string_lossy()
            .trim_start_matches('/')
            .trim_end_matches('/')
            .to_string();
        Ok(Location {
            store: Arc::new(LocalStore),
            key,
        })
    }

    /// The location `name` below this one (`name` may hold `/`).
    pub fn join(&self, name: &str) -> Location {
        let key = if self.key.is_empty() {
            name.to_string()
        } else {
            format!("{}/{name}", self.key)
        };
        Location {
            store: self.store.clone(),
            key,
        }
    }

    /// The enclosing location, if any.
    pub fn parent(&self) -> Option<Location> {
        let (parent, _) = self.key.rsplit_once('/')?;
        Some(Location {
            store: self.store.clone(),
            key: parent.to_string(),
        })
    }

    /// The last segment of the location.
    pub fn name(&self) -> &str {
        self.key.rsplit('/').next().unwrap_or_default()
    }

    /// The path or URL shown to users (and in errors).
    pub fn display(&self) -> PathBuf {
        self.store.display(&self.key)
    }

    /// The local path, when the store is a local directory.
    pub fn local_path(&self) -> Option<PathBuf> {
        self.store.local_path(&self.key)
    }

    /// Writes `bytes` here, whole or not at all.
    ///
    /// # Errors
    /// [`Error::Io`] naming the file.
    pub fn put(&self, bytes: &[u8]) -> Result<()> {
        self.store.put(&self.key, bytes)
    }

    /// The bytes here, `None` when there is no file.
    ///
    /// # Errors
    /// [`Error::Io`] naming the file.
    pub fn get(&self) -> Result<Option<Vec<u8>>> {
        self.store.get(&self.key)
    }

    /// Whether a file is here.
    pub fn exists(&self) -> bool {
        match self.local_path() {
            Some(path) => path.exists(),
            None => self.get().ok().flatten().is_some(),
        }
    }

    /// Names directly below this location, sorted.
    ///
    /// # Errors
    /// [`Error::Io`] when the listing fails.
    pub fn children(&self) -> Result<Vec<String>> {
        self.store.children(&self.key)
    }

    /// Removes the file here.
    pub fn delete(&self) {
        self.store.delete(&self.key)
    }

    /// Removes everything here and below.
    pub fn delete_all(&self) {
        self.store.delete_all(&self.key)
    }

    /// Copies the local file `from` here.
    ///
    /// # Errors
    /// [`Error::Io`] naming the file that could not be read or written.
    pub fn upload(&self, from: &Path) -> Result<()> {
        let bytes = std::fs::read(from).map_err(|e| Error::io(from, e))?;
        self.put(&bytes)
    }

    /// Copies the file here to the local file `to`.
    ///
    /// # Errors
    /// [`Error::Checkpoint`] when it is missing, [`Error::Io`] when it cannot be copied.
    pub fn download(&self, to: &Path) -> Result<()> {
        let Some(bytes) = self.get()? else {
            return Err(Error::Checkpoint {
                path: self.display(),
                message: "missing (the checkpoint is incomplete)".into(),
            });
        };
        std::fs::write(to, bytes).map_err(|e| Error::io(to, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exercise(root: &Location) {
        let a = root.join("job/chk-1/op-0-0.state");
        a.put(b"state").unwrap();
        root.join("job/chk-1/_metadata").put(b"meta").unwrap();
        root.join("job/chk-2/op-0-0.state").put(b"more").unwrap();
        assert_eq!(a.get().unwrap().unwrap(), b"state");
        assert!(root.join("job/chk-1/_metadata").exists());
        assert!(!root.join("job/chk-2/_metadata").exists());
        assert_eq!(root.join("job").children().unwrap(), vec!["chk-1", "chk-2"]);
        assert_eq!(
            root.join("job/chk-1").children().unwrap(),
            vec!["_metadata", "op-0-0.state"]
        );
        assert_eq!(a.parent().unwrap().name(), "chk-1");
        root.join("job/chk-1").delete_all();
        assert!(a.get().unwrap().is_none());
        assert_eq!(root.join("job").children().unwrap(), vec!["chk-2"]);
        assert!(root.join("nothing").children().unwrap().is_empty());
    }

    #[test]
    fn local_paths_file_urls_and_memory_urls_behave_alike() {
        let dir = tempfile::tempdir().unwrap();
        exercise(&Location::parse(&dir.path().join("plain")).unwrap());
        let url = format!("file://{}/objects", dir.path().display());
        let files = Location::parse(Path::new(&url)).unwrap();
        exercise(&files);
        assert_eq!(files.join("x").display(), PathBuf::from(format!("{url}/x")));
        exercise(&Location::parse(Path::new("memory://store-test/root")).unwrap());
    }

    #[test]
    fn bad_urls_are_named() {
        for (url, expected) in [
            ("s3://bucket/x", "unknown storage scheme 's3://'"),
            ("memory:///x", "names its store"),
            ("file://relative/x", "absolute path"),
            ("memory://a/../b", "'..' are not allowed"),
        ] {
            let error = Location::parse(Path::new(url)).unwrap_err().to_string();
            assert!(error.contains(expected) && error.contains(url), "{error}");
        }
    }
}
