//! Shared helpers of the DataSet integration tests: environments at several parallelisms
//! and memory budgets (down to a few pages, so every spilling path runs), and multiset
//! comparison.

#![allow(dead_code)]

use eddy_dataset::ExecutionEnvironment;
use eddy_runtime::memory::MemoryManager;

/// An environment at `parallelism` whose memory budget is `pages` pages of 1 KiB, spilling
/// under `spill`.
pub(crate) fn env(parallelism: u32, pages: usize, spill: &std::path::Path) -> ExecutionEnvironment {
    let env = ExecutionEnvironment::new();
    env.set_parallelism(parallelism);
    env.set_memory(
        MemoryManager::builder()
            .budget(pages * 1024)
            .page_size(1024)
            .spill_dir(spill)
            .build(),
    );
    env
}

/// Sorted copy, for comparing multisets.
pub(crate) fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

/// Asserts that nothing is left in the spill directory and no memory is reserved.
pub(crate) fn assert_clean(env: &ExecutionEnvironment, spill: &std::path::Path) {
    assert_eq!(env.memory().used(), 0, "memory still reserved");
    let left: Vec<_> = std::fs::read_dir(spill).unwrap().collect();
    assert!(left.is_empty(), "spill files left behind: {left:?}");
}
