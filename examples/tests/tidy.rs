//! Tidy: house rules checked over every Rust file of the workspace: each opens with a `//!`
//! line naming its concept, and none skips a test or leaves a stub.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if !name.starts_with('.') && name != "target" {
                rust_files(&path, out);
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_rust_file_follows_the_house_rules() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut files = Vec::new();
    rust_files(root, &mut files);
    assert!(
        files.len() > 20,
        "found only {} files under {}",
        files.len(),
        root.display()
    );
    // Spelled in pieces so that this file does not trip its own checks.
    let forbidden = [
        ["#[", "ignore"].concat(),
        ["todo", "!("].concat(),
        ["unimplemented", "!("].concat(),
        ["#[should_panic", "]"].concat(),
        ["dbg", "!("].concat(),
    ];
    let mut problems = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let shown = file.strip_prefix(root).unwrap().display();
        if !text.starts_with("//!") {
            problems.push(format!("{shown}: does not open with a //! line"));
        }
        for (n, line) in text.lines().enumerate() {
            for bad in &forbidden {
                if line.contains(bad.as_str()) {
                    problems.push(format!("{shown}:{}: contains {bad}", n + 1));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "tidy problems:\n{}",
        problems.join("\n")
    );
}
