//! The in-memory half of the sort: ordering a buffer of `(key, record)` entries, and folding
//! neighbours of equal key with a combiner.
//!
//! Keys with an exact prefix go through a radix sort (in place, or through a scratch copy
//! when the order must be stable); other keys
//! through `sort_unstable_by` (pattern-defeating quicksort) or, when stability is asked for,
//! `sort_by` (a merge sort), comparing prefixes before full keys so most comparisons touch
//! only the entry itself.

use std::cmp::Ordering;

use eddy_runtime::Result;
use rayon::prelude::*;

use super::radix::{radix_sort_by_prefix, radix_sort_unstable_by_prefix};
use crate::key::SortKey;

/// How a buffer is ordered.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Order {
    /// Largest key first.
    pub(crate) descending: bool,
    /// Entries of equal key keep their relative order.
    pub(crate) stable: bool,
}

impl Order {
    /// Compares two keys in this order.
    #[inline]
    pub(crate) fn compare<K: SortKey>(self, a: &K, b: &K) -> Ordering {
        let ordering = a.prefix().cmp(&b.prefix()).then_with(|| {
            if K::EXACT_PREFIX {
                Ordering::Equal
            } else {
                a.compare(b)
            }
        });
        if self.descending {
            ordering.reverse()
        } else {
            ordering
        }
    }
}

/// Sorts `entries` by key in `order`; `parallel` uses the current rayon pool.
pub(crate) fn sort_entries<K: SortKey, T: Send>(
    entries: &mut [(K, T)],
    order: Order,
    parallel: bool,
) {
    if K::EXACT_PREFIX {
        match (order.stable, order.descending) {
            (true, false) => radix_sort_by_prefix(entries, |e| e.0.prefix(), parallel),
            (true, true) => radix_sort_by_prefix(entries, |e| !e.0.prefix(), parallel),
            (false, false) => radix_sort_unstable_by_prefix(entries, |e| e.0.prefix(), parallel),
            (false, true) => radix_sort_unstable_by_prefix(entries, |e| !e.0.prefix(), parallel),
        }
        return;
    }
    let compare = |a: &(K, T), b: &(K, T)| order.compare(&a.0, &b.0);
    match (order.stable, parallel) {
        (true, true) => entries.par_sort_by(compare),
        (true, false) => entries.sort_by(compare),
        (false, true) => entries.par_sort_unstable_by(compare),
        (false, false) => entries.sort_unstable_by(compare),
    }
}

/// A reduce function folding a record into the earlier record of the same key.
pub(crate) type Combiner<T> = Box<dyn FnMut(&mut T, T) + Send>;

/// The next entry of a sorted `source`, with every following entry of equal key folded into
/// it by `combine`. `pending` carries the look-ahead entry between calls.
pub(crate) fn next_combined<K, T, I>(
    source: &mut I,
    pending: &mut Option<(K, T)>,
    combine: &mut Combiner<T>,
) -> Option<Result<(K, T)>>
where
    K: SortKey,
    I: Iterator<Item = Result<(K, T)>>,
{
    let mut current = match pending.take() {
        Some(entry) => entry,
        None => match source.next()? {
            Ok(entry) => entry,
            Err(e) => return Some(Err(e)),
        },
    };
    loop {
        match source.next() {
            None => return Some(Ok(current)),
            Some(Err(e)) => return Some(Err(e)),
            Some(Ok(next)) => {
                if next.0.compare(&current.0) == Ordering::Equal {
                    combine(&mut current.1, next.1);
                } else {
                    *pending = Some(next);
                    return Some(Ok(current));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descending_stable_string_sort_keeps_ties_in_order() {
        let mut entries: Vec<(String, usize)> = ["b", "a", "c", "a", "b"]
            .iter()
            .enumerate()
            .map(|(i, k)| (k.to_string(), i))
            .collect();
        let order = Order {
            descending: true,
            stable: true,
        };
        sort_entries(&mut entries, order, false);
        let got: Vec<usize> = entries.iter().map(|e| e.1).collect();
        assert_eq!(got, [2, 0, 4, 1, 3]);
    }

    #[test]
    fn combining_folds_equal_neighbours() {
        let sorted = vec![(1u64, 1u64), (1, 2), (2, 5), (3, 1), (3, 1)];
        let mut source = sorted.into_iter().map(Ok);
        let mut pending = None;
        let mut sum: Combiner<u64> = Box::new(|acc, x| *acc += x);
        let mut out = Vec::new();
        while let Some(entry) = next_combined(&mut source, &mut pending, &mut sum) {
            out.push(entry.unwrap());
        }
        assert_eq!(out, [(1, 3), (2, 5), (3, 2)]);
    }
}
