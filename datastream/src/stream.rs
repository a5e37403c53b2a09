//! [`DataStream`] and [`KeyedStream`]: the transformations of a job.

use std::fmt::Display;
use std::marker::PhantomData;
use std::ops::AddAssign;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use eddy_runtime::partition::hash_key;
use eddy_runtime::state::KeyRef;
use eddy_runtime::{Data, Key, NodeId, Operator, Partitioner, RuntimeMode};
use serde::Serialize;

use crate::environment::StreamExecutionEnvironment;
use crate::function::{BoxError, Collector, KeyFn};
use crate::operators::side_output::{SelectMain, SelectSide, Tagged};
use crate::operators::{
    filter::Filter, flat_map::FlatMap, map::Map, pre_aggregate::PreAggregate, process::Process,
    reduce::KeyedReduce, union::Union,
};
use crate::process::FunctionBuilder;
use crate::process::{KeyedProcessFunction, KeyedProcessOperator, StateContext};
use crate::side_output::SideOutputs;
use crate::sinks::collect::{CollectSink, CollectedStream};
use crate::sinks::exactly_once::ExactlyOnceFileSink;
use crate::sinks::file::FileSink;
use crate::sinks::print::PrintSink;
use crate::sinks::{display_line, Encoder};
use crate::watermark::WatermarkStrategy;
use crate::window::functions::{CollectAll, ReduceAggregate};
use crate::window::trigger::{DefaultTrigger, Evictor, Trigger};
use crate::window::{
    AggregateFunction, CountWindowOperator, SlidingWindowOperator, TimeWindow, WindowAssigner,
    WindowOperator, Windowed,
};
use crate::window::{Assign, TriggeredConfig, TriggeredWindowOperator};

/// A stream of `T`: the output of a source or operator, with the partitioning its next
/// consumer will use (forward unless [`rebalance`](Self::rebalance) and friends said
/// otherwise).
pub struct DataStream<T> {
    pub(crate) env: StreamExecutionEnvironment,
    pub(crate) node: NodeId,
    pub(crate) partitioner: Partitioner<T>,
}

impl<T> Clone for DataStream<T> {
    fn clone(&self) -> Self {
        DataStream {
            env: self.env.clone(),
            node: self.node,
            partitioner: self.partitioner.clone(),
        }
    }
}

impl<T: Data> DataStream<T> {
    pub(crate) fn new(env: StreamExecutionEnvironment, node: NodeId) -> Self {
        DataStream {
            env,
            node,
            partitioner: Partitioner::Forward,
        }
    }

    /// Adds a custom operator (Flink's `transform`), one instance per subtask from `factory`.
    pub fn transform<O: Data>(
        &self,
        name: &str,
        factory: impl Fn() -> Box<dyn Operator<T, O>> + Send + Sync + 'static,
    ) -> DataStream<O> {
        self.env.add_node(self, name, 0, factory)
    }

    /// Sets the parallelism of the operator that produces this stream.
    pub fn set_parallelism(self, parallelism: u32) -> Self {
        self.env
            .inner
            .borrow_mut()
            .graph
            .set_parallelism(self.node, parallelism);
        self
    }

    /// Sets the stable uid of the operator that produces this stream: checkpoints and
    /// savepoints find its state by it, so set one on stateful operators of jobs whose graph
    /// may change between a savepoint and its restore (by default the uid is the name).
    pub fn uid(self, uid: &str) -> Self {
        self.env.inner.borrow_mut().graph.set_uid(self.node, uid);
        self
    }

    /// Renames the operator that produces this stream (in metrics, logs and errors).
    pub fn name(self, name: &str) -> Self {
        self.env.inner.borrow_mut().graph.rename(self.node, name);
        self
    }

    /// One output per input.
    ///
    /// ```
    /// let out = eddy_datastream::example(|env| env.from_collection(vec![1, 2]).map(|x: i32| x + 1));
    /// assert_eq!(out, vec![2, 3]);
    /// ```
    pub fn map<O: Data, F>(&self, function: F) -> DataStream<O>
    where
        F: FnMut(T) -> O + Clone + Send + Sync + 'static,
    {
        self.transform("map", move || Box::new(Map(function.clone())))
    }

    /// Keeps the records the predicate accepts.
    ///
    /// ```
    /// let out = eddy_datastream::example(|env| env.from_collection(1..=6).filter(|x: &i32| x % 2 == 0));
    /// assert_eq!(out, vec![2, 4, 6]);
    /// ```
    pub fn filter<F>(&self, predicate: F) -> DataStream<T>
    where
        F: FnMut(&T) -> bool + Clone + Send + Sync + 'static,
    {
        self.transform("filter", move || Box::new(Filter(predicate.clone())))
    }

    /// Any number of outputs per input, from the iterator the function returns.
    ///
    /// ```
    /// let out = eddy_datastream::example(|env| {
    ///     env.from_collection(vec!["a b".to_string()])
    ///         .flat_map(|line: String| line.split(' ').map(str::to_string).collect::<Vec<_>>())
    /// });
    /// assert_eq!(out, vec!["a", "b"]);
    /// ```
    pub fn flat_map<O: Data, I, F>(&self, function: F) -> DataStream<O>
    where
        I: IntoIterator<Item = O>,
        F: FnMut(T) -> I + Clone + Send + Sync + 'static,
    {
        self.transform("flat_map", move || Box::new(FlatMap(function.clone())))
    }

    /// A fallible function emitting any number of outputs through a [`Collector`]; an `Err`
    /// fails the job with its message and this operator's name.
    ///
    /// ```
    /// use eddy_datastream::Collector;
    /// let out = eddy_datastream::example(|env| {
    ///     let lines = vec!["1,2".to_string(), "3".to_string()];
    ///     env.from_collection(lines).process(|line: String, out: &mut Collector<u32>| {
    ///         for field in line.split(',') {
    ///             out.collect(field.parse()?);
    ///         }
    ///         Ok(())
    ///     })
    /// });
    /// assert_eq!(out, vec![1, 2, 3]);
    /// ```
    pub fn process<O: Data, F>(&self, function: F) -> DataStream<O>
    where
        F: FnMut(T, &mut Collector<'_, O>) -> Result<(), BoxError> + Clone + Send + Sync + 'static,
    {
        self.transform("process", move || {
            Box::new(Process {
                function: function.clone(),
                name: String::new(),
            })
        })
    }

    /// Assigns event timestamps and generates watermarks, as `strategy` says. Runs with the
    /// parallelism of its input, so that watermarks follow the input's order.
    pub fn assign_timestamps_and_watermarks(
        &self,
        strategy: WatermarkStrategy<T>,
    ) -> DataStream<T> {
        let parallelism = self.parallelism_setting();
        self.env
            .add_node(self, "timestamps/watermarks", parallelism, move || {
                Box::new(strategy.operator())
            })
    }

    /// The parallelism set on this stream's operator (0: the job's default).
    fn parallelism_setting(&self) -> u32 {
        self.env
            .inner
            .borrow()
            .graph
            .node(self.node)
            .parallelism
            .unwrap_or(0)
    }

    /// Partitions the stream by key: records with equal keys go to the same subtask.
    pub fn key_by<K: Key, F>(&self, key: F) -> KeyedStream<T, K>
    where
        F: Fn(&T) -> K + Send + Sync + 'static,
    {
        self.keyed(Arc::new(move |t: &T| KeyRef::Owned(key(t))))
    }

    /// [`key_by`](Self::key_by) with a key that is a part of the record, borrowed rather than
    /// copied for every record.
    ///
    /// ```
    /// let out = eddy_datastream::example(|env| {
    ///     env.from_collection(vec![("a".to_string(), 1u64), ("a".to_string(), 2)])
    ///         .key_by_ref(|t: &(String, u64)| &t.0)
    ///         .sum(|t: &mut (String, u64)| &mut t.1)
    /// });
    /// assert_eq!(out, vec![("a".to_string(), 3)]);
    /// ```
    pub fn key_by_ref<K: Key, F>(&self, key: F) -> KeyedStream<T, K>
    where
        F: for<'a> Fn(&'a T) -> &'a K + Send + Sync + 'static,
    {
        self.keyed(Arc::new(move |t: &T| KeyRef::Borrowed(key(t))))
    }

    fn keyed<K: Key>(&self, key: KeyFn<T, K>) -> KeyedStream<T, K> {
        KeyedStream {
            stream: self.clone(),
            key,
        }
    }

    /// Merges streams of the same type into one.
    ///
    /// # Panics
    /// If a stream belongs to another environment (a programming error).
    pub fn union(&self, others: &[DataStream<T>]) -> DataStream<T> {
        let union = self.env.add_node(self, "union", 0, || Box::new(Union));
        for other in others {
            assert!(
                std::rc::Rc::ptr_eq(&self.env.inner, &other.env.inner),
                "union of streams from different environments"
            );
            self.env
                .connect(other, union.node, other.partitioner.clone());
        }
        union
    }

    fn repartitioned(&self, partitioner: Partitioner<T>) -> DataStream<T> {
        DataStream {
            partitioner,
            ..self.clone()
        }
    }

    /// Distributes records round-robin over the next operator's subtasks.
    pub fn rebalance(&self) -> DataStream<T> {
        self.repartitioned(Partitioner::Rebalance)
    }

    /// Distributes records randomly over the next operator's subtasks.
    pub fn shuffle(&self) -> DataStream<T> {
        self.repartitioned(Partitioner::Shuffle)
    }

    /// Sends every record to every subtask of the next operator.
    pub fn broadcast(&self) -> DataStream<T> {
        self.repartitioned(Partitioner::Broadcast)
    }

    /// Prints each record to stdout as Flink's `print()` does: with a `N> ` subtask prefix
    /// when the sink runs with parallelism above one.
    pub fn print(&self)
    where
        T: Display,
    {
        self.print_with(true);
    }

    /// Prints each record to stdout as one line, without a prefix.
    pub fn write_to_stdout(&self)
    where
        T: Display,
    {
        self.print_with(false);
    }

    fn print_with(&self, prefix_subtask: bool)
    where
        T: Display,
    {
        let encode = display_line::<T>();
        self.transform::<()>("print", move || {
            Box::new(PrintSink::new(encode.clone(), prefix_subtask))
        });
    }

    /// Writes each record as a line of one text file, which appears (atomically) only when
    /// the job succeeds. The sink has parallelism 1.
    pub fn write_as_text(&self, path: impl Into<PathBuf>)
    where
        T: Display,
    {
        self.write_file("text file", path.into(), display_line(), None);
    }

    /// Writes each record as a CSV row of one file (with `header` as the first line, if
    /// given), which appears only when the job succeeds. The sink has parallelism 1.
    pub fn write_as_csv(&self, path: impl Into<PathBuf>, header: Option<&[&str]>)
    where
        T: Serialize,
    {
        let encode: Encoder<T> = Arc::new(|value, line| {
            let mut writer = csv::WriterBuilder::new()
                .has_headers(false)
                .from_writer(line);
            writer.serialize(value).map_err(|e| e.to_string())?;
            writer.flush().map_err(|e| e.to_string())
        });
        let header = header.map(|columns| format!("{}\n", columns.join(",")).into_bytes());
        self.write_file("csv file", path.into(), encode, header);
    }

    fn write_file(
        &self,
        name: &str,
        destination: PathBuf,
        encode: Encoder<T>,
        header: Option<Vec<u8>>,
    ) {
        let (pending, finals, exactly_once) = {
            let inner = self.env.inner.borrow();
            (
                inner.pending_files.clone(),
                inner.final_commits.clone(),
                inner.exactly_once_sinks.clone(),
            )
        };
        let sink = self.transform::<()>(name, move || {
            // Decided when the job starts: with checkpoints, files are committed with them.
            if exactly_once.load(std::sync::atomic::Ordering::Relaxed) {
                Box::new(ExactlyOnceFileSink::new(
                    destination.clone(),
                    encode.clone(),
                    header.clone(),
                    finals.clone(),
                ))
            } else {
                Box::new(FileSink::new(
                    destination.clone(),
                    encode.clone(),
                    pending.clone(),
                    header.clone(),
                ))
            }
        });
        let _ = sink.set_parallelism(1);
    }

    /// Gathers the stream's records in memory; read them from the handle after `execute`.
    /// The sink has parallelism 1, so the records of each upstream subtask keep their order.
    pub fn collect(&self) -> CollectedStream<T> {
        let values = Arc::new(Mutex::new(Vec::new()));
        let shared = values.clone();
        let sink = self.transform::<()>("collect", move || {
            Box::new(CollectSink {
                shared: shared.clone(),
                local: Vec::new(),
            })
        });
        // One subtask, as Flink's collect: each producer's records stay in their order.
        let _ = sink.set_parallelism(1);
        CollectedStream { values }
    }
}

/// A stream partitioned by key; keyed aggregations run per key.
pub struct KeyedStream<T, K> {
    stream: DataStream<T>,
    key: KeyFn<T, K>,
}

impl<T: Data, K: Key> KeyedStream<T, K> {
    /// Folds the records of each key with an associative function. In streaming mode every
    /// new aggregate is emitted; in batch mode each key's final aggregate once.
    ///
    /// ```
    /// let mut out = eddy_datastream::example(|env| {
    ///     env.from_collection(vec![(1, 10), (2, 5), (1, 1)])
    ///         .key_by(|t: &(u8, u32)| t.0)
    ///         .reduce(|a, b| (a.0, a.1.max(b.1)))
    /// });
    /// out.sort();
    /// assert_eq!(out, vec![(1, 10), (2, 5)]);
    /// ```
    pub fn reduce<F>(&self, function: F) -> DataStream<T>
    where
        F: Fn(T, T) -> T + Send + Sync + 'static,
    {
        let reduce: Arc<dyn Fn(T, T) -> T + Send + Sync> = Arc::new(function);
        let env = &self.stream.env;
        // The combiner runs beside the producer, before the exchange (see pre_aggregate.rs).
        // It only works in batch mode; a job set to streaming mode does without it.
        let streaming = env.inner.borrow().config.mode == RuntimeMode::Streaming;
        let combined = if streaming {
            self.stream.clone()
        } else {
            let producer_parallelism = self.stream.parallelism_setting();
            let (key, f) = (self.key.clone(), reduce.clone());
            env.add_node(
                &self.stream,
                "reduce (pre-aggregate)",
                producer_parallelism,
                move || Box::new(PreAggregate::new(key.clone(), f.clone())),
            )
        };
        let exchanged = combined.repartitioned(self.hash_partitioner());
        let key = self.key.clone();
        exchanged.transform("reduce", move || {
            Box::new(KeyedReduce::new(key.clone(), reduce.clone()))
        })
    }

    /// The key of a record, as an owned value (for operators in other crates).
    pub fn key_selector(&self) -> Arc<dyn Fn(&T) -> K + Send + Sync> {
        let key = self.key.clone();
        Arc::new(move |t: &T| key(t).into_owned())
    }

    /// The stream routed by key: records with equal keys reach the same subtask of the next
    /// operator (for keyed operators built with [`DataStream::transform`]).
    pub fn partitioned(&self) -> DataStream<T> {
        self.stream.repartitioned(self.hash_partitioner())
    }

    /// Routes records by the hash of their key.
    fn hash_partitioner(&self) -> Partitioner<T> {
        let key = self.key.clone();
        Partitioner::Hash(Arc::new(move |t: &T| hash_key(&*key(t))))
    }

    /// Runs a [`KeyedProcessFunction`] (see [`crate::process`]): per-record logic with keyed
    /// state and timers. `build` makes each subtask's function, declaring its state.
    pub fn process<O: Data, F, B>(&self, build: B) -> DataStream<O>
    where
        F: KeyedProcessFunction<K, T, O>,
        B: Fn(&mut StateContext<'_>) -> Result<F, BoxError> + Send + Sync + 'static,
    {
        self.process_with_side_outputs(build).0
    }

    /// [`process`](Self::process), also returning the function's side outputs (see
    /// [`crate::side_output`]).
    pub fn process_with_side_outputs<O: Data, F, B>(
        &self,
        build: B,
    ) -> (DataStream<O>, SideOutputs<O>)
    where
        F: KeyedProcessFunction<K, T, O>,
        B: Fn(&mut StateContext<'_>) -> Result<F, BoxError> + Send + Sync + 'static,
    {
        keyed_process(
            &self.stream.repartitioned(self.hash_partitioner()),
            self.key.clone(),
            build,
        )
    }

    /// Groups each key's records into event-time windows (see [`crate::window`]).
    pub fn window(&self, assigner: WindowAssigner) -> WindowedStream<T, K> {
        WindowedStream {
            keyed: KeyedStream {
                stream: self.stream.clone(),
                key: self.key.clone(),
            },
            assigner,
            allowed_lateness: 0,
            share_panes: true,
            processing_time: false,
        }
    }

    /// Count windows: folds every `size` records of a key with `function` and emits
    /// `(key, result)` (Flink's `countWindow(size)`). A key's incomplete last window never
    /// fires.
    ///
    /// ```
    /// use eddy_datastream::window::AggregateFunction;
    /// #[derive(Clone)]
    /// struct Sum;
    /// impl AggregateFunction<(char, u32)> for Sum {
    ///     type Acc = u32;
    ///     type Out = u32;
    ///     fn create_accumulator(&self) -> u32 { 0 }
    ///     fn add(&self, acc: &mut u32, v: &(char, u32)) { *acc += v.1 }
    ///     fn get_result(&self, acc: &u32) -> u32 { *acc }
    ///     fn merge(&self, a: u32, b: u32) -> u32 { a + b }
    /// }
    /// let out = eddy_datastream::example(|env| {
    ///     env.from_collection(vec![('a', 1), ('a', 2), ('b', 5), ('a', 3), ('a', 4), ('a', 9)])
    ///         .key_by(|e: &(char, u32)| e.0)
    ///         .count_window(2, Sum)
    /// });
    /// assert_eq!(out, vec![('a', 3), ('a', 7)]);
    /// ```
    pub fn count_window<F: AggregateFunction<T>>(
        &self,
        size: u64,
        function: F,
    ) -> DataStream<(K, F::Out)> {
        let key = self.key.clone();
        let size = size.max(1);
        self.stream
            .repartitioned(self.hash_partitioner())
            .transform("count window", move || {
                Box::new(CountWindowOperator {
                    key: key.clone(),
                    size,
                    function: function.clone(),
                    keys: Default::default(),
                })
            })
    }

    /// One window per key for all time, firing as `trigger` decides (Flink's `GlobalWindows`
    /// with a trigger): for example [`CountTrigger`](crate::window::trigger::CountTrigger)
    /// wrapped in [`PurgingTrigger`](crate::window::trigger::PurgingTrigger).
    pub fn global_window<Tr: Trigger<T>>(&self, trigger: Tr) -> TriggeredWindowedStream<T, K, Tr> {
        TriggeredWindowedStream {
            keyed: KeyedStream {
                stream: self.stream.clone(),
                key: self.key.clone(),
            },
            assign: Assign::Global,
            processing_time: false,
            allowed_lateness: 0,
            trigger,
            evictor: None,
        }
    }

    /// Adds up a numeric field per key; the other fields are those of the key's first record.
    pub fn sum<N, F>(&self, field: F) -> DataStream<T>
    where
        N: Copy + AddAssign,
        F: Fn(&mut T) -> &mut N + Send + Sync + 'static,
    {
        self.reduce(move |mut acc, mut value| {
            let add = *field(&mut value);
            *field(&mut acc) += add;
            acc
        })
    }

    /// The smallest value of a field per key; the other fields are those of the key's first
    /// record (Flink's `min`; see [`min_by`](Self::min_by) for the whole smallest record).
    pub fn min<N, F>(&self, field: F) -> DataStream<T>
    where
        N: Copy + PartialOrd + 'static,
        F: Fn(&mut T) -> &mut N + Send + Sync + 'static,
    {
        self.keep_field(field, |candidate, current| candidate < current)
    }

    /// The largest value of a field per key; see [`min`](Self::min).
    pub fn max<N, F>(&self, field: F) -> DataStream<T>
    where
        N: Copy + PartialOrd + 'static,
        F: Fn(&mut T) -> &mut N + Send + Sync + 'static,
    {
        self.keep_field(field, |candidate, current| candidate > current)
    }

    /// Per key, replaces the field by a later record's value when `better(new, current)`.
    fn keep_field<N, F>(&self, field: F, better: fn(&N, &N) -> bool) -> DataStream<T>
    where
        N: Copy + PartialOrd + 'static,
        F: Fn(&mut T) -> &mut N + Send + Sync + 'static,
    {
        self.reduce(move |mut acc, mut value| {
            let candidate = *field(&mut value);
            let slot = field(&mut acc);
            if better(&candidate, slot) {
                *slot = candidate;
            }
            acc
        })
    }

    /// The record with the smallest field value per key (the first of equals).
    pub fn min_by<N, F>(&self, field: F) -> DataStream<T>
    where
        N: PartialOrd,
        F: Fn(&T) -> N + Send + Sync + 'static,
    {
        self.reduce(move |acc, value| {
            if field(&value) < field(&acc) {
                value
            } else {
                acc
            }
        })
    }

    /// The record with the largest field value per key (the first of equals).
    pub fn max_by<N, F>(&self, field: F) -> DataStream<T>
    where
        N: PartialOrd,
        F: Fn(&T) -> N + Send + Sync + 'static,
    {
        self.reduce(move |acc, value| {
            if field(&value) > field(&acc) {
                value
            } else {
                acc
            }
        })
    }
}

/// A keyed stream grouped into windows; [`aggregate`](Self::aggregate) says what each window
/// emits.
pub struct WindowedStream<T, K> {
    keyed: KeyedStream<T, K>,
    assigner: WindowAssigner,
    allowed_lateness: i64,
    share_panes: bool,
    processing_time: bool,
}

impl<T: Data, K: Key> WindowedStream<T, K> {
    /// Windows by processing time instead of event time (Flink's `TumblingProcessingTimeWindows`
    /// and friends): a record belongs to the windows of the moment it arrives, and a window
    /// fires when the clock passes its end; nothing is late. At the end of a bounded input,
    /// pending windows fire at once.
    pub fn in_processing_time(mut self) -> Self {
        self.processing_time = true;
        self
    }

    /// Fires as `trigger` decides instead of at the window's end (Flink's `trigger`). The
    /// windows then keep their records; the aggregate function runs when they fire. On
    /// session windows, merging windows sum their trigger counters and ask the trigger's
    /// `on_merge` for the merged window's timers.
    pub fn trigger<Tr: Trigger<T>>(&self, trigger: Tr) -> TriggeredWindowedStream<T, K, Tr> {
        TriggeredWindowedStream {
            keyed: KeyedStream {
                stream: self.keyed.stream.clone(),
                key: self.keyed.key.clone(),
            },
            assign: Assign::Time(self.assigner),
            processing_time: self.processing_time,
            allowed_lateness: self.allowed_lateness,
            trigger,
            evictor: None,
        }
    }

    /// Removes records from a window before its function sees them (Flink's `evictor`); the
    /// window keeps its default trigger.
    pub fn evictor(&self, evictor: Evictor) -> TriggeredWindowedStream<T, K, DefaultTrigger> {
        let processing_time = self.processing_time;
        self.trigger(DefaultTrigger { processing_time })
            .evictor(evictor)
    }

    /// Sliding windows normally share the aggregates of their panes (a record is folded into
    /// one pane, not into `size / slide` windows; a window merges its panes when it fires).
    /// This folds every record into each of its windows instead, as Flink does: slower, but a
    /// floating-point sum then adds in exactly Flink's order.
    pub fn without_pane_sharing(mut self) -> Self {
        self.share_panes = false;
        self
    }

    /// Keeps each window's state `lateness_ms` past its end; records arriving in that time
    /// fire the window again with the updated aggregate (Flink's `allowedLateness`).
    pub fn allowed_lateness(mut self, lateness_ms: i64) -> Self {
        self.allowed_lateness = lateness_ms.max(0);
        self
    }

    /// Aggregates each window incrementally; emits one [`Windowed`] per firing. Records too
    /// late for every window they belong to are dropped and counted in the log.
    pub fn aggregate<F: AggregateFunction<T>>(
        &self,
        function: F,
    ) -> DataStream<Windowed<K, F::Out>> {
        window_results(&self.tagged(function, false))
    }

    /// [`aggregate`](Self::aggregate), also returning the stream of records too late for every
    /// window they belong to (Flink's `sideOutputLateData`).
    pub fn aggregate_with_late_data<F: AggregateFunction<T>>(
        &self,
        function: F,
    ) -> (DataStream<Windowed<K, F::Out>>, DataStream<T>) {
        let tagged = self.tagged(function, true);
        (window_results(&tagged), late_data(&tagged))
    }

    /// Folds each window's records with `reduce` (which must be associative).
    pub fn reduce(
        &self,
        reduce: impl Fn(T, T) -> T + Send + Sync + 'static,
    ) -> DataStream<Windowed<K, T>> {
        self.aggregate(ReduceAggregate {
            reduce: Arc::new(reduce),
        })
    }

    /// Hands each firing window's records (in arrival order), with its key and window, to
    /// `function`, which returns what to emit (Flink's `ProcessWindowFunction`). Keeps every
    /// record of a window until it is cleared.
    ///
    /// ```
    /// use eddy_datastream::window::WindowAssigner;
    /// use eddy_datastream::WatermarkStrategy;
    /// let out = eddy_datastream::example(|env| {
    ///     env.from_collection(vec![('a', 1), ('a', 7), ('a', 12)])
    ///         .assign_timestamps_and_watermarks(
    ///             WatermarkStrategy::for_monotonous_timestamps().with_timestamp_assigner(|e: &(char, i64)| e.1),
    ///         )
    ///         .key_by(|e: &(char, i64)| e.0)
    ///         .window(WindowAssigner::tumbling(10))
    ///         .process(|key, window, events| {
    ///             let times: Vec<String> = events.iter().map(|e| e.1.to_string()).collect();
    ///             Some(format!("{key} [{}, {}): {}", window.start, window.end, times.join(" ")))
    ///         })
    /// });
    /// assert_eq!(out, ["a [0, 10): 1 7", "a [10, 20): 12"]);
    /// ```
    pub fn process<O: Data, I>(
        &self,
        function: impl Fn(&K, TimeWindow, Vec<T>) -> I + Clone + Send + Sync + 'static,
    ) -> DataStream<O>
    where
        I: IntoIterator<Item = O>,
    {
        // Panes would hand records over in pane order; a full-window function sees arrival order.
        let windowed = WindowedStream {
            keyed: KeyedStream {
                stream: self.keyed.stream.clone(),
                key: self.keyed.key.clone(),
            },
            assigner: self.assigner,
            allowed_lateness: self.allowed_lateness,
            share_panes: false,
            processing_time: self.processing_time,
        };
        windowed
            .aggregate(CollectAll)
            .flat_map(move |w: Windowed<K, Vec<T>>| function(&w.key, w.window, w.value))
    }

    fn tagged<F: AggregateFunction<T>>(
        &self,
        function: F,
        emit_late: bool,
    ) -> DataStream<Tagged<Windowed<K, F::Out>, T>> {
        let key = self.keyed.key.clone();
        let (assigner, lateness) = (self.assigner, self.allowed_lateness);
        let exchanged = self
            .keyed
            .stream
            .repartitioned(self.keyed.hash_partitioner());
        if self.processing_time {
            return exchanged.transform("window", move || {
                Box::new(
                    WindowOperator::new(key.clone(), assigner, 0, function.clone(), emit_late)
                        .in_processing_time(),
                )
            });
        }
        match assigner {
            WindowAssigner::Sliding {
                size,
                slide,
                offset,
            } if self.share_panes => exchanged.transform("window", move || {
                Box::new(SlidingWindowOperator::new(
                    key.clone(),
                    (size, slide, offset),
                    lateness,
                    function.clone(),
                    emit_late,
                ))
            }),
            _ => exchanged.transform("window", move || {
                Box::new(WindowOperator::new(
                    key.clone(),
                    assigner,
                    lateness,
                    function.clone(),
                    emit_late,
                ))
            }),
        }
    }
}

/// Runs a keyed process function over `input`, already partitioned by `key`.
pub(crate) fn keyed_process<T: Data, K: Key, O: Data, F, B>(
    input: &DataStream<T>,
    key: KeyFn<T, K>,
    build: B,
) -> (DataStream<O>, SideOutputs<O>)
where
    F: KeyedProcessFunction<K, T, O>,
    B: Fn(&mut StateContext<'_>) -> Result<F, BoxError> + Send + Sync + 'static,
{
    let build: FunctionBuilder<F> = Arc::new(build);
    let tagged = input.transform("keyed process", move || {
        Box::new(KeyedProcessOperator::new(key.clone(), build.clone()))
    });
    let main = tagged.transform("keyed process output", || Box::new(SelectMain(PhantomData)));
    (main, SideOutputs { tagged })
}

/// Windows with a custom trigger and/or an evictor (see [`crate::window::trigger`]).
pub struct TriggeredWindowedStream<T, K, Tr> {
    keyed: KeyedStream<T, K>,
    assign: Assign,
    processing_time: bool,
    allowed_lateness: i64,
    trigger: Tr,
    evictor: Option<Evictor>,
}

impl<T: Data, K: Key, Tr: Trigger<T>> TriggeredWindowedStream<T, K, Tr> {
    /// Removes records from a firing window before its function sees them.
    pub fn evictor(mut self, evictor: Evictor) -> Self {
        self.evictor = Some(evictor);
        self
    }

    /// Keeps each window's state `lateness_ms` past its end (event time).
    pub fn allowed_lateness(mut self, lateness_ms: i64) -> Self {
        self.allowed_lateness = lateness_ms.max(0);
        self
    }

    /// Runs `function` over a window's records each time it fires.
    pub fn aggregate<F: AggregateFunction<T>>(
        &self,
        function: F,
    ) -> DataStream<Windowed<K, F::Out>> {
        window_results(&self.tagged(function, false))
    }

    /// [`aggregate`](Self::aggregate), also returning the records too late for every window.
    pub fn aggregate_with_late_data<F: AggregateFunction<T>>(
        &self,
        function: F,
    ) -> (DataStream<Windowed<K, F::Out>>, DataStream<T>) {
        let tagged = self.tagged(function, true);
        (window_results(&tagged), late_data(&tagged))
    }

    fn tagged<F: AggregateFunction<T>>(
        &self,
        function: F,
        emit_late: bool,
    ) -> DataStream<Tagged<Windowed<K, F::Out>, T>> {
        let key = self.keyed.key.clone();
        let (assign, processing_time, lateness) =
            (self.assign, self.processing_time, self.allowed_lateness);
        let (trigger, evictor) = (self.trigger.clone(), self.evictor);
        self.keyed
            .stream
            .repartitioned(self.keyed.hash_partitioner())
            .transform("window", move || {
                Box::new(TriggeredWindowOperator::new(TriggeredConfig {
                    key: key.clone(),
                    assign,
                    processing_time,
                    lateness,
                    function: function.clone(),
                    trigger: trigger.clone(),
                    evictor,
                    emit_late,
                }))
            })
    }
}

/// The window results of a window operator's tagged output.
fn window_results<K: Key, O: Data, T: Data>(
    tagged: &DataStream<Tagged<Windowed<K, O>, T>>,
) -> DataStream<Windowed<K, O>> {
    tagged.transform("window results", || Box::new(SelectMain(PhantomData)))
}

/// The late records of a window operator's tagged output.
fn late_data<K: Key, O: Data, T: Data>(
    tagged: &DataStream<Tagged<Windowed<K, O>, T>>,
) -> DataStream<T> {
    tagged.transform("late data", || Box::new(SelectSide(PhantomData)))
}
