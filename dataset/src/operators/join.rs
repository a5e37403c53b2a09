//! The broadcast hash join: the broadcast (build) side goes into an in-memory hash table on
//! every subtask, and the other side's rows probe it as they stream past, for inner and
//! outer joins (the repartition strategies are in `repartition_join.rs`).
//!
//! # Algorithm
//! [`HashJoin`] inserts the build side into a hash table of key to rows; probe rows are
//! looked up as they arrive once the build side is complete (the end markers of
//! [`super::tag`] say when), and held until then. Probe rows of an outer side without a
//! match are emitted at once with `None` for the other side; unmatched build rows (only
//! when the build side is not broadcast, which the API forbids for outer build sides) at
//! the end.
//!
//! # Memory
//! The build side's rows are held in memory on every subtask (a broadcast side is small by
//! choice), as are probe rows that arrive before the build side is complete.

use eddy_runtime::{Output, Result};

use super::two_input::BinaryOperator;
use crate::function::{emit_all, KeySelector};
use crate::join::JoinType;

/// A hash join building on the first input (`build_left`) or on the second.
pub(crate) struct HashJoin<A, B, K, F> {
    key_a: KeySelector<A, K>,
    key_b: KeySelector<B, K>,
    function: F,
    outer_a: bool,
    outer_b: bool,
    build_left: bool,
    built: bool,
    left_table: hashbrown::HashMap<K, Vec<(A, bool)>>,
    right_table: hashbrown::HashMap<K, Vec<(B, bool)>>,
    early_left: Vec<A>,
    early_right: Vec<B>,
}

impl<A, B, K, F> HashJoin<A, B, K, F> {
    pub(crate) fn new(
        key_a: KeySelector<A, K>,
        key_b: KeySelector<B, K>,
        function: F,
        join_type: JoinType,
        build_left: bool,
    ) -> Self {
        let (outer_a, outer_b) = (join_type.keeps_left(), join_type.keeps_right());
        HashJoin {
            key_a,
            key_b,
            function,
            outer_a,
            outer_b,
            build_left,
            built: false,
            left_table: hashbrown::HashMap::new(),
            right_table: hashbrown::HashMap::new(),
            early_left: Vec::new(),
            early_right: Vec::new(),
        }
    }
}

impl<A, B, K, O, It, F> HashJoin<A, B, K, F>
where
    A: Clone,
    B: Clone,
    K: std::hash::Hash + Eq,
    It: IntoIterator<Item = O>,
    F: FnMut(Option<A>, Option<B>) -> It,
{
    fn probe_with_left(&mut self, a: A, out: &mut dyn Output<O>) -> Result<()> {
        match self.right_table.get_mut(&(self.key_a)(&a)) {
            Some(rows) => {
                if let Some((last, rest)) = rows.split_last_mut() {
                    for (b, matched) in rest {
                        *matched = true;
                        emit_all(out, (self.function)(Some(a.clone()), Some(b.clone())))?;
                    }
                    last.1 = true;
                    emit_all(out, (self.function)(Some(a), Some(last.0.clone())))?;
                }
                Ok(())
            }
            None if self.outer_a => emit_all(out, (self.function)(Some(a), None)),
            None => Ok(()),
        }
    }

    fn probe_with_right(&mut self, b: B, out: &mut dyn Output<O>) -> Result<()> {
        match self.left_table.get_mut(&(self.key_b)(&b)) {
            Some(rows) => {
                if let Some((last, rest)) = rows.split_last_mut() {
                    for (a, matched) in rest {
                        *matched = true;
                        emit_all(out, (self.function)(Some(a.clone()), Some(b.clone())))?;
                    }
                    last.1 = true;
                    emit_all(out, (self.function)(Some(last.0.clone()), Some(b)))?;
                }
                Ok(())
            }
            None if self.outer_b => emit_all(out, (self.function)(None, Some(b))),
            None => Ok(()),
        }
    }
}

impl<A, B, K, O, It, F> BinaryOperator<A, B, O> for HashJoin<A, B, K, F>
where
    A: Clone + Send,
    B: Clone + Send,
    K: std::hash::Hash + Eq + Send,
    It: IntoIterator<Item = O>,
    F: FnMut(Option<A>, Option<B>) -> It + Send,
{
    fn left(&mut self, a: A, out: &mut dyn Output<O>) -> Result<()> {
        if self.build_left {
            let key = (self.key_a)(&a);
            self.left_table.entry(key).or_default().push((a, false));
            Ok(())
        } else if self.built {
            self.probe_with_left(a, out)
        } else {
            self.early_left.push(a);
            Ok(())
        }
    }

    fn right(&mut self, b: B, out: &mut dyn Output<O>) -> Result<()> {
        if !self.build_left {
            let key = (self.key_b)(&b);
            self.right_table.entry(key).or_default().push((b, false));
            Ok(())
        } else if self.built {
            self.probe_with_right(b, out)
        } else {
            self.early_right.push(b);
            Ok(())
        }
    }

    fn left_ended(&mut self, out: &mut dyn Output<O>) -> Result<()> {
        if self.build_left {
            self.built = true;
            for b in std::mem::take(&mut self.early_right) {
                self.probe_with_right(b, out)?;
            }
        }
        Ok(())
    }

    fn right_ended(&mut self, out: &mut dyn Output<O>) -> Result<()> {
        if !self.build_left {
            self.built = true;
            for a in std::mem::take(&mut self.early_left) {
                self.probe_with_left(a, out)?;
            }
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut dyn Output<O>) -> Result<()> {
        if self.build_left && self.outer_a {
            for (_, rows) in self.left_table.drain() {
                for (a, matched) in rows {
                    if !matched {
                        emit_all(out, (self.function)(Some(a), None))?;
                    }
                }
            }
        }
        if !self.build_left && self.outer_b {
            for (_, rows) in self.right_table.drain() {
                for (b, matched) in rows {
                    if !matched {
                        emit_all(out, (self.function)(None, Some(b)))?;
                    }
                }
            }
        }
        Ok(())
    }
}
