//! The keyed CEP operator: per-key NFA runs in keyed value state (only for keys with a partial
//! match), one queue of events waiting for the watermark and one of keys by deadline, and the
//! pattern versions in effect (one for a fixed pattern).

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
use crate::nfa::{Nfa, NfaState, Output as NfaOutput};

/// Names of the operator's checkpointed state besides the per-key state.
const QUEUE: &str = "cep due keys";
const EVENTS: &str = "cep buffered events";
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

/// The per-key state of the operator: present only while the key has a partial match.
#[derive(Clone, Serialize, Deserialize)]
#[serde(bound(
    serialize = "T: Serialize",
    deserialize = "T: serde::de::DeserializeOwned"
))]
struct KeyState<T> {
    runs: Runs<T>,
    /// When the key's live deadline entry is due; older entries for the key are stale.
    scheduled: Option<Timestamp>,
}

impl<T> KeyState<T> {
    fn new() -> Self {
        KeyState {
            runs: SmallVec::new(),
            scheduled: None,
        }
    }
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

/// Feeds one event at `ts` to the key's runs: to the version in effect at `ts`, which may
/// begin partial matches, and to older versions, which only continue theirs. `spare` holds an
/// empty state per version to try events on for keys without one.
fn feed<T: Clone>(
    versions: &[Version<T>],
    runs: &mut Runs<T>,
    spare: &mut hashbrown::HashMap<u32, Box<NfaState<T>>>,
    ts: Timestamp,
    event: T,
    out: &mut NfaOutput<T>,
) -> crate::Result<()> {
    let current = current_at(versions, ts);
    if runs.len() > 1 || runs.first().is_some_and(|(v, _)| *v != current) {
        retire(versions, runs, current, out)?;
        for (v, state) in runs.iter_mut().filter(|(v, _)| *v != current) {
            versions[*v as usize]
                .nfa
                .continue_into(state, event.clone(), ts, out)?;
        }
    }
    let nfa = &versions[current as usize].nfa;
    match runs.iter().position(|(v, _)| *v == current) {
        Some(at) => nfa.process_into(&mut runs[at].1, event, ts, out)?,
        None => {
            // Most events begin nothing: the spare is kept (and replaced) only when one did.
            let state = spare
                .entry(current)
                .or_insert_with(|| Box::new(nfa.new_state()));
            nfa.process_into(state, event, ts, out)?;
            if !state.is_empty() {
                let state = std::mem::replace(state, Box::new(nfa.new_state()));
                runs.push((current, state));
            }
        }
    }
    runs.retain(|(_, state)| !state.is_empty());
    Ok(())
}

/// Advances the key's runs to `upto` (timeouts, ends of windows, dropped versions).
fn advance<T: Clone>(
    versions: &[Version<T>],
    runs: &mut Runs<T>,
    upto: Timestamp,
    out: &mut NfaOutput<T>,
) -> crate::Result<()> {
    retire(versions, runs, current_at(versions, upto), out)?;
    for (v, state) in runs.iter_mut() {
        versions[*v as usize]
            .nfa
            .advance_time_into(state, upto, out)?;
    }
    runs.retain(|(_, state)| !state.is_empty());
    Ok(())
}

/// The keyed CEP operator.
pub(crate) struct CepOperator<T, K> {
    /// Oldest first; `from` never decreases; the first starts at the beginning of time.
    pub(crate) versions: Vec<Version<T>>,
    key: Arc<dyn Fn(&T) -> K + Send + Sync>,
    processing_time: bool,
    state: Option<Box<dyn ValueState<K, KeyState<T>>>>,
    /// Events waiting for the watermark, by (timestamp, arrival).
    events: DueQueue<(K, T)>,
    /// Keys by deadline: a key's live entry is the one its state names.
    queue: DueQueue<K>,
    watermark: Timestamp,
    clock: Option<Arc<dyn Clock>>,
    pub(crate) name: String,
    /// An empty NFA state per version (see [`feed`]).
    spare: hashbrown::HashMap<u32, Box<NfaState<T>>>,
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
            events: DueQueue::default(),
            queue: DueQueue::default(),
            watermark: Timestamp::MIN,
            clock: None,
            name: String::new(),
            spare: hashbrown::HashMap::new(),
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

    /// Runs `event` (at `ts`, or only the deadline entry `at` when there is no event) on the
    /// key's NFA runs, advancing them to `upto` for a deadline; emits what they produced and
    /// schedules the key's next deadline. A deadline entry that is no longer the key's live
    /// one is skipped.
    fn run_key(
        &mut self,
        key: &K,
        input: KeyInput<T>,
        out: &mut dyn Output<CepEvent<K, T>>,
    ) -> eddy_runtime::Result<()> {
        let Some(state) = self.state.as_mut() else {
            return Err(Error::Internal("CEP operator used before open".into()));
        };
        let (versions, spare, produced) = (&self.versions, &mut self.spare, &mut self.produced);
        let mut failure = None;
        let mut schedule = None;
        let mut empty = false;
        let mut input = Some(input);
        state.modify(key, &mut KeyState::new, &mut |st| {
            let result = match input.take() {
                Some(KeyInput::Event(ts, event)) => {
                    feed(versions, &mut st.runs, spare, ts, event, produced)
                }
                Some(KeyInput::Deadline { at, upto }) if st.scheduled == Some(at) => {
                    st.scheduled = None;
                    advance(versions, &mut st.runs, upto, produced)
                }
                _ => Ok(()),
            };
            if let Err(e) = result {
                failure = Some(e);
            }
            let next = st
                .runs
                .iter()
                .filter_map(|(v, s)| versions[*v as usize].nfa.next_deadline(s))
                .min();
            if next.is_some() && next != st.scheduled {
                st.scheduled = next;
                schedule = next;
            }
            empty = st.runs.is_empty();
        })?;
        if let Some(e) = failure {
            return Err(self.error(e));
        }
        if empty {
            state.clear(key)?;
        } else if let Some(at) = schedule {
            self.queue.push(at, key.clone());
        }
        for m in self.produced.matches.drain(..) {
            out.collect(Record::new(CepEvent::Matched(key.clone(), m)))?;
        }
        for t in self.produced.timeouts.drain(..) {
            out.collect(Record::new(CepEvent::TimedOut(
                key.clone(),
                t.timeout_ts,
                t.partial,
            )))?;
        }
        Ok(())
    }

    /// Feeds every event due by `upto` (in timestamp order, ties in arrival order), then
    /// advances every key whose deadline is due by `upto`.
    fn run_due(
        &mut self,
        upto: Timestamp,
        out: &mut dyn Output<CepEvent<K, T>>,
    ) -> eddy_runtime::Result<()> {
        while let Some(due) = self.events.pop_due(upto) {
            let (key, event) = due.key;
            self.run_key(&key, KeyInput::Event(due.at, event), out)?;
        }
        while let Some(due) = self.queue.pop_due(upto) {
            self.run_key(&due.key, KeyInput::Deadline { at: due.at, upto }, out)?;
        }
        Ok(())
    }
}

/// What wakes a key.
enum KeyInput<T> {
    /// An event at its timestamp.
    Event(Timestamp, T),
    /// The deadline entry `at`, with time now at `upto`.
    Deadline { at: Timestamp, upto: Timestamp },
}

impl<T: Data, K: Key> Operator<T, CepEvent<K, T>> for CepOperator<T, K> {
    fn open(&mut self, ctx: &mut OperatorContext<'_>) -> eddy_runtime::Result<()> {
        self.name = ctx.name.to_string();
        self.clock = Some(ctx.clock.clone());
        self.state = Some(value_state(ctx.state, StateDescriptor::new("cep"))?);
        // Partial matches are in the keyed state above; the events waiting for the
        // watermark, the keys' deadlines and the watermark itself are restored here.
        let mut events: Vec<(K, (Timestamp, u64, T))> = ctx.restored().keyed_entries(EVENTS)?;
        events.sort_by_key(|(_, (at, seq, _))| (*at, *seq));
        for (key, (at, _, event)) in events {
            self.events.push(at, (key, event));
        }
        let mut due: Vec<(K, (Timestamp, u64))> = ctx.restored().keyed_entries(QUEUE)?;
        due.sort_by_key(|(_, order)| *order);
        for (key, (at, _)) in due {
            self.queue.push(at, key);
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
        let events: Vec<(&K, (Timestamp, u64, &T))> = self
            .events
            .iter()
            .map(|d| (&d.key.0, (d.at, d.seq, &d.key.1)))
            .collect();
        writer.keyed_entries(EVENTS, events.iter().map(|(k, entry)| (*k, entry)))?;
        let due: Vec<(&K, (Timestamp, u64))> =
            self.queue.iter().map(|d| (&d.key, (d.at, d.seq))).collect();
        writer.keyed_entries(QUEUE, due.iter().map(|(k, order)| (*k, order)))?;
        writer.operator_state(WATERMARK, &self.watermark)
    }

    fn process_record(
        &mut self,
        record: Record<T>,
        out: &mut dyn Output<CepEvent<K, T>>,
    ) -> eddy_runtime::Result<()> {
        let key = (self.key)(&record.value);
        if self.processing_time {
            let now = self.clock.as_ref().map_or(0, |c| c.now_millis());
            return self.run_key(&key, KeyInput::Event(now, record.value), out);
        }
        let Some(timestamp) = record.timestamp else {
            return Err(Error::user(
                &self.name,
                "record without a timestamp: assign timestamps and watermarks before an event-time pattern",
            ));
        };
        if timestamp <= self.watermark {
            return out.collect(Record::with_timestamp(
                CepEvent::Late(record.value),
                timestamp,
            ));
        }
        self.events.push(timestamp, (key, record.value));
        Ok(())
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
