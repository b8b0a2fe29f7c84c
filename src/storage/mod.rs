//! Persistence (DESIGN.md §6): one SQLite file per store, WAL, `synchronous=FULL` by default,
//! `BEGIN IMMEDIATE` for every write so that a compare and the write it guards are one
//! transaction across threads and processes, a busy timeout so writers wait instead of failing,
//! mode 0600, and a schema version checked on open. Properties are rows keyed by (object,
//! property ID), so a save writes what changed. This layer knows tags and bytes, nothing of MAPI.

use parking_lot::Mutex;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};
use std::fmt;
use std::fs::OpenOptions;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::Duration;

/// The schema this build reads and writes.
pub const SCHEMA_VERSION: i64 = 1;
/// Object kinds, as PR_OBJECT_TYPE numbers them.
pub const KIND_STORE: u32 = 1;
pub const KIND_FOLDER: u32 = 3;
pub const KIND_MESSAGE: u32 = 5;
/// The fixed objects every store has.
pub const STORE_OBJECT_ID: u64 = 1;
pub const ROOT_FOLDER_ID: u64 = 2;
/// Change numbers are 48-bit (they travel as 6 bytes in change keys).
pub const MAX_CN: u64 = (1 << 48) - 1;
const BUSY_TIMEOUT: Duration = Duration::from_secs(60);
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The file does not exist (and was not to be created).
    NotFound,
    /// The file is not a store, or it is damaged.
    Corrupt,
    /// The file was written by a newer schema.
    Version,
    /// Another writer held the lock past the busy timeout.
    Busy,
    /// The file or store is read-only.
    ReadOnly,
    /// The disk is full.
    Full,
    /// Any other I/O or engine failure.
    Io,
}

#[derive(Debug, Clone)]
pub struct StorageError {
    pub kind: ErrorKind,
    pub message: String,
}

impl StorageError {
    fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        StorageError {
            kind,
            message: message.into(),
        }
    }
    pub fn corrupt(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Corrupt, message)
    }
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)
    }
}

impl From<rusqlite::Error> for StorageError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode as C;
        let kind = match e.sqlite_error_code() {
            Some(C::DatabaseBusy) | Some(C::DatabaseLocked) => ErrorKind::Busy,
            Some(C::DatabaseCorrupt) | Some(C::NotADatabase) => ErrorKind::Corrupt,
            Some(C::ReadOnly) => ErrorKind::ReadOnly,
            Some(C::DiskFull) => ErrorKind::Full,
            Some(C::CannotOpen) => ErrorKind::NotFound,
            _ => ErrorKind::Io,
        };
        StorageError::new(kind, format!("store database: {e}"))
    }
}

pub type StorageResult<T> = Result<T, StorageError>;

/// How to open a store file.
#[derive(Debug, Clone, Copy)]
pub struct OpenMode {
    /// Create the file (and its schema) if absent.
    pub create: bool,
    /// Open for writing; otherwise read-only.
    pub write: bool,
    /// `synchronous=FULL` (a commit survives a machine crash) instead of NORMAL.
    pub durable: bool,
}

/// One row of the objects table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectRow {
    pub id: u64,
    pub kind: u32,
    pub parent: Option<u64>,
    pub cn: u64,
    pub flags: u32,
}

/// A stored property: its full tag and its encoded value.
pub type PropRow = (u32, Vec<u8>);

/// An open store file. One connection, shared by the handle's threads under a mutex; other
/// handles and processes have their own connections and meet in SQLite's locks.
pub struct Storage {
    conn: Mutex<Connection>,
    guid: [u8; 16],
    writable: bool,
}

impl Storage {
    /// Opens (and with `create`, creates) a store file. Checks the header and the schema only.
    pub fn open(path: &Path, opts: OpenMode) -> StorageResult<Storage> {
        let exists = path.exists();
        if !exists && !opts.create {
            return Err(StorageError::new(
                ErrorKind::NotFound,
                format!("no store file at {}", path.display()),
            ));
        }
        if !exists && !opts.write {
            return Err(StorageError::new(
                ErrorKind::ReadOnly,
                "a store cannot be created read-only (pass MDB_WRITE with MAPI_CREATE)",
            ));
        }
        if !exists {
            // Create it ourselves so the mode is 0600 whatever the umask; SQLite gives its WAL
            // and shared-memory files the same mode as the main file.
            OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
                .map_err(|e| {
                    StorageError::new(
                        ErrorKind::Io,
                        format!("cannot create {}: {e}", path.display()),
                    )
                })?;
        }
        let len = std::fs::metadata(path)
            .map_err(|e| StorageError::new(ErrorKind::Io, format!("{}: {e}", path.display())))?
            .len();
        let fresh = len == 0;
        if !fresh {
            let mut magic = [0u8; 16];
            let mut f = std::fs::File::open(path).map_err(|e| {
                StorageError::new(ErrorKind::Io, format!("{}: {e}", path.display()))
            })?;
            if f.read_exact(&mut magic).is_err() || &magic != SQLITE_MAGIC {
                return Err(StorageError::corrupt(format!(
                    "{} is not a msgstore file (no SQLite header)",
                    path.display()
                )));
            }
        }
        if fresh && !opts.create {
            return Err(StorageError::corrupt(format!(
                "{} is empty: not a msgstore file",
                path.display()
            )));
        }
        let flags = if opts.write {
            OpenFlags::SQLITE_OPEN_READ_WRITE
        } else {
            OpenFlags::SQLITE_OPEN_READ_ONLY
        } | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags)?;
        // SQLite quietly opens a write-protected file read-only even when asked for writing:
        // say so, so that a caller wanting write access learns it now (MAPI_BEST_ACCESS then
        // falls back to a read-only handle) rather than at its first save.
        if opts.write && conn.is_readonly(rusqlite::MAIN_DB)? {
            return Err(StorageError::new(
                ErrorKind::ReadOnly,
                format!("{} is write-protected", path.display()),
            ));
        }
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.set_prepared_statement_cache_capacity(64);
        if opts.write {
            let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(StorageError::new(
                    ErrorKind::Io,
                    format!("cannot switch {} to WAL (got {mode})", path.display()),
                ));
            }
        }
        conn.pragma_update(
            None,
            "synchronous",
            if opts.durable { "FULL" } else { "NORMAL" },
        )?;
        if fresh {
            Self::create_schema(&conn)?;
        }
        let guid = Self::check_schema(&conn)?;
        Ok(Storage {
            conn: Mutex::new(conn),
            guid,
            writable: opts.write,
        })
    }

    fn create_schema(conn: &Connection) -> StorageResult<()> {
        let mut guid = [0u8; 16];
        getrandom(&mut guid)?;
        // RFC 4122 version 4 bits, so tools show it as a random GUID.
        guid[7] = (guid[7] & 0x0F) | 0x40;
        guid[8] = (guid[8] & 0x3F) | 0x80;
        conn.execute_batch(
            "BEGIN IMMEDIATE;
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
                 PRIMARY KEY (obj, id));",
        )?;
        let result =
            (|| -> StorageResult<()> {
                conn.execute(
                "INSERT INTO meta(key, value) VALUES ('schema_version', ?1), ('store_guid', ?2), \
                 ('next_cn', 1)",
                params![SCHEMA_VERSION, guid.to_vec()],
            )?;
                conn.execute(
                "INSERT INTO objects(id, kind, parent, cn, flags) VALUES (?1, ?2, NULL, 0, 0), \
                 (?3, ?4, NULL, 0, 0)",
                params![STORE_OBJECT_ID as i64, KIND_STORE, ROOT_FOLDER_ID as i64, KIND_FOLDER],
            )?;
                Ok(())
            })();
        match result {
            Ok(()) => conn.execute_batch("COMMIT")?,
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                return Err(e);
            }
        }
        Ok(())
    }

    fn check_schema(conn: &Connection) -> StorageResult<[u8; 16]> {
        let not_store = |e: rusqlite::Error| match StorageError::from(e) {
            e if e.kind == ErrorKind::Busy => e,
            e => StorageError::corrupt(format!("not a msgstore file ({})", e.message)),
        };
        let version: i64 = conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'schema_version'",
                [],
                |r| r.get(0),
            )
            .map_err(not_store)?;
        // A store's schema is tables and indexes only. SQLite runs a file's triggers (and
        // expands its views) as part of our own statements, so a file that brings some could
        // make every write loop forever (a trigger with a recursive query): refuse it here.
        let code: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type NOT IN ('table', 'index')",
                [],
                |r| r.get(0),
            )
            .map_err(not_store)?;
        if code != 0 {
            return Err(StorageError::corrupt(
                "not a msgstore file (its schema has triggers or views, which a store never has)",
            ));
        }
        if version > SCHEMA_VERSION {
            return Err(StorageError::new(
                ErrorKind::Version,
                format!(
                    "the store has schema version {version}; this build reads {SCHEMA_VERSION}"
                ),
            ));
        }
        if version != SCHEMA_VERSION {
            return Err(StorageError::corrupt(format!(
                "unknown schema version {version}"
            )));
        }
        let guid: Vec<u8> = conn
            .query_row("SELECT value FROM meta WHERE key = 'store_guid'", [], |r| {
                r.get(0)
            })
            .map_err(not_store)?;
        guid.try_into()
            .map_err(|_| StorageError::corrupt("the store GUID is damaged"))
    }

    pub fn guid(&self) -> [u8; 16] {
        self.guid
    }

    pub fn writable(&self) -> bool {
        self.writable
    }

    /// Runs `f` in one read transaction: a consistent snapshot.
    pub fn read<T, E: From<StorageError>>(
        &self,
        f: impl FnOnce(&Txn) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut conn = self.conn.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Deferred)
            .map_err(StorageError::from)?;
        let out = f(&Txn { conn: &tx })?;
        tx.commit().map_err(StorageError::from)?;
        Ok(out)
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction, committed when `f` succeeds and rolled
    /// back (nothing written) when it fails. While it runs no other writer, in this process or
    /// another, can commit: a compare made inside is still true at the commit.
    pub fn write<T, E: From<StorageError>>(
        &self,
        f: impl FnOnce(&Txn) -> Result<T, E>,
    ) -> Result<T, E> {
        if !self.writable {
            return Err(
                StorageError::new(ErrorKind::ReadOnly, "the store is open read-only").into(),
            );
        }
        let mut conn = self.conn.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(StorageError::from)?;
        let out = f(&Txn { conn: &tx })?;
        tx.commit().map_err(StorageError::from)?;
        Ok(out)
    }

    /// SQLite's own integrity check (a full scan: for tests and tools, never on open).
    pub fn integrity_check(&self) -> StorageResult<bool> {
        let conn = self.conn.lock();
        let result: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        Ok(result == "ok")
    }
}

/// Reads 16 random bytes from the OS.
fn getrandom(buf: &mut [u8]) -> StorageResult<()> {
    let mut f = std::fs::File::open("/dev/urandom")
        .map_err(|e| StorageError::new(ErrorKind::Io, format!("/dev/urandom: {e}")))?;
    f.read_exact(buf)
        .map_err(|e| StorageError::new(ErrorKind::Io, format!("/dev/urandom: {e}")))
}

fn row_to_object(r: &rusqlite::Row) -> rusqlite::Result<ObjectRow> {
    Ok(ObjectRow {
        id: r.get::<_, i64>(0)? as u64,
        kind: r.get::<_, i64>(1)? as u32,
        parent: r.get::<_, Option<i64>>(2)?.map(|p| p as u64),
        cn: r.get::<_, i64>(3)? as u64,
        flags: r.get::<_, i64>(4)? as u32,
    })
}

/// The operations available inside a transaction.
pub struct Txn<'a> {
    conn: &'a Connection,
}

impl Txn<'_> {
    pub fn object(&self, id: u64) -> StorageResult<Option<ObjectRow>> {
        Ok(self
            .conn
            .prepare_cached("SELECT id, kind, parent, cn, flags FROM objects WHERE id = ?1")?
            .query_row([id as i64], row_to_object)
            .optional()?)
    }

    pub fn children(&self, parent: u64, kind: u32) -> StorageResult<Vec<ObjectRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, kind, parent, cn, flags FROM objects WHERE parent = ?1 AND kind = ?2 \
             ORDER BY id",
        )?;
        let rows = stmt.query_map(params![parent as i64, kind], row_to_object)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Counts children of a kind whose flags, masked, equal `flags`.
    pub fn count_children(
        &self,
        parent: u64,
        kind: u32,
        mask: u32,
        flags: u32,
    ) -> StorageResult<u64> {
        let n: i64 = self
            .conn
            .prepare_cached(
                "SELECT count(*) FROM objects WHERE parent = ?1 AND kind = ?2 AND (flags & ?3) = ?4",
            )?
            .query_row(params![parent as i64, kind, mask, flags], |r| r.get(0))?;
        Ok(n as u64)
    }

    /// Every stored property of an object, in property-ID order.
    pub fn props(&self, obj: u64) -> StorageResult<Vec<PropRow>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT tag, value FROM props WHERE obj = ?1 ORDER BY id")?;
        let rows = stmt.query_map([obj as i64], |r| {
            Ok((r.get::<_, i64>(0)? as u32, r.get::<_, Vec<u8>>(1)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One stored property by ID.
    pub fn prop(&self, obj: u64, id: u16) -> StorageResult<Option<PropRow>> {
        Ok(self
            .conn
            .prepare_cached("SELECT tag, value FROM props WHERE obj = ?1 AND id = ?2")?
            .query_row(params![obj as i64, id], |r| {
                Ok((r.get::<_, i64>(0)? as u32, r.get::<_, Vec<u8>>(1)?))
            })
            .optional()?)
    }

    /// Takes the next change number from the store-wide counter.
    pub fn alloc_cn(&self) -> StorageResult<u64> {
        let cn: i64 = self
            .conn
            .prepare_cached(
                "UPDATE meta SET value = value + 1 WHERE key = 'next_cn' RETURNING value - 1",
            )?
            .query_row([], |r| r.get(0))?;
        let cn = cn as u64;
        if cn == 0 || cn > MAX_CN {
            return Err(StorageError::corrupt(format!(
                "change number {cn} out of range"
            )));
        }
        Ok(cn)
    }

    pub fn insert_object(&self, kind: u32, parent: u64, cn: u64, flags: u32) -> StorageResult<u64> {
        self.conn
            .prepare_cached("INSERT INTO objects(kind, parent, cn, flags) VALUES (?1, ?2, ?3, ?4)")?
            .execute(params![kind, parent as i64, cn as i64, flags])?;
        Ok(self.conn.last_insert_rowid() as u64)
    }

    pub fn set_cn(&self, id: u64, cn: u64) -> StorageResult<()> {
        self.conn
            .prepare_cached("UPDATE objects SET cn = ?2 WHERE id = ?1")?
            .execute(params![id as i64, cn as i64])?;
        Ok(())
    }

    /// Deletes an object and its properties (not its children: callers walk the tree).
    pub fn delete_object(&self, id: u64) -> StorageResult<()> {
        self.conn
            .prepare_cached("DELETE FROM props WHERE obj = ?1")?
            .execute([id as i64])?;
        self.conn
            .prepare_cached("DELETE FROM objects WHERE id = ?1")?
            .execute([id as i64])?;
        Ok(())
    }

    /// Writes one property (replacing any value with the same ID, whatever its type).
    pub fn put_prop(&self, obj: u64, tag: u32, value: &[u8]) -> StorageResult<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO props(obj, id, tag, value) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT(obj, id) DO UPDATE SET tag = excluded.tag, value = excluded.value",
            )?
            .execute(params![obj as i64, tag >> 16, tag, value])?;
        Ok(())
    }

    pub fn delete_prop(&self, obj: u64, id: u16) -> StorageResult<()> {
        self.conn
            .prepare_cached("DELETE FROM props WHERE obj = ?1 AND id = ?2")?
            .execute(params![obj as i64, id])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_path(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("msgstore-storage-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        let _ = std::fs::remove_file(&p);
        p
    }

    const RW: OpenMode = OpenMode {
        create: true,
        write: true,
        durable: false,
    };

    #[test]
    fn create_reopen_and_mode() {
        let p = temp_path("a.db");
        let guid = Storage::open(&p, RW).unwrap().guid();
        let again = Storage::open(
            &p,
            OpenMode {
                create: false,
                ..RW
            },
        )
        .unwrap();
        assert_eq!(again.guid(), guid);
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    #[test]
    fn missing_garbage_and_foreign_sqlite_files_are_refused() {
        let p = temp_path("missing.db");
        let e = Storage::open(
            &p,
            OpenMode {
                create: false,
                ..RW
            },
        )
        .err()
        .unwrap();
        assert_eq!(e.kind, ErrorKind::NotFound);
        let g = temp_path("garbage.db");
        std::fs::write(&g, b"hello, this is not a database at all").unwrap();
        assert_eq!(
            Storage::open(&g, RW).err().unwrap().kind,
            ErrorKind::Corrupt
        );
        let other = temp_path("other.db");
        Connection::open(&other)
            .unwrap()
            .execute_batch("CREATE TABLE t(x)")
            .unwrap();
        assert_eq!(
            Storage::open(&other, RW).err().unwrap().kind,
            ErrorKind::Corrupt
        );
    }

    #[test]
    fn write_rolls_back_on_error_and_counts_change_numbers() {
        let p = temp_path("tx.db");
        let s = Storage::open(&p, RW).unwrap();
        let id = s
            .write(|t| -> StorageResult<u64> {
                let cn = t.alloc_cn()?;
                let id = t.insert_object(KIND_MESSAGE, ROOT_FOLDER_ID, cn, 0)?;
                t.put_prop(id, 0x0037_001F, b"hi")?;
                Ok(id)
            })
            .unwrap();
        let failed: StorageResult<()> = s.write(|t| {
            t.put_prop(id, 0x0037_001F, b"lost")?;
            Err(StorageError::corrupt("abandon"))
        });
        assert!(failed.is_err());
        let props = s.read(|t| t.props(id)).unwrap();
        assert_eq!(props, vec![(0x0037_001F, b"hi".to_vec())]);
        let cn2 = s.write(|t| t.alloc_cn()).unwrap();
        assert_eq!(cn2, 2);
    }
}
