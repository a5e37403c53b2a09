//! Workloads shared by Eddy's benchmarks: a seeded Zipf text generator and the word generator
//! of Flink's WordCount benchmark (../shared/peers), so that Eddy and its peers run the same
//! data.

use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Zipf};

/// The mixing function of the Flink peer's `WordCountBench` (a 64-bit finaliser), so that the
/// generated words match the Java program's exactly.
pub fn flink_mix(mut x: i64) -> i64 {
    x ^= ((x as u64) >> 33) as i64;
    x = x.wrapping_mul(0xff51afd7ed558ccdu64 as i64);
    x ^= ((x as u64) >> 33) as i64;
    x & i64::MAX
}

/// Line `i` of Flink's `WordCountBench` input: ten words, word `j` is `w` followed by
/// `mix(i * 10 + j) % vocabulary`.
pub fn flink_line(i: u64, vocabulary: u64) -> String {
    let mut line = String::with_capacity(80);
    for j in 0..10u64 {
        if j > 0 {
            line.push(' ');
        }
        let id = flink_mix((i * 10 + j) as i64) as u64 % vocabulary;
        line.push('w');
        line.push_str(&id.to_string());
    }
    line
}

/// A vocabulary of `size` distinct lowercase words, 3 to 10 letters, the same for a seed.
pub fn vocabulary(size: usize, seed: u64) -> Vec<String> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut seen = std::collections::HashSet::with_capacity(size);
    let mut words = Vec::with_capacity(size);
    while words.len() < size {
        let len = rng.gen_range(3..=10);
        let word: String = (0..len)
            .map(|_| rng.gen_range(b'a'..=b'z') as char)
            .collect();
        if seen.insert(word.clone()) {
            words.push(word);
        }
    }
    words
}

/// Writes about `bytes` of text: lines of 8 to 16 words drawn from a Zipf(1.0) distribution
/// over `vocabulary`, the first word of each line capitalised and some followed by
/// punctuation, so the tokenizer's lowercasing and splitting are exercised. Seeded.
pub fn write_zipf_text(
    out: &mut impl std::io::Write,
    bytes: u64,
    vocabulary: &[String],
    seed: u64,
) -> std::io::Result<u64> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let zipf = Zipf::new(vocabulary.len() as u64, 1.0).expect("valid Zipf parameters");
    let mut written = 0u64;
    let mut words = 0u64;
    let mut line = String::with_capacity(256);
    while written < bytes {
        line.clear();
        let n = rng.gen_range(8..=16);
        for k in 0..n {
            let word = &vocabulary[zipf.sample(&mut rng) as usize - 1];
            if k == 0 {
                let mut chars = word.chars();
                if let Some(first) = chars.next() {
                    line.push(first.to_ascii_uppercase());
                    line.push_str(chars.as_str());
                }
            } else {
                line.push(' ');
                line.push_str(word);
            }
            if rng.gen_ratio(1, 12) {
                line.push(if rng.gen_bool(0.5) { ',' } else { '.' });
            }
            words += 1;
        }
        line.push('\n');
        out.write_all(line.as_bytes())?;
        written += line.len() as u64;
    }
    Ok(words)
}

/// Keys of the windows benchmark.
pub const WINDOW_KEYS: u64 = 100_000;

/// Event `i` of the windows benchmark: (key, timestamp, value). 100 events per ms of event
/// time over [`WINDOW_KEYS`] keys; one in a hundred is up to 5 s out of order.
pub fn window_event(i: u64) -> (u64, i64, i64) {
    let mixed = i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut ts = (i / 100) as i64;
    if mixed.is_multiple_of(100) {
        ts -= ((mixed >> 32) % 5_000) as i64;
    }
    ((mixed >> 17) % WINDOW_KEYS, ts, (i % 7) as i64)
}

/// Sums the value field of [`window_event`]s.
#[derive(Clone)]
pub struct SumValues;

impl eddy_runtime::state::AggregateFunction<(u64, i64, i64)> for SumValues {
    type Acc = i64;
    type Out = i64;
    fn create_accumulator(&self) -> i64 {
        0
    }
    fn add(&self, acc: &mut i64, event: &(u64, i64, i64)) {
        *acc += event.2;
    }
    fn get_result(&self, acc: &i64) -> i64 {
        *acc
    }
    fn merge(&self, a: i64, b: i64) -> i64 {
        a + b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flink_words_match_the_java_generator() {
        // mix(0) = 0, so the first word of line 0 is w0.
        assert!(flink_line(0, 10_000).starts_with("w0 "));
        assert_eq!(flink_line(3, 10).split(' ').count(), 10);
        assert!(flink_line(7, 10).split(' ').all(|w| w.len() == 2));
    }

    #[test]
    fn text_is_deterministic_for_a_seed() {
        let vocab = vocabulary(1000, 1);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        write_zipf_text(&mut a, 10_000, &vocab, 7).unwrap();
        write_zipf_text(&mut b, 10_000, &vocab, 7).unwrap();
        assert_eq!(a, b);
        assert!(a.len() >= 10_000);
    }
}

/// Dense `f64` matrices in the raw file format the ML benchmarks share with their Python
/// side: two little-endian `u64` (rows, columns), then the values row by row as
/// little-endian `f64` (numpy: `np.array([r, c], '<u8').tofile(f); x.astype('<f8').tofile(f)`).
pub mod matrix_file {
    use std::io::{Read, Write};
    use std::path::Path;

    /// Reads a matrix: (rows, columns, values).
    ///
    /// # Errors
    /// If the file cannot be read or its size does not match its header.
    pub fn read(path: &Path) -> std::io::Result<(usize, usize, Vec<f64>)> {
        let mut bytes = Vec::new();
        std::fs::File::open(path)?.read_to_end(&mut bytes)?;
        let bad = || {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{}: not a matrix file", path.display()),
            )
        };
        if bytes.len() < 16 {
            return Err(bad());
        }
        let rows = u64::from_le_bytes(bytes[0..8].try_into().map_err(|_| bad())?) as usize;
        let cols = u64::from_le_bytes(bytes[8..16].try_into().map_err(|_| bad())?) as usize;
        if bytes.len() != 16 + rows * cols * 8 {
            return Err(bad());
        }
        let values = bytes[16..]
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
            .collect();
        Ok((rows, cols, values))
    }

    /// Writes a matrix.
    ///
    /// # Errors
    /// If the file cannot be written.
    pub fn write(path: &Path, rows: usize, cols: usize, values: &[f64]) -> std::io::Result<()> {
        let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
        out.write_all(&(rows as u64).to_le_bytes())?;
        out.write_all(&(cols as u64).to_le_bytes())?;
        for v in values {
            out.write_all(&v.to_le_bytes())?;
        }
        out.flush()
    }
}
