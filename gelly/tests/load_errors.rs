//! Compares the LDBC loader's errors on bad files with the expected `file:line: problem`
//! messages, and checks the lenient cases (empty lines, CRLF, tabs, an ignored weight column,
//! unsorted vertex files) load the same graph as clean input.

use std::path::PathBuf;

use eddy_gelly::{Csr, Error, LoadOptions};

struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn new() -> Files {
        Files {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn load(&self, v: &str, e: &str, options: LoadOptions) -> Result<Csr, Error> {
        Csr::load_ldbc(self.write("g.v", v), self.write("g.e", e), &options)
    }
}

fn message(result: Result<Csr, Error>) -> String {
    let err = result.expect_err("the input is bad");
    let text = err.to_string();
    // Paths are absolute; keep the file name on.
    text.rsplit_once('/')
        .map_or(text.clone(), |(_, tail)| tail.to_owned())
}

#[test]
fn bad_lines_are_named_by_file_and_line() {
    let f = Files::new();
    let plain = LoadOptions::new(true);
    let weighted = LoadOptions::new(true).weighted(true);
    let cases = [
        (
            "1\n2\n",
            "1 2\n2 3\n",
            plain,
            "g.e:2: edge names unknown vertex 3",
        ),
        (
            "1\n2\n",
            "1 2\n\n2\n",
            plain,
            "g.e:3: malformed line: expected `src dst`, found one field",
        ),
        (
            "1\n2\n",
            "1 2 3 4\n",
            plain,
            "g.e:1: malformed line: expected `src dst` or `src dst weight`",
        ),
        (
            "1\n2\n",
            "1 -2\n",
            plain,
            "g.e:1: malformed line: target `-2` is not a valid number",
        ),
        (
            "1\n2\n",
            "1 2\n",
            weighted,
            "g.e:1: malformed line: missing weight",
        ),
        (
            "1\n2\n",
            "1 2 abc\n",
            weighted,
            "g.e:1: malformed line: weight `abc` is not a valid number",
        ),
        (
            "1\n2\n",
            "1 2 -1.5\n",
            weighted,
            "g.e:1: malformed line: weight -1.5 is negative or not a number",
        ),
        (
            "1\nx\n",
            "",
            plain,
            "g.v:2: malformed line: vertex id `x` is not a valid number",
        ),
        (
            "1\n2 3\n",
            "",
            plain,
            "g.v:2: malformed line: expected one vertex id per line",
        ),
        ("1\n2\n2\n", "", plain, "g.v:3: duplicate vertex 2"),
        ("5\n1\n3\n1\n", "", plain, "g.v:4: duplicate vertex 1"),
    ];
    for (v, e, options, expected) in cases {
        assert_eq!(message(f.load(v, e, options)), expected, "{v:?} / {e:?}");
    }
}

#[test]
fn a_missing_file_names_the_file() {
    let f = Files::new();
    let v = f.write("g.v", "1\n");
    let err =
        Csr::load_ldbc(&v, f.dir.path().join("nope.e"), &LoadOptions::new(false)).unwrap_err();
    assert!(matches!(err, Error::Io { .. }));
    assert!(err.to_string().ends_with("nope.e"), "{err}");
}

#[test]
fn lenient_input_loads_like_clean_input() {
    let f = Files::new();
    let clean = f
        .load("1\n2\n3\n", "1 2\n2 3\n", LoadOptions::new(true))
        .unwrap();
    let messy = f
        .load(
            "3\r\n1\r\n\r\n2\r\n",
            "1\t2 0.5\r\n\n  2   3  \n",
            LoadOptions::new(true),
        )
        .unwrap();
    let edges = |g: &Csr| -> Vec<(u64, u64)> {
        g.edges()
            .map(|(s, d, _)| (g.vertex_id(s), g.vertex_id(d)))
            .collect()
    };
    assert_eq!(edges(&messy), edges(&clean));
    assert_eq!(messy.vertex_ids().collect::<Vec<_>>(), vec![1, 2, 3]);
}
