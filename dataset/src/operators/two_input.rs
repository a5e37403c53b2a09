//! The adapter that runs a [`BinaryOperator`] over the one merged input of [`Tagged`]
//! records, counting end markers to tell it when each side is complete.

use eddy_runtime::{Error, Operator, OperatorContext, Output, Record, Result};

use super::tag::Tagged;

/// An operator with two inputs, told when each is complete.
pub(crate) trait BinaryOperator<A, B, O>: Send {
    /// Called once before the first record.
    fn open(&mut self, _ctx: &mut OperatorContext<'_>) -> Result<()> {
        Ok(())
    }
    /// A record of the first input.
    fn left(&mut self, value: A, out: &mut dyn Output<O>) -> Result<()>;
    /// A record of the second input.
    fn right(&mut self, value: B, out: &mut dyn Output<O>) -> Result<()>;
    /// Every record of the first input has been seen.
    fn left_ended(&mut self, _out: &mut dyn Output<O>) -> Result<()> {
        Ok(())
    }
    /// Every record of the second input has been seen.
    fn right_ended(&mut self, _out: &mut dyn Output<O>) -> Result<()> {
        Ok(())
    }
    /// Both inputs are complete: emit what was held back.
    fn finish(&mut self, _out: &mut dyn Output<O>) -> Result<()> {
        Ok(())
    }
}

/// Dispatches tagged records to a [`BinaryOperator`].
pub(crate) struct TwoInput<A, B, O> {
    inner: Box<dyn BinaryOperator<A, B, O>>,
    /// End markers still expected from each side (one per tagger subtask).
    left_pending: u32,
    right_pending: u32,
}

impl<A, B, O> TwoInput<A, B, O> {
    pub(crate) fn new(
        inner: Box<dyn BinaryOperator<A, B, O>>,
        left_producers: u32,
        right_producers: u32,
    ) -> Self {
        TwoInput {
            inner,
            left_pending: left_producers,
            right_pending: right_producers,
        }
    }
}

impl<A: Send, B: Send, O: Send> Operator<Tagged<A, B>, O> for TwoInput<A, B, O> {
    fn open(&mut self, ctx: &mut OperatorContext<'_>) -> Result<()> {
        self.inner.open(ctx)
    }

    #[inline]
    fn process_record(
        &mut self,
        record: Record<Tagged<A, B>>,
        out: &mut dyn Output<O>,
    ) -> Result<()> {
        match record.value {
            Tagged::Left(a) => self.inner.left(a, out),
            Tagged::Right(b) => self.inner.right(b, out),
            Tagged::End { right: false, .. } => {
                self.left_pending = self.left_pending.saturating_sub(1);
                if self.left_pending == 0 {
                    self.inner.left_ended(out)?;
                }
                Ok(())
            }
            Tagged::End { right: true, .. } => {
                self.right_pending = self.right_pending.saturating_sub(1);
                if self.right_pending == 0 {
                    self.inner.right_ended(out)?;
                }
                Ok(())
            }
        }
    }

    fn finish(&mut self, out: &mut dyn Output<O>) -> Result<()> {
        if self.left_pending > 0 || self.right_pending > 0 {
            return Err(Error::Internal(format!(
                "two-input operator ended with {} left and {} right end markers missing",
                self.left_pending, self.right_pending
            )));
        }
        self.inner.finish(out)
    }
}
