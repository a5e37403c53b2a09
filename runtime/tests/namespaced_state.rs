//! Namespaced keyed state against a `HashMap<(key, namespace), value>` model, on the heap
//! backend (and on RocksDB with the `rocksdb` feature): isolation between namespaces and
//! keys, TTL, merging, and snapshots restored per key group at another parallelism.

use std::collections::HashMap;
use std::sync::Arc;

use eddy_runtime::checkpoint::{RestoredState, SnapshotWriter, SubtaskSnapshot, UploadTarget};
use eddy_runtime::partition::{hash_key, key_group_for_hash, KeyGroupRange};
use eddy_runtime::state::{
    namespaced_aggregating_state, namespaced_list_state, namespaced_map_state,
    namespaced_reducing_state, namespaced_value_state, AggregateFunction, HeapStateBackend,
    StateBackend, StateDescriptor, StateTtlConfig,
};
use eddy_runtime::time::{Clock, ManualClock};
use proptest::prelude::*;

/// The backends under test: heap always, RocksDB when built in.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Heap,
    #[cfg(feature = "rocksdb")]
    Rocks,
}

const KINDS: &[Kind] = &[
    Kind::Heap,
    #[cfg(feature = "rocksdb")]
    Kind::Rocks,
];

/// A backend of `kind` for key groups `range` of 128, restored from `restored`; the temp
/// directory (RocksDB) lives as long as the backend is used.
fn backend(
    kind: Kind,
    clock: Arc<dyn Clock>,
    range: KeyGroupRange,
    restored: RestoredState,
    dir: &tempfile::TempDir,
) -> Box<dyn StateBackend> {
    match kind {
        Kind::Heap => {
            let _ = (range, dir);
            Box::new(HeapStateBackend::restoring(clock, 128, restored))
        }
        #[cfg(feature = "rocksdb")]
        Kind::Rocks => Box::new(eddy_runtime::state::RocksKeyedBackend::new(
            dir.path().join(format!("db-{}-{}", range.start, range.end)),
            range,
            128,
            clock,
            restored,
        )),
    }
}

/// Takes a full snapshot of `backend` (running a file backend's upload into `dir`).
fn snapshot(
    backend: &mut dyn StateBackend,
    dir: &std::path::Path,
) -> (SubtaskSnapshot, Option<Vec<u8>>) {
    let mut writer =
        SnapshotWriter::for_checkpoint(KeyGroupRange { start: 0, end: 127 }, 128, 1, true);
    backend.snapshot(&mut writer).unwrap();
    let (mut snapshot, mut deferred) = writer.into_parts();
    // Heap state is serialized off the barrier: finish it as the coordinator would.
    deferred.complete_keyed(&mut snapshot).unwrap();
    let manifest = deferred.upload.map(|upload| {
        std::fs::create_dir_all(dir).unwrap();
        let target = UploadTarget {
            dir: dir.to_path_buf(),
            shared_dir: None,
        };
        upload(&target).unwrap().manifest
    });
    (snapshot, manifest)
}

/// The state of a subtask owning `range`, from a snapshot of one old subtask.
fn restore(
    range: KeyGroupRange,
    snapshot: &SubtaskSnapshot,
    manifest: &Option<Vec<u8>>,
    dir: &std::path::Path,
) -> RestoredState {
    let mut restored = RestoredState::assemble(range, [snapshot]);
    if let Some(manifest) = manifest {
        restored.add_backend_snapshot(manifest.clone(), dir.to_path_buf(), None);
    }
    restored
}

#[derive(Clone)]
struct Sum;
impl AggregateFunction<u32> for Sum {
    type Acc = u64;
    type Out = u64;
    fn create_accumulator(&self) -> u64 {
        0
    }
    fn add(&self, acc: &mut u64, value: &u32) {
        *acc += u64::from(*value);
    }
    fn get_result(&self, acc: &u64) -> u64 {
        *acc
    }
    fn merge(&self, a: u64, b: u64) -> u64 {
        a + b
    }
}

fn whole() -> KeyGroupRange {
    KeyGroupRange { start: 0, end: 127 }
}

#[test]
fn namespaces_and_keys_are_isolated_in_every_primitive() {
    for &kind in KINDS {
        let dir = tempfile::tempdir().unwrap();
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(0));
        let mut b = backend(kind, clock, whole(), RestoredState::empty(), &dir);
        let b = b.as_mut();
        let mut value =
            namespaced_value_state::<String, i64, u32>(b, StateDescriptor::new("v")).unwrap();
        let mut list =
            namespaced_list_state::<String, i64, u32>(b, StateDescriptor::new("l")).unwrap();
        let mut map =
            namespaced_map_state::<String, i64, u8, u32>(b, StateDescriptor::new("m")).unwrap();
        let mut reducing =
            namespaced_reducing_state::<String, i64, u32>(b, StateDescriptor::new("r"), |a, b| {
                a.max(b)
            })
            .unwrap();
        let mut sum =
            namespaced_aggregating_state::<String, i64, u32, _>(b, StateDescriptor::new("a"), Sum)
                .unwrap();
        let (a, bb) = ("a".to_string(), "b".to_string());
        for (key, ns, v) in [(&a, 0, 1), (&a, 10, 2), (&bb, 0, 3), (&a, 0, 4)] {
            value.put(key, &ns, v).unwrap();
            list.add(key, &ns, v).unwrap();
            map.put(key, &ns, v as u8, v).unwrap();
            reducing.add(key, &ns, v).unwrap();
            sum.add(key, &ns, &v).unwrap();
        }
        assert_eq!(value.get(&a, &0).unwrap(), Some(4), "{kind:?}");
        assert_eq!(value.get(&a, &10).unwrap(), Some(2));
        assert_eq!(value.get(&bb, &0).unwrap(), Some(3));
        assert_eq!(value.get(&bb, &10).unwrap(), None);
        assert_eq!(list.get(&a, &0).unwrap(), [1, 4]);
        assert_eq!(list.get(&a, &10).unwrap(), [2]);
        let mut entries = map.entries(&a, &0).unwrap();
        entries.sort();
        assert_eq!(entries, [(1, 1), (4, 4)]);
        assert_eq!(map.get(&a, &10, &2).unwrap(), Some(2));
        assert_eq!(map.get(&a, &10, &1).unwrap(), None);
        assert_eq!(reducing.get(&a, &0).unwrap(), Some(4));
        assert_eq!(sum.get(&a, &0).unwrap(), Some(5));
        assert_eq!(sum.get(&bb, &0).unwrap(), Some(3));
        let mut namespaces = value.namespaces(&a).unwrap();
        namespaces.sort();
        assert_eq!(namespaces, [0, 10]);

        // Merging namespaces (session windows): sources fold into the target and vanish.
        sum.merge_namespaces(&a, &20, &[0, 10]).unwrap();
        assert_eq!(sum.get(&a, &20).unwrap(), Some(7));
        assert_eq!(sum.get(&a, &0).unwrap(), None);
        list.merge_namespaces(&a, &0, &[10]).unwrap();
        assert_eq!(list.get(&a, &0).unwrap(), [1, 4, 2]);
        reducing.merge_namespaces(&a, &10, &[0]).unwrap();
        assert_eq!(reducing.get(&a, &10).unwrap(), Some(4));
        assert_eq!(reducing.get(&a, &0).unwrap(), None);

        // Clearing one namespace leaves the others.
        value.clear(&a, &0).unwrap();
        map.clear(&a, &0).unwrap();
        map.remove(&a, &10, &2).unwrap();
        assert_eq!(value.get(&a, &0).unwrap(), None);
        assert_eq!(value.get(&a, &10).unwrap(), Some(2));
        assert!(map.entries(&a, &0).unwrap().is_empty());
        assert!(map.entries(&a, &10).unwrap().is_empty());
        assert_eq!(map.get(&bb, &0, &3).unwrap(), Some(3));

        // retain visits a key's namespaces in place and drops what it rejects.
        value.put(&a, &30, 30).unwrap();
        value
            .retain(&a, |ns, v| {
                *v += 1;
                *ns != 10
            })
            .unwrap();
        assert_eq!(value.namespaces(&a).unwrap(), [30]);
        assert_eq!(value.get(&a, &30).unwrap(), Some(31));
        let mut modified = 0;
        value
            .modify(
                &bb,
                &0,
                || 100,
                |v| {
                    *v += 1;
                    modified = *v;
                },
            )
            .unwrap();
        assert_eq!(modified, 4);
        value.modify(&bb, &5, || 100, |v| *v += 1).unwrap();
        assert_eq!(value.take(&bb, &5).unwrap(), Some(101));
        assert_eq!(value.take(&bb, &5).unwrap(), None);
    }
}

#[test]
fn ttl_expires_each_key_and_namespace_on_its_own() {
    for &kind in KINDS {
        let dir = tempfile::tempdir().unwrap();
        let manual = ManualClock::new(0);
        let clock: Arc<dyn Clock> = Arc::new(manual.clone());
        let mut b = backend(kind, clock, whole(), RestoredState::empty(), &dir);
        let descriptor = StateDescriptor::new("t").with_ttl(StateTtlConfig::new(100));
        let mut value =
            namespaced_value_state::<u32, u32, u32>(b.as_mut(), descriptor.clone()).unwrap();
        let ttl_sum = StateDescriptor::new("s").with_ttl(StateTtlConfig::new(100));
        let mut sum =
            namespaced_aggregating_state::<u32, u32, u32, _>(b.as_mut(), ttl_sum, Sum).unwrap();
        value.put(&1, &0, 10).unwrap();
        value.put(&1, &1, 11).unwrap();
        sum.add(&1, &0, &5).unwrap();
        manual.advance(60);
        value.put(&1, &1, 12).unwrap(); // a write refreshes (1, 1) only
        manual.advance(40); // (1, 0) is 100 ms old: expired
        assert_eq!(value.get(&1, &0).unwrap(), None, "{kind:?}");
        assert_eq!(value.get(&1, &1).unwrap(), Some(12));
        assert_eq!(value.namespaces(&1).unwrap(), [1]);
        assert_eq!(sum.get(&1, &0).unwrap(), None);
        sum.add(&1, &0, &7).unwrap();
        assert_eq!(
            sum.get(&1, &0).unwrap(),
            Some(7),
            "an expired accumulator does not feed the aggregate"
        );
        manual.advance(100);
        let mut seen = Vec::new();
        value.for_each(|k, n, v| seen.push((*k, *n, *v))).unwrap();
        assert!(seen.is_empty(), "{kind:?}: {seen:?}");
        if matches!(kind, Kind::Heap) {
            value.put(&2, &0, 1).unwrap();
            manual.advance(100);
            assert_eq!(value.cleanup_expired(), 2, "(1, 1) and (2, 0)");
        }
    }
}

#[test]
fn snapshots_restore_per_key_group_at_another_parallelism() {
    for &kind in KINDS {
        let dir = tempfile::tempdir().unwrap();
        let manual = ManualClock::new(0);
        let clock: Arc<dyn Clock> = Arc::new(manual.clone());
        let mut old = backend(kind, clock.clone(), whole(), RestoredState::empty(), &dir);
        let plain = StateDescriptor::new("sums");
        let timed = StateDescriptor::new("recent").with_ttl(StateTtlConfig::new(100));
        let mut sums =
            namespaced_value_state::<u32, i64, u64>(old.as_mut(), plain.clone()).unwrap();
        let mut recent =
            namespaced_list_state::<u32, i64, String>(old.as_mut(), timed.clone()).unwrap();
        for key in 0..300u32 {
            for window in 0..(key % 4) as i64 {
                sums.put(&key, &(window * 10), u64::from(key) * 100 + window as u64)
                    .unwrap();
            }
            manual.set(i64::from(key) / 10);
            recent.add(&key, &7, format!("v{key}")).unwrap();
        }
        // Lists written at time 10 or before (keys below 110) have expired at 110.
        manual.set(110);
        let files = dir.path().join("chk-1");
        let (snap, manifest) = snapshot(old.as_mut(), &files);
        drop((sums, recent, old));

        let mut restored_entries = 0;
        for subtask in 0..3 {
            let range = KeyGroupRange::for_subtask(128, 3, subtask);
            let restored = restore(range, &snap, &manifest, &files);
            let mut fresh = backend(kind, clock.clone(), range, restored, &dir);
            let mut sums =
                namespaced_value_state::<u32, i64, u64>(fresh.as_mut(), plain.clone()).unwrap();
            let mut recent =
                namespaced_list_state::<u32, i64, String>(fresh.as_mut(), timed.clone()).unwrap();
            for key in 0..300u32 {
                let mine = range.contains(key_group_for_hash(hash_key(&key), 128));
                for window in 0..4i64 {
                    let expected = (mine && window < (key % 4) as i64)
                        .then(|| u64::from(key) * 100 + window as u64);
                    assert_eq!(
                        sums.get(&key, &(window * 10)).unwrap(),
                        expected,
                        "{kind:?} key {key} window {window}"
                    );
                    restored_entries += usize::from(expected.is_some());
                }
                let list = recent.get(&key, &7).unwrap();
                if mine && key >= 110 {
                    assert_eq!(list, [format!("v{key}")], "{kind:?} key {key}");
                } else {
                    assert!(list.is_empty(), "{kind:?} key {key}: {list:?}");
                }
            }
            // Every entry the new subtask holds is of its own key groups.
            sums.for_each(|key, _, _| {
                assert!(range.contains(key_group_for_hash(hash_key(key), 128)));
            })
            .unwrap();
        }
        assert_eq!(restored_entries, (0..300).map(|k| k % 4).sum::<usize>());
    }
}

/// One operation on namespaced value state.
#[derive(Debug, Clone)]
enum Op {
    Put(u8, u8, u16),
    Modify(u8, u8, u16),
    Take(u8, u8),
    /// Drops the key's namespaces below the bound and adds one to the others.
    Retain(u8, u8),
    Get(u8, u8),
    Namespaces(u8),
    Snapshot,
}

fn op() -> impl Strategy<Value = Op> {
    let k = 0u8..12;
    let n = 0u8..5;
    prop_oneof![
        3 => (k.clone(), n.clone(), any::<u16>()).prop_map(|(k, n, v)| Op::Put(k, n, v)),
        3 => (k.clone(), n.clone(), any::<u16>()).prop_map(|(k, n, v)| Op::Modify(k, n, v)),
        2 => (k.clone(), n.clone()).prop_map(|(k, n)| Op::Take(k, n)),
        1 => (k.clone(), n.clone()).prop_map(|(k, n)| Op::Retain(k, n)),
        2 => (k.clone(), n).prop_map(|(k, n)| Op::Get(k, n)),
        1 => k.prop_map(Op::Namespaces),
        1 => Just(Op::Snapshot),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(if cfg!(feature = "rocksdb") { 32 } else { 128 }))]

    /// Every operation agrees with a `HashMap<(key, namespace), value>`; a snapshot restored
    /// into a fresh backend (at parallelism 2, two subtasks together) holds the model.
    #[test]
    fn value_state_matches_a_map_of_key_and_namespace(ops in prop::collection::vec(op(), 1..80)) {
        for &kind in KINDS {
            let dir = tempfile::tempdir().unwrap();
            let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(0));
            let descriptor = StateDescriptor::new("p");
            let mut b = backend(kind, clock.clone(), whole(), RestoredState::empty(), &dir);
            let mut state =
                namespaced_value_state::<u8, u8, u32>(b.as_mut(), descriptor.clone()).unwrap();
            let mut model: HashMap<(u8, u8), u32> = HashMap::new();
            for (step, op) in ops.iter().enumerate() {
                match *op {
                    Op::Put(k, n, v) => {
                        state.put(&k, &n, u32::from(v)).unwrap();
                        model.insert((k, n), u32::from(v));
                    }
                    Op::Modify(k, n, v) => {
                        state.modify(&k, &n, || 7, |x| *x += u32::from(v)).unwrap();
                        *model.entry((k, n)).or_insert(7) += u32::from(v);
                    }
                    Op::Take(k, n) => {
                        prop_assert_eq!(state.take(&k, &n).unwrap(), model.remove(&(k, n)));
                    }
                    Op::Retain(k, bound) => {
                        state.retain(&k, |n, v| { *v += 1; *n >= bound }).unwrap();
                        model.retain(|(mk, mn), _| *mk != k || *mn >= bound);
                        for ((_, _), v) in model.iter_mut().filter(|((mk, _), _)| *mk == k) {
                            *v += 1;
                        }
                    }
                    Op::Get(k, n) => {
                        prop_assert_eq!(state.get(&k, &n).unwrap(), model.get(&(k, n)).copied());
                    }
                    Op::Namespaces(k) => {
                        let mut got = state.namespaces(&k).unwrap();
                        got.sort_unstable();
                        let mut want: Vec<u8> =
                            model.keys().filter(|(mk, _)| *mk == k).map(|(_, n)| *n).collect();
                        want.sort_unstable();
                        prop_assert_eq!(got, want);
                    }
                    Op::Snapshot => {
                        let files = dir.path().join(format!("chk-{step}"));
                        let (snap, manifest) = snapshot(b.as_mut(), &files);
                        let mut union: HashMap<(u8, u8), u32> = HashMap::new();
                        for subtask in 0..2 {
                            let range = KeyGroupRange::for_subtask(128, 2, subtask);
                            let restored = restore(range, &snap, &manifest, &files);
                            let mut fresh = backend(kind, clock.clone(), range, restored, &dir);
                            let mut part = namespaced_value_state::<u8, u8, u32>(
                                fresh.as_mut(),
                                descriptor.clone(),
                            )
                            .unwrap();
                            part.for_each(|k, n, v| {
                                union.insert((*k, *n), *v);
                            })
                            .unwrap();
                        }
                        prop_assert_eq!(&union, &model);
                    }
                }
            }
            let mut all: HashMap<(u8, u8), u32> = HashMap::new();
            state.for_each(|k, n, v| { all.insert((*k, *n), *v); }).unwrap();
            prop_assert_eq!(all, model);
        }
    }
}
