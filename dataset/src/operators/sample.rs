//! A uniform sample of each subtask's keys (reservoir sampling), emitted when the input
//! ends: how `partition_by_range` finds its boundaries.
//!
//! # Memory
//! At most `size` keys per subtask.

use eddy_runtime::{Operator, Output, Record, Result};

use crate::function::KeySelector;

/// Keeps a reservoir of `size` keys of its input.
pub(crate) struct Sample<T, K> {
    key: KeySelector<T, K>,
    size: usize,
    seen: u64,
    rng: u64,
    reservoir: Vec<K>,
}

impl<T, K> Sample<T, K> {
    pub(crate) fn new(key: KeySelector<T, K>, size: usize) -> Self {
        Sample {
            key,
            size,
            seen: 0,
            rng: 0x2545_F491_4F6C_DD1D,
            reservoir: Vec::with_capacity(size),
        }
    }
}

impl<T: Send, K: Send> Operator<T, K> for Sample<T, K> {
    fn process_record(&mut self, record: Record<T>, _: &mut dyn Output<K>) -> Result<()> {
        self.seen += 1;
        if self.reservoir.len() < self.size {
            self.reservoir.push((self.key)(&record.value));
            return Ok(());
        }
        // xorshift64: cheap and good enough to pick a slot uniformly.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        let slot = self.rng % self.seen;
        if (slot as usize) < self.size {
            self.reservoir[slot as usize] = (self.key)(&record.value);
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut dyn Output<K>) -> Result<()> {
        for key in self.reservoir.drain(..) {
            out.collect(Record::new(key))?;
        }
        Ok(())
    }
}
