//! The memory budget of batch operators: a fixed number of bytes handed out in pages, and the
//! temporary directories operators spill to when the budget refuses them.
//!
//! A [`MemoryManager`] is created once per job (or per process) and cloned into every operator
//! that buffers data: sorts, hash tables, group buffers. An operator asks for memory *before*
//! it allocates, through a [`MemoryReservation`]; when [`MemoryReservation::try_grow`] says no,
//! the operator spills what it holds to a [`SpillDir`] and carries on with less. Reservations
//! are RAII: dropping one returns its pages, so a failed or panicking operator cannot leak
//! budget. Spill directories are RAII too: dropping one removes it with all its files, which
//! happens on success, on error and while unwinding from a panic.
//!
//! ```
//! use eddy_runtime::memory::MemoryManager;
//!
//! let memory = MemoryManager::new(1 << 20); // 1 MiB, in 32 KiB pages
//! let mut buffer = memory.reservation();
//! assert!(buffer.try_grow(100 << 10)); // 100 KiB: rounded up to 4 pages
//! assert_eq!(buffer.size(), 128 << 10);
//! assert!(!buffer.try_grow(1 << 20)); // refused: the operator should spill now
//! drop(buffer);
//! assert_eq!(memory.used(), 0);
//! ```
//!
//! # Memory
//!
//! The manager itself holds two atomics; a reservation is a pointer and a page count. Pages
//! are an accounting unit, not allocations: the operator allocates its own buffers, sized to
//! what it reserved, so the budget bounds what operators hold without a custom allocator.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use crate::error::{Error, Result};

/// The default page size: 32 KiB, as Flink's managed memory segments.
pub const DEFAULT_PAGE_SIZE: usize = 32 * 1024;

/// The default budget when the physical memory cannot be read: 1 GiB.
const FALLBACK_BUDGET: usize = 1 << 30;

/// A fixed memory budget shared by the operators of a job, handed out in pages.
///
/// Cheap to clone (an `Arc`), safe to share between task threads: reserving is one
/// compare-and-swap loop on an atomic counter.
#[derive(Clone, Debug)]
pub struct MemoryManager {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    page_size: usize,
    total_pages: usize,
    used_pages: AtomicUsize,
    peak_pages: AtomicUsize,
    spill_base: PathBuf,
    spilled_bytes: AtomicU64,
}

impl MemoryManager {
    /// A manager with a budget of `budget_bytes` (rounded down to whole pages, at least one
    /// page), [`DEFAULT_PAGE_SIZE`] pages, and spill directories under the system's temporary
    /// directory.
    pub fn new(budget_bytes: usize) -> Self {
        Self::builder().budget(budget_bytes).build()
    }

    /// A manager with the default budget: a quarter of the machine's physical memory (1 GiB
    /// when it cannot be read), like Flink's managed memory, a fraction of the process.
    pub fn with_default_budget() -> Self {
        Self::builder().build()
    }

    /// A builder for the budget, the page size and the spill location.
    pub fn builder() -> MemoryManagerBuilder {
        MemoryManagerBuilder::default()
    }

    /// The size of one page in bytes.
    pub fn page_size(&self) -> usize {
        self.inner.page_size
    }

    /// The whole budget in bytes (a whole number of pages).
    pub fn budget(&self) -> usize {
        self.inner.total_pages * self.inner.page_size
    }

    /// Bytes currently reserved by all reservations together.
    pub fn used(&self) -> usize {
        self.inner.used_pages.load(Ordering::Relaxed) * self.inner.page_size
    }

    /// Bytes still free to reserve (0 when forced reservations overdraw the budget).
    pub fn available(&self) -> usize {
        self.budget().saturating_sub(self.used())
    }

    /// The most bytes ever reserved at once.
    pub fn peak(&self) -> usize {
        self.inner.peak_pages.load(Ordering::Relaxed) * self.inner.page_size
    }

    /// The total number of bytes operators reported as spilled (see [`Self::record_spill`]).
    pub fn spilled_bytes(&self) -> u64 {
        self.inner.spilled_bytes.load(Ordering::Relaxed)
    }

    /// Lets an operator report bytes it wrote to disk, for observability.
    pub fn record_spill(&self, bytes: u64) {
        self.inner.spilled_bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    /// An empty reservation to grow from.
    pub fn reservation(&self) -> MemoryReservation {
        MemoryReservation {
            manager: self.clone(),
            pages: 0,
        }
    }

    /// A fresh temporary directory for one operator's spill files, removed (with its files)
    /// when the returned [`SpillDir`] is dropped.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the directory cannot be created.
    pub fn spill_dir(&self) -> Result<SpillDir> {
        let dir = tempfile::Builder::new()
            .prefix("eddy-spill-")
            .tempdir_in(&self.inner.spill_base)
            .map_err(|e| Error::io(&self.inner.spill_base, e))?;
        Ok(SpillDir {
            dir,
            next_file: AtomicUsize::new(0),
        })
    }

    /// The directory under which spill directories are created.
    pub fn spill_base(&self) -> &Path {
        &self.inner.spill_base
    }

    fn pages_for(&self, bytes: usize) -> usize {
        bytes.div_ceil(self.inner.page_size)
    }

    fn try_take(&self, pages: usize) -> bool {
        let used = &self.inner.used_pages;
        let mut current = used.load(Ordering::Relaxed);
        loop {
            let wanted = current + pages;
            if wanted > self.inner.total_pages {
                return false;
            }
            match used.compare_exchange_weak(current, wanted, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => {
                    self.inner.peak_pages.fetch_max(wanted, Ordering::Relaxed);
                    return true;
                }
                Err(actual) => current = actual,
            }
        }
    }

    fn force_take(&self, pages: usize) {
        let now = self.inner.used_pages.fetch_add(pages, Ordering::AcqRel) + pages;
        self.inner.peak_pages.fetch_max(now, Ordering::Relaxed);
    }

    fn give_back(&self, pages: usize) {
        self.inner.used_pages.fetch_sub(pages, Ordering::AcqRel);
    }
}

/// Configures a [`MemoryManager`].
#[derive(Clone, Debug, Default)]
pub struct MemoryManagerBuilder {
    budget: Option<usize>,
    page_size: Option<usize>,
    spill_base: Option<PathBuf>,
}

impl MemoryManagerBuilder {
    /// The budget in bytes [default: a quarter of physical memory].
    pub fn budget(mut self, bytes: usize) -> Self {
        self.budget = Some(bytes);
        self
    }

    /// The page size in bytes, a power of two of at least 1 KiB [default: 32 KiB].
    ///
    /// # Panics
    ///
    /// When `bytes` is not a power of two or is below 1 KiB.
    pub fn page_size(mut self, bytes: usize) -> Self {
        assert!(
            bytes.is_power_of_two() && bytes >= 1024,
            "page size must be a power of two of at least 1 KiB, not {bytes}"
        );
        self.page_size = Some(bytes);
        self
    }

    /// The directory under which spill directories are created [default: the system's
    /// temporary directory, `$TMPDIR` or `/tmp`].
    pub fn spill_dir(mut self, path: impl Into<PathBuf>) -> Self {
        self.spill_base = Some(path.into());
        self
    }

    /// The manager.
    pub fn build(self) -> MemoryManager {
        let page_size = self.page_size.unwrap_or(DEFAULT_PAGE_SIZE);
        let budget = self.budget.unwrap_or_else(default_budget);
        MemoryManager {
            inner: Arc::new(Inner {
                page_size,
                total_pages: (budget / page_size).max(1),
                used_pages: AtomicUsize::new(0),
                peak_pages: AtomicUsize::new(0),
                spill_base: self.spill_base.unwrap_or_else(std::env::temp_dir),
                spilled_bytes: AtomicU64::new(0),
            }),
        }
    }
}

/// A quarter of the physical memory, read from `/proc/meminfo`; 1 GiB elsewhere.
fn default_budget() -> usize {
    let total_kib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("MemTotal:"))
                .and_then(|rest| {
                    rest.trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse::<usize>()
                        .ok()
                })
        });
    match total_kib {
        Some(kib) if kib > 0 => kib.saturating_mul(1024) / 4,
        _ => FALLBACK_BUDGET,
    }
}

/// Pages of a [`MemoryManager`]'s budget held by one consumer; returned when dropped.
#[derive(Debug)]
pub struct MemoryReservation {
    manager: MemoryManager,
    pages: usize,
}

impl MemoryReservation {
    /// The reserved size in bytes (a whole number of pages).
    pub fn size(&self) -> usize {
        self.pages * self.manager.page_size()
    }

    /// The manager this reservation draws from.
    pub fn manager(&self) -> &MemoryManager {
        &self.manager
    }

    /// Reserves `additional` more bytes (rounded up to pages). False, and nothing reserved,
    /// when the budget cannot cover them: the caller should spill.
    pub fn try_grow(&mut self, additional: usize) -> bool {
        let pages = self.manager.pages_for(additional);
        if self.manager.try_take(pages) {
            self.pages += pages;
            true
        } else {
            false
        }
    }

    /// Grows the reservation to at least `total` bytes. False, and nothing changed, when the
    /// budget cannot cover them.
    pub fn try_resize_to_at_least(&mut self, total: usize) -> bool {
        let wanted = self.manager.pages_for(total);
        if wanted <= self.pages {
            return true;
        }
        let extra = wanted - self.pages;
        if self.manager.try_take(extra) {
            self.pages = wanted;
            true
        } else {
            false
        }
    }

    /// Reserves `additional` bytes even beyond the budget. Only for the minimum an operator
    /// needs to make progress at all (two merge buffers, one page of a hash table), so that a
    /// tiny budget slows a job down instead of failing it.
    pub fn force_grow(&mut self, additional: usize) {
        let pages = self.manager.pages_for(additional);
        self.manager.force_take(pages);
        self.pages += pages;
    }

    /// Shrinks the reservation to `total` bytes (rounded up to pages), returning the rest.
    pub fn shrink_to(&mut self, total: usize) {
        let keep = self.manager.pages_for(total).min(self.pages);
        self.manager.give_back(self.pages - keep);
        self.pages = keep;
    }

    /// Returns every page.
    pub fn free(&mut self) {
        self.shrink_to(0);
    }
}

impl Drop for MemoryReservation {
    fn drop(&mut self) {
        self.manager.give_back(self.pages);
    }
}

/// A temporary directory holding one operator's spill files; dropping it deletes it.
#[derive(Debug)]
pub struct SpillDir {
    dir: tempfile::TempDir,
    next_file: AtomicUsize,
}

impl SpillDir {
    /// The directory's path.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Creates a new, empty file in the directory, named `<stem>-<n>.spill`.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the file cannot be created.
    pub fn create_file(&self, stem: &str) -> Result<(PathBuf, File)> {
        let n = self.next_file.fetch_add(1, Ordering::Relaxed);
        let path = self.dir.path().join(format!("{stem}-{n}.spill"));
        let file = File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        Ok((path, file))
    }
}

/// Asks the kernel to back the memory of `buffer`'s whole capacity with transparent huge
/// pages, before it is touched: a sort buffer or hash table of hundreds of megabytes then
/// costs hundreds of page faults instead of a hundred thousand (Linux with THP in `madvise`
/// mode; elsewhere a no-op). Only the 2 MiB-aligned part of the allocation is advised.
pub fn advise_huge_pages<T>(buffer: &Vec<T>) {
    #[cfg(target_os = "linux")]
    {
        const HUGE_PAGE: usize = 2 << 20;
        let start = buffer.as_ptr() as usize;
        let bytes = buffer.capacity() * std::mem::size_of::<T>();
        let aligned_start = start.next_multiple_of(HUGE_PAGE);
        let aligned_end = (start + bytes) / HUGE_PAGE * HUGE_PAGE;
        if aligned_end > aligned_start {
            // SAFETY: the range lies inside the vector's own allocation, and MADV_HUGEPAGE
            // only changes how the kernel backs it, never its contents.
            unsafe {
                libc::madvise(
                    aligned_start as *mut libc::c_void,
                    aligned_end - aligned_start,
                    libc::MADV_HUGEPAGE,
                );
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = buffer;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_round_to_pages_and_return_them_on_drop() {
        let memory = MemoryManager::builder()
            .budget(10 * 1024)
            .page_size(1024)
            .build();
        let mut a = memory.reservation();
        assert!(a.try_grow(1));
        assert_eq!(a.size(), 1024);
        assert!(a.try_resize_to_at_least(4000));
        assert_eq!(a.size(), 4096);
        let mut b = memory.reservation();
        assert!(b.try_grow(6 * 1024));
        assert!(!b.try_grow(1), "the budget is exhausted");
        assert_eq!(memory.available(), 0);
        a.shrink_to(1024);
        assert_eq!(memory.used(), 7 * 1024);
        assert!(b.try_grow(3 * 1024));
        drop(a);
        drop(b);
        assert_eq!(memory.used(), 0);
        assert_eq!(memory.peak(), 10 * 1024);
    }

    #[test]
    fn forced_growth_overdraws_and_is_returned() {
        let memory = MemoryManager::builder()
            .budget(2048)
            .page_size(1024)
            .build();
        let mut r = memory.reservation();
        r.force_grow(4096);
        assert_eq!(memory.used(), 4096);
        assert_eq!(memory.available(), 0);
        r.free();
        assert_eq!(memory.used(), 0);
    }

    #[test]
    fn concurrent_reservations_never_exceed_the_budget() {
        let memory = MemoryManager::builder()
            .budget(64 * 1024)
            .page_size(1024)
            .build();
        std::thread::scope(|s| {
            for _ in 0..4 {
                let memory = memory.clone();
                s.spawn(move || {
                    for _ in 0..1000 {
                        let mut r = memory.reservation();
                        if r.try_grow(3 * 1024) {
                            assert!(memory.used() <= memory.budget());
                        }
                    }
                });
            }
        });
        assert_eq!(memory.used(), 0);
        assert!(memory.peak() <= memory.budget());
    }

    #[test]
    fn spill_dirs_are_removed_on_drop_and_while_unwinding() {
        let base = tempfile::tempdir().unwrap();
        let memory = MemoryManager::builder().spill_dir(base.path()).build();
        let dir = memory.spill_dir().unwrap();
        let (path, _file) = dir.create_file("run").unwrap();
        assert!(path.exists());
        drop(dir);
        assert!(!path.exists());
        let panicked = std::panic::catch_unwind(|| {
            let dir = memory.spill_dir().unwrap();
            dir.create_file("run").unwrap();
            panic!("operator failed");
        });
        assert!(panicked.is_err());
        assert_eq!(std::fs::read_dir(base.path()).unwrap().count(), 0);
    }

    #[test]
    fn the_default_budget_is_positive() {
        assert!(MemoryManager::with_default_budget().budget() >= DEFAULT_PAGE_SIZE);
    }
}
