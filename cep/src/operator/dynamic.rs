//! Dynamic patterns: a keyed CEP operator whose JSON pattern a broadcast control stream of
//! [`PatternUpdate`]s replaces while the job runs (FLINK-7129); the semantics are in the
//! [module doc](super).
//!
//! ```
//! use eddy_cep::json::DynEvent;
//! use eddy_cep::operator::{dynamic_pattern, PatternUpdate};
//! use eddy_datastream::WatermarkStrategy;
//!
//! let a_then = |second: &str| format!(r#"{{"stages": [
//!     {{"name": "first", "condition": {{"field": "t", "op": "==", "value": "a"}}}},
//!     {{"name": "second", "condition": {{"field": "t", "op": "==", "value": "{second}"}}}}]}}"#);
//! let found = eddy_datastream::example(|env| {
//!     let events = env
//!         .from_collection(["a", "b", "a", "c", "a", "b", "a", "c"].iter().enumerate()
//!             .map(|(i, t)| DynEvent::from_json(&format!(r#"{{"ts": {i}, "t": "{t}"}}"#)).unwrap())
//!             .collect::<Vec<_>>())
//!         .assign_timestamps_and_watermarks(WatermarkStrategy::for_monotonous_timestamps()
//!             .with_timestamp_assigner(|e: &DynEvent| e.0["ts"].as_i64().unwrap()))
//!         .key_by(|_: &DynEvent| 0u8);
//!     // From ts 4 on, "a then c" replaces "a then b"; the a at 2, still waiting for a b,
//!     // is dropped (with "finish" it would match the b at 5).
//!     let update = PatternUpdate::from_json(&format!(
//!         r#"{{"version": 1, "from_ts": 4, "partial_matches": "drop", "pattern": {}}}"#, a_then("c"))).unwrap();
//!     let control = env.from_collection(vec![update]);
//!     dynamic_pattern(&events, &a_then("b"), &control).unwrap().select(|_, m| {
//!         let ts = |stage: &str| m.get(stage).unwrap()[0].0["ts"].as_i64().unwrap();
//!         (ts("first"), ts("second"))
//!     })
//! });
//! assert_eq!(found, [(0, 1), (4, 7), (6, 7)]);
//! ```

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use eddy_datastream::connected::Either;
use eddy_datastream::{DataStream, KeyedStream};
use eddy_runtime::{Data, Key, Operator, OperatorContext, Output, Record, Timestamp, Watermark};

use super::keyed::{CepOperator, Version};
use super::{CepEvent, PatternStream};
use crate::error::{CepError, Result};
use crate::json::{self, DynEvent, FieldAccess, Value};
use crate::nfa::Nfa;

/// Operator state: the pattern versions, as [`Saved`] records.
const PATTERNS: &str = "cep patterns";

/// What becomes of the partial matches of the older patterns when a new one takes effect.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnReplace {
    /// They go on under their own pattern (without beginning new ones) until they complete,
    /// time out or die.
    #[default]
    Finish,
    /// They are dropped when the new pattern takes effect: what they produced before is
    /// emitted, they time out no more.
    Drop,
}

/// A control record: pattern `version` replaces the running one from `from_ts` on.
///
/// Its JSON form, for [`PatternUpdate::from_json`]:
/// `{"version": N, "pattern": PATTERN, "from_ts": T or null, "partial_matches": "finish" | "drop"}`
/// with PATTERN in the [JSON form](crate::json). Without `from_ts` the update takes effect
/// from the control record's timestamp, or at once when it has none.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PatternUpdate {
    /// Must exceed every version seen before (the initial pattern is version 0).
    pub version: u64,
    /// The pattern, as JSON text.
    pub pattern: String,
    /// The event time it takes effect from.
    pub from_ts: Option<Timestamp>,
    /// What becomes of the partial matches of the patterns it replaces.
    pub partial_matches: OnReplace,
}

/// The JSON form of a [`PatternUpdate`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateJson {
    version: u64,
    pattern: Value,
    #[serde(default)]
    from_ts: Option<Timestamp>,
    #[serde(default)]
    partial_matches: OnReplace,
}

impl PatternUpdate {
    /// An update to `pattern` (JSON text), effective at once, letting partial matches finish.
    ///
    /// # Errors
    /// [`CepError::Json`] or [`CepError::Invalid`] when `pattern` is not a valid pattern.
    pub fn new(version: u64, pattern: &str) -> Result<Self> {
        check(pattern)?;
        Ok(PatternUpdate {
            version,
            pattern: pattern.to_string(),
            from_ts: None,
            partial_matches: OnReplace::Finish,
        })
    }

    /// Parses the JSON form (see the type's doc) and checks that the pattern compiles.
    ///
    /// # Errors
    /// [`CepError::Json`] for malformed JSON or an unknown member, or an invalid pattern.
    pub fn from_json(text: &str) -> Result<Self> {
        let wire: UpdateJson =
            serde_json::from_str(text).map_err(|e| CepError::Json(e.to_string()))?;
        let pattern = wire.pattern.to_string();
        check(&pattern)?;
        Ok(PatternUpdate {
            version: wire.version,
            pattern,
            from_ts: wire.from_ts,
            partial_matches: wire.partial_matches,
        })
    }

    /// The same update, effective from event time `ts`.
    pub fn from_ts(mut self, ts: Timestamp) -> Self {
        self.from_ts = Some(ts);
        self
    }

    /// The same update, with `on_replace` for the old partial matches.
    pub fn partial_matches(mut self, on_replace: OnReplace) -> Self {
        self.partial_matches = on_replace;
        self
    }
}

/// Checks that `pattern` parses and compiles (conditions are data, so any event type will do).
fn check(pattern: &str) -> Result<()> {
    json::parse::<DynEvent>(pattern)?.compile().map(|_| ())
}

fn compile<T: FieldAccess + Clone + 'static>(pattern: &str) -> Result<Nfa<T>> {
    json::parse::<T>(pattern)?.compile()
}

/// A version as checkpointed: the pattern as JSON text.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Saved {
    id: u64,
    from: Timestamp,
    on_replace: OnReplace,
    pattern: String,
}

/// Runs the JSON pattern `initial` (version 0) per key of `input`, in event time, replaced
/// by the [`PatternUpdate`]s of `control`, which is broadcast to every subtask. On restore,
/// the checkpointed versions are used (and `initial` ignored).
///
/// # Errors
/// [`CepError::Json`] or [`CepError::Invalid`] when `initial` is not a valid pattern.
pub fn dynamic_pattern<T: Data + Sync + FieldAccess, K: Key>(
    input: &KeyedStream<T, K>,
    initial: &str,
    control: &DataStream<PatternUpdate>,
) -> Result<PatternStream<T, K>> {
    let nfa = Arc::new(compile::<T>(initial)?);
    let initial = initial.to_string();
    let key = input.key_selector();
    let events = input.partitioned().map(Either::<T, PatternUpdate>::Left);
    let updates = control.map(Either::<T, PatternUpdate>::Right).broadcast();
    let events = events.union(&[updates]).transform("cep", move || {
        Box::new(DynamicCep {
            cep: CepOperator::new(nfa.clone(), key.clone(), false),
            saved: vec![Saved {
                id: 0,
                from: Timestamp::MIN,
                on_replace: OnReplace::Finish,
                pattern: initial.clone(),
            }],
        })
    });
    Ok(PatternStream { events })
}

/// The keyed CEP operator with a second input of pattern updates.
struct DynamicCep<T, K> {
    cep: CepOperator<T, K>,
    /// The versions of `cep`, as checkpointed.
    saved: Vec<Saved>,
}

impl<T: Data + FieldAccess, K: Key> DynamicCep<T, K> {
    fn apply(&mut self, update: PatternUpdate, timestamp: Option<Timestamp>) {
        let newest = self.saved.last().map_or(0, |s| s.id);
        if update.version <= newest {
            tracing::warn!(
                operator = %self.cep.name, version = update.version, newest,
                "pattern update ignored: its version is not above the newest seen"
            );
            return;
        }
        let nfa = match compile::<T>(&update.pattern) {
            Ok(nfa) => nfa,
            Err(e) => {
                tracing::warn!(operator = %self.cep.name, version = update.version, error = %e,
                    "pattern update ignored: its pattern does not compile");
                return;
            }
        };
        let from = update
            .from_ts
            .or(timestamp)
            .unwrap_or(Timestamp::MIN)
            .max(self.cep.earliest_start());
        tracing::info!(operator = %self.cep.name, version = update.version, from, "pattern replaced");
        self.cep.versions.push(Version {
            from,
            nfa: Arc::new(nfa),
            on_replace: update.partial_matches,
        });
        self.saved.push(Saved {
            id: update.version,
            from,
            on_replace: update.partial_matches,
            pattern: update.pattern,
        });
    }
}

impl<T: Data + FieldAccess, K: Key> Operator<Either<T, PatternUpdate>, CepEvent<K, T>>
    for DynamicCep<T, K>
{
    fn open(&mut self, ctx: &mut OperatorContext<'_>) -> eddy_runtime::Result<()> {
        self.cep.open(ctx)?;
        // Every subtask saw the same updates in the same order relative to the barrier, so
        // any subtask's list will do; the own one when the parallelism is unchanged.
        let all: Vec<Vec<Saved>> = ctx.restored().operator_state(PATTERNS)?;
        let restored = if all.len() == ctx.parallelism as usize {
            all.into_iter().nth(ctx.subtask as usize)
        } else {
            all.into_iter().max_by_key(|list| list.len())
        };
        if let Some(saved) = restored {
            let mut versions = Vec::with_capacity(saved.len());
            for s in &saved {
                let nfa = compile::<T>(&s.pattern).map_err(|e| {
                    eddy_runtime::Error::user(
                        &self.cep.name,
                        format!("restored pattern version {}: {e}", s.id),
                    )
                })?;
                versions.push(Version {
                    from: s.from,
                    nfa: Arc::new(nfa),
                    on_replace: s.on_replace,
                });
            }
            self.cep.versions = versions;
            self.saved = saved;
        }
        Ok(())
    }

    fn snapshot_state(
        &mut self,
        barrier: &eddy_runtime::CheckpointBarrier,
        writer: &mut eddy_runtime::checkpoint::SnapshotWriter,
    ) -> eddy_runtime::Result<()> {
        self.cep.snapshot_state(barrier, writer)?;
        writer.operator_state(PATTERNS, &self.saved)
    }

    fn process_record(
        &mut self,
        record: Record<Either<T, PatternUpdate>>,
        out: &mut dyn Output<CepEvent<K, T>>,
    ) -> eddy_runtime::Result<()> {
        match record.value {
            Either::Left(event) => self.cep.process_record(
                Record {
                    value: event,
                    timestamp: record.timestamp,
                },
                out,
            ),
            Either::Right(update) => {
                self.apply(update, record.timestamp);
                Ok(())
            }
        }
    }

    fn process_watermark(
        &mut self,
        watermark: Watermark,
        out: &mut dyn Output<CepEvent<K, T>>,
    ) -> eddy_runtime::Result<()> {
        self.cep.process_watermark(watermark, out)
    }

    fn flush(&mut self, out: &mut dyn Output<CepEvent<K, T>>) -> eddy_runtime::Result<()> {
        self.cep.flush(out)
    }

    fn finish(&mut self, out: &mut dyn Output<CepEvent<K, T>>) -> eddy_runtime::Result<()> {
        self.cep.finish(out)
    }
}
