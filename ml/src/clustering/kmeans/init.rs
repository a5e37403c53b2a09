//! Initial centers: `random` (k distinct rows) and `k-means||`.

use rand::seq::index::sample;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::lloyd;
use crate::linalg::kernels::{self, chunk_rows};
use crate::table::DenseMatrix;

fn rows_of(points: &DenseMatrix, indices: &[usize]) -> DenseMatrix {
    let mut values = Vec::with_capacity(indices.len() * points.dim);
    for i in indices {
        values.extend_from_slice(points.row(*i));
    }
    DenseMatrix {
        rows: indices.len(),
        dim: points.dim,
        values,
    }
}

/// `k` distinct rows chosen uniformly by a generator seeded with `seed`.
pub(crate) fn random(points: &DenseMatrix, k: usize, seed: u64) -> DenseMatrix {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let picked = sample(&mut rng, points.rows, k).into_vec();
    rows_of(points, &picked)
}

/// A uniform number in `[0, 1)` from `(seed, round, row)`: splitmix64 of their mix.
fn coin(seed: u64, round: u64, row: u64) -> f64 {
    let mut z =
        seed ^ round.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ row.wrapping_mul(0xD1B5_4A32_D192_ED03);
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// Updates every row's squared distance to its nearest center with `new` centers.
fn update_costs(points: &DenseMatrix, new: &DenseMatrix, costs: &mut [f64]) {
    let dim = points.dim.max(1);
    let rows = chunk_rows(dim);
    costs
        .par_chunks_mut(rows)
        .zip(points.values.par_chunks(rows * dim))
        .for_each(|(c, chunk)| {
            for (cost, row) in c.iter_mut().zip(chunk.chunks_exact(dim)) {
                let d = kernels::nearest(row, &new.values).1;
                if d < *cost {
                    *cost = d;
                }
            }
        });
}

/// k-means|| (Bahmani et al. 2012): oversampled candidates in `steps` rounds, reduced to
/// `k` by weighted k-means++ and weighted Lloyd iterations.
pub(crate) fn k_means_parallel(
    points: &DenseMatrix,
    k: usize,
    steps: usize,
    seed: u64,
) -> DenseMatrix {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let first = rng.gen_range(0..points.rows);
    let mut chosen = vec![first];
    let mut costs = vec![f64::INFINITY; points.rows];
    update_costs(points, &rows_of(points, &[first]), &mut costs);
    for round in 0..steps {
        let total: f64 = costs.iter().sum();
        if total == 0.0 {
            break;
        }
        let oversampling = 2.0 * k as f64;
        let picked: Vec<usize> = costs
            .par_iter()
            .enumerate()
            .filter(|(i, c)| coin(seed, round as u64, *i as u64) < oversampling * **c / total)
            .map(|(i, _)| i)
            .collect();
        if picked.is_empty() {
            continue;
        }
        update_costs(points, &rows_of(points, &picked), &mut costs);
        chosen.extend(picked);
    }
    chosen.sort_unstable();
    chosen.dedup();
    let candidates = rows_of(points, &chosen);
    if candidates.rows <= k {
        // Too few candidates: fill up with random other rows.
        let mut all = chosen.clone();
        let mut extra =
            sample(&mut rng, points.rows, points.rows.min(k * 4 + chosen.len())).into_vec();
        extra.retain(|i| !chosen.contains(i));
        all.extend(extra.into_iter().take(k - chosen.len().min(k)));
        return rows_of(points, &all[..k.min(all.len())]);
    }
    // Weight each candidate by the rows nearest to it.
    let assignment = lloyd::assign(points, &candidates);
    let mut weights = vec![0.0f64; candidates.rows];
    for a in assignment {
        weights[a] += 1.0;
    }
    local_k_means_plus_plus(&candidates, &weights, k, &mut rng)
}

/// Weighted k-means++ on the candidates, then up to 30 weighted Lloyd iterations.
fn local_k_means_plus_plus(
    c: &DenseMatrix,
    weights: &[f64],
    k: usize,
    rng: &mut ChaCha8Rng,
) -> DenseMatrix {
    let pick_weighted = |rng: &mut ChaCha8Rng, w: &[f64]| -> usize {
        let total: f64 = w.iter().sum();
        if total <= 0.0 {
            return rng.gen_range(0..w.len());
        }
        let mut r = rng.gen::<f64>() * total;
        for (i, x) in w.iter().enumerate() {
            if r < *x {
                return i;
            }
            r -= x;
        }
        w.len() - 1
    };
    let mut centers = vec![pick_weighted(rng, weights)];
    let mut dist: Vec<f64> = c
        .iter_rows()
        .map(|r| kernels::squared_distance(r, c.row(centers[0])))
        .collect();
    while centers.len() < k {
        let w: Vec<f64> = dist.iter().zip(weights).map(|(d, w)| d * w).collect();
        let next = pick_weighted(rng, &w);
        centers.push(next);
        for (d, r) in dist.iter_mut().zip(c.iter_rows()) {
            *d = d.min(kernels::squared_distance(r, c.row(next)));
        }
    }
    let mut current = rows_of(c, &centers);
    let dim = c.dim;
    for _ in 0..30 {
        let mut sums = vec![0.0; k * dim];
        let mut counts = vec![0.0; k];
        for (r, w) in c.iter_rows().zip(weights) {
            let (j, _) = kernels::nearest(r, &current.values);
            counts[j] += w;
            kernels::axpy(*w, r, &mut sums[j * dim..(j + 1) * dim]);
        }
        let mut next = current.clone();
        for j in 0..k {
            if counts[j] > 0.0 {
                for d in 0..dim {
                    next.values[j * dim + d] = sums[j * dim + d] / counts[j];
                }
            }
        }
        if next == current {
            break;
        }
        current = next;
    }
    current
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coins_are_uniform_enough_and_deterministic() {
        let n = 100_000;
        let below_half = (0..n).filter(|i| coin(7, 1, *i) < 0.5).count();
        assert!((below_half as f64 / n as f64 - 0.5).abs() < 0.01);
        assert_eq!(coin(1, 2, 3), coin(1, 2, 3));
    }

    #[test]
    fn k_means_parallel_gives_k_distinct_centers_near_the_blobs() {
        let mut rows = Vec::new();
        for b in 0..4 {
            for i in 0..50 {
                rows.push(vec![
                    b as f64 * 100.0 + (i % 7) as f64 * 0.1,
                    (i % 5) as f64 * 0.1,
                ]);
            }
        }
        let m = DenseMatrix::from_rows(&rows).unwrap();
        let c = k_means_parallel(&m, 4, 2, 42);
        assert_eq!(c.rows, 4);
        let mut blobs: Vec<i64> = c
            .iter_rows()
            .map(|r| (r[0] / 100.0).round() as i64)
            .collect();
        blobs.sort();
        assert_eq!(blobs, vec![0, 1, 2, 3]);
    }
}
