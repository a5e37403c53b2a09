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

use hashbrown::HashMap;
use smallvec::SmallVec;

use eddy_runtime::{
    Data, Error, Key, Operator, OperatorContext, Output, Record, Result, Timestamp, Watermark,
};

use super::{AggregateFunction, TimeWindow, WindowAssigner, Windowed};
use crate::function::KeyFn;
use crate::operators::side_output::Tagged;

/// A window in flight for one key.
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
    emit_late: bool,
    watermark: Timestamp,
    /// Windows in flight per key, inline in the table entry: a tumbling window costs one
    /// cache miss per record rather than two.
    keys: HashMap<K, Slots<F::Acc>>,
    timers: BTreeMap<Timestamp, Vec<(K, TimeWindow)>>,
    assigned: Vec<TimeWindow>,
    late_dropped: u64,
    name: String,
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
            emit_late,
            watermark: Timestamp::MIN,
            keys: HashMap::new(),
            timers: BTreeMap::new(),
            assigned: Vec::new(),
            late_dropped: 0,
            name: String::new(),
        }
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
        let (watermark, lateness) = (self.watermark, self.lateness);
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
                if cover.max_timestamp() > watermark {
                    register_fire(&mut self.timers, key, &mut slot);
                }
                slots.push(slot);
                slots.len() - 1
            }
        };
        if cleanup_time(&slots[index].window, lateness) <= watermark {
            slots.swap_remove(index);
            if slots.is_empty() {
                self.keys.remove(key);
            }
            return Ok(false);
        }
        let slot = &mut slots[index];
        self.function.add(&mut slot.acc, value);
        if slot.window.max_timestamp() <= watermark {
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
        let slots = match self.keys.get_mut(key) {
            Some(slots) => slots,
            None => self.keys.entry(key.clone()).or_default(),
        };
        for &window in &self.assigned {
            if cleanup_time(&window, lateness) <= watermark {
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
            if window.max_timestamp() <= watermark {
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
        Ok(())
    }

    fn process_record(
        &mut self,
        record: Record<T>,
        out: &mut dyn Output<WindowOutput<K, F::Out, T>>,
    ) -> Result<()> {
        let Some(timestamp) = record.timestamp else {
            return Err(Error::user(
                &self.name,
                "record without a timestamp: assign timestamps and watermarks before an event-time window",
            ));
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
        if !added && timestamp.saturating_add(self.lateness) <= self.watermark {
            drop(key);
            if self.emit_late {
                out.collect(Record::with_timestamp(
                    Tagged::Side(record.value),
                    timestamp,
                ))?;
            } else {
                self.late_dropped += 1;
            }
        }
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
            let (time, due) = entry.remove_entry();
            for (key, window) in due {
                self.on_timer(key, window, time, out)?;
            }
        }
        out.emit_watermark(watermark)
    }

    fn finish(&mut self, _: &mut dyn Output<WindowOutput<K, F::Out, T>>) -> Result<()> {
        if self.late_dropped > 0 {
            tracing::warn!(operator = %self.name, dropped = self.late_dropped, "late records dropped");
        }
        Ok(())
    }
}
