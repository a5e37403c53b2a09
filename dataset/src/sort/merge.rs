//! The k-way merge of sorted runs: a loser tree (tournament tree) over the runs' heads.
//!
//! Each internal node remembers the loser of the match played there and the root the overall
//! winner, so taking the next entry replays only the matches on one leaf-to-root path:
//! `log2(k)` comparisons per entry. Ties go to the run with the lower index, so merging runs
//! in input order keeps equal keys in input order (the sort's stability).

use eddy_runtime::{Error, Result};

use super::buffer::Order;
use crate::key::SortKey;

/// Merges `k` sorted sources of `(key, record)` entries into one sorted stream.
pub(crate) struct LoserTree<K, T, S> {
    sources: Vec<S>,
    heads: Vec<Option<(K, T)>>,
    /// `tree[0]` is the current winner; `tree[i]` for `1 <= i < k` the loser at node `i`.
    tree: Vec<usize>,
    order: Order,
    failed: bool,
}

impl<K, T, S> LoserTree<K, T, S>
where
    K: SortKey,
    S: Iterator<Item = Result<(K, T)>>,
{
    /// Reads the first entry of every source and plays the initial tournament.
    pub(crate) fn new(mut sources: Vec<S>, order: Order) -> Result<Self> {
        let k = sources.len();
        if k == 0 {
            return Err(Error::Internal("a merge needs at least one run".into()));
        }
        let mut heads = Vec::with_capacity(k);
        for source in &mut sources {
            heads.push(source.next().transpose()?);
        }
        let mut merge = LoserTree {
            sources,
            heads,
            tree: vec![0; k],
            order,
            failed: false,
        };
        if k > 1 {
            // winners[n] for nodes 1..2k: leaves are k..2k (leaf k + s is source s).
            let mut winners = vec![0usize; 2 * k];
            for (s, w) in winners[k..].iter_mut().enumerate() {
                *w = s;
            }
            for node in (1..k).rev() {
                let (a, b) = (winners[2 * node], winners[2 * node + 1]);
                if merge.beats(a, b) {
                    winners[node] = a;
                    merge.tree[node] = b;
                } else {
                    winners[node] = b;
                    merge.tree[node] = a;
                }
            }
            merge.tree[0] = winners[1];
        }
        Ok(merge)
    }

    /// A merge of nothing.
    fn empty(order: Order) -> Self {
        LoserTree {
            sources: Vec::new(),
            heads: Vec::new(),
            tree: Vec::new(),
            order,
            failed: true,
        }
    }

    /// True when source `a`'s head comes before source `b`'s (exhausted sources come last;
    /// ties go to the lower index).
    #[inline]
    fn beats(&self, a: usize, b: usize) -> bool {
        match (&self.heads[a], &self.heads[b]) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(x), Some(y)) => match self.order.compare(&x.0, &y.0) {
                std::cmp::Ordering::Less => true,
                std::cmp::Ordering::Greater => false,
                std::cmp::Ordering::Equal => a < b,
            },
        }
    }
}

impl<K, T, S> Iterator for LoserTree<K, T, S>
where
    K: SortKey,
    S: Iterator<Item = Result<(K, T)>>,
{
    type Item = Result<(K, T)>;

    fn next(&mut self) -> Option<Result<(K, T)>> {
        if self.failed {
            return None;
        }
        let k = self.sources.len();
        let winner = self.tree[0];
        let entry = self.heads[winner].take()?;
        match self.sources[winner].next() {
            Some(Ok(next)) => self.heads[winner] = Some(next),
            Some(Err(e)) => {
                self.failed = true;
                return Some(Err(e));
            }
            None => {}
        }
        // Replay the matches on the path from the winner's leaf to the root.
        let mut current = winner;
        let mut node = (winner + k) / 2;
        while node >= 1 {
            let loser = self.tree[node];
            if self.beats(loser, current) {
                self.tree[node] = current;
                current = loser;
            }
            node /= 2;
        }
        self.tree[0] = current;
        Some(Ok(entry))
    }
}

/// Sorted streams of `(key, record)` entries merged into one sorted stream; see
/// [`merge_sorted`].
pub struct Merged<K, T, S>(LoserTree<K, T, S>);

/// Merges streams each sorted by key (descending when `descending`) into one, ties going to
/// the earlier stream: for example the outputs of several [`ExternalSorter`]s that sorted
/// parts of one input in parallel.
///
/// # Errors
///
/// The first error of a stream (reading a spilled run), returned now when it comes with a
/// stream's first entry, or later from the iterator.
///
/// [`ExternalSorter`]: super::ExternalSorter
pub fn merge_sorted<K, T, S>(sources: Vec<S>, descending: bool) -> Result<Merged<K, T, S>>
where
    K: SortKey,
    S: Iterator<Item = Result<(K, T)>>,
{
    let order = Order {
        descending,
        stable: true,
    };
    if sources.is_empty() {
        return Ok(Merged(LoserTree::empty(order)));
    }
    Ok(Merged(LoserTree::new(sources, order)?))
}

impl<K, T, S> Iterator for Merged<K, T, S>
where
    K: SortKey,
    S: Iterator<Item = Result<(K, T)>>,
{
    type Item = Result<(K, T)>;

    #[inline]
    fn next(&mut self) -> Option<Result<(K, T)>> {
        self.0.next()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn merges_sorted_runs_stably(runs in proptest::collection::vec(
            proptest::collection::vec(0u64..20, 0..30), 1..12), descending: bool) {
            let order = Order { descending, stable: true };
            let mut tagged: Vec<Vec<(u64, (usize, usize))>> = runs
                .iter()
                .enumerate()
                .map(|(r, run)| run.iter().enumerate().map(|(i, &k)| (k, (r, i))).collect())
                .collect();
            for run in &mut tagged {
                run.sort_by(|a, b| order.compare(&a.0, &b.0));
            }
            let mut expected: Vec<(u64, (usize, usize))> = tagged.concat();
            expected.sort_by(|a, b| order.compare(&a.0, &b.0)); // stable: run order, then position
            let sources = tagged.into_iter().map(|run| run.into_iter().map(Ok)).collect();
            let merged: Vec<_> = LoserTree::new(sources, order)
                .unwrap()
                .collect::<Result<_>>()
                .unwrap();
            prop_assert_eq!(merged, expected);
        }
    }
}
