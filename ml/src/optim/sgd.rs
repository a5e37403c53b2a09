//! Mini-batch SGD as Flink ML runs it: each iteration takes the next `batch` rows (cycling
//! through the data in order), steps against their mean gradient, then applies the
//! regularization as a proximal step: `w -= lr·reg·w` for L2, soft-thresholding by
//! `lr·reg` for L1, both (split by `elasticNet`) for elastic net. Stops after `max_iter`
//! iterations or when the batch's mean loss falls below `tol`.

/// Settings of [`minimize`].
#[derive(Debug, Clone)]
pub struct Options {
    /// Iterations (one batch each).
    pub max_iter: usize,
    /// Rows per batch.
    pub batch: usize,
    /// Learning rate.
    pub learning_rate: f64,
    /// Regularization strength.
    pub reg: f64,
    /// Elastic net mixing (0: L2, 1: L1).
    pub elastic_net: f64,
    /// Stop when a batch's mean loss is below this.
    pub tol: f64,
    /// Regularization covers `w[..n_reg]` (not an intercept after them).
    pub n_reg: usize,
}

/// Runs SGD over `rows` rows: `batch_grad(start, len, w, grad)` returns the summed loss and
/// weight of rows `start..start+len` and adds their summed gradient into `grad`.
pub fn minimize(
    rows: usize,
    mut w: Vec<f64>,
    options: &Options,
    mut batch_grad: impl FnMut(usize, usize, &[f64], &mut [f64]) -> (f64, f64),
) -> Vec<f64> {
    if rows == 0 {
        return w;
    }
    let n = w.len();
    let mut grad = vec![0.0; n];
    let mut start = 0;
    let l1 = options.reg * options.elastic_net;
    let l2 = options.reg * (1.0 - options.elastic_net);
    let lr = options.learning_rate;
    for _ in 0..options.max_iter {
        let len = options.batch.min(rows - start);
        grad.iter_mut().for_each(|g| *g = 0.0);
        let (loss, weight) = batch_grad(start, len, &w, &mut grad);
        start = (start + len) % rows;
        if weight > 0.0 {
            for (wi, gi) in w.iter_mut().zip(&grad) {
                *wi -= lr * gi / weight;
            }
        }
        let reg = options.n_reg.min(n);
        if l2 > 0.0 {
            for wi in &mut w[..reg] {
                *wi -= lr * l2 * *wi;
            }
        }
        if l1 > 0.0 {
            for wi in &mut w[..reg] {
                *wi = wi.signum() * (wi.abs() - lr * l1).max(0.0);
            }
        }
        if weight > 0.0 && loss / weight < options.tol {
            break;
        }
    }
    w
}
