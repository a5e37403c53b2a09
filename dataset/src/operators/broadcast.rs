//! Functions with a broadcast set: the main input's records are processed with read access
//! to the whole broadcast data set, which every subtask receives in full.
//!
//! # Memory
//! The broadcast set is held in memory by every subtask, as are main records that arrive
//! before it is complete.

use eddy_runtime::{Output, Result};

use super::two_input::BinaryOperator;
use crate::function::emit_all;

/// Runs `function(record, broadcast_set)` for every main record, once the set is complete.
pub(crate) struct WithBroadcast<T, B, F> {
    function: F,
    set: Vec<B>,
    complete: bool,
    early: Vec<T>,
}

impl<T, B, F> WithBroadcast<T, B, F> {
    pub(crate) fn new(function: F) -> Self {
        WithBroadcast {
            function,
            set: Vec::new(),
            complete: false,
            early: Vec::new(),
        }
    }
}

impl<T, B, O, It, F> BinaryOperator<T, B, O> for WithBroadcast<T, B, F>
where
    T: Send,
    B: Send,
    It: IntoIterator<Item = O>,
    F: FnMut(T, &[B]) -> It + Send,
{
    fn left(&mut self, value: T, out: &mut dyn Output<O>) -> Result<()> {
        if self.complete {
            emit_all(out, (self.function)(value, &self.set))
        } else {
            self.early.push(value);
            Ok(())
        }
    }

    fn right(&mut self, value: B, _: &mut dyn Output<O>) -> Result<()> {
        self.set.push(value);
        Ok(())
    }

    fn right_ended(&mut self, out: &mut dyn Output<O>) -> Result<()> {
        self.complete = true;
        for value in std::mem::take(&mut self.early) {
            emit_all(out, (self.function)(value, &self.set))?;
        }
        Ok(())
    }
}
