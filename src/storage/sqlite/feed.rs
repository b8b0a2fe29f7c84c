//! The SQLite engine's change log and change feed (notifications, DESIGN.md §9).
//!
//! Every write transaction logs what it did to folders, messages and the store object in the
//! `changes` table (schema 4), inside the transaction, so a change is logged exactly when it is
//! committed. A feed reads the rows past the last one it read: SQLite has one writer at a time
//! and a row's `seq` is the rowid (the largest plus one), so rows appear in commit order with no
//! gap except what pruning removed, and a gap means "missed". The feed runs that one indexed
//! query when a commit of this process wakes it (at once), and otherwise every [`POLL`]: a read
//! of the WAL index in shared memory and one B-tree page, no disk I/O while nothing changes.

use super::super::{
    logged_kind, ChangeFeed, ChangeRecord, ChangeWhat, FeedItem, ObjectRow, StorageResult,
};
use parking_lot::{Condvar, Mutex};
use rusqlite::{params, Connection};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

/// Rows kept: a reader further behind than this gets [`FeedItem::Missed`].
pub(super) const KEEP_CHANGES: i64 = 10_000;
/// Writers prune once every this many rows.
const PRUNE_EVERY: i64 = 256;
/// How often a feed looks for other processes' commits.
pub const POLL: Duration = Duration::from_millis(50);
/// Rows read at once.
const BATCH: i64 = 1_000;
/// A feed reads at most this often however fast this process commits: a stream of saves is
/// told in batches (a few per batch at thousands of saves a second) instead of costing each save
/// a read and a delivery.
const MIN_GAP: Duration = Duration::from_millis(2);

/// Logs a change to `row`'s object (nothing for a child: its message's change is logged).
pub(super) fn log_change(
    conn: &Connection,
    row: &ObjectRow,
    what: ChangeWhat,
) -> StorageResult<()> {
    if !logged_kind(row.kind) {
        return Ok(());
    }
    conn.prepare_cached("INSERT INTO changes(obj, kind, parent, what) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![
            row.id as i64,
            row.kind,
            row.parent.map(|p| p as i64),
            what.code()
        ])?;
    prune(conn)
}

/// Logs a change to the object `id` as stored now (before a deletion, after a write).
pub(super) fn log_change_of(conn: &Connection, id: u64, what: ChangeWhat) -> StorageResult<()> {
    let logged = conn
        .prepare_cached(
            "INSERT INTO changes(obj, kind, parent, what) \
             SELECT id, kind, parent, ?2 FROM objects WHERE id = ?1 AND kind IN (1, 3, 5)",
        )?
        .execute(params![id as i64, what.code()])?;
    if logged > 0 {
        prune(conn)?;
    }
    Ok(())
}

/// Drops old rows now and then (the newest is never dropped, so rowids keep growing).
fn prune(conn: &Connection) -> StorageResult<()> {
    let seq = conn.last_insert_rowid();
    if seq % PRUNE_EVERY == 0 {
        conn.prepare_cached("DELETE FROM changes WHERE seq <= ?1")?
            .execute([seq - KEEP_CHANGES])?;
    }
    Ok(())
}

/// Commits of this process, per store file: a feed sleeps on it so that a commit by any handle
/// of this process is published at once, not at the next poll.
#[derive(Default)]
struct Commits {
    count: Mutex<u64>,
    signal: Condvar,
}

type FileId = (u64, u64);

static LOCAL_COMMITS: LazyLock<Mutex<HashMap<FileId, Arc<Commits>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));
/// Feeds open in this process: while none is, a commit does not even look at the map.
static FEEDS: AtomicUsize = AtomicUsize::new(0);

/// Called after every commit of this process to the file `file_id`.
pub(super) fn committed(file_id: FileId) {
    if FEEDS.load(Ordering::Relaxed) == 0 {
        return;
    }
    let commits = LOCAL_COMMITS.lock().get(&file_id).cloned();
    if let Some(c) = commits {
        *c.count.lock() += 1;
        c.signal.notify_all();
    }
}

pub(super) struct SqliteFeed {
    conn: Connection,
    file_id: FileId,
    commits: Arc<Commits>,
    /// The commits of this process already looked for.
    commits_seen: u64,
    /// The last row read.
    last: i64,
    /// When the log was last read.
    read_at: Instant,
}

impl SqliteFeed {
    /// A feed over `conn` (a connection of its own to the store file) from its newest row.
    pub(super) fn new(conn: Connection, file_id: FileId) -> StorageResult<Self> {
        let last: i64 = conn.query_row("SELECT coalesce(max(seq), 0) FROM changes", [], |r| {
            r.get(0)
        })?;
        let commits = LOCAL_COMMITS.lock().entry(file_id).or_default().clone();
        FEEDS.fetch_add(1, Ordering::Relaxed);
        let commits_seen = *commits.count.lock();
        Ok(SqliteFeed {
            conn,
            file_id,
            commits,
            commits_seen,
            last,
            read_at: Instant::now(),
        })
    }

    fn read(&mut self) -> StorageResult<FeedItem> {
        let rows: Vec<(i64, i64, u32, Option<i64>, i64)> = self
            .conn
            .prepare_cached(
                "SELECT seq, obj, kind, parent, what FROM changes WHERE seq > ?1 \
                 ORDER BY seq LIMIT ?2",
            )?
            .query_map(params![self.last, BATCH], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?
            .collect::<Result<_, _>>()?;
        let Some(&(first, ..)) = rows.first() else {
            return Ok(FeedItem::Nothing);
        };
        let missed = first > self.last + 1;
        self.last = rows.last().map_or(self.last, |r| r.0);
        if missed {
            return Ok(FeedItem::Missed);
        }
        let mut out = Vec::with_capacity(rows.len());
        for (_, id, kind, parent, what) in rows {
            // A damaged row cannot be told: the reader is told it missed something.
            let Ok(what) = ChangeWhat::from_code(what) else {
                return Ok(FeedItem::Missed);
            };
            out.push(ChangeRecord {
                id: id as u64,
                kind,
                parent: parent.map(|p| p as u64),
                what,
            });
        }
        Ok(FeedItem::Changes(out))
    }
}

impl Drop for SqliteFeed {
    fn drop(&mut self) {
        FEEDS.fetch_sub(1, Ordering::Relaxed);
        let mut map = LOCAL_COMMITS.lock();
        // The map's own reference and this feed's: no other feed of this file is left.
        if Arc::strong_count(&self.commits) == 2 {
            map.remove(&self.file_id);
        }
    }
}

impl ChangeFeed for SqliteFeed {
    fn next(&mut self, timeout: Duration) -> StorageResult<FeedItem> {
        let deadline = Instant::now() + timeout;
        loop {
            let since = self.read_at.elapsed();
            if since < MIN_GAP {
                std::thread::sleep(
                    (MIN_GAP - since).min(deadline.saturating_duration_since(Instant::now())),
                );
            }
            self.read_at = Instant::now();
            let item = self.read()?;
            if item != FeedItem::Nothing {
                return Ok(item);
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(FeedItem::Nothing);
            }
            let until = deadline.min(now + POLL);
            let mut count = self.commits.count.lock();
            if *count == self.commits_seen {
                self.commits.signal.wait_until(&mut count, until);
            }
            self.commits_seen = *count;
        }
    }
}
