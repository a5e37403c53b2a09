//! Sources of data sets: number sequences, and replays of in-memory partitions (collections,
//! iterations, loop-invariant inputs). File sources live in
//! [`crate::io`].

pub(crate) mod partitions;
pub(crate) mod sequence;

/// Records a source emits per poll.
pub(crate) const CHUNK: usize = 1024;
