//! The pieces of the WordCount example: its tokenizer and its built-in text.

/// Calls `f` with every word of `line`: the line is lowercased, then split on every character
/// that is not ASCII `[a-z0-9_]`; empty tokens are dropped. `scratch` is reused between calls
/// to avoid an allocation per line.
///
/// ```
/// let mut words = Vec::new();
/// eddy_examples::wordcount::for_each_word("To be, or NOT_to-be!", &mut String::new(), |w| words.push(w.to_string()));
/// assert_eq!(words, ["to", "be", "or", "not_to", "be"]);
/// ```
#[inline]
pub fn for_each_word(line: &str, scratch: &mut String, mut f: impl FnMut(&str)) {
    let lowered: &str = if line.is_ascii() {
        if line.bytes().any(|b| b.is_ascii_uppercase()) {
            scratch.clear();
            scratch.push_str(line);
            scratch.make_ascii_lowercase();
            scratch
        } else {
            line
        }
    } else {
        // Full Unicode lowercasing can turn non-ASCII letters into ASCII ones (the Kelvin
        // sign becomes `k`), so it must come before the split.
        *scratch = line.to_lowercase();
        scratch
    };
    let bytes = lowered.as_bytes();
    let mut start = None;
    for (i, &b) in bytes.iter().enumerate() {
        let word_byte = b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_';
        match (word_byte, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                f(&lowered[s..i]);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        f(&lowered[s..]);
    }
}

/// The text counted when no `--input` is given (the opening of Hamlet's soliloquy, as in
/// Flink's WordCount example).
pub const BUILT_IN_TEXT: &[&str] = &[
    "To be, or not to be,--that is the question:--",
    "Whether 'tis nobler in the mind to suffer",
    "The slings and arrows of outrageous fortune",
    "Or to take arms against a sea of troubles,",
    "And by opposing end them?--To die,--to sleep,--",
    "No more; and by a sleep to say we end",
    "The heartache, and the thousand natural shocks",
    "That flesh is heir to,--'tis a consummation",
    "Devoutly to be wish'd. To die,--to sleep;--",
    "To sleep! perchance to dream:--ay, there's the rub;",
    "For in that sleep of death what dreams may come,",
    "When we have shuffled off this mortal coil,",
    "Must give us pause: there's the respect",
    "That makes calamity of so long life;",
    "For who would bear the whips and scorns of time,",
    "The oppressor's wrong, the proud man's contumely,",
    "The pangs of despis'd love, the law's delay,",
    "The insolence of office, and the spurns",
    "That patient merit of the unworthy takes,",
    "When he himself might his quietus make",
    "With a bare bodkin? who would these fardels bear,",
    "To grunt and sweat under a weary life,",
    "But that the dread of something after death,--",
    "The undiscover'd country, from whose bourn",
    "No traveller returns,--puzzles the will,",
    "And makes us rather bear those ills we have",
    "Than fly to others that we know not of?",
    "Thus conscience does make cowards of us all;",
    "And thus the native hue of resolution",
    "Is sicklied o'er with the pale cast of thought;",
    "And enterprises of great pith and moment,",
    "With this regard, their currents turn awry,",
    "And lose the name of action.--Soft you now!",
    "The fair Ophelia!--Nymph, in thy orisons",
    "Be all my sins remember'd.",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        let mut out = Vec::new();
        for_each_word(line, &mut String::new(), |w| out.push(w.to_string()));
        out
    }

    #[test]
    fn splits_on_everything_but_ascii_word_characters() {
        assert_eq!(words("  a1--B2 c_3\tdé4"), ["a1", "b2", "c_3", "d", "4"]);
        assert_eq!(words(""), Vec::<String>::new());
        assert_eq!(words("---"), Vec::<String>::new());
    }

    #[test]
    fn lowercases_unicode_before_splitting() {
        // U+212A KELVIN SIGN lowercases to ASCII 'k'.
        assert_eq!(words("\u{212A}ELVIN Über"), ["kelvin", "ber"]);
    }
}
