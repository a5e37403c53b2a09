//! Lloyd iterations as a DataSet program: a bulk iteration over the centers, the points a
//! loop-invariant data set of row blocks, the centers broadcast to every block.

use eddy_dataset::ExecutionEnvironment;
use serde::{Deserialize, Serialize};

use super::lloyd::{self, Partial};
use crate::error::{Error, Result};
use crate::linalg::kernels::chunk_rows;
use crate::table::DenseMatrix;

/// A block of rows, flat.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Block {
    values: Vec<f64>,
}

/// The centers between supersteps, and whether the last step moved any.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Centers {
    centers: DenseMatrix,
    moved: bool,
}

pub(crate) fn run(
    env: &ExecutionEnvironment,
    points: &DenseMatrix,
    initial: DenseMatrix,
    max_iter: usize,
) -> Result<DenseMatrix> {
    let dim = points.dim.max(1);
    let blocks: Vec<Block> = points
        .values
        .chunks(chunk_rows(dim) * dim)
        .map(|c| Block { values: c.to_vec() })
        .collect();
    let blocks = env
        .from_collection(blocks)
        .rebalance()
        .name("k-means points");
    let start = env.from_collection(vec![Centers {
        centers: initial,
        moved: true,
    }]);
    let iterations = u32::try_from(max_iter).unwrap_or(u32::MAX);
    let result = start.iterate_with_termination(iterations, move |current| {
        let partials = blocks
            .with_broadcast_set(current)
            .map(|block: Block, c: &[Centers]| lloyd::partial_sums(&block.values, &c[0].centers))
            .name("assign to nearest center");
        let total = partials
            .reduce(|a: Partial, b: Partial| a.merge(&b))
            .name("sum per center");
        let next = total
            .with_broadcast_set(current)
            .map(|total: Partial, c: &[Centers]| {
                let (centers, moved) = lloyd::finish(&total, &c[0].centers);
                Centers { centers, moved }
            })
            .name("new centers");
        let moved = next.filter(|c: &Centers| c.moved);
        (next, moved)
    });
    let mut out = result.collect()?;
    out.pop()
        .map(|c| c.centers)
        .ok_or_else(|| Error::Data("KMeans: the DataSet iteration produced no centers".into()))
}
