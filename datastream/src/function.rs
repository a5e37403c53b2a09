//! What user functions see: the [`Collector`] they emit into, the error type they may return,
//! and key selectors.

use std::sync::Arc;

use eddy_runtime::state::KeyRef;
use eddy_runtime::{Error, Output, Record, Timestamp};

/// The error a fallible user function returns; any error type converts into it with `?`.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Where a [`crate::DataStream::process`] function emits its results. Each emitted value
/// inherits the timestamp of the record being processed.
pub struct Collector<'a, T> {
    out: &'a mut dyn Output<T>,
    timestamp: Option<Timestamp>,
    error: Option<Error>,
}

impl<'a, T> Collector<'a, T> {
    pub(crate) fn new(out: &'a mut dyn Output<T>, timestamp: Option<Timestamp>) -> Self {
        Collector {
            out,
            timestamp,
            error: None,
        }
    }

    /// Emits `value`.
    #[inline]
    pub fn collect(&mut self, value: T) {
        if self.error.is_none() {
            if let Err(e) = self.out.collect(Record {
                value,
                timestamp: self.timestamp,
            }) {
                self.error = Some(e);
            }
        }
    }

    /// The timestamp of the record being processed, if it has one.
    pub fn timestamp(&self) -> Option<Timestamp> {
        self.timestamp
    }

    /// The first failure of the output downstream, if any; the caller ends the record with it.
    pub(crate) fn finish(self) -> Result<(), Error> {
        self.error.map_or(Ok(()), Err)
    }
}

/// Extracts the key of a record, borrowed where the key is a part of the record.
pub(crate) type KeyFn<T, K> = Arc<dyn for<'a> Fn(&'a T) -> KeyRef<'a, K> + Send + Sync>;

/// Counts records so that an operator reads the clock only every [`ClockCheck::EVERY`] of
/// them: reading it for every record would cost more than most operators' work.
#[derive(Debug, Default)]
pub(crate) struct ClockCheck {
    since: u32,
}

impl ClockCheck {
    /// Records between two reads of the clock.
    pub(crate) const EVERY: u32 = 256;

    /// Counts a record; true when the clock is due to be read.
    #[inline]
    pub(crate) fn tick(&mut self) -> bool {
        self.since += 1;
        if self.since >= Self::EVERY {
            self.since = 0;
            true
        } else {
            false
        }
    }
}
