//! Turning an edge list of dense indices into sorted, duplicate-free adjacency arrays.

use rayon::prelude::*;

use super::ids::IdIndex;
use super::{Adjacency, Csr};
use crate::parallel::VERTEX_CHUNK;

/// An edge list over dense indices, as parsed or built, before it becomes a [`Csr`].
#[derive(Debug, Default)]
pub(crate) struct EdgeArrays {
    pub(crate) src: Vec<u32>,
    pub(crate) dst: Vec<u32>,
    pub(crate) weights: Option<Vec<f64>>,
}

/// Builds the graph. Must run inside the caller's thread pool (it uses rayon).
///
/// Duplicate edges collapse to one (the smallest weight wins) and self-loops are dropped.
pub(crate) fn assemble(ids: IdIndex, directed: bool, edges: EdgeArrays) -> Csr {
    let n = ids.len();
    let EdgeArrays { src, dst, weights } = edges;
    let (out, inc) = if directed {
        let out = scatter(n, &src, &dst, weights.as_deref(), false);
        let inc = scatter(n, &dst, &src, None, false);
        drop((src, dst, weights));
        (normalize(out), normalize(inc))
    } else {
        let out = scatter(n, &src, &dst, weights.as_deref(), true);
        drop((src, dst, weights));
        (
            normalize(out),
            Adjacency {
                offsets: Vec::new(),
                targets: Vec::new(),
                weights: None,
            },
        )
    };
    Csr::from_parts(directed, ids, out, inc, None)
}

/// Counting sort of the arcs `from[i] -> to[i]` (and `to[i] -> from[i]` if `both`) by source.
fn scatter(n: usize, from: &[u32], to: &[u32], weights: Option<&[f64]>, both: bool) -> Adjacency {
    let mut offsets = vec![0usize; n + 1];
    for &s in from {
        offsets[s as usize + 1] += 1;
    }
    if both {
        for &d in to {
            offsets[d as usize + 1] += 1;
        }
    }
    for v in 0..n {
        offsets[v + 1] += offsets[v];
    }
    let arcs = offsets[n];
    let mut targets = vec![0u32; arcs];
    let mut ws = weights.map(|_| vec![0f64; arcs]);
    // `cursor[v]` is `offsets[v]` shifted by one slot, so the offsets need no copy: after the
    // scatter, `offsets[v]` has advanced to the old `offsets[v + 1]`.
    {
        let cursor = &mut offsets[..n];
        let mut place = |s: u32, d: u32, w: Option<f64>| {
            let slot = &mut cursor[s as usize];
            targets[*slot] = d;
            if let (Some(ws), Some(w)) = (ws.as_mut(), w) {
                ws[*slot] = w;
            }
            *slot += 1;
        };
        for i in 0..from.len() {
            let w = weights.map(|w| w[i]);
            place(from[i], to[i], w);
            if both {
                place(to[i], from[i], w);
            }
        }
    }
    offsets.copy_within(0..n, 1);
    offsets[0] = 0;
    Adjacency {
        offsets,
        targets,
        weights: ws,
    }
}

/// Sorts every neighbour list, drops self-loops and duplicates (keeping the smallest weight).
pub(crate) fn normalize(mut adj: Adjacency) -> Adjacency {
    let n = adj.offsets.len() - 1;
    let mut new_len = vec![0usize; n];
    {
        // Cut the arrays into disjoint per-block slices so blocks sort in parallel.
        let mut blocks = Vec::with_capacity(n.div_ceil(VERTEX_CHUNK));
        let mut targets: &mut [u32] = &mut adj.targets;
        let mut weights: Option<&mut [f64]> = adj.weights.as_deref_mut();
        for (b, lens) in new_len.chunks_mut(VERTEX_CHUNK).enumerate() {
            let first = b * VERTEX_CHUNK;
            let len = adj.offsets[first + lens.len()] - adj.offsets[first];
            let (t, rest) = std::mem::take(&mut targets).split_at_mut(len);
            targets = rest;
            let w = weights.take().map(|w| {
                let (w, rest) = w.split_at_mut(len);
                weights = Some(rest);
                w
            });
            blocks.push((first, lens, t, w));
        }
        let offsets = &adj.offsets;
        blocks.into_par_iter().for_each(|(first, lens, t, mut w)| {
            let base = offsets[first];
            let mut pairs: Vec<(u32, f64)> = Vec::new();
            for (i, len) in lens.iter_mut().enumerate() {
                let v = (first + i) as u32;
                let r = offsets[first + i] - base..offsets[first + i + 1] - base;
                *len = match w.as_deref_mut() {
                    None => dedup_sorted(v, &mut t[r]),
                    Some(w) => dedup_weighted(v, &mut t[r.clone()], &mut w[r], &mut pairs),
                };
            }
        });
    }
    let kept: usize = new_len.iter().sum();
    if kept != adj.targets.len() {
        let mut write = 0;
        let mut old_start = adj.offsets[0];
        for (v, &len) in new_len.iter().enumerate() {
            let old_end = adj.offsets[v + 1];
            adj.targets.copy_within(old_start..old_start + len, write);
            if let Some(w) = adj.weights.as_mut() {
                w.copy_within(old_start..old_start + len, write);
            }
            adj.offsets[v] = write;
            write += len;
            old_start = old_end;
        }
        adj.offsets[n] = write;
        adj.targets.truncate(write);
        adj.targets.shrink_to_fit();
        if let Some(w) = adj.weights.as_mut() {
            w.truncate(write);
            w.shrink_to_fit();
        }
    }
    adj
}

/// Sorts `list` and moves its distinct entries other than `v` to the front; returns how many.
fn dedup_sorted(v: u32, list: &mut [u32]) -> usize {
    if !list.windows(2).all(|p| p[0] <= p[1]) {
        list.sort_unstable();
    }
    let mut k = 0;
    for i in 0..list.len() {
        let x = list[i];
        if x != v && (k == 0 || list[k - 1] != x) {
            list[k] = x;
            k += 1;
        }
    }
    k
}

/// [`dedup_sorted`] for a list with weights; a repeated neighbour keeps its smallest weight.
fn dedup_weighted(
    v: u32,
    list: &mut [u32],
    weights: &mut [f64],
    pairs: &mut Vec<(u32, f64)>,
) -> usize {
    pairs.clear();
    pairs.extend(list.iter().copied().zip(weights.iter().copied()));
    pairs.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let mut k = 0;
    for &(x, w) in pairs.iter() {
        if x != v && (k == 0 || list[k - 1] != x) {
            list[k] = x;
            weights[k] = w;
            k += 1;
        }
    }
    k
}
