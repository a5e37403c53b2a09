//! Timers per key and timestamp, deduplicated and deletable, fired in timestamp order.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::hash::Hash;

use eddy_runtime::Timestamp;

/// The timers of one time domain of a keyed operator.
///
/// A timer is a (key, timestamp) pair; registering one twice keeps one, deleting one that is
/// queued leaves a stale queue entry that is skipped when reached.
pub(crate) struct TimerQueue<K> {
    live: HashSet<(K, Timestamp)>,
    queue: BTreeMap<Timestamp, VecDeque<K>>,
}

impl<K: Hash + Eq + Clone> TimerQueue<K> {
    pub(crate) fn new() -> Self {
        TimerQueue {
            live: HashSet::new(),
            queue: BTreeMap::new(),
        }
    }

    /// Sets a timer for `key` at `timestamp`, unless one is set.
    pub(crate) fn register(&mut self, key: &K, timestamp: Timestamp) {
        if self.live.insert((key.clone(), timestamp)) {
            self.queue
                .entry(timestamp)
                .or_default()
                .push_back(key.clone());
        }
    }

    /// Removes the timer of `key` at `timestamp`, if set.
    pub(crate) fn delete(&mut self, key: &K, timestamp: Timestamp) {
        self.live.remove(&(key.clone(), timestamp));
    }

    /// The earliest live timer at or before `upto`, removed: by timestamp, then in order of
    /// registration.
    pub(crate) fn pop_due(&mut self, upto: Timestamp) -> Option<(Timestamp, K)> {
        loop {
            let mut entry = self.queue.first_entry()?;
            let timestamp = *entry.key();
            if timestamp > upto {
                return None;
            }
            let Some(key) = entry.get_mut().pop_front() else {
                entry.remove();
                continue;
            };
            if entry.get().is_empty() {
                entry.remove();
            }
            if self.live.remove(&(key.clone(), timestamp)) {
                return Some((timestamp, key));
            }
        }
    }

    /// Number of live timers.
    /// Every live timer, in firing order (for a checkpoint).
    pub(crate) fn entries(&self) -> Vec<(&K, Timestamp)> {
        let mut seen = HashSet::new();
        let mut entries = Vec::with_capacity(self.live.len());
        for (timestamp, keys) in &self.queue {
            for key in keys {
                if self.live.contains(&(key.clone(), *timestamp)) && seen.insert((key, *timestamp))
                {
                    entries.push((key, *timestamp));
                }
            }
        }
        entries
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.live.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(q: &mut TimerQueue<&'static str>, upto: i64) -> Vec<(i64, &'static str)> {
        std::iter::from_fn(|| q.pop_due(upto)).collect()
    }

    #[test]
    fn fire_in_timestamp_then_registration_order_once_each() {
        let mut q = TimerQueue::new();
        q.register(&"b", 20);
        q.register(&"a", 10);
        q.register(&"c", 20);
        q.register(&"b", 20); // duplicate: kept once
        q.register(&"a", 30);
        assert_eq!(q.len(), 4);
        assert_eq!(drain(&mut q, 20), [(10, "a"), (20, "b"), (20, "c")]);
        assert_eq!(drain(&mut q, 25), []);
        assert_eq!(drain(&mut q, i64::MAX), [(30, "a")]);
        assert_eq!(q.len(), 0);
    }

    #[test]
    fn deleted_timers_do_not_fire_and_can_be_set_again() {
        let mut q = TimerQueue::new();
        q.register(&"a", 10);
        q.register(&"b", 10);
        q.delete(&"a", 10);
        q.delete(&"z", 99); // deleting what was never set is fine
        assert_eq!(drain(&mut q, 10), [(10, "b")]);
        q.register(&"a", 15);
        q.delete(&"a", 15);
        q.register(&"a", 15);
        assert_eq!(
            drain(&mut q, 100),
            [(15, "a")],
            "re-registered after delete: fires once"
        );
    }
}
