//! The in-memory hash table of one hash-join partition: entries in one flat vector, each
//! carrying the index of the next entry of its bucket, and one `u32` head per bucket.
//!
//! A lookup touches the bucket head and then the entries of its chain, key and record side by
//! side (no separate key or link arrays, so usually two cache misses). Duplicate keys simply
//! share a chain. The table never moves entries, so building it costs one pass over them.

use crate::key::JoinKey;

const NONE: u32 = u32::MAX;

/// One build row with its key and the next entry of its bucket's chain.
#[derive(Debug)]
pub(crate) struct Slot<K, B> {
    pub(crate) key: K,
    pub(crate) next: u32,
    pub(crate) row: B,
}

/// A chained hash table over the slots of a partition.
#[derive(Debug)]
pub(crate) struct Table<K, B> {
    pub(crate) slots: Vec<Slot<K, B>>,
    heads: Vec<u32>,
    mask: u64,
}

impl<K: JoinKey, B> Table<K, B> {
    /// Bytes of bucket heads a table over `n` entries adds (a power of two at least `n`).
    pub(crate) fn head_bytes(n: usize) -> usize {
        n.next_power_of_two().max(16) * std::mem::size_of::<u32>()
    }

    /// Links `slots` into buckets by `hash_of(key)`'s low bits.
    pub(crate) fn build(mut slots: Vec<Slot<K, B>>, seed: u64) -> Self {
        let buckets = slots.len().next_power_of_two().max(16);
        let mask = buckets as u64 - 1;
        let mut heads = Vec::with_capacity(buckets);
        eddy_runtime::memory::advise_huge_pages(&heads);
        heads.resize(buckets, NONE);
        for (i, slot) in slots.iter_mut().enumerate() {
            let bucket = (slot.key.hash_seeded(seed) & mask) as usize;
            slot.next = heads[bucket];
            heads[bucket] = i as u32;
        }
        Table { slots, heads, mask }
    }

    /// Calls `found(index, slot)` for every entry whose key equals `key` (whose hash is
    /// `hash`); returns how many there were.
    #[inline]
    pub(crate) fn for_each_match(
        &self,
        key: &K,
        hash: u64,
        found: impl FnMut(usize, &Slot<K, B>),
    ) -> usize {
        self.for_each_match_from(self.heads[(hash & self.mask) as usize], key, found)
    }

    /// [`Self::for_each_match`] from a chain's first entry.
    #[inline]
    pub(crate) fn for_each_match_from(
        &self,
        first: u32,
        key: &K,
        mut found: impl FnMut(usize, &Slot<K, B>),
    ) -> usize {
        let mut i = first;
        let mut matches = 0;
        while i != NONE {
            let slot = &self.slots[i as usize];
            if slot.key.equals(key) {
                found(i as usize, slot);
                matches += 1;
            }
            i = slot.next;
        }
        matches
    }
}
