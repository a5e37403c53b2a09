//! [`HybridHashJoin`]: Flink's (and Grace's) hybrid hash join under a memory budget.
//!
//! # Algorithm
//!
//! 1. **Build.** Each build row goes, by the top bits of its key's seeded hash, into one of
//!    32 partitions, kept in memory while the budget allows. When it refuses, the largest
//!    in-memory partition is *spilled*: written whole to a run file, its keys' hashes added
//!    to a bloom filter; later rows of a spilled partition go straight to its file.
//! 2. **Tables.** Every in-memory partition gets a chained hash table over its rows.
//! 3. **Probe.** Each probe row looks up its partition: an in-memory one is probed at once
//!    (matches output, unmatched rows output for an outer probe side); a spilled one checks
//!    the bloom filter first: rows that cannot match are dropped (or output as unmatched),
//!    the others are written to the partition's probe file.
//! 4. **Outer build rows.** Unmatched rows of in-memory partitions are output for an outer
//!    build side; then all memory is released.
//! 5. **Recursion.** Each spilled (build, probe) pair is joined the same way with the next
//!    hash seed, so its rows spread over 32 new partitions. Past [`MAX_RECURSION_DEPTH`],
//!    the pair is joined by sort-merge instead: a key too frequent to ever fit (heavy skew)
//!    still completes, with the sort and group buffers spilling as needed.
//!
//! # Memory
//!
//! Build partitions reserve their vectors' capacity (one `Slot` of key, record and chain link
//! per row) plus the heap bytes [`HybridHashJoin::left_record_size`] /
//! [`HybridHashJoin::right_record_size`] report; tables reserve their bucket heads; spilled
//! partitions reserve a bloom filter (1/16 of the budget over all partitions) when they can,
//! and one page of write buffer (forced: a tiny budget slows the join, never fails it). The
//! probe side is streamed, never buffered. Each recursion level releases everything before
//! the next starts; spill files are deleted as soon as they have been read, and their
//! directory when the level ends, also on error or panic.

use std::marker::PhantomData;
use std::mem::size_of;

use eddy_runtime::memory::{MemoryManager, MemoryReservation, SpillDir};
use eddy_runtime::Result;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::bloom::Bloom;
use super::sort_merge::sort_merge_entries;
use super::table::{Slot, Table};
use super::{BuildSide, JoinType};
use crate::key::JoinKey;
use crate::spill::{RunFile, RunWriter};

/// Recursion levels of re-partitioning with a new seed before a partition pair falls back to
/// the sort-merge join.
pub const MAX_RECURSION_DEPTH: u32 = 3;

const PARTITION_BITS: u32 = 5;
const PARTITIONS: usize = 1 << PARTITION_BITS;

/// What one join did, for tests and logs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JoinMetrics {
    /// Rows output (matches and unmatched outer rows).
    pub output_rows: u64,
    /// Build partitions spilled to disk, over all recursion levels.
    pub spilled_partitions: u64,
    /// Build rows written to disk, over all levels.
    pub spilled_build_rows: u64,
    /// Probe rows written to disk, over all levels.
    pub spilled_probe_rows: u64,
    /// Probe rows of spilled partitions that a bloom filter ruled out (never written).
    pub bloom_filtered_rows: u64,
    /// The deepest recursion level run (0 when nothing spilled).
    pub max_depth: u32,
    /// Partition pairs joined by the sort-merge fallback.
    pub sort_merge_fallbacks: u64,
}

/// Heap bytes a record owns, reported by the caller.
type SizeFn<R> = Box<dyn Fn(&R) -> usize + Send>;

/// A hybrid hash join of `L` and `R` rows on a key `K`, extracted by `FL` and `FR`.
///
/// See the [module documentation](super) for how to call it.
pub struct HybridHashJoin<L, R, K, FL, FR> {
    memory: MemoryManager,
    join_type: JoinType,
    left_key: FL,
    right_key: FR,
    build: BuildSide,
    left_size: Option<SizeFn<L>>,
    right_size: Option<SizeFn<R>>,
    _key: PhantomData<fn() -> K>,
}

impl<L, R, K, FL, FR> HybridHashJoin<L, R, K, FL, FR>
where
    L: Serialize + DeserializeOwned + Send + 'static,
    R: Serialize + DeserializeOwned + Send + 'static,
    K: JoinKey,
    FL: FnMut(&L) -> K,
    FR: FnMut(&R) -> K,
{
    /// A join of type `join_type` on `left_key(l) == right_key(r)`, building the left side.
    pub fn new(memory: &MemoryManager, join_type: JoinType, left_key: FL, right_key: FR) -> Self {
        HybridHashJoin {
            memory: memory.clone(),
            join_type,
            left_key,
            right_key,
            build: BuildSide::Left,
            left_size: None,
            right_size: None,
            _key: PhantomData,
        }
    }

    /// Which side goes into the hash table [default: left]; pick the smaller.
    pub fn build_side(mut self, side: BuildSide) -> Self {
        self.build = side;
        self
    }

    /// Heap bytes a left row owns beyond its inline size, so the budget counts them.
    pub fn left_record_size(mut self, size: impl Fn(&L) -> usize + Send + 'static) -> Self {
        self.left_size = Some(Box::new(size));
        self
    }

    /// Heap bytes a right row owns beyond its inline size, so the budget counts them.
    pub fn right_record_size(mut self, size: impl Fn(&R) -> usize + Send + 'static) -> Self {
        self.right_size = Some(Box::new(size));
        self
    }

    /// Joins `left` with `right`, calling `emit` once per output row.
    ///
    /// # Errors
    ///
    /// [`eddy_runtime::Error::Io`] when a spill file cannot be written or read back.
    pub fn run<IL, IR, E>(self, left: IL, right: IR, mut emit: E) -> Result<JoinMetrics>
    where
        IL: IntoIterator<Item = L>,
        IR: IntoIterator<Item = R>,
        E: FnMut(Option<&L>, Option<&R>),
    {
        let mut metrics = JoinMetrics::default();
        let (mut left_key, mut right_key) = (self.left_key, self.right_key);
        let left = left.into_iter().map(move |l| Ok((left_key(&l), l)));
        let right = right.into_iter().map(move |r| Ok((right_key(&r), r)));
        match self.build {
            BuildSide::Left => {
                let ctx = Context {
                    memory: &self.memory,
                    build_outer: self.join_type.keeps_left(),
                    probe_outer: self.join_type.keeps_right(),
                    build_size: self.left_size.as_deref(),
                };
                let mut emit = |l: Option<&L>, r: Option<&R>| emit(l, r);
                join_level(&ctx, left, right, 0, &mut emit, &mut metrics)?;
            }
            BuildSide::Right => {
                let ctx = Context {
                    memory: &self.memory,
                    build_outer: self.join_type.keeps_right(),
                    probe_outer: self.join_type.keeps_left(),
                    build_size: self.right_size.as_deref(),
                };
                let mut emit = |r: Option<&R>, l: Option<&L>| emit(l, r);
                join_level(&ctx, right, left, 0, &mut emit, &mut metrics)?;
            }
        }
        Ok(metrics)
    }
}

/// What every level of one join shares, in build/probe terms.
pub(crate) struct Context<'a, B> {
    pub(crate) memory: &'a MemoryManager,
    pub(crate) build_outer: bool,
    pub(crate) probe_outer: bool,
    pub(crate) build_size: Option<&'a (dyn Fn(&B) -> usize + Send)>,
}

/// One build partition of one level.
enum Partition<K, B, P> {
    /// Rows in memory; `bytes` of them reserved.
    Memory {
        slots: Vec<Slot<K, B>>,
        bytes: usize,
    },
    /// Rows on disk, with the filter of their keys and the probe rows that may match.
    Spilled {
        build: RunWriter<(K, B)>,
        bloom: Option<Bloom>,
        probe: Option<RunWriter<(K, P)>>,
    },
    /// A probed in-memory table, with matched flags when the build side is outer.
    Table {
        table: Table<K, B>,
        matched: Vec<bool>,
    },
    /// Emptied (spilled files handed on, or the table's rows output).
    Done,
}

/// The state of one level: its partitions, its memory and its spill files.
struct Level<'a, K, B, P> {
    ctx: &'a Context<'a, B>,
    seed: u64,
    partitions: Vec<Partition<K, B, P>>,
    /// Pages reserved for the partitions, tables and bloom filters...
    memory: MemoryReservation,
    /// ...of which this many bytes are in use (the reservation grows in steps, not per row).
    used: usize,
    io_memory: MemoryReservation,
    spill_dir: Option<SpillDir>,
    bloom_bytes: usize,
}

impl<'a, K, B, P> Level<'a, K, B, P>
where
    K: JoinKey,
    B: Serialize + DeserializeOwned,
    P: Serialize + DeserializeOwned,
{
    fn io_buffer(&self) -> usize {
        self.ctx.memory.page_size()
    }

    /// Counts `bytes` more as used, growing the reservation (by a step of an eighth, so that
    /// most rows need no atomic operation) when they do not fit. False when the budget
    /// refuses.
    fn try_use(&mut self, bytes: usize) -> bool {
        let wanted = self.used + bytes;
        if wanted > self.memory.size() {
            let step = (self.memory.size() / 8).max(self.ctx.memory.page_size());
            if !self.memory.try_resize_to_at_least(wanted + step)
                && !self.memory.try_resize_to_at_least(wanted)
            {
                return false;
            }
        }
        self.used = wanted;
        true
    }

    /// Counts `bytes` as no longer used, returning whole pages beyond what is still used.
    fn release(&mut self, bytes: usize) {
        self.used = self.used.saturating_sub(bytes);
        self.memory.shrink_to(self.used);
    }

    fn spill_dir(&mut self) -> Result<&SpillDir> {
        if self.spill_dir.is_none() {
            self.spill_dir = Some(self.ctx.memory.spill_dir()?);
        }
        Ok(self.spill_dir.as_ref().expect("created above"))
    }

    /// Writes partition `p` to disk with a bloom filter of its keys.
    fn spill(&mut self, p: usize, metrics: &mut JoinMetrics) -> Result<()> {
        let Partition::Memory { slots, bytes } =
            std::mem::replace(&mut self.partitions[p], Partition::Done)
        else {
            return Ok(());
        };
        let io = self.io_buffer();
        let mut build = RunWriter::create(self.spill_dir()?, "build", io)?;
        self.io_memory.force_grow(io);
        // The bloom filter (16 bits per row so far, at least the level's default size) is
        // paid for by the memory the partition frees: its rows take far more than that.
        let bloom_bytes = Bloom::size_for((slots.len() * 2).max(self.bloom_bytes));
        self.release(bytes);
        let mut bloom = self.try_use(bloom_bytes).then(|| Bloom::new(bloom_bytes));
        metrics.spilled_partitions += 1;
        metrics.spilled_build_rows += slots.len() as u64;
        for slot in slots {
            if let Some(bloom) = bloom.as_mut() {
                bloom.insert(slot.key.hash_seeded(self.seed));
            }
            build.write(&(slot.key, slot.row))?;
        }
        self.partitions[p] = Partition::Spilled {
            build,
            bloom,
            probe: None,
        };
        Ok(())
    }

    /// The in-memory partition holding the most bytes, if any holds some.
    fn largest_in_memory(&self) -> Option<usize> {
        self.partitions
            .iter()
            .enumerate()
            .filter_map(|(i, part)| match part {
                Partition::Memory { bytes, .. } if *bytes > 0 => Some((i, *bytes)),
                _ => None,
            })
            .max_by_key(|&(_, bytes)| bytes)
            .map(|(i, _)| i)
    }

    /// Adds one build row.
    fn insert(&mut self, key: K, row: B, metrics: &mut JoinMetrics) -> Result<()> {
        let hash = key.hash_seeded(self.seed);
        let p = (hash >> (64 - PARTITION_BITS)) as usize;
        let heap = self.ctx.build_size.map_or(0, |size| size(&row));
        loop {
            match &mut self.partitions[p] {
                Partition::Spilled { build, bloom, .. } => {
                    if let Some(bloom) = bloom.as_mut() {
                        bloom.insert(hash);
                    }
                    metrics.spilled_build_rows += 1;
                    return build.write(&(key, row));
                }
                Partition::Memory { slots, .. } => {
                    let growth = if slots.len() == slots.capacity() {
                        slots.capacity().max(4) * size_of::<Slot<K, B>>()
                    } else {
                        0
                    };
                    let need = growth + heap;
                    if need == 0 || self.try_use(need) {
                        if let Partition::Memory { slots, bytes } = &mut self.partitions[p] {
                            if growth > 0 {
                                slots.reserve_exact(slots.capacity().max(4));
                            }
                            *bytes += need;
                            slots.push(Slot { key, next: 0, row });
                        }
                        return Ok(());
                    }
                    match self.largest_in_memory() {
                        Some(victim) => self.spill(victim, metrics)?,
                        None => {
                            // Nothing left to spill: this row is the minimum to progress.
                            self.memory.force_grow(need);
                            self.used += need;
                            self.partitions[p] = Partition::Memory {
                                slots: Vec::with_capacity(4),
                                bytes: need,
                            };
                            if let Partition::Memory { slots, .. } = &mut self.partitions[p] {
                                slots.push(Slot { key, next: 0, row });
                            }
                            return Ok(());
                        }
                    }
                }
                Partition::Table { .. } | Partition::Done => {
                    self.partitions[p] = Partition::Memory {
                        slots: Vec::new(),
                        bytes: 0,
                    };
                }
            }
        }
    }

    /// Turns every in-memory partition into a table (spilling those whose table does not
    /// fit) and closes the build files of spilled ones.
    fn build_tables(&mut self, metrics: &mut JoinMetrics) -> Result<()> {
        for p in 0..PARTITIONS {
            if let Partition::Memory { slots, .. } = &self.partitions[p] {
                if slots.is_empty() {
                    self.partitions[p] = Partition::Done;
                    continue;
                }
                let extra = Table::<K, B>::head_bytes(slots.len())
                    + if self.ctx.build_outer { slots.len() } else { 0 };
                if !self.try_use(extra) {
                    self.spill(p, metrics)?;
                    continue;
                }
                let Partition::Memory { slots, .. } =
                    std::mem::replace(&mut self.partitions[p], Partition::Done)
                else {
                    continue;
                };
                let matched = if self.ctx.build_outer {
                    vec![false; slots.len()]
                } else {
                    Vec::new()
                };
                self.partitions[p] = Partition::Table {
                    table: Table::build(slots, self.seed),
                    matched,
                };
            }
        }
        Ok(())
    }

    /// Joins one probe row.
    fn probe<E>(&mut self, key: K, row: P, emit: &mut E, metrics: &mut JoinMetrics) -> Result<()>
    where
        E: FnMut(Option<&B>, Option<&P>),
    {
        let hash = key.hash_seeded(self.seed);
        let p = (hash >> (64 - PARTITION_BITS)) as usize;
        let probe_outer = self.ctx.probe_outer;
        let io = self.io_buffer();
        match &mut self.partitions[p] {
            Partition::Table { table, matched } => {
                let track = !matched.is_empty();
                let found = table.for_each_match(&key, hash, |i, slot| {
                    emit(Some(&slot.row), Some(&row));
                    if track {
                        matched[i] = true;
                    }
                });
                metrics.output_rows += found as u64;
                if found == 0 && probe_outer {
                    emit(None, Some(&row));
                    metrics.output_rows += 1;
                }
            }
            Partition::Spilled { bloom, probe, .. } => {
                if bloom.as_ref().is_none_or(|bloom| bloom.may_contain(hash)) {
                    if probe.is_none() {
                        let Some(dir) = &self.spill_dir else {
                            return Err(eddy_runtime::Error::Internal(
                                "a spilled partition without a spill directory".into(),
                            ));
                        };
                        *probe = Some(RunWriter::create(dir, "probe", io)?);
                        self.io_memory.force_grow(io);
                    }
                    metrics.spilled_probe_rows += 1;
                    probe.as_mut().expect("created above").write(&(key, row))?;
                } else {
                    metrics.bloom_filtered_rows += 1;
                    if probe_outer {
                        emit(None, Some(&row));
                        metrics.output_rows += 1;
                    }
                }
            }
            Partition::Memory { .. } | Partition::Done => {
                if probe_outer {
                    emit(None, Some(&row));
                    metrics.output_rows += 1;
                }
            }
        }
        Ok(())
    }
}

/// Joins `build` with `probe` at recursion level `depth` (seed `depth`).
pub(crate) fn join_level<K, B, P, IB, IP, E>(
    ctx: &Context<'_, B>,
    build: IB,
    probe: IP,
    depth: u32,
    emit: &mut E,
    metrics: &mut JoinMetrics,
) -> Result<()>
where
    K: JoinKey,
    B: Serialize + DeserializeOwned + Send + 'static,
    P: Serialize + DeserializeOwned + Send + 'static,
    IB: Iterator<Item = Result<(K, B)>>,
    IP: Iterator<Item = Result<(K, P)>>,
    E: FnMut(Option<&B>, Option<&P>),
{
    metrics.max_depth = metrics.max_depth.max(depth);
    let mut level = Level {
        ctx,
        seed: u64::from(depth),
        partitions: (0..PARTITIONS)
            .map(|_| Partition::Memory {
                slots: Vec::new(),
                bytes: 0,
            })
            .collect(),
        memory: ctx.memory.reservation(),
        used: 0,
        io_memory: ctx.memory.reservation(),
        spill_dir: None,
        bloom_bytes: Bloom::size_for(ctx.memory.budget() / 16 / PARTITIONS),
    };
    for entry in build {
        let (key, row) = entry?;
        level.insert(key, row, metrics)?;
    }
    level.build_tables(metrics)?;
    for entry in probe {
        let (key, row) = entry?;
        level.probe(key, row, emit, metrics)?;
    }

    // Unmatched build rows of the in-memory tables, then hand the spilled pairs on.
    let mut spilled: Vec<(RunFile, Option<RunFile>)> = Vec::new();
    for partition in std::mem::take(&mut level.partitions) {
        match partition {
            Partition::Table { table, matched } => {
                if ctx.build_outer {
                    for (slot, matched) in table.slots.iter().zip(&matched) {
                        if !matched {
                            emit(Some(&slot.row), None);
                            metrics.output_rows += 1;
                        }
                    }
                }
            }
            Partition::Spilled { build, probe, .. } => {
                let probe = probe.map(RunWriter::finish).transpose()?;
                spilled.push((build.finish()?, probe));
            }
            Partition::Memory { .. } | Partition::Done => {}
        }
    }
    level.memory.free();
    level.io_memory.free();

    let io = ctx.memory.page_size();
    for (build, probe) in spilled {
        let probe = probe.filter(|run| !run.is_empty());
        match probe {
            None => {
                if ctx.build_outer {
                    for entry in build.into_reader::<(K, B)>(io)? {
                        let (_, row) = entry?;
                        emit(Some(&row), None);
                        metrics.output_rows += 1;
                    }
                }
            }
            Some(probe) if depth < MAX_RECURSION_DEPTH => {
                join_level(
                    ctx,
                    build.into_reader::<(K, B)>(io)?,
                    probe.into_reader::<(K, P)>(io)?,
                    depth + 1,
                    emit,
                    metrics,
                )?;
            }
            Some(probe) => {
                metrics.sort_merge_fallbacks += 1;
                tracing::debug!(
                    build_rows = build.len(),
                    probe_rows = probe.len(),
                    "hash join partition still spilling at maximum depth; sort-merge fallback"
                );
                sort_merge_entries(
                    ctx,
                    build.into_reader::<(K, B)>(io)?,
                    probe.into_reader::<(K, P)>(io)?,
                    emit,
                    metrics,
                )?;
            }
        }
    }
    Ok(())
}
