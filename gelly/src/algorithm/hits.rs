//! HITS hub and authority scores (Flink Gelly's `HITS`).

use rayon::prelude::*;

use crate::csr::Csr;
use crate::error::Result;
use crate::parallel;

/// Kleinberg's hubs and authorities: starting from 1, each iteration sets every vertex's
/// authority to the sum of its in-neighbours' hub scores, then its hub score to the sum of
/// its out-neighbours' new authorities, and scales each score vector to unit Euclidean
/// norm (a zero vector stays zero). A fixed number of iterations.
///
/// ```
/// use eddy_gelly::{Csr, Hits};
/// // 1 and 2 both point at 3: hubs 1 and 2, authority 3.
/// let g = Csr::builder(true).edges([(1, 3), (2, 3)]).build()?;
/// let scores = Hits::new().iterations(5).run(&g)?;
/// let (hub, authority): (Vec<f64>, Vec<f64>) = scores.into_iter().unzip();
/// assert!((hub[0] - 0.5f64.sqrt()).abs() < 1e-12 && hub[2] == 0.0);
/// assert_eq!(authority, vec![0.0, 0.0, 1.0]);
/// # Ok::<(), eddy_gelly::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hits {
    iterations: usize,
    threads: usize,
}

impl Default for Hits {
    fn default() -> Self {
        Hits {
            iterations: 10,
            threads: 0,
        }
    }
}

impl Hits {
    /// 10 iterations, one thread per core.
    pub fn new() -> Self {
        Self::default()
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

    /// `(hub, authority)` per vertex, by dense index.
    ///
    /// # Errors
    ///
    /// [`Error::ThreadPool`](crate::Error::ThreadPool) if the pool cannot start.
    pub fn run(&self, graph: &Csr) -> Result<Vec<(f64, f64)>> {
        parallel::install(self.threads, || {
            let n = graph.num_vertices();
            let mut hub = vec![1.0; n];
            let mut authority = vec![1.0; n];
            for _ in 0..self.iterations {
                authority = (0..n as u32)
                    .into_par_iter()
                    .map(|v| graph.in_neighbors(v).iter().map(|&u| hub[u as usize]).sum())
                    .collect();
                normalize(&mut authority);
                hub = (0..n as u32)
                    .into_par_iter()
                    .map(|v| {
                        graph
                            .out_neighbors(v)
                            .iter()
                            .map(|&u| authority[u as usize])
                            .sum()
                    })
                    .collect();
                normalize(&mut hub);
            }
            hub.into_iter().zip(authority).collect()
        })
    }
}

/// Scales `scores` to unit Euclidean norm, unless they are all zero.
fn normalize(scores: &mut [f64]) {
    let norm = scores.iter().map(|x| x * x).sum::<f64>().sqrt();
    if norm > 0.0 {
        scores.par_iter_mut().for_each(|x| *x /= norm);
    }
}
