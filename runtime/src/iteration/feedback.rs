//! The feedback channel of an iteration: what the tail of superstep n hands to the head of
//! superstep n+1, one partition per subtask, moved (never copied) across the superstep
//! barrier.
//!
//! A [`Feedback`] has two banks. The tail ([`FeedbackSink`], one per subtask) appends its
//! records to the *next* bank; the head ([`FeedbackSource`]) takes its partition out of the
//! *current* bank. Between supersteps the driver calls [`Feedback::advance`], which makes the
//! next bank current. Each subtask touches only its own slot, once per superstep, so the
//! locks are never contended.
//!
//! ```
//! use eddy_runtime::iteration::Feedback;
//!
//! let feedback: Feedback<u32> = Feedback::new(2);
//! feedback.push(0, vec![1, 2]);
//! feedback.push(1, vec![3]);
//! assert_eq!(feedback.pending(), 3);
//! feedback.advance();
//! assert_eq!(feedback.take(1), vec![3]);
//! ```

use std::sync::{Arc, Mutex};

use crate::operator::{Operator, OperatorContext, Output, Source, SourceContext, SourceStatus};
use crate::{Error, Record, Result};

/// Records a head subtask emits per poll.
const CHUNK: usize = 1024;

/// The two banks of an iteration's feedback, one slot per subtask.
pub struct Feedback<T> {
    inner: Arc<Banks<T>>,
}

struct Banks<T> {
    current: Vec<Mutex<Vec<T>>>,
    next: Vec<Mutex<Vec<T>>>,
}

impl<T> Clone for Feedback<T> {
    fn clone(&self) -> Self {
        Feedback {
            inner: self.inner.clone(),
        }
    }
}

fn lock<T>(slot: &Mutex<Vec<T>>) -> std::sync::MutexGuard<'_, Vec<T>> {
    // A panic while holding a slot lock loses nothing but that slot's records, and the job
    // fails anyway: keep going with the data.
    slot.lock().unwrap_or_else(|p| p.into_inner())
}

impl<T> Feedback<T> {
    /// Empty banks for `parallelism` subtasks.
    pub fn new(parallelism: u32) -> Self {
        let bank = || {
            (0..parallelism.max(1))
                .map(|_| Mutex::new(Vec::new()))
                .collect()
        };
        Feedback {
            inner: Arc::new(Banks {
                current: bank(),
                next: bank(),
            }),
        }
    }

    /// Feedback whose current bank holds `partitions` (the iteration's initial input).
    pub fn with_initial(partitions: Vec<Vec<T>>) -> Self {
        let feedback = Feedback::new(partitions.len() as u32);
        for (slot, part) in feedback.inner.current.iter().zip(partitions) {
            *lock(slot) = part;
        }
        feedback
    }

    /// Number of subtasks (slots per bank).
    pub fn parallelism(&self) -> u32 {
        self.inner.current.len() as u32
    }

    /// Appends to subtask `subtask`'s slot of the next bank (what a tail does).
    pub fn push(&self, subtask: usize, mut records: Vec<T>) {
        if let Some(slot) = self.inner.next.get(subtask) {
            lock(slot).append(&mut records);
        }
    }

    /// Takes subtask `subtask`'s slot of the current bank (what a head does).
    pub fn take(&self, subtask: usize) -> Vec<T> {
        self.inner
            .current
            .get(subtask)
            .map(|slot| std::mem::take(&mut *lock(slot)))
            .unwrap_or_default()
    }

    /// Records waiting in the next bank: the size of what the superstep fed back.
    pub fn pending(&self) -> usize {
        self.inner.next.iter().map(|s| lock(s).len()).sum()
    }

    /// Takes the next bank's slots (the driver consuming a tail's output itself).
    pub fn take_next(&self) -> Vec<Vec<T>> {
        self.inner
            .next
            .iter()
            .map(|s| std::mem::take(&mut *lock(s)))
            .collect()
    }

    /// The superstep barrier passed: the next bank becomes current (what the head of the
    /// next superstep reads), and the next bank starts empty. Records the head did not take
    /// are dropped.
    pub fn advance(&self) {
        for (current, next) in self.inner.current.iter().zip(&self.inner.next) {
            let fed_back = std::mem::take(&mut *lock(next));
            *lock(current) = fed_back;
        }
    }

    /// Takes every slot of the current bank: the iteration's result after its last
    /// superstep (and [`Feedback::advance`]).
    pub fn into_partitions(self) -> Vec<Vec<T>> {
        self.inner
            .current
            .iter()
            .map(|s| std::mem::take(&mut *lock(s)))
            .collect()
    }
}

/// The head of an iteration: each superstep, subtask `i` emits the records of slot `i` of
/// the feedback's current bank.
pub struct FeedbackSource<T> {
    feedback: Feedback<T>,
    records: std::vec::IntoIter<T>,
}

impl<T> FeedbackSource<T> {
    /// A head reading `feedback`.
    pub fn new(feedback: Feedback<T>) -> Self {
        FeedbackSource {
            feedback,
            records: Vec::new().into_iter(),
        }
    }
}

impl<T: Send> Source<T> for FeedbackSource<T> {
    fn open(&mut self, ctx: &SourceContext) -> Result<()> {
        if ctx.subtask >= self.feedback.parallelism() {
            return Err(Error::Internal(
                "iteration head runs at another parallelism than its feedback".into(),
            ));
        }
        self.records = self.feedback.take(ctx.subtask as usize).into_iter();
        Ok(())
    }

    fn poll(&mut self, out: &mut dyn Output<T>) -> Result<SourceStatus> {
        for _ in 0..CHUNK {
            match self.records.next() {
                Some(value) => out.collect(Record::new(value))?,
                None => return Ok(SourceStatus::Finished),
            }
        }
        Ok(SourceStatus::More)
    }
}

/// The tail of an iteration: gathers its subtask's records and feeds them back (into slot
/// `i` of the next bank) when the superstep's input ends.
pub struct FeedbackSink<T> {
    feedback: Feedback<T>,
    subtask: usize,
    local: Vec<T>,
}

impl<T> FeedbackSink<T> {
    /// A tail writing into `feedback`.
    pub fn new(feedback: Feedback<T>) -> Self {
        FeedbackSink {
            feedback,
            subtask: 0,
            local: Vec::new(),
        }
    }
}

impl<T: Send> Operator<T, ()> for FeedbackSink<T> {
    fn open(&mut self, ctx: &mut OperatorContext<'_>) -> Result<()> {
        self.subtask = ctx.subtask as usize;
        if ctx.subtask >= self.feedback.parallelism() {
            return Err(Error::Internal(
                "iteration tail runs at another parallelism than its feedback".into(),
            ));
        }
        Ok(())
    }

    #[inline]
    fn process_record(&mut self, record: Record<T>, _: &mut dyn Output<()>) -> Result<()> {
        self.local.push(record.value);
        Ok(())
    }

    fn finish(&mut self, _: &mut dyn Output<()>) -> Result<()> {
        self.feedback
            .push(self.subtask, std::mem::take(&mut self.local));
        Ok(())
    }
}
