//! A fixed-size bloom filter over key hashes: the hybrid hash join keeps one per spilled
//! partition, so probe rows whose key cannot be in the partition are dropped (or output as
//! unmatched) instead of being written to disk.
//!
//! Three bit positions per key, taken from disjoint slices of the key's hash re-mixed (the
//! join picks partitions from the same hash's top bits, which are therefore equal for every
//! key of one filter). The filter never says "absent" for a key that was inserted.

/// A bloom filter of a power-of-two number of bits.
#[derive(Clone, Debug)]
pub(crate) struct Bloom {
    words: Vec<u64>,
    mask: u64,
}

impl Bloom {
    /// The bytes a filter of `bytes` (rounded down to a power of two, at least 64) takes.
    pub(crate) fn size_for(bytes: usize) -> usize {
        let bits = (bytes * 8).max(512);
        (1usize << (usize::BITS - 1 - bits.leading_zeros())) / 8
    }

    /// An empty filter of [`Bloom::size_for`]`(bytes)` bytes.
    pub(crate) fn new(bytes: usize) -> Self {
        let bits = Self::size_for(bytes) * 8;
        Bloom {
            words: vec![0; bits / 64],
            mask: bits as u64 - 1,
        }
    }

    #[inline]
    fn positions(&self, hash: u64) -> [u64; 3] {
        let h = crate::key::mix64(hash);
        [h & self.mask, (h >> 21) & self.mask, (h >> 42) & self.mask]
    }

    /// Adds a key's hash.
    #[inline]
    pub(crate) fn insert(&mut self, hash: u64) {
        for bit in self.positions(hash) {
            self.words[(bit / 64) as usize] |= 1 << (bit % 64);
        }
    }

    /// False only when no key with this hash was inserted.
    #[inline]
    pub(crate) fn may_contain(&self, hash: u64) -> bool {
        self.positions(hash)
            .iter()
            .all(|&bit| self.words[(bit / 64) as usize] & (1 << (bit % 64)) != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::JoinKey;

    #[test]
    fn no_false_negatives_and_few_false_positives() {
        let mut bloom = Bloom::new(16 * 1024);
        for k in 0u64..10_000 {
            bloom.insert(k.hash_seeded(3));
        }
        assert!((0u64..10_000).all(|k| bloom.may_contain(k.hash_seeded(3))));
        let false_positives = (10_000u64..110_000)
            .filter(|k| bloom.may_contain(k.hash_seeded(3)))
            .count();
        assert!(false_positives < 10_000, "{false_positives} of 100000");
    }
}
