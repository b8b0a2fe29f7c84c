//! The PostgreSQL engine's schema, shared by every store of one database (each row keyed by its
//! store), and its ordered migrations, applied under an advisory lock so that hosts opening a
//! new database at once do not collide (DESIGN.md §8).

use super::super::{ErrorKind, StorageError, StorageResult};
use super::pg_error;
use postgres::Client;

/// The schema this build reads and writes.
pub const SCHEMA_VERSION: i64 = 4;

/// The advisory lock that serialises schema changes ("msgstore" in ASCII).
const SCHEMA_LOCK: i64 = 0x6d73_6773_746f_7265;

/// Every upgrade, in order: `MIGRATIONS[n]` takes a database from version n to n + 1.
const MIGRATIONS: &[&str] = &[
    // 0 → 1: the first schema.
    "CREATE TABLE msgstore_meta (key text PRIMARY KEY, value bigint NOT NULL);
     INSERT INTO msgstore_meta VALUES ('schema_version', 0);
     -- Change numbers: one sequence for the database, 48-bit (DESIGN.md §4).
     CREATE SEQUENCE msgstore_cn MAXVALUE 281474976710655;
     -- Object IDs: never given twice (the fixed objects 1 and 2 of every store come before).
     CREATE SEQUENCE msgstore_object_id START 3;
     CREATE TABLE msgstore_stores (
         store bigserial PRIMARY KEY,
         name text NOT NULL UNIQUE,
         guid bytea NOT NULL);
     CREATE TABLE msgstore_objects (
         store bigint NOT NULL,
         id bigint NOT NULL,
         kind integer NOT NULL,
         parent bigint,
         cn bigint NOT NULL,
         flags integer NOT NULL DEFAULT 0,
         PRIMARY KEY (store, id));
     CREATE INDEX msgstore_objects_by_parent ON msgstore_objects (store, parent, kind);
     -- One typed column per kind of value, so SQL can sort and filter on a property.
     CREATE TABLE msgstore_props (
         store bigint NOT NULL,
         obj bigint NOT NULL,
         id integer NOT NULL,
         tag bigint NOT NULL,
         v_int bigint,
         v_real double precision,
         v_text text,
         v_bin bytea,
         PRIMARY KEY (store, obj, id));",
    // 1 → 2: a token per write transaction, committed with it, so that a COMMIT whose
    // connection is lost is answered exactly (DESIGN.md §8). A transaction ID cannot be: one
    // whose WAL never reached disk before a crash is given again after recovery, and
    // `txid_status` then answers for the other transaction. `by_probe` marks a token the
    // question itself wrote, which also forecloses the lost transaction. BRIN on the time:
    // the sweep of old tokens reads old pages only, and an insert pays nothing for it.
    "CREATE TABLE msgstore_commits (
         token bytea PRIMARY KEY,
         at timestamptz NOT NULL DEFAULT now(),
         by_probe boolean NOT NULL DEFAULT false);
     CREATE INDEX msgstore_commits_at ON msgstore_commits USING brin (at);",
    // 2 → 3 (self-contained, so that it can be renumbered when other upgrades are merged
    // before it): the named-property mapping, one per store (core/named.rs), unique by ID and
    // by name (`storage::named_columns`; text equality is byte for byte under a deterministic
    // collation, so string names are case-sensitive as MAPI's are). Two hosts creating one name
    // at once: the second insert waits for the first and does nothing (ON CONFLICT DO NOTHING).
    "CREATE TABLE msgstore_named (
         store bigint NOT NULL,
         id integer NOT NULL,
         guid bytea NOT NULL,
         kind integer NOT NULL,
         lid integer NOT NULL,
         name text NOT NULL,
         PRIMARY KEY (store, id),
         UNIQUE (store, guid, kind, lid, name));",
    // 3 → 4: binary values are stored out of line uncompressed (EXTERNAL), so that a stream
    // reading a large value piece by piece (`substring`) fetches only the TOAST chunks of that
    // piece; a compressed value would be decompressed from its start for every piece. Rows
    // written before keep their storage until they are rewritten.
    "ALTER TABLE msgstore_props ALTER COLUMN v_bin SET STORAGE EXTERNAL;",
];

/// Brings the database's schema to this build's version (creating it in an empty database)
/// when `writable`; refuses a newer one, and an older one on a read-only open.
pub fn prepare(client: &mut Client, writable: bool, redacted: &str) -> StorageResult<()> {
    let e = |what: &'static str| move |err| pg_error(err, what);
    let version = current_version(client)?;
    if version == SCHEMA_VERSION {
        return Ok(());
    }
    if version > SCHEMA_VERSION {
        return Err(StorageError::new(
            ErrorKind::Version,
            format!(
                "{redacted}: the database has msgstore schema version {version}; this build reads \
                 {SCHEMA_VERSION}"
            ),
        ));
    }
    if !writable {
        return Err(StorageError::new(
            if version == 0 {
                ErrorKind::NotFound
            } else {
                ErrorKind::Version
            },
            format!(
                "{redacted}: the database has msgstore schema version {version}, older than this \
                 build's {SCHEMA_VERSION}; open it once with MDB_WRITE to upgrade it"
            ),
        ));
    }
    let mut tx = client.transaction().map_err(e("beginning the upgrade"))?;
    tx.query("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])
        .map_err(e("waiting for the schema lock"))?;
    // Re-read under the lock: another host may have done the work meanwhile.
    let mut version = version_in(&mut tx)?;
    while version < SCHEMA_VERSION {
        tx.batch_execute(MIGRATIONS[version as usize])
            .map_err(e("upgrading the schema"))?;
        version += 1;
        tx.execute(
            "UPDATE msgstore_meta SET value = $1 WHERE key = 'schema_version'",
            &[&version],
        )
        .map_err(e("recording the schema version"))?;
    }
    tx.commit().map_err(e("committing the upgrade"))
}

fn current_version(client: &mut Client) -> StorageResult<i64> {
    let mut tx = client
        .build_transaction()
        .read_only(true)
        .start()
        .map_err(|e| pg_error(e, "reading the schema version"))?;
    let v = version_in(&mut tx)?;
    tx.commit()
        .map_err(|e| pg_error(e, "reading the schema version"))?;
    Ok(v)
}

/// The schema version (0: no msgstore schema in this database yet).
fn version_in(tx: &mut postgres::Transaction) -> StorageResult<i64> {
    let e = |err| pg_error(err, "reading the schema version");
    let exists: bool = tx
        // A scan of pg_class under this statement's snapshot: to_regclass() would consult the
        // catalog cache, which an advisory lock does not refresh, and miss a table another
        // host just created.
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c \
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relname = 'msgstore_meta' AND n.nspname = current_schema())",
            &[],
        )
        .map_err(e)?
        .get(0);
    if !exists {
        return Ok(0);
    }
    let row = tx
        .query_opt(
            "SELECT value FROM msgstore_meta WHERE key = 'schema_version'",
            &[],
        )
        .map_err(e)?;
    row.map(|r| r.get(0))
        .ok_or_else(|| StorageError::corrupt("the msgstore schema version is missing"))
}
