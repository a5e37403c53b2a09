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
    let mut add = |j: usize, row: &[f64]| {
        p.counts[j] += 1;
        for (s, x) in p.sums[j * dim..(j + 1) * dim].iter_mut().zip(row) {
            *s += x;
        }
    };
    for_each_nearest(rows, dim, centers, &ct, &mut add);
    p
}

/// Calls `f(nearest center, row)` for every row of `rows`, in order: up to 16 centers
/// through the blocked kernel ([`kernels::nearest4_avx2`] where the CPU has AVX2 and FMA,
/// else [`kernels::nearest4`]), more through exact distances.
fn for_each_nearest<F: FnMut(usize, &[f64])>(
    rows: &[f64],
    dim: usize,
    centers: &DenseMatrix,
    ct: &[f64],
    mut f: F,
) {
    macro_rules! blocked {
        ($($k:literal)*) => {
            match centers.rows {
                $($k => {
                    let norms: [f64; $k] = std::array::from_fn(|j| kernels::dot(centers.row(j), centers.row(j)));
                    blocked_rows::<$k, false, F>(rows, dim, ct, &norms, &mut f);
                    return;
                })*
                _ => {}
            }
        };
    }
    #[cfg(target_arch = "x86_64")]
    if centers.rows <= 16 && kernels::has_avx2_fma() {
        let k = centers.rows;
        let width = k.div_ceil(4) * 4;
        let mut padded = vec![0.0; dim * width];
        for d in 0..dim {
            padded[d * width..d * width + k].copy_from_slice(&ct[d * k..(d + 1) * k]);
        }
        let mut norms = vec![f64::INFINITY; width];
        for (j, n) in norms.iter_mut().enumerate().take(k) {
            *n = kernels::dot(centers.row(j), centers.row(j));
        }
        match width / 4 {
            1 => intrinsic_rows::<1, F>(rows, dim, &padded, &norms, &mut f),
            2 => intrinsic_rows::<2, F>(rows, dim, &padded, &norms, &mut f),
            3 => intrinsic_rows::<3, F>(rows, dim, &padded, &norms, &mut f),
            _ => intrinsic_rows::<4, F>(rows, dim, &padded, &norms, &mut f),
        }
        return;
    }
    blocked!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16);
    kernels::dispatch(|| {
        let mut d = vec![0.0; centers.rows];
        for row in rows.chunks_exact(dim) {
            kernels::distances_transposed(row, ct, &mut d);
            f(kernels::argmin(&d).0, row);
        }
    });
}

/// Four rows at a time through [`kernels::nearest4_avx2`] (the caller checked the CPU).
#[cfg(target_arch = "x86_64")]
fn intrinsic_rows<const Q: usize, F: FnMut(usize, &[f64])>(
    rows: &[f64],
    dim: usize,
    padded: &[f64],
    norms: &[f64],
    f: &mut F,
) {
    let mut blocks = rows.chunks_exact(4 * dim);
    for block in &mut blocks {
        let r: [&[f64]; 4] = std::array::from_fn(|i| &block[i * dim..(i + 1) * dim]);
        // SAFETY: AVX2 and FMA were checked by the caller; the sizes match.
        let nearest = unsafe { kernels::nearest4_avx2::<Q>(r, dim, padded, norms) };
        for i in 0..4 {
            f(nearest[i], r[i]);
        }
    }
    for row in blocks.remainder().chunks_exact(dim) {
        // SAFETY: as above.
        let nearest = unsafe { kernels::nearest4_avx2::<Q>([row; 4], dim, padded, norms) };
        f(nearest[0], row);
    }
}

#[inline(always)]
fn blocked_rows<const K: usize, const FMA: bool, F: FnMut(usize, &[f64])>(
    rows: &[f64],
    dim: usize,
    ct: &[f64],
    norms: &[f64; K],
    f: &mut F,
) {
    let mut blocks = rows.chunks_exact(4 * dim);
    for block in &mut blocks {
        let r: [&[f64]; 4] = std::array::from_fn(|i| &block[i * dim..(i + 1) * dim]);
        let nearest = kernels::nearest4::<K, FMA>(r, ct, norms);
        for i in 0..4 {
            f(nearest[i], r[i]);
        }
    }
    for row in blocks.remainder().chunks_exact(dim) {
        let nearest = kernels::nearest4::<K, FMA>([row; 4], ct, norms);
        f(nearest[0], row);
    }
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
            let mut i = 0;
            for_each_nearest(chunk, dim, centers, &ct, |j, _| {
                o[i] = j;
                i += 1;
            });
        });
    let _ = k;
    out
}
