//! The repartition join strategies (hash first, hash second, sort-merge): both inputs arrive
//! partitioned by key; the operator holds them under the memory budget and, when both are
//! complete, runs the hybrid hash join or the sort-merge join engine of [`crate::join`].
//!
//! # Memory
//! Both inputs are held in [`SpillingBuffer`]s (in memory up to the budget, in spill files
//! beyond); the engines then draw on the same budget, spilling partitions or sorted runs as
//! they need. Everything on disk is removed when the operator ends or fails.

use eddy_runtime::memory::MemoryManager;
use eddy_runtime::{Error, Output, Record, Result};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::buffer::{Fallible, SpillingBuffer};
use super::two_input::BinaryOperator;
use crate::function::KeySelector;
use crate::join::{BuildSide, HybridHashJoin, JoinType, SortMergeJoin};
use crate::key::JoinKey;

/// Which engine joins the partitions.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Engine {
    /// Hybrid hash join, building on the given side.
    HybridHash(BuildSide),
    /// Sort both, merge.
    SortMerge,
}

/// Holds both partitioned inputs, then joins them with an engine.
pub(crate) struct RepartitionJoin<A, B, K, F> {
    memory: MemoryManager,
    engine: Engine,
    join_type: JoinType,
    key_a: KeySelector<A, K>,
    key_b: KeySelector<B, K>,
    function: F,
    left: Option<SpillingBuffer<A>>,
    right: Option<SpillingBuffer<B>>,
}

impl<A, B, K, F> RepartitionJoin<A, B, K, F>
where
    A: Serialize + DeserializeOwned,
    B: Serialize + DeserializeOwned,
{
    pub(crate) fn new(
        memory: &MemoryManager,
        engine: Engine,
        join_type: JoinType,
        keys: (KeySelector<A, K>, KeySelector<B, K>),
        function: F,
    ) -> Self {
        RepartitionJoin {
            memory: memory.clone(),
            engine,
            join_type,
            key_a: keys.0,
            key_b: keys.1,
            function,
            left: Some(SpillingBuffer::new(memory)),
            right: Some(SpillingBuffer::new(memory)),
        }
    }
}

fn missing() -> Error {
    Error::Internal("join input buffer used after finish".into())
}

impl<A, B, K, O, It, F> BinaryOperator<A, B, O> for RepartitionJoin<A, B, K, F>
where
    A: Clone + Serialize + DeserializeOwned + Send + 'static,
    B: Clone + Serialize + DeserializeOwned + Send + 'static,
    K: JoinKey,
    It: IntoIterator<Item = O>,
    F: FnMut(Option<A>, Option<B>) -> It + Send,
{
    fn left(&mut self, a: A, _: &mut dyn Output<O>) -> Result<()> {
        self.left.as_mut().ok_or_else(missing)?.push(a)
    }

    fn right(&mut self, b: B, _: &mut dyn Output<O>) -> Result<()> {
        self.right.as_mut().ok_or_else(missing)?.push(b)
    }

    fn finish(&mut self, out: &mut dyn Output<O>) -> Result<()> {
        let left = self.left.take().ok_or_else(missing)?;
        let right = self.right.take().ok_or_else(missing)?;
        if left.spilled() || right.spilled() {
            tracing::debug!("join inputs exceeded the memory budget and were spilled");
        }
        let (left, right) = (left.into_reader()?, right.into_reader()?);
        let (mut left_error, mut right_error, mut emit_error) = (None, None, None);
        let left = Fallible {
            inner: left,
            error: &mut left_error,
        };
        let right = Fallible {
            inner: right,
            error: &mut right_error,
        };
        let function = &mut self.function;
        let emit = |a: Option<&A>, b: Option<&B>| {
            if emit_error.is_some() {
                return;
            }
            for value in function(a.cloned(), b.cloned()) {
                if let Err(e) = out.collect(Record::new(value)) {
                    emit_error = Some(e);
                    return;
                }
            }
        };
        let (key_a, key_b) = (self.key_a.clone(), self.key_b.clone());
        let key_a = move |a: &A| key_a(a);
        let key_b = move |b: &B| key_b(b);
        let metrics = match self.engine {
            Engine::HybridHash(side) => {
                HybridHashJoin::new(&self.memory, self.join_type, key_a, key_b)
                    .build_side(side)
                    .run(left, right, emit)?
            }
            Engine::SortMerge => SortMergeJoin::new(&self.memory, self.join_type, key_a, key_b)
                .run(left, right, emit)?,
        };
        tracing::debug!(?metrics, "join done");
        match (left_error, right_error, emit_error) {
            (Some(e), _, _) | (_, Some(e), _) | (_, _, Some(e)) => Err(e),
            _ => Ok(()),
        }
    }
}
