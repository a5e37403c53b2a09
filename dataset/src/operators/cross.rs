//! `cross`: the Cartesian product. One side (the tiny one) is broadcast to every subtask and
//! held; the other streams past it once the broadcast side is complete.
//!
//! # Memory
//! The broadcast side is held in memory, as are streaming rows that arrive before it is
//! complete.

use eddy_runtime::{Output, Result};

use super::two_input::BinaryOperator;
use crate::function::emit_all;

/// Pairs every streaming row with every held row.
pub(crate) struct Cross<A, B, F> {
    function: F,
    /// Whether the first input is the held (broadcast) one.
    hold_left: bool,
    complete: bool,
    held_left: Vec<A>,
    held_right: Vec<B>,
    early_left: Vec<A>,
    early_right: Vec<B>,
}

impl<A, B, F> Cross<A, B, F> {
    pub(crate) fn new(function: F, hold_left: bool) -> Self {
        Cross {
            function,
            hold_left,
            complete: false,
            held_left: Vec::new(),
            held_right: Vec::new(),
            early_left: Vec::new(),
            early_right: Vec::new(),
        }
    }
}

impl<A, B, O, F> Cross<A, B, F>
where
    A: Clone,
    B: Clone,
    F: FnMut(A, B) -> O,
{
    fn stream_left(&mut self, a: A, out: &mut dyn Output<O>) -> Result<()> {
        for b in &self.held_right {
            emit_all(out, Some((self.function)(a.clone(), b.clone())))?;
        }
        Ok(())
    }

    fn stream_right(&mut self, b: B, out: &mut dyn Output<O>) -> Result<()> {
        for a in &self.held_left {
            emit_all(out, Some((self.function)(a.clone(), b.clone())))?;
        }
        Ok(())
    }
}

impl<A, B, O, F> BinaryOperator<A, B, O> for Cross<A, B, F>
where
    A: Clone + Send,
    B: Clone + Send,
    F: FnMut(A, B) -> O + Send,
{
    fn left(&mut self, a: A, out: &mut dyn Output<O>) -> Result<()> {
        match (self.hold_left, self.complete) {
            (true, _) => self.held_left.push(a),
            (false, true) => self.stream_left(a, out)?,
            (false, false) => self.early_left.push(a),
        }
        Ok(())
    }

    fn right(&mut self, b: B, out: &mut dyn Output<O>) -> Result<()> {
        match (self.hold_left, self.complete) {
            (false, _) => self.held_right.push(b),
            (true, true) => self.stream_right(b, out)?,
            (true, false) => self.early_right.push(b),
        }
        Ok(())
    }

    fn left_ended(&mut self, out: &mut dyn Output<O>) -> Result<()> {
        if self.hold_left {
            self.complete = true;
            for b in std::mem::take(&mut self.early_right) {
                self.stream_right(b, out)?;
            }
        }
        Ok(())
    }

    fn right_ended(&mut self, out: &mut dyn Output<O>) -> Result<()> {
        if !self.hold_left {
            self.complete = true;
            for a in std::mem::take(&mut self.early_left) {
                self.stream_left(a, out)?;
            }
        }
        Ok(())
    }
}
