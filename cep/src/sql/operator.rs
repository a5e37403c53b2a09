//! MATCH_RECOGNIZE on a keyed DataStream: [`match_recognize`] runs a statement per key (the
//! key is the partition), in event time, and emits `(key, MatchRow)` pairs.
//!
//! ## Algorithm
//! As the NFA path's operator (`crate::operator`): per key, an [`EventTimeBuffer`] and a
//! [`Partition`] live together in keyed value state. A record waits in the buffer until the
//! watermark passes it; then the key's due rows enter the partition in timestamp order (equal
//! timestamps in arrival order) and the [`Matcher`] runs as far as they allow. A key is looked
//! at again when something is due for it: its earliest buffered row or its attempt's WITHIN
//! deadline, kept in one queue. The final watermark (end of input) ends every partition, which
//! decides every attempt, unless [`MatchRecognizeBuilder::keep_partitions_open`] says
//! otherwise. Records at or before the watermark on arrival are dropped, as Flink SQL does.
//!
//! ## Memory
//! Per key: the buffered records, and the partition's rows from its current attempt's start
//! (see [`Matcher`]'s memory section); a set of the keys with state.
//!
//! ```
//! use std::sync::Arc;
//! use eddy_cep::sql::{operator::match_recognize, MatchRecognize, Scalar};
//! use eddy_datastream::WatermarkStrategy;
//!
//! let q = Arc::new(MatchRecognize::parse(
//!     "MATCH_RECOGNIZE (PARTITION BY k ORDER BY ts MEASURES B.ts - A.ts AS gap
//!      PATTERN (A B) DEFINE A AS kind = 'a', B AS kind = 'b')").unwrap());
//! assert_eq!(q.columns(), ["kind", "ts"]);
//! let out = eddy_datastream::example(|env| {
//!     let events = env
//!         .from_collection(vec![('k', 'a', 1i64), ('k', 'b', 4), ('j', 'b', 5)])
//!         .assign_timestamps_and_watermarks(
//!             WatermarkStrategy::for_monotonous_timestamps().with_timestamp_assigner(|e: &(char, char, i64)| e.2),
//!         )
//!         .key_by(|e: &(char, char, i64)| e.0);
//!     match_recognize(&events, q, |e: &(char, char, i64), row: &mut Vec<Scalar>| {
//!         row.extend([Scalar::from(e.1.to_string().as_str()), Scalar::Int(e.2)])
//!     })
//!     .build()
//!     .map(|(key, m)| format!("{key}: {}", m.measures[0]))
//! });
//! assert_eq!(out, ["k: 3"]);
//! ```

use std::sync::Arc;

use hashbrown::HashMap;
use serde::{Deserialize, Serialize};

use eddy_datastream::{DataStream, KeyedStream};
use eddy_runtime::state::{value_state, StateDescriptor, ValueState};
use eddy_runtime::{
    Data, Error, Key, Operator, OperatorContext, Output, Record, Timestamp, Watermark,
};

use super::{MatchRecognize, MatchRow, Matcher, Partition, Scalar};
use crate::due::DueQueue;
use crate::event_time::EventTimeBuffer;

/// Writes a record's values for [`MatchRecognize::columns`], in order, into the vector.
pub type RowExtractor<T> = Arc<dyn Fn(&T, &mut Vec<Scalar>) + Send + Sync>;

/// Names a record in error messages (say, `events.jsonl:12`).
pub type RowDescriber<T> = Arc<dyn Fn(&T) -> String + Send + Sync>;

/// The per-key state.
#[derive(Clone, Serialize, Deserialize)]
#[serde(bound(
    serialize = "T: Serialize",
    deserialize = "T: serde::de::DeserializeOwned"
))]
struct KeyState<T> {
    buffer: EventTimeBuffer<T>,
    partition: Partition<T>,
    scheduled: Option<Timestamp>,
}

/// Options of a MATCH_RECOGNIZE operator; [`build`](Self::build) adds it to the job.
pub struct MatchRecognizeBuilder<T, K> {
    input: DataStream<T>,
    key: Arc<dyn Fn(&T) -> K + Send + Sync>,
    query: Arc<MatchRecognize>,
    extract: RowExtractor<T>,
    describe: Option<RowDescriber<T>>,
    end_partitions: bool,
}

/// Runs `query` on every key of `input` (records must carry event timestamps); `extract`
/// writes each record's values for [`MatchRecognize::columns`].
pub fn match_recognize<T: Data + Sync, K: Key>(
    input: &KeyedStream<T, K>,
    query: Arc<MatchRecognize>,
    extract: impl Fn(&T, &mut Vec<Scalar>) + Send + Sync + 'static,
) -> MatchRecognizeBuilder<T, K> {
    MatchRecognizeBuilder {
        input: input.partitioned(),
        key: input.key_selector(),
        query,
        extract: Arc::new(extract),
        describe: None,
        end_partitions: true,
    }
}

impl<T: Data + Sync, K: Key> MatchRecognizeBuilder<T, K> {
    /// Names records in error messages with `f`.
    pub fn describe_rows(mut self, f: impl Fn(&T) -> String + Send + Sync + 'static) -> Self {
        self.describe = Some(Arc::new(f));
        self
    }

    /// Keeps partitions open at the final watermark: attempts that still wait for rows (or
    /// for `$`) are never decided.
    pub fn keep_partitions_open(mut self) -> Self {
        self.end_partitions = false;
        self
    }

    /// Adds the operator; its output is `(key, row)` in the order rows are decided.
    pub fn build(self) -> DataStream<(K, MatchRow<T>)> {
        let MatchRecognizeBuilder {
            input,
            key,
            query,
            extract,
            describe,
            end_partitions,
        } = self;
        input.transform("match_recognize", move || {
            Box::new(MatchRecognizeOperator {
                matcher: Matcher::new(query.clone()),
                key: key.clone(),
                extract: extract.clone(),
                describe: describe.clone(),
                end_partitions,
                state: None,
                queue: DueQueue::default(),
                queued: 0,
                live: HashMap::new(),
                watermark: Timestamp::MIN,
                name: String::new(),
                released: Vec::new(),
                values: Vec::new(),
                produced: Vec::new(),
            })
        })
    }
}

/// The keyed operator.
struct MatchRecognizeOperator<T, K> {
    matcher: Matcher,
    key: Arc<dyn Fn(&T) -> K + Send + Sync>,
    extract: RowExtractor<T>,
    describe: Option<RowDescriber<T>>,
    end_partitions: bool,
    state: Option<Box<dyn ValueState<K, KeyState<T>>>>,
    /// Keys by due time; a key's live entry is the one its state names.
    queue: DueQueue<K>,
    /// Keys seen, to number new ones in `live`.
    queued: u64,
    /// Keys with state and when each was first seen (the final watermark ends each of
    /// them, in that order, so output is deterministic).
    live: HashMap<K, u64>,
    watermark: Timestamp,
    name: String,
    released: Vec<(Timestamp, T)>,
    values: Vec<Scalar>,
    produced: Vec<MatchRow<T>>,
}

impl<T: Data, K: Key> MatchRecognizeOperator<T, K> {
    /// Feeds the key's rows due by the watermark, matches, and emits; `end` ends the partition.
    fn run_key(
        &mut self,
        key: &K,
        at: Option<Timestamp>,
        end: bool,
        out: &mut dyn Output<(K, MatchRow<T>)>,
    ) -> eddy_runtime::Result<()> {
        let Some(state) = self.state.as_mut() else {
            return Err(Error::Internal("match_recognize used before open".into()));
        };
        let upto = self.watermark;
        let (matcher, released, values, produced) = (
            &mut self.matcher,
            &mut self.released,
            &mut self.values,
            &mut self.produced,
        );
        let extract = &self.extract;
        let describe = &self.describe;
        let mut failure = None;
        let mut next = None;
        let mut cleared = false;
        let query = matcher.query().clone();
        state.modify(
            key,
            &mut || KeyState {
                buffer: EventTimeBuffer::new(),
                partition: Partition::new(&query),
                scheduled: None,
            },
            &mut |st| {
                if at.is_some() && st.scheduled != at {
                    return; // a stale queue entry
                }
                released.clear();
                st.buffer.release_into(upto, released);
                for (ts, row) in released.drain(..) {
                    values.clear();
                    extract(&row, values);
                    matcher.push(&mut st.partition, row, ts, values.drain(..));
                }
                let result = if end {
                    matcher.finish_partition(&mut st.partition, produced)
                } else {
                    matcher.advance(&mut st.partition, Some(upto), produced)
                };
                if let Err(e) = result {
                    let at = match (describe, st.partition.payload(e.row)) {
                        (Some(d), Some(row)) => format!("{}: ", d(row)),
                        _ => String::new(),
                    };
                    failure = Some(format!("{at}{e}"));
                }
                next = st
                    .buffer
                    .next_timestamp()
                    .into_iter()
                    .chain(st.partition.deadline(&query))
                    .min();
                st.scheduled = next;
                cleared = end && st.buffer.is_empty();
            },
        )?;
        if let Some(msg) = failure {
            return Err(Error::user(&self.name, msg));
        }
        if cleared {
            state.clear(key)?;
            self.live.remove(key);
        } else if let Some(at) = next {
            self.queue.push(at, key.clone());
        }
        for row in self.produced.drain(..) {
            out.collect(Record::new((key.clone(), row)))?;
        }
        Ok(())
    }
}

impl<T: Data, K: Key> Operator<T, (K, MatchRow<T>)> for MatchRecognizeOperator<T, K> {
    fn open(&mut self, ctx: &mut OperatorContext<'_>) -> eddy_runtime::Result<()> {
        self.name = ctx.name.to_string();
        self.state = Some(value_state(
            ctx.state,
            StateDescriptor::new("match_recognize"),
        )?);
        Ok(())
    }

    fn process_record(
        &mut self,
        record: Record<T>,
        _out: &mut dyn Output<(K, MatchRow<T>)>,
    ) -> eddy_runtime::Result<()> {
        let Some(ts) = record.timestamp else {
            return Err(Error::user(
                &self.name,
                "record without a timestamp: assign timestamps and watermarks before MATCH_RECOGNIZE",
            ));
        };
        if ts <= self.watermark {
            return Ok(()); // late: dropped, as Flink SQL does
        }
        let key = (self.key)(&record.value);
        let Some(state) = self.state.as_mut() else {
            return Err(Error::Internal("match_recognize used before open".into()));
        };
        let matcher = &self.matcher;
        let mut row = Some(record.value);
        let mut reschedule = false;
        state.modify(
            &key,
            &mut || KeyState {
                buffer: EventTimeBuffer::new(),
                partition: Partition::new(matcher.query()),
                scheduled: None,
            },
            &mut |st| {
                if let Some(row) = row.take() {
                    let _ = st.buffer.push(row, ts); // not late (checked above)
                }
                if st.scheduled.is_none_or(|at| ts < at) {
                    st.scheduled = Some(ts);
                    reschedule = true;
                }
            },
        )?;
        if reschedule {
            self.queued += 1;
            self.queue.push(ts, key.clone());
        }
        if !self.live.contains_key(&key) {
            let seen = self.live.len() as u64 + self.queued;
            self.live.insert(key, seen);
        }
        Ok(())
    }

    fn process_watermark(
        &mut self,
        watermark: Watermark,
        out: &mut dyn Output<(K, MatchRow<T>)>,
    ) -> eddy_runtime::Result<()> {
        self.watermark = self.watermark.max(watermark.0);
        while let Some(due) = self.queue.pop_due(self.watermark) {
            self.run_key(&due.key, Some(due.at), false, out)?;
        }
        if watermark == Watermark::MAX && self.end_partitions {
            let mut keys: Vec<(u64, K)> = self.live.drain().map(|(k, s)| (s, k)).collect();
            keys.sort_unstable_by_key(|(s, _)| *s);
            for (_, key) in keys {
                self.run_key(&key, None, true, out)?;
            }
            self.queue.clear();
        }
        out.emit_watermark(watermark)
    }
}
