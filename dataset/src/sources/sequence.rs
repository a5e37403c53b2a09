//! A parallel source of the numbers `from..=to` (Flink's `generateSequence`): subtask `i` of
//! `p` emits the `i`-th of `p` contiguous slices.

use eddy_runtime::{Output, Record, Result, Source, SourceContext, SourceStatus};

use super::CHUNK;

/// Emits its subtask's slice of an inclusive range.
pub(crate) struct SequenceSource {
    from: u64,
    to: u64,
    next: u64,
    end: u64,
}

impl SequenceSource {
    /// The numbers `from..=to` (none when `from > to`).
    pub(crate) fn new(from: u64, to: u64) -> Self {
        SequenceSource {
            from,
            to,
            next: 0,
            end: 0,
        }
    }
}

impl Source<u64> for SequenceSource {
    fn open(&mut self, ctx: &SourceContext) -> Result<()> {
        if self.from > self.to {
            return Ok(());
        }
        let total = (self.to - self.from) as u128 + 1;
        let (p, s) = (ctx.parallelism as u128, ctx.subtask as u128);
        self.next = self.from + (total * s / p) as u64;
        self.end = self.from + (total * (s + 1) / p) as u64;
        Ok(())
    }

    fn poll(&mut self, out: &mut dyn Output<u64>) -> Result<SourceStatus> {
        let stop = self.end.min(self.next.saturating_add(CHUNK as u64));
        while self.next < stop {
            out.collect(Record::new(self.next))?;
            self.next += 1;
        }
        Ok(if self.next >= self.end {
            SourceStatus::Finished
        } else {
            SourceStatus::More
        })
    }
}
