//! Running a kernel on a local rayon thread pool of a chosen size.

use crate::error::Result;

/// Runs `f` on a fresh rayon pool with `threads` workers (0 means rayon's default: one per
/// core). Each algorithm call owns its pool, so two calls with different thread counts do not
/// interfere, and the global pool is never touched.
pub(crate) fn install<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> Result<R> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("eddy-gelly-{i}"))
        .build()?;
    Ok(pool.install(f))
}

/// Vertices per rayon task: small enough to balance skewed degrees, large enough that task
/// overhead stays below the cost of the edges.
pub(crate) const VERTEX_CHUNK: usize = 1024;

/// Work (arcs plus vertices) per block of [`blocks`].
const BLOCK_WORK: usize = 1 << 16;

/// Cuts the vertices `0..offsets.len() - 1` into contiguous blocks of about [`BLOCK_WORK`]
/// arcs plus vertices each, returning the block boundaries (first `0`, last `n`).
///
/// Blocks balance skewed degrees (with [`VertexOrder::Degree`](crate::VertexOrder) the hubs
/// all sit in the first few hundred vertices), and depend only on the graph, never on the
/// number of threads, so per-block partial sums add up the same way at any parallelism.
pub(crate) fn blocks(offsets: &[usize]) -> Vec<usize> {
    let n = offsets.len().saturating_sub(1);
    let work = |v: usize| offsets[v] + v;
    let total = work(n);
    let mut bounds = vec![0];
    let mut last = 0;
    while last < n {
        let goal = work(last) + BLOCK_WORK;
        // The first vertex past the goal (at least one vertex per block).
        // The first vertex after `last` whose work reaches the goal (binary search; work is
        // increasing), so every block has at least one vertex.
        let (mut lo, mut hi) = (last + 1, n);
        if goal >= total {
            lo = n;
        }
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if work(mid) < goal {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        bounds.push(lo);
        last = lo;
    }
    bounds
}

/// Runs `f(first_vertex, block_of_out)` for every block of `bounds` in parallel, where
/// `block_of_out` is the block's slice of the per-vertex array `out`; returns the results in
/// block order.
pub(crate) fn map_blocks<T: Send, R: Send>(
    bounds: &[usize],
    out: &mut [T],
    f: impl Fn(usize, &mut [T]) -> R + Sync + Send,
) -> Vec<R> {
    use rayon::prelude::*;
    let mut parts = Vec::with_capacity(bounds.len());
    let mut rest = out;
    for w in bounds.windows(2) {
        let (part, tail) = std::mem::take(&mut rest).split_at_mut(w[1] - w[0]);
        parts.push((w[0], part));
        rest = tail;
    }
    parts
        .into_par_iter()
        .map(|(first, part)| f(first, part))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_cover_all_vertices_and_split_hubs() {
        // One hub with 10 * BLOCK_WORK arcs, then 100 000 vertices of degree 1.
        let mut offsets = vec![0, 10 * BLOCK_WORK];
        for _ in 0..100_000 {
            offsets.push(offsets.last().unwrap() + 1);
        }
        let bounds = blocks(&offsets);
        assert_eq!(bounds.first(), Some(&0));
        assert_eq!(bounds.last(), Some(&100_001));
        assert!(bounds.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(bounds[1], 1, "the hub is a block of its own");
        assert!(bounds.len() > 3);
        assert_eq!(blocks(&[0]), vec![0]);
        assert_eq!(blocks(&[0, 0, 0]), vec![0, 2]);
    }
}
