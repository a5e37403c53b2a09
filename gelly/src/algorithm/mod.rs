//! LDBC Graphalytics algorithms on a [`Csr`](crate::Csr), parallel with rayon.
//!
//! Every algorithm is a small configuration value with builder-style setters and a `run`
//! method that takes the graph and returns one value per dense vertex index. Each `run` builds
//! its own rayon pool of [`threads`](PageRank::threads) workers (0 means one per core), so the
//! global pool is never used, and results do not depend on the number of threads: floating
//! point sums are always taken in the same order.
//!
//! ```
//! use eddy_gelly::{Bfs, Cdlp, Csr};
//!
//! let g = Csr::builder(false).edges([(1, 2), (2, 3), (3, 1), (3, 4), (5, 6)]).build()?;
//! let depth = Bfs::new(1).threads(2).run(&g)?;
//! assert_eq!(depth, vec![0, 1, 1, 2, Bfs::UNREACHED, Bfs::UNREACHED]);
//! // Updates are synchronous: the lone pair 5-6 swaps its labels every iteration.
//! let labels = Cdlp::new().iterations(5).run(&g)?;
//! assert_eq!(labels, vec![1, 1, 1, 1, 6, 5]);
//! # Ok::<(), eddy_gelly::Error>(())
//! ```
//!
//! # Semantics
//!
//! The definitions are those of the LDBC Graphalytics specification; each type's docs state
//! its formula. For undirected graphs, in- and out-neighbours are both "the neighbours".
//!
//! [`PageRank`]: crate::PageRank

pub(crate) mod bfs;
pub(crate) mod cdlp;
pub(crate) mod community;
pub(crate) mod hits;
pub(crate) mod label_propagation;
pub(crate) mod lcc;
pub(crate) mod pagerank;
pub(crate) mod similarity;
pub(crate) mod sssp;
pub(crate) mod triangles;
pub(crate) mod wcc;

#[cfg(doc)]
use crate::PageRank;

/// Returns the most frequent value of the non-empty `labels` (sorted in place) and its count;
/// a tie goes to the smallest value, or to the largest if `larger_wins`.
#[inline]
pub(crate) fn mode(labels: &mut [u32], larger_wins: bool) -> (u32, usize) {
    // Fast paths: one label, or all the same (common once communities settle).
    let first = labels[0];
    if labels.iter().all(|&l| l == first) {
        return (first, labels.len());
    }
    if let [a, b] = *labels {
        return (if larger_wins { a.max(b) } else { a.min(b) }, 1);
    }
    labels.sort_unstable();
    let mut best = labels[0];
    let mut best_count = 0;
    let mut i = 0;
    while i < labels.len() {
        let label = labels[i];
        let mut j = i + 1;
        while j < labels.len() && labels[j] == label {
            j += 1;
        }
        let count = j - i;
        // Labels ascend, so on a tie the later one is the larger.
        if count > best_count || (count == best_count && larger_wins) {
            best = label;
            best_count = count;
        }
        i = j;
    }
    (best, best_count)
}

/// Label counting for the label propagation kernels: small neighbourhoods are sorted, large
/// ones counted in a dense per-thread table (linear time instead of `d log d`).
pub(crate) struct LabelCounter {
    /// One dense table of `n` counters per pool thread, allocated on first use.
    tables: Vec<std::sync::Mutex<Vec<u32>>>,
    n: usize,
}

/// Neighbourhoods at least this large are counted in a table rather than sorted.
const COUNT_THRESHOLD: usize = 256;

impl LabelCounter {
    /// A counter for labels below `n`, for the current rayon pool.
    pub(crate) fn new(n: usize) -> Self {
        let threads = rayon::current_num_threads();
        LabelCounter {
            tables: (0..threads).map(|_| Default::default()).collect(),
            n,
        }
    }

    /// [`mode`] of `labels` (all below `n`), reordering `labels`.
    pub(crate) fn mode(&self, labels: &mut [u32], larger_wins: bool) -> (u32, usize) {
        if labels.len() < COUNT_THRESHOLD {
            return mode(labels, larger_wins);
        }
        let slot = rayon::current_thread_index().unwrap_or(0) % self.tables.len();
        let mut table = self.tables[slot].lock().unwrap_or_else(|e| e.into_inner());
        if table.len() < self.n {
            table.resize(self.n, 0);
        }
        for &l in labels.iter() {
            table[l as usize] += 1;
        }
        let (mut best, mut best_count) = (labels[0], 0u32);
        for &l in labels.iter() {
            let count = table[l as usize];
            let better = count > best_count
                || (count == best_count && if larger_wins { l > best } else { l < best });
            if better {
                (best, best_count) = (l, count);
            }
        }
        for &l in labels.iter() {
            table[l as usize] = 0;
        }
        (best, best_count as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::{mode, LabelCounter};

    #[test]
    fn counting_agrees_with_sorting() {
        let counter = LabelCounter::new(1000);
        let mut state = 12345u64;
        for len in [1, 2, 3, 255, 256, 1000, 5000] {
            for larger_wins in [false, true] {
                let labels: Vec<u32> = (0..len)
                    .map(|_| {
                        state = state
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        ((state >> 33) % 50) as u32 * 20
                    })
                    .collect();
                let expected = mode(&mut labels.clone(), larger_wins);
                assert_eq!(counter.mode(&mut labels.clone(), larger_wins), expected);
            }
        }
    }

    #[test]
    fn mode_breaks_ties_both_ways() {
        assert_eq!(mode(&mut [5], false), (5, 1));
        assert_eq!(mode(&mut [7, 7, 7], true), (7, 3));
        assert_eq!(mode(&mut [9, 4], false), (4, 1));
        assert_eq!(mode(&mut [9, 4], true), (9, 1));
        assert_eq!(mode(&mut [3, 8, 3, 8, 1], false), (3, 2));
        assert_eq!(mode(&mut [3, 8, 3, 8, 1], true), (8, 2));
        assert_eq!(mode(&mut [6, 2, 6, 1, 1, 6], false), (6, 3));
    }
}
