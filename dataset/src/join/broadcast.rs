//! [`BroadcastHashJoin`]: one in-memory hash table over the small (broadcast) side, probed by
//! several threads at once, each streaming its own share of the large side.
//!
//! ```
//! use eddy_dataset::join::BroadcastHashJoin;
//! use eddy_runtime::memory::MemoryManager;
//!
//! let memory = MemoryManager::new(64 << 20);
//! let names = BroadcastHashJoin::build(&memory, vec![(1u64, 'a'), (2, 'b')], |n| n.0, false);
//! let (mut left, mut right) = (Vec::new(), Vec::new());
//! std::thread::scope(|s| {
//!     s.spawn(|| names.probe(vec![(1u64, 10u32)], |r| r.0, false, |n, r| left.push((n.unwrap().1, r.unwrap().1))));
//!     s.spawn(|| names.probe(vec![(2u64, 20u32), (9, 90)], |r| r.0, false, |n, r| right.push((n.unwrap().1, r.unwrap().1))));
//! });
//! assert_eq!((left, right), (vec![('a', 10)], vec![('b', 20)]));
//! ```
//!
//! # Algorithm
//!
//! A table bigger than the CPU caches makes every lookup a cache miss or two. So the build
//! side is split by the top bits of its keys' hashes into partitions of about 256 KiB, one
//! small chained table each; a probing thread gathers a chunk of its rows, orders it by
//! partition (one radix pass) and then probes partition after partition, each table staying
//! in cache while its rows go by (a radix-partitioned hash join). Small tables skip all that.
//!
//! # Memory
//!
//! The table (rows, chain links, bucket heads, matched flags when the build side is outer) is
//! reserved from the budget, *forced* when the budget refuses: choosing a broadcast join is a
//! promise that the side is small, as with Flink's broadcast hints. A side that may be large
//! belongs in a [`HybridHashJoin`](super::HybridHashJoin), which spills. Each probing thread
//! reserves its chunk (twice: the radix pass needs a scratch copy) when the budget allows, and
//! probes row by row otherwise.

use std::mem::size_of;
use std::sync::atomic::{AtomicBool, Ordering};

use eddy_runtime::memory::{MemoryManager, MemoryReservation};

use super::table::{Slot, Table};
use crate::key::JoinKey;
use crate::sort::{radix_sort_by_prefix, radix_sort_by_prefix_with};

/// Seed of the broadcast table's hash (any fixed value: the table is never re-partitioned).
const SEED: u64 = 0x5eed;

/// The size a partition's table aims at, to stay in a core's cache.
const PARTITION_BYTES: usize = 256 * 1024;

/// A hash table over a build side of `B` rows keyed by `K`, shared by probing threads.
pub struct BroadcastHashJoin<K, B> {
    /// One table per partition (by the top bits of the hash).
    tables: Vec<Table<K, B>>,
    /// The index of each partition's first row among all rows, for the matched flags.
    offsets: Vec<usize>,
    /// Bits of the hash that choose the partition (0: one partition).
    partition_bits: u32,
    matched: Vec<AtomicBool>,
    memory: MemoryManager,
    _reservation: MemoryReservation,
}

impl<K: JoinKey, B: Send + Sync> BroadcastHashJoin<K, B> {
    /// Loads `rows` into the table. `keep_unmatched` records which rows found a match, for
    /// [`Self::for_each_unmatched`] (an outer build side).
    pub fn build<I, F>(memory: &MemoryManager, rows: I, mut key_of: F, keep_unmatched: bool) -> Self
    where
        I: IntoIterator<Item = B>,
        F: FnMut(&B) -> K,
    {
        let rows = rows.into_iter();
        let mut slots: Vec<Slot<K, B>> = Vec::with_capacity(rows.size_hint().0);
        // Lookups jump around the whole table: huge pages spare them most TLB misses.
        eddy_runtime::memory::advise_huge_pages(&slots);
        slots.extend(rows.map(|row| Slot {
            key: key_of(&row),
            next: 0,
            row,
        }));
        let n = slots.len();
        let bytes = slots.capacity() * size_of::<Slot<K, B>>()
            + Table::<K, B>::head_bytes(n)
            + if keep_unmatched { n } else { 0 };
        let mut reservation = memory.reservation();
        if !reservation.try_grow(2 * bytes) {
            tracing::warn!(
                bytes,
                budget = memory.budget(),
                "broadcast join side exceeds the memory budget; holding it anyway"
            );
            reservation.force_grow(2 * bytes);
        }
        let partitions = (n * size_of::<Slot<K, B>>() / PARTITION_BYTES)
            .next_power_of_two()
            .clamp(1, 1024);
        let partition_bits = partitions.trailing_zeros();
        let partition_of = |hash: u64| {
            if partition_bits == 0 {
                0
            } else {
                hash >> (64 - partition_bits)
            }
        };
        radix_sort_by_prefix(&mut slots, |s| partition_of(s.key.hash_seeded(SEED)), false);
        let mut counts = vec![0usize; partitions];
        for slot in &slots {
            counts[partition_of(slot.key.hash_seeded(SEED)) as usize] += 1;
        }
        let mut offsets = Vec::with_capacity(partitions);
        let mut sum = 0;
        for count in &counts {
            offsets.push(sum);
            sum += count;
        }
        // Split from the end, so each part is copied once.
        let mut tables: Vec<Table<K, B>> = Vec::with_capacity(partitions);
        for &offset in offsets.iter().rev() {
            let part = slots.split_off(offset);
            tables.push(Table::build(part, SEED));
        }
        tables.reverse();
        reservation.shrink_to(bytes);
        let matched = if keep_unmatched {
            (0..n).map(|_| AtomicBool::new(false)).collect()
        } else {
            Vec::new()
        };
        BroadcastHashJoin {
            tables,
            offsets,
            partition_bits,
            matched,
            memory: memory.clone(),
            _reservation: reservation,
        }
    }

    /// Rows in the table.
    pub fn len(&self) -> usize {
        self.tables.iter().map(|t| t.slots.len()).sum()
    }

    /// True when the build side was empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    #[inline]
    fn partition_of(&self, hash: u64) -> usize {
        if self.partition_bits == 0 {
            0
        } else {
            (hash >> (64 - self.partition_bits)) as usize
        }
    }

    /// Joins `rows` against the table: `emit(Some(build), Some(probe))` per match and, when
    /// `keep_unmatched` (an outer probe side), `emit(None, Some(probe))` for a probe row
    /// without one. Returns the rows output. Safe to call from several threads at once.
    pub fn probe<P, I, F, E>(
        &self,
        rows: I,
        mut key_of: F,
        keep_unmatched: bool,
        mut emit: E,
    ) -> u64
    where
        P: Send,
        I: IntoIterator<Item = P>,
        F: FnMut(&P) -> K,
        E: FnMut(Option<&B>, Option<&P>),
    {
        let mut output = 0;
        let rows = rows.into_iter();
        let chunk_rows = (2 * self.len()).clamp(1 << 12, 1 << 22);
        let mut chunk_memory = self.memory.reservation();
        let chunked = self.partition_bits > 0
            && chunk_memory.try_grow(2 * chunk_rows * size_of::<(u64, K, P)>());
        if !chunked {
            for row in rows {
                let key = key_of(&row);
                let hash = key.hash_seeded(SEED);
                output += self.probe_one(key, hash, row, keep_unmatched, &mut emit);
            }
            return output;
        }
        let mut chunk: Vec<(u64, K, P)> = Vec::with_capacity(chunk_rows);
        let mut scratch = Vec::new();
        for row in rows {
            let key = key_of(&row);
            chunk.push((key.hash_seeded(SEED), key, row));
            if chunk.len() == chunk_rows {
                output += self.probe_chunk(&mut chunk, &mut scratch, keep_unmatched, &mut emit);
            }
        }
        output + self.probe_chunk(&mut chunk, &mut scratch, keep_unmatched, &mut emit)
    }

    /// Probes a chunk partition by partition, emptying it.
    fn probe_chunk<P, E>(
        &self,
        chunk: &mut Vec<(u64, K, P)>,
        scratch: &mut Vec<(u64, K, P)>,
        keep_unmatched: bool,
        emit: &mut E,
    ) -> u64
    where
        P: Send,
        E: FnMut(Option<&B>, Option<&P>),
    {
        let bits = self.partition_bits;
        radix_sort_by_prefix_with(chunk, scratch, |e| e.0 >> (64 - bits), false);
        let mut output = 0;
        for (hash, key, row) in chunk.drain(..) {
            output += self.probe_one(key, hash, row, keep_unmatched, emit);
        }
        output
    }

    #[inline]
    fn probe_one<P, E>(&self, key: K, hash: u64, row: P, keep_unmatched: bool, emit: &mut E) -> u64
    where
        E: FnMut(Option<&B>, Option<&P>),
    {
        let p = self.partition_of(hash);
        let track = !self.matched.is_empty();
        let found = self.tables[p].for_each_match(&key, hash, |i, slot| {
            emit(Some(&slot.row), Some(&row));
            if track {
                self.matched[self.offsets[p] + i].store(true, Ordering::Relaxed);
            }
        }) as u64;
        if found == 0 && keep_unmatched {
            emit(None, Some(&row));
            return 1;
        }
        found
    }

    /// Calls `f` on every build row no probe matched (after all probing is done; only when
    /// built with `keep_unmatched`).
    pub fn for_each_unmatched(&self, mut f: impl FnMut(&B)) {
        if self.matched.is_empty() {
            return;
        }
        for (table, &offset) in self.tables.iter().zip(&self.offsets) {
            for (i, slot) in table.slots.iter().enumerate() {
                if !self.matched[offset + i].load(Ordering::Relaxed) {
                    f(&slot.row);
                }
            }
        }
    }
}
