//! CEP on a keyed stream: [`pattern`] runs a compiled pattern per key and emits its matches
//! (and, on request, its timed-out partial matches and late events).
//!
//! ## Algorithm
//! Per key, an [`NfaState`] and an [`EventTimeBuffer`] live together in keyed value state
//! (so a checkpoint will hold them). In event time a record waits in the buffer until the
//! watermark passes it; then the key's records are fed to the NFA in timestamp order (equal
//! timestamps in arrival order), and time is advanced to the watermark, which prunes and times
//! out partial matches. A key is looked at again only when something is due for it: its
//! earliest buffered record or the NFA's next deadline, kept in one timer queue. Records at or
//! before the watermark on arrival are late. In processing time records are fed at once,
//! stamped with the clock.
//!
//! ## Memory
//! Per key: the buffered records and the shared buffer of partial matches, which `within`
//! bounds.
//!
//! ```
//! use eddy_cep::{operator::pattern, Pattern};
//! use eddy_datastream::WatermarkStrategy;
//!
//! let detected = eddy_datastream::example(|env| {
//!     let events = env
//!         .from_collection(vec![('k', 'a', 1), ('k', 'x', 2), ('k', 'b', 3)])
//!         .assign_timestamps_and_watermarks(
//!             WatermarkStrategy::for_monotonous_timestamps().with_timestamp_assigner(|e: &(char, char, i64)| e.2),
//!         )
//!         .key_by(|e: &(char, char, i64)| e.0);
//!     let nfa = Pattern::begin("a").when(|e: &(char, char, i64)| e.1 == 'a')
//!         .followed_by("b").when(|e: &(char, char, i64)| e.1 == 'b')
//!         .compile()
//!         .unwrap();
//!     pattern(&events, nfa).select(|key, m| {
//!         format!("{key}: {} then {}", m.get("a").unwrap()[0].2, m.get("b").unwrap()[0].2)
//!     })
//! });
//! assert_eq!(detected, ["k: 1 then 3"]);
//! ```

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::marker::PhantomData;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use eddy_datastream::{DataStream, KeyedStream};
use eddy_runtime::state::{value_state, StateDescriptor, ValueState};
use eddy_runtime::time::Clock;
use eddy_runtime::{
    Data, Error, Key, Operator, OperatorContext, Output, Record, Timestamp, Watermark,
};

use crate::event_time::EventTimeBuffer;
use crate::nfa::{Match, Nfa, NfaState, Output as NfaOutput};

/// What the CEP operator emits, before it is split into streams.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum CepEvent<K, T> {
    /// A complete match of the key.
    Matched(K, Vec<(String, Vec<T>)>),
    /// A partial match that expired at `timeout_ts`.
    TimedOut(K, Timestamp, Vec<(String, Vec<T>)>),
    /// A record that arrived at or before the watermark.
    Late(T),
}

/// Names of the operator's checkpointed state besides the per-key NFA state.
const QUEUE: &str = "cep due keys";
const WATERMARK: &str = "cep watermark";

/// The per-key state of the operator.
#[derive(Clone, Serialize, Deserialize)]
#[serde(bound(
    serialize = "T: Serialize",
    deserialize = "T: serde::de::DeserializeOwned"
))]
struct KeyState<T> {
    /// Boxed, and absent while the key has no partial match: most keys' states stay small,
    /// which keeps the table of all keys in cache.
    nfa: Option<Box<NfaState<T>>>,
    buffer: EventTimeBuffer<T>,
    /// When the key's live queue entry is due; older entries for the key are stale.
    scheduled: Option<Timestamp>,
}

/// A key due at `at`; ordered by time, then by when it was queued (keys need no order).
struct Due<K> {
    at: Timestamp,
    seq: u64,
    key: K,
}

impl<K> PartialEq for Due<K> {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
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
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// A pattern applied to a keyed stream; [`select`](Self::select) says what a match emits.
pub struct PatternStream<T, K> {
    events: DataStream<CepEvent<K, T>>,
}

/// Runs `nfa` per key of `input`, in event time (records must carry timestamps).
pub fn pattern<T: Data + Sync, K: Key>(
    input: &KeyedStream<T, K>,
    nfa: Nfa<T>,
) -> PatternStream<T, K> {
    build(input, nfa, false)
}

/// Runs `nfa` per key of `input` in processing time: records in arrival order, stamped with
/// the clock.
pub fn pattern_in_processing_time<T: Data + Sync, K: Key>(
    input: &KeyedStream<T, K>,
    nfa: Nfa<T>,
) -> PatternStream<T, K> {
    build(input, nfa, true)
}

fn build<T: Data + Sync, K: Key>(
    input: &KeyedStream<T, K>,
    nfa: Nfa<T>,
    processing_time: bool,
) -> PatternStream<T, K> {
    let nfa = Arc::new(nfa);
    let key = input.key_selector();
    let events = input.partitioned().transform("cep", move || {
        Box::new(CepOperator {
            nfa: nfa.clone(),
            key: key.clone(),
            processing_time,
            state: None,
            queue: BinaryHeap::new(),
            queued: 0,
            watermark: Timestamp::MIN,
            clock: None,
            name: String::new(),
            released: Vec::new(),
            produced: NfaOutput::default(),
            _types: PhantomData,
        })
    });
    PatternStream { events }
}

fn stages<T: Clone>(m: Match<T>) -> Vec<(String, Vec<T>)> {
    m.stages
        .into_iter()
        .map(|(name, events)| (name.to_string(), events))
        .collect()
}

impl<T: Data, K: Key> PatternStream<T, K> {
    fn as_match(stages: Vec<(String, Vec<T>)>) -> Match<T> {
        Match {
            stages: stages
                .into_iter()
                .map(|(n, e)| (Arc::from(n.as_str()), e))
                .collect(),
        }
    }

    /// Emits `f(key, match)` for every match.
    pub fn select<O: Data>(
        &self,
        f: impl Fn(&K, Match<T>) -> O + Send + Sync + Clone + 'static,
    ) -> DataStream<O> {
        self.events.flat_map(move |e: CepEvent<K, T>| match e {
            CepEvent::Matched(key, stages) => Some(f(&key, Self::as_match(stages))),
            _ => None,
        })
    }

    /// Emits `f(key, timeout_ts, partial match)` for every partial match that timed out.
    pub fn timeouts<O: Data>(
        &self,
        f: impl Fn(&K, Timestamp, Match<T>) -> O + Send + Sync + Clone + 'static,
    ) -> DataStream<O> {
        self.events.flat_map(move |e: CepEvent<K, T>| match e {
            CepEvent::TimedOut(key, ts, stages) => Some(f(&key, ts, Self::as_match(stages))),
            _ => None,
        })
    }

    /// The records that arrived too late (at or before the watermark) to be matched.
    pub fn late_data(&self) -> DataStream<T> {
        self.events.flat_map(|e: CepEvent<K, T>| match e {
            CepEvent::Late(t) => Some(t),
            _ => None,
        })
    }

    /// Everything the pattern emits, tagged.
    pub fn events(&self) -> DataStream<CepEvent<K, T>> {
        self.events.clone()
    }
}

/// The keyed CEP operator.
struct CepOperator<T, K> {
    nfa: Arc<Nfa<T>>,
    key: Arc<dyn Fn(&T) -> K + Send + Sync>,
    processing_time: bool,
    state: Option<Box<dyn ValueState<K, KeyState<T>>>>,
    /// Keys to look at, earliest first: a key's live entry is the one its state names.
    queue: BinaryHeap<Reverse<Due<K>>>,
    queued: u64,
    watermark: Timestamp,
    clock: Option<Arc<dyn Clock>>,
    name: String,
    /// Scratch space reused for every key run.
    released: Vec<(Timestamp, T)>,
    produced: NfaOutput<T>,
    _types: PhantomData<fn() -> T>,
}

impl<T: Data, K: Key> CepOperator<T, K> {
    fn error(&self, e: crate::CepError) -> Error {
        Error::user(&self.name, e.to_string())
    }

    /// Feeds the key's records due by `upto` to the NFA, advances its time, emits what it
    /// produced, and schedules the key's next look.
    /// Runs the key if `at` (the queue entry that woke it) is still its live entry, or
    /// unconditionally when `at` is `None` (processing time).
    fn run_key(
        &mut self,
        key: &K,
        at: Option<Timestamp>,
        upto: Timestamp,
        out: &mut dyn Output<CepEvent<K, T>>,
    ) -> eddy_runtime::Result<()> {
        let Some(state) = self.state.as_mut() else {
            return Err(Error::Internal("CEP operator used before open".into()));
        };
        let nfa = &*self.nfa;
        let (released, produced) = (&mut self.released, &mut self.produced);
        let mut failure = None;
        let mut next = None;
        let mut empty = false;
        state.modify(
            key,
            &mut || KeyState {
                nfa: None,
                buffer: EventTimeBuffer::new(),
                scheduled: None,
            },
            &mut |st| {
                let live = at.is_none() || st.scheduled == at;
                if live {
                    released.clear();
                    st.buffer.release_into(upto, released);
                    if !released.is_empty() || st.nfa.is_some() {
                        let state = st.nfa.get_or_insert_with(|| Box::new(nfa.new_state()));
                        for (ts, event) in released.drain(..) {
                            if let Err(e) = nfa.process_into(state, event, ts, produced) {
                                failure = Some(e);
                            }
                        }
                        if let Err(e) = nfa.advance_time_into(state, upto, produced) {
                            failure = Some(e);
                        }
                        if state.is_empty() {
                            st.nfa = None;
                        }
                    }
                    next = st
                        .buffer
                        .next_timestamp()
                        .into_iter()
                        .chain(st.nfa.as_deref().and_then(|state| nfa.next_deadline(state)))
                        .min();
                    st.scheduled = next;
                }
                // A stale entry of a cleared key finds (and leaves) an empty state.
                empty = st.buffer.is_empty() && st.nfa.is_none();
            },
        )?;
        if let Some(e) = failure {
            return Err(self.error(e));
        }
        if empty {
            state.clear(key)?;
        } else if let Some(next) = next {
            self.enqueue(next, key.clone());
        }
        for m in self.produced.matches.drain(..) {
            out.collect(Record::new(CepEvent::Matched(key.clone(), stages(m))))?;
        }
        for t in self.produced.timeouts.drain(..) {
            out.collect(Record::new(CepEvent::TimedOut(
                key.clone(),
                t.timeout_ts,
                stages(t.partial),
            )))?;
        }
        Ok(())
    }

    fn enqueue(&mut self, at: Timestamp, key: K) {
        self.queued += 1;
        self.queue.push(Reverse(Due {
            at,
            seq: self.queued,
            key,
        }));
    }

    /// Runs every key due by `upto`.
    fn run_due(
        &mut self,
        upto: Timestamp,
        out: &mut dyn Output<CepEvent<K, T>>,
    ) -> eddy_runtime::Result<()> {
        while self.queue.peek().is_some_and(|Reverse(due)| due.at <= upto) {
            if let Some(Reverse(due)) = self.queue.pop() {
                self.run_key(&due.key, Some(due.at), upto, out)?;
            }
        }
        Ok(())
    }
}

impl<T: Data, K: Key> Operator<T, CepEvent<K, T>> for CepOperator<T, K> {
    fn open(&mut self, ctx: &mut OperatorContext<'_>) -> eddy_runtime::Result<()> {
        self.name = ctx.name.to_string();
        self.clock = Some(ctx.clock.clone());
        self.state = Some(value_state(ctx.state, StateDescriptor::new("cep"))?);
        // Partial matches and buffered events are in the keyed state above; the queue of keys
        // waiting for the watermark, and the watermark itself, are restored here.
        let mut due: Vec<(K, (Timestamp, u64))> = ctx.restored().keyed_entries(QUEUE)?;
        due.sort_by_key(|(_, order)| *order);
        for (key, (at, _)) in due {
            self.enqueue(at, key);
        }
        if let Some(watermark) = ctx.restored_own::<Timestamp>(WATERMARK)? {
            self.watermark = watermark;
        }
        Ok(())
    }

    fn snapshot_state(
        &mut self,
        _: &eddy_runtime::CheckpointBarrier,
        writer: &mut eddy_runtime::checkpoint::SnapshotWriter,
    ) -> eddy_runtime::Result<()> {
        let due: Vec<(&K, (Timestamp, u64))> = self
            .queue
            .iter()
            .map(|Reverse(d)| (&d.key, (d.at, d.seq)))
            .collect();
        writer.keyed_entries(QUEUE, due.iter().map(|(k, order)| (*k, order)))?;
        writer.operator_state(WATERMARK, &self.watermark)
    }

    fn process_record(
        &mut self,
        record: Record<T>,
        out: &mut dyn Output<CepEvent<K, T>>,
    ) -> eddy_runtime::Result<()> {
        let key = (self.key)(&record.value);
        let timestamp = if self.processing_time {
            self.clock.as_ref().map_or(0, |c| c.now_millis())
        } else {
            match record.timestamp {
                Some(ts) => ts,
                None => {
                    return Err(Error::user(
                        &self.name,
                        "record without a timestamp: assign timestamps and watermarks before an event-time pattern",
                    ))
                }
            }
        };
        if !self.processing_time && timestamp <= self.watermark {
            return out.collect(Record::with_timestamp(
                CepEvent::Late(record.value),
                timestamp,
            ));
        }
        let Some(state) = self.state.as_mut() else {
            return Err(Error::Internal("CEP operator used before open".into()));
        };
        let mut event = Some(record.value);
        let mut reschedule = false;
        state.modify(
            &key,
            &mut || KeyState {
                nfa: None,
                buffer: EventTimeBuffer::new(),
                scheduled: None,
            },
            &mut |st| {
                if let Some(event) = event.take() {
                    // Not late (checked above), so the buffer accepts it.
                    let _ = st.buffer.push(event, timestamp);
                }
                if st.scheduled.is_none_or(|at| timestamp < at) {
                    st.scheduled = Some(timestamp);
                    reschedule = true;
                }
            },
        )?;
        if self.processing_time {
            self.run_key(&key, None, timestamp, out)
        } else {
            if reschedule {
                self.enqueue(timestamp, key);
            }
            Ok(())
        }
    }

    fn process_watermark(
        &mut self,
        watermark: Watermark,
        out: &mut dyn Output<CepEvent<K, T>>,
    ) -> eddy_runtime::Result<()> {
        if !self.processing_time {
            self.watermark = self.watermark.max(watermark.0);
            self.run_due(self.watermark, out)?;
        }
        out.emit_watermark(watermark)
    }

    fn flush(&mut self, out: &mut dyn Output<CepEvent<K, T>>) -> eddy_runtime::Result<()> {
        if self.processing_time {
            let now = self.clock.as_ref().map_or(0, |c| c.now_millis());
            self.run_due(now, out)?;
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut dyn Output<CepEvent<K, T>>) -> eddy_runtime::Result<()> {
        if self.processing_time {
            self.run_due(Timestamp::MAX, out)?;
        }
        Ok(())
    }
}
