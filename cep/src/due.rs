//! The queue of keys by due time shared by the keyed CEP operators: which key to look at
//! next when the watermark (or the clock) advances.
//!
//! # Algorithm
//! Entries are ordered by (due time, push order). Input in time order pushes due times in
//! order, and deadlines (an event's time plus the window) are in order among themselves, so
//! most pushes extend one of a few sorted lanes (double-ended queues) in O(1); a push that fits
//! no lane goes to a binary heap. Popping takes the least of the lanes' fronts and the heap's
//! top. With in-order input this replaces a heap's O(log n) cache-missing sift per event by a
//! queue append.
//!
//! # Memory
//! One entry per push until it is popped: a key re-pushed with an earlier time leaves a stale
//! entry behind, which the operator recognises (its state names the live time) and skips.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

/// How many sorted lanes before pushes fall back to the heap.
const LANES: usize = 4;

/// A key due at `at`, the `seq`-th push.
pub(crate) struct Due<K> {
    pub(crate) at: i64,
    pub(crate) seq: u64,
    pub(crate) key: K,
}

impl<K> Due<K> {
    fn order(&self) -> (i64, u64) {
        (self.at, self.seq)
    }
}

impl<K> PartialEq for Due<K> {
    fn eq(&self, other: &Self) -> bool {
        self.order() == other.order()
    }
}
impl<K> Eq for Due<K> {}
impl<K> PartialOrd for Due<K> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<K> Ord for Due<K> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.order().cmp(&other.order())
    }
}

/// Keys by due time (see the module doc).
pub(crate) struct DueQueue<K> {
    lanes: Vec<VecDeque<Due<K>>>,
    heap: BinaryHeap<Reverse<Due<K>>>,
    pushed: u64,
}

impl<K> Default for DueQueue<K> {
    fn default() -> Self {
        DueQueue {
            lanes: Vec::new(),
            heap: BinaryHeap::new(),
            pushed: 0,
        }
    }
}

impl<K> DueQueue<K> {
    /// Queues `key` at `at`, after every entry already queued at `at`.
    pub(crate) fn push(&mut self, at: i64, key: K) {
        self.pushed += 1;
        let due = Due {
            at,
            seq: self.pushed,
            key,
        };
        let lanes = self.lanes.len();
        match self
            .lanes
            .iter()
            .position(|lane| lane.back().is_none_or(|b| b.at <= at))
        {
            Some(i) => self.lanes[i].push_back(due),
            None if lanes < LANES => self.lanes.push(VecDeque::from([due])),
            None => self.heap.push(Reverse(due)),
        }
    }

    /// Pops the earliest entry if it is due by `upto`.
    pub(crate) fn pop_due(&mut self, upto: i64) -> Option<Due<K>> {
        let mut best: Option<(usize, (i64, u64))> =
            self.heap.peek().map(|Reverse(d)| (usize::MAX, d.order()));
        for (i, lane) in self.lanes.iter().enumerate() {
            if let Some(front) = lane.front() {
                if best.is_none_or(|(_, o)| front.order() < o) {
                    best = Some((i, front.order()));
                }
            }
        }
        match best {
            Some((_, (at, _))) if at > upto => None,
            None => None,
            Some((usize::MAX, _)) => self.heap.pop().map(|Reverse(d)| d),
            Some((i, _)) => {
                let due = self.lanes[i].pop_front();
                if self.lanes[i].is_empty() {
                    self.lanes.swap_remove(i);
                }
                due
            }
        }
    }

    /// Every entry, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Due<K>> {
        self.lanes
            .iter()
            .flatten()
            .chain(self.heap.iter().map(|Reverse(d)| d))
    }

    /// Drops every entry.
    pub(crate) fn clear(&mut self) {
        self.lanes.clear();
        self.heap.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Pops come out as from a heap ordered by (time, push order), whatever mix of
        /// in-order and out-of-order pushes and pops.
        #[test]
        fn pops_in_time_then_push_order(ops in prop::collection::vec((any::<bool>(), 0i64..50), 0..300)) {
            let mut queue = DueQueue::default();
            let mut model: Vec<(i64, u64, u32)> = Vec::new();
            let mut pushed = 0u64;
            for (i, (pop, t)) in ops.into_iter().enumerate() {
                if pop {
                    let got = queue.pop_due(t).map(|d| (d.at, d.seq, d.key));
                    model.sort();
                    let want = if model.first().is_some_and(|m| m.0 <= t) { Some(model.remove(0)) } else { None };
                    prop_assert_eq!(got, want);
                } else {
                    pushed += 1;
                    queue.push(t, i as u32);
                    model.push((t, pushed, i as u32));
                }
                prop_assert_eq!(queue.iter().count(), model.len());
            }
        }
    }
}
