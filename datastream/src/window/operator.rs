//! The event-time window operator.
//!
//! ## Algorithm
//! Per key, the windows in flight, each with its accumulator and two timer flags. A record is
//! added to each window it belongs to that is not late (`max_timestamp + lateness <=
//! watermark`); a window whose end the watermark has already passed fires at once, otherwise
//! a timer is set at its `max_timestamp`. A second timer at `max_timestamp + lateness` clears
//! it. Session windows first merge the record's `[ts, ts + gap)` with every window of the key
//! it touches, merging their accumulators. When the watermark advances, due timers fire in
//! timestamp order, before the watermark is forwarded. This is Flink's `WindowOperator` with
//! its `EventTimeTrigger`, including late firings and the late-data side output.
//!
//! Timers live in one ordered queue of `(timestamp, key, window)`. A window's flags say which
//! of its timers are live, so a queue entry left behind by a merged, cleared or re-created
//! window does nothing: each (key, window, timestamp) fires at most once, as Flink dedups.
//!
//! ## Memory
//! One accumulator per key and window in flight (never the records), plus a queue entry per
//! registered timer.

use std::collections::BTreeMap;
use std::sync::Arc;

use hashbrown::HashMap;
use smallvec::SmallVec;

use eddy_runtime::checkpoint::SnapshotWriter;
use eddy_runtime::time::Clock;
use eddy_runtime::{
    CheckpointBarrier, Data, Key, Operator, OperatorContext, Output, Record, Result, Timestamp,
    Watermark,
};

use super::{
    missing_timestamp, AggregateFunction, LateRecords, TimeWindow, WindowAssigner, Windowed,
};
use crate::function::{ClockCheck, KeyFn};
use crate::operators::side_output::Tagged;

/// A window in flight for one key.
/// The names of the operator's checkpointed state: windows in flight (keyed) and the
/// watermark it has seen.
const WINDOW_CONTENTS: &str = "window contents";
const WINDOW_WATERMARK: &str = "window watermark";

/// A window in flight as checkpointed: window, accumulator, fire and cleanup timer flags.
type SlotRow<A> = (TimeWindow, A, bool, bool);

struct Slot<A> {
    window: TimeWindow,
    acc: A,
    fire_pending: bool,
    cleanup_pending: bool,
}

/// The windows in flight for one key.
type Slots<A> = SmallVec<[Slot<A>; 2]>;

/// What the window operator emits: a window result, or a record too late for any window.
pub(crate) type WindowOutput<K, O, T> = Tagged<Windowed<K, O>, T>;

/// The keyed event-time window operator.
pub(crate) struct WindowOperator<T, K, F: AggregateFunction<T>> {
    key: KeyFn<T, K>,
    assigner: WindowAssigner,
    lateness: i64,
    function: F,
    late: LateRecords,
    watermark: Timestamp,
    /// Windows in flight per key, inline in the table entry: a tumbling window costs one
    /// cache miss per record rather than two.
    keys: HashMap<K, Slots<F::Acc>>,
    timers: BTreeMap<Timestamp, Vec<(K, TimeWindow)>>,
    assigned: Vec<TimeWindow>,
    name: String,
    /// Windows by the clock instead of by event time.
    processing_time: bool,
    clock: Option<Arc<dyn Clock>>,
    clock_check: ClockCheck,
}

impl<T, K, F: AggregateFunction<T>> WindowOperator<T, K, F> {
    pub(crate) fn new(
        key: KeyFn<T, K>,
        assigner: WindowAssigner,
        lateness: i64,
        function: F,
        emit_late: bool,
    ) -> Self {
        WindowOperator {
            key,
            assigner,
            lateness: lateness.max(0),
            function,
            late: LateRecords::new(emit_late),
            watermark: Timestamp::MIN,
            keys: HashMap::new(),
            timers: BTreeMap::new(),
            assigned: Vec::new(),
            name: String::new(),
            processing_time: false,
            clock: None,
            clock_check: ClockCheck::default(),
        }
    }

    /// Windows by processing time: a record belongs to the windows of the time it arrives;
    /// windows fire when the clock passes their end (and, at end of input, at once). Nothing
    /// is late.
    pub(crate) fn in_processing_time(mut self) -> Self {
        self.processing_time = true;
        self
    }

    /// Whether a window whose state is cleared at `cleanup` is too late to accept records.
    fn is_late(&self, cleanup: Timestamp) -> bool {
        !self.processing_time && cleanup <= self.watermark
    }
}

/// When a window's state is cleared: `max_timestamp + lateness`, saturating at the end of time.
fn cleanup_time(window: &TimeWindow, lateness: i64) -> Timestamp {
    window.max_timestamp().saturating_add(lateness)
}

/// Sets the window's firing timer unless it is set.
fn register_fire<K: Clone, A>(
    timers: &mut BTreeMap<Timestamp, Vec<(K, TimeWindow)>>,
    key: &K,
    slot: &mut Slot<A>,
) {
    if !slot.fire_pending {
        slot.fire_pending = true;
        timers
            .entry(slot.window.max_timestamp())
            .or_default()
            .push((key.clone(), slot.window));
    }
}

/// Sets the window's cleanup timer unless it is set (none for windows that never end).
fn register_cleanup<K: Clone, A>(
    timers: &mut BTreeMap<Timestamp, Vec<(K, TimeWindow)>>,
    key: &K,
    slot: &mut Slot<A>,
    lateness: i64,
) {
    let at = cleanup_time(&slot.window, lateness);
    if !slot.cleanup_pending && at != Timestamp::MAX {
        slot.cleanup_pending = true;
        timers
            .entry(at)
            .or_default()
            .push((key.clone(), slot.window));
    }
}

fn emit<T, K: Clone, F: AggregateFunction<T>>(
    function: &F,
    key: &K,
    slot: &Slot<F::Acc>,
    out: &mut dyn Output<WindowOutput<K, F::Out, T>>,
) -> Result<()> {
    out.collect(Record::with_timestamp(
        Tagged::Main(Windowed {
            key: key.clone(),
            window: slot.window,
            value: function.get_result(&slot.acc),
        }),
        slot.window.max_timestamp(),
    ))
}

impl<T: Data, K: Key, F: AggregateFunction<T>> WindowOperator<T, K, F> {
    /// Adds a session record: merges `[ts, ts + gap)` with the key's windows it touches.
    /// Returns whether the record was added to a window (it is skipped when that is late).
    fn add_to_session(
        &mut self,
        key: &K,
        window: TimeWindow,
        value: &T,
        out: &mut dyn Output<WindowOutput<K, F::Out, T>>,
    ) -> Result<bool> {
        let (watermark, lateness, processing_time) =
            (self.watermark, self.lateness, self.processing_time);
        // One lookup on a hit; inlined, because a helper returning the reference would need two.
        let slots = match self.keys.get_mut(key) {
            Some(slots) => slots,
            None => self.keys.entry(key.clone()).or_default(),
        };
        let touching: Vec<usize> = (0..slots.len())
            .filter(|&i| slots[i].window.intersects(&window))
            .collect();
        let cover = touching
            .iter()
            .fold(window, |c, &i| c.cover(&slots[i].window));
        let index = match touching.as_slice() {
            [] => {
                slots.push(Slot {
                    window,
                    acc: self.function.create_accumulator(),
                    fire_pending: false,
                    cleanup_pending: false,
                });
                slots.len() - 1
            }
            // The record falls inside one window without extending it: no merge.
            [only] if slots[*only].window == cover => *only,
            _ => {
                // Merge, in start order; the merged windows' timers are left to go stale.
                let mut merged: Vec<Slot<F::Acc>> = touching
                    .iter()
                    .rev()
                    .map(|&i| slots.swap_remove(i))
                    .collect();
                merged.sort_by_key(|s| s.window.start);
                let mut accs = merged.into_iter().map(|s| s.acc);
                let first = accs
                    .next()
                    .unwrap_or_else(|| self.function.create_accumulator());
                let acc = accs.fold(first, |a, b| self.function.merge(a, b));
                let mut slot = Slot {
                    window: cover,
                    acc,
                    fire_pending: false,
                    cleanup_pending: false,
                };
                // The trigger's onMerge: a timer for the merged window unless already passed.
                if processing_time || cover.max_timestamp() > watermark {
                    register_fire(&mut self.timers, key, &mut slot);
                }
                slots.push(slot);
                slots.len() - 1
            }
        };
        if !processing_time && cleanup_time(&slots[index].window, lateness) <= watermark {
            slots.swap_remove(index);
            if slots.is_empty() {
                self.keys.remove(key);
            }
            return Ok(false);
        }
        let slot = &mut slots[index];
        self.function.add(&mut slot.acc, value);
        if !processing_time && slot.window.max_timestamp() <= watermark {
            emit(&self.function, key, slot, out)?;
        } else {
            register_fire(&mut self.timers, key, slot);
        }
        register_cleanup(&mut self.timers, key, slot, lateness);
        Ok(true)
    }

    /// Adds a record to each of its (non-merging) windows that is not late.
    fn add_to_windows(
        &mut self,
        key: &K,
        value: &T,
        out: &mut dyn Output<WindowOutput<K, F::Out, T>>,
    ) -> Result<bool> {
        let (watermark, lateness) = (self.watermark, self.lateness);
        let mut added = false;
        // One lookup on a hit; inlined, because a helper returning the reference would need two.
        let slots = match self.keys.get_mut(key) {
            Some(slots) => slots,
            None => self.keys.entry(key.clone()).or_default(),
        };
        let processing_time = self.processing_time;
        for &window in &self.assigned {
            if !processing_time && cleanup_time(&window, lateness) <= watermark {
                continue;
            }
            added = true;
            let index = match slots.iter().position(|s| s.window == window) {
                Some(i) => i,
                None => {
                    slots.push(Slot {
                        window,
                        acc: self.function.create_accumulator(),
                        fire_pending: false,
                        cleanup_pending: false,
                    });
                    slots.len() - 1
                }
            };
            let slot = &mut slots[index];
            self.function.add(&mut slot.acc, value);
            if !processing_time && window.max_timestamp() <= watermark {
                emit(&self.function, key, slot, out)?;
            } else {
                register_fire(&mut self.timers, key, slot);
            }
            register_cleanup(&mut self.timers, key, slot, lateness);
        }
        if slots.is_empty() {
            self.keys.remove(key);
        }
        Ok(added)
    }

    fn now(&self) -> Timestamp {
        self.clock.as_ref().map_or(0, |c| c.now_millis())
    }

    /// Fires every timer due by `upto`, in timestamp order.
    fn fire_due(
        &mut self,
        upto: Timestamp,
        out: &mut dyn Output<WindowOutput<K, F::Out, T>>,
    ) -> Result<()> {
        while let Some(entry) = self.timers.first_entry() {
            if *entry.key() > upto {
                break;
            }
            let (time, due) = entry.remove_entry();
            for (key, window) in due {
                self.on_timer(key, window, time, out)?;
            }
        }
        Ok(())
    }

    /// A timer of `window` of `key` at `time`: fire and/or clear.
    fn on_timer(
        &mut self,
        key: K,
        window: TimeWindow,
        time: Timestamp,
        out: &mut dyn Output<WindowOutput<K, F::Out, T>>,
    ) -> Result<()> {
        let Some(slots) = self.keys.get_mut(&key) else {
            return Ok(());
        };
        let Some(index) = slots.iter().position(|s| s.window == window) else {
            return Ok(());
        };
        let slot = &mut slots[index];
        if time == window.max_timestamp() && slot.fire_pending {
            slot.fire_pending = false;
            emit(&self.function, &key, slot, out)?;
        }
        if time == cleanup_time(&window, self.lateness) && slot.cleanup_pending {
            slots.swap_remove(index);
            if slots.is_empty() {
                self.keys.remove(&key);
            }
        }
        Ok(())
    }
}

impl<T: Data, K: Key, F: AggregateFunction<T>> Operator<T, WindowOutput<K, F::Out, T>>
    for WindowOperator<T, K, F>
{
    fn open(&mut self, ctx: &mut OperatorContext<'_>) -> Result<()> {
        self.name = ctx.name.to_string();
        self.clock = Some(ctx.clock.clone());
        // Windows in flight come back with their flags; their timers follow from the flags.
        let restored: Vec<(K, Vec<SlotRow<F::Acc>>)> =
            ctx.restored().keyed_entries(WINDOW_CONTENTS)?;
        for (key, rows) in restored {
            let slots = self.keys.entry(key.clone()).or_default();
            for (window, acc, fire_pending, cleanup_pending) in rows {
                let mut slot = Slot {
                    window,
                    acc,
                    fire_pending: false,
                    cleanup_pending: false,
                };
                if fire_pending {
                    register_fire(&mut self.timers, &key, &mut slot);
                }
                if cleanup_pending {
                    register_cleanup(&mut self.timers, &key, &mut slot, self.lateness);
                }
                slots.push(slot);
            }
        }
        if let Some(watermark) = ctx.restored_own::<Timestamp>(WINDOW_WATERMARK)? {
            self.watermark = watermark;
        }
        Ok(())
    }

    fn snapshot_state(&mut self, _: &CheckpointBarrier, writer: &mut SnapshotWriter) -> Result<()> {
        let rows: Vec<(&K, Vec<SlotRow<&F::Acc>>)> = self
            .keys
            .iter()
            .map(|(key, slots)| {
                let row = slots
                    .iter()
                    .map(|s| (s.window, &s.acc, s.fire_pending, s.cleanup_pending))
                    .collect();
                (key, row)
            })
            .collect();
        writer.keyed_entries(WINDOW_CONTENTS, rows.iter().map(|(k, row)| (*k, row)))?;
        writer.operator_state(WINDOW_WATERMARK, &self.watermark)
    }

    fn process_record(
        &mut self,
        record: Record<T>,
        out: &mut dyn Output<WindowOutput<K, F::Out, T>>,
    ) -> Result<()> {
        let timestamp = match (self.processing_time, record.timestamp) {
            (true, _) => {
                let now = self.now();
                if self.clock_check.tick() {
                    self.fire_due(now, out)?;
                }
                now
            }
            (false, Some(ts)) => ts,
            (false, None) => return Err(missing_timestamp(&self.name)),
        };
        let key_fn = self.key.clone();
        let key = key_fn(&record.value);
        let added = if let WindowAssigner::Session { gap } = self.assigner {
            let window = TimeWindow {
                start: timestamp,
                end: timestamp.saturating_add(gap),
            };
            self.add_to_session(&key, window, &record.value, out)?
        } else {
            let mut assigned = std::mem::take(&mut self.assigned);
            assigned.clear();
            self.assigner.assign(timestamp, |w| assigned.push(w));
            self.assigned = assigned;
            self.add_to_windows(&key, &record.value, out)?
        };
        if !added && self.is_late(timestamp.saturating_add(self.lateness)) {
            drop(key);
            self.late.handle(record.value, timestamp, out)?;
        }
        Ok(())
    }

    fn process_watermark(
        &mut self,
        watermark: Watermark,
        out: &mut dyn Output<WindowOutput<K, F::Out, T>>,
    ) -> Result<()> {
        if !self.processing_time {
            self.watermark = self.watermark.max(watermark.0);
            self.fire_due(self.watermark, out)?;
        }
        out.emit_watermark(watermark)
    }

    fn flush(&mut self, out: &mut dyn Output<WindowOutput<K, F::Out, T>>) -> Result<()> {
        if self.processing_time {
            let now = self.now();
            self.fire_due(now, out)?;
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut dyn Output<WindowOutput<K, F::Out, T>>) -> Result<()> {
        if self.processing_time {
            // Bounded input in processing time: what is pending fires now.
            self.fire_due(Timestamp::MAX, out)?;
        }
        self.late.log(&self.name);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    //! The operator in processing time, driven by hand with a manual clock.
    use super::*;
    use eddy_runtime::partition::KeyGroupRange;
    use eddy_runtime::state::{HeapStateBackend, KeyRef};
    use eddy_runtime::time::ManualClock;
    use eddy_runtime::RuntimeMode;

    #[derive(Clone)]
    struct Count;
    impl AggregateFunction<(char, u32)> for Count {
        type Acc = u32;
        type Out = u32;
        fn create_accumulator(&self) -> u32 {
            0
        }
        fn add(&self, acc: &mut u32, _: &(char, u32)) {
            *acc += 1;
        }
        fn get_result(&self, acc: &u32) -> u32 {
            *acc
        }
        fn merge(&self, a: u32, b: u32) -> u32 {
            a + b
        }
    }

    fn key(v: &(char, u32)) -> KeyRef<'_, char> {
        KeyRef::Borrowed(&v.0)
    }

    type Emitted = Vec<Record<WindowOutput<char, u32, (char, u32)>>>;

    fn rows(out: &mut Emitted) -> Vec<(char, i64, i64, u32)> {
        out.drain(..)
            .filter_map(|r| match r.value {
                Tagged::Main(w) => Some((w.key, w.window.start, w.window.end, w.value)),
                Tagged::Side(_) => None,
            })
            .collect()
    }

    #[test]
    fn processing_time_windows_follow_the_clock() {
        let clock = ManualClock::new(1_000);
        let shared: Arc<dyn Clock> = Arc::new(clock.clone());
        let mut op = WindowOperator::new(
            Arc::new(key),
            WindowAssigner::tumbling(100),
            0,
            Count,
            false,
        )
        .in_processing_time();
        let mut backend = HeapStateBackend::default();
        let mut ctx = OperatorContext {
            name: "window",
            subtask: 0,
            parallelism: 1,
            max_parallelism: 128,
            key_groups: KeyGroupRange { start: 0, end: 127 },
            mode: RuntimeMode::Streaming,
            state: &mut backend,
            clock: &shared,
        };
        op.open(&mut ctx).unwrap();
        let mut out = Vec::new();
        // Records carry no event time: the clock decides their window.
        op.process_record(Record::new(('a', 1)), &mut out).unwrap();
        clock.advance(50);
        op.process_record(Record::new(('a', 2)), &mut out).unwrap();
        op.process_record(Record::new(('b', 3)), &mut out).unwrap();
        op.process_watermark(Watermark(5_000), &mut out).unwrap(); // event time plays no part
        op.flush(&mut out).unwrap();
        assert!(
            rows(&mut out).is_empty(),
            "the clock has not reached the window's end"
        );
        clock.advance(49); // 1099: the last millisecond of [1000, 1100)
        op.process_record(Record::new(('a', 4)), &mut out).unwrap();
        op.flush(&mut out).unwrap();
        let mut fired = rows(&mut out);
        fired.sort();
        assert_eq!(fired, [('a', 1000, 1100, 3), ('b', 1000, 1100, 1)]);
        clock.advance(1);
        op.process_record(Record::new(('a', 5)), &mut out).unwrap();
        op.finish(&mut out).unwrap();
        assert_eq!(
            rows(&mut out),
            [('a', 1100, 1200, 1)],
            "pending windows fire at the end of input"
        );
    }
}
