//! Event-time ordering for one key: events wait in an [`EventTimeBuffer`] until the watermark
//! passes them, then enter the NFA in timestamp order (equal timestamps in arrival order).
//! Events at or below the watermark on arrival are late and handed back to the caller (a host
//! operator sends them to a side output). The buffer is serde-serializable, so it can sit in
//! keyed state beside the [`NfaState`].
//!
//! ```
//! use eddy_cep::{EventTimeBuffer, Output, Pattern};
//! let nfa = Pattern::<char>::begin("a").when(|c| *c == 'a').next("b").when(|c| *c == 'b')
//!     .compile().unwrap();
//! let mut st = nfa.new_state();
//! let mut buf = EventTimeBuffer::new();
//! buf.push('b', 2).unwrap();
//! buf.push('a', 1).unwrap(); // out of order
//! let mut out = Output::default();
//! buf.advance_watermark(&nfa, &mut st, 5, &mut out).unwrap();
//! assert_eq!(out.matches.len(), 1);
//! assert_eq!(buf.push('a', 4), Err('a')); // late
//! ```
//!
//! # Memory
//! Every buffered event is kept until the watermark passes it: memory grows with the
//! out-of-orderness allowed by the watermark strategy times the key's event rate.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::nfa::{Nfa, NfaState, Output};

/// Events of one key waiting for the watermark.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(bound(
    serialize = "E: Serialize",
    deserialize = "E: serde::de::DeserializeOwned"
))]
pub struct EventTimeBuffer<E> {
    #[serde(with = "entries")]
    pending: BTreeMap<(i64, u64), E>,
    arrivals: u64,
    watermark: i64,
}

/// Serializes the map as a list (JSON maps need string keys).
mod entries {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(super) fn serialize<E: Serialize, S: Serializer>(
        m: &BTreeMap<(i64, u64), E>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq(m.iter())
    }

    pub(super) fn deserialize<'de, E: Deserialize<'de>, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<(i64, u64), E>, D::Error> {
        let v: Vec<((i64, u64), E)> = Vec::deserialize(d)?;
        Ok(v.into_iter().collect())
    }
}

impl<E> Default for EventTimeBuffer<E> {
    fn default() -> Self {
        EventTimeBuffer {
            pending: BTreeMap::new(),
            arrivals: 0,
            watermark: i64::MIN,
        }
    }
}

impl<E> EventTimeBuffer<E> {
    /// An empty buffer at watermark `i64::MIN`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Buffers `event` (event time `ts`).
    ///
    /// # Errors
    /// Hands the event back when it is late: `ts` is at or below the watermark.
    pub fn push(&mut self, event: E, ts: i64) -> std::result::Result<(), E> {
        if ts <= self.watermark {
            return Err(event);
        }
        self.pending.insert((ts, self.arrivals), event);
        self.arrivals += 1;
        Ok(())
    }

    /// The current watermark.
    pub fn watermark(&self) -> i64 {
        self.watermark
    }

    /// Number of buffered events.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// True when nothing is buffered.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Raises the watermark to `watermark` and returns the events it passes, in timestamp
    /// order (equal timestamps in arrival order). A lower watermark is ignored.
    pub fn release(&mut self, watermark: i64) -> Vec<(i64, E)> {
        if watermark <= self.watermark {
            return Vec::new();
        }
        self.watermark = watermark;
        let rest = match watermark.checked_add(1) {
            Some(next) => self.pending.split_off(&(next, 0)),
            None => BTreeMap::new(),
        };
        std::mem::replace(&mut self.pending, rest)
            .into_iter()
            .map(|((ts, _), e)| (ts, e))
            .collect()
    }

    /// Raises the watermark and feeds the events it passes to `nfa`, then advances the NFA's
    /// time to the watermark; matches and timeouts are appended to `out`.
    ///
    /// # Errors
    /// As [`Nfa::process`].
    pub fn advance_watermark(
        &mut self,
        nfa: &Nfa<E>,
        state: &mut NfaState<E>,
        watermark: i64,
        out: &mut Output<E>,
    ) -> Result<()>
    where
        E: Clone,
    {
        for (ts, e) in self.release(watermark) {
            nfa.process_into(state, e, ts, out)?;
        }
        nfa.advance_time_into(state, watermark, out)
    }
}
