//! Event time: [`WatermarkStrategy`] says where a record's timestamp comes from and how the
//! watermark follows the timestamps seen.
//!
//! ```
//! use eddy_datastream::{WatermarkStrategy, StreamExecutionEnvironment};
//!
//! // Events may arrive up to 10 ms out of order; the watermark trails the largest timestamp.
//! let strategy = WatermarkStrategy::for_bounded_out_of_orderness(10)
//!     .with_timestamp_assigner(|event: &(String, i64)| event.1)
//!     .punctuated();
//! let out = eddy_datastream::example(|env| {
//!     env.from_collection(vec![("a".to_string(), 5), ("b".to_string(), 3)])
//!         .assign_timestamps_and_watermarks(strategy)
//! });
//! assert_eq!(out.len(), 2);
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use eddy_runtime::checkpoint::SnapshotWriter;
use eddy_runtime::{
    Operator, OperatorContext, Output, Record, Result, StreamStatus, Timestamp, Watermark,
};

use crate::function::ClockCheck;

/// Extracts a record's event timestamp (milliseconds).
pub type TimestampAssigner<T> = Arc<dyn Fn(&T) -> Timestamp + Send + Sync>;

/// How often a periodic strategy emits its watermark by default (Flink's 200 ms).
pub const DEFAULT_WATERMARK_INTERVAL: Duration = Duration::from_millis(200);

/// When a watermark generator emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Emission {
    /// After every record: deterministic, what tests and replayable jobs want.
    Punctuated,
    /// At most once per interval of processing time, and when the input goes idle.
    Periodic(Duration),
}

/// Where timestamps come from and how watermarks are generated (Flink's `WatermarkStrategy`).
pub struct WatermarkStrategy<T> {
    out_of_orderness: i64,
    assigner: Option<TimestampAssigner<T>>,
    emission: Emission,
    idleness: Option<Duration>,
}

impl<T> Clone for WatermarkStrategy<T> {
    fn clone(&self) -> Self {
        WatermarkStrategy {
            out_of_orderness: self.out_of_orderness,
            assigner: self.assigner.clone(),
            emission: self.emission,
            idleness: self.idleness,
        }
    }
}

impl<T> WatermarkStrategy<T> {
    /// Records may arrive up to `max_out_of_orderness_ms` late: the watermark is the largest
    /// timestamp seen so far, minus that bound, minus one (as Flink's
    /// `BoundedOutOfOrdernessWatermarks`).
    pub fn for_bounded_out_of_orderness(max_out_of_orderness_ms: i64) -> Self {
        WatermarkStrategy {
            out_of_orderness: max_out_of_orderness_ms.max(0),
            assigner: None,
            emission: Emission::Periodic(DEFAULT_WATERMARK_INTERVAL),
            idleness: None,
        }
    }

    /// Timestamps only ever increase: the bounded strategy with a bound of zero.
    pub fn for_monotonous_timestamps() -> Self {
        Self::for_bounded_out_of_orderness(0)
    }

    /// Reads each record's timestamp with `assigner` (without one, the timestamp the record
    /// already carries is kept).
    pub fn with_timestamp_assigner(
        mut self,
        assigner: impl Fn(&T) -> Timestamp + Send + Sync + 'static,
    ) -> Self {
        self.assigner = Some(Arc::new(assigner));
        self
    }

    /// Emits the watermark after every record.
    pub fn punctuated(mut self) -> Self {
        self.emission = Emission::Punctuated;
        self
    }

    /// Emits the watermark at most once per `interval`.
    pub fn periodic(mut self, interval: Duration) -> Self {
        self.emission = Emission::Periodic(interval);
        self
    }

    /// Declares the stream idle after `timeout` of processing time without a record, so that
    /// it stops holding back the watermark of the operators it feeds (Flink's
    /// `withIdleness`); the next record makes it active again.
    pub fn with_idleness(mut self, timeout: Duration) -> Self {
        self.idleness = Some(timeout);
        self
    }

    pub(crate) fn operator(&self) -> TimestampsAndWatermarks<T> {
        TimestampsAndWatermarks {
            strategy: self.clone(),
            max_timestamp: None,
            emitted: Watermark::MIN,
            last_emission: Instant::now(),
            clock_check: ClockCheck::default(),
            last_record: Instant::now(),
            idle: false,
        }
    }
}

/// The name of the operator state: the largest timestamp seen and the watermark emitted.
const WATERMARK_STATE: &str = "watermark generator";

/// Assigns timestamps and generates watermarks; upstream watermarks are dropped, except the
/// final one that ends event time (as Flink's `TimestampsAndWatermarksOperator`).
pub(crate) struct TimestampsAndWatermarks<T> {
    strategy: WatermarkStrategy<T>,
    max_timestamp: Option<Timestamp>,
    emitted: Watermark,
    last_emission: Instant,
    clock_check: ClockCheck,
    /// When the last record arrived (read only with an idleness timeout).
    last_record: Instant,
    /// Whether this stream told its consumers it is idle.
    idle: bool,
}

impl<T> TimestampsAndWatermarks<T> {
    fn emit(&mut self, out: &mut dyn Output<T>) -> Result<()> {
        if let Some(max) = self.max_timestamp {
            let watermark = Watermark(
                max.saturating_sub(self.strategy.out_of_orderness)
                    .saturating_sub(1),
            );
            if watermark > self.emitted {
                self.emitted = watermark;
                out.emit_watermark(watermark)?;
            }
        }
        self.last_emission = Instant::now();
        Ok(())
    }
}

impl<T: Send> Operator<T, T> for TimestampsAndWatermarks<T> {
    #[inline]
    fn process_record(&mut self, record: Record<T>, out: &mut dyn Output<T>) -> Result<()> {
        if self.strategy.idleness.is_some() {
            self.last_record = Instant::now();
            if self.idle {
                self.idle = false;
                out.emit_status(StreamStatus::Active)?;
            }
        }
        let timestamp = match &self.strategy.assigner {
            Some(assign) => Some(assign(&record.value)),
            None => record.timestamp,
        };
        if let Some(ts) = timestamp {
            self.max_timestamp = Some(self.max_timestamp.map_or(ts, |m| m.max(ts)));
        }
        out.collect(Record {
            value: record.value,
            timestamp,
        })?;
        match self.strategy.emission {
            Emission::Punctuated => self.emit(out),
            Emission::Periodic(interval) => {
                if self.clock_check.tick() && self.last_emission.elapsed() >= interval {
                    return self.emit(out);
                }
                Ok(())
            }
        }
    }

    fn process_watermark(&mut self, watermark: Watermark, out: &mut dyn Output<T>) -> Result<()> {
        if watermark == Watermark::MAX && self.emitted < Watermark::MAX {
            self.emitted = Watermark::MAX;
            return out.emit_watermark(watermark);
        }
        Ok(())
    }

    fn open(&mut self, ctx: &mut OperatorContext<'_>) -> Result<()> {
        // Continue from the largest timestamp seen before the checkpoint, so that lateness is
        // judged after a restore exactly as it would have been without the failure.
        let mine = ctx.restored_own::<(Option<Timestamp>, Timestamp)>(WATERMARK_STATE)?;
        if let Some((max_timestamp, emitted)) = mine {
            self.max_timestamp = max_timestamp;
            self.emitted = Watermark(emitted);
        }
        Ok(())
    }

    fn snapshot_state(
        &mut self,
        _: &eddy_runtime::CheckpointBarrier,
        writer: &mut SnapshotWriter,
    ) -> Result<()> {
        writer.operator_state(WATERMARK_STATE, &(self.max_timestamp, self.emitted.0))
    }

    fn flush(&mut self, out: &mut dyn Output<T>) -> Result<()> {
        self.emit(out)?;
        if let Some(timeout) = self.strategy.idleness {
            if !self.idle && self.last_record.elapsed() >= timeout {
                self.idle = true;
                out.emit_status(StreamStatus::Idle)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use eddy_runtime::CheckpointBarrier;

    /// Records what the operator emits besides records.
    #[derive(Default)]
    struct Events(Vec<String>);
    impl Output<u64> for Events {
        fn collect(&mut self, _: Record<u64>) -> Result<()> {
            Ok(())
        }
        fn emit_watermark(&mut self, w: Watermark) -> Result<()> {
            self.0.push(format!("w{}", w.0));
            Ok(())
        }
        fn emit_status(&mut self, s: StreamStatus) -> Result<()> {
            self.0.push(format!("{s:?}"));
            Ok(())
        }
        fn emit_barrier(&mut self, _: CheckpointBarrier) -> Result<()> {
            Ok(())
        }
        fn flush(&mut self) -> Result<()> {
            Ok(())
        }
        fn end_of_input(&mut self) -> Result<()> {
            Ok(())
        }
    }

    #[test]
    fn punctuated_watermarks_trail_the_largest_timestamp() {
        let strategy = WatermarkStrategy::for_bounded_out_of_orderness(5)
            .with_timestamp_assigner(|v: &u64| *v as i64)
            .punctuated();
        let mut op = strategy.operator();
        let mut out = Events::default();
        for v in [10, 8, 20, 12] {
            op.process_record(Record::new(v), &mut out).unwrap();
        }
        op.process_watermark(Watermark(3), &mut out).unwrap(); // upstream watermarks are dropped
        op.process_watermark(Watermark::MAX, &mut out).unwrap();
        assert_eq!(out.0, ["w4", "w14", &format!("w{}", i64::MAX)]);
    }

    #[test]
    fn an_input_without_records_goes_idle_and_comes_back() {
        let strategy = WatermarkStrategy::for_monotonous_timestamps()
            .with_timestamp_assigner(|v: &u64| *v as i64)
            .with_idleness(Duration::from_millis(20));
        let mut op = strategy.operator();
        let mut out = Events::default();
        op.process_record(Record::new(1), &mut out).unwrap();
        op.flush(&mut out).unwrap();
        std::thread::sleep(Duration::from_millis(30));
        op.flush(&mut out).unwrap();
        op.flush(&mut out).unwrap(); // idle once, not twice
        op.process_record(Record::new(2), &mut out).unwrap();
        assert_eq!(out.0, ["w0", "Idle", "Active"]);
    }
}
