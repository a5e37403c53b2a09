//! [`DataSet`]: a bounded collection of records and the transformations that make new ones.
//!
//! Transformations are lazy: each adds a node to the program's plan. [`DataSet::collect`]
//! and [`DataSet::count`] run the plan up to this data set as a job and return the result;
//! the `write_as_*` sinks run with [`crate::ExecutionEnvironment::execute`].

use std::fmt::Display;
use std::hash::Hash;
use std::marker::PhantomData;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;

use eddy_runtime::{Data, Key, Operator, Partitioner, Result};
use serde::Serialize;

use crate::environment::ExecutionEnvironment;
use crate::function::{KeySelector, Order};
use crate::grouping::{Aggregations, Grouping};
use crate::io::sink::{Encoder, FileSink};
use crate::key::SortKey;
use crate::operators::{
    filter::Filter, first_n::FirstN, flat_map::FlatMap, identity::Identity, map::Map,
    map_partition::MapPartition, reduce::Reduce, sort_partition::SortPartition,
};
use crate::plan::{materialize, PlanNode, Translator};

/// A bounded, distributed collection of `T`: the output of a source or of a transformation.
///
/// Cloning is cheap (a handle on the same plan node).
pub struct DataSet<T> {
    pub(crate) env: ExecutionEnvironment,
    pub(crate) node: Rc<PlanNode>,
    _type: PhantomData<fn() -> T>,
}

impl<T> Clone for DataSet<T> {
    fn clone(&self) -> Self {
        DataSet {
            env: self.env.clone(),
            node: self.node.clone(),
            _type: PhantomData,
        }
    }
}

/// Which parallelism a one-input operator runs with, unless the user set one.
#[derive(Clone, Copy)]
pub(crate) enum Parallelism {
    /// The environment's default.
    Default,
    /// The same as its input's, so that it chains to the producer (combiners).
    Input,
    /// One subtask (global aggregates).
    One,
}

impl<T: Data> DataSet<T> {
    pub(crate) fn from_node(env: ExecutionEnvironment, node: Rc<PlanNode>) -> Self {
        DataSet {
            env,
            node,
            _type: PhantomData,
        }
    }

    /// The environment this data set belongs to.
    pub fn environment(&self) -> &ExecutionEnvironment {
        &self.env
    }

    /// Adds a one-input operator fed through `partitioner`.
    pub(crate) fn unary<O: Data>(
        &self,
        name: &str,
        partitioner: Partitioner<T>,
        parallelism: Parallelism,
        factory: impl Fn() -> Box<dyn Operator<T, O>> + Send + Sync + 'static,
    ) -> DataSet<O> {
        let factory = Arc::new(factory);
        let node = PlanNode::new::<O>(
            name,
            None,
            vec![self.node.clone()],
            Box::new(move |t: &mut Translator, node, inputs| {
                let p = match (node.parallelism.get(), parallelism) {
                    (Some(p), _) => p,
                    (None, Parallelism::Default) => t.parallelism(node),
                    (None, Parallelism::Input) => t.parallelism_of(inputs[0]),
                    (None, Parallelism::One) => 1,
                };
                let factory = factory.clone();
                let id = t.graph.add_operator(node.name(), p, move || factory());
                t.connect(inputs[0], id, partitioner.clone())?;
                Ok(id)
            }),
        );
        DataSet::from_node(self.env.clone(), node)
    }

    /// The same data set with a bound on its size kept from `from` (for the join optimizer).
    fn sized_like<O>(self, from: &DataSet<O>) -> Self {
        let node = self.node.with_size_hint(from.node.size_hint);
        DataSet { node, ..self }
    }

    /// Sets the parallelism of the operator that produces this data set.
    ///
    /// ```
    /// let env = eddy_dataset::ExecutionEnvironment::new();
    /// let numbers = env.generate_sequence(1, 3).set_parallelism(1);
    /// // One subtask from source to result: the sequence's order is kept.
    /// assert_eq!(numbers.map(|x| x * 2).set_parallelism(1).collect().unwrap(), vec![2, 4, 6]);
    /// ```
    pub fn set_parallelism(self, parallelism: u32) -> Self {
        self.node.parallelism.set(Some(parallelism.max(1)));
        self
    }

    /// Renames the operator that produces this data set (in metrics, logs and errors).
    pub fn name(self, name: &str) -> Self {
        *self.node.name.borrow_mut() = name.to_string();
        self
    }

    /// One output per input.
    ///
    /// ```
    /// let out = eddy_dataset::example(|env| env.from_collection(vec![1, 2]).map(|x: i32| x + 1));
    /// assert_eq!(out, vec![2, 3]);
    /// ```
    pub fn map<O: Data, F>(&self, function: F) -> DataSet<O>
    where
        F: FnMut(T) -> O + Clone + Send + Sync + 'static,
    {
        self.unary(
            "map",
            Partitioner::Forward,
            Parallelism::Default,
            move || Box::new(Map(function.clone())),
        )
        .sized_like(self)
    }

    /// Any number of outputs per input, from the iterator the function returns.
    ///
    /// ```
    /// let out = eddy_dataset::example(|env| {
    ///     env.from_collection(vec!["a b".to_string()])
    ///         .flat_map(|line: String| line.split(' ').map(str::to_string).collect::<Vec<_>>())
    /// });
    /// assert_eq!(out, vec!["a", "b"]);
    /// ```
    pub fn flat_map<O: Data, I, F>(&self, function: F) -> DataSet<O>
    where
        I: IntoIterator<Item = O>,
        F: FnMut(T) -> I + Clone + Send + Sync + 'static,
    {
        self.unary(
            "flat_map",
            Partitioner::Forward,
            Parallelism::Default,
            move || Box::new(FlatMap(function.clone())),
        )
    }

    /// Keeps the records the predicate accepts.
    ///
    /// ```
    /// let out = eddy_dataset::example(|env| env.from_collection(1..=6).filter(|x: &i32| x % 2 == 0));
    /// assert_eq!(out, vec![2, 4, 6]);
    /// ```
    pub fn filter<F>(&self, predicate: F) -> DataSet<T>
    where
        F: FnMut(&T) -> bool + Clone + Send + Sync + 'static,
    {
        self.unary(
            "filter",
            Partitioner::Forward,
            Parallelism::Default,
            move || Box::new(Filter(predicate.clone())),
        )
        .sized_like(self)
    }

    /// One call per parallel partition, with all of the partition's records (buffered in
    /// memory), emitting what the returned iterator yields.
    ///
    /// ```
    /// let env = eddy_dataset::ExecutionEnvironment::new();
    /// env.set_parallelism(2);
    /// let sizes = env.generate_sequence(1, 10).map_partition(|part| Some(part.len())).collect().unwrap();
    /// assert_eq!(sizes.iter().sum::<usize>(), 10);
    /// ```
    pub fn map_partition<O: Data, I, F>(&self, function: F) -> DataSet<O>
    where
        I: IntoIterator<Item = O>,
        F: FnMut(Vec<T>) -> I + Clone + Send + Sync + 'static,
    {
        self.unary(
            "map_partition",
            Partitioner::Forward,
            Parallelism::Default,
            move || {
                Box::new(MapPartition {
                    function: function.clone(),
                    buffer: Vec::new(),
                })
            },
        )
    }

    /// Groups the records by key, for [`Grouping::reduce`], [`Grouping::reduce_group`],
    /// aggregations and friends.
    pub fn group_by<K: Key, F>(&self, key: F) -> Grouping<T, K>
    where
        F: Fn(&T) -> K + Send + Sync + 'static,
    {
        Grouping::new(self.clone(), Arc::new(key))
    }

    /// Folds all records into one with an associative, commutative function: a combiner
    /// folds each partition first, then one subtask folds the partial results. Empty input
    /// gives an empty data set.
    ///
    /// ```
    /// let out = eddy_dataset::example(|env| env.generate_sequence(1, 100).reduce(|a, b| a + b));
    /// assert_eq!(out, vec![5050]);
    /// ```
    pub fn reduce<F>(&self, function: F) -> DataSet<T>
    where
        F: FnMut(T, T) -> T + Clone + Send + Sync + 'static,
    {
        let unit: KeySelector<T, ()> = Arc::new(|_| ());
        let (combine_key, combine) = (unit.clone(), function.clone());
        let combined = self.unary(
            "reduce (combine)",
            Partitioner::Forward,
            Parallelism::Input,
            move || Box::new(Reduce::combiner(combine_key.clone(), combine.clone())),
        );
        combined.unary(
            "reduce",
            Partitioner::Forward,
            Parallelism::One,
            move || Box::new(Reduce::new(unit.clone(), function.clone())),
        )
    }

    /// Aggregates fields over all records (see [`Aggregations`]).
    ///
    /// ```
    /// use eddy_dataset::Aggregations;
    /// let out = eddy_dataset::example(|env| {
    ///     env.from_collection(vec![(1u32, 5u64), (2, 7)])
    ///         .aggregate(Aggregations::new().max(|t: &mut (u32, u64)| &mut t.0).sum(|t: &mut (u32, u64)| &mut t.1))
    /// });
    /// assert_eq!(out, vec![(2, 12)]);
    /// ```
    pub fn aggregate(&self, aggregations: Aggregations<T>) -> DataSet<T> {
        let merge = aggregations.into_function();
        self.reduce(merge)
    }

    /// The record with the smallest `key` (the first seen among equals).
    pub fn min_by<V: PartialOrd, F>(&self, key: F) -> DataSet<T>
    where
        F: Fn(&T) -> V + Clone + Send + Sync + 'static,
    {
        self.reduce(move |a, b| if key(&b) < key(&a) { b } else { a })
    }

    /// The record with the largest `key` (the first seen among equals).
    pub fn max_by<V: PartialOrd, F>(&self, key: F) -> DataSet<T>
    where
        F: Fn(&T) -> V + Clone + Send + Sync + 'static,
    {
        self.reduce(move |a, b| if key(&b) > key(&a) { b } else { a })
    }

    /// The distinct records.
    ///
    /// ```
    /// let mut out = eddy_dataset::example(|env| env.from_collection(vec![3, 1, 3, 2, 1]).distinct());
    /// out.sort();
    /// assert_eq!(out, vec![1, 2, 3]);
    /// ```
    pub fn distinct(&self) -> DataSet<T>
    where
        T: Hash + Eq,
    {
        self.group_by(|t: &T| t.clone()).reduce(|a, _| a)
    }

    /// One record per distinct key (an arbitrary one of those with that key).
    pub fn distinct_by<K: Key, F>(&self, key: F) -> DataSet<T>
    where
        F: Fn(&T) -> K + Send + Sync + 'static,
    {
        self.group_by(key).reduce(|a, _| a)
    }

    /// At most `n` records (arbitrary ones, unless the input is ordered and not parallel).
    ///
    /// ```
    /// let out = eddy_dataset::example(|env| env.generate_sequence(1, 100).first(3));
    /// assert_eq!(out.len(), 3);
    /// ```
    pub fn first(&self, n: usize) -> DataSet<T> {
        self.unary(
            "first (local)",
            Partitioner::Forward,
            Parallelism::Input,
            move || Box::new(FirstN { remaining: n }),
        )
        .unary("first", Partitioner::Forward, Parallelism::One, move || {
            Box::new(FirstN { remaining: n })
        })
    }

    /// Merges data sets of the same type.
    ///
    /// ```
    /// let mut out = eddy_dataset::example(|env| {
    ///     env.from_collection(vec![1, 2]).union(&env.from_collection(vec![3]))
    /// });
    /// out.sort();
    /// assert_eq!(out, vec![1, 2, 3]);
    /// ```
    ///
    /// # Panics
    /// If `other` belongs to another environment (a programming error).
    pub fn union(&self, other: &DataSet<T>) -> DataSet<T> {
        assert!(
            Rc::ptr_eq(&self.env.inner, &other.env.inner),
            "union of data sets from different environments"
        );
        let node = PlanNode::new::<T>(
            "union",
            None,
            vec![self.node.clone(), other.node.clone()],
            Box::new(|t, node, inputs| {
                let p = t.parallelism(node);
                let id = t
                    .graph
                    .add_operator::<T, T, _>(node.name(), p, || Box::new(Identity));
                for input in inputs {
                    t.connect(*input, id, Partitioner::<T>::Forward)?;
                }
                Ok(id)
            }),
        );
        let hint = match (self.node.size_hint, other.node.size_hint) {
            (Some(a), Some(b)) => Some(a + b),
            _ => None,
        };
        DataSet::from_node(self.env.clone(), node.with_size_hint(hint))
    }

    /// Sorts each parallel partition locally by `key` (stable); there is no order across
    /// partitions. With parallelism 1 it is a total order.
    ///
    /// ```
    /// use eddy_dataset::Order;
    /// let out = eddy_dataset::example(|env| {
    ///     env.from_collection(vec![3, 1, 2]).sort_partition(|x: &i32| *x, Order::Descending)
    /// });
    /// assert_eq!(out, vec![3, 2, 1]);
    /// ```
    ///
    /// Sort keys implement [`SortKey`](crate::key::SortKey): integers and floats (radix
    /// sorted), `String`, tuples of up to three, and any `Ord` type wrapped in
    /// [`OrdKey`](crate::key::OrdKey). The sort spills under the memory budget.
    pub fn sort_partition<V: SortKey, F>(&self, key: F, order: Order) -> DataSet<T>
    where
        F: Fn(&T) -> V + Send + Sync + 'static,
    {
        let key: KeySelector<T, V> = Arc::new(key);
        let memory = self.env.settings().memory;
        self.unary(
            "sort_partition",
            Partitioner::Forward,
            Parallelism::Default,
            move || Box::new(SortPartition::new(&memory, key.clone(), order)),
        )
    }

    /// Runs the plan up to this data set as a job and returns its records (in no particular
    /// order across partitions).
    ///
    /// # Errors
    /// The job's root cause of failure (an unreadable input naming file and line, a user
    /// function that panicked, naming the operator).
    pub fn collect(&self) -> Result<Vec<T>> {
        let partitions: Vec<Vec<T>> =
            materialize(&self.env.settings(), Default::default(), &self.node)?;
        Ok(partitions.concat())
    }

    /// Runs the plan up to this data set as a job and returns its number of records.
    ///
    /// # Errors
    /// As [`collect`](Self::collect).
    pub fn count(&self) -> Result<u64> {
        let counts = self
            .map_partition(|part: Vec<T>| Some(part.len() as u64))
            .collect()?;
        Ok(counts.iter().sum())
    }

    /// Runs the plan up to this data set and prints its records, one per line.
    ///
    /// # Errors
    /// As [`collect`](Self::collect).
    pub fn print(&self) -> Result<()>
    where
        T: Display,
    {
        for value in self.collect()? {
            println!("{value}");
        }
        Ok(())
    }

    /// Writes each record as a line of `path` when the environment executes. The file
    /// appears, whole, only if the job succeeds. The sink has parallelism 1.
    pub fn write_as_text(&self, path: impl Into<PathBuf>)
    where
        T: Display,
    {
        let encode: Encoder<T> = Arc::new(|value, line| {
            use std::io::Write;
            writeln!(line, "{value}").map_err(|e| e.to_string())
        });
        self.write_file("text sink", path.into(), encode, None);
    }

    /// Writes each record as a CSV row of `path` (with `header` as the first line, if given)
    /// when the environment executes. The file appears, whole, only if the job succeeds. The
    /// sink has parallelism 1.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("out.csv");
    /// let env = eddy_dataset::ExecutionEnvironment::new();
    /// env.from_collection(vec![(1, "a".to_string())]).write_as_csv(&path, Some(&["id", "name"]));
    /// env.execute("write").unwrap();
    /// assert_eq!(std::fs::read_to_string(&path).unwrap(), "id,name\n1,a\n");
    /// ```
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
        self.write_file("csv sink", path.into(), encode, header);
    }

    fn write_file(&self, name: &str, path: PathBuf, encode: Encoder<T>, header: Option<Vec<u8>>) {
        let node = PlanNode::new::<()>(
            name,
            Some(1),
            vec![self.node.clone()],
            Box::new(move |t, node, inputs| {
                let (path, encode, header) = (path.clone(), encode.clone(), header.clone());
                let pending = t.pending.clone();
                let id = t.graph.add_operator(node.name(), 1, move || {
                    Box::new(FileSink::new(
                        path.clone(),
                        encode.clone(),
                        pending.clone(),
                        header.clone(),
                    ))
                });
                t.connect(inputs[0], id, Partitioner::<T>::Forward)?;
                Ok(id)
            }),
        );
        self.env.inner.borrow_mut().sinks.push(node);
    }
}
