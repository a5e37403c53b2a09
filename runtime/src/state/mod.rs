//! Keyed state: values scoped to the key of the record being processed.
//!
//! A [`StateBackend`] decides where state lives. The heap backend ([`HeapStateBackend`], the
//! default) keeps live objects in hash maps: fastest, bounded by memory. Operators create
//! typed handles such as [`ValueState`] through functions that take `&mut dyn StateBackend`,
//! so that operator code does not change when another backend is configured.
//!
//! ## Which state to use
//! - [`ValueState`]: one value per key (a counter, the last event).
//! - [`ListState`]: a list per key (events waiting for a partner).
//! - [`MapState`]: a map per key (per-user counts of items).
//! - [`ReducingState`]: one value per key folded with a reduce function on every add.
//! - [`AggregatingState`]: an accumulator per key, fed by an [`AggregateFunction`].
//! - [`NamespacedValueState`] and its siblings: the same per key *and* namespace (window
//!   contents); see the [`namespaced`] module's guide.
//!
//! ```
//! use eddy_runtime::state::{value_state, HeapStateBackend, StateDescriptor};
//!
//! let mut backend = HeapStateBackend::default();
//! let mut counts = value_state::<String, u64>(&mut backend, StateDescriptor::new("count")).unwrap();
//! for word in ["a", "b", "a"] {
//!     counts.upsert(&word.to_string(), &mut |old| old.unwrap_or(0) + 1).unwrap();
//! }
//! assert_eq!(counts.get(&"a".to_string()).unwrap(), Some(2));
//! ```

mod aggregating;
mod heap;
mod list;
mod map;
pub mod namespaced;
mod reducing;
#[cfg(feature = "rocksdb")]
mod rocks_keyed;
#[cfg(feature = "rocksdb")]
mod rocksdb;
mod value;

#[cfg(feature = "rocksdb")]
pub use self::rocksdb::{
    Entries, Entry, FileLocation, PendingRocksSnapshot, RocksDbConfig, RocksDbStateBackend,
    RocksSnapshotManifest, RocksTable, SharedStateRegistry, SnapshotFile, SnapshotSource,
    SnapshotState, MANIFEST_FILE_NAME, MAX_KEY_GROUPS, ROCKSDB_SNAPSHOT_FORMAT_VERSION,
};
pub use aggregating::{aggregating_state, AggregateFunction, AggregatingState};
pub use heap::HeapStateBackend;
pub use list::{list_state, ListState};
pub use map::{map_state, MapState};
pub use namespaced::{
    namespaced_aggregating_state, namespaced_list_state, namespaced_map_state,
    namespaced_reducing_state, namespaced_value_state, namespaced_value_state_inline,
    NamespacedAggregatingState, NamespacedListState, NamespacedMapState, NamespacedReducingState,
    NamespacedValueState,
};
pub use reducing::{reducing_state, ReducingState};
pub use value::{value_state, ValueState};

#[cfg(feature = "rocksdb")]
pub use rocks_keyed::RocksKeyedBackend;

/// The state backend of one operator subtask, of `kind`, filled from `restored`.
///
/// # Errors
/// [`crate::Error::InvalidGraph`] when `kind` is RocksDB and this build has no RocksDB (the
/// `rocksdb` feature).
pub fn create_backend(
    kind: &StateBackendKind,
    clock: std::sync::Arc<dyn crate::time::Clock>,
    key_groups: crate::partition::KeyGroupRange,
    max_parallelism: u32,
    restored: RestoredState,
) -> crate::Result<Box<dyn StateBackend>> {
    match kind {
        StateBackendKind::Heap => Ok(Box::new(HeapStateBackend::restoring(
            clock,
            max_parallelism,
            restored,
        ))),
        #[cfg(feature = "rocksdb")]
        StateBackendKind::RocksDb { dir } => {
            let dir = dir
                .clone()
                .unwrap_or_else(|| std::env::temp_dir().join("eddy-rocksdb"));
            Ok(Box::new(RocksKeyedBackend::new(
                dir,
                key_groups,
                max_parallelism,
                clock,
                restored,
            )))
        }
        #[cfg(not(feature = "rocksdb"))]
        StateBackendKind::RocksDb { .. } => {
            let _ = (key_groups, restored);
            Err(crate::Error::InvalidGraph(
                "this build has no RocksDB state backend (build with the `rocksdb` feature)".into(),
            ))
        }
    }
}

use std::any::Any;

use crate::checkpoint::{RestoredState, SnapshotWriter};

/// A key read from a record: borrowed when it is a part of the record, owned when computed.
#[derive(Debug)]
pub enum KeyRef<'a, K> {
    /// A reference into the record.
    Borrowed(&'a K),
    /// A key computed from the record.
    Owned(K),
}

impl<K: Clone> KeyRef<'_, K> {
    /// The key as an owned value, copied only if borrowed.
    pub fn into_owned(self) -> K {
        match self {
            KeyRef::Borrowed(k) => k.clone(),
            KeyRef::Owned(k) => k,
        }
    }
}

impl<K> std::ops::Deref for KeyRef<'_, K> {
    type Target = K;
    fn deref(&self) -> &K {
        match self {
            KeyRef::Borrowed(k) => k,
            KeyRef::Owned(k) => k,
        }
    }
}

/// Names a piece of keyed state within an operator, with its optional time-to-live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateDescriptor {
    /// Unique within the operator.
    pub name: String,
    /// When set, entries expire this long after their last write (or read).
    pub ttl: Option<StateTtlConfig>,
}

impl StateDescriptor {
    /// A descriptor with the given name and no TTL.
    pub fn new(name: impl Into<String>) -> Self {
        StateDescriptor {
            name: name.into(),
            ttl: None,
        }
    }

    /// Lets entries expire as `ttl` says.
    pub fn with_ttl(mut self, ttl: StateTtlConfig) -> Self {
        self.ttl = Some(ttl);
        self
    }
}

/// When an entry's time-to-live restarts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TtlUpdate {
    /// On creation and on every write (Flink's default).
    #[default]
    OnCreateAndWrite,
    /// Also on every read.
    OnReadAndWrite,
}

/// State time-to-live (Flink's `StateTtlConfig`): an entry not written for `ttl_millis` of
/// processing time is gone. Expired entries are never returned; they are removed when
/// accessed, and by [`cleanup_expired`](ValueState::cleanup_expired) sweeps that keyed
/// operators run in the background.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateTtlConfig {
    /// Time-to-live in milliseconds of processing time.
    pub ttl_millis: i64,
    /// What restarts it.
    pub update: TtlUpdate,
}

impl StateTtlConfig {
    /// Entries live `ttl_millis` after their last write.
    pub fn new(ttl_millis: i64) -> Self {
        StateTtlConfig {
            ttl_millis,
            update: TtlUpdate::OnCreateAndWrite,
        }
    }

    /// Reads restart the time-to-live too.
    pub fn refreshed_on_read(mut self) -> Self {
        self.update = TtlUpdate::OnReadAndWrite;
        self
    }
}

/// Records that an operator declared state `descriptor`, refusing a second state of the same
/// name (the check every backend's [`StateBackend::register`] makes).
pub(crate) fn declare_once(
    declared: &mut std::collections::HashSet<String>,
    descriptor: &StateDescriptor,
) -> crate::Result<()> {
    if !declared.insert(descriptor.name.clone()) {
        return Err(crate::Error::InvalidGraph(format!(
            "state '{}' is declared twice in one operator",
            descriptor.name
        )));
    }
    Ok(())
}

/// Which [`StateBackend`] a job's operators get.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum StateBackendKind {
    /// [`HeapStateBackend`]: live objects in hash maps (the default).
    #[default]
    Heap,
    /// RocksDB in a working directory per subtask under `dir` (a temporary directory when
    /// `None`): state larger than memory, incremental checkpoints.
    RocksDb {
        /// Where the subtasks' databases live while the job runs.
        dir: Option<std::path::PathBuf>,
    },
}

/// Where keyed state lives. One backend per subtask; the runtime creates it, operators create
/// state handles in it when they open.
pub trait StateBackend: Send {
    /// A short name for logs and errors, such as `"heap"`.
    fn name(&self) -> &'static str;

    /// Records that state `descriptor` was created, rejecting a second state of the same name.
    ///
    /// # Errors
    /// [`crate::Error::InvalidGraph`] when the name is taken.
    fn register(&mut self, descriptor: &StateDescriptor) -> crate::Result<()>;

    /// Gives state constructors access to the concrete backend.
    fn as_any_mut(&mut self) -> &mut dyn Any;

    /// Writes every declared state into `writer`, per key group (at a checkpoint barrier).
    ///
    /// # Errors
    /// When a value cannot be serialized, or the backend cannot snapshot.
    fn snapshot(&mut self, _writer: &mut SnapshotWriter) -> crate::Result<()> {
        Err(crate::Error::Internal(format!(
            "the {} state backend cannot take snapshots",
            self.name()
        )))
    }

    /// Checkpoint `checkpoint_id` completed: an incremental backend bases its next snapshot
    /// on it.
    fn notify_checkpoint_complete(&mut self, _checkpoint_id: u64) {}

    /// The state this subtask was restored from (empty on a fresh start). Operators read
    /// what they keep outside keyed state from it when they open.
    fn restored(&self) -> &RestoredState {
        static EMPTY: std::sync::LazyLock<RestoredState> =
            std::sync::LazyLock::new(RestoredState::empty);
        &EMPTY
    }
}
