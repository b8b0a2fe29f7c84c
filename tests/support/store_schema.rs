//! Everything the integration tests know about the store file's SQLite schema, in one place:
//! the only SQL the tests run against store files. When the schema changes (typed value
//! columns, a new schema version with migrations), this file is the one to edit; the tests
//! that use it name damage by what it means, not by the SQL that does it.
//!
//! Included with `#[path = "support/store_schema.rs"] mod store_schema;` (not a test target of
//! its own: cargo only builds `tests/*.rs`).

#![allow(dead_code)] // each test binary uses part of it

use rusqlite::Connection;
use std::path::Path;

/// The schema version this build writes; a store claiming `CURRENT_SCHEMA_VERSION + 1` was
/// written by a newer build.
pub const CURRENT_SCHEMA_VERSION: i64 = msgstore::storage::sqlite::SCHEMA_VERSION;

/// The object row of the store object itself (its own properties hang off it).
pub const STORE_OBJECT_ROW: u64 = 1;

/// Runs `sql` on a store file no store object has open (creating the file if needed).
pub fn run_sql(path: &Path, sql: &str) {
    let conn = Connection::open(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    conn.execute_batch(sql)
        .unwrap_or_else(|e| panic!("run_sql({sql}) on {}: {e}", path.display()));
}

/// An SQLite database of someone else's: not a store.
pub fn make_foreign_sqlite(path: &Path) {
    run_sql(
        path,
        "CREATE TABLE contacts(name TEXT); INSERT INTO contacts VALUES ('Ann');",
    );
}

/// An SQLite database of someone else's that happens to have a table with the name of the
/// store's own metadata table.
pub fn make_foreign_sqlite_with_our_meta_table_name(path: &Path) {
    run_sql(
        path,
        "CREATE TABLE meta(key TEXT, value BLOB); INSERT INTO meta VALUES ('owner', 'x');",
    );
}

/// Sets the schema version the store file claims.
pub fn set_schema_version(path: &Path, version: i64) {
    run_sql(
        path,
        &format!("UPDATE meta SET value = {version} WHERE key = 'schema_version'"),
    );
}

/// Removes the schema version from the store file.
pub fn delete_schema_version(path: &Path) {
    run_sql(path, "DELETE FROM meta WHERE key = 'schema_version'");
}

/// Puts back the current schema version (after `delete_schema_version`) and damages the store
/// GUID (two bytes instead of sixteen).
pub fn restore_schema_version_and_damage_store_guid(path: &Path) {
    run_sql(
        path,
        &format!(
            "INSERT INTO meta VALUES ('schema_version', {CURRENT_SCHEMA_VERSION});\
             UPDATE meta SET value = x'0102' WHERE key = 'store_guid'"
        ),
    );
}

/// A store file that brings a trigger (with a query that never ends) on the properties table.
pub const PLANTED_TRIGGER: &str =
    "CREATE TRIGGER spin AFTER INSERT ON props BEGIN SELECT count(*) FROM \
     (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c); END";

/// A store file that brings a view.
pub const PLANTED_VIEW: &str = "CREATE VIEW v AS SELECT * FROM objects";

/// Makes `parent` the parent folder of `folder` (object IDs as in entry IDs).
pub fn set_parent(path: &Path, folder: u64, parent: u64) {
    let conn = Connection::open(path).unwrap();
    conn.execute(
        "UPDATE objects SET parent = ?1 WHERE id = ?2",
        [parent as i64, folder as i64],
    )
    .unwrap();
}

/// One kind of damage done to a closed store, in terms of what is damaged.
#[derive(Clone, Copy, Debug)]
pub enum Damage {
    /// One stored property value of `obj` (the property with ID `prop_id`, which must exist)
    /// becomes a blob too short for its type.
    ValueTooShort { obj: u64, prop_id: u16 },
    /// ... becomes SQL TEXT where a blob belongs.
    ValueIsText { obj: u64, prop_id: u16 },
    /// ... becomes an SQL INTEGER where a blob belongs.
    ValueIsInteger { obj: u64, prop_id: u16 },
    /// ... becomes a PT_MV_BINARY whose element length overruns the value.
    MvLengthOverruns { obj: u64, prop_id: u16 },
    /// ... becomes a PT_UNICODE whose bytes are not UTF-8.
    UnicodeNotUtf8 { obj: u64, prop_id: u16 },
    /// ... has its tag's type changed to one the provider never stores (PT_OBJECT).
    TypeNotStored { obj: u64, prop_id: u16 },
    /// ... has a tag beyond 32 bits.
    TagBeyond32Bits { obj: u64, prop_id: u16 },
    /// The object row's change number is negative.
    ChangeNumberNegative { obj: u64 },
    /// ... is 2^48, beyond the 48 bits a change number has.
    ChangeNumberBeyond48Bits { obj: u64 },
    /// ... is not a number.
    ChangeNumberNotANumber { obj: u64 },
    /// The object row's flags are not a number.
    FlagsNotANumber { obj: u64 },
    /// The object row says it is a kind of object that does not exist.
    KindChanged { obj: u64 },
    /// The object row is deleted, its properties are left behind (orphaned).
    ObjectRowDeleted { obj: u64 },
    /// The object row and its properties are deleted.
    ObjectAndPropsDeleted { obj: u64 },
    /// A property that cannot be decoded (a PT_LONG of one byte, with ID 0x3001) is added to
    /// `obj` (a folder or the store object).
    UndecodablePropAdded { obj: u64 },
    /// A property that cannot be decoded (a PT_UNICODE that is not UTF-8, with ID 0x3001) is
    /// added to `obj`.
    UndecodableUnicodePropAdded { obj: u64 },
    /// The store-wide change-number counter is 2^48, out of range.
    ChangeNumberCounterOutOfRange,
    /// The properties table is dropped.
    PropsTableDropped,
    /// The objects table is dropped.
    ObjectsTableDropped,
}

/// The SQL that does `damage`.
fn damage_sql(damage: Damage) -> String {
    use Damage::*;
    match damage {
        ValueTooShort { obj, prop_id } => {
            format!("UPDATE props SET value = x'0102' WHERE obj = {obj} AND id = {prop_id}")
        }
        ValueIsText { obj, prop_id } => {
            format!("UPDATE props SET value = 'text' WHERE obj = {obj} AND id = {prop_id}")
        }
        ValueIsInteger { obj, prop_id } => {
            format!("UPDATE props SET value = 5 WHERE obj = {obj} AND id = {prop_id}")
        }
        MvLengthOverruns { obj, prop_id } => format!(
            "UPDATE props SET tag = {}, value = x'FFFFFF7F01' WHERE obj = {obj} AND id = {prop_id}",
            tag(0x1102, prop_id)
        ),
        UnicodeNotUtf8 { obj, prop_id } => format!(
            "UPDATE props SET tag = {}, value = CAST(x'C3FFFE' AS TEXT) WHERE obj = {obj} AND id = {prop_id}",
            tag(0x001F, prop_id)
        ),
        TypeNotStored { obj, prop_id } => format!(
            "UPDATE props SET tag = {} WHERE obj = {obj} AND id = {prop_id}",
            tag(0x000D, prop_id)
        ),
        TagBeyond32Bits { obj, prop_id } => format!(
            "UPDATE props SET tag = {} WHERE obj = {obj} AND id = {prop_id}",
            (1u64 << 32) | tag(0x001E, prop_id)
        ),
        ChangeNumberNegative { obj } => format!("UPDATE objects SET cn = -1 WHERE id = {obj}"),
        ChangeNumberBeyond48Bits { obj } => {
            format!("UPDATE objects SET cn = 281474976710656 WHERE id = {obj}")
        }
        ChangeNumberNotANumber { obj } => format!("UPDATE objects SET cn = 'x' WHERE id = {obj}"),
        FlagsNotANumber { obj } => format!("UPDATE objects SET flags = 'z' WHERE id = {obj}"),
        KindChanged { obj } => format!("UPDATE objects SET kind = 99 WHERE id = {obj}"),
        ObjectRowDeleted { obj } => format!("DELETE FROM objects WHERE id = {obj}"),
        ObjectAndPropsDeleted { obj } => {
            format!("DELETE FROM props WHERE obj = {obj}; DELETE FROM objects WHERE id = {obj}")
        }
        UndecodablePropAdded { obj } => format!(
            "INSERT INTO props(obj, id, tag, value) VALUES ({obj}, 12289, {}, x'FF')",
            tag(0x0003, 0x3001)
        ),
        UndecodableUnicodePropAdded { obj } => format!(
            "INSERT INTO props(obj, id, tag, value) VALUES ({obj}, 12289, {}, x'FF')",
            tag(0x001F, 0x3001)
        ),
        ChangeNumberCounterOutOfRange => {
            "UPDATE meta SET value = 281474976710656 WHERE key = 'next_cn'".to_string()
        }
        PropsTableDropped => "DROP TABLE props".to_string(),
        ObjectsTableDropped => "DROP TABLE objects".to_string(),
    }
}

fn tag(prop_type: u16, prop_id: u16) -> u64 {
    (u64::from(prop_id) << 16) | u64::from(prop_type)
}

/// Damages the closed store at `path`.
pub fn damage(path: &Path, damage: Damage) {
    run_sql(path, &damage_sql(damage));
}
