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

use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use crate::error::Result;
use crate::nfa::{Nfa, NfaState, Output};

/// Events of one key waiting for the watermark, in timestamp order.
///
/// A sorted small vector: events mostly arrive in order (an append), a key rarely has more
/// than a couple waiting (no allocation then), and release takes a prefix.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(bound(
    serialize = "E: Serialize",
    deserialize = "E: serde::de::DeserializeOwned"
))]
pub struct EventTimeBuffer<E> {
    /// (timestamp, arrival number, event), sorted by (timestamp, arrival).
    pending: SmallVec<[(i64, u64, E); 2]>,
    arrivals: u64,
    watermark: i64,
}

impl<E> Default for EventTimeBuffer<E> {
    fn default() -> Self {
        EventTimeBuffer {
            pending: SmallVec::new(),
            arrivals: 0,
            watermark: i64::MIN,
        }
    }
}

impl<E> EventTimeBuffer<E> {
    /// An empty buffer with the watermark at the beginning of time.
    pub fn new() -> Self {
        Self::default()
    }

    /// Buffers `event` at `ts`, or hands it back if it is late (`ts <= watermark`).
    pub fn push(&mut self, event: E, ts: i64) -> std::result::Result<(), E> {
        if ts <= self.watermark {
            return Err(event);
        }
        // After every event with a timestamp at or before `ts`: equal timestamps keep arrival order.
        let at = self.pending.partition_point(|(t, _, _)| *t <= ts);
        self.pending.insert(at, (ts, self.arrivals, event));
        self.arrivals += 1;
        Ok(())
    }

    /// The watermark the buffer has been advanced to.
    pub fn watermark(&self) -> i64 {
        self.watermark
    }

    /// Number of buffered events.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// The timestamp of the earliest event waiting, if any.
    pub fn next_timestamp(&self) -> Option<i64> {
        self.pending.first().map(|(ts, _, _)| *ts)
    }

    /// True when nothing is buffered.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Raises the watermark to `watermark` and returns the events it passes, in timestamp
    /// order (equal timestamps in arrival order). A lower watermark is ignored.
    pub fn release(&mut self, watermark: i64) -> Vec<(i64, E)> {
        let mut out = Vec::new();
        self.release_into(watermark, &mut out);
        out
    }

    /// [`release`](Self::release) into a vector the caller reuses.
    pub fn release_into(&mut self, watermark: i64, out: &mut Vec<(i64, E)>) {
        if watermark <= self.watermark {
            return;
        }
        self.watermark = watermark;
        let due = self.pending.partition_point(|(t, _, _)| *t <= watermark);
        out.extend(self.pending.drain(..due).map(|(ts, _, e)| (ts, e)));
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
