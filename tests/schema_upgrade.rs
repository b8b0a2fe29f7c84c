//! The upgrade from schema 1 (DESIGN.md §6 "Migrations"), against a store written by the
//! release that had it (`tests/fixtures/schema1.msgstore`, with `schema1.dump` of everything it
//! held as that release decoded it): a read-only open changes no byte and says how to upgrade;
//! a writable open upgrades in place with every entry ID, property, change key and PCL kept; a
//! SIGKILL at any moment of the upgrade leaves the old schema or the new one, never neither.
//! And the upgrade from schema 4 (property rows clustered, large values in their own table)
//! against a schema-4 file laid out as that release laid it out.

use msgstore::core::error::MapiError;
use msgstore::core::mapidefs::*;
use msgstore::core::props::{PropInput, PropObject};
use msgstore::core::store::{Opened, Store};
use msgstore::core::value::PropValue;
use msgstore::storage::StorageError;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/schema1.msgstore"
);
const FIXTURE_DUMP: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/schema1.dump");
/// Objects added by the kill test start here, so the fixture's own can be told apart.
const EXTRA_ID_BASE: i64 = 1_000_000;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("msgstore-upgrade-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", path.display()));
    }
    std::fs::copy(FIXTURE, &path).unwrap();
    path
}

/// Every object reachable from the root and the store object, and every property, in the
/// format of `schema1.dump` (objects of the kill test left out).
fn dump(store: &Store) -> String {
    let mut out = String::new();
    store
        .storage()
        .read(|t| {
            out.clear();
            let mut pending = vec![1u64, 2u64];
            let mut seen = vec![];
            while let Some(id) = pending.pop() {
                if seen.contains(&id) || id >= EXTRA_ID_BASE as u64 {
                    continue;
                }
                seen.push(id);
                let row = t.object(id)?.unwrap();
                out += &format!(
                    "object {} kind {} parent {:?} cn {} flags {}\n",
                    row.id, row.kind, row.parent, row.cn, row.flags
                );
                for (tag, v) in t.props(id)? {
                    out += &format!("  {tag:08X} {v:?}\n");
                }
                for k in [3u32, 5] {
                    for c in t.children(id, k)? {
                        pending.push(c.id);
                    }
                }
            }
            Ok::<_, StorageError>(())
        })
        .unwrap();
    out += &format!("guid {:02X?}\n", store.guid());
    out
}

fn schema_version(path: &Path) -> i64 {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row(
        "SELECT value FROM meta WHERE key = 'schema_version'",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

/// How many rows a table of the store file has; None when the file has no such table.
/// The object number in one of this store's entry IDs (its last 8 bytes, little-endian).
fn object_number(entry_id: &[u8]) -> i64 {
    i64::from_le_bytes(entry_id[entry_id.len() - 8..].try_into().unwrap())
}

fn table_rows(path: &Path, table: &str) -> Option<i64> {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .ok()
}

#[test]
fn a_read_only_open_of_a_schema_1_store_changes_nothing_and_says_how_to_upgrade() {
    let path = scratch("read-only.msgstore");
    let before = std::fs::read(&path).unwrap();
    let err: MapiError = Store::open(path.to_str().unwrap(), 0).err().unwrap();
    assert_eq!(err.code, MAPI_E_VERSION, "{err}");
    assert!(err.message.contains("MDB_WRITE"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before, "not a byte changed");
    // SQLite's read-only open of a WAL file may leave an empty log beside it; nothing in it.
    let wal = PathBuf::from(format!("{}-wal", path.display()));
    assert!(!wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0);
    assert_eq!(
        table_rows(&path, "named"),
        None,
        "schema 1 has no named mapping"
    );
}

#[test]
fn a_writable_open_upgrades_in_place_keeping_every_id_property_change_key_and_pcl() {
    let path = scratch("upgrade.msgstore");
    let store = Store::open(path.to_str().unwrap(), MDB_WRITE).unwrap();
    assert_eq!(dump(&store), std::fs::read_to_string(FIXTURE_DUMP).unwrap());
    assert_eq!(
        schema_version(&path),
        msgstore::storage::sqlite::SCHEMA_VERSION
    );
    // The upgrade added the named-property mapping (empty) and it works.
    assert_eq!(table_rows(&path, "named"), Some(0));
    let name = msgstore::core::named::PropName::string([7; 16], "after the upgrade");
    let ids = msgstore::core::named::ids_from_names(
        store.storage(),
        &[name],
        true,
        msgstore::core::named::LAST_NAMED_ID,
    )
    .unwrap();
    assert_eq!(ids, vec![Some(msgstore::core::named::FIRST_NAMED_ID)]);
    // The upgraded store works: a message opens by its old entry ID, saves, and keeps its
    // change-key history (the new change number is past every old one).
    let Opened::Message(m) = store
        .open_entry(Some(&store.entry_id(MAPI_MESSAGE, 5)), MAPI_MODIFY)
        .unwrap()
    else {
        panic!("object 5 is a message")
    };
    assert_eq!(m.base_cn(), 5);
    m.set_props(vec![PropInput {
        index: 0,
        tag: PR_SUBJECT_W,
        value: PropValue::Unicode("after the upgrade".into()),
    }])
    .unwrap();
    m.save_changes(KEEP_OPEN_READWRITE).unwrap();
    assert!(m.base_cn() > 7, "change numbers go on from the old counter");
    // New objects get IDs past every ID in the file, and from now on an ID is never reused.
    let Opened::Folder(root) = store.open_entry(None, MAPI_MODIFY).unwrap() else {
        panic!("the root is a folder")
    };
    let first = root.create_message(0).unwrap();
    first.save_changes(0).unwrap();
    let first_id = first.entry_id().unwrap();
    assert!(root
        .delete_messages(std::slice::from_ref(&first_id), 0)
        .unwrap());
    let second = root.create_message(0).unwrap();
    second.save_changes(0).unwrap();
    assert_ne!(second.entry_id().unwrap(), first_id);
    // The upgrade added the change log (schema 4), and the saves since are in it: the save, the
    // two creations and the deletion (notifications read it).
    let logged: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row(
            "SELECT count(*) FROM changes WHERE obj IN (5, ?1, ?2)",
            [
                object_number(&first_id),
                object_number(&second.entry_id().unwrap()),
            ],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(logged, 4);
    drop((m, root, first, second, store));
    // Reopened read-only: it is a current store now.
    Store::open(path.to_str().unwrap(), 0).unwrap();
}

/// Run by `a_sigkill_during_the_upgrade_leaves_one_schema_or_the_other` in a child process.
#[test]
#[ignore = "a child process of the kill test"]
fn upgrade_child() {
    let path = std::env::var("MSGSTORE_UPGRADE_CHILD").expect("run by the kill test");
    Store::open(&path, MDB_WRITE).unwrap();
}

/// Adds `count` messages of schema-1 rows (little-endian value blobs) to a schema-1 file, so
/// that an upgrade takes long enough to be killed in the middle.
fn grow_schema_1_store(path: &Path, count: i64) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch("BEGIN").unwrap();
    for i in 0..count {
        let id = EXTRA_ID_BASE + i;
        conn.execute(
            "INSERT INTO objects(id, kind, parent, cn, flags) VALUES (?1, 5, 3, 1, 0)",
            [id],
        )
        .unwrap();
        for p in 0..10i64 {
            let (tag, value): (i64, Vec<u8>) = if p % 2 == 0 {
                (
                    ((0x6100 + p) << 16) | 0x0003,
                    (i as i32).to_le_bytes().to_vec(),
                )
            } else {
                (
                    ((0x6100 + p) << 16) | 0x001F,
                    format!("value {i}").into_bytes(),
                )
            };
            conn.execute(
                "INSERT INTO props(obj, id, tag, value) VALUES (?1, ?2, ?3, ?4)",
                rusqlite::params![id, tag >> 16, tag, value],
            )
            .unwrap();
        }
    }
    conn.execute_batch("COMMIT").unwrap();
}

/// What a killed upgrade left: (schema version, rows still in the schema-1 encoding).
fn state_after_kill(path: &Path) -> (i64, i64) {
    let conn = rusqlite::Connection::open(path).unwrap();
    let ok: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    let version: i64 = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    // Schema-1 rows of PT_LONG are 4-byte blobs; schema 2 stores them as integers.
    let old: i64 = conn
        .query_row(
            "SELECT count(*) FROM props WHERE tag & 0xFFFF = 3 AND typeof(value) = 'blob'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    (version, old)
}

#[test]
fn a_sigkill_during_the_upgrade_leaves_one_schema_or_the_other() {
    const MESSAGES: i64 = 4000;
    let template = scratch("kill-template.msgstore");
    grow_schema_1_store(&template, MESSAGES);
    let (_, all_old) = state_after_kill(&template);
    let exe = std::env::current_exe().unwrap();
    let run_child = |path: &Path| {
        Command::new(&exe)
            .args(["--exact", "upgrade_child", "--ignored", "--quiet"])
            .env("MSGSTORE_UPGRADE_CHILD", path)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    // How long a whole upgrade takes here, so that the kills land inside it.
    let timed = scratch("kill-timed.msgstore");
    std::fs::copy(&template, &timed).unwrap();
    let start = Instant::now();
    assert!(run_child(&timed).wait().unwrap().success());
    let whole = start.elapsed();
    let current = msgstore::storage::sqlite::SCHEMA_VERSION;
    assert_eq!(state_after_kill(&timed), (current, 0));
    let (mut old_kept, mut new_found) = (0, 0);
    for round in 0..12u32 {
        let path = scratch(&format!("kill-{round}.msgstore"));
        std::fs::copy(&template, &path).unwrap();
        let mut child = run_child(&path);
        // Spread the kills over the child's start-up and the whole upgrade.
        std::thread::sleep(whole.mul_f64(f64::from(round) / 10.0));
        let _ = child.kill();
        child.wait().unwrap();
        match state_after_kill(&path) {
            (1, old) => {
                assert_eq!(
                    old, all_old,
                    "round {round}: schema 1 with every row as it was"
                );
                old_kept += 1;
            }
            (v, 0) if v == current => new_found += 1,
            other => panic!("round {round}: half an upgrade: {other:?}"),
        }
        // Either way the store opens, upgraded, with the fixture's objects intact.
        let store = Store::open(path.to_str().unwrap(), MDB_WRITE).unwrap();
        assert_eq!(
            dump(&store),
            std::fs::read_to_string(FIXTURE_DUMP).unwrap(),
            "round {round}"
        );
    }
    eprintln!(
        "upgrade of {MESSAGES} messages took {whole:?}; kills left schema 1 {old_kept} times, \
         the current schema {new_found} times"
    );
    assert!(old_kept > 0, "no kill landed before the upgrade committed");
}

/// A schema-4 store as the release before schema 5 laid it out (its DDL verbatim): the store
/// object, the root folder and message 3 holding `props` (typed values, as schema 4 stored
/// them), no `home` (adopted at the first writable open).
fn schema_4_store(name: &str, props: &[(u32, PropValue)]) -> PathBuf {
    let path = scratch(name);
    std::fs::remove_file(&path).unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "PRAGMA journal_mode=WAL;
         CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
         CREATE TABLE objects (
             id INTEGER PRIMARY KEY,
             kind INTEGER NOT NULL,
             parent INTEGER,
             cn INTEGER NOT NULL,
             flags INTEGER NOT NULL DEFAULT 0);
         CREATE INDEX objects_by_parent ON objects(parent, kind);
         CREATE TABLE props (
             obj INTEGER NOT NULL,
             id INTEGER NOT NULL,
             tag INTEGER NOT NULL,
             value BLOB NOT NULL,
             PRIMARY KEY (obj, id));
         CREATE TABLE named (
             id INTEGER PRIMARY KEY,
             guid BLOB NOT NULL,
             kind INTEGER NOT NULL,
             lid INTEGER NOT NULL,
             name TEXT NOT NULL,
             UNIQUE (guid, kind, lid, name));
         CREATE TABLE changes (
             seq INTEGER PRIMARY KEY,
             obj INTEGER NOT NULL,
             kind INTEGER NOT NULL,
             parent INTEGER,
             what INTEGER NOT NULL);
         INSERT INTO meta(key, value) VALUES ('schema_version', 4),
             ('store_guid', x'00112233445566778899AABBCCDDEEFF'), ('next_cn', 8), ('next_id', 4);
         INSERT INTO objects(id, kind, parent, cn, flags) VALUES (1, 1, NULL, 0, 0),
             (2, 3, NULL, 0, 0), (3, 5, 2, 7, 0);",
    )
    .unwrap();
    for (tag, value) in props {
        let value: rusqlite::types::Value = match value {
            PropValue::Long(l) => (*l).into(),
            PropValue::Unicode(s) => s.clone().into(),
            PropValue::Binary(b) => b.clone().into(),
            other => panic!("not written by this fixture: {other:?}"),
        };
        conn.execute(
            "INSERT INTO props(obj, id, tag, value) VALUES (3, ?1, ?2, ?3)",
            rusqlite::params![tag >> 16, tag, value],
        )
        .unwrap();
    }
    path
}

#[test]
fn schema_4_rows_move_into_the_clustered_table_with_large_values_kept_apart() {
    const PR_IMPORTANCE: u32 = 0x0017_0003;
    const PR_HTML: u32 = 0x1013_0102;
    let body = PropValue::Unicode("long body ".repeat(400));
    let html = PropValue::Binary((0..(1 << 20) + 7).map(|i| (i * 7) as u8).collect());
    let props = vec![
        (PR_SUBJECT_W, PropValue::Unicode("small".into())),
        (PR_IMPORTANCE, PropValue::Long(2)),
        (PR_BODY_W, body.clone()),
        (PR_HTML, html.clone()),
    ];
    let path = schema_4_store("schema4.msgstore", &props);
    // A read-only open refuses the old schema and changes nothing.
    let before = std::fs::read(&path).unwrap();
    let err = Store::open(path.to_str().unwrap(), 0)
        .map(|_| ())
        .unwrap_err();
    assert_eq!(err.code, MAPI_E_VERSION, "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before);

    let store = Store::open(path.to_str().unwrap(), MDB_WRITE).unwrap();
    assert_eq!(schema_version(&path), 5);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let query = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(
        query(
            "SELECT count(*) FROM sqlite_master WHERE name = 'props' AND sql LIKE '%WITHOUT ROWID'"
        ),
        1
    );
    assert_eq!(table_rows(&path, "props_v4"), None, "the old table is gone");
    // The two large values moved out, the small ones stayed in their rows.
    assert_eq!(query("SELECT count(*) FROM big_values WHERE obj = 3"), 2);
    assert_eq!(
        query("SELECT count(*) FROM props WHERE obj = 3 AND big IS NULL AND value IS NOT NULL"),
        2
    );
    let mut sorted = props.clone();
    sorted.sort_by_key(|(tag, _)| tag >> 16);
    let stored = store.storage().read(|t| t.props(3)).unwrap();
    assert_eq!(stored, sorted, "every value reads back as it was");

    // The message opens and saves; its replaced large value is deleted with the save.
    let Opened::Message(m) = store
        .open_entry(Some(&store.entry_id(MAPI_MESSAGE, 3)), MAPI_MODIFY)
        .unwrap()
    else {
        panic!("object 3 is a message")
    };
    assert_eq!(m.base_cn(), 7);
    m.set_props(vec![PropInput {
        index: 0,
        tag: PR_BODY_W,
        value: PropValue::Unicode("short now".into()),
    }])
    .unwrap();
    m.save_changes(KEEP_OPEN_READWRITE).unwrap();
    assert_eq!(query("SELECT count(*) FROM big_values"), 1);
    let html_now = store.storage().read(|t| t.prop(3, (PR_HTML >> 16) as u16));
    assert_eq!(html_now.unwrap(), Some((PR_HTML, html)));
    assert_eq!(
        query("SELECT count(*) FROM pragma_integrity_check WHERE integrity_check <> 'ok'"),
        0
    );
    drop((m, store));
    // Reopened read-only: it is a current store now.
    Store::open(path.to_str().unwrap(), 0).unwrap();
}
