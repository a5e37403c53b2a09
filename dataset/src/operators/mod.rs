//! The physical operators of the DataSet API, one per file, named after the call they
//! implement. Blocking operators (reduce, group reduce, sort, joins) consume their whole
//! input and emit in `finish`.

pub(crate) mod broadcast;
pub(crate) mod buffer;
pub(crate) mod co_group;
pub(crate) mod collect;
pub(crate) mod cross;
pub(crate) mod filter;
pub(crate) mod first_n;
pub(crate) mod flat_map;
pub(crate) mod group_reduce;
pub(crate) mod identity;
pub(crate) mod indexed_join;
pub(crate) mod join;
pub(crate) mod map;
pub(crate) mod map_partition;
pub(crate) mod reduce;
pub(crate) mod repartition_join;
pub(crate) mod sample;
pub(crate) mod solution_set;
pub(crate) mod sort_partition;
pub(crate) mod tag;
pub(crate) mod two_input;
