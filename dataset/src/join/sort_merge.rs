//! [`SortMergeJoin`]: both inputs sorted by key with the external sorter, then merged; also
//! the hybrid hash join's fallback for partitions that still spill at the deepest level.
//!
//! # Algorithm
//!
//! Sort both sides (spilling as the budget demands). Walk them in step: rows of a key found
//! on one side only are output if that side is outer; for a key on both sides, the build
//! side's rows of that key (its *group*) are buffered, and every probe row of the key is
//! output with each of them.
//!
//! # Memory
//!
//! The two sorters reserve as [`ExternalSorter`] does. A group reserves its rows while the
//! budget allows; a group larger than that (a key holding a big share of both inputs) is
//! written to a spill file and re-read once per probe row of its key, so memory stays
//! bounded however skewed the keys are.

use std::cmp::Ordering;
use std::marker::PhantomData;
use std::mem::size_of;
use std::sync::Arc;

use eddy_runtime::memory::{MemoryManager, MemoryReservation, SpillDir};
use eddy_runtime::Result;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::hybrid_hash::{Context, JoinMetrics};
use super::JoinType;
use crate::key::JoinKey;
use crate::sort::ExternalSorter;
use crate::spill::{RunFile, RunReader, RunWriter};

/// A sort-merge join of `L` and `R` rows on a key `K`, extracted by `FL` and `FR`.
///
/// See the [module documentation](super) for how to call it.
pub struct SortMergeJoin<L, R, K, FL, FR> {
    memory: MemoryManager,
    join_type: JoinType,
    left_key: FL,
    right_key: FR,
    _rows: PhantomData<fn(&L, &R) -> K>,
}

impl<L, R, K, FL, FR> SortMergeJoin<L, R, K, FL, FR>
where
    L: Serialize + DeserializeOwned + Send + 'static,
    R: Serialize + DeserializeOwned + Send + 'static,
    K: JoinKey,
    FL: FnMut(&L) -> K,
    FR: FnMut(&R) -> K,
{
    /// A join of type `join_type` on `left_key(l) == right_key(r)`.
    pub fn new(memory: &MemoryManager, join_type: JoinType, left_key: FL, right_key: FR) -> Self {
        SortMergeJoin {
            memory: memory.clone(),
            join_type,
            left_key,
            right_key,
            _rows: PhantomData,
        }
    }

    /// Joins `left` with `right`, calling `emit` once per output row. Output comes in key
    /// order (unmatched rows of a key included).
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
        let ctx = Context {
            memory: &self.memory,
            build_outer: self.join_type.keeps_left(),
            probe_outer: self.join_type.keeps_right(),
            build_size: None,
        };
        sort_merge_entries(
            &ctx,
            left.into_iter().map(|l| Ok((left_key(&l), l))),
            right.into_iter().map(|r| Ok((right_key(&r), r))),
            &mut emit,
            &mut metrics,
        )?;
        Ok(metrics)
    }
}

/// Sorts keyed build and probe entries and merge-joins them.
pub(crate) fn sort_merge_entries<K, B, P, IB, IP, E>(
    ctx: &Context<'_, B>,
    build: IB,
    probe: IP,
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
    let mut build_sorter = ExternalSorter::<B, K, _>::with_keys(ctx.memory).stable(true);
    for entry in build {
        let (key, row) = entry?;
        build_sorter.push_keyed(key, row)?;
    }
    let build_sorted = build_sorter.finish()?;
    let mut probe_sorter = ExternalSorter::<P, K, _>::with_keys(ctx.memory).stable(true);
    for entry in probe {
        let (key, row) = entry?;
        probe_sorter.push_keyed(key, row)?;
    }
    let probe_sorted = probe_sorter.finish()?;
    merge_join(ctx, build_sorted, probe_sorted, emit, metrics)
}

/// Merge-joins two streams sorted by key.
pub(crate) fn merge_join<K, B, P, IB, IP, E>(
    ctx: &Context<'_, B>,
    mut build: IB,
    mut probe: IP,
    emit: &mut E,
    metrics: &mut JoinMetrics,
) -> Result<()>
where
    K: JoinKey,
    B: Serialize + DeserializeOwned,
    P: Serialize + DeserializeOwned,
    IB: Iterator<Item = Result<(K, B)>>,
    IP: Iterator<Item = Result<(K, P)>>,
    E: FnMut(Option<&B>, Option<&P>),
{
    let mut next_build = build.next().transpose()?;
    let mut next_probe = probe.next().transpose()?;
    let mut group = Group::new(ctx.memory);
    loop {
        let ordering = match (&next_build, &next_probe) {
            (None, None) => return Ok(()),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(b), Some(p)) => b.0.compare(&p.0),
        };
        match ordering {
            Ordering::Less => {
                let (_, row) = next_build.take().expect("a build row");
                if ctx.build_outer {
                    emit(Some(&row), None);
                    metrics.output_rows += 1;
                }
                next_build = build.next().transpose()?;
            }
            Ordering::Greater => {
                let (_, row) = next_probe.take().expect("a probe row");
                if ctx.probe_outer {
                    emit(None, Some(&row));
                    metrics.output_rows += 1;
                }
                next_probe = probe.next().transpose()?;
            }
            Ordering::Equal => {
                let (key, row) = next_build.take().expect("a build row");
                group.start(ctx.build_size.map_or(0, |size| size(&row)), row)?;
                loop {
                    next_build = build.next().transpose()?;
                    match next_build.take() {
                        Some((k, row)) if k.equals(&key) => {
                            let heap = ctx.build_size.map_or(0, |size| size(&row));
                            group.push(heap, row)?;
                        }
                        other => {
                            next_build = other;
                            break;
                        }
                    }
                }
                group.seal()?;
                while let Some((k, row)) = next_probe.take() {
                    if !k.equals(&key) {
                        next_probe = Some((k, row));
                        break;
                    }
                    metrics.output_rows += group.for_each(|b| emit(Some(b), Some(&row)))?;
                    next_probe = probe.next().transpose()?;
                }
            }
        }
    }
}

/// The build rows of one key: in memory while the budget allows, on disk beyond.
struct Group<B> {
    memory: MemoryManager,
    reservation: MemoryReservation,
    /// Bytes of the reservation the group's rows use.
    used: usize,
    rows: Vec<B>,
    writer: Option<RunWriter<B>>,
    run: Option<Arc<RunFile>>,
    spill_dir: Option<SpillDir>,
}

impl<B: Serialize + DeserializeOwned> Group<B> {
    fn new(memory: &MemoryManager) -> Self {
        Group {
            memory: memory.clone(),
            reservation: memory.reservation(),
            used: 0,
            rows: Vec::new(),
            writer: None,
            run: None,
            spill_dir: None,
        }
    }

    /// Empties the group and adds its first row (always held, whatever the budget).
    fn start(&mut self, heap: usize, row: B) -> Result<()> {
        self.rows.clear();
        self.writer = None;
        self.run = None;
        // The reservation is kept from group to group (it only grows within the budget).
        self.used = self.rows.capacity().max(1) * size_of::<B>() + heap;
        if !self.reservation.try_resize_to_at_least(self.used) {
            let missing = self.used.saturating_sub(self.reservation.size());
            self.reservation.force_grow(missing);
        }
        self.rows.push(row);
        Ok(())
    }

    fn push(&mut self, heap: usize, row: B) -> Result<()> {
        if let Some(writer) = self.writer.as_mut() {
            return writer.write(&row);
        }
        let growth = if self.rows.len() == self.rows.capacity() {
            self.rows.capacity() * size_of::<B>()
        } else {
            0
        };
        let wanted = self.used + growth + heap;
        let step = (self.reservation.size() / 8).max(self.memory.page_size());
        if wanted <= self.reservation.size()
            || self.reservation.try_resize_to_at_least(wanted + step)
            || self.reservation.try_resize_to_at_least(wanted)
        {
            self.used = wanted;
            self.rows.push(row);
            return Ok(());
        }
        // Too big for memory: move the group to disk.
        if self.spill_dir.is_none() {
            self.spill_dir = Some(self.memory.spill_dir()?);
        }
        let dir = self.spill_dir.as_ref().expect("created above");
        let mut writer = RunWriter::create(dir, "group", self.memory.page_size())?;
        for earlier in self.rows.drain(..) {
            writer.write(&earlier)?;
        }
        writer.write(&row)?;
        self.rows = Vec::new();
        self.used = 0;
        self.reservation.shrink_to(0);
        self.reservation.force_grow(2 * self.memory.page_size());
        self.writer = Some(writer);
        Ok(())
    }

    /// Ends the group's input.
    fn seal(&mut self) -> Result<()> {
        if let Some(writer) = self.writer.take() {
            self.run = Some(Arc::new(writer.finish()?));
        }
        Ok(())
    }

    /// Calls `f` on every row of the group; returns how many.
    fn for_each(&self, mut f: impl FnMut(&B)) -> Result<u64> {
        match &self.run {
            None => {
                self.rows.iter().for_each(&mut f);
                Ok(self.rows.len() as u64)
            }
            Some(run) => {
                let mut n = 0;
                for row in RunReader::<B>::open(run.clone(), self.memory.page_size())? {
                    f(&row?);
                    n += 1;
                }
                Ok(n)
            }
        }
    }
}
