//! CEP on a keyed stream: [`pattern`] runs a compiled pattern per key and emits its matches
//! (and, on request, its timed-out partial matches and late events); [`dynamic_pattern`] runs
//! a JSON pattern that a control stream replaces while the job runs.
//!
//! ## Algorithm
//! In event time a record waits in one queue per subtask, ordered by (timestamp, arrival),
//! until the watermark passes it; then the records due are fed to their keys' NFA states in
//! that order (so per key in timestamp order, equal timestamps in arrival order). A key's NFA
//! state lives in keyed value state only while it holds a partial match (a record that begins
//! nothing is tried on a spare empty state and leaves no trace), so checkpoints hold it and
//! the table stays as small as the set of keys with partial matches. Time reaches a key's
//! partial matches (timeouts, `within` pruning, pending `not_followed_by`) through a second
//! queue of keys by their next deadline. Both queues and the watermark are checkpointed: the
//! waiting records as keyed entries, so a restore at another parallelism finds them. Records
//! at or before the watermark on arrival are late. In processing time records are fed at once,
//! stamped with the clock.
//!
//! ## Replacing the pattern (dynamic patterns)
//! [`dynamic_pattern`] broadcasts a control stream of [`PatternUpdate`]s (a version number, a
//! pattern in the [JSON form](crate::json), the event time it takes effect from, and what
//! becomes of the old pattern's partial matches) to every subtask. The operator keeps every
//! version it has seen, each with the time it starts at. An event at time `t` is offered to
//! the version in effect at `t` (the newest whose start is at or before `t`), which may begin
//! new partial matches; the partial matches of older versions either go on under their own
//! pattern without beginning new ones ([`OnReplace::Finish`], the default) or are dropped at
//! the new version's start ([`OnReplace::Drop`]: what they produced before it is emitted, they
//! time out no more). Nothing restarts: keys switch as time passes the start. An update
//! whose start the watermark has already passed takes effect just after the watermark; an
//! update with a version not above the newest seen, or whose pattern does not compile, is
//! ignored with a warning. The versions are operator state, so a restored job keeps the
//! replaced pattern. The control stream's watermark holds the operator's back, as for any
//! two-input operator: give it timestamps, idleness, or let it end.
//!
//! ## Memory
//! The records ahead of the watermark (the watermark strategy's out-of-orderness times the
//! input rate), and per key with a partial match its shared buffer, which `within` bounds
//! (`tests/memory_bound.rs` checks the bound on a pathological pattern); per subtask, the
//! deadline queue (at most one live entry per key) and every pattern version seen.
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

mod dynamic;
mod keyed;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use eddy_datastream::{DataStream, KeyedStream};
use eddy_runtime::{Data, Key, Timestamp};

use crate::nfa::{Match, Nfa};

pub use dynamic::{dynamic_pattern, OnReplace, PatternUpdate};

/// What the CEP operator emits, before it is split into streams.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(bound(
    serialize = "K: Serialize, T: Serialize",
    deserialize = "K: serde::de::DeserializeOwned, T: serde::de::DeserializeOwned"
))]
pub enum CepEvent<K, T> {
    /// A complete match of the key.
    Matched(K, Match<T>),
    /// A partial match that expired at `timeout_ts`.
    TimedOut(K, Timestamp, Match<T>),
    /// A record that arrived at or before the watermark.
    Late(T),
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
        Box::new(keyed::CepOperator::new(
            nfa.clone(),
            key.clone(),
            processing_time,
        ))
    });
    PatternStream { events }
}

impl<T: Data, K: Key> PatternStream<T, K> {
    /// Emits `f(key, match)` for every match.
    pub fn select<O: Data>(
        &self,
        f: impl Fn(&K, Match<T>) -> O + Send + Sync + Clone + 'static,
    ) -> DataStream<O> {
        self.events.flat_map(move |e: CepEvent<K, T>| match e {
            CepEvent::Matched(key, m) => Some(f(&key, m)),
            _ => None,
        })
    }

    /// Emits `f(key, timeout_ts, partial match)` for every partial match that timed out.
    pub fn timeouts<O: Data>(
        &self,
        f: impl Fn(&K, Timestamp, Match<T>) -> O + Send + Sync + Clone + 'static,
    ) -> DataStream<O> {
        self.events.flat_map(move |e: CepEvent<K, T>| match e {
            CepEvent::TimedOut(key, ts, m) => Some(f(&key, ts, m)),
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
