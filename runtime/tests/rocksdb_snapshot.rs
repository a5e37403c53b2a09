//! RocksDB snapshots end to end: restore at the same range and at other parallelisms (every
//! key lands where its key group says), incremental uploads and the shared-file registry,
//! savepoints moved elsewhere, and damaged files caught by their checksums.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use eddy_runtime::partition::{hash_key, key_group_for_hash, KeyGroupRange};
use eddy_runtime::state::{
    FileLocation, RocksDbConfig, RocksDbStateBackend, RocksSnapshotManifest, RocksTable,
    SharedStateRegistry, SnapshotSource, StateDescriptor, StateTtlConfig,
};
use eddy_runtime::time::ManualClock;

const MAX_PARALLELISM: u32 = 128;
const ALL: KeyGroupRange = KeyGroupRange { start: 0, end: 127 };

type Contents = BTreeMap<(u16, Vec<u8>), Vec<u8>>;

/// Memtables of 8 MiB: the test data fits in one, so flushes happen only at snapshots and
/// each snapshot adds exactly one SST file (no background compaction to race with).
fn config() -> RocksDbConfig {
    RocksDbConfig::default().memory_bytes(64 << 20)
}

fn open(dir: &Path, range: KeyGroupRange, clock: &ManualClock) -> RocksDbStateBackend {
    RocksDbStateBackend::open_with_config(dir, range, Arc::new(clock.clone()), config()).unwrap()
}

fn restore(
    dir: &Path,
    range: KeyGroupRange,
    clock: &ManualClock,
    sources: &[SnapshotSource],
) -> RocksDbStateBackend {
    RocksDbStateBackend::restore_with_config(dir, range, Arc::new(clock.clone()), config(), sources)
        .unwrap()
}

fn group_of(key: u64) -> u16 {
    key_group_for_hash(hash_key(&key), MAX_PARALLELISM) as u16
}

/// A value that differs per key and per version, and does not compress away.
fn value(key: u64, version: u64) -> Vec<u8> {
    let mut x = key.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ version.wrapping_mul(0xc2b2_ae3d);
    (0..8)
        .flat_map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x.to_le_bytes()
        })
        .collect()
}

/// Puts keys `keys` (those of `range`) into `table`; returns what it wrote.
fn fill(table: &RocksTable, keys: impl Iterator<Item = u64>, range: KeyGroupRange) -> Contents {
    let mut written = Contents::new();
    for key in keys {
        let group = group_of(key);
        if range.contains(group as u32) {
            let v = value(key, 0);
            table.put(group, &key.to_be_bytes(), &v).unwrap();
            written.insert((group, key.to_be_bytes().to_vec()), v);
        }
    }
    written
}

fn contents(table: &RocksTable) -> Contents {
    table
        .scan()
        .map(|e| {
            let (group, key, value) = e.unwrap();
            ((group, key), value)
        })
        .collect()
}

/// Snapshots `backend` as checkpoint `id` into `root/chk-<id>` (shared files in
/// `root/shared` when incremental) and reports it complete.
fn checkpoint(
    backend: &mut RocksDbStateBackend,
    root: &Path,
    id: u64,
    incremental: bool,
) -> SnapshotSource {
    let pending = backend.snapshot(id, incremental).unwrap();
    let dir = root.join(format!("chk-{id}"));
    let shared = root.join("shared");
    // The upload runs on another thread, as in a job.
    let manifest = std::thread::spawn({
        let (dir, shared) = (dir.clone(), shared.clone());
        move || pending.upload(&dir, Some(&shared)).unwrap()
    })
    .join()
    .unwrap();
    backend.notify_checkpoint_complete(id);
    SnapshotSource::new(manifest, dir, Some(shared))
}

#[test]
fn restore_at_the_same_range_brings_back_every_state() {
    let root = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(10_000);
    let mut backend = open(&root.path().join("a"), ALL, &clock);
    let plain = backend.table(&StateDescriptor::new("plain")).unwrap();
    let ttl_descriptor = StateDescriptor::new("ttl").with_ttl(StateTtlConfig::new(1_000));
    let with_ttl = backend.table(&ttl_descriptor).unwrap();
    let expected = fill(&plain, 0..3_000, ALL);
    let expected_ttl = fill(&with_ttl, 0..500, ALL);

    let source = checkpoint(&mut backend, root.path(), 1, true);
    // Writes after the barrier are not part of the snapshot.
    plain.put(0, b"late", b"x").unwrap();

    let mut restored = restore(&root.path().join("b"), ALL, &clock, &[source]);
    let plain2 = restored.table(&StateDescriptor::new("plain")).unwrap();
    let ttl2 = restored.table(&ttl_descriptor).unwrap();
    assert_eq!(contents(&plain2), expected);
    assert_eq!(contents(&ttl2), expected_ttl);
    // Write times survive the restore: the TTL keeps counting from the original writes.
    clock.advance(1_000);
    assert_eq!(ttl2.scan().count(), 0);
    assert_eq!(contents(&plain2).len(), expected.len());
}

#[test]
fn a_state_restored_with_ttl_cannot_be_declared_without() {
    let root = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(0);
    let mut backend = open(&root.path().join("a"), ALL, &clock);
    let table = backend
        .table(&StateDescriptor::new("s").with_ttl(StateTtlConfig::new(10)))
        .unwrap();
    table.put(1, b"k", b"v").unwrap();
    let source = checkpoint(&mut backend, root.path(), 1, false);
    let mut restored = restore(&root.path().join("b"), ALL, &clock, &[source]);
    let err = restored.table(&StateDescriptor::new("s")).unwrap_err();
    assert!(err.to_string().contains("time-to-live"), "{err}");
}

fn ranges(parallelism: u32) -> Vec<KeyGroupRange> {
    (0..parallelism)
        .map(|i| KeyGroupRange::for_subtask(MAX_PARALLELISM, parallelism, i))
        .collect()
}

/// Runs `old` subtasks, snapshots them, restores `new` subtasks from all snapshots, and
/// checks that each new subtask holds exactly the keys of its key groups.
fn rescale(old: u32, new: u32) {
    let root = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(0);
    let mut expected = Contents::new();
    let mut sources = Vec::new();
    for (i, range) in ranges(old).into_iter().enumerate() {
        let mut backend = open(&root.path().join(format!("old-{i}")), range, &clock);
        let table = backend.table(&StateDescriptor::new("s")).unwrap();
        expected.extend(fill(&table, 0..4_000, range));
        // One state only some subtasks have.
        if i == 0 {
            backend
                .table(&StateDescriptor::new("only-first"))
                .unwrap()
                .put(range.start as u16, b"k", b"v")
                .unwrap();
        }
        let sub_root = root.path().join(format!("chk-of-{i}"));
        sources.push(checkpoint(&mut backend, &sub_root, 1, i % 2 == 0));
    }
    let mut seen = Contents::new();
    for (i, range) in ranges(new).into_iter().enumerate() {
        let mut backend = restore(
            &root.path().join(format!("new-{i}")),
            range,
            &clock,
            &sources,
        );
        let table = backend.table(&StateDescriptor::new("s")).unwrap();
        let got = contents(&table);
        let want: Contents = expected
            .iter()
            .filter(|((group, _), _)| range.contains(*group as u32))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        assert_eq!(got.len(), want.len(), "subtask {i} of {new}");
        assert!(got == want, "subtask {i} of {new} holds other entries");
        // Point reads agree with the scan.
        for ((group, key), v) in want.iter().take(50) {
            assert_eq!(table.get(*group, key).unwrap().as_ref(), Some(v));
        }
        let first = backend.table(&StateDescriptor::new("only-first")).unwrap();
        let first_entries = first.scan().count();
        assert_eq!(
            first_entries,
            usize::from(range.contains(0)),
            "subtask {i} of {new}"
        );
        seen.extend(got);
    }
    assert_eq!(seen, expected);
}

#[test]
fn restore_one_snapshot_into_two_subtasks() {
    rescale(1, 2);
}

#[test]
fn restore_two_snapshots_into_one_subtask() {
    rescale(2, 1);
}

#[test]
fn restore_two_snapshots_into_three_subtasks() {
    rescale(2, 3);
}

fn shared_files(manifest: &RocksSnapshotManifest) -> BTreeMap<String, u64> {
    manifest
        .files
        .iter()
        .filter_map(|f| match &f.location {
            FileLocation::Shared { key, uploaded_by } => Some((key.clone(), *uploaded_by)),
            FileLocation::Private => None,
        })
        .collect()
}

/// The names in `dir`, sorted; none when it does not exist.
fn files_in(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn incremental_snapshots_upload_only_new_files_and_the_registry_frees_unused_ones() {
    let root = tempfile::tempdir().unwrap();
    let shared = root.path().join("shared");
    let clock = ManualClock::new(0);
    let mut backend = open(&root.path().join("a"), ALL, &clock);
    let table = backend.table(&StateDescriptor::new("s")).unwrap();
    let mut expected = fill(&table, 0..20_000, ALL);
    let mut registry = SharedStateRegistry::new(&shared);

    let first = checkpoint(&mut backend, root.path(), 1, true);
    let m1 = &first.manifest;
    assert!(shared_files(m1).values().all(|&by| by == 1));
    assert_eq!(m1.uploaded_bytes(), m1.total_bytes());
    registry.register(m1).unwrap();

    // Change 1% of the keys.
    for key in (0..20_000u64).step_by(100) {
        let (group, v) = (group_of(key), value(key, 1));
        table.put(group, &key.to_be_bytes(), &v).unwrap();
        expected.insert((group, key.to_be_bytes().to_vec()), v);
    }
    let second = checkpoint(&mut backend, root.path(), 2, true);
    let m2 = &second.manifest;
    let (old, new): (Vec<_>, Vec<_>) = shared_files(m2).into_iter().partition(|(_, by)| *by == 1);
    assert_eq!(new.len(), 1, "one new SST file: the flushed changes");
    assert!(old
        .iter()
        .all(|(key, _)| shared_files(m1).contains_key(key)));
    let new_sst_bytes: u64 = m2
        .shared_files()
        .filter(|f| f.shared_key() == Some(new[0].0.as_str()))
        .map(|f| f.size)
        .sum();
    assert!(
        new_sst_bytes * 20 < m1.total_bytes(),
        "new SST {new_sst_bytes} bytes, full snapshot {}",
        m1.total_bytes()
    );
    registry.register(m2).unwrap();
    // Checkpoint 2 uses every file of checkpoint 1: nothing to delete.
    assert_eq!(registry.release(1).unwrap(), Vec::<String>::new());

    // A full compaction rewrites everything: checkpoint 3 shares nothing with 2.
    table.compact().unwrap();
    let third = checkpoint(&mut backend, root.path(), 3, true);
    let m3 = &third.manifest;
    assert!(shared_files(m3).values().all(|&by| by == 3));
    registry.register(m3).unwrap();
    let mut freed = registry.release(2).unwrap();
    freed.sort();
    let mut unused: Vec<String> = shared_files(m2).into_keys().collect();
    unused.sort();
    assert_eq!(freed, unused);
    let mut live: Vec<String> = shared_files(m3).into_keys().collect();
    live.sort();
    assert_eq!(files_in(&shared), live);
    for key in &live {
        assert_eq!(registry.reference_count(key), 1);
    }

    // The surviving checkpoint restores fine, and after a restart the registry is rebuilt
    // from the retained manifests; a stray upload is an orphan.
    let mut restored = restore(
        &root.path().join("b"),
        ALL,
        &clock,
        std::slice::from_ref(&third),
    );
    assert_eq!(
        contents(&restored.table(&StateDescriptor::new("s")).unwrap()),
        expected
    );
    std::fs::write(
        shared.join("stray-000099.sst"),
        b"left by an aborted upload",
    )
    .unwrap();
    let rebuilt = SharedStateRegistry::rebuild(&shared, [m3]);
    assert_eq!(
        rebuilt.delete_orphans().unwrap(),
        vec!["stray-000099.sst".to_string()]
    );
    assert_eq!(files_in(&shared), live);

    // A manifest that builds on a file already freed must be declined.
    let mut stale = m2.clone();
    stale.checkpoint_id = 4;
    let err = registry.register(&stale).unwrap_err();
    assert!(err.to_string().contains("decline checkpoint 4"), "{err}");
}

#[test]
fn after_a_restore_incremental_snapshots_reference_the_restored_files() {
    let root = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(0);
    let mut backend = open(&root.path().join("a"), ALL, &clock);
    let table = backend.table(&StateDescriptor::new("s")).unwrap();
    fill(&table, 0..5_000, ALL);
    let first = checkpoint(&mut backend, root.path(), 1, true);
    drop((table, backend));

    let mut restored = restore(
        &root.path().join("b"),
        ALL,
        &clock,
        std::slice::from_ref(&first),
    );
    let table = restored.table(&StateDescriptor::new("s")).unwrap();
    table.put(0, b"new", b"entry").unwrap();
    let second = checkpoint(&mut restored, root.path(), 2, true);
    let reused: Vec<_> = shared_files(&second.manifest)
        .into_iter()
        .filter(|(_, by)| *by == 1)
        .collect();
    assert_eq!(reused.len(), shared_files(&first.manifest).len());
    assert!(second.manifest.uploaded_bytes() * 10 < first.manifest.total_bytes());
}

#[test]
fn a_savepoint_is_self_contained_and_can_be_moved() {
    let root = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(0);
    let mut backend = open(&root.path().join("a"), ALL, &clock);
    let table = backend.table(&StateDescriptor::new("s")).unwrap();
    let expected = fill(&table, 0..2_000, ALL);
    let pending = backend.snapshot(7, false).unwrap();
    let first_place = root.path().join("savepoint");
    let manifest = pending
        .upload(&first_place, Some(&root.path().join("shared")))
        .unwrap();
    assert!(manifest.is_self_contained());
    assert!(!root.path().join("shared").exists());

    let moved = root.path().join("elsewhere");
    std::fs::rename(&first_place, &moved).unwrap();
    let source = SnapshotSource::from_dir(&moved, None).unwrap();
    assert_eq!(source.manifest, manifest);
    let mut restored = restore(&root.path().join("b"), ALL, &clock, &[source]);
    assert_eq!(
        contents(&restored.table(&StateDescriptor::new("s")).unwrap()),
        expected
    );
}

/// A self-contained snapshot and the path of its largest SST file.
fn savepoint_with_data(root: &Path, clock: &ManualClock) -> (SnapshotSource, PathBuf) {
    let mut backend = open(&root.join("a"), ALL, clock);
    let table = backend.table(&StateDescriptor::new("s")).unwrap();
    fill(&table, 0..2_000, ALL);
    let dir = root.join("savepoint");
    let manifest = backend
        .snapshot(1, false)
        .unwrap()
        .upload(&dir, None)
        .unwrap();
    let sst = manifest
        .files
        .iter()
        .filter(|f| f.is_sst())
        .max_by_key(|f| f.size)
        .unwrap();
    let path = dir.join(&sst.name);
    (SnapshotSource::new(manifest, dir, None), path)
}

fn restore_err(root: &Path, clock: &ManualClock, source: &SnapshotSource) -> String {
    let work = root.join("restore");
    let err = RocksDbStateBackend::restore_with_config(
        &work,
        ALL,
        Arc::new(clock.clone()),
        config(),
        std::slice::from_ref(source),
    )
    .unwrap_err();
    // A failed restore leaves nothing behind.
    assert_eq!(files_in(&work), Vec::<String>::new());
    err.to_string()
}

#[test]
fn a_flipped_byte_is_caught_by_the_checksum() {
    let root = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(0);
    let (source, sst) = savepoint_with_data(root.path(), &clock);
    let mut bytes = std::fs::read(&sst).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x10;
    std::fs::write(&sst, &bytes).unwrap();
    let err = restore_err(root.path(), &clock, &source);
    assert!(err.contains("checksum mismatch"), "{err}");
    assert!(err.contains(&*sst.to_string_lossy()), "{err}");
}

#[test]
fn a_truncated_file_is_caught_by_its_size() {
    let root = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(0);
    let (source, sst) = savepoint_with_data(root.path(), &clock);
    let bytes = std::fs::read(&sst).unwrap();
    std::fs::write(&sst, &bytes[..bytes.len() - 100]).unwrap();
    let err = restore_err(root.path(), &clock, &source);
    assert!(err.contains("truncated"), "{err}");
}

#[test]
fn a_missing_file_or_foreign_manifest_is_named() {
    let root = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(0);
    let (source, sst) = savepoint_with_data(root.path(), &clock);
    std::fs::remove_file(&sst).unwrap();
    let err = restore_err(root.path(), &clock, &source);
    assert!(err.contains("missing"), "{err}");

    let mut foreign = source.clone();
    foreign.manifest.format_version = 2;
    let err = restore_err(root.path(), &clock, &foreign);
    assert!(err.contains("format version 2"), "{err}");

    let mut escaping = source;
    escaping.manifest.files[0].name = "../../etc/passwd".into();
    let err = restore_err(root.path(), &clock, &escaping);
    assert!(err.contains("not a plain name"), "{err}");
}
