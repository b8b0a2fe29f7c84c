//! Persistence (DESIGN.md §6): one SQLite file per store, WAL, `synchronous=FULL` by default,
//! `BEGIN IMMEDIATE` for every write so that a compare and the write it guards are one
//! transaction across threads and processes, a busy handler so writers wait (up to 60 s) instead
//! of failing, mode 0600, and a schema version checked on open. Properties are rows keyed by
//! (object, property ID), so a save writes what changed. Within a process, concurrent writes to
//! one file share a transaction and its commit (group.rs). This layer knows tags and bytes,
//! nothing of MAPI.

use super::{
    ChangeFeed, Engine, ErrorKind, OpenMode, ReadTxn, StorageError, StorageResult, WriteTxn,
};
use group::Writer;
use parking_lot::Mutex;
use rusqlite::{Connection, OpenFlags};
use txn::{in_transaction, SqlTxn};

mod codec;
mod create;
mod feed;
mod group;
mod queue;
mod schema;
mod sys;
mod txn;

pub use schema::SCHEMA_VERSION;

use std::cell::Cell;
use std::collections::HashMap;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::{Arc, LazyLock, Weak};
use std::time::{Duration, Instant};

const BUSY_TIMEOUT: Duration = Duration::from_secs(60);
/// The largest property value a store holds: 256 MiB (268,435,456 bytes). SQLite's own limit is
/// 1,000,000,000 bytes per value (SQLITE_MAX_LENGTH, which a row must fit in too); this one
/// leaves room for the multi-valued encoding (codec.rs: 4 bytes per element, at most 2^20
/// elements) and keeps a value's copies in memory (the caller's, the working copy, the SQLite
/// statement's) within reason.
pub const MAX_VALUE_BYTES: u64 = 256 << 20;
/// How much of a store file SQLite maps into memory for reading (its upper bound).
const MMAP_SIZE: i64 = 1 << 30;
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

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
                Some(C::TooBig) => ErrorKind::TooBig,
                Some(C::OutOfMemory) => ErrorKind::OutOfMemory,
                Some(C::PermissionDenied) | Some(C::AuthorizationForStatementDenied) => {
                    ErrorKind::ReadOnly
                }
                // The store file itself was opened (and checked) before SQLite was asked to:
                // what SQLite cannot open is a file beside it (-wal, -shm, -journal), which
                // takes the right to create or write files there.
                Some(C::CannotOpen) => ErrorKind::ReadOnly,
                // The disk or the OS failed a read, write or lock; or something that cannot
                // happen with fixed statements on a schema checked at open (a constraint, a
                // schema change mid-statement, a misuse, a bad parameter index). Listed so that
                // every code is mapped on purpose (docs/BAD_INPUT.md, "Engine errors, mapped").
                Some(C::SystemIoFailure)
                | Some(C::FileLockingProtocolFailed)
                | Some(C::InternalMalfunction)
                | Some(C::OperationInterrupted)
                | Some(C::OperationAborted)
                | Some(C::SchemaChanged)
                | Some(C::ConstraintViolation)
                | Some(C::ApiMisuse)
                | Some(C::NoLargeFileSupport)
                | Some(C::ParameterOutOfRange)
                | Some(C::NotFound)
                | Some(C::Unknown)
                | None => ErrorKind::Io,
                // ErrorCode is non-exhaustive: a code added by a later SQLite.
                Some(_) => ErrorKind::Io,
            },
        };
        StorageError::new(kind, format!("store database: {e}"))
    }
}

/// An open store file. One connection, shared by the handle's threads under a mutex; other
/// handles and processes have their own connections and meet in SQLite's locks.
pub struct SqliteEngine {
    /// This handle's connection: its reads.
    conn: Mutex<Connection>,
    guid: [u8; 16],
    /// The file's name without its extension.
    name: String,
    /// The store file's device and inode: two handles with the same are handles of one store.
    file_id: (u64, u64),
    /// The store file (a change feed opens a connection of its own to it).
    path: std::path::PathBuf,
    /// The process's writer of this file (None: read-only). Every handle's writes go through it
    /// and share commits (group commit): SQLite has one writer per file anyway, and its lock has
    /// no queue, so separate connections would also starve each other in the busy handler.
    writer: Option<Arc<Writer>>,
}

/// The shared writer (group.rs) of each store file and sync mode in this process.
static WRITERS: LazyLock<Mutex<HashMap<WriterKey, Weak<Writer>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// A store file's identity (device, inode), whether its commits are durable, and the process:
/// a child forked while its parent had the store open inherits this map, and must not write
/// through the parent's connection and queue place (SQLite forbids carrying a connection across
/// `fork`; two processes on one open file description share its locks).
type WriterKey = (u64, u64, bool, u32);

/// The writer of `path` for this process: the existing one, or one on a new connection.
fn shared_writer(path: &Path, key: WriterKey, opts: OpenMode) -> StorageResult<Arc<Writer>> {
    let mut writers = WRITERS.lock();
    writers.retain(|_, w| w.strong_count() > 0);
    if let Some(writer) = writers.get(&key).and_then(Weak::upgrade) {
        return Ok(writer);
    }
    let queue = queue::WriterQueue::open(path);
    let writer = Arc::new(Writer::new(connect(path, opts)?, lock_timeout(), queue)?);
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
    cache_statements(&conn)?;
    Ok(conn)
}

/// Keeps up to 64 prepared statements, and keeps them prepared: with the query planner
/// stability guarantee on, SQLite does not mark a statement for re-preparing when the planner
/// looked at a bound value (it does so for any `col = ?` term the chosen index does not use, e.g.
/// the props read of every open), and the statement cache's `sqlite3_clear_bindings` on each
/// return would then re-prepare it at its next use: a quarter of a message open's time. The store
/// keeps no planner statistics (no ANALYZE) and matches no LIKE against an index, so no plan
/// depended on a bound value anyway.
fn cache_statements(conn: &Connection) -> StorageResult<()> {
    conn.set_prepared_statement_cache_capacity(64);
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    Ok(())
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
    /// When the current wait for SQLite's lock began (the busy handler's clock, for waits that
    /// are not a save's).
    static BUSY_SINCE: Cell<Option<Instant>> = const { Cell::new(None) };
    /// The deadline of the save running on this thread (group.rs): its busy handler gives up
    /// then, however long the save queued before it reached SQLite's lock.
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// How long a save may wait for the store's write lock, from its own start: 60 s (DESIGN.md §6),
/// or `MSGSTORE_LOCK_TIMEOUT_MS` milliseconds when that is set (read when a process first opens
/// a store file for writing; for tests and for callers that prefer to fail sooner).
pub(super) fn lock_timeout() -> Duration {
    std::env::var("MSGSTORE_LOCK_TIMEOUT_MS")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_millis)
        .unwrap_or(BUSY_TIMEOUT)
}

/// Sets this thread's save deadline while it lives (restoring the one before).
pub(super) struct Deadline(Option<Instant>);

impl Deadline {
    pub(super) fn set(deadline: Instant) -> Deadline {
        Deadline(DEADLINE.with(|d| d.replace(Some(deadline))))
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        DEADLINE.with(|d| d.set(self.0));
    }
}

/// SQLite's busy handler: waits for another process's writer by polling in short sleeps (SQLite's
/// own `busy_timeout` backs off to 100 ms sleeps, far longer than a commit, so waiters lose every
/// race to the holder), and gives up at the running save's deadline, or BUSY_TIMEOUT after the
/// wait began for anything else.
fn busy_wait(attempt: i32) -> bool {
    let now = Instant::now();
    let deadline = DEADLINE.with(|d| d.get()).unwrap_or_else(|| {
        BUSY_SINCE.with(|s| {
            let since = match s.get() {
                Some(t) if attempt > 0 => t,
                _ => now,
            };
            s.set(Some(since));
            since + BUSY_TIMEOUT
        })
    });
    if now >= deadline {
        return false;
    }
    // 100 µs, 200 µs, … up to 2 ms: a commit takes about 0.1–0.2 ms. Shorter polls measured
    // worse with 4–8 processes on 2 cores: the pollers took the CPU from the lock's holder.
    let micros = 100u64 << attempt.clamp(0, 5);
    std::thread::sleep(Duration::from_micros(micros.min(2000)).min(deadline - now));
    true
}

/// An error of the file system about the store file, as the kind a caller can act on.
fn file_error(path: &Path, e: std::io::Error) -> StorageError {
    let kind = match e.kind() {
        std::io::ErrorKind::NotFound => ErrorKind::NotFound,
        std::io::ErrorKind::PermissionDenied => ErrorKind::ReadOnly,
        _ if e.raw_os_error() == Some(libc::EROFS) => ErrorKind::ReadOnly,
        _ => ErrorKind::Io,
    };
    StorageError::new(kind, format!("{}: {e}", path.display()))
}

/// Reads up to `buf.len()` bytes from the start of `file`; returns how many there were.
fn read_up_to(file: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// The directory a store file lives in.
fn parent_dir(path: &Path) -> std::path::PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    }
}

/// A store file must have one name (issue 12, item 8). SQLite names a database's -wal and -shm
/// files after the name it was opened by, so a second hard link would give the one file a second
/// write-ahead log and a second lock table: a writer through one name and a reader or writer
/// through the other would not see each other and could corrupt the store. Refused, whichever
/// name is opened, whether or not the other is open now (another process may open it later).
fn check_one_name(path: &Path, meta: &std::fs::Metadata) -> StorageResult<()> {
    if meta.nlink() <= 1 {
        return Ok(());
    }
    Err(StorageError::new(
        ErrorKind::Unsupported,
        format!(
            "{} has {} names (hard links): SQLite names a store's -wal and -shm files after the \
             name it is opened by, so two names of one store file could corrupt it; remove the \
             other names (a copy is a store of its own)",
            path.display(),
            meta.nlink()
        ),
    ))
}

/// `path` with `suffix` appended to its file name (SQLite's -wal and -shm files).
fn side_file(path: &Path, suffix: &str) -> std::path::PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(suffix);
    s.into()
}

/// A read-only open of a WAL store in a directory this process cannot write (issue 12, item 3).
/// SQLite reads a WAL database through its -shm file, which it cannot create there. A store
/// closed cleanly has no -wal file (its last connection folded the log into the file and removed
/// it), so the file alone is the whole store, and SQLite reads it as such when told the file is
/// immutable (`immutable=1`: no locks, no side files). A -wal file with commits in it means the
/// store was not closed cleanly, or is open for writing by someone who may write there: refused,
/// since the file alone would miss those commits.
fn open_in_read_only_place(path: &Path) -> StorageResult<Connection> {
    if std::fs::metadata(side_file(path, "-wal")).is_ok_and(|m| m.len() > 0) {
        return Err(StorageError::new(
            ErrorKind::ReadOnly,
            format!(
                "cannot read {}: its -wal file holds commits not yet in the store file (it was \
                 not closed cleanly, or is open for writing), and its directory cannot be \
                 written, which reading them needs; open it once where it can be written",
                path.display()
            ),
        ));
    }
    let uri = format!("file:{}?immutable=1", uri_escape(path));
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(uri, flags)?;
    cache_statements(&conn)?;
    Ok(conn)
}

/// A path as the path part of an SQLite URI: every byte but unreserved ones and `/` escaped.
fn uri_escape(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut out = String::new();
    for &b in path.as_os_str().as_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl SqliteEngine {
    /// Opens (and with `create`, creates) a store file. Checks the header and the schema only.
    pub fn open(path: &Path, opts: OpenMode) -> StorageResult<SqliteEngine> {
        let exists = match std::fs::metadata(path) {
            Ok(_) => true,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            Err(e) => return Err(file_error(path, e)),
        };
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
            // One atomic step (create.rs): the file appears complete or not at all. Whether this
            // call made it or lost a race to another creator, what is there now is opened below
            // like any existing file.
            create::create_store_file(path)?;
        }
        let mut file = std::fs::File::open(path).map_err(|e| file_error(path, e))?;
        let meta = file.metadata().map_err(|e| file_error(path, e))?;
        if meta.is_dir() {
            return Err(StorageError::corrupt(format!(
                "{} is a directory: not a msgstore file",
                path.display()
            )));
        }
        check_one_name(path, &meta)?;
        let dir = parent_dir(path);
        let mut header = [0u8; 100];
        let header_len = read_up_to(&mut file, &mut header).map_err(|e| file_error(path, e))?;
        drop(file);
        if header_len > 0 && (header_len < 16 || &header[..16] != SQLITE_MAGIC) {
            return Err(StorageError::corrupt(format!(
                "{} is not a msgstore file (no SQLite header)",
                path.display()
            )));
        }
        let wal_mode = header_len >= 20 && header[18] == 2 && header[19] == 2;
        if opts.write && !create::writable_dir(&dir) {
            return Err(StorageError::new(
                ErrorKind::ReadOnly,
                format!(
                    "cannot open {} for writing: its directory cannot be written, and SQLite \
                     keeps a store's -wal and -shm files beside it",
                    path.display()
                ),
            ));
        }
        let conn = if !opts.write && wal_mode && !create::writable_dir(&dir) {
            open_in_read_only_place(path)?
        } else {
            open_connection(path, opts)?
        };
        // A file with no schema at all is what an interrupted creation by an earlier build left
        // (a new file appears complete or not at all now): no store yet, and nothing of anyone's.
        if schema::is_empty(&conn)? {
            if !opts.create {
                return Err(StorageError::corrupt(format!(
                    "{} is {}: not a msgstore file yet (an interrupted MAPI_CREATE leaves this); \
                     MsgStoreOpen with MAPI_CREATE | MDB_WRITE makes the store in it",
                    path.display(),
                    if header_len == 0 {
                        "empty"
                    } else {
                        "an empty SQLite database"
                    }
                )));
            }
            schema::create_if_empty(&conn, meta.ino())?;
        }
        // An existing file must be a store of a schema this build reads (or upgrades) before
        // anything in it is changed, not even its journal mode: a refused file keeps every byte.
        let version = schema::check(&conn, opts.write)?;
        configure(&conn, path, opts)?;
        let guid = schema::upgrade_and_read_guid(&conn, version)?;
        let btime = meta
            .created()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos() as u64);
        let guid = schema::own_guid(&conn, guid, meta.ino(), btime, opts.write)?;
        let writer = if opts.write {
            Some(shared_writer(
                path,
                (meta.dev(), meta.ino(), opts.durable, std::process::id()),
                opts,
            )?)
        } else {
            None
        };
        Ok(SqliteEngine {
            conn: Mutex::new(conn),
            guid,
            name: path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "msgstore".into()),
            file_id: (meta.dev(), meta.ino()),
            path: path.to_path_buf(),
            writer,
        })
    }

    pub fn guid(&self) -> [u8; 16] {
        self.guid
    }
}

impl Engine for SqliteEngine {
    fn guid(&self) -> [u8; 16] {
        self.guid
    }

    fn writable(&self) -> bool {
        self.writer.is_some()
    }

    fn name(&self) -> String {
        self.name.clone()
    }

    fn read_dyn(
        &self,
        body: &mut dyn FnMut(&mut dyn ReadTxn) -> StorageResult<()>,
    ) -> StorageResult<()> {
        let conn = self.conn.lock();
        in_transaction(&conn, "BEGIN DEFERRED", &mut |conn| {
            body(&mut SqlTxn::new(conn))
        })
    }

    /// One `BEGIN IMMEDIATE` transaction, shared with the process's other writers of this file
    /// (group commit): while it runs no other writer, in this process or another, can commit.
    fn write_dyn(
        &self,
        body: &mut dyn FnMut(&mut dyn WriteTxn) -> StorageResult<()>,
    ) -> StorageResult<()> {
        let Some(writer) = &self.writer else {
            return Err(StorageError::new(
                ErrorKind::ReadOnly,
                "the store is open read-only",
            ));
        };
        writer.run(body)?;
        feed::committed(self.file_id);
        Ok(())
    }

    fn has_change_feed(&self) -> bool {
        true
    }

    fn change_feed(&self) -> StorageResult<Box<dyn ChangeFeed>> {
        let conn = open_connection(
            &self.path,
            OpenMode {
                create: false,
                write: false,
                durable: false,
            },
        )?;
        Ok(Box::new(feed::SqliteFeed::new(conn, self.file_id)?))
    }

    fn identity(&self) -> Option<Vec<u8>> {
        let (dev, ino) = self.file_id;
        let mut id = b"sqlite:".to_vec();
        id.extend_from_slice(&dev.to_le_bytes());
        id.extend_from_slice(&ino.to_le_bytes());
        Some(id)
    }

    fn max_value_bytes(&self) -> u64 {
        MAX_VALUE_BYTES
    }

    /// SQLite's own integrity check.
    fn integrity_check(&self) -> StorageResult<bool> {
        let conn = self.conn.lock();
        let result: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
        Ok(result == "ok")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::value::PropValue;
    use crate::storage::{StoredProp, KIND_MESSAGE, MAX_CN, ROOT_FOLDER_ID};

    /// A committed message whose PR_SUBJECT_W is "hi"; its ID.
    fn message_with_subject(s: &SqliteEngine) -> u64 {
        eng(s)
            .write(|t| -> StorageResult<u64> {
                let cn = t.alloc_cn()?;
                let id = t.insert_object(KIND_MESSAGE, ROOT_FOLDER_ID, cn, 0)?;
                t.put_props(id, &[(0x0037_001F, PropValue::Unicode("hi".into()))])?;
                Ok(id)
            })
            .unwrap()
    }

    /// The engine as core sees it (the generic read/write helpers live on `dyn Engine`).
    fn eng(s: &SqliteEngine) -> &dyn Engine {
        s
    }

    fn bin(b: &[u8]) -> PropValue {
        PropValue::Binary(b.to_vec())
    }

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

    /// The change feed tells creations, modifications (a save's compare-and-swap, a direct
    /// property write) and deletions in commit order, a commit of this process at once; a
    /// reader further behind than the log keeps is told it missed some.
    #[test]
    fn the_change_feed_tells_commits_in_order_and_a_pruned_stretch_as_missed() {
        use super::super::{ChangeWhat, FeedItem, KIND_FOLDER};
        use std::time::{Duration, Instant};
        let path = temp_path("feed.db");
        let s = SqliteEngine::open(&path, RW).unwrap();
        let mut feed = s.change_feed().unwrap();
        assert_eq!(feed.next(Duration::ZERO).unwrap(), FeedItem::Nothing);
        let id = message_with_subject(&s);
        eng(&s)
            .write(|t| t.put_props(ROOT_FOLDER_ID, &[(0x6001_0003, PropValue::Long(1))]))
            .unwrap();
        eng(&s).write(|t| t.delete_object(id)).unwrap();
        let start = Instant::now();
        let FeedItem::Changes(got) = feed.next(Duration::from_secs(5)).unwrap() else {
            panic!("no changes");
        };
        // Woken by the commit, not by the poll.
        assert!(start.elapsed() < feed::POLL);
        let got: Vec<(u64, u32, ChangeWhat)> = got.iter().map(|c| (c.id, c.kind, c.what)).collect();
        assert_eq!(
            got,
            [
                // Its properties were written in the creating transaction: one entry.
                (id, KIND_MESSAGE, ChangeWhat::Created),
                (ROOT_FOLDER_ID, KIND_FOLDER, ChangeWhat::Modified),
                (id, KIND_MESSAGE, ChangeWhat::Deleted),
            ]
        );
        // Past the rows kept: the old reader missed some; a new one starts at the end.
        for i in 0..(feed::KEEP_CHANGES + 600) {
            eng(&s)
                .write(|t| t.put_props(ROOT_FOLDER_ID, &[(0x6001_0003, PropValue::Long(i as i32))]))
                .unwrap();
        }
        assert_eq!(feed.next(Duration::ZERO).unwrap(), FeedItem::Missed);
        let mut fresh = s.change_feed().unwrap();
        assert_eq!(fresh.next(Duration::ZERO).unwrap(), FeedItem::Nothing);
        let rows: i64 = s
            .conn
            .lock()
            .query_row("SELECT count(*) FROM changes", [], |r| r.get(0))
            .unwrap();
        assert!(rows <= feed::KEEP_CHANGES + 256, "{rows} rows kept");
    }

    /// A cached statement stays prepared from one use to the next: the props read of every
    /// open was prepared again at each use (a quarter of an open's time) until the connection
    /// took the query planner stability guarantee (`cache_statements`).
    #[test]
    fn the_props_read_is_not_prepared_again() {
        let path = temp_path("reprepare.db");
        let s = SqliteEngine::open(&path, RW).unwrap();
        let ids = [message_with_subject(&s), message_with_subject(&s)];
        for id in [ids[0], ids[1], ids[0], ids[1]] {
            assert_eq!(eng(&s).read(|t| t.props(id)).unwrap().len(), 1);
        }
        let conn = s.conn.lock();
        let stmt = conn.prepare_cached(txn::PROPS_OF_OBJECT).unwrap();
        // The four reads ran this statement, and never prepared it again.
        assert_eq!(stmt.get_status(rusqlite::StatementStatus::Run), 4);
        assert_eq!(stmt.get_status(rusqlite::StatementStatus::RePrepare), 0);
    }

    /// The writer checkpoints (after its commit, once its group has its result), so
    /// the WAL stays near SQLite's 1,000-frame mark however many saves there are: without
    /// checkpoints these 3,000 commits of ~3 pages would grow it to ~40 MB.
    #[test]
    fn the_writer_checkpoints_and_the_wal_stays_small() {
        let path = temp_path("checkpoint.db");
        let s = SqliteEngine::open(&path, RW).unwrap();
        let id = message_with_subject(&s);
        for i in 0..3_000 {
            eng(&s)
                .write(|t| t.put_props(id, &[(0x6001_0003, PropValue::Long(i))]))
                .unwrap();
        }
        let wal = std::fs::metadata(format!("{}-wal", path.display()))
            .unwrap()
            .len();
        assert!(wal < 8 << 20, "the WAL grew to {wal} bytes");
    }

    /// Two writers taking turns in the writers' queue (a durable and a quick handle of one
    /// file have a connection each, as two processes would): the WAL is still started over,
    /// because each writer's checkpoint finishes before the other's turn begins.
    #[test]
    fn writers_taking_turns_still_start_the_wal_over() {
        let path = temp_path("turns.db");
        let quick = Arc::new(SqliteEngine::open(&path, RW).unwrap());
        let durable = Arc::new(
            SqliteEngine::open(
                &path,
                OpenMode {
                    durable: true,
                    ..RW
                },
            )
            .unwrap(),
        );
        assert!(!Arc::ptr_eq(
            quick.writer.as_ref().unwrap(),
            durable.writer.as_ref().unwrap()
        ));
        // Kept open here: the last connection to close would checkpoint and remove the WAL.
        let handles = [quick, durable];
        let savers: Vec<_> = handles
            .iter()
            .cloned()
            .map(|s| {
                std::thread::spawn(move || {
                    let id = message_with_subject(&s);
                    for i in 0..1_500 {
                        eng(&s)
                            .write(|t| t.put_props(id, &[(0x6001_0003, PropValue::Long(i))]))
                            .unwrap();
                    }
                })
            })
            .collect();
        for s in savers {
            s.join().unwrap();
        }
        let wal = std::fs::metadata(format!("{}-wal", path.display()))
            .unwrap()
            .len();
        assert!(wal < 8 << 20, "the WAL grew to {wal} bytes");
    }

    #[test]
    fn handles_of_one_file_share_a_writer_and_its_commits() {
        use std::sync::mpsc;
        let path = temp_path("group.db");
        let a = Arc::new(SqliteEngine::open(&path, RW).unwrap());
        let b = Arc::new(SqliteEngine::open(&path, RW).unwrap());
        let other = SqliteEngine::open(&temp_path("group-other.db"), RW).unwrap();
        let durable = OpenMode {
            durable: true,
            ..RW
        };
        let a_durable = SqliteEngine::open(&path, durable).unwrap();
        let writer = |s: &SqliteEngine| s.writer.clone().unwrap();
        assert!(Arc::ptr_eq(&writer(&a), &writer(&b)));
        assert!(!Arc::ptr_eq(&writer(&a), &writer(&other)));
        assert!(!Arc::ptr_eq(&writer(&a), &writer(&a_durable)));

        let id = eng(&a)
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
                        eng(&a).write(|t| -> StorageResult<()> {
                            t.put_props(id, &[(TAG_A, bin(b"a"))])?;
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
                std::thread::spawn(move || {
                    eng(&b).write(|t| t.put_props(id, &[(TAG_B, bin(b"b"))]))
                })
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
            let stored = eng(&b).read(|t| t.props(id)).unwrap();
            let has = |tag: u32| stored.iter().any(|(t, _)| *t == tag);
            assert!(has(TAG_B), "{ending}");
            assert_eq!(has(TAG_A), ending == "ok", "{ending}");
            eng(&a)
                .write(|t| {
                    t.delete_props(id, &[(TAG_A >> 16) as u16])?;
                    t.delete_props(id, &[(TAG_B >> 16) as u16])
                })
                .unwrap();
        }
        assert_eq!(writer(&a).members(), 0);
    }

    #[test]
    fn large_binaries_are_written_in_pieces_and_read_back_whole() {
        let s = SqliteEngine::open(&temp_path("pieces.db"), RW).unwrap();
        let id = eng(&s)
            .write(|t| t.insert_object(KIND_MESSAGE, ROOT_FOLDER_ID, 1, 0))
            .unwrap();
        let big = |n: usize, salt: u8| -> Vec<u8> {
            (0..n)
                .map(|i| (i as u8).wrapping_mul(31) ^ salt ^ (i >> 16) as u8)
                .collect()
        };
        // Past one piece and not a multiple of it, with small values in the same call; then
        // rewritten shorter and longer (the update path), and a small one in its place.
        let tag = 0x6100_0102;
        for (n, salt) in [
            ((3 << 20) + 5, 1u8),
            ((1 << 20) + 1, 2),
            (5 << 20, 3),
            (7, 4),
        ] {
            let rows = vec![
                (0x0037_001F, PropValue::Unicode(format!("n={n}"))),
                (tag, bin(&big(n, salt))),
            ];
            eng(&s).write(|t| t.put_props(id, &rows)).unwrap();
            let stored = eng(&s).read(|t| t.props(id)).unwrap();
            assert_eq!(stored.len(), 2);
            for row in &rows {
                assert!(stored.contains(row), "{n} bytes: tag {:08X}", row.0);
            }
        }
        assert!(s.integrity_check().unwrap());
    }

    /// Large values live in `big_values` (schema 5), read back whole by every read path, and
    /// no row of theirs outlives the property that named it.
    #[test]
    fn large_values_are_kept_apart_read_back_and_never_left_behind() {
        use super::txn::LARGE_VALUE_BYTES;
        use crate::storage::ChildQuery;
        let path = temp_path("large.db");
        let s = SqliteEngine::open(&path, RW).unwrap();
        let raw = rusqlite::Connection::open(&path).unwrap();
        let count = |sql: &str| -> i64 { raw.query_row(sql, [], |r| r.get(0)).unwrap() };
        let kept_apart = || count("SELECT count(*) FROM big_values");
        let id = eng(&s)
            .write(|t| t.insert_object(KIND_MESSAGE, ROOT_FOLDER_ID, 1, 0))
            .unwrap();
        let (small, body, html, tags) = (0x0037_001F, 0x1000_001F, 0x1013_0102, 0x6200_101F);
        let text = |n: usize| PropValue::Unicode("é".repeat(n / 2));
        let rows = vec![
            (small, PropValue::Unicode("subject".into())),
            // Just below and at the threshold (bytes, not characters).
            (0x6201_001F, text(LARGE_VALUE_BYTES - 2)),
            (body, text(LARGE_VALUE_BYTES)),
            // Written in pieces.
            (html, bin(&vec![7; (1 << 20) + 3])),
            (
                tags,
                PropValue::MvUnicode(vec!["x".repeat(LARGE_VALUE_BYTES); 2]),
            ),
        ];
        eng(&s).write(|t| t.put_props(id, &rows)).unwrap();
        assert_eq!(kept_apart(), 3);
        assert_eq!(count("SELECT count(*) FROM props WHERE big IS NOT NULL"), 3);
        let mut sorted = rows.clone();
        sorted.sort_by_key(|(tag, _)| tag >> 16);
        assert_eq!(eng(&s).read(|t| t.props(id)).unwrap(), sorted);
        for row in &rows {
            let one = eng(&s).read(|t| t.prop(id, (row.0 >> 16) as u16)).unwrap();
            assert_eq!(one.as_ref(), Some(row));
        }
        // A contents table's read: fetched columns, large ones included.
        let fetch: Vec<u16> = rows.iter().map(|(tag, _)| (tag >> 16) as u16).collect();
        let q = ChildQuery {
            parent: ROOT_FOLDER_ID,
            kind: KIND_MESSAGE,
            mask: 0,
            flags: 0,
            narrow: None,
            fetch: &fetch,
        };
        let children = eng(&s).read(|t| t.select_children(&q)).unwrap();
        assert_eq!(children, vec![(id, rows.clone())]);
        // Replaced by a small value, by another large one, removed: the old rows go.
        let replaced = vec![
            (body, PropValue::Unicode("short".into())),
            (html, bin(&[1; 2000])),
        ];
        eng(&s).write(|t| t.put_props(id, &replaced)).unwrap();
        assert_eq!(kept_apart(), 2);
        let html_row = eng(&s).read(|t| t.prop(id, 0x1013)).unwrap();
        assert_eq!(html_row.as_ref(), Some(&replaced[1]));
        eng(&s).write(|t| t.delete_props(id, &[0x6200])).unwrap();
        assert_eq!(kept_apart(), 1);
        // Another object's large values are not touched by this one's writes; a deleted object
        // takes its own along.
        let other = eng(&s)
            .write(|t| -> StorageResult<u64> {
                let other = t.insert_object(KIND_MESSAGE, ROOT_FOLDER_ID, 2, 0)?;
                t.put_props(other, &rows[2..3])?;
                Ok(other)
            })
            .unwrap();
        assert_eq!(kept_apart(), 2);
        eng(&s).write(|t| t.delete_object(id)).unwrap();
        assert_eq!(kept_apart(), 1);
        assert_eq!(
            eng(&s).read(|t| t.props(other)).unwrap(),
            rows[2..3].to_vec()
        );
        assert!(s.integrity_check().unwrap());
    }

    #[test]
    fn batched_puts_and_a_panicking_writer_roll_back_cleanly() {
        let s = SqliteEngine::open(&temp_path("batch.db"), RW).unwrap();
        let id = eng(&s)
            .write(|t| t.insert_object(KIND_MESSAGE, ROOT_FOLDER_ID, 1, 0))
            .unwrap();
        // More rows than one statement takes, and a rewrite of some of them.
        let rows: Vec<StoredProp> = (0..20u32)
            .map(|i| ((0x6000 + i) << 16 | 0x0102, bin(&vec![i as u8; i as usize])))
            .collect();
        eng(&s).write(|t| t.put_props(id, &rows)).unwrap();
        eng(&s).write(|t| t.put_props(id, &rows[5..15])).unwrap();
        let stored = eng(&s).read(|t| t.props(id)).unwrap();
        assert_eq!(stored.len(), 20);
        for (tag, value) in &rows {
            assert!(stored.contains(&(*tag, value.clone())), "tag {tag:08X}");
        }
        // A panic inside the transaction rolls it back and leaves the handle usable.
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            eng(&s).write(|t| -> StorageResult<()> {
                t.delete_props(id, &[0x6000])?;
                panic!("injected");
            })
        }));
        assert!(panicked.is_err());
        assert_eq!(eng(&s).read(|t| t.props(id)).unwrap().len(), 20);
        eng(&s).write(|t| t.delete_props(id, &[0x6000])).unwrap();
        assert_eq!(eng(&s).read(|t| t.props(id)).unwrap().len(), 19);
    }

    #[test]
    fn create_reopen_and_mode() {
        let p = temp_path("a.db");
        let guid = SqliteEngine::open(&p, RW).unwrap().guid();
        let again = SqliteEngine::open(
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
        let e = SqliteEngine::open(
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
            SqliteEngine::open(&g, RW).err().unwrap().kind,
            ErrorKind::Corrupt
        );
        let other = temp_path("other.db");
        Connection::open(&other)
            .unwrap()
            .execute_batch("CREATE TABLE t(x)")
            .unwrap();
        assert_eq!(
            SqliteEngine::open(&other, RW).err().unwrap().kind,
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
            SqliteEngine::open(&other, RW).err().unwrap().kind,
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
        let s = SqliteEngine::open(&p, RW).unwrap();
        let id = message_with_subject(&s);
        let damage = |sql: &str| s.conn.lock().execute_batch(sql).unwrap();
        let kind_of_object = || eng(&s).read(|t| t.object(id)).unwrap_err().kind;
        let kind_of_props = || eng(&s).read(|t| t.props(id)).unwrap_err().kind;
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
        damage(&format!("UPDATE props SET value = 5 WHERE obj = {id}"));
        assert_eq!(kind_of_props(), ErrorKind::Corrupt);
        damage(&format!(
            "UPDATE props SET value = x'00', tag = 1 << 40 WHERE obj = {id}"
        ));
        assert_eq!(kind_of_props(), ErrorKind::Corrupt);
        // A row naming a large value that is not there, or naming it with text.
        damage(&format!(
            "UPDATE props SET value = NULL, tag = 3604511, big = 999 WHERE obj = {id}"
        ));
        assert_eq!(kind_of_props(), ErrorKind::Corrupt);
        damage(&format!("UPDATE props SET big = 'x' WHERE obj = {id}"));
        assert_eq!(kind_of_props(), ErrorKind::Corrupt);
        damage("DELETE FROM meta WHERE key = 'next_cn'");
        assert_eq!(
            eng(&s).write(|t| t.alloc_cn()).unwrap_err().kind,
            ErrorKind::Corrupt
        );
        damage("DROP TABLE props");
        assert_eq!(kind_of_props(), ErrorKind::Corrupt);
    }

    #[test]
    fn write_rolls_back_on_error_and_counts_change_numbers() {
        let p = temp_path("tx.db");
        let s = SqliteEngine::open(&p, RW).unwrap();
        let id = message_with_subject(&s);
        let failed: StorageResult<()> = eng(&s).write(|t| {
            t.put_props(id, &[(0x0037_001F, PropValue::Unicode("lost".into()))])?;
            Err(StorageError::corrupt("abandon"))
        });
        assert!(failed.is_err());
        let props = eng(&s).read(|t| t.props(id)).unwrap();
        assert_eq!(props, vec![(0x0037_001F, PropValue::Unicode("hi".into()))]);
        // 1 for the message, 2 used up by its put_props (a write without a change number of its
        // own moves the change stamp, see txn.rs); the rolled-back write's took none.
        let cn2 = eng(&s).write(|t| t.alloc_cn()).unwrap();
        assert_eq!(cn2, 3);
    }

    #[test]
    fn damaged_named_rows_are_corrupt_not_made_up() {
        use crate::core::named::PropName;
        let p = temp_path("named-damage.db");
        let s = SqliteEngine::open(&p, RW).unwrap();
        let inserted = eng(&s)
            .write(|t| t.named_insert(0x8000, &PropName::string([1; 16], "A")))
            .unwrap();
        assert!(inserted);
        drop(s);
        for damage in [
            "UPDATE named SET kind = 7",
            "UPDATE named SET guid = x'0102'",
            "UPDATE named SET id = 5",
        ] {
            let conn = rusqlite::Connection::open(&p).unwrap();
            conn.execute_batch(&format!("BEGIN; {damage}; COMMIT;"))
                .unwrap();
            drop(conn);
            let s = SqliteEngine::open(&p, RW).unwrap();
            let err = eng(&s).read(|t| t.named_all()).unwrap_err();
            assert_eq!(err.kind, ErrorKind::Corrupt, "{damage}: {}", err.message);
            drop(s);
            // Undo, for the next damage.
            let conn = rusqlite::Connection::open(&p).unwrap();
            conn.execute_batch(
                "DELETE FROM named; INSERT INTO named VALUES (32768, zeroblob(16), 1, 0, 'A')",
            )
            .unwrap();
        }
    }
}
