//! Damaged store files must fail the call that meets the damage with an error, never kill the
//! process (DESIGN.md §2, §6). Regression tests for what the fuzzer found (fuzz/run.sh). The
//! SQL that damages the files is in `tests/support/store_schema.rs`, the one place the tests
//! know the schema.

#[path = "support/store_schema.rs"]
mod store_schema;

use msgstore::core::error::MapiError;
use msgstore::core::folder::Folder;
use msgstore::core::mapidefs::*;
use msgstore::core::store::{Opened, Store};
use std::sync::Arc;

fn temp_store(name: &str) -> (std::path::PathBuf, Arc<Store>) {
    let dir = std::env::temp_dir().join(format!("msgstore-damaged-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", path.display()));
    }
    let store = Store::open(
        path.to_str().unwrap(),
        MAPI_CREATE | MDB_WRITE | MSGSTORE_NO_SYNC,
    )
    .unwrap();
    (path, store)
}

fn root(store: &Arc<Store>) -> Folder {
    match store.open_entry(None, MAPI_MODIFY).unwrap() {
        Opened::Folder(f) => f,
        Opened::Message(_) => unreachable!(),
    }
}

/// A parent link that makes a cycle (a → b → a) used to send DeleteFolder's recursive walk
/// into a stack overflow (found by the store_file fuzz target through a damaged index).
#[test]
fn delete_folder_in_a_cyclic_tree_is_corrupt_store_not_a_stack_overflow() {
    let (path, store) = temp_store("cycle.db");
    let a = root(&store)
        .create_folder(FOLDER_GENERIC, "a", None, 0)
        .unwrap();
    let b = a.create_folder(FOLDER_GENERIC, "b", None, 0).unwrap();
    let msg = a.create_message(0).unwrap();
    msg.save_changes(0).unwrap();
    drop(msg);
    // Damage the file from outside, as a crash or a bad disk would: a's parent is now b.
    store_schema::set_parent(&path, a.id(), b.id());
    let err: MapiError = a
        .delete_folder(
            &store.entry_id(MAPI_FOLDER, b.id()),
            DEL_FOLDERS | DEL_MESSAGES,
        )
        .unwrap_err();
    assert_eq!(err.code, MAPI_E_CORRUPT_STORE, "{err}");
    // Nothing was deleted: the transaction rolled back.
    assert!(Folder::open(store.clone(), b.id(), true).is_ok());
    assert!(Folder::open(store.clone(), a.id(), true).is_ok());
    // A folder that is its own parent is met twice as well.
    store_schema::set_parent(&path, b.id(), b.id());
    let err = b
        .delete_folder(&store.entry_id(MAPI_FOLDER, b.id()), DEL_FOLDERS)
        .unwrap_err();
    assert_eq!(err.code, MAPI_E_CORRUPT_STORE, "{err}");
}

/// SQLite runs a file's triggers inside our own statements: a store file that brings one with
/// a recursive query made the first write loop forever. Such a file is not a store.
#[test]
fn a_store_file_with_triggers_or_views_is_refused_at_open() {
    for extra in [store_schema::PLANTED_TRIGGER, store_schema::PLANTED_VIEW] {
        let (path, store) = temp_store("schema.db");
        drop(store);
        store_schema::run_sql(&path, extra);
        for flags in [0, MDB_WRITE, MAPI_BEST_ACCESS] {
            let err = Store::open(path.to_str().unwrap(), flags).err().unwrap();
            assert_eq!(err.code, MAPI_E_CORRUPT_STORE, "{extra}: {err}");
        }
    }
}
