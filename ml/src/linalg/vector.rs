//! [`Vector`]: a dense or sparse vector of `f64`, as held by one table cell.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A sparse vector: `size` entries, of which those at `indices` (strictly increasing) are
/// `values`; all others are zero.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SparseVector {
    /// The vector's dimension.
    pub size: usize,
    /// Positions of the non-zero entries, strictly increasing, each below `size`.
    pub indices: Vec<u32>,
    /// The entries at `indices`.
    pub values: Vec<f64>,
}

/// A vector of `f64`: dense, or sparse for wide, mostly-zero features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Vector {
    /// Every entry stored.
    Dense(Vec<f64>),
    /// Only the non-zero entries stored.
    Sparse(SparseVector),
}

impl Vector {
    /// A sparse vector, checked.
    ///
    /// # Errors
    /// [`Error::Data`] if the lengths differ, an index is out of range, or the indices are
    /// not strictly increasing.
    pub fn sparse(size: usize, indices: Vec<u32>, values: Vec<f64>) -> Result<Vector> {
        if indices.len() != values.len() {
            return Err(Error::Data(format!(
                "sparse vector with {} indices but {} values",
                indices.len(),
                values.len()
            )));
        }
        if let Some(bad) = indices.iter().find(|i| **i as usize >= size) {
            return Err(Error::Data(format!(
                "sparse vector index {bad} out of range for size {size}"
            )));
        }
        if indices.windows(2).any(|w| w[0] >= w[1]) {
            return Err(Error::Data(
                "sparse vector indices are not strictly increasing".into(),
            ));
        }
        Ok(Vector::Sparse(SparseVector {
            size,
            indices,
            values,
        }))
    }

    /// The dimension.
    pub fn len(&self) -> usize {
        match self {
            Vector::Dense(v) => v.len(),
            Vector::Sparse(s) => s.size,
        }
    }

    /// Whether the dimension is zero.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Entry `i` (zero where a sparse vector stores nothing).
    pub fn get(&self, i: usize) -> f64 {
        match self {
            Vector::Dense(v) => v[i],
            Vector::Sparse(s) => match s.indices.binary_search(&(i as u32)) {
                Ok(k) => s.values[k],
                Err(_) => 0.0,
            },
        }
    }

    /// The entries as a dense array.
    pub fn to_dense(&self) -> Vec<f64> {
        match self {
            Vector::Dense(v) => v.clone(),
            Vector::Sparse(s) => {
                let mut out = vec![0.0; s.size];
                for (i, v) in s.indices.iter().zip(&s.values) {
                    out[*i as usize] = *v;
                }
                out
            }
        }
    }

    /// Writes the entries into `out` (of length [`len`](Self::len)).
    pub fn write_dense(&self, out: &mut [f64]) {
        match self {
            Vector::Dense(v) => out.copy_from_slice(v),
            Vector::Sparse(s) => {
                out.fill(0.0);
                for (i, v) in s.indices.iter().zip(&s.values) {
                    out[*i as usize] = *v;
                }
            }
        }
    }

    /// Applies `f` to every stored entry (the non-zeros of a sparse vector), with its index.
    pub fn map_stored(&self, mut f: impl FnMut(usize, f64) -> f64) -> Vector {
        match self {
            Vector::Dense(v) => {
                Vector::Dense(v.iter().enumerate().map(|(i, x)| f(i, *x)).collect())
            }
            Vector::Sparse(s) => Vector::Sparse(SparseVector {
                size: s.size,
                indices: s.indices.clone(),
                values: s
                    .indices
                    .iter()
                    .zip(&s.values)
                    .map(|(i, x)| f(*i as usize, *x))
                    .collect(),
            }),
        }
    }

    /// The stored values (all entries of a dense vector, the non-zeros of a sparse one).
    pub fn stored_values(&self) -> &[f64] {
        match self {
            Vector::Dense(v) => v,
            Vector::Sparse(s) => &s.values,
        }
    }
}

impl std::fmt::Display for Vector {
    /// Dense as `[1.0,2.5]`, sparse as `(4,[1,3],[2.0,-1.0])` (Spark's and Flink's text
    /// forms); [`parse`](std::str::FromStr) reads both back.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fn list<T: std::fmt::Debug>(f: &mut std::fmt::Formatter<'_>, xs: &[T]) -> std::fmt::Result {
            f.write_str("[")?;
            for (i, x) in xs.iter().enumerate() {
                if i > 0 {
                    f.write_str(",")?;
                }
                write!(f, "{x:?}")?;
            }
            f.write_str("]")
        }
        match self {
            Vector::Dense(v) => list(f, v),
            Vector::Sparse(s) => {
                write!(f, "({},", s.size)?;
                list(f, &s.indices)?;
                f.write_str(",")?;
                list(f, &s.values)?;
                f.write_str(")")
            }
        }
    }
}

impl std::str::FromStr for Vector {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<Vector, String> {
        fn numbers<T: std::str::FromStr>(body: &str) -> std::result::Result<Vec<T>, String> {
            let body = body.trim();
            if body.is_empty() {
                return Ok(Vec::new());
            }
            body.split(',')
                .map(|x| {
                    x.trim()
                        .parse::<T>()
                        .map_err(|_| format!("'{}' is not a number", x.trim()))
                })
                .collect()
        }
        let t = text.trim();
        if let Some(body) = t.strip_prefix('[').and_then(|b| b.strip_suffix(']')) {
            return numbers(body).map(Vector::Dense);
        }
        if let Some(body) = t.strip_prefix('(').and_then(|b| b.strip_suffix(')')) {
            let (size, rest) = body
                .split_once(',')
                .ok_or_else(|| format!("'{t}' is not a sparse vector (size,[indices],[values])"))?;
            let size = size
                .trim()
                .parse::<usize>()
                .map_err(|_| format!("'{}' is not a vector size", size.trim()))?;
            let rest = rest.trim();
            let close = rest
                .find(']')
                .ok_or_else(|| format!("'{t}' is not a sparse vector (size,[indices],[values])"))?;
            let indices = rest[..close]
                .strip_prefix('[')
                .ok_or_else(|| format!("'{t}' is not a sparse vector (size,[indices],[values])"))?;
            let values = rest[close + 1..]
                .trim_start_matches([',', ' '])
                .strip_prefix('[')
                .and_then(|v| v.strip_suffix(']'))
                .ok_or_else(|| format!("'{t}' is not a sparse vector (size,[indices],[values])"))?;
            return Vector::sparse(size, numbers(indices)?, numbers(values)?)
                .map_err(|e| e.to_string());
        }
        Err(format!(
            "'{t}' is not a vector ([a,b,...] or (size,[indices],[values]))"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_form_round_trips() {
        for v in [
            Vector::Dense(vec![1.0, -2.5, 0.1]),
            Vector::sparse(5, vec![0, 4], vec![3.0, 1e-300]).unwrap(),
            Vector::Dense(vec![]),
        ] {
            assert_eq!(v.to_string().parse::<Vector>().unwrap(), v);
        }
        assert!("[1,x]".parse::<Vector>().unwrap_err().contains("'x'"));
        assert!("(2,[3],[1.0])"
            .parse::<Vector>()
            .unwrap_err()
            .contains("out of range"));
    }
}
