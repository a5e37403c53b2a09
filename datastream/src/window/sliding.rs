//! Sliding event-time windows that share pane aggregates.
//!
//! ## Algorithm
//! A window of `size` sliding by `slide` is made of panes of `gcd(size, slide)`; each record
//! is folded into its one pane instead of into `size / slide` windows, and a firing window
//! merges its panes. The results are those of Flink's `WindowOperator` with one state per
//! window, because for a window that is still alive, every record in its panes was accepted
//! by it (lateness only grows as the watermark advances), and because:
//! - a window fires on time, when the watermark reaches its end, iff one of its panes got its
//!   first record while the watermark was before that end (Flink registers its timer then);
//! - a record accepted by an already-fired window that is still alive fires it at once;
//! - a pane is dropped when the last window holding it is cleared (`end - 1 + lateness`).
//!
//! Each key has one live timer: the earlier of its next on-time firing and its next pane
//! cleanup, found by a scan of its few panes. Queue entries left by a moved timer are skipped.
//!
//! ## Memory
//! Per key, one accumulator per pane alive (about `(size + lateness) / slide`).

use std::collections::BTreeMap;

use hashbrown::HashMap;
use smallvec::SmallVec;

use eddy_runtime::checkpoint::SnapshotWriter;
use eddy_runtime::state::AggregateFunction;
use eddy_runtime::{
    CheckpointBarrier, Data, Key, Operator, OperatorContext, Output, Record, Result, Timestamp,
    Watermark,
};

use super::operator::WindowOutput;
use super::{missing_timestamp, LateRecords, TimeWindow, Windowed};
use crate::function::KeyFn;

/// The names of the operator's checkpointed state: panes per key, and the watermark.
const PANES: &str = "sliding window panes";
const PANES_WATERMARK: &str = "sliding window watermark";

/// A key's panes as checkpointed: `(start, last_end, first_on_time_end, acc)` each, and the
/// end of the last window fired.
type PanesRow<A> = (Vec<(Timestamp, Timestamp, Timestamp, A)>, Timestamp);
use crate::operators::side_output::Tagged;

struct Pane<A> {
    start: Timestamp,
    /// The end of the last window holding the pane.
    last_end: Timestamp,
    /// The first window end the pane can fire on time: its windows whose end the watermark
    /// had not reached when the pane got its first record.
    first_on_time_end: Timestamp,
    acc: A,
}

struct KeyPanes<A> {
    /// Sorted by start.
    panes: SmallVec<[Pane<A>; 12]>,
    /// The end of the last window fired on time.
    last_fired_end: Timestamp,
    /// The timestamp of this key's live timer.
    timer: Option<Timestamp>,
}

/// The arithmetic of sliding windows and their panes.
#[derive(Debug, Clone, Copy)]
struct Geometry {
    size: i64,
    slide: i64,
    pane: i64,
    offset: i64,
    lateness: i64,
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

impl Geometry {
    /// The smallest window end after `t`.
    fn first_end_after(&self, t: Timestamp) -> Timestamp {
        let residue = (self.offset + self.size).rem_euclid(self.slide);
        let next = t + 1;
        next + (residue - next).rem_euclid(self.slide)
    }

    fn cleanup_time(&self, end: Timestamp) -> Timestamp {
        (end - 1).saturating_add(self.lateness)
    }

    /// The start of the pane holding `timestamp`.
    fn pane_start(&self, timestamp: Timestamp) -> Timestamp {
        timestamp - (timestamp - self.offset).rem_euclid(self.pane)
    }

    /// A new pane starting at `start`, its windows' ends computed once.
    fn pane<A>(&self, start: Timestamp, watermark: Timestamp, acc: A) -> Pane<A> {
        let first_end = self.first_end_after(start);
        let last_end =
            first_end + (start + self.size - first_end).div_euclid(self.slide) * self.slide;
        // On time: end - 1 > watermark, so end >= watermark + 2; the first such end on the grid.
        let lower = watermark.saturating_add(2).max(first_end);
        let first_on_time_end =
            first_end + (lower - first_end + self.slide - 1) / self.slide * self.slide;
        Pane {
            start,
            last_end,
            first_on_time_end,
            acc,
        }
    }

    /// The first window after `last_fired_end` that `pane` makes fire on time. Every end is
    /// on one grid, so the one after `last_fired_end` is `last_fired_end + slide`.
    fn next_on_time_end<A>(&self, last_fired_end: Timestamp, pane: &Pane<A>) -> Option<Timestamp> {
        let end = pane
            .first_on_time_end
            .max(last_fired_end.saturating_add(self.slide));
        (end <= pane.last_end).then_some(end)
    }

    /// The earliest on-time firing due among the key's panes.
    fn next_firing<A>(&self, key: &KeyPanes<A>) -> Option<Timestamp> {
        key.panes
            .iter()
            .filter_map(|p| self.next_on_time_end(key.last_fired_end, p))
            .min()
    }

    /// When the key must be looked at next: its next on-time firing or pane cleanup.
    fn next_time<A>(&self, key: &KeyPanes<A>) -> Option<Timestamp> {
        let firing = self.next_firing(key).map(|end| end - 1);
        let cleanup = key.panes.first().map(|p| self.cleanup_time(p.last_end));
        match (firing, cleanup) {
            (Some(f), Some(c)) => Some(f.min(c)),
            (f, c) => f.or(c),
        }
    }
}

/// Emits the window ending at `end`: the merge of its panes (nothing if they are all empty).
fn emit<T, K: Clone, F: AggregateFunction<T>>(
    function: &F,
    size: i64,
    key: &K,
    panes: &[Pane<F::Acc>],
    end: Timestamp,
    out: &mut dyn Output<WindowOutput<K, F::Out, T>>,
) -> Result<()> {
    let window = TimeWindow {
        start: end - size,
        end,
    };
    let mut acc: Option<F::Acc> = None;
    for pane in panes
        .iter()
        .filter(|p| p.start >= window.start && p.start < end)
    {
        acc = Some(match acc {
            None => pane.acc.clone(),
            Some(a) => function.merge(a, pane.acc.clone()),
        });
    }
    let Some(acc) = acc else { return Ok(()) };
    out.collect(Record::with_timestamp(
        Tagged::Main(Windowed {
            key: key.clone(),
            window,
            value: function.get_result(&acc),
        }),
        window.max_timestamp(),
    ))
}

/// Moves the key's timer earlier if it must be.
fn schedule<K: Clone, A>(
    geometry: &Geometry,
    timers: &mut BTreeMap<Timestamp, Vec<K>>,
    key: &K,
    key_panes: &mut KeyPanes<A>,
) {
    if let Some(next) = geometry.next_time(key_panes) {
        if key_panes.timer.is_none_or(|t| next < t) {
            key_panes.timer = Some(next);
            timers.entry(next).or_default().push(key.clone());
        }
    }
}

/// The keyed sliding-window operator with pane sharing.
pub(crate) struct SlidingWindowOperator<T, K, F: AggregateFunction<T>> {
    key: KeyFn<T, K>,
    geometry: Geometry,
    function: F,
    late: LateRecords,
    watermark: Timestamp,
    keys: HashMap<K, KeyPanes<F::Acc>>,
    timers: BTreeMap<Timestamp, Vec<K>>,
    ends: Vec<Timestamp>,
    name: String,
}

impl<T, K, F: AggregateFunction<T>> SlidingWindowOperator<T, K, F> {
    pub(crate) fn new(
        key: KeyFn<T, K>,
        (size, slide, offset): (i64, i64, i64),
        lateness: i64,
        function: F,
        emit_late: bool,
    ) -> Self {
        SlidingWindowOperator {
            key,
            geometry: Geometry {
                size,
                slide,
                pane: gcd(size, slide),
                offset,
                lateness: lateness.max(0),
            },
            function,
            late: LateRecords::new(emit_late),
            watermark: Timestamp::MIN,
            keys: HashMap::new(),
            timers: BTreeMap::new(),
            ends: Vec::new(),
            name: String::new(),
        }
    }
}

impl<T: Data, K: Key, F: AggregateFunction<T>> SlidingWindowOperator<T, K, F> {
    /// The key's timer: fires every window due, drops dead panes, reschedules.
    fn on_timer(
        &mut self,
        key: K,
        time: Timestamp,
        out: &mut dyn Output<WindowOutput<K, F::Out, T>>,
    ) -> Result<()> {
        let (geometry, watermark) = (self.geometry, self.watermark);
        let Some(key_panes) = self.keys.get_mut(&key) else {
            return Ok(());
        };
        if key_panes.timer != Some(time) {
            return Ok(());
        }
        key_panes.timer = None;
        while let Some(end) = geometry.next_firing(key_panes) {
            if end - 1 > watermark {
                break;
            }
            emit(
                &self.function,
                geometry.size,
                &key,
                &key_panes.panes,
                end,
                out,
            )?;
            key_panes.last_fired_end = end;
        }
        key_panes
            .panes
            .retain(|p| geometry.cleanup_time(p.last_end) > watermark);
        if key_panes.panes.is_empty() {
            self.keys.remove(&key);
        } else {
            schedule(&geometry, &mut self.timers, &key, key_panes);
        }
        Ok(())
    }
}

impl<T: Data, K: Key, F: AggregateFunction<T>> Operator<T, WindowOutput<K, F::Out, T>>
    for SlidingWindowOperator<T, K, F>
{
    fn open(&mut self, ctx: &mut OperatorContext<'_>) -> Result<()> {
        self.name = ctx.name.to_string();
        let restored: Vec<(K, PanesRow<F::Acc>)> = ctx.restored().keyed_entries(PANES)?;
        for (key, (panes, last_fired_end)) in restored {
            let mut key_panes = KeyPanes {
                panes: panes
                    .into_iter()
                    .map(|(start, last_end, first_on_time_end, acc)| Pane {
                        start,
                        last_end,
                        first_on_time_end,
                        acc,
                    })
                    .collect(),
                last_fired_end,
                timer: None,
            };
            schedule(&self.geometry, &mut self.timers, &key, &mut key_panes);
            self.keys.insert(key, key_panes);
        }
        if let Some(watermark) = ctx.restored_own::<Timestamp>(PANES_WATERMARK)? {
            self.watermark = watermark;
        }
        Ok(())
    }

    fn snapshot_state(&mut self, _: &CheckpointBarrier, writer: &mut SnapshotWriter) -> Result<()> {
        type Row<'a, A> = (Vec<(Timestamp, Timestamp, Timestamp, &'a A)>, Timestamp);
        let rows: Vec<(&K, Row<'_, F::Acc>)> = self
            .keys
            .iter()
            .map(|(key, k)| {
                let panes = k
                    .panes
                    .iter()
                    .map(|p| (p.start, p.last_end, p.first_on_time_end, &p.acc))
                    .collect();
                (key, (panes, k.last_fired_end))
            })
            .collect();
        writer.keyed_entries(PANES, rows.iter().map(|(k, row)| (*k, row)))?;
        writer.operator_state(PANES_WATERMARK, &self.watermark)
    }

    fn process_record(
        &mut self,
        record: Record<T>,
        out: &mut dyn Output<WindowOutput<K, F::Out, T>>,
    ) -> Result<()> {
        let Some(timestamp) = record.timestamp else {
            return Err(missing_timestamp(&self.name));
        };
        let (geometry, watermark) = (self.geometry, self.watermark);
        // The ends of the windows holding the record that are still alive, latest first.
        let mut ends = std::mem::take(&mut self.ends);
        ends.clear();
        let mut end = geometry.first_end_after(timestamp);
        while end <= timestamp + geometry.size {
            if geometry.cleanup_time(end) > watermark {
                ends.push(end);
            }
            end += geometry.slide;
        }
        ends.reverse();
        if ends.is_empty() {
            self.ends = ends;
            if timestamp.saturating_add(geometry.lateness) <= watermark {
                self.late.handle(record.value, timestamp, out)?;
            }
            return Ok(());
        }
        let key = (self.key)(&record.value);
        let key_panes = match self.keys.get_mut(&*key) {
            Some(k) => k,
            None => self.keys.entry((*key).clone()).or_insert_with(|| KeyPanes {
                panes: SmallVec::new(),
                last_fired_end: Timestamp::MIN,
                timer: None,
            }),
        };
        let start = geometry.pane_start(timestamp);
        let index = match key_panes.panes.binary_search_by_key(&start, |p| p.start) {
            Ok(i) => i,
            Err(i) => {
                let pane = geometry.pane(start, watermark, self.function.create_accumulator());
                key_panes.panes.insert(i, pane);
                i
            }
        };
        self.function
            .add(&mut key_panes.panes[index].acc, &record.value);
        // Windows whose end the watermark already passed fire at once (late firings).
        for &end in ends.iter().filter(|&&e| e - 1 <= watermark) {
            emit(
                &self.function,
                geometry.size,
                &*key,
                &key_panes.panes,
                end,
                out,
            )?;
        }
        self.ends = ends;
        schedule(&geometry, &mut self.timers, &*key, key_panes);
        Ok(())
    }

    fn process_watermark(
        &mut self,
        watermark: Watermark,
        out: &mut dyn Output<WindowOutput<K, F::Out, T>>,
    ) -> Result<()> {
        self.watermark = self.watermark.max(watermark.0);
        while let Some(entry) = self.timers.first_entry() {
            if *entry.key() > self.watermark {
                break;
            }
            let (time, due) = entry.remove_entry();
            for key in due {
                self.on_timer(key, time, out)?;
            }
        }
        out.emit_watermark(watermark)
    }

    fn finish(&mut self, _: &mut dyn Output<WindowOutput<K, F::Out, T>>) -> Result<()> {
        self.late.log(&self.name);
        Ok(())
    }
}
