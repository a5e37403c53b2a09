//! PageRank as LDBC Graphalytics defines it: pull-based, dangling mass spread evenly.

use rayon::prelude::*;

use crate::csr::Csr;
use crate::error::{Error, Result};
use crate::parallel::{self, VERTEX_CHUNK};

/// PageRank with a fixed number of iterations (LDBC Graphalytics PR).
///
/// With `n` vertices and damping factor `d`, every score starts at `1/n`, and each iteration
/// computes, from the previous scores `PR`,
///
/// ```text
/// PR'(v) = (1 - d) / n  +  d * sum(PR(u) / outdeg(u) for u in in_neighbours(v))
///                       +  d / n * sum(PR(w) for w with outdeg(w) = 0)
/// ```
///
/// so the scores always sum to 1: the rank of dangling vertices is spread over all vertices.
///
/// # Algorithm
///
/// Pull-based: each iteration reads `PR(u) / outdeg(u)` for every in-neighbour `u` from one
/// array and writes the next one, so no atomics and no locks. Vertices are processed in
/// parallel blocks of about equal edge counts, and the dangling sum is reduced block by block
/// in a fixed order, so the result is the same for any number of threads. The gather keeps
/// four partial sums to overlap its cache misses; loading with
/// [`VertexOrder::Degree`](crate::VertexOrder) packs the most-read entries together.
///
/// # Memory
///
/// Three `f64` arrays of `n` entries besides the graph.
///
/// ```
/// use eddy_gelly::{Csr, PageRank};
///
/// // 1 -> 2, and 2 is dangling.
/// let g = Csr::builder(true).edges([(1, 2)]).build()?;
/// let pr = PageRank::new().damping_factor(0.85).iterations(1).run(&g)?;
/// // PR'(1) = 0.15/2 + 0.85/2 * 0.5; PR'(2) = 0.15/2 + 0.85 * 0.5 + 0.85/2 * 0.5
/// assert!((pr[0] - 0.2875).abs() < 1e-12 && (pr[1] - 0.7125).abs() < 1e-12);
/// # Ok::<(), eddy_gelly::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PageRank {
    damping_factor: f64,
    iterations: usize,
    threads: usize,
}

impl Default for PageRank {
    fn default() -> Self {
        Self::new()
    }
}

impl PageRank {
    /// Damping factor 0.85, 20 iterations, one thread per core.
    pub fn new() -> Self {
        PageRank {
            damping_factor: 0.85,
            iterations: 20,
            threads: 0,
        }
    }

    /// Sets the damping factor `d`, in `[0, 1]`.
    pub fn damping_factor(mut self, d: f64) -> Self {
        self.damping_factor = d;
        self
    }

    /// Sets the number of iterations.
    pub fn iterations(mut self, iterations: usize) -> Self {
        self.iterations = iterations;
        self
    }

    /// Sets the number of threads (0 means one per core).
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads;
        self
    }

    /// Runs PageRank; returns the score of every vertex, by dense index.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] if the damping factor is outside `[0, 1]`;
    /// [`Error::ThreadPool`] if the pool cannot start.
    pub fn run(&self, graph: &Csr) -> Result<Vec<f64>> {
        let d = self.damping_factor;
        if !(0.0..=1.0).contains(&d) {
            return Err(Error::InvalidParameter {
                name: "damping-factor",
                problem: format!("{d} is not in [0, 1]"),
            });
        }
        let iterations = self.iterations;
        parallel::install(self.threads, || pagerank(graph, d, iterations))
    }
}

fn pagerank(graph: &Csr, d: f64, iterations: usize) -> Vec<f64> {
    let n = graph.num_vertices();
    if n == 0 {
        return Vec::new();
    }
    let out = &graph.out_adjacency().offsets;
    let inc = graph.in_adjacency();
    let (in_offsets, in_targets) = (&inc.offsets[..], &inc.targets[..]);
    // The kernel reads `contrib` unchecked; this one sequential pass makes that sound whatever
    // the graph (the CSR builders already guarantee it).
    assert!(
        in_targets.par_iter().all(|&u| (u as usize) < n),
        "neighbour index out of range"
    );
    let nf = n as f64;
    let mut scores = vec![1.0 / nf; n];
    // contrib[u] = PR(u) / outdeg(u), or 0 for a dangling vertex.
    let mut contrib: Vec<f64> = (0..n)
        .into_par_iter()
        .with_min_len(VERTEX_CHUNK)
        .map(|u| match out[u + 1] - out[u] {
            0 => 0.0,
            deg => scores[u] / deg as f64,
        })
        .collect();
    let mut next = vec![0.0; n];
    let dangling_of = |scores: &[f64], first: usize| -> f64 {
        let mut sum = 0.0;
        for (i, s) in scores.iter().enumerate() {
            if out[first + i + 1] == out[first + i] {
                sum += s;
            }
        }
        sum
    };
    // Partial sums in a fixed order of fixed chunks: the same result at any parallelism.
    let mut dangling: f64 = scores
        .par_chunks(VERTEX_CHUNK)
        .enumerate()
        .map(|(b, chunk)| dangling_of(chunk, b * VERTEX_CHUNK))
        .collect::<Vec<f64>>()
        .iter()
        .sum();
    let bounds = parallel::blocks(in_offsets);
    for _ in 0..iterations {
        let base = (1.0 - d) / nf + d * dangling / nf;
        // Pairs (score, next contribution) are written per block; see `blocks`.
        let mut parts = Vec::with_capacity(bounds.len());
        let (mut scores_rest, mut next_rest) = (&mut scores[..], &mut next[..]);
        for w in bounds.windows(2) {
            let len = w[1] - w[0];
            let (s, s_tail) = std::mem::take(&mut scores_rest).split_at_mut(len);
            let (c, c_tail) = std::mem::take(&mut next_rest).split_at_mut(len);
            parts.push((w[0], s, c));
            (scores_rest, next_rest) = (s_tail, c_tail);
        }
        let contrib_now = &contrib;
        let partials: Vec<f64> = parts
            .into_par_iter()
            .map(|(first, scores, next)| {
                let mut dangling = 0.0;
                for (i, (score, next)) in scores.iter_mut().zip(next.iter_mut()).enumerate() {
                    let v = first + i;
                    let sources = &in_targets[in_offsets[v]..in_offsets[v + 1]];
                    // SAFETY: all of `in_targets` was checked to be below n = contrib.len().
                    let sum = unsafe { gather_sum(contrib_now, sources) };
                    let s = base + d * sum;
                    *score = s;
                    *next = match out[v + 1] - out[v] {
                        0 => {
                            dangling += s;
                            0.0
                        }
                        deg => s / deg as f64,
                    };
                }
                dangling
            })
            .collect();
        dangling = partials.iter().sum();
        std::mem::swap(&mut contrib, &mut next);
    }
    scores
}

/// `sum(values[i] for i in indices)`, with four independent accumulators so that the loads
/// overlap and the additions do not wait on each other. The order of additions depends only
/// on `indices`, never on threads.
///
/// # Safety
///
/// Every index must be below `values.len()`.
#[inline]
unsafe fn gather_sum(values: &[f64], indices: &[u32]) -> f64 {
    let at = |i: u32| {
        debug_assert!((i as usize) < values.len());
        // SAFETY: the caller promises every index is in bounds.
        unsafe { *values.get_unchecked(i as usize) }
    };
    let mut chunks = indices.chunks_exact(4);
    let (mut s0, mut s1, mut s2, mut s3) = (0.0, 0.0, 0.0, 0.0);
    for c in &mut chunks {
        s0 += at(c[0]);
        s1 += at(c[1]);
        s2 += at(c[2]);
        s3 += at(c[3]);
    }
    for &i in chunks.remainder() {
        s0 += at(i);
    }
    (s0 + s1) + (s2 + s3)
}
