//! Numeric kernels on flat `f64` slices: dot products, distances, nearest center, the
//! logistic function. Written as plain loops over slices of equal length so the compiler
//! vectorizes them; the algorithms run them over row chunks in parallel.

/// `Σ a[i]·b[i]`.
///
/// Four independent accumulators let the loop vectorize (the sum's association order is
/// fixed, so results are deterministic).
#[inline(always)]
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    debug_assert_eq!(a.len(), b.len());
    let mut acc = [0.0f64; 4];
    let chunks = a.len() / 4;
    for c in 0..chunks {
        let i = c * 4;
        acc[0] += a[i] * b[i];
        acc[1] += a[i + 1] * b[i + 1];
        acc[2] += a[i + 2] * b[i + 2];
        acc[3] += a[i + 3] * b[i + 3];
    }
    let mut sum = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for i in chunks * 4..a.len() {
        sum += a[i] * b[i];
    }
    sum
}

/// `y += alpha·x`.
#[inline]
pub fn axpy(alpha: f64, x: &[f64], y: &mut [f64]) {
    debug_assert_eq!(x.len(), y.len());
    for (y, x) in y.iter_mut().zip(x) {
        *y += alpha * x;
    }
}

/// `Σ (a[i] - b[i])²`.
#[inline]
pub fn squared_distance(a: &[f64], b: &[f64]) -> f64 {
    debug_assert_eq!(a.len(), b.len());
    let mut acc = [0.0f64; 4];
    let chunks = a.len() / 4;
    for c in 0..chunks {
        let i = c * 4;
        let d0 = a[i] - b[i];
        let d1 = a[i + 1] - b[i + 1];
        let d2 = a[i + 2] - b[i + 2];
        let d3 = a[i + 3] - b[i + 3];
        acc[0] += d0 * d0;
        acc[1] += d1 * d1;
        acc[2] += d2 * d2;
        acc[3] += d3 * d3;
    }
    let mut sum = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for i in chunks * 4..a.len() {
        let d = a[i] - b[i];
        sum += d * d;
    }
    sum
}

/// The index of the center (rows of the flat, row-major `centers`, each `point.len()` wide)
/// nearest to `point` in Euclidean distance, and the squared distance. Ties go to the lower
/// index.
///
/// # Panics
/// If `centers` is empty.
#[inline]
pub fn nearest(point: &[f64], centers: &[f64]) -> (usize, f64) {
    let dim = point.len().max(1);
    let mut best = (0, f64::INFINITY);
    for (j, c) in centers.chunks_exact(dim).enumerate() {
        let d = squared_distance(point, c);
        if d < best.1 {
            best = (j, d);
        }
    }
    assert!(best.1.is_finite() || !centers.is_empty(), "no centers");
    best
}

/// The logistic function `1 / (1 + e^-z)`, stable for large `|z|`.
#[inline]
pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// `ln(1 + e^z)`, stable for large `|z|` (the logistic loss of margin `-z`).
#[inline]
pub fn log1p_exp(z: f64) -> f64 {
    if z > 0.0 {
        z + (-z).exp().ln_1p()
    } else {
        z.exp().ln_1p()
    }
}

/// The L2 norm of `x`.
pub fn norm2(x: &[f64]) -> f64 {
    dot(x, x).sqrt()
}

/// Rows per parallel chunk of a flat matrix `dim` wide: about 64 KiB of data each, at least
/// one row.
pub fn chunk_rows(dim: usize) -> usize {
    (8192 / dim.max(1)).max(1)
}

/// Runs `work` compiled for AVX2 and FMA when the CPU has them (checked at run time),
/// else as is: the loops of a kernel inlined into `work` are vectorized four `f64` wide.
///
/// The result is the same function of the inputs either way, up to the rounding of fused
/// multiply-adds.
#[inline]
pub fn dispatch<R>(work: impl FnOnce() -> R) -> R {
    if has_avx2_fma() {
        // SAFETY: the CPU supports the features the function is compiled for.
        #[cfg(target_arch = "x86_64")]
        return unsafe { with_avx2(work) };
    }
    work()
}

/// Whether the CPU has AVX2 and FMA (so [`dispatch`]ed kernels may use `mul_add`).
#[inline]
pub fn has_avx2_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn with_avx2<R>(work: impl FnOnce() -> R) -> R {
    work()
}

/// `a·b + c`: fused where the CPU has FMA (inside [`dispatch`]), two roundings elsewhere.
#[inline(always)]
pub fn mul_add<const FMA: bool>(a: f64, b: f64, c: f64) -> f64 {
    if FMA {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// The nearest center of each of four rows, for `K` centers given transposed (`ct`,
/// `dim` rows of `K`) with their squared norms `norms`: the argmin over `j` of
/// `‖c_j‖² - 2 x·c_j`, which is `‖x - c_j‖² - ‖x‖²` (scikit-learn's formulation, a
/// matrix product at heart). Four rows at a time keep eight independent accumulator
/// chains in registers.
#[inline(always)]
pub fn nearest4<const K: usize, const FMA: bool>(
    rows: [&[f64]; 4],
    ct: &[f64],
    norms: &[f64; K],
) -> [usize; 4] {
    let mut acc = [[0.0f64; K]; 4];
    for (d, c) in ct.chunks_exact(K).enumerate() {
        let c: &[f64; K] = c.try_into().expect("K-wide row");
        for r in 0..4 {
            let x = rows[r][d];
            for j in 0..K {
                acc[r][j] = mul_add::<FMA>(x, c[j], acc[r][j]);
            }
        }
    }
    let mut out = [0usize; 4];
    for r in 0..4 {
        let mut best = (0, f64::INFINITY);
        for j in 0..K {
            let v = norms[j] - 2.0 * acc[r][j];
            if v < best.1 {
                best = (j, v);
            }
        }
        out[r] = best.0;
    }
    out
}

/// Squared Euclidean distances from `x` to every center, with the centers stored
/// transposed (`ct[d * k + j]` is dimension `d` of center `j`), into `out` (length `k`).
///
/// Vectorizes across centers: no horizontal sums, each distance accumulated over the
/// dimensions in order.
#[inline(always)]
pub fn distances_transposed(x: &[f64], ct: &[f64], out: &mut [f64]) {
    let k = out.len();
    out.fill(0.0);
    for (xd, row) in x.iter().zip(ct.chunks_exact(k)) {
        for (o, c) in out.iter_mut().zip(row) {
            let t = xd - c;
            *o += t * t;
        }
    }
}

/// The index of the smallest value (the first among equals) and the value.
#[inline(always)]
pub fn argmin(values: &[f64]) -> (usize, f64) {
    let mut best = (0, f64::INFINITY);
    for (j, v) in values.iter().enumerate() {
        if *v < best.1 {
            best = (j, *v);
        }
    }
    best
}

/// `centers` (k rows of `dim`) transposed to `dim` rows of `k`.
pub fn transpose(centers: &[f64], k: usize, dim: usize) -> Vec<f64> {
    let mut t = vec![0.0; k * dim];
    for j in 0..k {
        for d in 0..dim {
            t[d * k + j] = centers[j * dim + d];
        }
    }
    t
}

/// [`nearest4`] in AVX2 intrinsics, for up to `4 * Q` centers: `padded` holds the centers
/// transposed and padded to `4 * Q` columns (`dim` rows), `norms` their squared norms padded
/// with `+∞` (so padding never wins).
///
/// # Safety
/// The CPU must have AVX2 and FMA; every row must have `dim` entries, `padded` `dim * 4 * Q`
/// and `norms` `4 * Q`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
pub unsafe fn nearest4_avx2<const Q: usize>(
    rows: [&[f64]; 4],
    dim: usize,
    padded: &[f64],
    norms: &[f64],
) -> [usize; 4] {
    use std::arch::x86_64::*;
    debug_assert!(padded.len() >= dim * 4 * Q && norms.len() >= 4 * Q);
    let mut acc = [[_mm256_setzero_pd(); Q]; 4];
    for d in 0..dim {
        let base = padded.as_ptr().add(d * 4 * Q);
        let c: [__m256d; Q] = std::array::from_fn(|q| _mm256_loadu_pd(base.add(4 * q)));
        for r in 0..4 {
            let x = _mm256_set1_pd(*rows[r].get_unchecked(d));
            for q in 0..Q {
                acc[r][q] = _mm256_fmadd_pd(x, c[q], acc[r][q]);
            }
        }
    }
    let mut out = [0usize; 4];
    let minus_two = _mm256_set1_pd(-2.0);
    for (slot, row_acc) in out.iter_mut().zip(&acc) {
        let mut best = (0, f64::INFINITY);
        for (q, a) in row_acc.iter().enumerate() {
            let n = _mm256_loadu_pd(norms.as_ptr().add(4 * q));
            let v = _mm256_fmadd_pd(minus_two, *a, n);
            let mut lanes = [0.0f64; 4];
            _mm256_storeu_pd(lanes.as_mut_ptr(), v);
            for (l, value) in lanes.iter().enumerate() {
                if *value < best.1 {
                    best = (4 * q + l, *value);
                }
            }
        }
        *slot = best.0;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernels_match_naive_loops() {
        let a: Vec<f64> = (0..11).map(|i| i as f64 * 0.5 - 2.0).collect();
        let b: Vec<f64> = (0..11).map(|i| (i * i) as f64 * 0.1).collect();
        let naive_dot: f64 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((dot(&a, &b) - naive_dot).abs() < 1e-12);
        let naive_d: f64 = a.iter().zip(&b).map(|(x, y)| (x - y) * (x - y)).sum();
        assert!((squared_distance(&a, &b) - naive_d).abs() < 1e-12);
        let centers = [0.0, 0.0, 10.0, 10.0, 1.0, 1.0];
        assert_eq!(nearest(&[0.9, 0.8], &centers).0, 2);
        assert!((sigmoid(0.0) - 0.5).abs() < 1e-15);
        assert!(sigmoid(-800.0) >= 0.0 && sigmoid(800.0) <= 1.0);
        assert!((log1p_exp(800.0) - 800.0).abs() < 1e-9);
        assert!((log1p_exp(0.0) - 2f64.ln()).abs() < 1e-15);
    }
}
