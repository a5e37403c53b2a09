//! [`RocksTable`]: the raw-bytes view of one state's column family, with key-group-prefixed
//! keys and TTL-stamped values.
//!
//! A stored key is `[key group: u16 big-endian][key bytes]`, so the entries of one key group,
//! and of a range of key groups, are contiguous: a scan walks them in key-group order and a
//! restore at another parallelism copies or deletes whole ranges.

use std::path::Path;
use std::sync::Arc;

use rocksdb::{BoundColumnFamily, DBIteratorWithThreadMode, Direction, IteratorMode, ReadOptions};

use super::instance::{Db, Instance};
use super::ttl;
use crate::state::{StateTtlConfig, TtlUpdate};
use crate::time::Clock;
use crate::{Error, Result, Timestamp};

/// Bytes of the key-group prefix of every stored key.
pub(super) const KEY_GROUP_BYTES: usize = 2;

/// Keys up to this long (key group included) are built on the stack, without allocating.
const STACK_KEY_BYTES: usize = 128;

/// One entry of a scan: key group, key (without the key-group prefix) and value.
pub type Entry = (u16, Vec<u8>, Vec<u8>);

/// A cheap-to-clone handle to one state's column family, holding raw bytes.
///
/// Typed state handles serialize keys and values and call these methods with the key group of
/// the key. Values of a state with TTL are hidden once expired, and dropped by compactions.
#[derive(Clone)]
pub struct RocksTable {
    shared: Arc<TableShared>,
}

struct TableShared {
    instance: Arc<Instance>,
    /// The column family's name.
    column_family: String,
    /// The state's name, for errors.
    state: String,
    ttl: Option<(StateTtlConfig, Arc<dyn Clock>)>,
}

impl std::fmt::Debug for RocksTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RocksTable")
            .field("state", &self.shared.state)
            .field("ttl", &self.shared.ttl.as_ref().map(|(c, _)| c))
            .finish()
    }
}

impl RocksTable {
    pub(super) fn new(
        instance: Arc<Instance>,
        column_family: String,
        state: String,
        ttl: Option<(StateTtlConfig, Arc<dyn Clock>)>,
    ) -> Self {
        RocksTable {
            shared: Arc::new(TableShared {
                instance,
                column_family,
                state,
                ttl,
            }),
        }
    }

    /// The name of the state this table holds.
    pub fn state_name(&self) -> &str {
        &self.shared.state
    }

    /// The value of `key` in `key_group`, or `None` when absent or expired.
    ///
    /// With a TTL refreshed on read, a hit also rewrites the entry's write time.
    ///
    /// # Errors
    /// [`Error::Io`] when RocksDB fails.
    pub fn get(&self, key_group: u16, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.get_with(key_group, key, <[u8]>::to_vec)
    }

    /// Like [`get`](Self::get), but hands the value's bytes to `read` without copying them
    /// first (a typed handle deserializes straight from RocksDB's block).
    ///
    /// # Errors
    /// [`Error::Io`] when RocksDB fails.
    pub fn get_with<R>(
        &self,
        key_group: u16,
        key: &[u8],
        read: impl FnOnce(&[u8]) -> R,
    ) -> Result<Option<R>> {
        let shared = &*self.shared;
        let instance = &*shared.instance;
        let cf = self.column_family()?;
        with_concat(&key_group.to_be_bytes(), key, |stored_key| {
            let stored = instance
                .db
                .get_pinned_cf_opt(&cf, stored_key, &instance.read)
                .map_err(|e| instance.error(e))?;
            let Some(stored) = stored else {
                return Ok(None);
            };
            let Some((config, clock)) = &shared.ttl else {
                return Ok(Some(read(&stored)));
            };
            let (stamp, value) = ttl::split(&stored).ok_or_else(|| self.malformed())?;
            let now = clock.now_millis();
            if ttl::expired(stamp, now, config.ttl_millis) {
                return Ok(None);
            }
            if config.update == TtlUpdate::OnReadAndWrite {
                let value = value.to_vec();
                drop(stored);
                self.write_stamped(&cf, stored_key, now, &value)?;
                return Ok(Some(read(&value)));
            }
            Ok(Some(read(value)))
        })
    }

    /// Sets the value of `key` in `key_group` (and, with TTL, its write time to now).
    ///
    /// # Errors
    /// [`Error::Io`] when RocksDB fails.
    pub fn put(&self, key_group: u16, key: &[u8], value: &[u8]) -> Result<()> {
        let shared = &*self.shared;
        let cf = self.column_family()?;
        with_concat(&key_group.to_be_bytes(), key, |stored_key| {
            match &shared.ttl {
                Some((_, clock)) => self.write_stamped(&cf, stored_key, clock.now_millis(), value),
                None => {
                    let instance = &*shared.instance;
                    instance
                        .db
                        .put_cf_opt(&cf, stored_key, value, &instance.write)
                        .map_err(|e| instance.error(e))
                }
            }
        })
    }

    /// Removes `key` from `key_group`; removing an absent key is not an error.
    ///
    /// # Errors
    /// [`Error::Io`] when RocksDB fails.
    pub fn delete(&self, key_group: u16, key: &[u8]) -> Result<()> {
        let instance = &*self.shared.instance;
        let cf = self.column_family()?;
        with_concat(&key_group.to_be_bytes(), key, |stored_key| {
            instance
                .db
                .delete_cf_opt(&cf, stored_key, &instance.write)
                .map_err(|e| instance.error(e))
        })
    }

    /// Every live entry of this subtask, in key-group order, then key order (for batch-mode
    /// drains). The scan sees the table as it was when the scan started, and does not fill
    /// the block cache.
    pub fn scan(&self) -> Entries<'_> {
        let mut read = ReadOptions::default();
        read.fill_cache(false);
        self.entries(read, &[])
    }

    /// The live entries of `key_group` whose key starts with `prefix`, in key order (the
    /// entries of one map state: key ++ user key).
    pub fn scan_prefix(&self, key_group: u16, prefix: &[u8]) -> Entries<'_> {
        let mut start = key_group.to_be_bytes().to_vec();
        start.extend_from_slice(prefix);
        let mut read = ReadOptions::default();
        if let Some(end) = prefix_end(&start) {
            read.set_iterate_upper_bound(end);
        }
        self.entries(read, &start)
    }

    /// Compacts the whole column family now: rewrites its files without overwritten, deleted
    /// and expired entries. RocksDB compacts in the background anyway; this is for tests and
    /// for operators that know a large part of their state just went away.
    ///
    /// # Errors
    /// [`Error::Io`] when RocksDB fails.
    pub fn compact(&self) -> Result<()> {
        let instance = &*self.shared.instance;
        let cf = self.column_family()?;
        instance.db.flush_cf(&cf).map_err(|e| instance.error(e))?;
        instance
            .db
            .compact_range_cf(&cf, None::<&[u8]>, None::<&[u8]>);
        Ok(())
    }

    /// Stored entries, expired ones included: what is physically present (for tests of the
    /// compaction filter).
    #[cfg(test)]
    pub(super) fn stored_len(&self) -> usize {
        let instance = &*self.shared.instance;
        let cf = self.column_family().expect("column family exists");
        instance.db.iterator_cf(&cf, IteratorMode::Start).count()
    }

    fn entries(&self, read: ReadOptions, start: &[u8]) -> Entries<'_> {
        let shared = &*self.shared;
        let instance = &*shared.instance;
        let (inner, error) = match self.column_family() {
            Ok(cf) => {
                let mode = IteratorMode::From(start, Direction::Forward);
                (Some(instance.db.iterator_cf_opt(&cf, read, mode)), None)
            }
            Err(e) => (None, Some(e)),
        };
        Entries {
            inner,
            error,
            ttl: shared
                .ttl
                .as_ref()
                .map(|(config, clock)| (clock.now_millis(), config.ttl_millis)),
            dir: instance.dir.path(),
        }
    }

    fn write_stamped(
        &self,
        cf: &Arc<BoundColumnFamily<'_>>,
        stored_key: &[u8],
        now: Timestamp,
        value: &[u8],
    ) -> Result<()> {
        let instance = &*self.shared.instance;
        with_concat(&ttl::stamp(now), value, |stored| {
            instance
                .db
                .put_cf_opt(cf, stored_key, stored, &instance.write)
                .map_err(|e| instance.error(e))
        })
    }

    fn column_family(&self) -> Result<Arc<BoundColumnFamily<'_>>> {
        let shared = &*self.shared;
        shared
            .instance
            .db
            .cf_handle(&shared.column_family)
            .ok_or_else(|| {
                Error::Internal(format!("state '{}' has no column family", shared.state))
            })
    }

    fn malformed(&self) -> Error {
        Error::Internal(format!(
            "state '{}' holds a value without its TTL write time",
            self.shared.state
        ))
    }
}

/// The entries of a [`RocksTable::scan`] or [`RocksTable::scan_prefix`]: key group, key and
/// value, expired entries left out.
pub struct Entries<'a> {
    inner: Option<DBIteratorWithThreadMode<'a, Db>>,
    /// An error that prevented the scan from starting, reported by the first `next`.
    error: Option<Error>,
    /// The time the scan started and the TTL, for a state with TTL.
    ttl: Option<(Timestamp, i64)>,
    dir: &'a Path,
}

impl Iterator for Entries<'_> {
    type Item = Result<Entry>;

    fn next(&mut self) -> Option<Result<Entry>> {
        if let Some(e) = self.error.take() {
            return Some(Err(e));
        }
        let inner = self.inner.as_mut()?;
        loop {
            let (stored_key, stored) = match inner.next()? {
                Ok(entry) => entry,
                Err(e) => {
                    self.inner = None;
                    return Some(Err(super::instance::rocks_error(self.dir, e)));
                }
            };
            let Some((group, key)) = stored_key.split_first_chunk::<KEY_GROUP_BYTES>() else {
                self.inner = None;
                return Some(Err(Error::Internal("a state key without key group".into())));
            };
            let group = u16::from_be_bytes(*group);
            let value = match self.ttl {
                None => stored.into_vec(),
                Some((now, ttl_millis)) => match ttl::split(&stored) {
                    Some((stamp, _)) if ttl::expired(stamp, now, ttl_millis) => continue,
                    Some((_, value)) => value.to_vec(),
                    None => {
                        self.inner = None;
                        return Some(Err(Error::Internal(
                            "a TTL state value without its write time".into(),
                        )));
                    }
                },
            };
            return Some(Ok((group, key.to_vec(), value)));
        }
    }
}

/// The smallest key greater than every key that starts with `prefix`; `None` when there is
/// none (the prefix is all `0xff`).
pub(super) fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// Calls `f` with `head ++ tail`, built on the stack when short: a state access then
/// allocates nothing for its key.
fn with_concat<R>(head: &[u8], tail: &[u8], f: impl FnOnce(&[u8]) -> R) -> R {
    let len = head.len() + tail.len();
    if len <= STACK_KEY_BYTES {
        let mut buf = [0u8; STACK_KEY_BYTES];
        buf[..head.len()].copy_from_slice(head);
        buf[head.len()..len].copy_from_slice(tail);
        f(&buf[..len])
    } else {
        let mut buf = Vec::with_capacity(len);
        buf.extend_from_slice(head);
        buf.extend_from_slice(tail);
        f(&buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_end_is_the_next_prefix() {
        assert_eq!(prefix_end(&[0, 1, 2]), Some(vec![0, 1, 3]));
        assert_eq!(prefix_end(&[0, 1, 0xff]), Some(vec![0, 2]));
        assert_eq!(prefix_end(&[0xff, 0xff]), None);
        assert_eq!(prefix_end(&[]), None);
    }

    #[test]
    fn concat_on_stack_and_heap_agree() {
        let long = vec![7u8; 300];
        assert_eq!(with_concat(b"ab", b"cd", <[u8]>::to_vec), b"abcd");
        let joined = with_concat(b"ab", &long, <[u8]>::to_vec);
        assert_eq!(joined.len(), 302);
        assert_eq!(&joined[..2], b"ab");
    }
}
