//! The RocksDB backend's raw tables: point reads and writes, scans in key-group order,
//! prefix scans, TTL, and the rules on declaring states.

use std::sync::Arc;

use eddy_runtime::partition::KeyGroupRange;
use eddy_runtime::state::{
    RocksDbConfig, RocksDbStateBackend, StateBackend, StateDescriptor, StateTtlConfig,
};
use eddy_runtime::time::ManualClock;

const ALL: KeyGroupRange = KeyGroupRange { start: 0, end: 127 };

fn backend(dir: &std::path::Path, clock: &ManualClock) -> RocksDbStateBackend {
    let config = RocksDbConfig::default().memory_bytes(16 << 20);
    RocksDbStateBackend::open_with_config(dir, ALL, Arc::new(clock.clone()), config).unwrap()
}

#[test]
fn put_get_delete_and_scan_in_key_group_order() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(0);
    let mut backend = backend(dir.path(), &clock);
    assert_eq!(backend.name(), "rocksdb");
    let table = backend.table(&StateDescriptor::new("t")).unwrap();

    assert_eq!(table.get(3, b"a").unwrap(), None);
    table.put(3, b"a", b"1").unwrap();
    table.put(3, b"b", b"2").unwrap();
    table.put(1, b"z", b"3").unwrap();
    table.put(100, b"a", b"4").unwrap();
    table.put(3, b"a", b"5").unwrap(); // overwrite
    assert_eq!(table.get(3, b"a").unwrap(), Some(b"5".to_vec()));
    // The same key in another key group is another entry.
    assert_eq!(table.get(4, b"a").unwrap(), None);

    table.delete(3, b"b").unwrap();
    table.delete(3, b"never-written").unwrap();
    assert_eq!(table.get(3, b"b").unwrap(), None);

    let all: Vec<_> = table.scan().collect::<Result<_, _>>().unwrap();
    assert_eq!(
        all,
        vec![
            (1, b"z".to_vec(), b"3".to_vec()),
            (3, b"a".to_vec(), b"5".to_vec()),
            (100, b"a".to_vec(), b"4".to_vec()),
        ]
    );
}

#[test]
fn states_are_separate_and_handles_share_one_column_family() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(0);
    let mut backend = backend(dir.path(), &clock);
    let a = backend.table(&StateDescriptor::new("a")).unwrap();
    let b = backend.table(&StateDescriptor::new("b")).unwrap();
    a.put(0, b"k", b"from a").unwrap();
    assert_eq!(b.get(0, b"k").unwrap(), None);
    let a_again = backend.table(&StateDescriptor::new("a")).unwrap();
    assert_eq!(a_again.get(0, b"k").unwrap(), Some(b"from a".to_vec()));
    let clone = a.clone();
    clone.put(0, b"k2", b"x").unwrap();
    assert_eq!(a.get(0, b"k2").unwrap(), Some(b"x".to_vec()));
    // A state named like RocksDB's default column family is just another state.
    let default = backend.table(&StateDescriptor::new("default")).unwrap();
    assert_eq!(default.get(0, b"k").unwrap(), None);
    assert_eq!(
        backend.state_names().collect::<Vec<_>>(),
        vec!["a", "b", "default"]
    );
}

#[test]
fn prefix_scan_stays_within_its_key_group_and_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(0);
    let mut backend = backend(dir.path(), &clock);
    let map = backend.table(&StateDescriptor::new("map")).unwrap();
    for (group, key) in [
        (5, &b"user1/apple"[..]),
        (5, b"user1/pear"),
        (5, b"user10/fig"),
        (5, b"user2/kiwi"),
        (6, b"user1/plum"),
        (4, b"user1/lime"),
    ] {
        map.put(group, key, group.to_string().as_bytes()).unwrap();
    }
    let keys: Vec<_> = map
        .scan_prefix(5, b"user1/")
        .map(|e| e.unwrap().1)
        .collect();
    assert_eq!(keys, vec![b"user1/apple".to_vec(), b"user1/pear".to_vec()]);
    // An empty prefix is the whole key group.
    assert_eq!(map.scan_prefix(5, b"").count(), 4);
    // The last key group with an all-0xff prefix has no upper bound to compute.
    map.put(127, &[0xff, 0xff, 1], b"x").unwrap();
    assert_eq!(map.scan_prefix(127, &[0xff, 0xff]).count(), 1);
    assert_eq!(map.scan_prefix(9, b"user1/").count(), 0);
}

#[test]
fn ttl_hides_expired_values_and_reads_can_refresh_them() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(1_000);
    let mut backend = backend(dir.path(), &clock);
    let on_write = backend
        .table(&StateDescriptor::new("w").with_ttl(StateTtlConfig::new(100)))
        .unwrap();
    let on_read = backend
        .table(&StateDescriptor::new("r").with_ttl(StateTtlConfig::new(100).refreshed_on_read()))
        .unwrap();
    on_write.put(1, b"k", b"v").unwrap();
    on_read.put(1, b"k", b"v").unwrap();

    clock.advance(60);
    assert_eq!(on_write.get(1, b"k").unwrap(), Some(b"v".to_vec()));
    assert_eq!(on_read.get(1, b"k").unwrap(), Some(b"v".to_vec())); // refreshed at 1060
    clock.advance(50); // 1110: 110 ms after the write, 50 after the read
    assert_eq!(on_write.get(1, b"k").unwrap(), None);
    assert_eq!(on_write.scan().count(), 0);
    assert_eq!(on_read.get(1, b"k").unwrap(), Some(b"v".to_vec()));
    assert_eq!(on_read.scan().count(), 1);

    // A write restarts the time-to-live.
    on_write.put(1, b"k", b"v2").unwrap();
    clock.advance(99);
    assert_eq!(on_write.get(1, b"k").unwrap(), Some(b"v2".to_vec()));
    clock.advance(1);
    assert_eq!(on_write.get(1, b"k").unwrap(), None);
}

#[test]
fn declaring_a_state_twice_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(0);
    let mut backend = backend(dir.path(), &clock);
    backend.register(&StateDescriptor::new("s")).unwrap();
    let err = backend.register(&StateDescriptor::new("s")).unwrap_err();
    assert!(err.to_string().contains("declared twice"), "{err}");
}

#[test]
fn key_groups_beyond_the_supported_range_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let range = KeyGroupRange {
        start: 0,
        end: 40_000,
    };
    let err =
        RocksDbStateBackend::open(dir.path(), range, Arc::new(ManualClock::new(0))).unwrap_err();
    assert!(err.to_string().contains("32768"), "{err}");
}

#[test]
fn the_local_directory_is_removed_with_the_last_handle() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(0);
    let mut backend = backend(dir.path(), &clock);
    let table = backend.table(&StateDescriptor::new("t")).unwrap();
    let local = backend.directory().to_path_buf();
    assert!(local.starts_with(dir.path()) && local.exists());
    drop(backend);
    table.put(0, b"still", b"usable").unwrap();
    assert_eq!(table.get(0, b"still").unwrap(), Some(b"usable".to_vec()));
    drop(table);
    assert!(!local.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
