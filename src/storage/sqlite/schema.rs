//! The SQLite engine's schema: how a new store is laid out, how an existing file is recognised
//! as a store, and the ordered list of upgrades from every older schema (DESIGN.md §6). An
//! upgrade runs at a writable open, all of it in one transaction (a crash leaves the old schema
//! or the new one, never neither); a read-only open never writes and refuses an older schema
//! with MAPI_E_VERSION and a message that says how to upgrade.

use super::super::{ErrorKind, StorageError, StorageResult, KIND_FOLDER, KIND_STORE};
use super::super::{ROOT_FOLDER_ID, STORE_OBJECT_ID};
use super::codec::{decode_v1, to_sql};
use super::txn::{in_transaction, LARGE_VALUE_BYTES};
use rusqlite::{params, Connection};

/// The schema this build reads and writes.
pub const SCHEMA_VERSION: i64 = 5;

/// One upgrade: from `from` to `from + 1`.
struct Migration {
    from: i64,
    what: &'static str,
    run: fn(&Connection) -> StorageResult<()>,
}

/// Every upgrade, in order. Each keeps every object ID, property, change key and PCL.
const MIGRATIONS: &[Migration] = &[
    Migration {
        from: 1,
        what: "typed property values and never-reused object IDs",
        run: upgrade_1_to_2,
    },
    // Self-contained (it only adds a table), so that it can be renumbered when other upgrades
    // are merged before it.
    Migration {
        from: 2,
        what: "the named-property mapping",
        run: add_named_properties,
    },
    // Self-contained too (it only adds a table).
    Migration {
        from: 3,
        what: "the change log (notifications)",
        run: add_change_log,
    },
    Migration {
        from: 4,
        what: "property rows clustered by object, large values in their own table",
        run: cluster_props,
    },
];

/// The property rows (schema 5): clustered on (object, property ID), so that an object's
/// properties are one B-tree seek and a contiguous run of leaf cells, wherever and whenever
/// they were written (schema 4's rowid table read each row through its primary-key index plus
/// a table seek: two B-trees four levels deep at 10^6 messages; and a property added later
/// landed at the table's end, on another page).
///
/// `value` has BLOB affinity: SQLite keeps each value with the type it is given (codec.rs), so
/// SQL can sort and compare properties. A large value (txn.rs `is_large`) is not kept in the
/// clustered row, where it would spill to overflow pages and widen the interior cells it is
/// copied into: its row has `value` NULL and `big` naming its row in `big_values`, a rowid
/// table (which an incremental BLOB handle needs for the piecewise write of large binaries).
/// Every read of a value reads `big` too (txn.rs `value_at`). A `big_values` row belongs to the
/// object `obj`; rows no property names any longer are deleted by the write that unnamed them.
const PROPS_TABLE: &str = "CREATE TABLE props (
         obj INTEGER NOT NULL,
         id INTEGER NOT NULL,
         tag INTEGER NOT NULL,
         value BLOB,
         big INTEGER,
         PRIMARY KEY (obj, id)) WITHOUT ROWID;
     CREATE TABLE big_values (
         id INTEGER PRIMARY KEY,
         obj INTEGER NOT NULL,
         value BLOB NOT NULL);
     CREATE INDEX big_values_by_obj ON big_values(obj);";

/// Schema 4 → 5: the property rows move into the clustered table, large values (those at least
/// `LARGE_VALUE_BYTES` long, the rule the writer follows) into `big_values`.
fn cluster_props(conn: &Connection) -> StorageResult<()> {
    conn.execute_batch("ALTER TABLE props RENAME TO props_v4;")?;
    conn.execute_batch(PROPS_TABLE)?;
    // length() of a BLOB reads its size only; a TEXT value's byte length is its BLOB length.
    let large = format!(
        "(typeof(value) = 'blob' AND length(value) >= {0}) \
         OR (typeof(value) = 'text' AND length(CAST(value AS BLOB)) >= {0})",
        LARGE_VALUE_BYTES
    );
    conn.execute(
        &format!(
            "INSERT INTO props(obj, id, tag, value) SELECT obj, id, tag, value FROM props_v4 \
             WHERE NOT ({large}) ORDER BY obj, id"
        ),
        [],
    )?;
    let rows: Vec<(i64, i64)> = {
        let mut stmt = conn.prepare(&format!(
            "SELECT obj, id FROM props_v4 WHERE {large} ORDER BY obj, id"
        ))?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    for (obj, id) in rows {
        // Copied by SQLite from row to row: the value never comes into this process.
        conn.execute(
            "INSERT INTO big_values(obj, value) SELECT obj, value FROM props_v4 \
             WHERE obj = ?1 AND id = ?2",
            params![obj, id],
        )?;
        conn.execute(
            "INSERT INTO props(obj, id, tag, value, big) SELECT obj, id, tag, NULL, ?3 \
             FROM props_v4 WHERE obj = ?1 AND id = ?2",
            params![obj, id, conn.last_insert_rowid()],
        )?;
    }
    conn.execute_batch("DROP TABLE props_v4;")?;
    Ok(())
}

/// The change log (feed.rs): one row per committed change to a folder, a message or the store
/// object, written in the change's own transaction, pruned by writers to the last
/// `feed::KEEP_CHANGES` rows. `seq` is the rowid: SQLite has one writer at a time, so rows are
/// numbered in commit order and a reader that has seen `seq` has seen everything before it.
const CHANGES_TABLE: &str = "CREATE TABLE changes (
         seq INTEGER PRIMARY KEY,
         obj INTEGER NOT NULL,
         kind INTEGER NOT NULL,
         parent INTEGER,
         what INTEGER NOT NULL);";

/// Adds the change log, empty.
fn add_change_log(conn: &Connection) -> StorageResult<()> {
    conn.execute_batch(CHANGES_TABLE)?;
    Ok(())
}

/// The named-property mapping (core/named.rs): one row per name, unique by ID and by name
/// (`storage::named_columns` says how a name fills the columns; TEXT compares byte for byte,
/// so string names are case-sensitive as MAPI's are).
const NAMED_TABLE: &str = "CREATE TABLE named (
         id INTEGER PRIMARY KEY,
         guid BLOB NOT NULL,
         kind INTEGER NOT NULL,
         lid INTEGER NOT NULL,
         name TEXT NOT NULL,
         UNIQUE (guid, kind, lid, name));";

/// Adds the named-property mapping, empty.
fn add_named_properties(conn: &Connection) -> StorageResult<()> {
    conn.execute_batch(NAMED_TABLE)?;
    Ok(())
}

/// Schema 1 → 2: each property value, a little-endian BLOB in schema 1, is rewritten with its
/// SQL type (codec.rs); the object-ID counter starts past every ID in use.
fn upgrade_1_to_2(conn: &Connection) -> StorageResult<()> {
    let rows: Vec<(i64, i64, u32, Vec<u8>)> = {
        let mut stmt = conn.prepare("SELECT obj, id, tag, value FROM props")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    let mut update = conn.prepare("UPDATE props SET value = ?3 WHERE obj = ?1 AND id = ?2")?;
    for (obj, id, tag, bytes) in rows {
        let value = decode_v1(tag & 0xFFFF, &bytes)?;
        update.execute(params![obj, id, to_sql(&value)])?;
    }
    conn.execute(
        "INSERT INTO meta(key, value) VALUES ('next_id', (SELECT max(id) + 1 FROM objects))",
        [],
    )?;
    Ok(())
}

/// Lays out a new store in an empty database, in one transaction: the image `create.rs` writes
/// beside the target before linking it into place. `home` is the inode of the file it will be
/// (see [`own_guid`]).
pub fn create(conn: &Connection, home: u64) -> StorageResult<()> {
    in_transaction(conn, "BEGIN IMMEDIATE", &mut |conn| lay_out(conn, home))
}

/// Lays out a new store in `conn`'s database if, under the write lock, it is still an empty
/// database (what an interrupted creation by an earlier build left, see [`is_empty`]); returns
/// whether it did. Of several openers finishing one remnant at once, the first lays it out and
/// the others, waiting for the lock, find the store there.
pub fn create_if_empty(conn: &Connection, home: u64) -> StorageResult<bool> {
    let mut created = false;
    in_transaction(conn, "BEGIN IMMEDIATE", &mut |conn| {
        created = is_empty(conn)?;
        if created {
            lay_out(conn, home)?;
        }
        Ok(())
    })?;
    Ok(created)
}

/// Whether the database is an empty one: no schema at all, no user version, no application ID.
/// That is what SQLite leaves of a creation interrupted before its first table (an earlier build
/// created the file, switched it to WAL, then laid out the tables: a crash in between left this),
/// and it holds nothing of anyone's, so MAPI_CREATE may make the store in it.
pub fn is_empty(conn: &Connection) -> StorageResult<bool> {
    let (objects, user_version, app_id): (i64, i64, i64) = conn
        .query_row(
            "SELECT (SELECT count(*) FROM sqlite_master), \
             (SELECT user_version FROM pragma_user_version), \
             (SELECT application_id FROM pragma_application_id)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .map_err(not_a_store)?;
    Ok(objects == 0 && user_version == 0 && app_id == 0)
}

fn lay_out(conn: &Connection, home: u64) -> StorageResult<()> {
    let mut guid = [0u8; 16];
    getrandom(&mut guid)?;
    // RFC 4122 version 4 bits, so tools show it as a random GUID.
    guid[7] = (guid[7] & 0x0F) | 0x40;
    guid[8] = (guid[8] & 0x3F) | 0x80;
    conn.execute_batch(
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
         CREATE TABLE objects (
             id INTEGER PRIMARY KEY,
             kind INTEGER NOT NULL,
             parent INTEGER,
             cn INTEGER NOT NULL,
             flags INTEGER NOT NULL DEFAULT 0);
         CREATE INDEX objects_by_parent ON objects(parent, kind);",
    )?;
    conn.execute_batch(PROPS_TABLE)?;
    conn.execute_batch(NAMED_TABLE)?;
    conn.execute_batch(CHANGES_TABLE)?;
    conn.execute(
        "INSERT INTO meta(key, value) VALUES ('schema_version', ?1), ('store_guid', ?2), \
         ('next_cn', 1), ('next_id', ?3), ('home', ?4)",
        params![
            SCHEMA_VERSION,
            guid.to_vec(),
            ROOT_FOLDER_ID as i64 + 1,
            home as i64
        ],
    )?;
    conn.execute(
        "INSERT INTO objects(id, kind, parent, cn, flags) VALUES (?1, ?2, NULL, 0, 0), \
         (?3, ?4, NULL, 0, 0)",
        params![
            STORE_OBJECT_ID as i64,
            KIND_STORE,
            ROOT_FOLDER_ID as i64,
            KIND_FOLDER
        ],
    )?;
    Ok(())
}

/// Checks, changing nothing, that an existing file is a store of a schema this build reads (or
/// can upgrade, when `writable`); returns its schema version.
pub fn check(conn: &Connection, writable: bool) -> StorageResult<i64> {
    let version = recognise(conn)?;
    if version > SCHEMA_VERSION {
        return Err(StorageError::new(
            ErrorKind::Version,
            format!("the store has schema version {version}; this build reads {SCHEMA_VERSION}"),
        ));
    }
    if version < SCHEMA_VERSION {
        if !MIGRATIONS.iter().any(|m| m.from == version) {
            return Err(StorageError::corrupt(format!(
                "unknown schema version {version}"
            )));
        }
        if !writable {
            return Err(StorageError::new(
                ErrorKind::Version,
                format!(
                    "the store has schema version {version}, older than this build's \
                     {SCHEMA_VERSION}; open it once with MDB_WRITE to upgrade it in place (a \
                     read-only open changes nothing)"
                ),
            ));
        }
    }
    Ok(version)
}

/// Brings a checked store of schema `version` up to this build's schema, then returns its GUID.
pub fn upgrade_and_read_guid(conn: &Connection, version: i64) -> StorageResult<[u8; 16]> {
    if version < SCHEMA_VERSION {
        upgrade(conn, MIGRATIONS)?;
    }
    read_guid(conn)
}

/// The GUID a store file goes by (issue 12, item 7: a copy is another store). A store records
/// the inode of the file it was created in (`home`). A file whose inode is another one is a
/// copy of that store (or a store moved to another file system, or restored from a copy): it
/// keeps every object and property but is a store of its own, with a GUID derived from the
/// original's and the new file's identity (inode and birth time), so its entry IDs, record
/// keys and change keys are its own and the original's name nothing in it. The derivation is
/// deterministic: a read-only open (which writes nothing) computes the GUID that the first
/// writable open then records, with the new home, in one transaction. A store from before
/// `home` was recorded adopts its file at its first writable open.
pub fn own_guid(
    conn: &Connection,
    guid: [u8; 16],
    ino: u64,
    btime: u64,
    writable: bool,
) -> StorageResult<[u8; 16]> {
    let home = read_home(conn)?;
    if home == Some(ino) {
        return Ok(guid);
    }
    if !writable {
        return Ok(match home {
            None => guid,
            Some(_) => derive_guid(&guid, ino, btime),
        });
    }
    let mut out = guid;
    in_transaction(conn, "BEGIN IMMEDIATE", &mut |conn| {
        // Again under the lock: another opener of this copy may have settled it meanwhile.
        let guid = read_guid(conn)?;
        let home = read_home(conn)?;
        out = match home {
            Some(h) if h != ino => derive_guid(&guid, ino, btime),
            _ => guid,
        };
        if home != Some(ino) {
            conn.execute(
                "INSERT INTO meta(key, value) VALUES ('home', ?1) \
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [ino as i64],
            )?;
            conn.execute(
                "UPDATE meta SET value = ?1 WHERE key = 'store_guid'",
                [out.to_vec()],
            )?;
        }
        Ok(())
    })?;
    Ok(out)
}

fn read_home(conn: &Connection) -> StorageResult<Option<u64>> {
    use rusqlite::OptionalExtension;
    let home: Option<i64> = conn
        .query_row("SELECT value FROM meta WHERE key = 'home'", [], |r| {
            r.get(0)
        })
        .optional()?;
    Ok(home.map(|h| h as u64))
}

fn read_guid(conn: &Connection) -> StorageResult<[u8; 16]> {
    let guid: Vec<u8> = conn
        .query_row("SELECT value FROM meta WHERE key = 'store_guid'", [], |r| {
            r.get(0)
        })
        .map_err(not_a_store)?;
    guid.try_into()
        .map_err(|_| StorageError::corrupt("the store GUID is damaged"))
}

/// A copy's GUID: a fixed mix (splitmix64 rounds) of the original's GUID and the file's
/// identity, with the RFC 4122 version 4 bits. Fixed so that every build derives the same one.
fn derive_guid(guid: &[u8; 16], ino: u64, btime: u64) -> [u8; 16] {
    fn mix(mut z: u64) -> u64 {
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    let a = u64::from_le_bytes(guid[..8].try_into().expect("8 bytes"));
    let b = u64::from_le_bytes(guid[8..].try_into().expect("8 bytes"));
    let h1 = mix(a ^ mix(ino ^ mix(btime)));
    let h2 = mix(b ^ mix(h1 ^ ino.rotate_left(29)) ^ btime.rotate_left(41));
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&mix(h1 ^ h2).to_le_bytes());
    out[8..].copy_from_slice(&h2.to_le_bytes());
    out[7] = (out[7] & 0x0F) | 0x40;
    out[8] = (out[8] & 0x3F) | 0x80;
    if out == *guid {
        out[0] ^= 1;
    }
    out
}

/// Runs `steps` in one write transaction; the version is re-read under the lock, so that of two
/// openers upgrading at once the second finds the work done.
fn upgrade(conn: &Connection, steps: &[Migration]) -> StorageResult<()> {
    in_transaction(conn, "BEGIN IMMEDIATE", &mut |conn| {
        let mut version = recognise(conn)?;
        let start = version;
        for m in steps.iter().filter(|m| m.from >= start) {
            if m.from != version {
                return Err(StorageError::corrupt(format!(
                    "no upgrade from schema version {version}"
                )));
            }
            (m.run)(conn).map_err(|e| StorageError {
                message: format!("upgrading the store ({}): {}", m.what, e.message),
                ..e
            })?;
            version = m.from + 1;
            conn.execute(
                "UPDATE meta SET value = ?1 WHERE key = 'schema_version'",
                [version],
            )?;
        }
        Ok(())
    })
}

/// The schema version of a file that looks like a store (its tables only, nothing else).
fn recognise(conn: &Connection) -> StorageResult<i64> {
    let version: i64 = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .map_err(not_a_store)?;
    // A store's schema is tables and indexes only. SQLite runs a file's triggers (and expands
    // its views) as part of our own statements, so a file that brings some could make every
    // write loop forever (a trigger with a recursive query): refuse it here.
    let code: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type NOT IN ('table', 'index')",
            [],
            |r| r.get(0),
        )
        .map_err(not_a_store)?;
    if code != 0 {
        return Err(StorageError::corrupt(
            "not a msgstore file (its schema has triggers or views, which a store never has)",
        ));
    }
    if version < 1 {
        return Err(StorageError::corrupt(format!(
            "unknown schema version {version}"
        )));
    }
    Ok(version)
}

/// An error reading what should be a store's schema: "not a msgstore file" when the file is not
/// one (no such table, not a database, damaged); anything else (busy, no access, out of memory,
/// I/O) as itself, since it says nothing about what the file is.
fn not_a_store(e: rusqlite::Error) -> StorageError {
    match StorageError::from(e) {
        e if e.kind == ErrorKind::Corrupt => {
            StorageError::corrupt(format!("not a msgstore file ({})", e.message))
        }
        e => e,
    }
}

/// Reads 16 random bytes from the OS.
fn getrandom(buf: &mut [u8]) -> StorageResult<()> {
    use std::io::Read;
    let mut f = std::fs::File::open("/dev/urandom")
        .map_err(|e| StorageError::new(ErrorKind::Io, format!("/dev/urandom: {e}")))?;
    f.read_exact(buf)
        .map_err(|e| StorageError::new(ErrorKind::Io, format!("/dev/urandom: {e}")))
}
