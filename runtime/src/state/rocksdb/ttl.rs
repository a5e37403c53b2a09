//! State time-to-live in RocksDB: values carry their write time, reads hide expired entries,
//! and a compaction filter drops them from disk (RocksDB-native cleanup, as Flink's
//! `cleanupInRocksdbCompactFilter`).
//!
//! A value of a state with TTL is stored as `[write time: i64 big-endian][value bytes]`.
//! The filter reads the clock once per compaction run, not once per entry: an entry that
//! expires during a run survives until the next one, and reads hide it meanwhile.

use std::ffi::CStr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use rocksdb::compaction_filter::{CompactionFilter, Decision};
use rocksdb::compaction_filter_factory::{CompactionFilterContext, CompactionFilterFactory};

use crate::time::Clock;
use crate::Timestamp;

/// Bytes of the write-time prefix.
pub(super) const STAMP_BYTES: usize = 8;

/// The write-time prefix of a value written at `now`.
pub(super) fn stamp(now: Timestamp) -> [u8; STAMP_BYTES] {
    now.to_be_bytes()
}

/// Splits a stored value into its write time and the value; `None` when too short to be
/// a stamped value.
pub(super) fn split(stored: &[u8]) -> Option<(Timestamp, &[u8])> {
    let (head, value) = stored.split_at_checked(STAMP_BYTES)?;
    let stamp = Timestamp::from_be_bytes(head.try_into().ok()?);
    Some((stamp, value))
}

/// Whether an entry written at `stamp` has expired at `now`: the same rule as the heap
/// backend's.
pub(super) fn expired(stamp: Timestamp, now: Timestamp, ttl_millis: i64) -> bool {
    now.saturating_sub(stamp) >= ttl_millis
}

/// Creates one [`TtlFilter`] per compaction run of a column family.
pub(super) struct TtlFilterFactory {
    /// Shared with the backend, which updates it when a restored state is declared again
    /// with another time-to-live.
    pub(super) ttl_millis: Arc<AtomicI64>,
    pub(super) clock: Arc<dyn Clock>,
}

impl CompactionFilterFactory for TtlFilterFactory {
    type Filter = TtlFilter;

    fn create(&mut self, _context: CompactionFilterContext) -> TtlFilter {
        TtlFilter {
            now: self.clock.now_millis(),
            ttl_millis: self.ttl_millis.load(Ordering::Relaxed),
        }
    }

    fn name(&self) -> &CStr {
        c"eddy-ttl-filter-factory"
    }
}

/// Drops expired entries during one compaction run.
pub(super) struct TtlFilter {
    now: Timestamp,
    ttl_millis: i64,
}

impl CompactionFilter for TtlFilter {
    fn filter(&mut self, _level: u32, _key: &[u8], value: &[u8]) -> Decision {
        match split(value) {
            Some((stamp, _)) if expired(stamp, self.now, self.ttl_millis) => Decision::Remove,
            _ => Decision::Keep,
        }
    }

    fn name(&self) -> &CStr {
        c"eddy-ttl-filter"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamped_values_round_trip() {
        let mut stored = stamp(1_234).to_vec();
        stored.extend_from_slice(b"value");
        assert_eq!(split(&stored), Some((1_234, &b"value"[..])));
        assert_eq!(split(b"short"), None);
    }

    #[test]
    fn filter_removes_only_expired_entries() {
        let mut filter = TtlFilter {
            now: 1_000,
            ttl_millis: 100,
        };
        let old = stamp(900);
        let fresh = stamp(901);
        assert!(matches!(filter.filter(0, b"k", &old), Decision::Remove));
        assert!(matches!(filter.filter(0, b"k", &fresh), Decision::Keep));
        assert!(matches!(filter.filter(0, b"k", b"bad"), Decision::Keep));
    }
}
