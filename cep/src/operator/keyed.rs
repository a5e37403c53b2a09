//! The keyed CEP operator: per-key NFA runs and event buffers in keyed value state, a queue
//! of keys by due time, and the pattern versions in effect (one for a fixed pattern).

use std::marker::PhantomData;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use eddy_runtime::state::{value_state, StateDescriptor, ValueState};
use eddy_runtime::time::Clock;
use eddy_runtime::{
    Data, Error, Key, Operator, OperatorContext, Output, Record, Timestamp, Watermark,
};

use super::dynamic::OnReplace;
use super::CepEvent;
use crate::due::DueQueue;
use crate::event_time::EventTimeBuffer;
use crate::nfa::{Match, Nfa, NfaState, Output as NfaOutput};

/// Names of the operator's checkpointed state besides the per-key state.
const QUEUE: &str = "cep due keys";
const WATERMARK: &str = "cep watermark";

/// A pattern version: in effect for events from `from` on, until a newer version's `from`.
pub(crate) struct Version<T> {
    pub(crate) from: Timestamp,
    pub(crate) nfa: Arc<Nfa<T>>,
    /// What becomes of older versions' partial matches when this one takes effect.
    pub(crate) on_replace: OnReplace,
}

/// The NFA states of one key: (index of the version, its state), at most one per version,
/// empty states removed. Almost always zero or one.
type Runs<T> = SmallVec<[(u32, Box<NfaState<T>>); 1]>;

/// The per-key state of the operator.
#[derive(Clone, Serialize, Deserialize)]
#[serde(bound(
    serialize = "T: Serialize",
    deserialize = "T: serde::de::DeserializeOwned"
))]
struct KeyState<T> {
    /// Boxed states, absent while the key has no partial match: most keys' states stay
    /// small, which keeps the table of all keys in cache.
    runs: Runs<T>,
    buffer: EventTimeBuffer<T>,
    /// When the key's live queue entry is due; older entries for the key are stale.
    scheduled: Option<Timestamp>,
}

impl<T> KeyState<T> {
    fn new() -> Self {
        KeyState {
            runs: SmallVec::new(),
            buffer: EventTimeBuffer::new(),
            scheduled: None,
        }
    }
}

fn stages<T: Clone>(m: Match<T>) -> Vec<(String, Vec<T>)> {
    m.stages
        .into_iter()
        .map(|(name, events)| (name.to_string(), events))
        .collect()
}

/// The index of the version in effect at `ts`.
fn current_at<T>(versions: &[Version<T>], ts: Timestamp) -> u32 {
    (versions.partition_point(|v| v.from <= ts).max(1) - 1) as u32
}

/// Ends the runs of versions older than `current` whose partial matches a newer version (up
/// to `current`) drops: time advances to that version's start, then they are dropped.
fn retire<T: Clone>(
    versions: &[Version<T>],
    runs: &mut Runs<T>,
    current: u32,
    out: &mut NfaOutput<T>,
) -> crate::Result<()> {
    for (v, state) in runs.iter_mut().filter(|(v, _)| *v < current) {
        let dropped_by = versions[*v as usize + 1..=current as usize]
            .iter()
            .find(|n| n.on_replace == OnReplace::Drop);
        if let Some(newer) = dropped_by {
            versions[*v as usize]
                .nfa
                .abandon_into(state, newer.from, out)?;
        }
    }
    Ok(())
}

/// Feeds the key's events released by `upto` to its runs (each event to the version in
/// effect at its time, older versions only continuing), then advances every run to `upto`.
fn advance_key<T: Clone>(
    versions: &[Version<T>],
    st: &mut KeyState<T>,
    scratch: &mut Scratch<T>,
    upto: Timestamp,
    out: &mut NfaOutput<T>,
) -> crate::Result<()> {
    let Scratch { released, spare } = scratch;
    released.clear();
    st.buffer.release_into(upto, released);
    if released.is_empty() && st.runs.is_empty() {
        return Ok(());
    }
    for (ts, event) in released.drain(..) {
        let current = current_at(versions, ts);
        if st.runs.len() > 1 || st.runs.first().is_some_and(|(v, _)| *v != current) {
            retire(versions, &mut st.runs, current, out)?;
            for (v, state) in st.runs.iter_mut().filter(|(v, _)| *v != current) {
                versions[*v as usize]
                    .nfa
                    .continue_into(state, event.clone(), ts, out)?;
            }
        }
        let nfa = &versions[current as usize].nfa;
        match st.runs.iter().position(|(v, _)| *v == current) {
            Some(at) => nfa.process_into(&mut st.runs[at].1, event, ts, out)?,
            None => {
                // Most events begin nothing: try them on a spare empty state, which is kept
                // (and a new spare made) only when a partial match began.
                let state = spare
                    .entry(current)
                    .or_insert_with(|| Box::new(nfa.new_state()));
                nfa.process_into(state, event, ts, out)?;
                if !state.is_empty() {
                    let state = std::mem::replace(state, Box::new(nfa.new_state()));
                    st.runs.push((current, state));
                }
            }
        }
        st.runs.retain(|(_, state)| !state.is_empty());
    }
    retire(versions, &mut st.runs, current_at(versions, upto), out)?;
    for (v, state) in st.runs.iter_mut() {
        versions[*v as usize]
            .nfa
            .advance_time_into(state, upto, out)?;
    }
    st.runs.retain(|(_, state)| !state.is_empty());
    Ok(())
}

/// Scratch space reused for every key run.
struct Scratch<T> {
    released: Vec<(Timestamp, T)>,
    /// An empty NFA state per version, to try events on for keys without one.
    spare: hashbrown::HashMap<u32, Box<NfaState<T>>>,
}

/// The keyed CEP operator.
pub(crate) struct CepOperator<T, K> {
    /// Oldest first; `from` never decreases; the first starts at the beginning of time.
    pub(crate) versions: Vec<Version<T>>,
    key: Arc<dyn Fn(&T) -> K + Send + Sync>,
    processing_time: bool,
    state: Option<Box<dyn ValueState<K, KeyState<T>>>>,
    /// Keys to look at, earliest first: a key's live entry is the one its state names.
    queue: DueQueue<K>,
    watermark: Timestamp,
    clock: Option<Arc<dyn Clock>>,
    pub(crate) name: String,
    scratch: Scratch<T>,
    produced: NfaOutput<T>,
    _types: PhantomData<fn() -> T>,
}

impl<T: Data, K: Key> CepOperator<T, K> {
    /// An operator running `nfa` (version 0, from the beginning of time).
    pub(crate) fn new(
        nfa: Arc<Nfa<T>>,
        key: Arc<dyn Fn(&T) -> K + Send + Sync>,
        processing_time: bool,
    ) -> Self {
        CepOperator {
            versions: vec![Version {
                from: Timestamp::MIN,
                nfa,
                on_replace: OnReplace::Finish,
            }],
            key,
            processing_time,
            state: None,
            queue: DueQueue::default(),
            watermark: Timestamp::MIN,
            clock: None,
            name: String::new(),
            scratch: Scratch {
                released: Vec::new(),
                spare: hashbrown::HashMap::new(),
            },
            produced: NfaOutput::default(),
            _types: PhantomData,
        }
    }

    fn error(&self, e: crate::CepError) -> Error {
        Error::user(&self.name, e.to_string())
    }

    /// The earliest time a new version may take effect: just after the watermark (event
    /// time) or now (processing time), and not before the newest version's start.
    pub(crate) fn earliest_start(&self) -> Timestamp {
        let now = if self.processing_time {
            self.clock.as_ref().map_or(0, |c| c.now_millis())
        } else {
            self.watermark.saturating_add(1)
        };
        now.max(self.versions.last().map_or(Timestamp::MIN, |v| v.from))
    }

    /// Runs the key's records due by `upto` through its NFA runs, advances their time, emits
    /// what they produced, and schedules the key's next look. Runs the key if `at` (the queue
    /// entry that woke it) is still its live entry, or unconditionally when `at` is `None`
    /// (processing time).
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
        let versions = &self.versions;
        let (scratch, produced) = (&mut self.scratch, &mut self.produced);
        let mut failure = None;
        let mut next = None;
        let mut empty = false;
        state.modify(key, &mut KeyState::new, &mut |st| {
            if at.is_none() || st.scheduled == at {
                if let Err(e) = advance_key(versions, st, scratch, upto, produced) {
                    failure = Some(e);
                }
                next = st
                    .buffer
                    .next_timestamp()
                    .into_iter()
                    .chain(
                        st.runs
                            .iter()
                            .filter_map(|(v, s)| versions[*v as usize].nfa.next_deadline(s)),
                    )
                    .min();
                st.scheduled = next;
            }
            // A stale entry of a cleared key finds (and leaves) an empty state.
            empty = st.buffer.is_empty() && st.runs.is_empty();
        })?;
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
        self.queue.push(at, key);
    }

    /// Runs every key due by `upto`.
    fn run_due(
        &mut self,
        upto: Timestamp,
        out: &mut dyn Output<CepEvent<K, T>>,
    ) -> eddy_runtime::Result<()> {
        while let Some(due) = self.queue.pop_due(upto) {
            self.run_key(&due.key, Some(due.at), upto, out)?;
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
            .map(|d| (&d.key, (d.at, d.seq)))
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
        state.modify(&key, &mut KeyState::new, &mut |st| {
            if let Some(event) = event.take() {
                // Not late (checked above), so the buffer accepts it.
                let _ = st.buffer.push(event, timestamp);
            }
            if st.scheduled.is_none_or(|at| timestamp < at) {
                st.scheduled = Some(timestamp);
                reschedule = true;
            }
        })?;
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
