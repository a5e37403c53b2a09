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
//! A window's contents (its accumulator and two timer flags) are namespaced keyed state in the
//! subtask's state backend (namespace = window), so they are snapshotted per key group by the
//! backend and live in RocksDB with `--state-backend rocksdb`. Timers live in one ordered
//! queue of `(timestamp, key, window)`, rebuilt from the flags on restore. A window's flags
//! say which of its timers are live, so a queue entry left behind by a merged, cleared or
//! re-created window does nothing: each (key, window, timestamp) fires at most once, as
//! Flink dedups.
//!
//! ## Memory
//! One accumulator per key and window in flight (never the records), plus a queue entry per
//! registered timer.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use eddy_runtime::checkpoint::SnapshotWriter;
use eddy_runtime::state::{namespaced_value_state, NamespacedValueState, StateDescriptor};
use eddy_runtime::time::Clock;
use eddy_runtime::{
    CheckpointBarrier, Data, Error, Key, Operator, OperatorContext, Output, Record, Result,
    Timestamp, Watermark,
};

use super::{
    missing_timestamp, AggregateFunction, LateRecords, TimeWindow, WindowAssigner, Windowed,
};
use crate::function::{ClockCheck, KeyFn};
use crate::operators::side_output::Tagged;

/// The names of the operator's state: windows in flight (namespaced keyed state, namespace =
/// window) and the watermark it has seen (operator state).
const WINDOW_CONTENTS: &str = "window contents";
const WINDOW_WATERMARK: &str = "window watermark";

/// A window in flight for one key: its accumulator and which of its timers are set.
#[derive(Clone, Serialize, Deserialize)]
struct Contents<A> {
    acc: A,
    fire_pending: bool,
    cleanup_pending: bool,
}

impl<A> Contents<A> {
    fn new(acc: A) -> Self {
        Contents {
            acc,
            fire_pending: false,
            cleanup_pending: false,
        }
    }
}

/// The state handle of window contents.
type ContentsState<K, A> = NamespacedValueState<K, TimeWindow, Contents<A>>;

/// Timers of `(key, window)`, by time.
type Timers<K> = BTreeMap<Timestamp, Vec<(K, TimeWindow)>>;

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
    /// Windows in flight per key and window, in the subtask's state backend (set at open).
    contents: Option<ContentsState<K, F::Acc>>,
    timers: Timers<K>,
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
            contents: None,
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

/// The contents state, which `open` creates.
fn opened<S>(contents: &mut Option<S>) -> Result<&mut S> {
    contents
        .as_mut()
        .ok_or_else(|| Error::Internal("window operator used before open".into()))
}

/// Sets the window's firing timer unless it is set.
fn register_fire<K: Clone, A>(
    timers: &mut Timers<K>,
    key: &K,
    window: TimeWindow,
    contents: &mut Contents<A>,
) {
    if !contents.fire_pending {
        contents.fire_pending = true;
        timers
            .entry(window.max_timestamp())
            .or_default()
            .push((key.clone(), window));
    }
}

/// Sets the window's cleanup timer unless it is set (none for windows that never end). A
/// cleanup due with a pending firing shares its queue entry: one timer does both.
fn register_cleanup<K: Clone, A>(
    timers: &mut Timers<K>,
    key: &K,
    window: TimeWindow,
    contents: &mut Contents<A>,
    lateness: i64,
) {
    let at = cleanup_time(&window, lateness);
    if !contents.cleanup_pending && at != Timestamp::MAX {
        contents.cleanup_pending = true;
        if !(contents.fire_pending && at == window.max_timestamp()) {
            timers.entry(at).or_default().push((key.clone(), window));
        }
    }
}

fn emit<T, K: Clone, F: AggregateFunction<T>>(
    function: &F,
    key: &K,
    window: TimeWindow,
    acc: &F::Acc,
    out: &mut dyn Output<WindowOutput<K, F::Out, T>>,
) -> Result<()> {
    out.collect(Record::with_timestamp(
        Tagged::Main(Windowed {
            key: key.clone(),
            window,
            value: function.get_result(acc),
        }),
        window.max_timestamp(),
    ))
}

impl<T: Data, K: Key, F: AggregateFunction<T>> WindowOperator<T, K, F> {
    /// Adds `value` to `window` of `key` (creating it), then fires it at once if the
    /// watermark has passed its end, or sets its timer.
    fn add_to_window(
        &mut self,
        key: &K,
        window: TimeWindow,
        value: &T,
        out: &mut dyn Output<WindowOutput<K, F::Out, T>>,
    ) -> Result<()> {
        let (watermark, lateness, processing_time) =
            (self.watermark, self.lateness, self.processing_time);
        let (function, timers) = (&self.function, &mut self.timers);
        opened(&mut self.contents)?.modify(
            key,
            &window,
            || Contents::new(function.create_accumulator()),
            |contents| {
                function.add(&mut contents.acc, value);
                let fire_now = !processing_time && window.max_timestamp() <= watermark;
                if !fire_now {
                    register_fire(timers, key, window, contents);
                }
                register_cleanup(timers, key, window, contents, lateness);
                if fire_now {
                    emit(function, key, window, &contents.acc, out)
                } else {
                    Ok(())
                }
            },
        )?
    }

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
        let contents = opened(&mut self.contents)?;
        let mut touching: Vec<TimeWindow> = contents
            .namespaces(key)?
            .into_iter()
            .filter(|w| w.intersects(&window))
            .collect();
        let cover = touching.iter().fold(window, |c, w| c.cover(w));
        let target = match touching.as_slice() {
            [] => window,
            // The record falls inside one window without extending it: no merge.
            [only] if *only == cover => *only,
            _ => {
                // Merge, in start order; the merged windows' timers are left to go stale.
                touching.sort_by_key(|w| w.start);
                let mut acc: Option<F::Acc> = None;
                for w in &touching {
                    if let Some(merged) = contents.take(key, w)? {
                        acc = Some(match acc {
                            None => merged.acc,
                            Some(a) => self.function.merge(a, merged.acc),
                        });
                    }
                }
                let acc = acc.unwrap_or_else(|| self.function.create_accumulator());
                let mut merged = Contents::new(acc);
                // The trigger's onMerge: a timer for the merged window unless already passed.
                if processing_time || cover.max_timestamp() > watermark {
                    register_fire(&mut self.timers, key, cover, &mut merged);
                }
                contents.put(key, &cover, merged)?;
                cover
            }
        };
        if !processing_time && cleanup_time(&target, lateness) <= watermark {
            contents.clear(key, &target)?;
            return Ok(false);
        }
        self.add_to_window(key, target, value, out)?;
        Ok(true)
    }

    /// Adds a record to each of its (non-merging) windows that is not late.
    fn add_to_windows(
        &mut self,
        key: &K,
        value: &T,
        out: &mut dyn Output<WindowOutput<K, F::Out, T>>,
    ) -> Result<bool> {
        let mut added = false;
        let assigned = std::mem::take(&mut self.assigned);
        for &window in &assigned {
            if self.is_late(cleanup_time(&window, self.lateness)) {
                continue;
            }
            added = true;
            if let Err(e) = self.add_to_window(key, window, value, out) {
                self.assigned = assigned;
                return Err(e);
            }
        }
        self.assigned = assigned;
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
                self.on_timer(&key, window, time, out)?;
            }
        }
        Ok(())
    }

    /// A timer of `window` of `key` at `time`: fire and/or clear.
    fn on_timer(
        &mut self,
        key: &K,
        window: TimeWindow,
        time: Timestamp,
        out: &mut dyn Output<WindowOutput<K, F::Out, T>>,
    ) -> Result<()> {
        let (function, lateness) = (&self.function, self.lateness);
        let mut emitted = Ok(());
        opened(&mut self.contents)?.retain(key, |w, contents| {
            if *w != window {
                return true;
            }
            if time == window.max_timestamp() && contents.fire_pending {
                contents.fire_pending = false;
                emitted = emit(function, key, window, &contents.acc, out);
            }
            !(time == cleanup_time(&window, lateness) && contents.cleanup_pending)
        })?;
        emitted
    }
}

impl<T: Data, K: Key, F: AggregateFunction<T>> Operator<T, WindowOutput<K, F::Out, T>>
    for WindowOperator<T, K, F>
{
    fn open(&mut self, ctx: &mut OperatorContext<'_>) -> Result<()> {
        self.name = ctx.name.to_string();
        self.clock = Some(ctx.clock.clone());
        let mut contents: ContentsState<K, F::Acc> =
            namespaced_value_state(ctx.state, StateDescriptor::new(WINDOW_CONTENTS))?;
        // Restored windows come back with their flags; their timers follow from the flags.
        let (timers, lateness) = (&mut self.timers, self.lateness);
        contents.for_each(|key, window, c| {
            let mut flags = Contents {
                acc: (),
                fire_pending: false,
                cleanup_pending: false,
            };
            if c.fire_pending {
                register_fire(timers, key, *window, &mut flags);
            }
            if c.cleanup_pending {
                register_cleanup(timers, key, *window, &mut flags, lateness);
            }
        })?;
        self.contents = Some(contents);
        if let Some(watermark) = ctx.restored_own::<Timestamp>(WINDOW_WATERMARK)? {
            self.watermark = watermark;
        }
        Ok(())
    }

    fn snapshot_state(&mut self, _: &CheckpointBarrier, writer: &mut SnapshotWriter) -> Result<()> {
        // The contents are snapshotted by the state backend.
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
        // The key borrows the record, not the key function: no reference count to touch.
        let key = (self.key)(&record.value);
        let added = if let WindowAssigner::Session { gap } = self.assigner {
            let window = TimeWindow {
                start: timestamp,
                end: timestamp.saturating_add(gap),
            };
            self.add_to_session(&key, window, &record.value, out)?
        } else if let WindowAssigner::Tumbling { size, offset } = self.assigner {
            // One window per record: no list of windows to build.
            let start = super::window_start(timestamp, offset, size);
            let window = TimeWindow {
                start,
                end: start + size,
            };
            let late = self.is_late(cleanup_time(&window, self.lateness));
            if !late {
                self.add_to_window(&key, window, &record.value, out)?;
            }
            !late
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
