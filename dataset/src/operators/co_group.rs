//! `co_group`: one call per key with all records of both inputs that have it (either list
//! may be empty).
//!
//! # Memory
//! Both inputs are held in memory, grouped by key, until both are complete.

use eddy_runtime::{Output, Result};

use super::two_input::BinaryOperator;
use crate::function::{emit_all, KeySelector};

/// Groups both inputs by key and calls the function per key at the end.
pub(crate) struct CoGroup<A, B, K, F> {
    key_a: KeySelector<A, K>,
    key_b: KeySelector<B, K>,
    function: F,
    groups: hashbrown::HashMap<K, (Vec<A>, Vec<B>)>,
}

impl<A, B, K, F> CoGroup<A, B, K, F> {
    pub(crate) fn new(key_a: KeySelector<A, K>, key_b: KeySelector<B, K>, function: F) -> Self {
        CoGroup {
            key_a,
            key_b,
            function,
            groups: hashbrown::HashMap::new(),
        }
    }
}

impl<A, B, K, O, It, F> BinaryOperator<A, B, O> for CoGroup<A, B, K, F>
where
    A: Send,
    B: Send,
    K: std::hash::Hash + Eq + Send,
    It: IntoIterator<Item = O>,
    F: FnMut(Vec<A>, Vec<B>) -> It + Send,
{
    fn left(&mut self, a: A, _: &mut dyn Output<O>) -> Result<()> {
        self.groups.entry((self.key_a)(&a)).or_default().0.push(a);
        Ok(())
    }

    fn right(&mut self, b: B, _: &mut dyn Output<O>) -> Result<()> {
        self.groups.entry((self.key_b)(&b)).or_default().1.push(b);
        Ok(())
    }

    fn finish(&mut self, out: &mut dyn Output<O>) -> Result<()> {
        for (_, (left, right)) in self.groups.drain() {
            emit_all(out, (self.function)(left, right))?;
        }
        Ok(())
    }
}
