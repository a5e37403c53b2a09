//! The RocksDB backend against a `BTreeMap` model: random puts and deletes over a few key
//! groups, interleaved with snapshots (full and incremental) and restores from any earlier
//! snapshot, at the same parallelism or through a round trip via two subtasks. After every
//! step the backend's reads and scan must equal the model's.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use eddy_runtime::partition::KeyGroupRange;
use eddy_runtime::state::{
    RocksDbConfig, RocksDbStateBackend, RocksTable, SnapshotSource, StateDescriptor,
};
use eddy_runtime::time::ManualClock;
use proptest::prelude::*;

const ALL: KeyGroupRange = KeyGroupRange { start: 0, end: 127 };

type Model = BTreeMap<(u16, Vec<u8>), Vec<u8>>;

#[derive(Debug, Clone)]
enum Op {
    Put(u16, Vec<u8>, Vec<u8>),
    Delete(u16, Vec<u8>),
    Snapshot {
        incremental: bool,
    },
    /// Restore from the snapshot with this index (modulo how many exist).
    Restore(usize),
    /// Restore two half-range subtasks from a snapshot, snapshot them, and merge them back.
    RestoreViaTwoSubtasks(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let group = prop_oneof![Just(0u16), Just(63), Just(64), Just(127), 0..128u16];
    let key = prop::collection::vec(0..4u8, 0..3);
    prop_oneof![
        6 => (group.clone(), key.clone(), prop::collection::vec(any::<u8>(), 0..40))
            .prop_map(|(g, k, v)| Op::Put(g, k, v)),
        2 => (group, key).prop_map(|(g, k)| Op::Delete(g, k)),
        1 => any::<bool>().prop_map(|incremental| Op::Snapshot { incremental }),
        1 => any::<usize>().prop_map(Op::Restore),
        1 => any::<usize>().prop_map(Op::RestoreViaTwoSubtasks),
    ]
}

struct Harness {
    root: tempfile::TempDir,
    clock: ManualClock,
    next_id: u64,
    backend: RocksDbStateBackend,
    table: RocksTable,
}

fn config() -> RocksDbConfig {
    RocksDbConfig::default().memory_bytes(8 << 20)
}

impl Harness {
    fn new() -> Self {
        let root = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(0);
        let mut backend = RocksDbStateBackend::open_with_config(
            &root.path().join("work-0"),
            ALL,
            Arc::new(clock.clone()),
            config(),
        )
        .unwrap();
        let table = backend.table(&StateDescriptor::new("s")).unwrap();
        Harness {
            root,
            clock,
            next_id: 1,
            backend,
            table,
        }
    }

    fn snapshot(
        backend: &mut RocksDbStateBackend,
        root: &Path,
        id: u64,
        incremental: bool,
    ) -> SnapshotSource {
        let dir = root.join(format!("chk-{id}"));
        let shared = root.join("shared");
        let manifest = backend
            .snapshot(id, incremental)
            .unwrap()
            .upload(&dir, Some(&shared))
            .unwrap();
        backend.notify_checkpoint_complete(id);
        SnapshotSource::new(manifest, dir, Some(shared))
    }

    fn restore(&mut self, range: KeyGroupRange, sources: &[SnapshotSource]) -> RocksDbStateBackend {
        let id = self.next_id;
        self.next_id += 1;
        RocksDbStateBackend::restore_with_config(
            &self.root.path().join(format!("work-{id}")),
            range,
            Arc::new(self.clock.clone()),
            config(),
            sources,
        )
        .unwrap()
    }

    fn replace(&mut self, mut backend: RocksDbStateBackend) {
        self.table = backend.table(&StateDescriptor::new("s")).unwrap();
        self.backend = backend;
    }

    fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }
}

fn scan(table: &RocksTable) -> Model {
    table
        .scan()
        .map(|e| {
            let (g, k, v) = e.unwrap();
            ((g, k), v)
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn backend_matches_a_btreemap_across_snapshots_and_restores(
        ops in prop::collection::vec(op(), 1..40)
    ) {
        let mut h = Harness::new();
        let mut model = Model::new();
        let mut snapshots: Vec<(SnapshotSource, Model)> = Vec::new();
        for op in ops {
            match op {
                Op::Put(g, k, v) => {
                    h.table.put(g, &k, &v).unwrap();
                    prop_assert_eq!(h.table.get(g, &k).unwrap(), Some(v.clone()));
                    model.insert((g, k), v);
                }
                Op::Delete(g, k) => {
                    h.table.delete(g, &k).unwrap();
                    prop_assert_eq!(h.table.get(g, &k).unwrap(), None);
                    model.remove(&(g, k));
                }
                Op::Snapshot { incremental } => {
                    let id = h.next_id();
                    let root = h.root.path().to_path_buf();
                    let source = Harness::snapshot(&mut h.backend, &root, id, incremental);
                    snapshots.push((source, model.clone()));
                }
                Op::Restore(i) if !snapshots.is_empty() => {
                    let (source, saved) = snapshots[i % snapshots.len()].clone();
                    let backend = h.restore(ALL, &[source]);
                    h.replace(backend);
                    model = saved;
                }
                Op::RestoreViaTwoSubtasks(i) if !snapshots.is_empty() => {
                    let (source, saved) = snapshots[i % snapshots.len()].clone();
                    let mut halves = Vec::new();
                    for half in 0..2 {
                        let range = KeyGroupRange::for_subtask(128, 2, half);
                        let mut backend = h.restore(range, std::slice::from_ref(&source));
                        let table = backend.table(&StateDescriptor::new("s")).unwrap();
                        let expected: Model = saved
                            .iter()
                            .filter(|((g, _), _)| range.contains(*g as u32))
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect();
                        prop_assert_eq!(scan(&table), expected);
                        let id = h.next_id();
                        let root = h.root.path().to_path_buf();
                        halves.push(Harness::snapshot(&mut backend, &root, id, id.is_multiple_of(2)));
                    }
                    let backend = h.restore(ALL, &halves);
                    h.replace(backend);
                    model = saved;
                }
                Op::Restore(_) | Op::RestoreViaTwoSubtasks(_) => {}
            }
            prop_assert_eq!(scan(&h.table), model.clone());
        }
        for ((g, k), v) in &model {
            prop_assert_eq!(h.table.get(*g, k).unwrap(), Some(v.clone()));
        }
    }
}
