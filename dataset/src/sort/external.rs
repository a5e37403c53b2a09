//! [`ExternalSorter`]: the buffer that fills to the budget, spills sorted runs and merges them,
//! and [`SortedOutput`], the stream of its result.

use std::mem::size_of;

use eddy_runtime::memory::{MemoryManager, MemoryReservation, SpillDir};
use eddy_runtime::Result;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::buffer::{next_combined, sort_entries, Combiner, Order};
use super::merge::LoserTree;
use crate::key::SortKey;
use crate::spill::{RunFile, RunReader, RunWriter};

/// The most runs merged at once; more runs are merged in several levels.
pub const MAX_FAN_IN: usize = 128;

/// Pages of buffered I/O per run read or written (128 KiB with the default page size).
const IO_PAGES: usize = 4;

/// Heap bytes of an entry, reported by the caller.
type RecordSize<K, T> = Box<dyn Fn(&K, &T) -> usize + Send>;

/// What one sort did, for tests and logs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SortMetrics {
    /// Records pushed.
    pub records: u64,
    /// Sorted runs written to disk while filling (0 when the sort stayed in memory).
    pub spilled_runs: usize,
    /// Bytes written to disk, intermediate merge runs included.
    pub spilled_bytes: u64,
    /// Intermediate merge levels run before the final merge (0 when at most the fan-in of
    /// runs were spilled).
    pub merge_levels: usize,
    /// The fan-in of the final merge (0 when nothing spilled).
    pub fan_in: usize,
}

/// An external merge sort of records of type `T` by a key `K` extracted with `F`.
///
/// See the [module documentation](super) for how to call it, the algorithm and its memory.
pub struct ExternalSorter<T, K, F> {
    memory: MemoryManager,
    reservation: MemoryReservation,
    key_of: F,
    buffer: Vec<(K, T)>,
    buffered_bytes: usize,
    record_size: Option<RecordSize<K, T>>,
    combiner: Option<Combiner<T>>,
    order: Order,
    threads: usize,
    pool: Option<rayon::ThreadPool>,
    runs: Vec<RunFile>,
    spill_dir: Option<SpillDir>,
    metrics: SortMetrics,
}

/// The key extractor of a sorter fed with [`ExternalSorter::push_keyed`] only (records that
/// arrive with their key already extracted).
#[derive(Clone, Copy, Debug)]
pub struct PreKeyed;

impl<T, K> ExternalSorter<T, K, PreKeyed>
where
    T: Serialize + DeserializeOwned + Send + 'static,
    K: SortKey,
{
    /// A sorter of records that come with their keys ([`ExternalSorter::push_keyed`]).
    pub fn with_keys(memory: &MemoryManager) -> Self {
        Self::create(memory, PreKeyed)
    }
}

impl<T, K, F> ExternalSorter<T, K, F>
where
    T: Serialize + DeserializeOwned + Send + 'static,
    K: SortKey,
    F: FnMut(&T) -> K,
{
    /// A sorter drawing on `memory`, ordering records by `key_of(record)`, ascending,
    /// not necessarily stable, single-threaded, without a combiner.
    pub fn new(memory: &MemoryManager, key_of: F) -> Self {
        Self::create(memory, key_of)
    }

    /// Adds a record, spilling the buffer first when the budget refuses it.
    ///
    /// # Errors
    ///
    /// [`eddy_runtime::Error::Io`] when a spill file cannot be written.
    #[inline]
    pub fn push(&mut self, record: T) -> Result<()> {
        let key = (self.key_of)(&record);
        self.push_keyed(key, record)
    }
}

impl<T, K, F> ExternalSorter<T, K, F>
where
    T: Serialize + DeserializeOwned + Send + 'static,
    K: SortKey,
{
    fn create(memory: &MemoryManager, key_of: F) -> Self {
        ExternalSorter {
            memory: memory.clone(),
            reservation: memory.reservation(),
            key_of,
            buffer: Vec::new(),
            buffered_bytes: 0,
            record_size: None,
            combiner: None,
            order: Order::default(),
            threads: 1,
            pool: None,
            runs: Vec::new(),
            spill_dir: None,
            metrics: SortMetrics::default(),
        }
    }

    /// Records of equal key come out in the order they were pushed.
    pub fn stable(mut self, stable: bool) -> Self {
        self.order.stable = stable;
        self
    }

    /// Largest key first.
    pub fn descending(mut self, descending: bool) -> Self {
        self.order.descending = descending;
        self
    }

    /// Folds every record into the earlier one of equal key (`combine(&mut earlier, later)`),
    /// while spilling and merging, so each key comes out once. The combiner must not change
    /// the record's key.
    pub fn combiner(mut self, combine: impl FnMut(&mut T, T) + Send + 'static) -> Self {
        self.combiner = Some(Box::new(combine));
        self
    }

    /// Heap bytes owned by a record and its key beyond their inline size (the bytes of a
    /// `String` field, say), so the budget counts them. Without it only inline sizes count.
    pub fn record_size(mut self, size: impl Fn(&K, &T) -> usize + Send + 'static) -> Self {
        self.record_size = Some(Box::new(size));
        self
    }

    /// Threads for sorting the in-memory buffer (a private rayon pool) [default: 1].
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// What the sort did so far.
    pub fn metrics(&self) -> &SortMetrics {
        &self.metrics
    }

    /// Bytes per buffered entry: the entry, plus the stable radix sort's scratch copy or the
    /// stable merge sort's half-size buffer.
    fn slot_bytes(&self) -> usize {
        let entry = size_of::<(K, T)>().max(1);
        match (self.order.stable, K::EXACT_PREFIX) {
            (false, _) => entry,
            (true, true) => 2 * entry,
            (true, false) => entry + entry / 2,
        }
    }

    /// Adds a record with its key (which must be the record's key in the caller's sense;
    /// the sorter does not check), spilling the buffer first when the budget refuses it.
    ///
    /// # Errors
    ///
    /// [`eddy_runtime::Error::Io`] when a spill file cannot be written.
    pub fn push_keyed(&mut self, key: K, record: T) -> Result<()> {
        let size = self.slot_bytes()
            + self
                .record_size
                .as_ref()
                .map_or(0, |size_of_heap| size_of_heap(&key, &record));
        if self.buffered_bytes + size > self.reservation.size() {
            self.make_room(size)?;
        }
        if self.buffer.capacity() == 0 {
            // Capacity for the whole budget up front: untouched capacity is only address
            // space, and growing by reallocation would briefly hold two copies.
            let entries = self.memory.budget() / self.slot_bytes();
            self.buffer.reserve_exact(entries.clamp(16, 1 << 28));
            eddy_runtime::memory::advise_huge_pages(&self.buffer);
        }
        self.buffer.push((key, record));
        self.buffered_bytes += size;
        self.metrics.records += 1;
        Ok(())
    }

    /// Grows the reservation for `size` more bytes, or spills to reuse what it holds.
    fn make_room(&mut self, size: usize) -> Result<()> {
        let step = (self.reservation.size() / 4).max(self.memory.page_size());
        let missing = self.buffered_bytes + size - self.reservation.size();
        if self.reservation.try_grow(step.max(missing)) || self.reservation.try_grow(missing) {
            return Ok(());
        }
        if !self.buffer.is_empty() {
            self.spill()?;
        }
        if size > self.reservation.size() && !self.reservation.try_resize_to_at_least(size) {
            // A record bigger than everything we could get: take it anyway, so that a tiny
            // budget slows the sort down instead of failing it.
            self.reservation.force_grow(size - self.reservation.size());
        }
        Ok(())
    }

    fn io_buffer(&self) -> usize {
        IO_PAGES * self.memory.page_size()
    }

    fn sort_buffer(&mut self) {
        let order = self.order;
        let threads = self.threads;
        if threads > 1 && self.buffer.len() > 1 << 14 {
            let pool = self.pool.get_or_insert_with(|| {
                rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .thread_name(|i| format!("eddy-sort-{i}"))
                    .build()
                    .expect("a rayon pool of sort threads")
            });
            let buffer = &mut self.buffer;
            pool.install(|| sort_entries(buffer, order, true));
        } else {
            sort_entries(&mut self.buffer, order, false);
        }
    }

    fn spill_dir(&mut self) -> Result<&SpillDir> {
        if self.spill_dir.is_none() {
            self.spill_dir = Some(self.memory.spill_dir()?);
        }
        Ok(self.spill_dir.as_ref().expect("created above"))
    }

    /// Sorts the buffer and writes it as one run.
    fn spill(&mut self) -> Result<()> {
        self.sort_buffer();
        let io = self.io_buffer();
        let mut writer = RunWriter::create(self.spill_dir()?, "sort-run", io)?;
        let mut entries = self.buffer.drain(..).map(Ok);
        match self.combiner.as_mut() {
            Some(combine) => {
                let mut pending = None;
                while let Some(entry) = next_combined(&mut entries, &mut pending, combine) {
                    writer.write(&entry?)?;
                }
            }
            None => {
                for entry in entries {
                    writer.write(&entry?)?;
                }
            }
        }
        let run = writer.finish()?;
        self.buffered_bytes = 0;
        self.metrics.spilled_runs += 1;
        self.metrics.spilled_bytes += run.bytes();
        self.memory.record_spill(run.bytes());
        tracing::debug!(
            records = run.len(),
            bytes = run.bytes(),
            "sort spilled a run"
        );
        self.runs.push(run);
        Ok(())
    }

    /// Ends the input and returns the records in order.
    ///
    /// # Errors
    ///
    /// [`eddy_runtime::Error::Io`] when spilling or an intermediate merge fails.
    pub fn finish(mut self) -> Result<SortedOutput<K, T>> {
        if self.runs.is_empty() {
            self.sort_buffer();
            let buffer = std::mem::take(&mut self.buffer);
            return Ok(SortedOutput {
                source: Source::Memory(buffer.into_iter()),
                combiner: self.combiner,
                pending: None,
                _reservation: self.reservation,
                _spill_dir: None,
                metrics: self.metrics,
            });
        }
        if !self.buffer.is_empty() {
            self.spill()?;
        }
        self.buffer = Vec::new();
        self.reservation.free();

        // Merge memory, reserved up front: one read buffer per run and one write buffer.
        let mut merge_memory = self.memory.reservation();
        let mut fan_in = self.runs.len().min(MAX_FAN_IN);
        while fan_in > 2 && !merge_memory.try_grow((fan_in + 1) * self.io_buffer()) {
            fan_in = (fan_in / 2).max(2);
        }
        if merge_memory.size() == 0 && !merge_memory.try_grow((fan_in + 1) * self.io_buffer()) {
            merge_memory.force_grow((fan_in + 1) * self.io_buffer());
        }
        self.metrics.fan_in = fan_in;

        let mut runs = std::mem::take(&mut self.runs);
        while runs.len() > fan_in {
            // One level: consecutive groups of runs become one run each, so ties keep order.
            let mut merged = Vec::with_capacity(runs.len().div_ceil(fan_in));
            let mut rest = runs.into_iter();
            loop {
                let group: Vec<RunFile> = rest.by_ref().take(fan_in).collect();
                match group.len() {
                    0 => break,
                    1 => merged.extend(group),
                    _ => merged.push(self.merge_to_run(group)?),
                }
            }
            runs = merged;
            self.metrics.merge_levels += 1;
        }
        let readers = open_readers(runs, self.io_buffer())?;
        Ok(SortedOutput {
            source: Source::Merge(LoserTree::new(readers, self.order)?),
            combiner: self.combiner,
            pending: None,
            _reservation: merge_memory,
            _spill_dir: self.spill_dir,
            metrics: self.metrics,
        })
    }

    /// Merges `group` into one new run.
    fn merge_to_run(&mut self, group: Vec<RunFile>) -> Result<RunFile> {
        let order = self.order;
        let io = self.io_buffer();
        let mut merge = LoserTree::new(open_readers::<K, T>(group, io)?, order)?;
        let mut writer = RunWriter::create(self.spill_dir()?, "merge-run", io)?;
        match self.combiner.as_mut() {
            Some(combine) => {
                let mut pending = None;
                while let Some(entry) = next_combined(&mut merge, &mut pending, combine) {
                    writer.write(&entry?)?;
                }
            }
            None => {
                for entry in merge {
                    writer.write(&entry?)?;
                }
            }
        }
        let run = writer.finish()?;
        self.metrics.spilled_bytes += run.bytes();
        self.memory.record_spill(run.bytes());
        Ok(run)
    }
}

fn open_readers<K, T>(runs: Vec<RunFile>, io_buffer: usize) -> Result<Vec<RunReader<(K, T)>>>
where
    K: DeserializeOwned,
    T: DeserializeOwned,
{
    runs.into_iter()
        .map(|run| run.into_reader(io_buffer))
        .collect()
}

enum Source<K, T> {
    Memory(std::vec::IntoIter<(K, T)>),
    Merge(LoserTree<K, T, RunReader<(K, T)>>),
}

impl<K, T> Iterator for Source<K, T>
where
    K: SortKey,
    T: DeserializeOwned,
{
    type Item = Result<(K, T)>;

    #[inline]
    fn next(&mut self) -> Option<Result<(K, T)>> {
        match self {
            Source::Memory(entries) => entries.next().map(Ok),
            Source::Merge(merge) => merge.next(),
        }
    }
}

/// The sorted `(key, record)` entries of an [`ExternalSorter`]. Holds the sort's memory and
/// spill files until dropped.
pub struct SortedOutput<K, T> {
    source: Source<K, T>,
    combiner: Option<Combiner<T>>,
    pending: Option<(K, T)>,
    _reservation: MemoryReservation,
    _spill_dir: Option<SpillDir>,
    metrics: SortMetrics,
}

impl<K, T> SortedOutput<K, T> {
    /// What the sort did.
    pub fn metrics(&self) -> &SortMetrics {
        &self.metrics
    }
}

impl<K, T> Iterator for SortedOutput<K, T>
where
    K: SortKey,
    T: DeserializeOwned,
{
    type Item = Result<(K, T)>;

    #[inline]
    fn next(&mut self) -> Option<Result<(K, T)>> {
        match self.combiner.as_mut() {
            Some(combine) => next_combined(&mut self.source, &mut self.pending, combine),
            None => self.source.next(),
        }
    }
}
