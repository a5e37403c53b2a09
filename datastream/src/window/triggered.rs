//! The window operator for custom triggers, evictors and global windows.
//!
//! ## Algorithm
//! Per key, the windows in flight keep their records with timestamps, in arrival order. A
//! record is added to each of its windows that is not late (event time: `max_timestamp +
//! lateness <= watermark`), then the trigger decides: fire (evict, then run the aggregate
//! function over the remaining records), purge, both or neither. Triggers set timers per key,
//! window and time, deduplicated, in either time domain; when one fires the trigger decides
//! again. A window is cleared (records, trigger counter, its timers) at `max_timestamp +
//! lateness` in its own time domain; a global window never is.
//!
//! ## Memory
//! Every record of every window in flight (sliding windows hold each record once per window).

use std::sync::Arc;

use hashbrown::HashMap;
use smallvec::SmallVec;

use eddy_runtime::checkpoint::SnapshotWriter;
use eddy_runtime::state::AggregateFunction;
use eddy_runtime::time::Clock;
use eddy_runtime::{
    CheckpointBarrier, Data, Key, Operator, OperatorContext, Output, Record, Result, Timestamp,
    Watermark,
};

use super::operator::WindowOutput;
use super::trigger::{Evictor, Trigger, TriggerContext, TriggerResult};
use super::{missing_timestamp, LateRecords, TimeWindow, WindowAssigner, Windowed};
use crate::function::{ClockCheck, KeyFn};
use crate::operators::side_output::Tagged;
use crate::process::TimerQueue;

/// Which windows a record belongs to, for this operator.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Assign {
    /// Time windows (not merging).
    Time(WindowAssigner),
    /// One window per key for all time.
    Global,
}

/// The window that holds everything, for global windows.
const GLOBAL: TimeWindow = TimeWindow {
    start: Timestamp::MIN,
    end: Timestamp::MAX,
};

/// Names of the operator's checkpointed state.
const WINDOWS: &str = "triggered windows";
const EVENT_TIMERS: &str = "triggered event-time timers";
const PROCESSING_TIMERS: &str = "triggered processing-time timers";
const WATERMARK: &str = "triggered watermark";

/// A window as checkpointed: the window, its records, its trigger counter.
type WindowRow<T> = (TimeWindow, Vec<(Timestamp, T)>, u64);

struct WindowState<T> {
    window: TimeWindow,
    records: Vec<(Timestamp, T)>,
    counter: u64,
}

/// Which clock a timer follows.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Domain {
    Event,
    Processing,
}

/// The keyed window operator with a trigger and an optional evictor.
pub(crate) struct TriggeredWindowOperator<T, K, F, Tr> {
    key: KeyFn<T, K>,
    assign: Assign,
    processing_time: bool,
    lateness: i64,
    function: F,
    trigger: Tr,
    evictor: Option<Evictor>,
    late: LateRecords,
    watermark: Timestamp,
    clock: Option<Arc<dyn Clock>>,
    name: String,
    keys: HashMap<K, SmallVec<[WindowState<T>; 2]>>,
    event_timers: TimerQueue<(K, TimeWindow)>,
    processing_timers: TimerQueue<(K, TimeWindow)>,
    clock_check: ClockCheck,
}

/// How a triggered window operator is set up.
pub(crate) struct TriggeredConfig<T, K, F, Tr> {
    pub(crate) key: KeyFn<T, K>,
    pub(crate) assign: Assign,
    pub(crate) processing_time: bool,
    pub(crate) lateness: i64,
    pub(crate) function: F,
    pub(crate) trigger: Tr,
    pub(crate) evictor: Option<Evictor>,
    pub(crate) emit_late: bool,
}

impl<T, K: Key, F, Tr> TriggeredWindowOperator<T, K, F, Tr> {
    pub(crate) fn new(config: TriggeredConfig<T, K, F, Tr>) -> Self {
        TriggeredWindowOperator {
            key: config.key,
            assign: config.assign,
            processing_time: config.processing_time,
            lateness: config.lateness.max(0),
            function: config.function,
            trigger: config.trigger,
            evictor: config.evictor,
            late: LateRecords::new(config.emit_late),
            watermark: Timestamp::MIN,
            clock: None,
            name: String::new(),
            keys: HashMap::new(),
            event_timers: TimerQueue::new(),
            processing_timers: TimerQueue::new(),
            clock_check: ClockCheck::default(),
        }
    }

    fn now(&self) -> Timestamp {
        self.clock.as_ref().map_or(0, |c| c.now_millis())
    }

    /// When `window` is cleared, in its own time domain (`None`: never).
    fn cleanup(&self, window: &TimeWindow) -> Option<(Domain, Timestamp)> {
        if *window == GLOBAL {
            return None;
        }
        if self.processing_time {
            return Some((Domain::Processing, window.max_timestamp()));
        }
        let at = window.max_timestamp().saturating_add(self.lateness);
        (at != Timestamp::MAX).then_some((Domain::Event, at))
    }
}

impl<T: Data, K: Key, F: AggregateFunction<T>, Tr: Trigger<T>>
    TriggeredWindowOperator<T, K, F, Tr>
{
    /// Runs `decide` with a trigger context for the key's window at `index`, applies the timers
    /// it set, and fires and/or purges the window as it decided.
    fn with_trigger(
        &mut self,
        key: &K,
        index: usize,
        out: &mut dyn Output<WindowOutput<K, F::Out, T>>,
        decide: impl FnOnce(&mut Tr, &TimeWindow, &mut TriggerContext<'_>) -> TriggerResult,
    ) -> Result<()> {
        let (watermark, now) = (self.watermark, self.now());
        let Some(windows) = self.keys.get_mut(key) else {
            return Ok(());
        };
        let state = &mut windows[index];
        let window = state.window;
        let mut ctx = TriggerContext {
            watermark,
            now,
            counter: &mut state.counter,
            event_timers: Vec::new(),
            processing_timers: Vec::new(),
        };
        let result = decide(&mut self.trigger, &window, &mut ctx);
        let (event_ops, processing_ops) = (ctx.event_timers, ctx.processing_timers);
        if result.is_fire() {
            if let Some(evictor) = &self.evictor {
                evictor.evict(&mut state.records);
            }
            if !state.records.is_empty() {
                let mut acc = self.function.create_accumulator();
                for (_, record) in &state.records {
                    self.function.add(&mut acc, record);
                }
                out.collect(Record::with_timestamp(
                    Tagged::Main(Windowed {
                        key: key.clone(),
                        window,
                        value: self.function.get_result(&acc),
                    }),
                    window.max_timestamp(),
                ))?;
            }
        }
        if result.is_purge() {
            state.records.clear();
        }
        let id = (key.clone(), window);
        for (time, set) in event_ops {
            if set {
                self.event_timers.register(&id, time);
            } else {
                self.event_timers.delete(&id, time);
            }
        }
        for (time, set) in processing_ops {
            if set {
                self.processing_timers.register(&id, time);
            } else {
                self.processing_timers.delete(&id, time);
            }
        }
        Ok(())
    }

    /// A timer of `domain` for `key`'s `window` at `time`: ask the trigger, then clear the
    /// window if this is its cleanup time.
    fn on_timer(
        &mut self,
        domain: Domain,
        (key, window): (K, TimeWindow),
        time: Timestamp,
        out: &mut dyn Output<WindowOutput<K, F::Out, T>>,
    ) -> Result<()> {
        let Some(index) = self
            .keys
            .get(&key)
            .and_then(|ws| ws.iter().position(|w| w.window == window))
        else {
            return Ok(());
        };
        self.with_trigger(&key, index, out, |trigger, window, ctx| match domain {
            Domain::Event => trigger.on_event_time(time, window, ctx),
            Domain::Processing => trigger.on_processing_time(time, window, ctx),
        })?;
        if self.cleanup(&window) == Some((domain, time)) {
            self.with_trigger(&key, index, out, |trigger, window, ctx| {
                trigger.clear(window, ctx);
                TriggerResult::Continue
            })?;
            if let Some(windows) = self.keys.get_mut(&key) {
                windows.swap_remove(index);
                if windows.is_empty() {
                    self.keys.remove(&key);
                }
            }
        }
        Ok(())
    }

    /// Whether `window` is past its cleanup time (event time only).
    fn is_late(&self, window: &TimeWindow) -> bool {
        matches!(self.cleanup(window), Some((Domain::Event, cleanup)) if cleanup <= self.watermark)
    }

    /// Adds a record to the key's window at `index`, asks the trigger, sets the cleanup timer.
    fn add_record(
        &mut self,
        key: &K,
        index: usize,
        timestamp: Timestamp,
        value: &T,
        out: &mut dyn Output<WindowOutput<K, F::Out, T>>,
    ) -> Result<()> {
        let Some(states) = self.keys.get_mut(key) else {
            return Ok(());
        };
        states[index].records.push((timestamp, value.clone()));
        let window = states[index].window;
        self.with_trigger(key, index, out, |trigger, window, ctx| {
            trigger.on_element(value, timestamp, window, ctx)
        })?;
        if let Some((domain, at)) = self.cleanup(&window) {
            let id = (key.clone(), window);
            match domain {
                Domain::Event => self.event_timers.register(&id, at),
                Domain::Processing => self.processing_timers.register(&id, at),
            }
        }
        Ok(())
    }

    /// Adds a session record: `window` merges with every window of the key it touches (their
    /// records concatenated, their trigger counters summed, their timers cleared, and the
    /// trigger's `on_merge` asked for the merged window). Returns whether the record was added.
    fn add_to_session(
        &mut self,
        key: &K,
        window: TimeWindow,
        timestamp: Timestamp,
        value: &T,
        out: &mut dyn Output<WindowOutput<K, F::Out, T>>,
    ) -> Result<bool> {
        let states = self.keys.entry(key.clone()).or_default();
        let touching: Vec<usize> = (0..states.len())
            .filter(|&i| states[i].window.intersects(&window))
            .collect();
        let cover = touching
            .iter()
            .fold(window, |c, &i| c.cover(&states[i].window));
        let index = match touching.as_slice() {
            [] => {
                states.push(WindowState {
                    window,
                    records: Vec::new(),
                    counter: 0,
                });
                states.len() - 1
            }
            [only] if states[*only].window == cover => *only,
            _ => {
                let mut merged: Vec<WindowState<T>> = touching
                    .iter()
                    .rev()
                    .map(|&i| states.swap_remove(i))
                    .collect();
                merged.sort_by_key(|s| s.window.start);
                for old in &mut merged {
                    self.clear_timers(key, old);
                }
                let states = self.keys.entry(key.clone()).or_default();
                states.push(WindowState {
                    window: cover,
                    counter: merged.iter().map(|s| s.counter).sum(),
                    records: merged.into_iter().flat_map(|s| s.records).collect(),
                });
                let index = states.len() - 1;
                self.with_trigger(key, index, out, |trigger, window, ctx| {
                    trigger.on_merge(window, ctx);
                    TriggerResult::Continue
                })?;
                index
            }
        };
        if self.is_late(&cover) {
            if let Some(states) = self.keys.get_mut(key) {
                states.swap_remove(index);
                if states.is_empty() {
                    self.keys.remove(key);
                }
            }
            return Ok(false);
        }
        self.add_record(key, index, timestamp, value, out)?;
        Ok(true)
    }

    /// Deletes the timers of a window that is merged away: the trigger's and the cleanup one.
    fn clear_timers(&mut self, key: &K, state: &mut WindowState<T>) {
        let (watermark, now) = (self.watermark, self.now());
        let mut ctx = TriggerContext {
            watermark,
            now,
            counter: &mut state.counter,
            event_timers: Vec::new(),
            processing_timers: Vec::new(),
        };
        self.trigger.clear(&state.window, &mut ctx);
        let id = (key.clone(), state.window);
        for (time, _) in ctx.event_timers {
            self.event_timers.delete(&id, time);
        }
        for (time, _) in ctx.processing_timers {
            self.processing_timers.delete(&id, time);
        }
        if let Some((domain, at)) = self.cleanup(&state.window) {
            match domain {
                Domain::Event => self.event_timers.delete(&id, at),
                Domain::Processing => self.processing_timers.delete(&id, at),
            }
        }
    }

    fn fire_due(
        &mut self,
        domain: Domain,
        upto: Timestamp,
        out: &mut dyn Output<WindowOutput<K, F::Out, T>>,
    ) -> Result<()> {
        loop {
            let due = match domain {
                Domain::Event => self.event_timers.pop_due(upto),
                Domain::Processing => self.processing_timers.pop_due(upto),
            };
            let Some((time, id)) = due else { return Ok(()) };
            self.on_timer(domain, id, time, out)?;
        }
    }
}

impl<T: Data, K: Key, F: AggregateFunction<T>, Tr: Trigger<T>>
    Operator<T, WindowOutput<K, F::Out, T>> for TriggeredWindowOperator<T, K, F, Tr>
{
    fn open(&mut self, ctx: &mut OperatorContext<'_>) -> Result<()> {
        self.name = ctx.name.to_string();
        self.clock = Some(ctx.clock.clone());
        let restored = ctx.restored();
        let windows: Vec<(K, Vec<WindowRow<T>>)> = restored.keyed_entries(WINDOWS)?;
        for (key, rows) in windows {
            let states = self.keys.entry(key).or_default();
            for (window, records, counter) in rows {
                states.push(WindowState {
                    window,
                    records,
                    counter,
                });
            }
        }
        let event: Vec<(K, (TimeWindow, Timestamp))> = restored.keyed_entries(EVENT_TIMERS)?;
        for (key, (window, at)) in event {
            self.event_timers.register(&(key, window), at);
        }
        let processing: Vec<(K, (TimeWindow, Timestamp))> =
            restored.keyed_entries(PROCESSING_TIMERS)?;
        for (key, (window, at)) in processing {
            self.processing_timers.register(&(key, window), at);
        }
        if let Some(watermark) = ctx.restored_own::<Timestamp>(WATERMARK)? {
            self.watermark = watermark;
        }
        Ok(())
    }

    fn snapshot_state(&mut self, _: &CheckpointBarrier, writer: &mut SnapshotWriter) -> Result<()> {
        type Row<'a, T> = (TimeWindow, &'a Vec<(Timestamp, T)>, u64);
        let windows: Vec<(&K, Vec<Row<'_, T>>)> = self
            .keys
            .iter()
            .map(|(key, states)| {
                let rows = states
                    .iter()
                    .map(|w| (w.window, &w.records, w.counter))
                    .collect();
                (key, rows)
            })
            .collect();
        writer.keyed_entries(WINDOWS, windows.iter().map(|(k, rows)| (*k, rows)))?;
        for (name, timers) in [
            (EVENT_TIMERS, &self.event_timers),
            (PROCESSING_TIMERS, &self.processing_timers),
        ] {
            let entries: Vec<(&K, (TimeWindow, Timestamp))> = timers
                .entries()
                .into_iter()
                .map(|((key, window), at)| (key, (*window, at)))
                .collect();
            writer.keyed_entries(name, entries.iter().map(|(k, v)| (*k, v)))?;
        }
        writer.operator_state(WATERMARK, &self.watermark)
    }

    fn process_record(
        &mut self,
        record: Record<T>,
        out: &mut dyn Output<WindowOutput<K, F::Out, T>>,
    ) -> Result<()> {
        let timestamp = if self.processing_time {
            let now = self.now();
            if self.clock_check.tick() {
                self.fire_due(Domain::Processing, now, out)?;
            }
            now
        } else {
            match (record.timestamp, self.assign) {
                (Some(ts), _) => ts,
                (None, Assign::Global) => self.watermark,
                (None, Assign::Time(_)) => return Err(missing_timestamp(&self.name)),
            }
        };
        let key = (self.key)(&record.value).into_owned();
        let added = match self.assign {
            Assign::Time(WindowAssigner::Session { gap }) => {
                let window = TimeWindow {
                    start: timestamp,
                    end: timestamp.saturating_add(gap),
                };
                self.add_to_session(&key, window, timestamp, &record.value, out)?
            }
            assign => {
                let mut windows: SmallVec<[TimeWindow; 4]> = SmallVec::new();
                match assign {
                    Assign::Global => windows.push(GLOBAL),
                    Assign::Time(assigner) => assigner.assign(timestamp, |w| windows.push(w)),
                }
                let mut added = false;
                for window in windows {
                    if self.is_late(&window) {
                        continue;
                    }
                    added = true;
                    let states = self.keys.entry(key.clone()).or_default();
                    let index = match states.iter().position(|s| s.window == window) {
                        Some(i) => i,
                        None => {
                            states.push(WindowState {
                                window,
                                records: Vec::new(),
                                counter: 0,
                            });
                            states.len() - 1
                        }
                    };
                    self.add_record(&key, index, timestamp, &record.value, out)?;
                }
                added
            }
        };
        let late =
            !self.processing_time && timestamp.saturating_add(self.lateness) <= self.watermark;
        if !added && late {
            self.late.handle(record.value, timestamp, out)?;
        }
        Ok(())
    }

    fn process_watermark(
        &mut self,
        watermark: Watermark,
        out: &mut dyn Output<WindowOutput<K, F::Out, T>>,
    ) -> Result<()> {
        self.watermark = self.watermark.max(watermark.0);
        self.fire_due(Domain::Event, self.watermark, out)?;
        out.emit_watermark(watermark)
    }

    fn flush(&mut self, out: &mut dyn Output<WindowOutput<K, F::Out, T>>) -> Result<()> {
        let now = self.now();
        self.fire_due(Domain::Processing, now, out)
    }

    fn finish(&mut self, out: &mut dyn Output<WindowOutput<K, F::Out, T>>) -> Result<()> {
        if self.processing_time {
            // Bounded input in processing time: what is pending fires now.
            self.fire_due(Domain::Processing, Timestamp::MAX, out)?;
        }
        self.late.log(&self.name);
        Ok(())
    }
}
