//! L-BFGS (Nocedal 1980; Liu & Nocedal 1989) with a backtracking Armijo line search, and
//! its orthant-wise variant OWL-QN (Andrew & Gao 2007) for objectives with an L1 term.
//!
//! Minimizes `F(x) = f(x) + l1 · Σ_{i < n_l1} |x_i|` where `f` is smooth and convex and
//! returns its gradient. Stops when the largest (pseudo-)gradient entry is at most `tol`,
//! when the objective stops decreasing, or after `max_iter` iterations.
//!
//! ```
//! use eddy_ml::optim::lbfgs::{minimize, Options};
//!
//! // f(x) = (x0 - 3)² + 10 (x1 + 1)²
//! let f = |x: &[f64], g: &mut [f64]| {
//!     g[0] = 2.0 * (x[0] - 3.0);
//!     g[1] = 20.0 * (x[1] + 1.0);
//!     (x[0] - 3.0).powi(2) + 10.0 * (x[1] + 1.0).powi(2)
//! };
//! let r = minimize(f, vec![0.0, 0.0], &Options { tol: 1e-10, ..Options::default() });
//! assert!((r.x[0] - 3.0).abs() < 1e-8 && (r.x[1] + 1.0).abs() < 1e-8);
//! ```

use std::collections::VecDeque;

use crate::linalg::kernels::dot;

/// Settings of [`minimize`].
#[derive(Debug, Clone)]
pub struct Options {
    /// Iteration limit.
    pub max_iter: usize,
    /// Stop when the largest absolute (pseudo-)gradient entry is at most this.
    pub tol: f64,
    /// Correction pairs kept.
    pub memory: usize,
    /// L1 weight (OWL-QN when above zero).
    pub l1: f64,
    /// The L1 term covers `x[..n_l1]` (an intercept after them is not penalized).
    pub n_l1: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_iter: 100,
            tol: 1e-6,
            memory: 10,
            l1: 0.0,
            n_l1: 0,
        }
    }
}

/// The outcome of [`minimize`].
#[derive(Debug, Clone)]
pub struct Solution {
    /// The minimizer found.
    pub x: Vec<f64>,
    /// The objective there (with the L1 term).
    pub value: f64,
    /// Iterations run.
    pub iterations: usize,
    /// Whether the gradient test was met (rather than the iteration limit or a stall).
    pub converged: bool,
}

fn sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// Minimizes `f` (value, writing the gradient into its second argument) from `x0`.
pub fn minimize(
    mut f: impl FnMut(&[f64], &mut [f64]) -> f64,
    x0: Vec<f64>,
    options: &Options,
) -> Solution {
    let n = x0.len();
    let l1 = options.l1;
    let n_l1 = options.n_l1.min(n);
    let penalty = |x: &[f64]| {
        if l1 > 0.0 {
            l1 * x[..n_l1].iter().map(|v| v.abs()).sum::<f64>()
        } else {
            0.0
        }
    };
    let pseudo = |x: &[f64], g: &[f64], out: &mut [f64]| {
        out.copy_from_slice(g);
        if l1 > 0.0 {
            for i in 0..n_l1 {
                out[i] = if x[i] > 0.0 {
                    g[i] + l1
                } else if x[i] < 0.0 {
                    g[i] - l1
                } else if g[i] + l1 < 0.0 {
                    g[i] + l1
                } else if g[i] - l1 > 0.0 {
                    g[i] - l1
                } else {
                    0.0
                };
            }
        }
    };
    let mut x = x0;
    let mut g = vec![0.0; n];
    let mut value = f(&x, &mut g) + penalty(&x);
    let mut pg = vec![0.0; n];
    let mut history: VecDeque<(Vec<f64>, Vec<f64>, f64)> = VecDeque::new();
    let mut d = vec![0.0; n];
    let mut x_new = vec![0.0; n];
    let mut g_new = vec![0.0; n];
    let mut iterations = 0;
    let mut converged = false;
    while iterations < options.max_iter {
        pseudo(&x, &g, &mut pg);
        if pg.iter().fold(0.0f64, |m, v| m.max(v.abs())) <= options.tol {
            converged = true;
            break;
        }
        iterations += 1;
        // Two-loop recursion: d = -H pg.
        for (di, p) in d.iter_mut().zip(&pg) {
            *di = -p;
        }
        let mut alphas = Vec::with_capacity(history.len());
        for (s, y, rho) in history.iter().rev() {
            let a = rho * dot(s, &d);
            for (di, yi) in d.iter_mut().zip(y) {
                *di -= a * yi;
            }
            alphas.push(a);
        }
        if let Some((s, y, _)) = history.back() {
            let gamma = dot(s, y) / dot(y, y);
            d.iter_mut().for_each(|v| *v *= gamma);
        }
        for ((s, y, rho), a) in history.iter().zip(alphas.iter().rev()) {
            let b = rho * dot(y, &d);
            for (di, si) in d.iter_mut().zip(s) {
                *di += (a - b) * si;
            }
        }
        if l1 > 0.0 {
            // Keep the direction in the orthant the pseudo-gradient points to.
            for i in 0..n_l1 {
                if sign(d[i]) != sign(-pg[i]) {
                    d[i] = 0.0;
                }
            }
        }
        if dot(&d, &pg) >= 0.0 {
            // Not a descent direction: restart from steepest descent.
            history.clear();
            for (di, p) in d.iter_mut().zip(&pg) {
                *di = -p;
            }
        }
        let orthant: Vec<f64> = (0..n_l1)
            .map(|i| {
                if x[i] != 0.0 {
                    sign(x[i])
                } else {
                    sign(-pg[i])
                }
            })
            .collect();
        let mut step = if history.is_empty() {
            (1.0 / dot(&pg, &pg).sqrt()).min(1.0)
        } else {
            1.0
        };
        let mut accepted = false;
        for _ in 0..60 {
            for i in 0..n {
                x_new[i] = x[i] + step * d[i];
            }
            if l1 > 0.0 {
                for i in 0..n_l1 {
                    if sign(x_new[i]) != orthant[i] {
                        x_new[i] = 0.0;
                    }
                }
            }
            let v = f(&x_new, &mut g_new) + penalty(&x_new);
            let decrease: f64 = (0..n).map(|i| pg[i] * (x_new[i] - x[i])).sum();
            if v <= value + 1e-4 * decrease {
                accepted = true;
                let s: Vec<f64> = x_new.iter().zip(&x).map(|(a, b)| a - b).collect();
                let y: Vec<f64> = g_new.iter().zip(&g).map(|(a, b)| a - b).collect();
                let sy = dot(&s, &y);
                if sy > 1e-12 * dot(&y, &y).max(f64::MIN_POSITIVE) {
                    if history.len() == options.memory {
                        history.pop_front();
                    }
                    history.push_back((s, y, 1.0 / sy));
                }
                let stalled = (value - v).abs() <= 1e-16 * value.abs().max(1.0);
                std::mem::swap(&mut x, &mut x_new);
                std::mem::swap(&mut g, &mut g_new);
                value = v;
                if stalled {
                    pseudo(&x, &g, &mut pg);
                    converged = pg.iter().fold(0.0f64, |m, v| m.max(v.abs())) <= options.tol;
                    return Solution {
                        x,
                        value,
                        iterations,
                        converged,
                    };
                }
                break;
            }
            step *= 0.5;
        }
        if !accepted {
            break;
        }
    }
    Solution {
        x,
        value,
        iterations,
        converged,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owlqn_meets_the_lasso_optimality_conditions() {
        // f(x) = ½ Σ a_i (x_i - c_i)², l1 = 1: x_i = soft-threshold(c_i, 1/a_i).
        let a = [1.0, 2.0, 4.0, 0.5];
        let c = [3.0, 0.2, -2.0, -0.4];
        let f = |x: &[f64], g: &mut [f64]| {
            let mut v = 0.0;
            for i in 0..4 {
                g[i] = a[i] * (x[i] - c[i]);
                v += 0.5 * a[i] * (x[i] - c[i]).powi(2);
            }
            v
        };
        let r = minimize(
            f,
            vec![0.0; 4],
            &Options {
                tol: 1e-10,
                l1: 1.0,
                n_l1: 4,
                max_iter: 500,
                ..Options::default()
            },
        );
        for i in 0..4 {
            let t = 1.0 / a[i];
            let expect = c[i].signum() * (c[i].abs() - t).max(0.0);
            assert!(
                (r.x[i] - expect).abs() < 1e-8,
                "{i}: {} vs {expect}",
                r.x[i]
            );
        }
        assert!(r.converged);
    }
}
