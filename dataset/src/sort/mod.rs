//! External merge sort under a memory budget: the engine behind `sort_partition`,
//! `reduce_group` with `sort_group`, `distinct` and the sort-merge join.
//!
//! # How to call the engine
//!
//! Build an [`ExternalSorter`] over a [`MemoryManager`] with a key extractor whose key is a
//! [`SortKey`] (`u64`, `i64`, `f64`, `String`, `Vec<u8>`, tuples, or any `Ord` type in
//! [`crate::key::OrdKey`]); [`push`](ExternalSorter::push) every record, then
//! [`finish`](ExternalSorter::finish) and iterate the sorted `(key, record)` pairs. Options
//! are builder calls: [`stable`](ExternalSorter::stable) (ties keep push order),
//! [`descending`](ExternalSorter::descending), [`combiner`](ExternalSorter::combiner) (a
//! reduce function applied to records of equal key while spilling and merging, so each key
//! comes out once), [`record_size`](ExternalSorter::record_size) (heap bytes a record owns,
//! for records holding `String`s or `Vec`s), and [`threads`](ExternalSorter::threads) for
//! the in-memory sort. Records whose key is already at hand go in through
//! [`ExternalSorter::with_keys`] and [`push_keyed`](ExternalSorter::push_keyed).
//!
//! ```
//! use eddy_dataset::sort::ExternalSorter;
//! use eddy_runtime::memory::MemoryManager;
//!
//! let memory = MemoryManager::new(64 << 20);
//! let mut sorter = ExternalSorter::new(&memory, |pair: &(u64, char)| pair.0).stable(true);
//! for pair in [(3, 'c'), (1, 'a'), (3, 'd'), (2, 'b')] {
//!     sorter.push(pair)?;
//! }
//! let sorted: Vec<(u64, char)> = sorter
//!     .finish()?
//!     .map(|entry| entry.map(|(_key, pair)| pair))
//!     .collect::<Result<_, _>>()?;
//! assert_eq!(sorted, [(1, 'a'), (2, 'b'), (3, 'c'), (3, 'd')]);
//! # Ok::<(), eddy_runtime::Error>(())
//! ```
//!
//! The output iterator yields `Result<(K, T)>`: reading a spilled run can fail. It holds the
//! memory and the spill files until dropped. [`ExternalSorter::metrics`] (or
//! [`SortedOutput::metrics`]) tells how many runs were spilled and how many merge levels ran.
//!
//! # Algorithm
//!
//! Records are buffered with their extracted key, flat in one `Vec<(K, T)>`, while the
//! reservation grows. When the budget refuses more, the buffer is sorted and written to disk
//! as a sorted *run* (applying the combiner to neighbours of equal key on the way), then
//! refilled. Keys with an exact prefix (integers, floats) are sorted by radix on their
//! normalized prefix (in place by American flag sort, or through a scratch copy when asked to
//! be stable); others by pattern-defeating quicksort
//! (`sort_unstable_by`) on prefix then full key, or a stable merge sort when asked to be
//! stable. At the end, runs are merged with a loser tree, at most [`MAX_FAN_IN`] at a time:
//! when there are more, consecutive groups are merged into longer runs first (multi-level
//! merge; consecutive, so ties still keep push order). If nothing spilled, the sorted buffer
//! is returned directly.
//!
//! # Memory
//!
//! The buffer reserves `size_of::<(K, T)>()` per record (twice that for a stable radix sort,
//! which needs a scratch copy; one and a half times for a stable comparison sort) plus whatever [`record_size`](ExternalSorter::record_size)
//! reports. A merge reserves one read buffer per input run and a write buffer up front,
//! choosing its fan-in from what it got (at least two runs, forced if need be, so tiny budgets
//! slow a sort down but never fail it). Runs live in a [`SpillDir`] removed when the sorter or
//! its output is dropped, also on error and panic.
//!
//! [`MemoryManager`]: eddy_runtime::memory::MemoryManager
//! [`SpillDir`]: eddy_runtime::memory::SpillDir
//! [`SortKey`]: crate::key::SortKey

mod buffer;
mod external;
mod merge;
mod radix;

pub use external::{ExternalSorter, PreKeyed, SortMetrics, SortedOutput, MAX_FAN_IN};
pub use merge::{merge_sorted, Merged};
pub use radix::{radix_sort_by_prefix, radix_sort_by_prefix_with, radix_sort_unstable_by_prefix};
