//! Kronecker (R-MAT) graphs with the Graph500 parameters, seeded and reproducible.

use rayon::prelude::*;

use crate::csr::Csr;
use crate::error::{Error, Result};
use crate::parallel;

/// A Kronecker graph generator following the Graph500 reference (`kronecker_generator.m`).
///
/// It draws `edge_factor * 2^scale` edges over `2^scale` vertices: each edge picks one of the
/// four quadrants of the adjacency matrix with probabilities `A`, `B`, `C`, `1 - A - B - C`,
/// `scale` times, one bit of each end per level. Vertex ids are then scrambled by a random
/// permutation, so ids carry no locality. The defaults are Graph500's: `A = 0.57`,
/// `B = 0.19`, `C = 0.19`, edge factor 16. The output depends only on the parameters and the
/// seed, not on the number of threads.
///
/// Like Graph500, the raw edge list has self-loops and repeated edges; [`Kronecker::build`]
/// and [`Kronecker::simple_edges`] drop them.
///
/// ```
/// use eddy_gelly::Kronecker;
///
/// let generator = Kronecker::new(10).edge_factor(8).seed(42);
/// let edges = generator.edges()?;
/// assert_eq!(edges.len(), 8 << 10);
/// assert!(edges.iter().all(|&(s, d)| s < 1024 && d < 1024));
/// assert_eq!(edges, generator.threads(1).edges()?); // same seed, same graph
/// let graph = generator.build(false)?;
/// assert_eq!(graph.num_vertices(), 1024);
/// # Ok::<(), eddy_gelly::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Kronecker {
    scale: u32,
    edge_factor: u64,
    a: f64,
    b: f64,
    c: f64,
    seed: u64,
    threads: usize,
}

/// Edges drawn per independent random stream.
const BLOCK: usize = 1 << 16;

impl Kronecker {
    /// A generator of `2^scale` vertices with the Graph500 defaults and seed 1.
    pub fn new(scale: u32) -> Self {
        Kronecker {
            scale,
            edge_factor: 16,
            a: 0.57,
            b: 0.19,
            c: 0.19,
            seed: 1,
            threads: 0,
        }
    }

    /// Sets the number of edges per vertex.
    pub fn edge_factor(mut self, edge_factor: u64) -> Self {
        self.edge_factor = edge_factor;
        self
    }

    /// Sets the quadrant probabilities `A`, `B` and `C` (`D` is the rest).
    pub fn probabilities(mut self, a: f64, b: f64, c: f64) -> Self {
        (self.a, self.b, self.c) = (a, b, c);
        self
    }

    /// Sets the random seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets the number of threads (0 means one per core).
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads;
        self
    }

    /// The number of vertices, `2^scale`.
    pub fn num_vertices(&self) -> u64 {
        1u64 << self.scale
    }

    /// Draws the raw edge list (with self-loops and repeats), ids in `0..2^scale`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] for a scale above 32 or probabilities that are not a
    /// distribution; [`Error::ThreadPool`] if the pool cannot start.
    pub fn edges(&self) -> Result<Vec<(u64, u64)>> {
        self.check()?;
        let generator = *self;
        parallel::install(self.threads, move || generator.draw())
    }

    /// The edges of the simple graph: no self-loops, no repeats, each edge as `(small, large)`
    /// if `undirected`, sorted.
    ///
    /// # Errors
    ///
    /// As [`Kronecker::edges`].
    pub fn simple_edges(&self, undirected: bool) -> Result<Vec<(u64, u64)>> {
        let mut edges = self.edges()?;
        parallel::install(self.threads, move || {
            if undirected {
                edges
                    .par_iter_mut()
                    .for_each(|e| *e = (e.0.min(e.1), e.0.max(e.1)));
            }
            edges.par_sort_unstable();
            edges.dedup();
            edges.retain(|&(s, d)| s != d);
            edges
        })
    }

    /// Builds the graph over all `2^scale` vertices (isolated ones included).
    ///
    /// # Errors
    ///
    /// As [`Kronecker::edges`].
    pub fn build(&self, directed: bool) -> Result<Csr> {
        Csr::builder(directed)
            .vertices(0..self.num_vertices())
            .edges(self.edges()?)
            .threads(self.threads)
            .build()
    }

    fn check(&self) -> Result<()> {
        let invalid = |problem: String| {
            Err(Error::InvalidParameter {
                name: "kronecker",
                problem,
            })
        };
        if self.scale > 32 {
            return invalid(format!("scale {} is above 32", self.scale));
        }
        let (a, b, c) = (self.a, self.b, self.c);
        if !(a > 0.0 && b >= 0.0 && c >= 0.0 && a + b + c <= 1.0 && a + b < 1.0) {
            return invalid(format!(
                "probabilities A={a} B={b} C={c} are not a distribution"
            ));
        }
        Ok(())
    }

    fn draw(&self) -> Vec<(u64, u64)> {
        let m = (self.edge_factor << self.scale) as usize;
        let (a, b, c) = (self.a, self.b, self.c);
        // As in Graph500: the row bit is 1 with probability C + D; the column bit is 1 with
        // probability B / (A + B) in the upper half, D / (C + D) in the lower half.
        let to_u32 = |p: f64| (p * 4_294_967_296.0).min(4_294_967_295.0) as u32;
        let row = to_u32(1.0 - (a + b));
        let col_upper = to_u32(b / (a + b));
        let col_lower = to_u32((1.0 - a - b - c) / (1.0 - a - b));
        let scale = self.scale;
        let seed = self.seed;
        let mut edges = vec![(0u64, 0u64); m];
        edges
            .par_chunks_mut(BLOCK)
            .enumerate()
            .for_each(|(block, chunk)| {
                let mut rng =
                    SplitMix64::new(seed ^ (block as u64).wrapping_mul(0xA076_1D64_78BD_642F));
                for edge in chunk {
                    let (mut s, mut d) = (0u64, 0u64);
                    for bit in 0..scale {
                        let r = rng.next();
                        let (r1, r2) = (r as u32, (r >> 32) as u32);
                        let i = u64::from(r1 < row);
                        let j = u64::from(r2 < if i == 1 { col_lower } else { col_upper });
                        s |= i << bit;
                        d |= j << bit;
                    }
                    *edge = (s, d);
                }
            });
        let permutation = permutation(1usize << scale, seed);
        edges.par_iter_mut().for_each(|(s, d)| {
            *s = permutation[*s as usize];
            *d = permutation[*d as usize];
        });
        edges
    }
}

/// A seeded random permutation of `0..n` (Fisher-Yates).
fn permutation(n: usize, seed: u64) -> Vec<u64> {
    let mut p: Vec<u64> = (0..n as u64).collect();
    let mut rng = SplitMix64::new(seed.wrapping_add(0x5EED));
    for i in (1..n).rev() {
        let j = (rng.next() % (i as u64 + 1)) as usize;
        p.swap(i, j);
    }
    p
}

/// SplitMix64 (Steele, Lea and Flood 2014): small, fast, and good enough for sampling.
struct SplitMix64(u64);

impl SplitMix64 {
    fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    #[inline]
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quadrant_frequencies_match_the_parameters() {
        // At scale 1 an edge is one quadrant draw: (0,0) A, (0,1) B, (1,0) C, (1,1) D. The
        // permutation may swap ids 0 and 1, so compare the multiset of frequencies.
        let edges = Kronecker::new(1)
            .edge_factor(100_000)
            .threads(1)
            .edges()
            .unwrap();
        let mut counts = [0usize; 4];
        let p = permutation(2, 1);
        for (s, d) in edges {
            let (s, d) = (
                p.iter().position(|&x| x == s).unwrap(),
                p.iter().position(|&x| x == d).unwrap(),
            );
            counts[s * 2 + d] += 1;
        }
        let total = 200_000.0;
        for (count, expected) in counts.iter().zip([0.57, 0.19, 0.19, 0.05]) {
            assert!(
                (*count as f64 / total - expected).abs() < 0.01,
                "{counts:?}"
            );
        }
    }

    #[test]
    fn output_does_not_depend_on_threads() {
        let g = Kronecker::new(12).edge_factor(4).seed(7);
        assert_eq!(g.threads(1).edges().unwrap(), g.threads(2).edges().unwrap());
        assert_ne!(g.edges().unwrap(), g.seed(8).edges().unwrap());
    }
}
