//! Generates the C header with cbindgen into OUT_DIR. The committed `include/msgstore.h` is never
//! written here: `tests/header_drift.rs` compares the two and fails when they differ
//! (`MSGSTORE_UPDATE_HEADER=1 cargo test --test header_drift` rewrites the committed copy).

use std::path::PathBuf;

/// Forwards cbindgen's log output (its warnings: skipped items, unknown types) as cargo warnings;
/// nobody else listens inside a build script.
struct CargoWarnings;

impl log::Log for CargoWarnings {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= log::Level::Warn
    }
    fn log(&self, record: &log::Record) {
        let text = record.args().to_string();
        // Private items and non-exported slot functions are skipped by design.
        let expected =
            text.starts_with("Skip msgstore::") || text.starts_with("Skipping msgstore::");
        if self.enabled(record.metadata()) && !expected {
            println!("cargo:warning=cbindgen: {text}");
        }
    }
    fn flush(&self) {}
}

fn main() {
    let _ = log::set_logger(&CargoWarnings).map(|()| log::set_max_level(log::LevelFilter::Warn));
    let crate_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("manifest dir"));
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=build.rs");
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("cbindgen.toml is readable");
    match cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
    {
        Ok(bindings) => {
            bindings.write_to_file(out_dir.join("msgstore.h"));
        }
        Err(e) => {
            println!("cargo:warning=cbindgen failed: {e}");
            std::process::exit(1);
        }
    }
}
