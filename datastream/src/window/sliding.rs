//! Sliding event-time windows that share pane aggregates.
//!
//! ## Algorithm
//! A window of `size` sliding by `slide` is made of panes of `gcd(size, slide)`; each record
//! is folded into its one pane instead of into `size / slide` windows, and a firing window
//! merges its panes. The results are those of Flink's `WindowOperator` with one state per
//! window, because for a window that is still alive, every record in its panes was accepted
//! by it (lateness only grows as the watermark advances), and because:
//! - a window fires on time, when the watermark reaches its end, iff one of its panes got its
//!   first record while the watermark was before that end (Flink registers its timer then);
//! - a record accepted by an already-fired window that is still alive fires it at once;
//! - a pane is dropped when the last window holding it is cleared (`end - 1 + lateness`).
//!
//! Panes are namespaced keyed state in the subtask's state backend (key, pane start), so the
//! backend snapshots them per key group and they follow `--state-backend rocksdb`. Each pane
//! keeps the next window end it can fire on time. When the watermark passes a key's queued
//! time, one pass over the key's panes gathers the panes of every window due (window `end`
//! fires iff a pane has `next_end <= end <= last_end`), moves every pane past the last end
//! due, drops dead panes and finds the key's next time. A key is queued when a pane is
//! created (its next firing or cleanup) and after each look; a key queued twice for one time
//! is looked at once.
//!
//! ## Memory
//! Per key, one accumulator and one timestamp per pane alive (about `(size + lateness) /
//! slide`), plus queue entries of keys. On the heap backend up to 12 panes sit inside the
//! key's table entry (a 10 s window sliding by 1 s has 11), so a look at a key costs one
//! cache miss, not two.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use eddy_runtime::checkpoint::SnapshotWriter;
use eddy_runtime::state::{
    namespaced_value_state_inline, AggregateFunction, NamespacedValueState, StateDescriptor,
};
use eddy_runtime::{
    CheckpointBarrier, Data, Error, Key, Operator, OperatorContext, Output, Record, Result,
    Timestamp, Watermark,
};

use super::operator::WindowOutput;
use super::{missing_timestamp, LateRecords, TimeWindow, Windowed};
use crate::function::KeyFn;
use crate::operators::side_output::Tagged;

/// The names of the operator's state: panes per key and pane start (namespaced keyed
/// state), and the watermark (operator state).
const PANES: &str = "sliding window pane contents";
const PANES_WATERMARK: &str = "sliding window watermark";

/// One pane of one key.
#[derive(Clone, Serialize, Deserialize)]
struct Pane<A> {
    /// The first window end the pane can still fire on time: at first, its first window whose
    /// end the watermark had not reached when the pane got its first record; after a window
    /// of the key fired on time, no earlier than the next one.
    next_end: Timestamp,
    acc: A,
}

/// A pane copied out of state for a late firing: start and accumulator.
type PaneCopy<A> = (Timestamp, A);

/// The state handle of the panes.
type PaneState<K, A> = NamespacedValueState<K, Timestamp, Pane<A>, INLINE_PANES>;

/// Panes kept inline in a key's table entry: a 10 s window sliding by 1 s has 11 alive.
const INLINE_PANES: usize = 12;

/// The arithmetic of sliding windows and their panes.
#[derive(Debug, Clone, Copy)]
struct Geometry {
    size: i64,
    slide: i64,
    pane: i64,
    offset: i64,
    lateness: i64,
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

impl Geometry {
    /// The smallest window end after `t`.
    fn first_end_after(&self, t: Timestamp) -> Timestamp {
        let residue = (self.offset + self.size).rem_euclid(self.slide);
        let next = t + 1;
        next + (residue - next).rem_euclid(self.slide)
    }

    fn cleanup_time(&self, end: Timestamp) -> Timestamp {
        (end - 1).saturating_add(self.lateness)
    }

    /// The start of the pane holding `timestamp`.
    fn pane_start(&self, timestamp: Timestamp) -> Timestamp {
        timestamp - (timestamp - self.offset).rem_euclid(self.pane)
    }

    /// The end of the last window holding the pane starting at `start` (not stored: when the
    /// slide is the pane, as when the size is a multiple of it, it is `start + size`).
    #[inline]
    fn last_end(&self, start: Timestamp) -> Timestamp {
        if self.pane == self.slide {
            start + self.size
        } else {
            start - (start - self.offset).rem_euclid(self.slide) + self.size
        }
    }

    /// A new pane starting at `start`.
    fn pane<A>(&self, start: Timestamp, watermark: Timestamp, acc: A) -> Pane<A> {
        let first_end = self.first_end_after(start);
        // On time: end - 1 > watermark, so end >= watermark + 2; the first such end on the grid.
        let lower = watermark.saturating_add(2).max(first_end);
        let next_end = first_end + (lower - first_end + self.slide - 1) / self.slide * self.slide;
        Pane { next_end, acc }
    }

    /// The last window end due at `watermark` (`end - 1 <= watermark`); far in the future at
    /// the end of time, without overflowing.
    fn last_end_due(&self, watermark: Timestamp) -> Timestamp {
        if watermark >= Timestamp::MAX - 4 * self.slide.max(self.size) {
            return Timestamp::MAX - 2 * self.slide;
        }
        self.first_end_after(watermark + 1) - self.slide
    }

    /// When a pane's key must be looked at for this pane: its next on-time firing, or its
    /// cleanup once it has none left.
    fn pane_time(&self, last_end: Timestamp, next_end: Timestamp) -> Timestamp {
        let cleanup = self.cleanup_time(last_end);
        if next_end <= last_end {
            (next_end - 1).min(cleanup)
        } else {
            cleanup
        }
    }
}

/// Emits the window ending at `end`: the merge of its panes (nothing if they are all empty).
fn emit<T, K: Clone, F: AggregateFunction<T>>(
    function: &F,
    size: i64,
    key: &K,
    panes: &[PaneCopy<F::Acc>],
    end: Timestamp,
    out: &mut dyn Output<WindowOutput<K, F::Out, T>>,
) -> Result<()> {
    let window = TimeWindow {
        start: end - size,
        end,
    };
    let mut acc: Option<F::Acc> = None;
    for (_, pane) in panes.iter().filter(|p| p.0 >= window.start && p.0 < end) {
        acc = Some(match acc {
            None => pane.clone(),
            Some(a) => function.merge(a, pane.clone()),
        });
    }
    let Some(acc) = acc else { return Ok(()) };
    out.collect(Record::with_timestamp(
        Tagged::Main(Windowed {
            key: key.clone(),
            window,
            value: function.get_result(&acc),
        }),
        window.max_timestamp(),
    ))
}

/// The keyed sliding-window operator with pane sharing.
pub(crate) struct SlidingWindowOperator<T, K, F: AggregateFunction<T>> {
    key: KeyFn<T, K>,
    geometry: Geometry,
    function: F,
    late: LateRecords,
    watermark: Timestamp,
    /// Panes per key and pane start, in the subtask's state backend (set at open).
    panes: Option<PaneState<K, F::Acc>>,
    /// Keys to look at, by time; a key may be queued more than once (see `fire_due`).
    timers: BTreeMap<Timestamp, Vec<K>>,
    /// Scratch: the ends of a record's live windows, a key's panes, the keys of one time.
    ends: Vec<Timestamp>,
    copies: Vec<PaneCopy<F::Acc>>,
    due_panes: Vec<(Timestamp, Timestamp, F::Acc)>,
    due: hashbrown::HashSet<K>,
    name: String,
}

impl<T, K, F: AggregateFunction<T>> SlidingWindowOperator<T, K, F> {
    pub(crate) fn new(
        key: KeyFn<T, K>,
        (size, slide, offset): (i64, i64, i64),
        lateness: i64,
        function: F,
        emit_late: bool,
    ) -> Self {
        SlidingWindowOperator {
            key,
            geometry: Geometry {
                size,
                slide,
                pane: gcd(size, slide),
                offset,
                lateness: lateness.max(0),
            },
            function,
            late: LateRecords::new(emit_late),
            watermark: Timestamp::MIN,
            panes: None,
            timers: BTreeMap::new(),
            ends: Vec::new(),
            copies: Vec::new(),
            due_panes: Vec::new(),
            due: hashbrown::HashSet::new(),
            name: String::new(),
        }
    }
}

/// The pane state, which `open` creates.
fn opened<S>(panes: &mut Option<S>) -> Result<&mut S> {
    panes
        .as_mut()
        .ok_or_else(|| Error::Internal("sliding window operator used before open".into()))
}

impl<T: Data, K: Key, F: AggregateFunction<T>> SlidingWindowOperator<T, K, F> {
    /// Copies the panes of `key` into `self.copies`, sorted by start (for late firings).
    fn copy_panes(&mut self, key: &K) -> Result<()> {
        let copies = &mut self.copies;
        copies.clear();
        opened(&mut self.panes)?.retain(key, |start, pane| {
            copies.push((*start, pane.acc.clone()));
            true
        })?;
        copies.sort_unstable_by_key(|p| p.0);
        Ok(())
    }

    /// The key's timer: in one pass over its panes, gathers the panes of every window due
    /// on time, moves each pane past them, drops dead panes and finds the key's next time;
    /// then fires the windows in end order and requeues the key.
    fn on_timer(&mut self, key: K, out: &mut dyn Output<WindowOutput<K, F::Out, T>>) -> Result<()> {
        let (geometry, watermark) = (self.geometry, self.watermark);
        let due_end = geometry.last_end_due(watermark);
        let mut next: Option<Timestamp> = None;
        // (window end, pane start, pane accumulator) of every pane of every window due.
        let due = &mut self.due_panes;
        due.clear();
        opened(&mut self.panes)?.retain(&key, |&start, pane| {
            let last_end = geometry.last_end(start);
            let mut end = pane.next_end;
            while end <= last_end && end <= due_end {
                due.push((end, start, pane.acc.clone()));
                end += geometry.slide;
            }
            pane.next_end = pane.next_end.max(due_end.saturating_add(geometry.slide));
            let alive = geometry.cleanup_time(last_end) > watermark;
            if alive {
                let time = geometry.pane_time(last_end, pane.next_end);
                next = Some(next.map_or(time, |n: Timestamp| n.min(time)));
            }
            alive
        })?;
        // Panes merge in start order, as a window holding them all would have seen them. One
        // window due over panes kept in creation order (the common case) is sorted already.
        if !due.is_sorted_by_key(|(end, start, _)| (*end, *start)) {
            due.sort_unstable_by_key(|(end, start, _)| (*end, *start));
        }
        let mut panes = due.drain(..).peekable();
        while let Some((end, _, first)) = panes.next() {
            let mut acc = first;
            while let Some((_, _, pane)) = panes.next_if(|(e, _, _)| *e == end) {
                acc = self.function.merge(acc, pane);
            }
            let window = TimeWindow {
                start: end - geometry.size,
                end,
            };
            out.collect(Record::with_timestamp(
                Tagged::Main(Windowed {
                    key: key.clone(),
                    window,
                    value: self.function.get_result(&acc),
                }),
                window.max_timestamp(),
            ))?;
        }
        if let Some(next) = next {
            self.timers.entry(next).or_default().push(key);
        }
        Ok(())
    }
}

impl<T: Data, K: Key, F: AggregateFunction<T>> Operator<T, WindowOutput<K, F::Out, T>>
    for SlidingWindowOperator<T, K, F>
{
    fn open(&mut self, ctx: &mut OperatorContext<'_>) -> Result<()> {
        self.name = ctx.name.to_string();
        let mut panes: PaneState<K, F::Acc> =
            namespaced_value_state_inline(ctx.state, StateDescriptor::new(PANES))?;
        // Restored panes: each queues its key at its own next time (duplicates are merged
        // when they fire).
        let (geometry, timers) = (self.geometry, &mut self.timers);
        panes.for_each(|key, start, pane| {
            timers
                .entry(geometry.pane_time(geometry.last_end(*start), pane.next_end))
                .or_default()
                .push(key.clone());
        })?;
        self.panes = Some(panes);
        if let Some(watermark) = ctx.restored_own::<Timestamp>(PANES_WATERMARK)? {
            self.watermark = watermark;
        }
        Ok(())
    }

    fn snapshot_state(&mut self, _: &CheckpointBarrier, writer: &mut SnapshotWriter) -> Result<()> {
        // The panes are snapshotted by the state backend.
        writer.operator_state(PANES_WATERMARK, &self.watermark)
    }

    fn process_record(
        &mut self,
        record: Record<T>,
        out: &mut dyn Output<WindowOutput<K, F::Out, T>>,
    ) -> Result<()> {
        let Some(timestamp) = record.timestamp else {
            return Err(missing_timestamp(&self.name));
        };
        let (geometry, watermark) = (self.geometry, self.watermark);
        // The ends of the windows holding the record that are still alive; how many of them
        // the watermark has passed (they fire at once: late firings).
        let mut alive = false;
        let mut late_ends = std::mem::take(&mut self.ends);
        late_ends.clear();
        let mut end = geometry.first_end_after(timestamp);
        while end <= timestamp + geometry.size {
            if geometry.cleanup_time(end) > watermark {
                alive = true;
                if end - 1 <= watermark {
                    late_ends.push(end);
                }
            }
            end += geometry.slide;
        }
        if !alive {
            self.ends = late_ends;
            if timestamp.saturating_add(geometry.lateness) <= watermark {
                self.late.handle(record.value, timestamp, out)?;
            }
            return Ok(());
        }
        let key = (self.key)(&record.value);
        let start = geometry.pane_start(timestamp);
        let function = &self.function;
        let mut created = None;
        opened(&mut self.panes)?.modify(
            &key,
            &start,
            || {
                let pane = geometry.pane(start, watermark, function.create_accumulator());
                created = Some(geometry.pane_time(geometry.last_end(start), pane.next_end));
                pane
            },
            |pane| function.add(&mut pane.acc, &record.value),
        )?;
        if let Some(time) = created {
            self.timers.entry(time).or_default().push((*key).clone());
        }
        if !late_ends.is_empty() {
            // Windows whose end the watermark already passed fire at once, latest first.
            self.copy_panes(&key)?;
            for &end in late_ends.iter().rev() {
                emit(&self.function, geometry.size, &*key, &self.copies, end, out)?;
            }
        }
        self.ends = late_ends;
        Ok(())
    }

    fn process_watermark(
        &mut self,
        watermark: Watermark,
        out: &mut dyn Output<WindowOutput<K, F::Out, T>>,
    ) -> Result<()> {
        self.watermark = self.watermark.max(watermark.0);
        while let Some(entry) = self.timers.first_entry() {
            if *entry.key() > self.watermark {
                break;
            }
            // A key queued several times up to now is looked at once.
            let mut due = std::mem::take(&mut self.due);
            due.clear();
            due.extend(entry.remove());
            for key in due.drain() {
                self.on_timer(key, out)?;
            }
            self.due = due;
        }
        out.emit_watermark(watermark)
    }

    fn finish(&mut self, _: &mut dyn Output<WindowOutput<K, F::Out, T>>) -> Result<()> {
        self.late.log(&self.name);
        Ok(())
    }
}
