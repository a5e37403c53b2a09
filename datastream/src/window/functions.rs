//! Window functions built on [`AggregateFunction`]: reduce, and collecting a window's records
//! for a full-window function.

use std::sync::Arc;

use eddy_runtime::state::AggregateFunction;
use eddy_runtime::Data;

/// Folds a window's records with a reduce function (Flink's `ReduceFunction` on a window).
pub(crate) struct ReduceAggregate<T> {
    pub(crate) reduce: Arc<dyn Fn(T, T) -> T + Send + Sync>,
}

impl<T> Clone for ReduceAggregate<T> {
    fn clone(&self) -> Self {
        ReduceAggregate {
            reduce: self.reduce.clone(),
        }
    }
}

impl<T: Data> AggregateFunction<T> for ReduceAggregate<T> {
    type Acc = Option<T>;
    type Out = T;
    fn create_accumulator(&self) -> Option<T> {
        None
    }
    fn add(&self, acc: &mut Option<T>, value: &T) {
        *acc = Some(match acc.take() {
            None => value.clone(),
            Some(a) => (self.reduce)(a, value.clone()),
        });
    }
    fn get_result(&self, acc: &Option<T>) -> T {
        // A window fires only once it holds a record, so the accumulator is set.
        acc.clone()
            .expect("a firing window holds at least one record")
    }
    fn merge(&self, a: Option<T>, b: Option<T>) -> Option<T> {
        match (a, b) {
            (Some(a), Some(b)) => Some((self.reduce)(a, b)),
            (a, b) => a.or(b),
        }
    }
}

/// Keeps every record of a window, in arrival order, for a full-window function.
#[derive(Clone)]
pub(crate) struct CollectAll;

impl<T: Data> AggregateFunction<T> for CollectAll {
    type Acc = Vec<T>;
    type Out = Vec<T>;
    fn create_accumulator(&self) -> Vec<T> {
        Vec::new()
    }
    fn add(&self, acc: &mut Vec<T>, value: &T) {
        acc.push(value.clone());
    }
    fn get_result(&self, acc: &Vec<T>) -> Vec<T> {
        acc.clone()
    }
    fn merge(&self, mut a: Vec<T>, b: Vec<T>) -> Vec<T> {
        a.extend(b);
        a
    }
}
