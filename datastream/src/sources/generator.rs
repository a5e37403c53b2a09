//! A parallel generator source: `f(i)` for `i` in `0..count`, optionally throttled.

use std::sync::Arc;
use std::time::Instant;

use eddy_runtime::{Output, Record, Result, Source, SourceContext, SourceStatus};

/// Subtask `s` of `p` generates the indices `s, s + p, s + 2p, ...` below `count` (or
/// forever when `count` is `None`); `rate` caps the records per second of the whole source.
pub(crate) struct GeneratorSource<T> {
    pub(crate) function: Arc<dyn Fn(u64) -> T + Send + Sync>,
    pub(crate) count: Option<u64>,
    pub(crate) rate: Option<f64>,
    next: u64,
    step: u64,
    emitted: u64,
    started: Option<Instant>,
    subtask_rate: Option<f64>,
}

impl<T> GeneratorSource<T> {
    pub(crate) fn new(
        function: Arc<dyn Fn(u64) -> T + Send + Sync>,
        count: Option<u64>,
        rate: Option<f64>,
    ) -> Self {
        GeneratorSource {
            function,
            count,
            rate,
            next: 0,
            step: 1,
            emitted: 0,
            started: None,
            subtask_rate: None,
        }
    }
}

/// Records per poll.
const CHUNK: u64 = 1024;

impl<T: Send> Source<T> for GeneratorSource<T> {
    fn open(&mut self, ctx: &SourceContext) -> Result<()> {
        self.next = ctx.subtask as u64;
        self.step = ctx.parallelism as u64;
        self.subtask_rate = self.rate.map(|r| r / ctx.parallelism as f64);
        self.started = Some(Instant::now());
        Ok(())
    }

    fn poll(&mut self, out: &mut dyn Output<T>) -> Result<SourceStatus> {
        let mut budget = CHUNK;
        if let (Some(rate), Some(started)) = (self.subtask_rate, self.started) {
            let allowed = (started.elapsed().as_secs_f64() * rate) as u64;
            budget = budget.min(allowed.saturating_sub(self.emitted));
            if budget == 0 {
                return Ok(SourceStatus::Idle);
            }
        }
        for _ in 0..budget {
            if self.count.is_some_and(|c| self.next >= c) {
                return Ok(SourceStatus::Finished);
            }
            out.collect(Record::new((self.function)(self.next)))?;
            self.next += self.step;
            self.emitted += 1;
        }
        Ok(SourceStatus::More)
    }
}
