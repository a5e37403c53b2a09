//! Triggers and evictors: when a window fires, and which of its records the function sees
//! (Flink's `Trigger` and `Evictor`).
//!
//! Every window assigner has a default trigger: event-time windows fire when the watermark
//! passes their end ([`EventTimeTrigger`]), processing-time windows when the clock does
//! ([`ProcessingTimeTrigger`]); global windows never fire by themselves. Set another with
//! [`crate::WindowedStream::trigger`]; a window with a custom trigger or an evictor keeps its
//! records (not an accumulator) and applies the aggregate function when it fires.

use eddy_runtime::Timestamp;

use super::TimeWindow;

/// What a trigger decides for a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TriggerResult {
    /// Nothing happens.
    Continue,
    /// The window's function runs on its contents, which are kept.
    Fire,
    /// The window's contents are dropped without firing.
    Purge,
    /// The function runs, then the contents are dropped.
    FireAndPurge,
}

impl TriggerResult {
    /// Whether the window fires.
    pub fn is_fire(self) -> bool {
        matches!(self, TriggerResult::Fire | TriggerResult::FireAndPurge)
    }

    /// Whether the window's contents are dropped.
    pub fn is_purge(self) -> bool {
        matches!(self, TriggerResult::Purge | TriggerResult::FireAndPurge)
    }
}

/// What a trigger can see and do for the window at hand.
pub struct TriggerContext<'a> {
    pub(crate) watermark: Timestamp,
    pub(crate) now: Timestamp,
    pub(crate) counter: &'a mut u64,
    pub(crate) event_timers: Vec<(Timestamp, bool)>,
    pub(crate) processing_timers: Vec<(Timestamp, bool)>,
}

impl TriggerContext<'_> {
    /// The current watermark.
    pub fn current_watermark(&self) -> Timestamp {
        self.watermark
    }

    /// The current processing time.
    pub fn current_processing_time(&self) -> Timestamp {
        self.now
    }

    /// A counter kept per key and window for the trigger (cleared with the window).
    pub fn counter(&mut self) -> &mut u64 {
        self.counter
    }

    /// Sets an event-time timer for this key and window.
    pub fn register_event_time_timer(&mut self, time: Timestamp) {
        self.event_timers.push((time, true));
    }

    /// Removes this key and window's event-time timer at `time`.
    pub fn delete_event_time_timer(&mut self, time: Timestamp) {
        self.event_timers.push((time, false));
    }

    /// Sets a processing-time timer for this key and window.
    pub fn register_processing_time_timer(&mut self, time: Timestamp) {
        self.processing_timers.push((time, true));
    }

    /// Removes this key and window's processing-time timer at `time`.
    pub fn delete_processing_time_timer(&mut self, time: Timestamp) {
        self.processing_timers.push((time, false));
    }
}

/// Decides when a window fires. One instance runs per operator subtask; per-window state goes
/// in [`TriggerContext::counter`] or in timers.
pub trait Trigger<T>: Clone + Send + Sync + 'static {
    /// A record was added to `window`.
    fn on_element(
        &mut self,
        element: &T,
        timestamp: Timestamp,
        window: &TimeWindow,
        ctx: &mut TriggerContext<'_>,
    ) -> TriggerResult;

    /// An event-time timer of this window fired.
    fn on_event_time(
        &mut self,
        _time: Timestamp,
        _window: &TimeWindow,
        _ctx: &mut TriggerContext<'_>,
    ) -> TriggerResult {
        TriggerResult::Continue
    }

    /// A processing-time timer of this window fired.
    fn on_processing_time(
        &mut self,
        _time: Timestamp,
        _window: &TimeWindow,
        _ctx: &mut TriggerContext<'_>,
    ) -> TriggerResult {
        TriggerResult::Continue
    }

    /// Session windows merged into `window` (their timers were cleared, their counters
    /// summed): set the merged window's timers.
    fn on_merge(&mut self, _window: &TimeWindow, _ctx: &mut TriggerContext<'_>) {}

    /// The window is being cleared: delete the timers this trigger set.
    fn clear(&mut self, _window: &TimeWindow, _ctx: &mut TriggerContext<'_>) {}
}

/// Fires when the watermark passes the window's end, and for every record arriving after
/// that within the allowed lateness (Flink's `EventTimeTrigger`).
#[derive(Debug, Clone, Copy, Default)]
pub struct EventTimeTrigger;

impl<T> Trigger<T> for EventTimeTrigger {
    fn on_element(
        &mut self,
        _: &T,
        _: Timestamp,
        window: &TimeWindow,
        ctx: &mut TriggerContext<'_>,
    ) -> TriggerResult {
        if window.max_timestamp() <= ctx.current_watermark() {
            TriggerResult::Fire
        } else {
            ctx.register_event_time_timer(window.max_timestamp());
            TriggerResult::Continue
        }
    }
    fn on_event_time(
        &mut self,
        time: Timestamp,
        window: &TimeWindow,
        _: &mut TriggerContext<'_>,
    ) -> TriggerResult {
        if time == window.max_timestamp() {
            TriggerResult::Fire
        } else {
            TriggerResult::Continue
        }
    }
    fn on_merge(&mut self, window: &TimeWindow, ctx: &mut TriggerContext<'_>) {
        // Only while the watermark has not passed the merged window's end.
        if window.max_timestamp() > ctx.current_watermark() {
            ctx.register_event_time_timer(window.max_timestamp());
        }
    }
    fn clear(&mut self, window: &TimeWindow, ctx: &mut TriggerContext<'_>) {
        ctx.delete_event_time_timer(window.max_timestamp());
    }
}

/// Fires when the clock passes the window's end (Flink's `ProcessingTimeTrigger`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessingTimeTrigger;

impl<T> Trigger<T> for ProcessingTimeTrigger {
    fn on_element(
        &mut self,
        _: &T,
        _: Timestamp,
        window: &TimeWindow,
        ctx: &mut TriggerContext<'_>,
    ) -> TriggerResult {
        ctx.register_processing_time_timer(window.max_timestamp());
        TriggerResult::Continue
    }
    fn on_processing_time(
        &mut self,
        _: Timestamp,
        _: &TimeWindow,
        _: &mut TriggerContext<'_>,
    ) -> TriggerResult {
        TriggerResult::Fire
    }
    fn on_merge(&mut self, window: &TimeWindow, ctx: &mut TriggerContext<'_>) {
        if window.max_timestamp() > ctx.current_processing_time() {
            ctx.register_processing_time_timer(window.max_timestamp());
        }
    }
    fn clear(&mut self, window: &TimeWindow, ctx: &mut TriggerContext<'_>) {
        ctx.delete_processing_time_timer(window.max_timestamp());
    }
}

/// Fires every `count` records of a window (Flink's `CountTrigger`).
#[derive(Debug, Clone, Copy)]
pub struct CountTrigger {
    count: u64,
}

impl CountTrigger {
    /// Fires every `count` records.
    pub fn of(count: u64) -> Self {
        CountTrigger {
            count: count.max(1),
        }
    }
}

impl<T> Trigger<T> for CountTrigger {
    fn on_element(
        &mut self,
        _: &T,
        _: Timestamp,
        _: &TimeWindow,
        ctx: &mut TriggerContext<'_>,
    ) -> TriggerResult {
        let seen = ctx.counter();
        *seen += 1;
        if *seen >= self.count {
            *seen = 0;
            TriggerResult::Fire
        } else {
            TriggerResult::Continue
        }
    }
}

/// The trigger of a time window when none is set: event time or processing time, as the
/// window's time domain is.
#[derive(Debug, Clone, Copy)]
pub struct DefaultTrigger {
    pub(crate) processing_time: bool,
}

impl<T> Trigger<T> for DefaultTrigger {
    fn on_element(
        &mut self,
        e: &T,
        ts: Timestamp,
        w: &TimeWindow,
        ctx: &mut TriggerContext<'_>,
    ) -> TriggerResult {
        if self.processing_time {
            Trigger::<T>::on_element(&mut ProcessingTimeTrigger, e, ts, w, ctx)
        } else {
            Trigger::<T>::on_element(&mut EventTimeTrigger, e, ts, w, ctx)
        }
    }
    fn on_event_time(
        &mut self,
        time: Timestamp,
        w: &TimeWindow,
        ctx: &mut TriggerContext<'_>,
    ) -> TriggerResult {
        if self.processing_time {
            TriggerResult::Continue
        } else {
            Trigger::<T>::on_event_time(&mut EventTimeTrigger, time, w, ctx)
        }
    }
    fn on_processing_time(
        &mut self,
        time: Timestamp,
        w: &TimeWindow,
        ctx: &mut TriggerContext<'_>,
    ) -> TriggerResult {
        if self.processing_time {
            Trigger::<T>::on_processing_time(&mut ProcessingTimeTrigger, time, w, ctx)
        } else {
            TriggerResult::Continue
        }
    }
    fn on_merge(&mut self, w: &TimeWindow, ctx: &mut TriggerContext<'_>) {
        if self.processing_time {
            Trigger::<T>::on_merge(&mut ProcessingTimeTrigger, w, ctx)
        } else {
            Trigger::<T>::on_merge(&mut EventTimeTrigger, w, ctx)
        }
    }
    fn clear(&mut self, w: &TimeWindow, ctx: &mut TriggerContext<'_>) {
        if self.processing_time {
            Trigger::<T>::clear(&mut ProcessingTimeTrigger, w, ctx)
        } else {
            Trigger::<T>::clear(&mut EventTimeTrigger, w, ctx)
        }
    }
}

/// Never fires (the default of global windows).
#[derive(Debug, Clone, Copy, Default)]
pub struct NeverTrigger;

impl<T> Trigger<T> for NeverTrigger {
    fn on_element(
        &mut self,
        _: &T,
        _: Timestamp,
        _: &TimeWindow,
        _: &mut TriggerContext<'_>,
    ) -> TriggerResult {
        TriggerResult::Continue
    }
}

/// Turns every firing of the wrapped trigger into fire-and-purge (Flink's `PurgingTrigger`).
#[derive(Debug, Clone, Copy)]
pub struct PurgingTrigger<Tr>(pub Tr);

fn purging(result: TriggerResult) -> TriggerResult {
    if result.is_fire() {
        TriggerResult::FireAndPurge
    } else {
        result
    }
}

impl<T, Tr: Trigger<T>> Trigger<T> for PurgingTrigger<Tr> {
    fn on_element(
        &mut self,
        e: &T,
        ts: Timestamp,
        w: &TimeWindow,
        ctx: &mut TriggerContext<'_>,
    ) -> TriggerResult {
        purging(self.0.on_element(e, ts, w, ctx))
    }
    fn on_event_time(
        &mut self,
        time: Timestamp,
        w: &TimeWindow,
        ctx: &mut TriggerContext<'_>,
    ) -> TriggerResult {
        purging(self.0.on_event_time(time, w, ctx))
    }
    fn on_processing_time(
        &mut self,
        time: Timestamp,
        w: &TimeWindow,
        ctx: &mut TriggerContext<'_>,
    ) -> TriggerResult {
        purging(self.0.on_processing_time(time, w, ctx))
    }
    fn on_merge(&mut self, w: &TimeWindow, ctx: &mut TriggerContext<'_>) {
        self.0.on_merge(w, ctx);
    }
    fn clear(&mut self, w: &TimeWindow, ctx: &mut TriggerContext<'_>) {
        self.0.clear(w, ctx);
    }
}

/// Removes records from a firing window before its function sees them (Flink's `Evictor`,
/// evicting before the function).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evictor {
    /// Keeps the last `n` records (by arrival).
    Count(usize),
    /// Keeps the records within `ms` of the window's latest record timestamp.
    Time(i64),
}

impl Evictor {
    /// Applies the eviction to `(timestamp, record)` pairs in arrival order.
    pub(crate) fn evict<T>(&self, records: &mut Vec<(Timestamp, T)>) {
        match *self {
            Evictor::Count(n) => {
                if records.len() > n {
                    records.drain(..records.len() - n);
                }
            }
            Evictor::Time(ms) => {
                if let Some(latest) = records.iter().map(|(ts, _)| *ts).max() {
                    records.retain(|(ts, _)| *ts > latest - ms);
                }
            }
        }
    }
}
