//! Keys of the sort and join engines: an order-preserving 64-bit prefix for every key, exact
//! for fixed-width keys (`u64`, `i64`, `f64`, ...) so they sort by radix on flat arrays, and a
//! seeded hash for the hash join's partitions and tables.
//!
//! A key type implements [`SortKey`] (ordering and its normalized prefix) and, to be joined,
//! [`JoinKey`] (seeded hashing and equality). Both are implemented for the integer types,
//! `f32`/`f64` (in IEEE total order), `bool`, `char`, `()`, `String`, `Vec<u8>`, and tuples of
//! up to three keys. Any other `Ord + Hash` type joins and sorts through the [`OrdKey`]
//! wrapper, on the general (comparison) path.
//!
//! ```
//! use eddy_dataset::key::{JoinKey, SortKey};
//!
//! // Prefixes preserve the order, so sorting by prefix sorts by key.
//! assert!((-3i64).prefix() < 2i64.prefix());
//! assert!((-0.5f64).prefix() < 0.25f64.prefix());
//! assert!(i64::EXACT_PREFIX && !String::EXACT_PREFIX);
//! // The hash depends on the seed: the hash join re-seeds when it recurses.
//! assert_ne!(7u64.hash_seeded(0), 7u64.hash_seeded(1));
//! ```

use std::cmp::Ordering;
use std::hash::{Hash, Hasher};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A key the sort engine can order.
///
/// `prefix` must be *order-preserving*: `a.prefix() < b.prefix()` implies `a < b` in
/// [`SortKey::compare`]. When [`SortKey::EXACT_PREFIX`] is true the prefix is also
/// *complete*: equal prefixes mean equal keys, and the sorter orders by the prefix alone
/// (radix sort, no comparisons).
pub trait SortKey: Clone + Send + Sync + Serialize + DeserializeOwned + 'static {
    /// True when the prefix alone decides the order.
    const EXACT_PREFIX: bool;

    /// The order-preserving 64-bit normalized prefix of the key.
    fn prefix(&self) -> u64;

    /// The key's total order.
    fn compare(&self, other: &Self) -> Ordering;
}

/// A key the hash join can partition and match on.
///
/// `hash_seeded` must agree with `equals` (equal keys hash alike for every seed) and must
/// change with the seed, so that a partition re-split with a new seed spreads out.
pub trait JoinKey: SortKey {
    /// A well-mixed 64-bit hash of the key under `seed`.
    fn hash_seeded(&self, seed: u64) -> u64;

    /// Key equality (consistent with `compare(..) == Equal`).
    fn equals(&self, other: &Self) -> bool {
        self.compare(other) == Ordering::Equal
    }
}

/// Finalizer of MurmurHash3: turns a weak 64-bit value into a well-mixed one.
#[inline]
pub fn mix64(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

#[inline]
fn seed_word(seed: u64) -> u64 {
    seed.wrapping_add(1).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

macro_rules! unsigned_key {
    ($($t:ty),*) => {$(
        impl SortKey for $t {
            const EXACT_PREFIX: bool = true;
            #[inline]
            fn prefix(&self) -> u64 {
                *self as u64
            }
            #[inline]
            fn compare(&self, other: &Self) -> Ordering {
                self.cmp(other)
            }
        }
        impl JoinKey for $t {
            #[inline]
            fn hash_seeded(&self, seed: u64) -> u64 {
                mix64(*self as u64 ^ seed_word(seed))
            }
            #[inline]
            fn equals(&self, other: &Self) -> bool {
                self == other
            }
        }
    )*};
}

macro_rules! signed_key {
    ($($t:ty),*) => {$(
        impl SortKey for $t {
            const EXACT_PREFIX: bool = true;
            #[inline]
            fn prefix(&self) -> u64 {
                // Flipping the sign bit maps the signed order onto the unsigned one.
                (*self as i64 as u64) ^ (1 << 63)
            }
            #[inline]
            fn compare(&self, other: &Self) -> Ordering {
                self.cmp(other)
            }
        }
        impl JoinKey for $t {
            #[inline]
            fn hash_seeded(&self, seed: u64) -> u64 {
                mix64(*self as i64 as u64 ^ seed_word(seed))
            }
            #[inline]
            fn equals(&self, other: &Self) -> bool {
                self == other
            }
        }
    )*};
}

unsigned_key!(u8, u16, u32, u64, usize);
signed_key!(i8, i16, i32, i64, isize);

/// IEEE total order as unsigned bits: negatives have all bits flipped, positives the sign bit.
#[inline]
fn float_bits(bits: u64) -> u64 {
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

impl SortKey for f64 {
    const EXACT_PREFIX: bool = true;
    #[inline]
    fn prefix(&self) -> u64 {
        float_bits(self.to_bits())
    }
    #[inline]
    fn compare(&self, other: &Self) -> Ordering {
        self.total_cmp(other)
    }
}

impl JoinKey for f64 {
    /// Floats are equal when their bits are (IEEE total order: `-0.0 != 0.0`, `NaN == NaN`).
    #[inline]
    fn hash_seeded(&self, seed: u64) -> u64 {
        mix64(self.to_bits() ^ seed_word(seed))
    }
    #[inline]
    fn equals(&self, other: &Self) -> bool {
        self.to_bits() == other.to_bits()
    }
}

impl SortKey for f32 {
    const EXACT_PREFIX: bool = true;
    #[inline]
    fn prefix(&self) -> u64 {
        float_bits(f64::from(*self).to_bits())
    }
    #[inline]
    fn compare(&self, other: &Self) -> Ordering {
        self.total_cmp(other)
    }
}

impl JoinKey for f32 {
    #[inline]
    fn hash_seeded(&self, seed: u64) -> u64 {
        mix64(u64::from(self.to_bits()) ^ seed_word(seed))
    }
    #[inline]
    fn equals(&self, other: &Self) -> bool {
        self.to_bits() == other.to_bits()
    }
}

impl SortKey for bool {
    const EXACT_PREFIX: bool = true;
    fn prefix(&self) -> u64 {
        u64::from(*self)
    }
    fn compare(&self, other: &Self) -> Ordering {
        self.cmp(other)
    }
}

impl JoinKey for bool {
    fn hash_seeded(&self, seed: u64) -> u64 {
        mix64(u64::from(*self) ^ seed_word(seed))
    }
}

impl SortKey for char {
    const EXACT_PREFIX: bool = true;
    fn prefix(&self) -> u64 {
        u64::from(*self)
    }
    fn compare(&self, other: &Self) -> Ordering {
        self.cmp(other)
    }
}

impl JoinKey for char {
    fn hash_seeded(&self, seed: u64) -> u64 {
        mix64(u64::from(*self) ^ seed_word(seed))
    }
}

/// The unit key: every record in one group (a global reduce or sort-free group).
impl SortKey for () {
    const EXACT_PREFIX: bool = true;
    fn prefix(&self) -> u64 {
        0
    }
    fn compare(&self, _: &Self) -> Ordering {
        Ordering::Equal
    }
}

impl JoinKey for () {
    fn hash_seeded(&self, seed: u64) -> u64 {
        mix64(seed_word(seed))
    }
}

/// The first eight bytes, big-endian, zero-padded: byte order is prefix order.
#[inline]
fn bytes_prefix(bytes: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    let n = bytes.len().min(8);
    word[..n].copy_from_slice(&bytes[..n]);
    u64::from_be_bytes(word)
}

/// A seeded hash of a byte string, eight bytes at a time.
#[inline]
pub fn hash_bytes(bytes: &[u8], seed: u64) -> u64 {
    let mut h = seed_word(seed) ^ (bytes.len() as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        h = (h ^ word)
            .wrapping_mul(0x5851_f42d_4c95_7f2d)
            .rotate_left(29);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut word = [0u8; 8];
        word[..rest.len()].copy_from_slice(rest);
        h = (h ^ u64::from_le_bytes(word)).wrapping_mul(0x5851_f42d_4c95_7f2d);
    }
    mix64(h)
}

impl SortKey for Vec<u8> {
    const EXACT_PREFIX: bool = false;
    #[inline]
    fn prefix(&self) -> u64 {
        bytes_prefix(self)
    }
    #[inline]
    fn compare(&self, other: &Self) -> Ordering {
        self.as_slice().cmp(other.as_slice())
    }
}

impl JoinKey for Vec<u8> {
    #[inline]
    fn hash_seeded(&self, seed: u64) -> u64 {
        hash_bytes(self, seed)
    }
    #[inline]
    fn equals(&self, other: &Self) -> bool {
        self == other
    }
}

impl SortKey for String {
    const EXACT_PREFIX: bool = false;
    #[inline]
    fn prefix(&self) -> u64 {
        bytes_prefix(self.as_bytes())
    }
    #[inline]
    fn compare(&self, other: &Self) -> Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl JoinKey for String {
    #[inline]
    fn hash_seeded(&self, seed: u64) -> u64 {
        hash_bytes(self.as_bytes(), seed)
    }
    #[inline]
    fn equals(&self, other: &Self) -> bool {
        self == other
    }
}

impl<A: SortKey, B: SortKey> SortKey for (A, B) {
    const EXACT_PREFIX: bool = false;
    #[inline]
    fn prefix(&self) -> u64 {
        self.0.prefix()
    }
    #[inline]
    fn compare(&self, other: &Self) -> Ordering {
        self.0
            .compare(&other.0)
            .then_with(|| self.1.compare(&other.1))
    }
}

impl<A: JoinKey, B: JoinKey> JoinKey for (A, B) {
    #[inline]
    fn hash_seeded(&self, seed: u64) -> u64 {
        mix64(self.0.hash_seeded(seed) ^ self.1.hash_seeded(seed).rotate_left(23))
    }
    #[inline]
    fn equals(&self, other: &Self) -> bool {
        self.0.equals(&other.0) && self.1.equals(&other.1)
    }
}

impl<A: SortKey, B: SortKey, C: SortKey> SortKey for (A, B, C) {
    const EXACT_PREFIX: bool = false;
    #[inline]
    fn prefix(&self) -> u64 {
        self.0.prefix()
    }
    #[inline]
    fn compare(&self, other: &Self) -> Ordering {
        self.0
            .compare(&other.0)
            .then_with(|| self.1.compare(&other.1))
            .then_with(|| self.2.compare(&other.2))
    }
}

impl<A: JoinKey, B: JoinKey, C: JoinKey> JoinKey for (A, B, C) {
    #[inline]
    fn hash_seeded(&self, seed: u64) -> u64 {
        mix64(
            self.0.hash_seeded(seed)
                ^ self.1.hash_seeded(seed).rotate_left(23)
                ^ self.2.hash_seeded(seed).rotate_left(47),
        )
    }
    #[inline]
    fn equals(&self, other: &Self) -> bool {
        self.0.equals(&other.0) && self.1.equals(&other.1) && self.2.equals(&other.2)
    }
}

/// Any `Ord + Hash` type as a key, on the general path: no prefix (comparisons only) and a
/// seeded hash through [`Hash`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrdKey<K>(pub K);

impl<K> SortKey for OrdKey<K>
where
    K: Ord + Hash + Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
{
    const EXACT_PREFIX: bool = false;
    fn prefix(&self) -> u64 {
        0
    }
    fn compare(&self, other: &Self) -> Ordering {
        self.0.cmp(&other.0)
    }
}

impl<K> JoinKey for OrdKey<K>
where
    K: Ord + Hash + Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
{
    fn hash_seeded(&self, seed: u64) -> u64 {
        let mut hasher = rustc_hash::FxHasher::default();
        seed.hash(&mut hasher);
        self.0.hash(&mut hasher);
        mix64(hasher.finish())
    }
    fn equals(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn prefix_agrees<K: SortKey>(a: &K, b: &K) {
        let by_prefix = a.prefix().cmp(&b.prefix());
        let by_key = a.compare(b);
        // An exact prefix decides every comparison; another one only those it separates.
        if K::EXACT_PREFIX || by_prefix != Ordering::Equal {
            assert_eq!(by_prefix, by_key);
        }
    }

    proptest! {
        #[test]
        fn integer_prefixes_preserve_order(a: i64, b: i64, c: u64, d: u64, e: i32, f: i32) {
            prefix_agrees(&a, &b);
            prefix_agrees(&c, &d);
            prefix_agrees(&e, &f);
        }

        #[test]
        fn float_prefixes_follow_total_order(a: f64, b: f64) {
            prefix_agrees(&a, &b);
            prefix_agrees(&(a as f32), &(b as f32));
        }

        #[test]
        fn byte_prefixes_never_contradict_the_order(a: Vec<u8>, b: Vec<u8>, s: String, t: String) {
            prefix_agrees(&a, &b);
            prefix_agrees(&s, &t);
            prefix_agrees(&(a.clone(), 1u64), &(b.clone(), 2u64));
        }

        #[test]
        fn equal_keys_hash_alike(a: u64, s: String, seed in 0u64..8) {
            prop_assert_eq!(a.hash_seeded(seed), a.clone().hash_seeded(seed));
            prop_assert_eq!(s.hash_seeded(seed), s.clone().hash_seeded(seed));
            prop_assert_eq!((a, s.clone()).hash_seeded(seed), (a, s).hash_seeded(seed));
        }
    }

    #[test]
    fn reseeding_spreads_a_bucket_out() {
        // Keys sharing their low hash bits under one seed mostly part ways under the next.
        let together: Vec<u64> = (0u64..100_000)
            .filter(|k| k.hash_seeded(0) & 63 == 5)
            .collect();
        let mut buckets = [0usize; 64];
        for k in &together {
            buckets[(k.hash_seeded(1) & 63) as usize] += 1;
        }
        assert!(buckets.iter().all(|&n| n > 0 && n < together.len() / 8));
    }
}
