//! Persistence (DESIGN.md §6): one SQLite file per store, WAL, `synchronous=FULL` by default,
//! `BEGIN IMMEDIATE` for every write so that a compare and the write it guards are one
//! transaction across threads and processes, a busy handler so writers wait (up to 60 s) instead
//! of failing, mode 0600, and a schema version checked on open. Properties are rows keyed by
//! (object, property ID), so a save writes what changed. Within a process, concurrent writes to
//! one file share a transaction and its commit (group.rs). This layer knows tags and bytes,
//! nothing of MAPI.

use group::Writer;
use parking_lot::Mutex;
use rusqlite::{params, params_from_iter, Connection, OpenFlags, OptionalExtension};
mod group;

use std::cell::Cell;
use std::collections::HashMap;
use std::fmt;
use std::fs::OpenOptions;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;
use std::sync::{Arc, LazyLock, Weak};
use std::time::{Duration, Instant};

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
/// How much of a store file SQLite maps into memory for reading (its upper bound).
const MMAP_SIZE: i64 = 1 << 30;
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
        use rusqlite::Error as E;
        use rusqlite::ErrorCode as C;
        /// SQLITE_ERROR, the generic code ("no such table", "no such column"…).
        const SQLITE_ERROR: i32 = 1;
        let kind = match &e {
            // A stored value of the wrong SQL type or out of range, or a row a sound store always
            // has (the change-number counter) missing: the file was damaged after it was written
            // (DESIGN.md §6: damage found later is MAPI_E_CORRUPT_STORE).
            E::InvalidColumnType(..)
            | E::FromSqlConversionFailure(..)
            | E::IntegralValueOutOfRange(..)
            | E::Utf8Error(..)
            | E::QueryReturnedNoRows => ErrorKind::Corrupt,
            _ => match e.sqlite_error_code() {
                Some(C::DatabaseBusy) | Some(C::DatabaseLocked) => ErrorKind::Busy,
                Some(C::DatabaseCorrupt) | Some(C::NotADatabase) | Some(C::TypeMismatch) => {
                    ErrorKind::Corrupt
                }
                // Every statement here is fixed and valid against the schema this build writes,
                // so SQLITE_ERROR means that schema is no longer there: a table or column gone.
                Some(C::Unknown) if e.sqlite_extended_error_code() == Some(SQLITE_ERROR) => {
                    ErrorKind::Corrupt
                }
                Some(C::ReadOnly) => ErrorKind::ReadOnly,
                Some(C::DiskFull) => ErrorKind::Full,
                Some(C::CannotOpen) => ErrorKind::NotFound,
                _ => ErrorKind::Io,
            },
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
    /// This handle's connection: its reads.
    conn: Mutex<Connection>,
    guid: [u8; 16],
    /// The process's writer of this file (None: read-only). Every handle's writes go through it
    /// and share commits (group commit): SQLite has one writer per file anyway, and its lock has
    /// no queue, so separate connections would also starve each other in the busy handler.
    writer: Option<Arc<Writer>>,
}

/// The shared writer (group.rs) of each store file and sync mode in this process.
static WRITERS: LazyLock<Mutex<HashMap<WriterKey, Weak<Writer>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// A store file's identity (device, inode) and whether its commits are durable.
type WriterKey = (u64, u64, bool);

/// The writer of `path` for this process: the existing one, or one on a new connection.
fn shared_writer(path: &Path, key: WriterKey, opts: OpenMode) -> StorageResult<Arc<Writer>> {
    let mut writers = WRITERS.lock();
    writers.retain(|_, w| w.strong_count() > 0);
    if let Some(writer) = writers.get(&key).and_then(Weak::upgrade) {
        return Ok(writer);
    }
    let writer = Arc::new(Writer::new(connect(path, opts)?));
    writers.insert(key, Arc::downgrade(&writer));
    Ok(writer)
}

/// Opens a connection to an existing file with the store's settings: WAL when writing, the
/// sync mode, the busy handler, a statement cache.
fn connect(path: &Path, opts: OpenMode) -> StorageResult<Connection> {
    let conn = open_connection(path, opts)?;
    configure(&conn, path, opts)?;
    Ok(conn)
}

/// Opens a connection that has changed nothing in the file yet: the busy handler and the
/// statement cache only.
fn open_connection(path: &Path, opts: OpenMode) -> StorageResult<Connection> {
    let flags = if opts.write {
        OpenFlags::SQLITE_OPEN_READ_WRITE
    } else {
        OpenFlags::SQLITE_OPEN_READ_ONLY
    } | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(path, flags)?;
    // SQLite quietly opens a write-protected file read-only even when asked for writing:
    // say so, so that a caller wanting write access learns it now (MAPI_BEST_ACCESS then
    // falls back to a read-only handle) rather than at its first save.
    if opts.write && conn.is_readonly(rusqlite::MAIN_DB)? {
        return Err(StorageError::new(
            ErrorKind::ReadOnly,
            format!("{} is write-protected", path.display()),
        ));
    }
    conn.busy_handler(Some(busy_wait))?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// The settings that write to the file: WAL when writing (a persistent change to its header),
/// and the sync mode.
fn configure(conn: &Connection, path: &Path, opts: OpenMode) -> StorageResult<()> {
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
    // Read pages through a shared memory map rather than a read() call each: a big store's
    // pages then cost what the page cache costs, and every handle shares one copy.
    conn.pragma_update(None, "mmap_size", MMAP_SIZE)?;
    Ok(())
}

thread_local! {
    /// When the current wait for SQLite's lock began (the busy handler's clock).
    static BUSY_SINCE: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// SQLite's busy handler: waits for another process's writer by polling in short sleeps (SQLite's
/// own `busy_timeout` backs off to 100 ms sleeps, far longer than a commit, so waiters lose every
/// race to the holder), and gives up after BUSY_TIMEOUT.
fn busy_wait(attempt: i32) -> bool {
    let now = Instant::now();
    let since = BUSY_SINCE.with(|s| {
        let since = match s.get() {
            Some(t) if attempt > 0 => t,
            _ => now,
        };
        s.set(Some(since));
        since
    });
    if now.duration_since(since) >= BUSY_TIMEOUT {
        return false;
    }
    // 100 µs, 200 µs, … up to 2 ms: a commit takes about 0.1–0.2 ms. Shorter polls measured
    // worse with 4–8 processes on 2 cores: the pollers took the CPU from the lock's holder.
    let micros = 100u64 << attempt.clamp(0, 5);
    std::thread::sleep(Duration::from_micros(micros.min(2000)));
    true
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
                    let kind = match e.kind() {
                        std::io::ErrorKind::NotFound => ErrorKind::NotFound,
                        std::io::ErrorKind::PermissionDenied => ErrorKind::ReadOnly,
                        _ => ErrorKind::Io,
                    };
                    StorageError::new(kind, format!("cannot create {}: {e}", path.display()))
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
        let conn = open_connection(path, opts)?;
        // An existing file must be a store of a schema this build reads before anything in it
        // is changed, not even its journal mode: a refused file keeps every byte.
        let existing_guid = if fresh {
            None
        } else {
            Some(Self::check_schema(&conn)?)
        };
        configure(&conn, path, opts)?;
        let guid = match existing_guid {
            Some(guid) => guid,
            None => {
                Self::create_schema(&conn)?;
                Self::check_schema(&conn)?
            }
        };
        let writer = if opts.write {
            let meta = std::fs::metadata(path).map_err(|e| {
                StorageError::new(ErrorKind::Io, format!("{}: {e}", path.display()))
            })?;
            Some(shared_writer(
                path,
                (meta.dev(), meta.ino(), opts.durable),
                opts,
            )?)
        } else {
            None
        };
        Ok(Storage {
            conn: Mutex::new(conn),
            guid,
            writer,
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
        self.writer.is_some()
    }

    /// Runs `f` in one read transaction: a consistent snapshot.
    pub fn read<T, E: From<StorageError>>(
        &self,
        f: impl FnOnce(&Txn) -> Result<T, E>,
    ) -> Result<T, E> {
        let conn = self.conn.lock();
        in_transaction(&conn, "BEGIN DEFERRED", f)
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction, committed when `f` succeeds and rolled
    /// back (nothing written) when it fails. While it runs no other writer, in this process or
    /// another, can commit: a compare made inside is still true at the commit.
    pub fn write<T, E: From<StorageError>>(
        &self,
        f: impl FnOnce(&Txn) -> Result<T, E>,
    ) -> Result<T, E> {
        let Some(writer) = &self.writer else {
            return Err(
                StorageError::new(ErrorKind::ReadOnly, "the store is open read-only").into(),
            );
        };
        writer.run(f)
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

/// One objects row, range-checked: a value no store writes (a negative or 49-bit change number,
/// a kind or flags beyond 32 bits) is damage, reported rather than truncated into a made-up
/// value.
fn row_to_object(r: &rusqlite::Row) -> rusqlite::Result<ObjectRow> {
    let cn = r.get::<_, i64>(3)?;
    if !(0..=MAX_CN as i64).contains(&cn) {
        return Err(rusqlite::Error::IntegralValueOutOfRange(3, cn));
    }
    Ok(ObjectRow {
        id: r.get::<_, i64>(0)? as u64,
        kind: r.get::<_, u32>(1)?,
        parent: r.get::<_, Option<i64>>(2)?.map(|p| p as u64),
        cn: cn as u64,
        flags: r.get::<_, u32>(4)?,
    })
}

/// One props row: its full tag (32 bits, range-checked) and its value blob.
fn row_to_prop(r: &rusqlite::Row) -> rusqlite::Result<PropRow> {
    Ok((r.get::<_, u32>(0)?, r.get::<_, Vec<u8>>(1)?))
}

/// The operations available inside a transaction.
pub struct Txn<'a> {
    conn: &'a Connection,
}

/// Runs a statement prepared once (transaction control is parsed on every call otherwise).
fn step(conn: &Connection, sql: &str) -> StorageResult<()> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}

/// Runs `f` between `begin` and COMMIT, rolling back when it fails or panics. The control
/// statements are prepared once (rusqlite's `Transaction` parses them on every call, a fifth of a
/// small save's CPU time).
fn in_transaction<T, E: From<StorageError>>(
    conn: &Connection,
    begin: &str,
    f: impl FnOnce(&Txn) -> Result<T, E>,
) -> Result<T, E> {
    /// Rolls back unless the transaction was committed (also when `f` unwinds).
    struct Open<'c>(&'c Connection, bool);
    impl Drop for Open<'_> {
        fn drop(&mut self) {
            if !self.1 {
                // A failed rollback leaves nothing to do: SQLite rolls back on its own when
                // the statement that failed was fatal to the transaction.
                let _ = step(self.0, "ROLLBACK");
            }
        }
    }
    step(conn, begin)?;
    let mut open = Open(conn, false);
    let out = f(&Txn { conn })?;
    step(conn, "COMMIT")?;
    open.1 = true;
    Ok(out)
}

/// Multi-row upserts are prepared for up to this many rows at once.
const PUT_BATCH: usize = 8;

/// `UPSERT_PROPS[n - 1]` writes n property rows in one statement.
static UPSERT_PROPS: LazyLock<Vec<String>> = LazyLock::new(|| {
    (1..=PUT_BATCH)
        .map(|n| {
            let rows: Vec<String> = (0..n)
                .map(|i| {
                    let b = i * 4;
                    format!("(?{}, ?{}, ?{}, ?{})", b + 1, b + 2, b + 3, b + 4)
                })
                .collect();
            format!(
                "INSERT INTO props(obj, id, tag, value) VALUES {} \
                 ON CONFLICT(obj, id) DO UPDATE SET tag = excluded.tag, value = excluded.value",
                rows.join(", ")
            )
        })
        .collect()
});

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
        let rows = stmt.query_map([obj as i64], row_to_prop)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One stored property by ID.
    pub fn prop(&self, obj: u64, id: u16) -> StorageResult<Option<PropRow>> {
        Ok(self
            .conn
            .prepare_cached("SELECT tag, value FROM props WHERE obj = ?1 AND id = ?2")?
            .query_row(params![obj as i64, id], row_to_prop)
            .optional()?)
    }

    /// Takes the next change number from the store-wide counter.
    pub fn alloc_cn(&self) -> StorageResult<u64> {
        // A read then a write: the write transaction holds the lock, and RETURNING would cost
        // SQLite an ephemeral table on every save.
        let cn: i64 = self
            .conn
            .prepare_cached("SELECT value FROM meta WHERE key = 'next_cn'")?
            .query_row([], |r| r.get(0))?;
        let cn = cn as u64;
        if cn == 0 || cn > MAX_CN {
            return Err(StorageError::corrupt(format!(
                "change number {cn} out of range"
            )));
        }
        self.conn
            .prepare_cached("UPDATE meta SET value = ?1 WHERE key = 'next_cn'")?
            .execute([cn as i64 + 1])?;
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
        self.put_props(obj, &[(tag, value)])
    }

    /// Writes several properties of one object, up to PUT_BATCH rows per statement.
    pub fn put_props(&self, obj: u64, rows: &[(u32, &[u8])]) -> StorageResult<()> {
        use rusqlite::types::ToSqlOutput;
        for chunk in rows.chunks(PUT_BATCH) {
            let params = chunk.iter().flat_map(|&(tag, value)| {
                [
                    ToSqlOutput::from(obj as i64),
                    ToSqlOutput::from(tag >> 16),
                    ToSqlOutput::from(tag),
                    ToSqlOutput::from(value),
                ]
            });
            self.conn
                .prepare_cached(&UPSERT_PROPS[chunk.len() - 1])?
                .execute(params_from_iter(params))?;
        }
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
    fn handles_of_one_file_share_a_writer_and_its_commits() {
        use std::sync::mpsc;
        let path = temp_path("group.db");
        let a = Arc::new(Storage::open(&path, RW).unwrap());
        let b = Arc::new(Storage::open(&path, RW).unwrap());
        let other = Storage::open(&temp_path("group-other.db"), RW).unwrap();
        let durable = OpenMode {
            durable: true,
            ..RW
        };
        let a_durable = Storage::open(&path, durable).unwrap();
        let writer = |s: &Storage| s.writer.clone().unwrap();
        assert!(Arc::ptr_eq(&writer(&a), &writer(&b)));
        assert!(!Arc::ptr_eq(&writer(&a), &writer(&other)));
        assert!(!Arc::ptr_eq(&writer(&a), &writer(&a_durable)));

        let id = a
            .write(|t| t.insert_object(KIND_MESSAGE, ROOT_FOLDER_ID, 1, 0))
            .unwrap();
        const TAG_A: u32 = 0x6001_0102;
        const TAG_B: u32 = 0x6002_0102;
        // A works while B joins its group; then A succeeds, fails or panics. B's write always
        // commits; A's is there only if A succeeded.
        for ending in ["ok", "err", "panic"] {
            let (entered, entered_rx) = mpsc::channel();
            let (go, go_rx) = mpsc::channel::<()>();
            let member_a = {
                let a = a.clone();
                std::thread::spawn(move || {
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        a.write(|t| -> StorageResult<()> {
                            t.put_prop(id, TAG_A, b"a")?;
                            entered.send(()).unwrap();
                            go_rx.recv().unwrap();
                            match ending {
                                "ok" => Ok(()),
                                "err" => Err(StorageError::new(ErrorKind::Io, "injected")),
                                _ => panic!("injected"),
                            }
                        })
                    }))
                })
            };
            entered_rx.recv().unwrap();
            let member_b = {
                let b = b.clone();
                std::thread::spawn(move || b.write(|t| t.put_prop(id, TAG_B, b"b")))
            };
            while writer(&a).members() < 2 {
                std::thread::sleep(Duration::from_millis(1));
            }
            std::thread::sleep(Duration::from_millis(20));
            assert!(
                !member_b.is_finished(),
                "{ending}: B returned before the group committed"
            );
            go.send(()).unwrap();
            let result_a = member_a.join().unwrap();
            member_b.join().unwrap().unwrap();
            match ending {
                "ok" => assert!(matches!(result_a, Ok(Ok(())))),
                "err" => assert!(matches!(result_a, Ok(Err(_)))),
                _ => assert!(result_a.is_err()),
            }
            let stored = b.read(|t| t.props(id)).unwrap();
            let has = |tag: u32| stored.iter().any(|(t, _)| *t == tag);
            assert!(has(TAG_B), "{ending}");
            assert_eq!(has(TAG_A), ending == "ok", "{ending}");
            a.write(|t| {
                t.delete_prop(id, (TAG_A >> 16) as u16)?;
                t.delete_prop(id, (TAG_B >> 16) as u16)
            })
            .unwrap();
        }
        assert_eq!(writer(&a).members(), 0);
    }

    #[test]
    fn batched_puts_and_a_panicking_writer_roll_back_cleanly() {
        let s = Storage::open(&temp_path("batch.db"), RW).unwrap();
        let id = s
            .write(|t| t.insert_object(KIND_MESSAGE, ROOT_FOLDER_ID, 1, 0))
            .unwrap();
        // More rows than one statement takes, and a rewrite of some of them.
        let values: Vec<Vec<u8>> = (0..20u8).map(|i| vec![i; i as usize]).collect();
        let rows: Vec<(u32, &[u8])> = (0..20u32)
            .map(|i| ((0x6000 + i) << 16 | 0x0102, values[i as usize].as_slice()))
            .collect();
        s.write(|t| t.put_props(id, &rows)).unwrap();
        s.write(|t| t.put_props(id, &rows[5..15])).unwrap();
        let stored = s.read(|t| t.props(id)).unwrap();
        assert_eq!(stored.len(), 20);
        for (tag, value) in &rows {
            assert!(stored.contains(&(*tag, value.to_vec())), "tag {tag:08X}");
        }
        // A panic inside the transaction rolls it back and leaves the handle usable.
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            s.write(|t| -> StorageResult<()> {
                t.delete_prop(id, 0x6000)?;
                panic!("injected");
            })
        }));
        assert!(panicked.is_err());
        assert_eq!(s.read(|t| t.props(id)).unwrap().len(), 20);
        s.write(|t| t.delete_prop(id, 0x6000)).unwrap();
        assert_eq!(s.read(|t| t.props(id)).unwrap().len(), 19);
    }

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
    fn a_refused_foreign_file_keeps_every_byte() {
        let other = temp_path("untouched.db");
        Connection::open(&other)
            .unwrap()
            .execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1)")
            .unwrap();
        let before = std::fs::read(&other).unwrap();
        assert_eq!(
            Storage::open(&other, RW).err().unwrap().kind,
            ErrorKind::Corrupt
        );
        assert_eq!(
            std::fs::read(&other).unwrap(),
            before,
            "not even switched to WAL"
        );
    }

    #[test]
    fn damaged_rows_are_corrupt_not_io_errors() {
        let p = temp_path("damaged-rows.db");
        let s = Storage::open(&p, RW).unwrap();
        let id = s
            .write(|t| -> StorageResult<u64> {
                let id = t.insert_object(KIND_MESSAGE, ROOT_FOLDER_ID, t.alloc_cn()?, 0)?;
                t.put_prop(id, 0x0037_001F, b"hi")?;
                Ok(id)
            })
            .unwrap();
        let damage = |sql: &str| s.conn.lock().execute_batch(sql).unwrap();
        let kind_of_object = || s.read(|t| t.object(id)).unwrap_err().kind;
        let kind_of_props = || s.read(|t| t.props(id)).unwrap_err().kind;
        damage(&format!("UPDATE objects SET cn = -1 WHERE id = {id}"));
        assert_eq!(kind_of_object(), ErrorKind::Corrupt);
        damage(&format!(
            "UPDATE objects SET cn = {} WHERE id = {id}",
            MAX_CN + 1
        ));
        assert_eq!(kind_of_object(), ErrorKind::Corrupt);
        damage(&format!(
            "UPDATE objects SET cn = 1, flags = 'x' WHERE id = {id}"
        ));
        assert_eq!(kind_of_object(), ErrorKind::Corrupt);
        damage(&format!("UPDATE props SET value = 'text' WHERE obj = {id}"));
        assert_eq!(kind_of_props(), ErrorKind::Corrupt);
        damage(&format!(
            "UPDATE props SET value = x'00', tag = 1 << 40 WHERE obj = {id}"
        ));
        assert_eq!(kind_of_props(), ErrorKind::Corrupt);
        damage("DELETE FROM meta WHERE key = 'next_cn'");
        assert_eq!(
            s.write(|t| t.alloc_cn()).unwrap_err().kind,
            ErrorKind::Corrupt
        );
        damage("DROP TABLE props");
        assert_eq!(kind_of_props(), ErrorKind::Corrupt);
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
