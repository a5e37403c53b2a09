//! Keyed process functions: per-record logic with keyed state and timers (Flink's
//! `KeyedProcessFunction`).

use std::sync::Arc;

use eddy_runtime::state::{
    aggregating_state, list_state, map_state, reducing_state, value_state, AggregateFunction,
    AggregatingState, ListState, MapState, ReducingState, StateBackend, StateDescriptor,
    ValueState,
};
use eddy_runtime::time::Clock;
use eddy_runtime::{
    Data, Error, Key, Operator, OperatorContext, Output, Record, Result, Timestamp, Watermark,
};

use super::timers::TimerQueue;
use crate::function::{BoxError, ClockCheck, KeyFn};
use crate::operators::side_output::Tagged;
use crate::side_output::{OutputTag, SideRecord};

/// Per-record logic over a keyed stream, with keyed state and timers.
///
/// Build one per subtask with [`crate::KeyedStream::process`], declaring its state from a
/// [`StateContext`]; then every record arrives in [`process_element`](Self::process_element)
/// with a [`Context`] holding its key, and every timer in [`on_timer`](Self::on_timer).
pub trait KeyedProcessFunction<K, I, O>: Send + 'static {
    /// Processes one record; emit with [`Context::collect`].
    ///
    /// # Errors
    /// Any error fails the job, named after this operator.
    fn process_element(&mut self, value: I, ctx: &mut Context<'_, K, O>) -> Result<(), BoxError>;

    /// A timer set for the context's key fired at `timestamp`.
    ///
    /// # Errors
    /// Any error fails the job, named after this operator.
    fn on_timer(
        &mut self,
        _timestamp: Timestamp,
        _ctx: &mut Context<'_, K, O>,
    ) -> Result<(), BoxError> {
        Ok(())
    }
}

/// Where a keyed process function declares its state, once per subtask.
pub struct StateContext<'a> {
    backend: &'a mut dyn StateBackend,
}

impl StateContext<'_> {
    /// Value state (one value per key).
    ///
    /// # Errors
    /// When the name is already taken.
    pub fn value_state<K: Key, V: Data>(
        &mut self,
        descriptor: StateDescriptor,
    ) -> Result<Box<dyn ValueState<K, V>>> {
        value_state(self.backend, descriptor)
    }

    /// List state (a list per key).
    ///
    /// # Errors
    /// When the name is already taken.
    pub fn list_state<K: Key, V: Data>(
        &mut self,
        descriptor: StateDescriptor,
    ) -> Result<Box<dyn ListState<K, V>>> {
        list_state(self.backend, descriptor)
    }

    /// Map state (a map per key).
    ///
    /// # Errors
    /// When the name is already taken.
    pub fn map_state<K: Key, UK: Key, UV: Data>(
        &mut self,
        descriptor: StateDescriptor,
    ) -> Result<Box<dyn MapState<K, UK, UV>>> {
        map_state(self.backend, descriptor)
    }

    /// Reducing state (a value per key, folded with `reduce`).
    ///
    /// # Errors
    /// When the name is already taken.
    pub fn reducing_state<K: Key, V: Data>(
        &mut self,
        descriptor: StateDescriptor,
        reduce: impl Fn(V, V) -> V + Send + Sync + 'static,
    ) -> Result<Box<dyn ReducingState<K, V>>> {
        reducing_state(self.backend, descriptor, reduce)
    }

    /// Aggregating state (an accumulator per key, fed by `function`).
    ///
    /// # Errors
    /// When the name is already taken.
    pub fn aggregating_state<K: Key, T: 'static, F: AggregateFunction<T>>(
        &mut self,
        descriptor: StateDescriptor,
        function: F,
    ) -> Result<Box<dyn AggregatingState<K, T, F::Out>>> {
        aggregating_state(self.backend, descriptor, function)
    }
}

/// Which clock a timer followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeDomain {
    /// Event time: fired when the watermark reached it.
    EventTime,
    /// Processing time: fired when the clock reached it.
    ProcessingTime,
}

/// What a keyed process function sees of the record (or timer) at hand.
pub struct Context<'a, K, O> {
    key: &'a K,
    timestamp: Option<Timestamp>,
    domain: Option<TimeDomain>,
    out: &'a mut dyn Output<Tagged<O, SideRecord>>,
    timers: &'a mut Timers<K>,
    watermark: Timestamp,
    clock: &'a dyn Clock,
    error: Option<Error>,
}

impl<K: Key, O> Context<'_, K, O> {
    /// The key of the record (or timer).
    pub fn key(&self) -> &K {
        self.key
    }

    /// The record's event timestamp; in `on_timer`, the timer's timestamp.
    pub fn timestamp(&self) -> Option<Timestamp> {
        self.timestamp
    }

    /// In `on_timer`: which clock fired the timer.
    pub fn time_domain(&self) -> Option<TimeDomain> {
        self.domain
    }

    /// Emits `value`, with the record's (or timer's) timestamp.
    pub fn collect(&mut self, value: O) {
        self.emit(Tagged::Main(value));
    }

    /// Emits `value` to the side output named by `tag` (see [`crate::side_output`]).
    pub fn output<S: Data>(&mut self, tag: &OutputTag<S>, value: S) {
        match tag.encode(&value) {
            Ok(record) => self.emit(Tagged::Side(record)),
            Err(e) => self.error = self.error.take().or(Some(e)),
        }
    }

    fn emit(&mut self, value: Tagged<O, SideRecord>) {
        if self.error.is_none() {
            if let Err(e) = self.out.collect(Record {
                value,
                timestamp: self.timestamp,
            }) {
                self.error = Some(e);
            }
        }
    }

    /// The operator's current event time.
    pub fn current_watermark(&self) -> Timestamp {
        self.watermark
    }

    /// The current processing time.
    pub fn current_processing_time(&self) -> Timestamp {
        self.clock.now_millis()
    }

    /// Sets an event-time timer for this key (once per key and timestamp).
    pub fn register_event_time_timer(&mut self, timestamp: Timestamp) {
        self.timers.event.register(self.key, timestamp);
    }

    /// Sets a processing-time timer for this key (once per key and timestamp).
    pub fn register_processing_time_timer(&mut self, timestamp: Timestamp) {
        self.timers.processing.register(self.key, timestamp);
    }

    /// Removes this key's event-time timer at `timestamp`.
    pub fn delete_event_time_timer(&mut self, timestamp: Timestamp) {
        self.timers.event.delete(self.key, timestamp);
    }

    /// Removes this key's processing-time timer at `timestamp`.
    pub fn delete_processing_time_timer(&mut self, timestamp: Timestamp) {
        self.timers.processing.delete(self.key, timestamp);
    }
}

/// The two timer queues of a keyed operator.
pub(crate) struct Timers<K> {
    event: TimerQueue<K>,
    processing: TimerQueue<K>,
}

/// Builds a subtask's function, declaring its state.
pub(crate) type FunctionBuilder<F> =
    Arc<dyn Fn(&mut StateContext<'_>) -> Result<F, BoxError> + Send + Sync>;

/// Names of the operator's own checkpointed state (the function's is in the backend).
const EVENT_TIMERS: &str = "event-time timers";
const PROCESSING_TIMERS: &str = "processing-time timers";
const WATERMARK: &str = "process watermark";

/// The operator running a [`KeyedProcessFunction`].
pub(crate) struct KeyedProcessOperator<K, I, O, F> {
    key: KeyFn<I, K>,
    build: FunctionBuilder<F>,
    function: Option<F>,
    timers: Timers<K>,
    watermark: Timestamp,
    clock: Option<Arc<dyn Clock>>,
    name: String,
    clock_check: ClockCheck,
    _output: std::marker::PhantomData<fn() -> O>,
}

impl<K: Key, I, O, F> KeyedProcessOperator<K, I, O, F> {
    pub(crate) fn new(key: KeyFn<I, K>, build: FunctionBuilder<F>) -> Self {
        KeyedProcessOperator {
            key,
            build,
            function: None,
            timers: Timers {
                event: TimerQueue::new(),
                processing: TimerQueue::new(),
            },
            watermark: Timestamp::MIN,
            clock: None,
            name: String::new(),
            clock_check: ClockCheck::default(),
            _output: std::marker::PhantomData,
        }
    }
}

impl<K: Key, I: Data, O: Data, F: KeyedProcessFunction<K, I, O>> KeyedProcessOperator<K, I, O, F> {
    /// Calls the function with a context for `key`; its error or a failed emit fails the job.
    fn call(
        &mut self,
        key: &K,
        timestamp: Option<Timestamp>,
        domain: Option<TimeDomain>,
        out: &mut dyn Output<Tagged<O, SideRecord>>,
        f: impl FnOnce(&mut F, &mut Context<'_, K, O>) -> Result<(), BoxError>,
    ) -> Result<()> {
        let (Some(function), Some(clock)) = (self.function.as_mut(), self.clock.as_deref()) else {
            return Err(Error::Internal("process function used before open".into()));
        };
        let mut ctx = Context {
            key,
            timestamp,
            domain,
            out,
            timers: &mut self.timers,
            watermark: self.watermark,
            clock,
            error: None,
        };
        let result = f(function, &mut ctx);
        if let Some(error) = ctx.error {
            return Err(error);
        }
        result.map_err(|e| Error::user(&self.name, e.to_string()))
    }

    fn fire_processing_timers(
        &mut self,
        out: &mut dyn Output<Tagged<O, SideRecord>>,
    ) -> Result<()> {
        let Some(now) = self.clock.as_ref().map(|c| c.now_millis()) else {
            return Ok(());
        };
        while let Some((timestamp, key)) = self.timers.processing.pop_due(now) {
            let domain = Some(TimeDomain::ProcessingTime);
            self.call(&key, Some(timestamp), domain, out, |f, ctx| {
                f.on_timer(timestamp, ctx)
            })?;
        }
        Ok(())
    }
}

impl<K: Key, I: Data, O: Data, F: KeyedProcessFunction<K, I, O>> Operator<I, Tagged<O, SideRecord>>
    for KeyedProcessOperator<K, I, O, F>
{
    fn open(&mut self, ctx: &mut OperatorContext<'_>) -> Result<()> {
        self.name = ctx.name.to_string();
        self.clock = Some(ctx.clock.clone());
        // Timers are state too: restore them before the function sees any record.
        let restored = ctx.restored();
        for (key, timestamp) in restored.keyed_entries::<K, Timestamp>(EVENT_TIMERS)? {
            self.timers.event.register(&key, timestamp);
        }
        for (key, timestamp) in restored.keyed_entries::<K, Timestamp>(PROCESSING_TIMERS)? {
            self.timers.processing.register(&key, timestamp);
        }
        if let Some(watermark) = ctx.restored_own::<Timestamp>(WATERMARK)? {
            self.watermark = watermark;
        }
        let mut states = StateContext { backend: ctx.state };
        let function =
            (self.build)(&mut states).map_err(|e| Error::user(&self.name, e.to_string()))?;
        self.function = Some(function);
        Ok(())
    }

    fn snapshot_state(
        &mut self,
        _: &eddy_runtime::CheckpointBarrier,
        writer: &mut eddy_runtime::checkpoint::SnapshotWriter,
    ) -> Result<()> {
        let event = self.timers.event.entries();
        writer.keyed_entries(EVENT_TIMERS, event.iter().map(|(k, t)| (*k, t)))?;
        let processing = self.timers.processing.entries();
        writer.keyed_entries(PROCESSING_TIMERS, processing.iter().map(|(k, t)| (*k, t)))?;
        writer.operator_state(WATERMARK, &self.watermark)
    }

    fn process_record(
        &mut self,
        record: Record<I>,
        out: &mut dyn Output<Tagged<O, SideRecord>>,
    ) -> Result<()> {
        let key = (self.key)(&record.value).into_owned();
        let timestamp = record.timestamp;
        self.call(&key, timestamp, None, out, |f, ctx| {
            f.process_element(record.value, ctx)
        })?;
        if self.clock_check.tick() {
            self.fire_processing_timers(out)?;
        }
        Ok(())
    }

    fn process_watermark(
        &mut self,
        watermark: Watermark,
        out: &mut dyn Output<Tagged<O, SideRecord>>,
    ) -> Result<()> {
        self.watermark = self.watermark.max(watermark.0);
        // Timers set while firing, at or before the watermark, fire in this same pass.
        while let Some((timestamp, key)) = self.timers.event.pop_due(self.watermark) {
            let domain = Some(TimeDomain::EventTime);
            self.call(&key, Some(timestamp), domain, out, |f, ctx| {
                f.on_timer(timestamp, ctx)
            })?;
        }
        out.emit_watermark(watermark)
    }

    fn flush(&mut self, out: &mut dyn Output<Tagged<O, SideRecord>>) -> Result<()> {
        self.fire_processing_timers(out)
    }
}

#[cfg(test)]
mod tests {
    //! The operator driven by hand with a manual clock: timers of both domains, deletion,
    //! deduplication, and state per key.
    use super::*;
    use eddy_runtime::partition::KeyGroupRange;
    use eddy_runtime::state::HeapStateBackend;
    use eddy_runtime::state::KeyRef;
    use eddy_runtime::time::ManualClock;
    use eddy_runtime::RuntimeMode;

    /// On "set N" registers an event timer at N and a processing timer at N; on "del N" deletes
    /// both; counts records per key in state; on a timer, emits what fired.
    struct Probe {
        seen: Box<dyn ValueState<String, u32>>,
    }

    impl KeyedProcessFunction<String, (String, String), String> for Probe {
        fn process_element(
            &mut self,
            v: (String, String),
            ctx: &mut Context<'_, String, String>,
        ) -> Result<(), BoxError> {
            self.seen.upsert(ctx.key(), &mut |n| n.unwrap_or(0) + 1)?;
            let (verb, n) = v.1.split_once(' ').ok_or("bad command")?;
            let n: i64 = n.parse()?;
            match verb {
                "set" => {
                    ctx.register_event_time_timer(n);
                    ctx.register_processing_time_timer(n);
                }
                "del" => {
                    ctx.delete_event_time_timer(n);
                    ctx.delete_processing_time_timer(n);
                }
                _ => return Err(format!("unknown verb {verb}").into()),
            }
            Ok(())
        }

        fn on_timer(
            &mut self,
            ts: i64,
            ctx: &mut Context<'_, String, String>,
        ) -> Result<(), BoxError> {
            let key = ctx.key().clone();
            let seen = self.seen.get(&key)?.unwrap_or(0);
            ctx.collect(format!(
                "{:?} {key}@{ts} after {seen}",
                ctx.time_domain().unwrap()
            ));
            Ok(())
        }
    }

    fn operator(
        clock: &ManualClock,
    ) -> (
        KeyedProcessOperator<String, (String, String), String, Probe>,
        HeapStateBackend,
    ) {
        fn key(v: &(String, String)) -> KeyRef<'_, String> {
            KeyRef::Borrowed(&v.0)
        }
        let build: FunctionBuilder<Probe> = Arc::new(|states: &mut StateContext<'_>| {
            Ok(Probe {
                seen: states.value_state(StateDescriptor::new("seen"))?,
            })
        });
        let op = KeyedProcessOperator::new(Arc::new(key), build);
        (op, HeapStateBackend::new(Arc::new(clock.clone())))
    }

    fn open(
        op: &mut KeyedProcessOperator<String, (String, String), String, Probe>,
        backend: &mut HeapStateBackend,
        clock: &ManualClock,
    ) {
        let clock: Arc<dyn Clock> = Arc::new(clock.clone());
        let mut ctx = OperatorContext {
            name: "probe",
            subtask: 0,
            parallelism: 1,
            max_parallelism: 128,
            key_groups: KeyGroupRange { start: 0, end: 127 },
            mode: RuntimeMode::Streaming,
            state: backend,
            clock: &clock,
        };
        op.open(&mut ctx).unwrap();
    }

    fn send(
        op: &mut KeyedProcessOperator<String, (String, String), String, Probe>,
        out: &mut Emitted,
        key: &str,
        cmd: &str,
    ) {
        op.process_record(
            Record::with_timestamp((key.to_string(), cmd.to_string()), 0),
            out,
        )
        .unwrap();
    }

    type Emitted = Vec<Record<Tagged<String, SideRecord>>>;

    fn values(out: &mut Emitted) -> Vec<String> {
        out.drain(..)
            .filter_map(|r| match r.value {
                Tagged::Main(v) => Some(v),
                Tagged::Side(_) => None,
            })
            .collect()
    }

    #[test]
    fn event_time_timers_fire_once_per_key_and_timestamp_in_order() {
        let clock = ManualClock::new(1_000_000);
        let (mut op, mut backend) = operator(&clock);
        open(&mut op, &mut backend, &clock);
        let mut out = Vec::new();
        send(&mut op, &mut out, "a", "set 20");
        send(&mut op, &mut out, "b", "set 10");
        send(&mut op, &mut out, "a", "set 20");
        send(&mut op, &mut out, "a", "set 30");
        send(&mut op, &mut out, "b", "set 30");
        send(&mut op, &mut out, "b", "del 30");
        op.process_watermark(Watermark(25), &mut out).unwrap();
        assert_eq!(
            values(&mut out),
            ["EventTime b@10 after 3", "EventTime a@20 after 3"]
        );
        op.process_watermark(Watermark(i64::MAX), &mut out).unwrap();
        assert_eq!(values(&mut out), ["EventTime a@30 after 3"]);
    }

    #[test]
    fn processing_time_timers_follow_the_clock() {
        let clock = ManualClock::new(0);
        let (mut op, mut backend) = operator(&clock);
        open(&mut op, &mut backend, &clock);
        let mut out = Vec::new();
        send(&mut op, &mut out, "a", "set 100");
        send(&mut op, &mut out, "b", "set 50");
        op.flush(&mut out).unwrap();
        assert!(values(&mut out).is_empty(), "nothing is due at time 0");
        clock.set(60);
        op.flush(&mut out).unwrap();
        assert_eq!(values(&mut out), ["ProcessingTime b@50 after 1"]);
        send(&mut op, &mut out, "a", "del 100");
        clock.set(1000);
        op.flush(&mut out).unwrap();
        assert!(values(&mut out).is_empty(), "a's timer was deleted");
        // Event time has not moved: the event-time timers of a and b are still pending.
        op.process_watermark(Watermark(200), &mut out).unwrap();
        assert_eq!(values(&mut out), ["EventTime b@50 after 1"]);
    }

    #[test]
    fn a_function_error_fails_with_the_operator_name() {
        let clock = ManualClock::new(0);
        let (mut op, mut backend) = operator(&clock);
        open(&mut op, &mut backend, &clock);
        let mut out = Vec::new();
        let err = op
            .process_record(
                Record::with_timestamp(("a".into(), "jump 3".into()), 0),
                &mut out,
            )
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("probe") && err.contains("unknown verb jump"),
            "{err}"
        );
    }
}
