//! Real jobs at parallelism 1, 2 and 4, chained and unchained, compared with the same
//! computation done sequentially on a `Vec`.

use std::collections::HashMap;
use std::io::Write;

use eddy_datastream::{Collector, Generator, RuntimeMode, StreamExecutionEnvironment};

/// Runs `build` at several parallelisms, with and without chaining, and returns each sorted output.
fn run_everywhere<T: eddy_runtime::Data + Ord>(
    build: impl Fn(&StreamExecutionEnvironment) -> eddy_datastream::CollectedStream<T>,
) -> Vec<Vec<T>> {
    let mut outputs = Vec::new();
    for parallelism in [1, 2, 4] {
        for chaining in [true, false] {
            let env = StreamExecutionEnvironment::new();
            env.set_parallelism(parallelism);
            if !chaining {
                env.disable_operator_chaining();
            }
            let out = build(&env);
            env.execute("test").unwrap();
            let mut values = out.take();
            values.sort();
            outputs.push(values);
        }
    }
    outputs
}

#[test]
fn map_filter_flat_map_match_a_sequential_loop() {
    let input: Vec<u64> = (0..10_000).map(|i| i * 7919 % 1000).collect();
    let mut expected: Vec<u64> = input
        .iter()
        .map(|x| x * 3)
        .filter(|x| x % 2 == 0)
        .flat_map(|x| [x, x + 1])
        .collect();
    expected.sort();
    let data = input.clone();
    for output in run_everywhere(move |env| {
        env.from_collection(data.clone())
            .map(|x| x * 3)
            .filter(|x| x % 2 == 0)
            .flat_map(|x| [x, x + 1])
            .collect()
    }) {
        assert_eq!(output, expected);
    }
}

#[test]
fn keyed_sum_in_batch_mode_emits_one_final_result_per_key() {
    let input: Vec<(u32, u64)> = (0..20_000u64).map(|i| ((i % 97) as u32, i)).collect();
    let mut totals: HashMap<u32, u64> = HashMap::new();
    for (k, v) in &input {
        *totals.entry(*k).or_default() += v;
    }
    let mut expected: Vec<(u32, u64)> = totals.into_iter().collect();
    expected.sort();
    let data = input.clone();
    for output in run_everywhere(move |env| {
        env.from_collection(data.clone())
            .rebalance()
            .key_by(|t: &(u32, u64)| t.0)
            .sum(|t: &mut (u32, u64)| &mut t.1)
            .collect()
    }) {
        assert_eq!(output, expected);
    }
}

#[test]
fn keyed_reduce_in_streaming_mode_emits_every_update_in_key_order() {
    let input: Vec<(u8, u64)> = (0..3_000u64).map(|i| ((i % 5) as u8, 1)).collect();
    for parallelism in [1, 2, 4] {
        let env = StreamExecutionEnvironment::new();
        env.set_parallelism(parallelism)
            .set_runtime_mode(RuntimeMode::Streaming);
        let out = env
            .from_collection(input.clone())
            .key_by(|t: &(u8, u64)| t.0)
            .sum(|t: &mut (u8, u64)| &mut t.1)
            .collect();
        let result = env.execute("streaming sum").unwrap();
        assert_eq!(result.mode, RuntimeMode::Streaming);
        let values = out.take();
        assert_eq!(values.len(), input.len(), "one update per record");
        // Per key, the running counts arrive in order: 1, 2, ..., 600.
        for key in 0..5u8 {
            let counts: Vec<u64> = values.iter().filter(|t| t.0 == key).map(|t| t.1).collect();
            assert_eq!(counts, (1..=600).collect::<Vec<_>>(), "key {key}");
        }
    }
}

type Keyed = eddy_datastream::KeyedStream<(i32, i32, char), i32>;
type Stream = eddy_datastream::DataStream<(i32, i32, char)>;

#[test]
fn min_max_and_by_variants() {
    let input = vec![(1, 5, 'a'), (1, 3, 'b'), (1, 9, 'c'), (2, 4, 'd')];
    let run = |build: &dyn Fn(Keyed) -> Stream| {
        eddy_datastream::example(|env| {
            build(
                env.from_collection(input.clone())
                    .key_by(|t: &(i32, i32, char)| t.0),
            )
        })
        .into_iter()
        .collect::<std::collections::BTreeSet<_>>()
    };
    let set = |v: &[(i32, i32, char)]| v.iter().copied().collect::<std::collections::BTreeSet<_>>();
    assert_eq!(
        run(&|k| k.min(|t| &mut t.1)),
        set(&[(1, 3, 'a'), (2, 4, 'd')])
    );
    assert_eq!(
        run(&|k| k.max(|t| &mut t.1)),
        set(&[(1, 9, 'a'), (2, 4, 'd')])
    );
    assert_eq!(
        run(&|k| k.min_by(|t| t.1)),
        set(&[(1, 3, 'b'), (2, 4, 'd')])
    );
    assert_eq!(
        run(&|k| k.max_by(|t| t.1)),
        set(&[(1, 9, 'c'), (2, 4, 'd')])
    );
}

#[test]
fn union_broadcast_and_shuffle_route_every_record() {
    let outputs = run_everywhere(|env| {
        let a = env.from_collection(0..100u32);
        let b = env.from_generator(Generator::bounded(100), |i| 1000 + i as u32);
        a.union(&[b.shuffle()]).map(|x| x + 1).collect()
    });
    let mut expected: Vec<u32> = (1..=100).chain(1001..=1100).collect();
    expected.sort();
    for output in outputs {
        assert_eq!(output, expected);
    }
    for parallelism in [1, 3] {
        let env = StreamExecutionEnvironment::new();
        env.set_parallelism(parallelism);
        let out = env
            .from_collection(vec![7u8])
            .broadcast()
            .map(|x| x)
            .collect();
        env.execute("broadcast").unwrap();
        assert_eq!(out.take(), vec![7u8; parallelism as usize]);
    }
}

#[test]
fn text_files_are_split_so_every_line_is_read_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    let mut expected = Vec::new();
    for f in 0..3 {
        let path = dir.path().join(format!("f{f}.txt"));
        let mut file = std::fs::File::create(&path).unwrap();
        for i in 0..(500 * (f + 1)) {
            // Lines of varied length, CRLF in one file, no final newline in another.
            let line = format!("{f}-{i}-{}", "x".repeat(i % 37));
            let end = match (f, i + 1 == 500 * (f + 1)) {
                (2, true) => "",
                (1, _) => "\r\n",
                _ => "\n",
            };
            write!(file, "{line}{end}").unwrap();
            expected.push(line);
        }
        paths.push(path);
    }
    std::fs::write(dir.path().join("empty.txt"), "").unwrap();
    paths.push(dir.path().join("empty.txt"));
    expected.sort();
    for output in run_everywhere(|env| env.read_text_files(paths.clone()).collect()) {
        assert_eq!(output, expected);
    }
}

#[test]
fn process_emits_through_the_collector_and_its_error_fails_the_job() {
    let out = eddy_datastream::example(|env| {
        env.from_collection(vec!["1 2".to_string(), "3".to_string()])
            .process(|s: String, out: &mut Collector<u32>| {
                for f in s.split(' ') {
                    out.collect(f.parse()?);
                }
                Ok(())
            })
    });
    assert_eq!(out, vec![1, 2, 3]);

    let env = StreamExecutionEnvironment::new();
    env.set_parallelism(2);
    let _ = env
        .from_collection(vec!["1".to_string(), "x".to_string()])
        .process(|s: String, out: &mut Collector<u32>| {
            out.collect(s.parse()?);
            Ok(())
        })
        .name("parse numbers")
        .collect();
    let error = env.execute("failing").unwrap_err().to_string();
    assert!(
        error.contains("parse numbers") && error.contains("invalid digit"),
        "{error}"
    );
}

#[test]
fn a_panicking_function_fails_the_job_with_its_message_and_operator_name() {
    for parallelism in [1, 4] {
        let env = StreamExecutionEnvironment::new();
        env.set_parallelism(parallelism);
        let _ = env
            .from_generator(Generator::bounded(1_000_000), |i| i)
            .map(|x| if x == 5_000 { panic!("boom at {x}") } else { x })
            .name("exploding map")
            .key_by(|x: &u64| x % 10)
            .reduce(|a, b| a + b)
            .collect();
        let error = env.execute("panicking").unwrap_err().to_string();
        assert!(
            error.contains("exploding map") && error.contains("boom at 5000"),
            "{error}"
        );
    }
}

#[test]
fn a_missing_input_file_fails_with_its_path() {
    let env = StreamExecutionEnvironment::new();
    let _ = env.read_text_file("/definitely/not/here.txt").collect();
    let error = env.execute("missing").unwrap_err().to_string();
    assert!(error.contains("/definitely/not/here.txt"), "{error}");
}

#[test]
fn file_sinks_commit_on_success_and_leave_nothing_on_failure() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.txt");
    let env = StreamExecutionEnvironment::new();
    env.set_parallelism(3);
    env.from_collection(0..5u32)
        .map(|x| x * 10)
        .write_as_text(&out);
    let result = env.execute("write").unwrap();
    let mut lines: Vec<String> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    lines.sort();
    assert_eq!(lines, ["0", "10", "20", "30", "40"]);
    assert_eq!(result.operator("text file").unwrap().records_in, 5);

    let csv = dir.path().join("out.csv");
    let env = StreamExecutionEnvironment::new();
    env.from_collection(vec![("a,b".to_string(), 1u32)])
        .write_as_csv(&csv, Some(&["name", "n"]));
    env.execute("csv").unwrap();
    assert_eq!(
        std::fs::read_to_string(&csv).unwrap(),
        "name,n\n\"a,b\",1\n"
    );

    let failed = dir.path().join("failed.txt");
    let env = StreamExecutionEnvironment::new();
    env.from_collection(0..5u32)
        .map(|x| if x == 4 { panic!("no") } else { x })
        .write_as_text(&failed);
    assert!(env.execute("fail").is_err());
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        left.len(),
        2,
        "only the two committed files remain: {left:?}"
    );
}

#[test]
fn job_result_counts_records_per_operator() {
    let env = StreamExecutionEnvironment::new();
    env.set_parallelism(2);
    let _ = env
        .from_generator(Generator::bounded(10_000), |i| i)
        .filter(|x| x % 4 == 0)
        .collect();
    let result = env.execute("counts").unwrap();
    assert_eq!(result.operator("generator").unwrap().records_out, 10_000);
    let filter = result.operator("filter").unwrap();
    assert_eq!(
        (filter.records_in, filter.records_out, filter.parallelism),
        (10_000, 2_500, 2)
    );
}

#[test]
fn socket_source_reads_lines_until_the_peer_closes() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        conn.write_all(b"hello world\nhello").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(50));
        conn.write_all(b" again\nbye\n").unwrap();
    });
    let env = StreamExecutionEnvironment::new();
    env.set_parallelism(1);
    let out = env.socket_text_stream("127.0.0.1", port).collect();
    let result = env.execute("socket").unwrap();
    server.join().unwrap();
    assert_eq!(result.mode, RuntimeMode::Streaming);
    assert_eq!(out.take(), ["hello world", "hello again", "bye"]);
}

#[test]
fn a_throttled_generator_keeps_its_rate() {
    let env = StreamExecutionEnvironment::new();
    env.set_parallelism(2);
    let out = env
        .from_generator(Generator::bounded(400).with_rate(2000.0), |i| i)
        .collect();
    let result = env.execute("throttled").unwrap();
    assert_eq!(out.take().len(), 400);
    assert!(
        result.duration.as_millis() >= 150,
        "400 records at 2000/s took {:?}",
        result.duration
    );
}

#[test]
fn processing_time_windows_with_a_frozen_clock_put_everything_in_one_window() {
    use eddy_datastream::window::{AggregateFunction, WindowAssigner};
    #[derive(Clone)]
    struct Count;
    impl AggregateFunction<(u8, u32)> for Count {
        type Acc = u64;
        type Out = u64;
        fn create_accumulator(&self) -> u64 {
            0
        }
        fn add(&self, acc: &mut u64, _: &(u8, u32)) {
            *acc += 1;
        }
        fn get_result(&self, acc: &u64) -> u64 {
            *acc
        }
        fn merge(&self, a: u64, b: u64) -> u64 {
            a + b
        }
    }
    let env = StreamExecutionEnvironment::new();
    env.set_parallelism(2);
    env.set_clock(std::sync::Arc::new(eddy_runtime::time::ManualClock::new(
        12_345,
    )));
    let out = env
        .from_collection((0..1000u32).map(|i| ((i % 3) as u8, i)))
        .key_by(|e: &(u8, u32)| e.0)
        .window(WindowAssigner::tumbling(1000))
        .in_processing_time()
        .aggregate(Count)
        .map(|w| (w.key, w.window.start, w.value))
        .collect();
    env.execute("processing time").unwrap();
    let mut rows = out.take();
    rows.sort();
    assert_eq!(rows, [(0, 12_000, 334), (1, 12_000, 333), (2, 12_000, 333)]);
}
