//! The tagger in front of a two-input operator: wraps one side's records as
//! [`Tagged::Left`] or [`Tagged::Right`] and, when its input ends, sends an end marker to
//! every consumer subtask.
//!
//! The runtime merges all input edges of an operator into one queue, so a two-input operator
//! reads one stream of [`Tagged`] values (as DataStream's `connect` does with `Either`). The
//! markers tell it when one side is complete: a hash join can then probe instead of
//! buffering, and a broadcast set is known to be whole. Each producer channel is FIFO, so a
//! producer's marker arrives after all of its records; a consumer has seen a side completely
//! once it has counted one marker per tagger subtask of that side.

use serde::{Deserialize, Serialize};

use eddy_runtime::{Operator, Output, Record, Result};

/// A record of either input of a two-input operator, or the end marker of one of its sides.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum Tagged<A, B> {
    /// A record of the first input.
    Left(A),
    /// A record of the second input.
    Right(B),
    /// One tagger subtask of a side has sent everything. `target` is the consumer subtask
    /// it is addressed to (hash edges route it there; other edges ignore it).
    End { right: bool, target: u32 },
}

/// Tags one side's records (of type `V`, which is `A` or `B`); emits `markers` end markers
/// (one per consumer subtask on a hash edge, one on forward and broadcast edges) when its
/// input ends.
pub(crate) struct Tag<V, A, B> {
    pub(crate) right: bool,
    pub(crate) markers: u32,
    pub(crate) wrap: fn(V) -> Tagged<A, B>,
}

impl<V: Send, A: Send, B: Send> Operator<V, Tagged<A, B>> for Tag<V, A, B> {
    #[inline]
    fn process_record(
        &mut self,
        record: Record<V>,
        out: &mut dyn Output<Tagged<A, B>>,
    ) -> Result<()> {
        out.collect(Record::new((self.wrap)(record.value)))
    }

    fn finish(&mut self, out: &mut dyn Output<Tagged<A, B>>) -> Result<()> {
        for target in 0..self.markers {
            out.collect(Record::new(Tagged::End {
                right: self.right,
                target,
            }))?;
        }
        Ok(())
    }
}
