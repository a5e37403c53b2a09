//! Relabelling `u64` vertex ids to dense `u32` indices, in ascending id order.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::error::{Error, Result};

/// Maps original vertex ids to dense indices and back.
///
/// Index `i` is the `i`-th smallest id, so comparing indices compares ids: labels that the
/// spec defines as "the smallest id" are the smallest index. Three representations, chosen by
/// how the ids are spread:
/// - `Range`: ids are `first..first + len`, no memory at all (Graph500 and most LDBC graphs);
/// - `Direct`: ids span at most a few times their count; a lookup table indexed by `id - first`;
/// - `Hash`: anything else.
#[derive(Debug, Clone)]
pub(crate) enum IdIndex {
    Range {
        first: u64,
        len: u32,
    },
    Direct {
        ids: Vec<u64>,
        first: u64,
        table: Vec<u32>,
    },
    Hash {
        ids: Vec<u64>,
        map: HashMap<u64, u32, BuildHasherDefault<IdHasher>>,
    },
}

/// Ids whose span is at most this many times their count use a direct lookup table.
const DIRECT_SPAN_FACTOR: u64 = 4;

impl IdIndex {
    /// Builds the index of `ids`, which must be sorted ascending without duplicates.
    pub(crate) fn from_sorted(ids: Vec<u64>) -> Result<Self> {
        let n = ids.len() as u64;
        if n >= u64::from(u32::MAX) {
            return Err(Error::TooManyVertices { count: n });
        }
        let Some((&first, &last)) = ids.first().zip(ids.last()) else {
            return Ok(IdIndex::Range { first: 0, len: 0 });
        };
        let span = last - first + 1;
        if span == n {
            return Ok(IdIndex::Range {
                first,
                len: n as u32,
            });
        }
        if span <= DIRECT_SPAN_FACTOR.saturating_mul(n).saturating_add(1024) {
            let mut table = vec![u32::MAX; span as usize];
            for (i, &id) in ids.iter().enumerate() {
                table[(id - first) as usize] = i as u32;
            }
            return Ok(IdIndex::Direct { ids, first, table });
        }
        let mut map = HashMap::with_capacity_and_hasher(ids.len(), Default::default());
        for (i, &id) in ids.iter().enumerate() {
            map.insert(id, i as u32);
        }
        Ok(IdIndex::Hash { ids, map })
    }

    /// The number of vertices.
    pub(crate) fn len(&self) -> usize {
        match self {
            IdIndex::Range { len, .. } => *len as usize,
            IdIndex::Direct { ids, .. } | IdIndex::Hash { ids, .. } => ids.len(),
        }
    }

    /// The dense index of `id`, if it is a vertex.
    #[inline]
    pub(crate) fn get(&self, id: u64) -> Option<u32> {
        match self {
            IdIndex::Range { first, len } => {
                let i = id.wrapping_sub(*first);
                (i < u64::from(*len)).then_some(i as u32)
            }
            IdIndex::Direct { first, table, .. } => {
                let i = id.wrapping_sub(*first);
                table
                    .get(usize::try_from(i).ok()?)
                    .copied()
                    .filter(|&v| v != u32::MAX)
            }
            IdIndex::Hash { map, .. } => map.get(&id).copied(),
        }
    }

    /// The original id of dense index `i`.
    ///
    /// # Panics
    ///
    /// If `i` is not below [`IdIndex::len`].
    #[inline]
    pub(crate) fn id(&self, i: u32) -> u64 {
        match self {
            IdIndex::Range { first, len } => {
                assert!(i < *len, "vertex index {i} out of range");
                first + u64::from(i)
            }
            IdIndex::Direct { ids, .. } | IdIndex::Hash { ids, .. } => ids[i as usize],
        }
    }

    /// Bytes of memory held.
    pub(crate) fn heap_bytes(&self) -> usize {
        match self {
            IdIndex::Range { .. } => 0,
            IdIndex::Direct { ids, table, .. } => ids.len() * 8 + table.len() * 4,
            IdIndex::Hash { ids, map } => ids.len() * 8 + map.capacity() * 16,
        }
    }
}

/// A fast hasher for `u64` keys (a multiply and a rotate; vertex ids are not adversarial).
#[derive(Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(26);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_representation_round_trips() {
        let cases: [Vec<u64>; 4] = [
            (10..20).collect(),
            vec![3, 5, 8, 9, 11],
            vec![1, 1 << 40, u64::MAX - 1],
            vec![],
        ];
        for ids in cases {
            let index = IdIndex::from_sorted(ids.clone()).unwrap();
            assert_eq!(index.len(), ids.len());
            for (i, &id) in ids.iter().enumerate() {
                assert_eq!(index.get(id), Some(i as u32));
                assert_eq!(index.id(i as u32), id);
            }
            assert_eq!(index.get(4), None);
            assert_eq!(index.get(u64::MAX), None);
        }
    }
}
