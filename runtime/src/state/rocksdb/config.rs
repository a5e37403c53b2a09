//! How a RocksDB instance is tuned: its memory budget and the options derived from it.
//!
//! ## Memory
//! One budget per instance bounds the block cache and the memtables together: memtables are
//! charged to the block cache through a write-buffer manager (as Flink's managed memory does),
//! so the instance never holds much more than [`RocksDbConfig::memory_bytes`], however many
//! states (column families) an operator declares. Index and filter blocks live in the same
//! cache instead of on the heap beside it.
//!
//! ## Throughput
//! Writes skip the write-ahead log: checkpoints, not the local files, make state durable, and a
//! failed subtask is always rebuilt from a checkpoint in a fresh directory. Bloom filters make
//! reads of absent keys (the first record of every key) cheap; LZ4 keeps compression fast.

use rocksdb::{BlockBasedOptions, Cache, DBCompressionType, Options, WriteBufferManager};

/// Tuning of a [`RocksDbStateBackend`](super::RocksDbStateBackend).
///
/// ```
/// use eddy_runtime::state::RocksDbConfig;
/// let config = RocksDbConfig::default().memory_bytes(64 << 20).write_buffer_ratio(0.25);
/// assert_eq!(config.memory(), 64 << 20);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RocksDbConfig {
    memory_bytes: usize,
    write_buffer_ratio: f64,
    background_jobs: i32,
    block_size: usize,
}

impl Default for RocksDbConfig {
    fn default() -> Self {
        RocksDbConfig {
            memory_bytes: 256 << 20,
            write_buffer_ratio: 0.5,
            background_jobs: 2,
            block_size: 8 << 10,
        }
    }
}

/// Below this a budget cannot hold a memtable and a few blocks.
const MIN_MEMORY_BYTES: usize = 8 << 20;

impl RocksDbConfig {
    /// Bounds block cache plus memtables of one instance (one subtask); default 256 MiB,
    /// at least 8 MiB.
    pub fn memory_bytes(mut self, bytes: usize) -> Self {
        self.memory_bytes = bytes.max(MIN_MEMORY_BYTES);
        self
    }

    /// The share of the memory that memtables may take (default 0.5, clamped to 0.1..=0.9);
    /// the rest caches blocks for reads.
    pub fn write_buffer_ratio(mut self, ratio: f64) -> Self {
        self.write_buffer_ratio = ratio.clamp(0.1, 0.9);
        self
    }

    /// Threads for flushes and compactions (default 2).
    pub fn background_jobs(mut self, jobs: i32) -> Self {
        self.background_jobs = jobs.max(1);
        self
    }

    /// The configured memory budget in bytes.
    pub fn memory(&self) -> usize {
        self.memory_bytes
    }

    /// Bytes the memtables of all column families may take together.
    fn write_buffer_total(&self) -> usize {
        (self.memory_bytes as f64 * self.write_buffer_ratio) as usize
    }

    /// The size of one memtable: a quarter of the memtable budget, so that a column family can
    /// fill one while another flushes, up to RocksDB's usual 64 MiB.
    fn write_buffer_size(&self) -> usize {
        (self.write_buffer_total() / 4).clamp(1 << 20, 64 << 20)
    }

    /// The shared resources every column family of one instance uses.
    pub(super) fn resources(&self) -> Resources {
        let cache = Cache::new_lru_cache(self.memory_bytes);
        let write_buffers = WriteBufferManager::new_write_buffer_manager_with_cache(
            self.write_buffer_total(),
            false,
            cache.clone(),
        );
        Resources {
            cache,
            write_buffers,
        }
    }

    /// Options of the database as a whole.
    pub(super) fn db_options(&self, resources: &Resources) -> Options {
        let mut opts = Options::default();
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        opts.set_max_background_jobs(self.background_jobs);
        opts.set_write_buffer_manager(&resources.write_buffers);
        opts.set_bytes_per_sync(1 << 20);
        // The local directory is scratch space; a short info log is enough to debug it.
        opts.set_keep_log_file_num(2);
        opts.set_max_log_file_size(4 << 20);
        opts.set_stats_dump_period_sec(0);
        opts.set_skip_stats_update_on_db_open(true);
        opts
    }

    /// Options of one column family (one state).
    pub(super) fn cf_options(&self, resources: &Resources) -> Options {
        let mut opts = Options::default();
        opts.set_write_buffer_size(self.write_buffer_size());
        opts.set_max_write_buffer_number(3);
        opts.set_target_file_size_base(32 << 20);
        opts.set_max_bytes_for_level_base(256 << 20);
        opts.set_level_compaction_dynamic_level_bytes(true);
        opts.set_compression_type(DBCompressionType::Lz4);
        opts.set_bottommost_compression_type(DBCompressionType::Lz4);
        let mut table = BlockBasedOptions::default();
        table.set_block_cache(&resources.cache);
        table.set_block_size(self.block_size);
        table.set_bloom_filter(10.0, false);
        table.set_cache_index_and_filter_blocks(true);
        table.set_pin_l0_filter_and_index_blocks_in_cache(true);
        opts.set_block_based_table_factory(&table);
        opts
    }
}

/// The block cache and write-buffer manager shared by all column families of one instance.
pub(super) struct Resources {
    cache: Cache,
    write_buffers: WriteBufferManager,
}
