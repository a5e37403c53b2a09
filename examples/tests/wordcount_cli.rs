//! The `wordcount` binary on generated files, compared with a straightforward `HashMap` count,
//! at several parallelisms and in both modes; and its bad-input contract.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_wordcount");

/// The reference: lowercase, split on anything not ASCII [a-z0-9_], count.
fn reference(texts: &[String]) -> HashMap<String, u64> {
    let mut counts = HashMap::new();
    for text in texts {
        for token in text
            .to_lowercase()
            .split(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
        {
            if !token.is_empty() {
                *counts.entry(token.to_string()).or_default() += 1;
            }
        }
    }
    counts
}

fn parse(output: &str) -> Vec<(String, u64)> {
    output
        .lines()
        .map(|line| {
            let inner = line
                .strip_prefix('(')
                .and_then(|l| l.strip_suffix(')'))
                .expect(line);
            let (word, count) = inner.rsplit_once(',').expect(line);
            (word.to_string(), count.parse().expect(line))
        })
        .collect()
}

/// A deterministic text with mixed case, punctuation, digits, underscores and non-ASCII.
fn generated_text(lines: usize, seed: u64) -> String {
    let vocabulary = [
        "Alpha", "beta", "GAMMA", "delta_1", "x9", "épée", "naïve", "zeta", "eta", "THETA",
    ];
    let mut state = seed;
    let mut text = String::new();
    for _ in 0..lines {
        let words = 1 + (state % 12) as usize;
        for _ in 0..words {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            text.push_str(vocabulary[(state >> 33) as usize % vocabulary.len()]);
            text.push_str(match (state >> 40) % 5 {
                0 => ", ",
                1 => "--",
                2 => " (",
                _ => " ",
            });
        }
        text.push('\n');
    }
    text
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::File::create(&path)
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    path
}

#[test]
fn batch_counts_match_a_hashmap_at_every_parallelism() {
    let dir = tempfile::tempdir().unwrap();
    let texts = [generated_text(4000, 1), generated_text(1500, 2)];
    let a = write(dir.path(), "a.txt", &texts[0]);
    let b = write(dir.path(), "b.txt", &texts[1]);
    let expected = reference(&texts);
    for parallelism in ["1", "2", "4"] {
        let out = dir.path().join(format!("out-{parallelism}.txt"));
        let status = Command::new(BIN)
            .args([
                "--input",
                a.to_str().unwrap(),
                "--input",
                b.to_str().unwrap(),
            ])
            .args([
                "--parallelism",
                parallelism,
                "--output",
                out.to_str().unwrap(),
            ])
            .status()
            .unwrap();
        assert!(status.success());
        let lines = parse(&std::fs::read_to_string(&out).unwrap());
        assert_eq!(lines.len(), expected.len(), "one line per distinct word");
        let got: HashMap<String, u64> = lines.into_iter().collect();
        assert_eq!(got, expected, "parallelism {parallelism}");
    }
}

#[test]
fn streaming_prints_every_update_and_ends_at_the_final_counts() {
    let dir = tempfile::tempdir().unwrap();
    let text = generated_text(500, 3);
    let input = write(dir.path(), "in.txt", &text);
    let output = Command::new(BIN)
        .args([
            "--input",
            input.to_str().unwrap(),
            "--mode",
            "streaming",
            "--parallelism",
            "2",
        ])
        .output()
        .unwrap();
    assert!(output.status.success());
    let updates = parse(&String::from_utf8(output.stdout).unwrap());
    let expected = reference(&[text]);
    assert_eq!(
        updates.len() as u64,
        expected.values().sum::<u64>(),
        "one update per word"
    );
    let mut last: HashMap<String, u64> = HashMap::new();
    for (word, count) in updates {
        let previous = last.insert(word.clone(), count).unwrap_or(0);
        assert_eq!(
            count,
            previous + 1,
            "updates of '{word}' count up one by one"
        );
    }
    assert_eq!(last, expected);
}

#[test]
fn built_in_text_runs_without_input() {
    let output = Command::new(BIN).output().unwrap();
    assert!(output.status.success());
    let counts: HashMap<String, u64> = parse(&String::from_utf8(output.stdout).unwrap())
        .into_iter()
        .collect();
    let texts: Vec<String> = eddy_examples::wordcount::BUILT_IN_TEXT
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(counts, reference(&texts));
    assert!(String::from_utf8(output.stderr)
        .unwrap()
        .contains("built-in"));
}

#[test]
fn a_missing_input_is_one_line_exit_2_and_no_output_file() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "good.txt", "a b\n");
    let out = dir.path().join("out.txt");
    let output = Command::new(BIN)
        .args([
            "--input",
            good.to_str().unwrap(),
            "--input",
            "/no/such/file.txt",
        ])
        .args(["--output", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("/no/such/file.txt"), "{stderr}");
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, vec![std::ffi::OsString::from("good.txt")]);
}

#[test]
fn bad_flags_exit_2() {
    let output = Command::new(BIN)
        .args(["--parallelism", "zero"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let output = Command::new(BIN)
        .args(["--mode", "sometimes"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}
