//! Lloyd iterations in memory: per-chunk partial sums in parallel, merged in chunk order.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::linalg::kernels::{self, chunk_rows};
use crate::table::DenseMatrix;

/// Per-center sums and counts of the rows assigned to each center.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Partial {
    pub(crate) sums: Vec<f64>,
    pub(crate) counts: Vec<u64>,
}

impl Partial {
    pub(crate) fn zero(k: usize, dim: usize) -> Self {
        Partial {
            sums: vec![0.0; k * dim],
            counts: vec![0; k],
        }
    }

    pub(crate) fn merge(mut self, other: &Partial) -> Partial {
        kernels::axpy(1.0, &other.sums, &mut self.sums);
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self
    }
}

/// Sums the rows of `rows` (flat, `centers.dim` wide) per nearest center.
pub(crate) fn partial_sums(rows: &[f64], centers: &DenseMatrix) -> Partial {
    let dim = centers.dim;
    let mut p = Partial::zero(centers.rows, dim);
    if dim == 0 {
        p.counts[0] = rows.len() as u64;
        return p;
    }
    let k = centers.rows;
    let ct = kernels::transpose(&centers.values, k, dim);
    kernels::dispatch(|| {
        let mut d = vec![0.0; k];
        for row in rows.chunks_exact(dim) {
            kernels::distances_transposed(row, &ct, &mut d);
            let (j, _) = kernels::argmin(&d);
            p.counts[j] += 1;
            for (s, x) in p.sums[j * dim..(j + 1) * dim].iter_mut().zip(row) {
                *s += x;
            }
        }
    });
    p
}

/// The new centers from merged sums (a center with no rows keeps its place), and whether
/// any center moved.
pub(crate) fn finish(total: &Partial, old: &DenseMatrix) -> (DenseMatrix, bool) {
    let dim = old.dim;
    let mut values = old.values.clone();
    for (j, count) in total.counts.iter().enumerate() {
        if *count > 0 {
            let inv = *count as f64;
            for (v, s) in values[j * dim..(j + 1) * dim]
                .iter_mut()
                .zip(&total.sums[j * dim..(j + 1) * dim])
            {
                *v = s / inv;
            }
        }
    }
    let moved = values != old.values;
    (
        DenseMatrix {
            rows: old.rows,
            dim,
            values,
        },
        moved,
    )
}

/// One Lloyd step over all of `points`, in parallel.
pub(crate) fn step(points: &DenseMatrix, centers: &DenseMatrix) -> (DenseMatrix, bool) {
    let dim = points.dim.max(1);
    let partials: Vec<Partial> = points
        .values
        .par_chunks(chunk_rows(dim) * dim)
        .map(|chunk| partial_sums(chunk, centers))
        .collect();
    let total = partials
        .iter()
        .fold(Partial::zero(centers.rows, centers.dim), |a, b| a.merge(b));
    finish(&total, centers)
}

/// Up to `max_iter` Lloyd steps from `centers`, stopping after a step that moved nothing.
pub(crate) fn run(points: &DenseMatrix, mut centers: DenseMatrix, max_iter: usize) -> DenseMatrix {
    for iteration in 1..=max_iter {
        let (next, moved) = step(points, &centers);
        centers = next;
        tracing::debug!(iteration, moved, "k-means iteration");
        if !moved {
            break;
        }
    }
    centers
}

/// The nearest center of every row, in parallel.
pub(crate) fn assign(points: &DenseMatrix, centers: &DenseMatrix) -> Vec<usize> {
    let dim = points.dim.max(1);
    let mut out = vec![0usize; points.rows];
    if points.dim == 0 {
        return out;
    }
    let rows = chunk_rows(dim);
    let k = centers.rows;
    let ct = kernels::transpose(&centers.values, k, dim);
    out.par_chunks_mut(rows)
        .zip(points.values.par_chunks(rows * dim))
        .for_each(|(o, chunk)| {
            kernels::dispatch(|| {
                let mut d = vec![0.0; k];
                for (slot, row) in o.iter_mut().zip(chunk.chunks_exact(dim)) {
                    kernels::distances_transposed(row, &ct, &mut d);
                    *slot = kernels::argmin(&d).0;
                }
            })
        });
    out
}
