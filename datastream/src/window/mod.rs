//! Event-time windows: group a keyed stream's records into finite windows and aggregate each.
//!
//! ## Which window to use
//! - [`WindowAssigner::tumbling`]: fixed-size, non-overlapping windows (`[0, 10)`, `[10, 20)`,
//!   ...), aligned to epoch 0 (plus an optional offset). One window per record.
//! - [`WindowAssigner::sliding`]: fixed-size windows starting every `slide`; a record belongs
//!   to `size / slide` windows.
//! - [`WindowAssigner::session`]: one window per burst of activity of a key; windows
//!   `[ts, ts + gap)` of one key merge when they touch or overlap.
//!
//! - [`crate::KeyedStream::count_window`]: every `size` records of a key, whatever their time.
//!
//! What a window emits: [`aggregate`](crate::WindowedStream::aggregate) folds records into an
//! accumulator as they arrive (the cheapest); [`reduce`](crate::WindowedStream::reduce) folds
//! them with a function of two records; [`process`](crate::WindowedStream::process) keeps
//! every record and hands them all, with the key and window, to a function when the window
//! fires (the most flexible, and the most memory).
//!
//! Windows fire when the watermark passes their end, as Flink's event-time trigger. With
//! [`WindowedStream::allowed_lateness`](crate::WindowedStream::allowed_lateness) a window keeps
//! its state until the watermark passes `end - 1 + lateness`, and every late record within
//! that time fires it again with the updated aggregate; records later than that for every
//! window they belong to go to the late-data side output, or are dropped and counted.
//!
//! ```
//! use eddy_datastream::window::{AggregateFunction, WindowAssigner};
//! use eddy_datastream::WatermarkStrategy;
//!
//! /// Counts records.
//! #[derive(Clone)]
//! struct Count;
//! impl AggregateFunction<(char, i64)> for Count {
//!     type Acc = u64;
//!     type Out = u64;
//!     fn create_accumulator(&self) -> u64 { 0 }
//!     fn add(&self, acc: &mut u64, _: &(char, i64)) { *acc += 1 }
//!     fn get_result(&self, acc: &u64) -> u64 { *acc }
//!     fn merge(&self, a: u64, b: u64) -> u64 { a + b }
//! }
//!
//! let out = eddy_datastream::example(|env| {
//!     env.from_collection(vec![('a', 1), ('a', 5), ('a', 12), ('b', 3)])
//!         .assign_timestamps_and_watermarks(
//!             WatermarkStrategy::for_monotonous_timestamps().with_timestamp_assigner(|e: &(char, i64)| e.1),
//!         )
//!         .key_by(|e: &(char, i64)| e.0)
//!         .window(WindowAssigner::tumbling(10))
//!         .aggregate(Count)
//! });
//! let mut rows: Vec<_> = out.iter().map(|w| (w.key, w.window.start, w.value)).collect();
//! rows.sort();
//! assert_eq!(rows, vec![('a', 0, 2), ('a', 10, 1), ('b', 0, 1)]);
//! ```

mod count;
pub(crate) mod functions;
mod operator;
mod sliding;
pub mod trigger;
mod triggered;

pub(crate) use count::CountWindowOperator;
pub(crate) use operator::WindowOperator;
pub(crate) use sliding::SlidingWindowOperator;
pub(crate) use triggered::{Assign, TriggeredConfig, TriggeredWindowOperator};

/// Re-exported from the runtime: windows and aggregating state share it.
pub use eddy_runtime::state::AggregateFunction;

use eddy_runtime::Timestamp;
use serde::{Deserialize, Serialize};

/// The error of an event-time window operator given a record without a timestamp.
pub(crate) fn missing_timestamp(operator: &str) -> eddy_runtime::Error {
    eddy_runtime::Error::user(
        operator,
        "record without a timestamp: assign timestamps and watermarks before an event-time window",
    )
}

/// Where a window operator's late records go: the late-data side output, or counted and
/// dropped (the count is logged when the input ends).
pub(crate) struct LateRecords {
    emit: bool,
    dropped: u64,
}

impl LateRecords {
    pub(crate) fn new(emit: bool) -> Self {
        LateRecords { emit, dropped: 0 }
    }

    /// Sends `value` to the side output, or counts it.
    pub(crate) fn handle<M, T>(
        &mut self,
        value: T,
        timestamp: eddy_runtime::Timestamp,
        out: &mut dyn eddy_runtime::Output<crate::operators::side_output::Tagged<M, T>>,
    ) -> eddy_runtime::Result<()> {
        if self.emit {
            out.collect(eddy_runtime::Record::with_timestamp(
                crate::operators::side_output::Tagged::Side(value),
                timestamp,
            ))
        } else {
            self.dropped += 1;
            Ok(())
        }
    }

    /// Logs how many were dropped, if any.
    pub(crate) fn log(&self, operator: &str) {
        if self.dropped > 0 {
            tracing::warn!(operator, dropped = self.dropped, "late records dropped");
        }
    }
}

/// A time window `[start, end)` in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TimeWindow {
    /// First millisecond in the window.
    pub start: Timestamp,
    /// First millisecond after the window.
    pub end: Timestamp,
}

impl TimeWindow {
    /// The window's last millisecond, `end - 1`: when it fires.
    pub fn max_timestamp(&self) -> Timestamp {
        self.end - 1
    }

    /// Whether the windows overlap or touch (session windows that do merge).
    pub fn intersects(&self, other: &TimeWindow) -> bool {
        self.start <= other.end && self.end >= other.start
    }

    /// The smallest window covering both.
    pub fn cover(&self, other: &TimeWindow) -> TimeWindow {
        TimeWindow {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// The start of the window of `size` (shifted by `offset`) that holds `timestamp`.
#[inline]
pub fn window_start(timestamp: Timestamp, offset: i64, size: i64) -> Timestamp {
    timestamp - (timestamp - offset).rem_euclid(size)
}

/// Which windows a record belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowAssigner {
    /// Non-overlapping windows of `size` ms, aligned to `offset`.
    Tumbling {
        /// Window length in ms.
        size: i64,
        /// Alignment offset in ms (0: aligned to the epoch).
        offset: i64,
    },
    /// Windows of `size` ms starting every `slide` ms.
    Sliding {
        /// Window length in ms.
        size: i64,
        /// Distance between window starts in ms.
        slide: i64,
        /// Alignment offset in ms.
        offset: i64,
    },
    /// Per-key windows that merge while records are less than `gap` ms apart.
    Session {
        /// Inactivity that closes a session, in ms.
        gap: i64,
    },
}

impl WindowAssigner {
    /// Tumbling windows of `size_ms`.
    ///
    /// # Panics
    /// If `size_ms` is not positive.
    pub fn tumbling(size_ms: i64) -> Self {
        assert!(size_ms > 0, "window size must be positive");
        WindowAssigner::Tumbling {
            size: size_ms,
            offset: 0,
        }
    }

    /// Sliding windows of `size_ms` every `slide_ms`.
    ///
    /// # Panics
    /// If either is not positive.
    pub fn sliding(size_ms: i64, slide_ms: i64) -> Self {
        assert!(
            size_ms > 0 && slide_ms > 0,
            "window size and slide must be positive"
        );
        WindowAssigner::Sliding {
            size: size_ms,
            slide: slide_ms,
            offset: 0,
        }
    }

    /// Session windows closed by `gap_ms` of inactivity.
    ///
    /// # Panics
    /// If `gap_ms` is not positive.
    pub fn session(gap_ms: i64) -> Self {
        assert!(gap_ms > 0, "session gap must be positive");
        WindowAssigner::Session { gap: gap_ms }
    }

    /// Whether windows of one key may merge.
    pub fn is_merging(&self) -> bool {
        matches!(self, WindowAssigner::Session { .. })
    }

    /// Calls `f` with each window holding `timestamp` (sliding: latest start first, as Flink).
    pub fn assign(&self, timestamp: Timestamp, mut f: impl FnMut(TimeWindow)) {
        match *self {
            WindowAssigner::Tumbling { size, offset } => {
                let start = window_start(timestamp, offset, size);
                f(TimeWindow {
                    start,
                    end: start + size,
                });
            }
            WindowAssigner::Sliding {
                size,
                slide,
                offset,
            } => {
                let mut start = window_start(timestamp, offset, slide);
                while start > timestamp - size {
                    f(TimeWindow {
                        start,
                        end: start + size,
                    });
                    start -= slide;
                }
            }
            WindowAssigner::Session { gap } => f(TimeWindow {
                start: timestamp,
                end: timestamp.saturating_add(gap),
            }),
        }
    }
}

/// The result of one window firing: the key, the window and the aggregate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Windowed<K, O> {
    /// The key whose records were aggregated.
    pub key: K,
    /// The window that fired.
    pub window: TimeWindow,
    /// The aggregate.
    pub value: O,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn windows(a: WindowAssigner, ts: i64) -> Vec<(i64, i64)> {
        let mut out = Vec::new();
        a.assign(ts, |w| out.push((w.start, w.end)));
        out
    }

    #[test]
    fn assigners_align_to_the_epoch_like_flink() {
        assert_eq!(windows(WindowAssigner::tumbling(10), 15), [(10, 20)]);
        assert_eq!(windows(WindowAssigner::tumbling(10), -1), [(-10, 0)]);
        assert_eq!(
            windows(WindowAssigner::sliding(10, 5), 12),
            [(10, 20), (5, 15)]
        );
        assert_eq!(
            windows(WindowAssigner::sliding(10, 3), 0),
            [(0, 10), (-3, 7), (-6, 4), (-9, 1)]
        );
        assert_eq!(windows(WindowAssigner::session(7), 3), [(3, 10)]);
    }

    #[test]
    fn touching_windows_intersect() {
        let a = TimeWindow { start: 0, end: 5 };
        assert!(a.intersects(&TimeWindow { start: 5, end: 9 }));
        assert!(!a.intersects(&TimeWindow { start: 6, end: 9 }));
        assert_eq!(
            a.cover(&TimeWindow { start: 3, end: 9 }),
            TimeWindow { start: 0, end: 9 }
        );
    }
}
