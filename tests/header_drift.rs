//! The committed header must equal the one build.rs generates from the current source.
//! `MSGSTORE_UPDATE_HEADER=1 cargo test --test header_drift` rewrites the committed copy.

#[test]
fn committed_header_matches_generated() {
    let generated = std::fs::read_to_string(concat!(env!("OUT_DIR"), "/msgstore.h"))
        .expect("build.rs generated the header");
    let committed_path = concat!(env!("CARGO_MANIFEST_DIR"), "/include/msgstore.h");
    if std::env::var_os("MSGSTORE_UPDATE_HEADER").is_some() {
        std::fs::write(committed_path, &generated).expect("write include/msgstore.h");
        return;
    }
    let committed = std::fs::read_to_string(committed_path).unwrap_or_default();
    assert!(
        committed == generated,
        "include/msgstore.h differs from the header generated from src/: run \
         `MSGSTORE_UPDATE_HEADER=1 cargo test --test header_drift` and commit the result"
    );
}
