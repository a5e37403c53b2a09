//! The physical operators behind the DataStream methods, one per file.

pub(crate) mod filter;
pub(crate) mod flat_map;
pub(crate) mod map;
pub(crate) mod pre_aggregate;
pub(crate) mod process;
pub(crate) mod reduce;
pub(crate) mod side_output;
pub(crate) mod union;
