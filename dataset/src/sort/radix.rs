//! Stable radix sort of a slice by a 64-bit key: one most-significant-digit scatter into 256
//! buckets, then a least-significant-digit sort of each bucket while it sits in cache.
//!
//! Digits (bytes) on which all keys agree are skipped, so keys that use a few bytes cost a few
//! passes. Buckets are independent, so they are sorted in parallel when asked (on the current
//! rayon pool). Elements are moved bitwise between the slice and one scratch buffer of the
//! same length; nothing is cloned.
//!
//! ```
//! use eddy_dataset::sort::radix_sort_by_prefix;
//!
//! let mut pairs: Vec<(u64, char)> = vec![(300, 'a'), (2, 'b'), (300, 'c'), (1 << 40, 'd')];
//! radix_sort_by_prefix(&mut pairs, |p| p.0, false);
//! assert_eq!(pairs, [(2, 'b'), (300, 'a'), (300, 'c'), (1 << 40, 'd')]);
//! ```

use std::ptr;

use rayon::prelude::*;

/// Below this many elements a bucket is sorted by comparison (std's stable sort).
const SMALL: usize = 96;

/// Aborts the process if dropped while unwinding: a panicking key function in the middle of a
/// scatter would otherwise leave elements duplicated between the slice and the scratch
/// buffer, and dropping both would free them twice.
struct AbortOnUnwind;

impl Drop for AbortOnUnwind {
    fn drop(&mut self) {
        if std::thread::panicking() {
            std::process::abort();
        }
    }
}

/// A raw pointer that may cross to a rayon worker: each worker touches a disjoint range.
struct SendPtr<E>(*mut E);

impl<E> Clone for SendPtr<E> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<E> Copy for SendPtr<E> {}

impl<E> SendPtr<E> {
    /// The pointer. A method, so closures capture the whole (`Send`) wrapper rather than
    /// its raw-pointer field.
    fn get(self) -> *mut E {
        self.0
    }
}

// SAFETY: the pointer is only dereferenced on disjoint ranges, one per thread, while the
// owning buffers outlive the parallel section.
unsafe impl<E: Send> Send for SendPtr<E> {}
// SAFETY: as above; shared references to the wrapper only copy the pointer.
unsafe impl<E: Send> Sync for SendPtr<E> {}

/// Sorts `v` stably by `key`, ascending, by radix; `parallel` sorts buckets on the current
/// rayon pool.
///
/// `key` should be cheap (it is called a few times per element and pass).
///
/// # Panics
///
/// If `key` panics mid-scatter, the process aborts (see the module doc for why).
pub fn radix_sort_by_prefix<E, F>(v: &mut [E], key: F, parallel: bool)
where
    E: Send,
    F: Fn(&E) -> u64 + Sync,
{
    radix_sort_by_prefix_with(v, &mut Vec::new(), key, parallel);
}

/// [`radix_sort_by_prefix`] with a caller's scratch vector, whose allocation is reused (and
/// grown to `v.len()` when smaller): repeated sorts of similar sizes then allocate nothing.
/// `scratch` is left empty.
pub fn radix_sort_by_prefix_with<E, F>(v: &mut [E], scratch: &mut Vec<E>, key: F, parallel: bool)
where
    E: Send,
    F: Fn(&E) -> u64 + Sync,
{
    let n = v.len();
    if n <= SMALL {
        v.sort_by_key(|e| key(e));
        return;
    }
    let first = key(&v[0]);
    let diff = v.iter().fold(0u64, |acc, e| acc | (key(e) ^ first));
    if diff == 0 {
        return;
    }
    let top = (63 - diff.leading_zeros()) / 8;
    let shift = top * 8;
    let mut counts = [0usize; 256];
    for e in v.iter() {
        counts[((key(e) >> shift) & 0xff) as usize] += 1;
    }
    let mut starts = [0usize; 256];
    let mut sum = 0;
    for (start, count) in starts.iter_mut().zip(counts.iter()) {
        *start = sum;
        sum += count;
    }
    scratch.clear();
    if scratch.capacity() < n {
        *scratch = Vec::with_capacity(n);
        eddy_runtime::memory::advise_huge_pages(scratch);
    }
    let src = v.as_mut_ptr();
    let dst = scratch.as_mut_ptr();
    {
        let _guard = AbortOnUnwind;
        let mut next = starts;
        for i in 0..n {
            // SAFETY: i < n, and next[b] < n since the counts add up to n; every element is
            // copied exactly once, into its own slot of `scratch`.
            unsafe {
                let e = src.add(i);
                let b = ((key(&*e) >> shift) & 0xff) as usize;
                ptr::copy_nonoverlapping(e, dst.add(next[b]), 1);
                next[b] += 1;
            }
        }
    }
    // Now `scratch` holds the elements (its length stays 0: dropping it frees memory only)
    // and each bucket is sorted from `scratch` back into the same range of `v`.
    let low_digits = top; // digits 0..top are below the scattered one
    let buckets: Vec<(usize, usize)> = (0..256)
        .filter(|&b| counts[b] > 0)
        .map(|b| (starts[b], counts[b]))
        .collect();
    let from = SendPtr(dst);
    let into = SendPtr(src);
    let sort_bucket = |&(start, len): &(usize, usize)| {
        // SAFETY: buckets are disjoint ranges of both buffers, each fully initialized in
        // `scratch` by the scatter above.
        unsafe {
            bucket_lsd(
                from.get().add(start),
                into.get().add(start),
                len,
                low_digits,
                &key,
            )
        }
    };
    if parallel && n >= 1 << 16 {
        buckets.par_iter().for_each(sort_bucket);
    } else {
        buckets.iter().for_each(sort_bucket);
    }
    // `scratch` kept length 0 throughout: it owns no element, only its allocation.
}

/// Sorts `v` by `key`, ascending, by radix, in place (no scratch copy of `v`: half the
/// memory of [`radix_sort_by_prefix`]) but not stably: elements of equal key may change their
/// order. `parallel` sorts buckets on the current rayon pool.
///
/// An in-place most-significant-digit pass (American flag sort: elements are swapped into
/// their bucket along permutation cycles) splits `v` into 256 buckets; buckets that fit in
/// cache are finished by the least-significant-digit sort through a small scratch buffer
/// (one per thread, reused), bigger ones by recursing on the next digit.
///
/// # Panics
///
/// If `key` panics mid-scatter, the process aborts (see the module doc for why).
pub fn radix_sort_unstable_by_prefix<E, F>(v: &mut [E], key: F, parallel: bool)
where
    E: Send,
    F: Fn(&E) -> u64 + Sync,
{
    let n = v.len();
    if n <= SMALL {
        v.sort_unstable_by_key(|e| key(e));
        return;
    }
    let first = key(&v[0]);
    let diff = v.iter().fold(0u64, |acc, e| acc | (key(e) ^ first));
    if diff == 0 {
        return;
    }
    let top = (63 - diff.leading_zeros()) / 8;
    let buckets = american_flag_pass(v, &key, top);
    let mut slices: Vec<&mut [E]> = Vec::with_capacity(256);
    let mut rest = v;
    for len in buckets.iter().copied().filter(|&len| len > 0) {
        let (bucket, tail) = rest.split_at_mut(len);
        slices.push(bucket);
        rest = tail;
    }
    let finish = |group: &mut [&mut [E]]| {
        let mut scratch: Vec<E> = Vec::new();
        for bucket in group.iter_mut() {
            finish_bucket(bucket, top, &key, &mut scratch);
        }
    };
    if parallel && n >= 1 << 16 {
        let threads = rayon::current_num_threads().max(1);
        let per_task = slices.len().div_ceil(4 * threads).max(1);
        slices.par_chunks_mut(per_task).for_each(finish);
    } else {
        finish(&mut slices);
    }
}

/// Buckets bigger than this many elements are split by another in-place pass rather than
/// sorted through the scratch buffer.
const CACHE_BUCKET: usize = 1 << 16;

/// Sorts one bucket of [`radix_sort_unstable_by_prefix`] by its digits below `digit`.
fn finish_bucket<E, F>(bucket: &mut [E], digit: u32, key: &F, scratch: &mut Vec<E>)
where
    F: Fn(&E) -> u64,
{
    let len = bucket.len();
    if digit == 0 || len <= 1 {
        return;
    }
    if len <= SMALL {
        bucket.sort_unstable_by_key(|e| key(e));
        return;
    }
    if len > CACHE_BUCKET {
        let below = digit - 1;
        let sizes = american_flag_pass(bucket, key, below);
        let mut rest = bucket;
        for size in sizes.iter().copied().filter(|&size| size > 0) {
            let (part, tail) = rest.split_at_mut(size);
            finish_bucket(part, below, key, scratch);
            rest = tail;
        }
        return;
    }
    if scratch.capacity() < len {
        scratch.reserve_exact(len - scratch.len());
    }
    // SAFETY: `scratch` has room for `len` elements and its length stays 0, so it never
    // drops them; `bucket_lsd` leaves the sorted elements in `scratch`, copied straight back
    // over the bucket's (moved-out) originals.
    unsafe {
        bucket_lsd(bucket.as_mut_ptr(), scratch.as_mut_ptr(), len, digit, key);
        ptr::copy_nonoverlapping(scratch.as_ptr(), bucket.as_mut_ptr(), len);
    }
}

/// Permutes `v` in place so that elements are grouped by byte `digit` of their key, in byte
/// order; returns the group sizes.
fn american_flag_pass<E, F>(v: &mut [E], key: &F, digit: u32) -> [usize; 256]
where
    F: Fn(&E) -> u64,
{
    let shift = digit * 8;
    let byte = |e: &E| ((key(e) >> shift) & 0xff) as usize;
    let mut counts = [0usize; 256];
    for e in v.iter() {
        counts[byte(e)] += 1;
    }
    let mut next = [0usize; 256];
    let mut end = [0usize; 256];
    let mut sum = 0;
    for b in 0..256 {
        next[b] = sum;
        sum += counts[b];
        end[b] = sum;
    }
    for b in 0..256 {
        while next[b] < end[b] {
            let d = byte(&v[next[b]]);
            if d == b {
                next[b] += 1;
            } else {
                v.swap(next[b], next[d]);
                next[d] += 1;
            }
        }
    }
    counts
}

/// Sorts the `len` elements at `from` by the `digits` low bytes of their key, leaving the
/// result at `into` (both ranges are the bucket's; either may be used as scratch).
///
/// # Safety
///
/// `from` holds `len` initialized elements; `into` is valid for `len` writes; the ranges do
/// not overlap. On return the elements live (once) at `into`.
unsafe fn bucket_lsd<E, F>(from: *mut E, into: *mut E, len: usize, digits: u32, key: &F)
where
    F: Fn(&E) -> u64,
{
    let _guard = AbortOnUnwind;
    if len <= SMALL || digits == 0 {
        ptr::copy_nonoverlapping(from, into, len);
        if digits > 0 {
            std::slice::from_raw_parts_mut(into, len).sort_by_key(|e| key(e));
        }
        return;
    }
    let mut counts = vec![[0usize; 256]; digits as usize];
    for i in 0..len {
        let k = key(&*from.add(i));
        for (d, c) in counts.iter_mut().enumerate() {
            c[((k >> (d * 8)) & 0xff) as usize] += 1;
        }
    }
    let (mut cur, mut other) = (from, into);
    for (d, c) in counts.iter().enumerate() {
        if c.contains(&len) {
            continue; // every key has the same byte here
        }
        let mut next = [0usize; 256];
        let mut sum = 0;
        for (slot, n) in next.iter_mut().zip(c.iter()) {
            *slot = sum;
            sum += n;
        }
        let shift = d * 8;
        for i in 0..len {
            let e = cur.add(i);
            let b = ((key(&*e) >> shift) & 0xff) as usize;
            ptr::copy_nonoverlapping(e, other.add(next[b]), 1);
            next[b] += 1;
        }
        std::mem::swap(&mut cur, &mut other);
    }
    if cur != into {
        ptr::copy_nonoverlapping(cur, into, len);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn sorts_stably_like_std(keys in proptest::collection::vec(any::<u64>(), 0..2000),
                                 mask in any::<u64>(), parallel: bool) {
            // The mask makes some bytes constant, so skipped digits are exercised too.
            let mut v: Vec<(u64, usize)> =
                keys.iter().enumerate().map(|(i, k)| (k & mask, i)).collect();
            let mut expected = v.clone();
            expected.sort_by_key(|e| e.0);
            radix_sort_by_prefix(&mut v, |e| e.0, parallel);
            prop_assert_eq!(v, expected);
        }
    }

    proptest! {
        #[test]
        fn sorts_in_place_like_std(keys in proptest::collection::vec(any::<u64>(), 0..3000),
                                   mask in any::<u64>(), parallel: bool) {
            let mut v: Vec<(u64, usize)> =
                keys.iter().enumerate().map(|(i, k)| (k & mask, i)).collect();
            let mut expected = v.clone();
            expected.sort_by_key(|e| e.0);
            radix_sort_unstable_by_prefix(&mut v, |e| e.0, parallel);
            prop_assert!(v.windows(2).all(|w| w[0].0 <= w[1].0));
            v.sort();
            expected.sort();
            prop_assert_eq!(v, expected);
        }
    }

    #[test]
    fn big_and_skewed_buckets_sort_in_place() {
        // Most keys share their top bytes, so buckets exceed the cache bucket and recurse.
        let mut v: Vec<(u64, String)> = (0..300_000u64)
            .map(|i| {
                (
                    if i % 3 == 0 {
                        i * 977
                    } else {
                        (i * 7919) % 200_000
                    },
                    format!("s{i}"),
                )
            })
            .collect();
        let mut expected = v.clone();
        radix_sort_unstable_by_prefix(&mut v, |e| e.0, true);
        assert!(v.windows(2).all(|w| w[0].0 <= w[1].0));
        v.sort();
        expected.sort();
        assert_eq!(v, expected);
    }

    #[test]
    fn owned_elements_survive_the_moves() {
        let mut v: Vec<(u64, String)> = (0..100_000u64)
            .map(|i| ((i * 7919) % 1000, format!("s{i}")))
            .collect();
        let mut expected = v.clone();
        expected.sort_by_key(|e| e.0);
        radix_sort_by_prefix(&mut v, |e| e.0, true);
        assert_eq!(v, expected);
    }
}
