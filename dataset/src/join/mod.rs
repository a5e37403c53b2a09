//! Equi-joins under a memory budget: the hybrid hash join (the default), the sort-merge join,
//! and the broadcast hash join for a small side shared by several probing threads.
//!
//! # How to call the engines
//!
//! Every engine takes the join type ([`JoinType`]: inner, left, right or full outer), one key
//! extractor per side returning the same [`JoinKey`] type, the two inputs as iterators, and an
//! output callback `FnMut(Option<&L>, Option<&R>)` called once per output row: `(Some, Some)`
//! for a match, `(Some, None)` / `(None, Some)` for an unmatched row of an outer side. The
//! callback borrows, so duplicates on either side cost no clone. `run` returns
//! [`JoinMetrics`] (spilled partitions, recursion depth, sort-merge fallbacks) or the I/O error
//! of a spill file.
//!
//! ```
//! use eddy_dataset::join::{BuildSide, HybridHashJoin, JoinType};
//! use eddy_runtime::memory::MemoryManager;
//!
//! let memory = MemoryManager::new(64 << 20);
//! // Rows are owned and serializable (spilled partitions go to disk).
//! let orders = vec![(1u64, 'p'), (2, 'i'), (1, 'q')];
//! let customers = vec![(1u64, 'A'), (3, 'B')];
//! let mut rows = Vec::new();
//! HybridHashJoin::new(&memory, JoinType::FullOuter, |o: &(u64, char)| o.0, |c: &(u64, char)| c.0)
//!     .build_side(BuildSide::Right) // hash the smaller input
//!     .run(orders, customers, |o, c| rows.push((o.map(|o| o.1), c.map(|c| c.1))))?;
//! rows.sort();
//! assert_eq!(rows, [(None, Some('B')), (Some('i'), None), (Some('p'), Some('A')), (Some('q'), Some('A'))]);
//! # Ok::<(), eddy_runtime::Error>(())
//! ```
//!
//! # Which one to use
//!
//! - [`HybridHashJoin`]: the default (Flink's repartition-hash hints). Builds a hash table on
//!   one side ([`BuildSide`], ideally the smaller) and streams the other; spills partitions
//!   when the budget runs out, and never fails on skew.
//! - [`SortMergeJoin`]: both sides sorted by key with the external sorter, then merged
//!   (Flink's repartition-sort-merge hint). Best when inputs are already sorted or when the
//!   output must come out in key order.
//! - [`BroadcastHashJoin`]: the build side is loaded once into an in-memory table shared
//!   (behind an `Arc`) by several threads, each probing its own part of the other side (the
//!   broadcast-hash hints). The build side must fit in memory.
//!
//! # Algorithm and memory
//!
//! See [`hybrid_hash`](HybridHashJoin) for the hybrid hash join: partitions by a seeded hash,
//! spills whole partitions with a bloom filter over their keys, spills the probe rows that go
//! to spilled partitions (dropping those the bloom filter rules out), and joins each spilled
//! pair recursively with a new seed, up to depth [`MAX_RECURSION_DEPTH`], then with the
//! sort-merge join for that partition, so a key holding half of both inputs still completes.
//!
//! [`JoinKey`]: crate::key::JoinKey

mod bloom;
mod broadcast;
mod hybrid_hash;
mod sort_merge;
mod table;

pub use broadcast::BroadcastHashJoin;
pub use hybrid_hash::{HybridHashJoin, JoinMetrics, MAX_RECURSION_DEPTH};
pub use sort_merge::SortMergeJoin;

/// Which rows of which side an equi-join outputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JoinType {
    /// Matching pairs only.
    Inner,
    /// Matching pairs, and every left row without a match (with no right row).
    LeftOuter,
    /// Matching pairs, and every right row without a match (with no left row).
    RightOuter,
    /// Matching pairs, and the unmatched rows of both sides.
    FullOuter,
}

impl JoinType {
    /// True when unmatched left rows are output.
    pub fn keeps_left(self) -> bool {
        matches!(self, JoinType::LeftOuter | JoinType::FullOuter)
    }

    /// True when unmatched right rows are output.
    pub fn keeps_right(self) -> bool {
        matches!(self, JoinType::RightOuter | JoinType::FullOuter)
    }
}

/// Which input of a hash join is loaded into the hash table (built); the other is streamed
/// (probed).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum BuildSide {
    /// Build the left (first) input, as Flink's `REPARTITION_HASH_FIRST`.
    #[default]
    Left,
    /// Build the right (second) input, as Flink's `REPARTITION_HASH_SECOND`.
    Right,
}
