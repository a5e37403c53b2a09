//! How records are routed from a producer subtask to consumer subtasks.
//!
//! Keyed streams hash each key into one of a fixed number of *key groups* (the job's max
//! parallelism, 128 by default); a consumer subtask owns a contiguous [`KeyGroupRange`]. State
//! is snapshotted per key group, so a job can be restored at another parallelism by handing the
//! groups out again. The assignment follows Flink's:
//!
//! ```
//! use eddy_runtime::partition::{key_group_for_hash, subtask_for_key_group, KeyGroupRange};
//! let max_parallelism = 128;
//! let group = key_group_for_hash(0xdead_beef, max_parallelism);
//! let subtask = subtask_for_key_group(group, max_parallelism, 4);
//! assert!(KeyGroupRange::for_subtask(max_parallelism, 4, subtask).contains(group));
//! ```

use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// The default number of key groups, as in Flink.
pub const DEFAULT_MAX_PARALLELISM: u32 = 128;

/// A contiguous range of key groups `start..=end` owned by one subtask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KeyGroupRange {
    /// First key group of the range.
    pub start: u32,
    /// Last key group of the range (inclusive).
    pub end: u32,
}

impl KeyGroupRange {
    /// The range that subtask `index` of `parallelism` owns.
    pub fn for_subtask(max_parallelism: u32, parallelism: u32, index: u32) -> Self {
        let (m, p, i) = (max_parallelism as u64, parallelism as u64, index as u64);
        let start = (i * m).div_ceil(p);
        let end = ((i + 1) * m).div_ceil(p) - 1;
        KeyGroupRange {
            start: start as u32,
            end: end as u32,
        }
    }

    /// Whether the two ranges share a key group.
    pub fn overlaps(&self, other: &KeyGroupRange) -> bool {
        self.start <= other.end && other.start <= self.end
    }

    /// Whether `group` lies in the range.
    pub fn contains(&self, group: u32) -> bool {
        self.start <= group && group <= self.end
    }
}

/// Hashes a key with a fixed, seedless hasher, so that every process of a job (and every run)
/// agrees on the key group of a key.
#[inline]
pub fn hash_key<K: Hash + ?Sized>(key: &K) -> u64 {
    let mut hasher = rustc_hash::FxHasher::default();
    key.hash(&mut hasher);
    hasher.finish()
}

/// The key group of a key hash: the hash is mixed (Murmur3's finaliser) before the modulo so
/// that weak hashes still spread evenly.
#[inline]
pub fn key_group_for_hash(hash: u64, max_parallelism: u32) -> u32 {
    let mut h = hash;
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^= h >> 33;
    (h % max_parallelism as u64) as u32
}

/// The subtask of `parallelism` that owns `key_group`.
#[inline]
pub fn subtask_for_key_group(key_group: u32, max_parallelism: u32, parallelism: u32) -> u32 {
    (key_group as u64 * parallelism as u64 / max_parallelism as u64) as u32
}

/// A key selector reduced to what routing needs: the hash of the record's key.
pub type KeyHashFn<T> = Arc<dyn Fn(&T) -> u64 + Send + Sync>;

/// How an edge distributes its producer's records over the consumer's subtasks.
pub enum Partitioner<T> {
    /// Subtask `i` sends to subtask `i`; both sides have equal parallelism. Chainable.
    Forward,
    /// Round-robin over all consumer subtasks.
    Rebalance,
    /// A pseudo-random consumer subtask per record.
    Shuffle,
    /// Every record to every consumer subtask.
    Broadcast,
    /// By the key's group: records with equal keys meet at one subtask.
    Hash(KeyHashFn<T>),
}

impl<T> Clone for Partitioner<T> {
    fn clone(&self) -> Self {
        match self {
            Partitioner::Forward => Partitioner::Forward,
            Partitioner::Rebalance => Partitioner::Rebalance,
            Partitioner::Shuffle => Partitioner::Shuffle,
            Partitioner::Broadcast => Partitioner::Broadcast,
            Partitioner::Hash(f) => Partitioner::Hash(f.clone()),
        }
    }
}

impl<T> Partitioner<T> {
    /// The untyped kind, for planning.
    pub fn kind(&self) -> PartitionKind {
        match self {
            Partitioner::Forward => PartitionKind::Forward,
            Partitioner::Rebalance => PartitionKind::Rebalance,
            Partitioner::Shuffle => PartitionKind::Shuffle,
            Partitioner::Broadcast => PartitionKind::Broadcast,
            Partitioner::Hash(_) => PartitionKind::Hash,
        }
    }
}

impl<T> std::fmt::Debug for Partitioner<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.kind())
    }
}

/// The kind of a [`Partitioner`], without its key function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionKind {
    /// See [`Partitioner::Forward`].
    Forward,
    /// See [`Partitioner::Rebalance`].
    Rebalance,
    /// See [`Partitioner::Shuffle`].
    Shuffle,
    /// See [`Partitioner::Broadcast`].
    Broadcast,
    /// See [`Partitioner::Hash`].
    Hash,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_partition_all_groups_without_overlap() {
        for m in [1u32, 7, 128, 1000] {
            for p in 1..=m.min(17) {
                let mut next = 0;
                for i in 0..p {
                    let r = KeyGroupRange::for_subtask(m, p, i);
                    assert_eq!(r.start, next, "m={m} p={p} i={i}");
                    next = r.end + 1;
                    for g in r.start..=r.end {
                        assert_eq!(subtask_for_key_group(g, m, p), i, "m={m} p={p} g={g}");
                    }
                }
                assert_eq!(next, m);
            }
        }
    }

    #[test]
    fn key_groups_spread_evenly() {
        let mut counts = [0u32; 128];
        for i in 0..128_000u64 {
            counts[key_group_for_hash(hash_key(&format!("w{i}")), 128) as usize] += 1;
        }
        let (min, max) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
        assert!(*min > 800 && *max < 1200, "min {min} max {max}");
    }
}
