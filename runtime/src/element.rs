//! What flows through channels: records with timestamps, watermarks, checkpoint barriers and
//! end-of-input, in one in-band [`Message`] enum.
//!
//! Records travel in batches ([`Message::Records`]) so that a channel hand-off costs one
//! synchronisation per batch, not per record. Watermarks, barriers and end-of-input are rare
//! and travel alone, in order with the records around them.

/// Milliseconds since the Unix epoch, the unit of event time.
pub type Timestamp = i64;

/// One element of a stream: a value and, in event-time jobs, its timestamp.
#[derive(Debug, Clone, PartialEq)]
pub struct Record<T> {
    /// The user's value.
    pub value: T,
    /// Event time of the value, if it has one.
    pub timestamp: Option<Timestamp>,
}

impl<T> Record<T> {
    /// A record without a timestamp.
    #[inline]
    pub fn new(value: T) -> Self {
        Record {
            value,
            timestamp: None,
        }
    }

    /// A record carrying an event timestamp.
    #[inline]
    pub fn with_timestamp(value: T, timestamp: Timestamp) -> Self {
        Record {
            value,
            timestamp: Some(timestamp),
        }
    }

    /// The same timestamp on another value: what map-like operators emit.
    #[inline]
    pub fn replace<U>(&self, value: U) -> Record<U> {
        Record {
            value,
            timestamp: self.timestamp,
        }
    }
}

/// A promise that no record with a timestamp at or below this one will follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Watermark(pub Timestamp);

impl Watermark {
    /// The watermark a bounded source emits at its end: event time is over.
    pub const MAX: Watermark = Watermark(Timestamp::MAX);
    /// The watermark before any was seen.
    pub const MIN: Watermark = Watermark(Timestamp::MIN);
}

/// Marks the cut of checkpoint `id` in a stream (Carbone et al. 2015): everything before it
/// belongs to the checkpoint's state, everything after to the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckpointBarrier {
    /// The checkpoint's number, increasing within a job.
    pub id: u64,
    /// When the coordinator triggered it, in milliseconds since the epoch.
    pub triggered_at: Timestamp,
    /// Whether it is a savepoint's barrier (always aligned).
    pub savepoint: bool,
}

/// Whether a stream currently carries records (Flink's watermark status). An idle input is
/// left out of the watermark minimum at its consumer, so that a quiet source does not hold
/// back event time for the whole job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamStatus {
    /// Records flow; the stream's watermark counts.
    Active,
    /// No records for a while; the stream's watermark is ignored until it is active again.
    Idle,
}

/// The in-band message of every channel.
#[derive(Debug)]
pub enum Message<T> {
    /// A batch of records, in order.
    Records(Vec<Record<T>>),
    /// The sender's watermark advanced.
    Watermark(Watermark),
    /// The sender went idle or became active again.
    Status(StreamStatus),
    /// A checkpoint barrier; a receiver with several inputs aligns on it.
    Barrier(CheckpointBarrier),
    /// The sender will send nothing more.
    EndOfInput,
}

/// A message tagged with the input channel it arrived on, so that a task merging several
/// producers into one queue can track watermarks and barriers per channel.
#[derive(Debug)]
pub struct Envelope<T> {
    /// Index of the sending channel at the receiver, `0..num_channels`.
    pub channel: u32,
    /// The message itself.
    pub message: Message<T>,
}
