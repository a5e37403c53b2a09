//! Processing time behind a [`Clock`], so that tests can drive it with a [`ManualClock`].
//!
//! ```
//! use eddy_runtime::time::{Clock, ManualClock};
//! let clock = ManualClock::new(1_000);
//! clock.advance(500);
//! assert_eq!(clock.now_millis(), 1_500);
//! ```

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use crate::Timestamp;

/// A source of processing time, in milliseconds since the epoch.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current processing time.
    fn now_millis(&self) -> Timestamp;
}

/// The machine's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_millis(&self) -> Timestamp {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as Timestamp)
    }
}

/// A clock that moves only when told to; clones share the same time.
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    now: Arc<AtomicI64>,
}

impl ManualClock {
    /// A clock standing at `now` ms.
    pub fn new(now: Timestamp) -> Self {
        ManualClock {
            now: Arc::new(AtomicI64::new(now)),
        }
    }

    /// Moves the clock forward by `millis`.
    pub fn advance(&self, millis: i64) {
        self.now.fetch_add(millis, Ordering::SeqCst);
    }

    /// Sets the clock to `now`.
    pub fn set(&self, now: Timestamp) {
        self.now.store(now, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_millis(&self) -> Timestamp {
        self.now.load(Ordering::SeqCst)
    }
}

/// The clock every job uses unless configured otherwise.
pub fn system_clock() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}
