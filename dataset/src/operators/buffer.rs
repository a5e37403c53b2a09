//! An input buffer under the memory budget: the records a blocking operator must hold until
//! its input ends, in memory while the budget allows and in spill files beyond.
//!
//! # Memory
//! Reserves `size_of::<T>()` per buffered record (heap data a record owns is not counted)
//! in steps of a few pages; when the budget refuses a step, the records in memory are written
//! to a new run of the operator's spill directory and the reservation is released. Runs and
//! the directory are removed when the buffer (or its reader) is dropped, on success, error
//! or panic.

use eddy_runtime::memory::{MemoryManager, MemoryReservation, SpillDir};
use eddy_runtime::{Error, Result};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::spill::{RunFile, RunReader, RunWriter};

/// Bytes of I/O buffer per spill file written or read.
const IO_BUFFER: usize = 64 << 10;

/// Records held for later, spilling to disk past the budget.
pub(crate) struct SpillingBuffer<T> {
    memory: MemoryManager,
    reservation: MemoryReservation,
    records: Vec<T>,
    runs: Vec<RunFile>,
    dir: Option<SpillDir>,
}

impl<T: Serialize + DeserializeOwned> SpillingBuffer<T> {
    pub(crate) fn new(memory: &MemoryManager) -> Self {
        SpillingBuffer {
            memory: memory.clone(),
            reservation: memory.reservation(),
            records: Vec::new(),
            runs: Vec::new(),
            dir: None,
        }
    }

    /// Adds a record, spilling what is in memory first if the budget refuses to grow.
    #[inline]
    pub(crate) fn push(&mut self, record: T) -> Result<()> {
        let needed = (self.records.len() + 1) * size_of::<T>().max(1);
        if needed > self.reservation.size() {
            let step = (self.records.len() * size_of::<T>()).max(self.memory.page_size());
            if !self.reservation.try_grow(step) {
                self.spill()?;
                // One page at least, so that progress is always possible.
                if !self.reservation.try_grow(self.memory.page_size()) {
                    self.reservation.force_grow(size_of::<T>().max(1));
                }
            }
        }
        self.records.push(record);
        Ok(())
    }

    fn spill(&mut self) -> Result<()> {
        if self.records.is_empty() {
            return Ok(());
        }
        if self.dir.is_none() {
            self.dir = Some(self.memory.spill_dir()?);
        }
        let dir = self
            .dir
            .as_ref()
            .ok_or_else(|| Error::Internal("spill directory missing".into()))?;
        let mut writer = RunWriter::create(dir, "buffer", IO_BUFFER)?;
        for record in self.records.drain(..) {
            writer.write(&record)?;
        }
        let run = writer.finish()?;
        self.memory.record_spill(run.bytes());
        self.runs.push(run);
        self.records = Vec::new();
        self.reservation.free();
        Ok(())
    }

    /// Whether any record went to disk.
    pub(crate) fn spilled(&self) -> bool {
        !self.runs.is_empty()
    }

    /// Every record, in the order pushed: the spilled runs, then those in memory. The
    /// reader keeps the memory and the spill directory until dropped.
    pub(crate) fn into_reader(self) -> Result<BufferReader<T>> {
        let runs = self
            .runs
            .into_iter()
            .map(|run| run.into_reader(IO_BUFFER))
            .collect::<Result<Vec<_>>>()?;
        Ok(BufferReader {
            runs: runs.into_iter(),
            current: None,
            memory: self.records.into_iter(),
            _reservation: self.reservation,
            _dir: self.dir,
        })
    }
}

/// Reads a [`SpillingBuffer`] back.
pub(crate) struct BufferReader<T> {
    runs: std::vec::IntoIter<RunReader<T>>,
    current: Option<RunReader<T>>,
    memory: std::vec::IntoIter<T>,
    _reservation: MemoryReservation,
    _dir: Option<SpillDir>,
}

impl<T: DeserializeOwned> Iterator for BufferReader<T> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Result<T>> {
        loop {
            if let Some(run) = self.current.as_mut() {
                match run.next() {
                    Some(item) => return Some(item),
                    None => self.current = None,
                }
            }
            match self.runs.next() {
                Some(run) => self.current = Some(run),
                None => return self.memory.next().map(Ok),
            }
        }
    }
}

/// Turns an iterator of results into one of values, keeping the first error aside: for
/// engines that take plain iterators.
pub(crate) struct Fallible<'a, I> {
    pub(crate) inner: I,
    pub(crate) error: &'a mut Option<Error>,
}

impl<T, I: Iterator<Item = Result<T>>> Iterator for Fallible<'_, I> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        if self.error.is_some() {
            return None;
        }
        match self.inner.next()? {
            Ok(value) => Some(value),
            Err(e) => {
                *self.error = Some(e);
                None
            }
        }
    }
}
