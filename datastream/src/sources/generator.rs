//! A parallel generator source: `f(i)` for `i` in `0..count`, optionally throttled.

use std::sync::Arc;
use std::time::Instant;

use eddy_runtime::checkpoint::{RestoredState, SnapshotWriter};
use eddy_runtime::{Output, Record, Result, Source, SourceContext, SourceStatus};

/// The name of the source's operator state: the progressions still to generate.
const PROGRESSIONS: &str = "generator progressions";

/// Subtask `s` of `p` generates the indices `s, s + p, s + 2p, ...` below `count` (or
/// forever when `count` is `None`); `rate` caps the records per second of the whole source.
pub(crate) struct GeneratorSource<T> {
    pub(crate) function: Arc<dyn Fn(u64) -> T + Send + Sync>,
    pub(crate) count: Option<u64>,
    pub(crate) rate: Option<f64>,
    /// Arithmetic progressions `next, next + step, ...` this subtask generates, in turn: one
    /// on a fresh start, several after a restore at a lower parallelism.
    progressions: Vec<(u64, u64)>,
    /// The progression the next value comes from.
    turn: usize,
    emitted: u64,
    started: Option<Instant>,
    subtask_rate: Option<f64>,
    subtask: (u32, u32),
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
            progressions: Vec::new(),
            turn: 0,
            emitted: 0,
            started: None,
            subtask_rate: None,
            subtask: (0, 1),
        }
    }
}

/// Records per poll.
const CHUNK: u64 = 1024;

impl<T: Send> Source<T> for GeneratorSource<T> {
    fn open(&mut self, ctx: &SourceContext) -> Result<()> {
        self.progressions = vec![(ctx.subtask as u64, ctx.parallelism as u64)];
        self.subtask = (ctx.subtask, ctx.parallelism);
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
            if let Some(count) = self.count {
                self.progressions.retain(|(next, _)| *next < count);
            }
            if self.progressions.is_empty() {
                return Ok(SourceStatus::Finished);
            }
            self.turn %= self.progressions.len();
            let (next, step) = &mut self.progressions[self.turn];
            out.collect(Record::new((self.function)(*next)))?;
            *next += *step;
            self.turn += 1;
            self.emitted += 1;
        }
        Ok(SourceStatus::More)
    }

    fn snapshot_state(&mut self, writer: &mut SnapshotWriter) -> Result<()> {
        writer.operator_state(PROGRESSIONS, &self.progressions)
    }

    fn restore_state(&mut self, restored: &RestoredState) -> Result<()> {
        let (subtask, parallelism) = self.subtask;
        self.progressions = restored
            .operator_state::<Vec<(u64, u64)>>(PROGRESSIONS)?
            .into_iter()
            .flatten()
            .enumerate()
            .filter(|(i, _)| *i as u32 % parallelism == subtask)
            .map(|(_, progression)| progression)
            .collect();
        self.turn = 0;
        Ok(())
    }
}
