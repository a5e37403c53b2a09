//! The floor of the WordCount benchmark: one thread, a plain `std::collections::HashMap`,
//! the same tokenizer as the `wordcount` example, no framework.

use std::collections::HashMap;
use std::io::BufRead;
use std::time::Instant;

fn main() -> std::io::Result<()> {
    let path = std::env::args()
        .nth(1)
        .expect("usage: wordcount_floor FILE");
    let start = Instant::now();
    let mut reader = std::io::BufReader::with_capacity(1 << 16, std::fs::File::open(&path)?);
    let mut counts: HashMap<String, u64> = HashMap::new();
    let (mut line, mut scratch, mut words) = (String::new(), String::new(), 0u64);
    while reader.read_line(&mut line)? > 0 {
        eddy_examples::wordcount::for_each_word(&line, &mut scratch, |word| {
            words += 1;
            match counts.get_mut(word) {
                Some(count) => *count += 1,
                None => {
                    counts.insert(word.to_string(), 1);
                }
            }
        });
        line.clear();
    }
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "RESULT floor words={words} distinct={} seconds={seconds:.3}",
        counts.len()
    );
    Ok(())
}
