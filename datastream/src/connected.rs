//! Connected streams: two streams of different types processed by one function that sees
//! both (Flink's `connect` with a `CoProcessFunction`), keyed or not, and the broadcast-state
//! pattern (a low-volume stream of rules broadcast to every subtask of a high-volume stream).
//!
//! Two inputs become one: each side is tagged [`Either::Left`] or [`Either::Right`] beside its
//! producer, and the function's operator reads the merged input, so its watermark is the
//! minimum over both sides' channels, as Flink's.
//!
//! ```
//! use eddy_datastream::connected::{BroadcastProcessFunction, BroadcastState};
//! use eddy_datastream::Collector;
//!
//! /// Passes words that a broadcast rule has not blocked.
//! #[derive(Clone)]
//! struct Blocklist;
//! impl BroadcastProcessFunction<String, String, String> for Blocklist {
//!     type StateKey = String;
//!     type StateValue = bool;
//!     fn process_element(&mut self, word: String, state: &BroadcastState<String, bool>, out: &mut Collector<'_, String>) {
//!         if !state.contains_key(&word) {
//!             out.collect(word);
//!         }
//!     }
//!     fn process_broadcast_element(&mut self, rule: String, state: &mut BroadcastState<String, bool>, _: &mut Collector<'_, String>) {
//!         state.insert(rule, true);
//!     }
//! }
//!
//! let env = eddy_datastream::StreamExecutionEnvironment::new();
//! env.set_parallelism(2);
//! let rules = env.from_collection(vec!["spam".to_string()]);
//! let words = env.from_generator(eddy_datastream::Generator::bounded(4), |i| ["spam", "ham"][i as usize % 2].to_string());
//! let out = words.connect_broadcast(&rules, Blocklist).collect();
//! env.execute("blocklist").unwrap();
//! // The inputs race, as in Flink: a word that arrives before the rule is not blocked.
//! let passed = out.take();
//! assert_eq!(passed.iter().filter(|w| *w == "ham").count(), 2);
//! ```

use std::marker::PhantomData;

use serde::{Deserialize, Serialize};

use eddy_runtime::state::KeyRef;
use eddy_runtime::{Data, Key, Operator, Output, Partitioner, Record, Result, Timestamp};

use crate::function::{BoxError, Collector, KeyFn};
use crate::process::{Context, KeyedProcessFunction, StateContext};
use crate::stream::DataStream;

/// A value of the first or of the second input of connected streams.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Either<A, B> {
    /// From the first stream.
    Left(A),
    /// From the second stream.
    Right(B),
}

/// Two streams connected for one function (see the module doc).
pub struct ConnectedStreams<A, B> {
    pub(crate) first: DataStream<A>,
    pub(crate) second: DataStream<B>,
}

/// A function over two inputs (Flink's `CoProcessFunction`, without timers).
pub trait CoProcessFunction<A, B, O>: Clone + Send + Sync + 'static {
    /// A record of the first input.
    ///
    /// # Errors
    /// Any error fails the job, named after this operator.
    fn process_element1(&mut self, value: A, out: &mut Collector<'_, O>) -> Result<(), BoxError>;
    /// A record of the second input.
    ///
    /// # Errors
    /// Any error fails the job, named after this operator.
    fn process_element2(&mut self, value: B, out: &mut Collector<'_, O>) -> Result<(), BoxError>;
}

/// A keyed function over two inputs, with keyed state and timers (Flink's
/// `KeyedCoProcessFunction`): records of both inputs with equal keys meet at one subtask.
pub trait KeyedCoProcessFunction<K, A, B, O>: Send + 'static {
    /// A record of the first input.
    ///
    /// # Errors
    /// Any error fails the job, named after this operator.
    fn process_element1(&mut self, value: A, ctx: &mut Context<'_, K, O>) -> Result<(), BoxError>;
    /// A record of the second input.
    ///
    /// # Errors
    /// Any error fails the job, named after this operator.
    fn process_element2(&mut self, value: B, ctx: &mut Context<'_, K, O>) -> Result<(), BoxError>;
    /// A timer of the context's key fired.
    ///
    /// # Errors
    /// Any error fails the job, named after this operator.
    fn on_timer(
        &mut self,
        _timestamp: Timestamp,
        _ctx: &mut Context<'_, K, O>,
    ) -> Result<(), BoxError> {
        Ok(())
    }
}

/// Runs a [`KeyedCoProcessFunction`] as a keyed process function over [`Either`].
struct KeyedCoAdapter<F, A, B>(F, PhantomData<fn(A, B)>);

impl<K: Key, A: Data, B: Data, O, F: KeyedCoProcessFunction<K, A, B, O>>
    KeyedProcessFunction<K, Either<A, B>, O> for KeyedCoAdapter<F, A, B>
{
    fn process_element(
        &mut self,
        value: Either<A, B>,
        ctx: &mut Context<'_, K, O>,
    ) -> Result<(), BoxError> {
        match value {
            Either::Left(a) => self.0.process_element1(a, ctx),
            Either::Right(b) => self.0.process_element2(b, ctx),
        }
    }
    fn on_timer(
        &mut self,
        timestamp: Timestamp,
        ctx: &mut Context<'_, K, O>,
    ) -> Result<(), BoxError> {
        self.0.on_timer(timestamp, ctx)
    }
}

impl<A: Data, B: Data> ConnectedStreams<A, B> {
    /// The two inputs as one stream of [`Either`], each side routed by its partitioner.
    fn merged(
        &self,
        left: Partitioner<Either<A, B>>,
        right: Partitioner<Either<A, B>>,
    ) -> DataStream<Either<A, B>> {
        let mut first = self.first.map(Either::<A, B>::Left);
        first.partitioner = left;
        let mut second = self.second.map(Either::<A, B>::Right);
        second.partitioner = right;
        first.union(&[second])
    }

    /// Processes both inputs with one function.
    pub fn process<O: Data, F: CoProcessFunction<A, B, O>>(&self, function: F) -> DataStream<O> {
        let mut function = function;
        self.merged(Partitioner::Forward, Partitioner::Forward)
            .process(
                move |value: Either<A, B>, out: &mut Collector<'_, O>| match value {
                    Either::Left(a) => function.process_element1(a, out),
                    Either::Right(b) => function.process_element2(b, out),
                },
            )
    }

    /// Keys both inputs, so that records with equal keys meet at one subtask, and processes
    /// them with a [`KeyedCoProcessFunction`] built per subtask by `build`.
    pub fn process_keyed<K: Key, O: Data, F, B2>(
        &self,
        key1: impl Fn(&A) -> K + Send + Sync + 'static,
        key2: impl Fn(&B) -> K + Send + Sync + 'static,
        build: B2,
    ) -> DataStream<O>
    where
        F: KeyedCoProcessFunction<K, A, B, O>,
        B2: Fn(&mut StateContext<'_>) -> Result<F, BoxError> + Send + Sync + 'static,
    {
        let key: KeyFn<Either<A, B>, K> = std::sync::Arc::new(move |e: &Either<A, B>| match e {
            Either::Left(a) => KeyRef::Owned(key1(a)),
            Either::Right(b) => KeyRef::Owned(key2(b)),
        });
        let hash = {
            let key = key.clone();
            Partitioner::Hash(std::sync::Arc::new(move |e: &Either<A, B>| {
                eddy_runtime::partition::hash_key(&*key(e))
            }))
        };
        let merged = self.merged(hash.clone(), hash);
        crate::stream::keyed_process(&merged, key, move |states| {
            Ok(KeyedCoAdapter(build(states)?, PhantomData))
        })
        .0
    }
}

/// The state every subtask of a broadcast process function keeps: a map written only by the
/// broadcast side, so that all subtasks hold the same map.
pub type BroadcastState<K, V> = hashbrown::HashMap<K, V>;

/// A function over a stream and a broadcast stream (Flink's `BroadcastProcessFunction`):
/// broadcast records update [`BroadcastState`], the same on every subtask; the other
/// records read it.
pub trait BroadcastProcessFunction<T, BC, O>: Clone + Send + Sync + 'static {
    /// Key of the broadcast state.
    type StateKey: Key;
    /// Value of the broadcast state.
    type StateValue: Data;
    /// A record of the main input, with read access to the broadcast state.
    fn process_element(
        &mut self,
        value: T,
        state: &BroadcastState<Self::StateKey, Self::StateValue>,
        out: &mut Collector<'_, O>,
    );
    /// A record of the broadcast input, which may update the broadcast state.
    fn process_broadcast_element(
        &mut self,
        value: BC,
        state: &mut BroadcastState<Self::StateKey, Self::StateValue>,
        out: &mut Collector<'_, O>,
    );
}

/// The operator of a [`BroadcastProcessFunction`].
pub(crate) struct BroadcastProcessOperator<F: BroadcastProcessFunction<T, BC, O>, T, BC, O> {
    pub(crate) function: F,
    pub(crate) state: BroadcastState<F::StateKey, F::StateValue>,
    pub(crate) _types: PhantomData<fn(T, BC, O)>,
}

impl<T: Data, BC: Data, O: Data, F: BroadcastProcessFunction<T, BC, O>> Operator<Either<T, BC>, O>
    for BroadcastProcessOperator<F, T, BC, O>
{
    fn process_record(
        &mut self,
        record: Record<Either<T, BC>>,
        out: &mut dyn Output<O>,
    ) -> Result<()> {
        let mut collector = Collector::new(out, record.timestamp);
        match record.value {
            Either::Left(value) => {
                self.function
                    .process_element(value, &self.state, &mut collector)
            }
            Either::Right(value) => {
                self.function
                    .process_broadcast_element(value, &mut self.state, &mut collector)
            }
        }
        collector.finish()
    }
}

impl<T: Data> DataStream<T> {
    /// Connects another stream, of any type, for a function that sees both.
    pub fn connect<B: Data>(&self, other: &DataStream<B>) -> ConnectedStreams<T, B> {
        ConnectedStreams {
            first: self.clone(),
            second: other.clone(),
        }
    }

    /// Broadcasts `rules` to every subtask of this stream's next operator and processes both
    /// with `function` (Flink's broadcast state pattern).
    pub fn connect_broadcast<BC: Data, O: Data, F: BroadcastProcessFunction<T, BC, O>>(
        &self,
        rules: &DataStream<BC>,
        function: F,
    ) -> DataStream<O> {
        let connected = ConnectedStreams {
            first: self.clone(),
            second: rules.clone(),
        };
        connected
            .merged(Partitioner::Rebalance, Partitioner::Broadcast)
            .transform("broadcast process", move || {
                Box::new(BroadcastProcessOperator {
                    function: function.clone(),
                    state: BroadcastState::default(),
                    _types: PhantomData,
                })
            })
    }
}
