//! Side outputs: a process function emits values of other types besides its main output,
//! each under an [`OutputTag`], and the job reads them as streams of their own (Flink's
//! `OutputTag` and `getSideOutput`).
//!
//! ```
//! use eddy_datastream::process::{Context, KeyedProcessFunction};
//! use eddy_datastream::side_output::OutputTag;
//! use eddy_datastream::{BoxError, StreamExecutionEnvironment};
//!
//! /// Passes even numbers on; reports odd ones on the side, as text.
//! struct Split {
//!     odd: OutputTag<String>,
//! }
//! impl KeyedProcessFunction<bool, u32, u32> for Split {
//!     fn process_element(&mut self, n: u32, ctx: &mut Context<'_, bool, u32>) -> Result<(), BoxError> {
//!         if n % 2 == 0 {
//!             ctx.collect(n);
//!         } else {
//!             ctx.output(&self.odd, format!("{n} is odd"));
//!         }
//!         Ok(())
//!     }
//! }
//!
//! let env = StreamExecutionEnvironment::new();
//! let odd = OutputTag::<String>::new("odd");
//! let tag = odd.clone();
//! let (even, sides) = env
//!     .from_collection(vec![1u32, 2, 3, 4])
//!     .key_by(|n: &u32| n % 2 == 0)
//!     .process_with_side_outputs(move |_| Ok(Split { odd: tag.clone() }));
//! let (even, odd) = (even.collect(), sides.get(&odd).collect());
//! env.execute("split").unwrap();
//! let (mut even, mut odd) = (even.take(), odd.take());
//! even.sort();
//! odd.sort();
//! assert_eq!(even, [2, 4]);
//! assert_eq!(odd, ["1 is odd", "3 is odd"]);
//! ```

use std::marker::PhantomData;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use eddy_runtime::{Data, Error};

use crate::function::{BoxError, Collector};
use crate::operators::side_output::Tagged;
use crate::stream::DataStream;

/// Names a side output of type `S`. Tags are equal when their names are.
pub struct OutputTag<S> {
    id: u64,
    name: Arc<str>,
    _type: PhantomData<fn() -> S>,
}

impl<S> Clone for OutputTag<S> {
    fn clone(&self) -> Self {
        OutputTag {
            id: self.id,
            name: self.name.clone(),
            _type: PhantomData,
        }
    }
}

impl<S: Data> OutputTag<S> {
    /// A tag named `name`.
    pub fn new(name: &str) -> Self {
        OutputTag {
            id: eddy_runtime::partition::hash_key(name),
            name: name.into(),
            _type: PhantomData,
        }
    }

    /// The tag's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A value of this tag, ready to travel beside the main output.
    pub(crate) fn encode(&self, value: &S) -> Result<SideRecord, Error> {
        let bytes = bincode::serialize(value)
            .map_err(|e| Error::Internal(format!("side output '{}': {e}", self.name)))?;
        Ok(SideRecord {
            tag: self.id,
            bytes,
        })
    }
}

/// A side output value in transit: its tag and its serialized form (so that tags of any
/// types share one channel, and can cross a process boundary).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SideRecord {
    tag: u64,
    bytes: Vec<u8>,
}

/// What a [`DataStream::process_with_side_outputs`] function emits through: the main output
/// and any side output.
pub struct ProcessContext<'a, 'b, O> {
    out: &'a mut Collector<'b, Tagged<O, SideRecord>>,
    error: Option<Error>,
}

impl<O> ProcessContext<'_, '_, O> {
    /// Emits `value` on the main output.
    pub fn collect(&mut self, value: O) {
        self.out.collect(Tagged::Main(value));
    }

    /// Emits `value` to the side output named by `tag`.
    pub fn output<S: Data>(&mut self, tag: &OutputTag<S>, value: S) {
        match tag.encode(&value) {
            Ok(record) => self.out.collect(Tagged::Side(record)),
            Err(e) => self.error = self.error.take().or(Some(e)),
        }
    }

    /// The timestamp of the record being processed, if it has one.
    pub fn timestamp(&self) -> Option<eddy_runtime::Timestamp> {
        self.out.timestamp()
    }
}

impl<T: Data> DataStream<T> {
    /// [`process`](DataStream::process) with side outputs: the function emits through a
    /// [`ProcessContext`] to the main output and to side outputs named by [`OutputTag`]s.
    ///
    /// ```
    /// use eddy_datastream::side_output::OutputTag;
    /// let env = eddy_datastream::StreamExecutionEnvironment::new();
    /// let errors = OutputTag::<String>::new("errors");
    /// let tag = errors.clone();
    /// let (numbers, sides) = env
    ///     .from_collection(vec!["1".to_string(), "x".to_string(), "3".to_string()])
    ///     .process_with_side_outputs(move |line: String, ctx| {
    ///         match line.parse::<u32>() {
    ///             Ok(n) => ctx.collect(n),
    ///             Err(e) => ctx.output(&tag, format!("{line}: {e}")),
    ///         }
    ///         Ok(())
    ///     });
    /// let (numbers, errors) = (numbers.collect(), sides.get(&errors).collect());
    /// env.execute("parse").unwrap();
    /// let mut numbers = numbers.take();
    /// numbers.sort();
    /// assert_eq!(numbers, [1, 3]);
    /// assert_eq!(errors.take(), ["x: invalid digit found in string"]);
    /// ```
    pub fn process_with_side_outputs<O: Data, F>(
        &self,
        mut function: F,
    ) -> (DataStream<O>, SideOutputs<O>)
    where
        F: FnMut(T, &mut ProcessContext<'_, '_, O>) -> Result<(), BoxError>
            + Clone
            + Send
            + Sync
            + 'static,
    {
        let tagged = self.process(
            move |value: T, out: &mut Collector<'_, Tagged<O, SideRecord>>| {
                let mut ctx = ProcessContext { out, error: None };
                function(value, &mut ctx)?;
                ctx.error.map_or(Ok(()), |e| Err(e.into()))
            },
        );
        let main = tagged.transform("process output", || {
            Box::new(crate::operators::side_output::SelectMain(PhantomData))
        });
        (main, SideOutputs { tagged })
    }
}

/// The side outputs of a process function; [`get`](Self::get) one by its tag.
pub struct SideOutputs<M> {
    pub(crate) tagged: DataStream<Tagged<M, SideRecord>>,
}

impl<M: Data> SideOutputs<M> {
    /// The stream of the values emitted under `tag`.
    pub fn get<S: Data>(&self, tag: &OutputTag<S>) -> DataStream<S> {
        let tag = tag.clone();
        self.tagged
            .process(
                move |value: Tagged<M, SideRecord>, out: &mut Collector<'_, S>| {
                    if let Tagged::Side(record) = value {
                        if record.tag == tag.id {
                            let decoded: S =
                                bincode::deserialize(&record.bytes).map_err(|e| -> BoxError {
                                    format!("side output '{}': {e}", tag.name).into()
                                })?;
                            out.collect(decoded);
                        }
                    }
                    Ok(())
                },
            )
            .name(&format!("side output {}", self.tagged_name()))
    }

    fn tagged_name(&self) -> String {
        self.tagged
            .env
            .inner
            .borrow()
            .graph
            .node(self.tagged.node)
            .name
            .clone()
    }
}
