//! The layers DESIGN.md §3 draws, checked on the source: `core` names no engine (no `rusqlite`,
//! no SQL: it talks to `storage`'s trait only), `storage` sees nothing of core's model or rules
//! (the value vocabulary only), and `abi` reaches storage only through core.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Lines of the Rust files under `src/<layer>` that contain any of `needles`, or any of `words`
/// as a whole word.
fn offending_lines(layer: &str, needles: &[&str]) -> Vec<String> {
    offending(layer, needles, &[])
}

fn offending(layer: &str, needles: &[&str], words: &[&str]) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src")
            .join(layer),
        &mut files,
    );
    assert!(!files.is_empty(), "no sources under src/{layer}");
    let mut hits = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let mut tokens = line.split(|c: char| !(c.is_alphanumeric() || c == '_'));
            if needles.iter().any(|needle| line.contains(needle))
                || tokens.any(|t| words.contains(&t))
            {
                hits.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    hits
}

/// Engine names, as core would have to write them to talk to an engine.
const ENGINE_NAMES: &[&str] = &["rusqlite", "sqlite", "SQLite", "postgres", "Postgres"];
/// SQL's statement words (whole words: PR_LOCAL_COMMIT_TIME is not SQL).
const SQL_WORDS: &[&str] = &[
    "SELECT", "INSERT", "UPDATE", "DELETE", "BEGIN", "COMMIT", "ROLLBACK", "PRAGMA", "WHERE",
];

#[test]
fn core_names_no_engine_and_no_sql() {
    let hits = offending("core", ENGINE_NAMES, SQL_WORDS);
    assert!(
        hits.is_empty(),
        "core must talk to the engine trait only:\n{}",
        hits.join("\n")
    );
}

#[test]
fn storage_sees_only_the_value_vocabulary_of_core() {
    let hits = offending_lines(
        "storage",
        &[
            "core::message",
            "core::folder",
            "core::store",
            "core::resolve",
            "core::props",
            "core::error",
            "crate::abi",
        ],
    );
    assert!(
        hits.is_empty(),
        "storage must not reach into core's model:\n{}",
        hits.join("\n")
    );
}

#[test]
fn abi_reaches_storage_only_through_core() {
    let hits = offending_lines("abi", &["crate::storage", "rusqlite"]);
    assert!(
        hits.is_empty(),
        "abi must go through core:\n{}",
        hits.join("\n")
    );
}

/// Raw pointers and `unsafe` live in `src/abi/`; the one exception is the SQLite engine's few
/// system calls that std has no safe form of, kept in two files (create.rs: making a store file;
/// sys.rs: the writers' queue).
#[test]
fn unsafe_code_lives_in_abi_and_the_engines_system_calls_only() {
    for layer in ["core", "storage"] {
        let hits: Vec<String> = offending(layer, &["extern \"C\"", "no_mangle"], &["unsafe"])
            .into_iter()
            .filter(|hit| {
                !hit.contains("src/storage/sqlite/create.rs:")
                    && !hit.contains("src/storage/sqlite/sys.rs:")
            })
            .filter(|hit| {
                // Prose that says the word is not code that uses it.
                let line = hit.splitn(3, ':').nth(2).unwrap_or("").trim();
                !line.starts_with("//")
            })
            .collect();
        assert!(
            hits.is_empty(),
            "unsafe code outside src/abi/:\n{}",
            hits.join("\n")
        );
    }
}

/// The check can fail: it finds the words it looks for where they are.
#[test]
fn the_check_finds_what_it_looks_for() {
    assert!(!offending_lines("storage", &["rusqlite"]).is_empty());
    assert!(!offending("storage", &[], &["SELECT"]).is_empty());
    assert!(
        offending("storage", &[], &["SELEC"]).is_empty(),
        "whole words only"
    );
}
