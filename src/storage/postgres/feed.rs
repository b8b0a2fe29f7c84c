//! The PostgreSQL engine's change feed (notifications, DESIGN.md §9): every write transaction
//! announces what it changed with `pg_notify` on the store's channel, sent in the commit's own
//! round trip but after its COMMIT, in a transaction of its own (never inside the save's: a
//! NOTIFY inside a transaction takes a database-wide lock at commit and would serialise every
//! committing save). A feed is a connection of its own that LISTENs on the channel; a lost
//! connection is made again and reported as [`FeedItem::Missed`] (what was sent meanwhile is
//! gone), as is an announcement that could not be sent (events are hints).
//!
//! No change-log table: the server's sequences number changes in the order they were taken, not
//! committed, so "the rows past the last one read" would skip a transaction that took its
//! number earlier and committed later; notifications arrive in commit order and carry the
//! changes themselves.

use super::super::{
    ChangeFeed, ChangeRecord, ChangeWhat, ErrorKind, FeedItem, StorageError, StorageResult,
};
use super::pg_error;
use super::pool::{Conn, Pool};
use postgres::fallible_iterator::FallibleIterator;
use std::fmt::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// PostgreSQL's limit on a payload is 8000 bytes: announcements are cut well below it.
const PAYLOAD_BYTES: usize = 7000;
/// Objects looked up per announcement of directly written objects (each takes < 60 bytes).
const TOUCHED_PER_NOTIFY: usize = 100;

/// The channel of the store numbered `store`.
pub(super) fn channel(store: i64) -> String {
    format!("msgstore_{store}")
}

/// One change as a payload entry: "what,id,kind,parent" (parent empty when none).
fn entry(c: &ChangeRecord) -> String {
    let parent = c.parent.map(|p| p.to_string()).unwrap_or_default();
    format!("{},{},{},{parent}", c.what.code(), c.id, c.kind)
}

/// The statements that announce a transaction's changes, to run after its COMMIT (empty when
/// there is nothing to announce). Everything in them is a number, so nothing needs quoting.
pub(super) fn announce_sql(store: i64, changes: &[ChangeRecord], touched: &[u64]) -> String {
    let chan = channel(store);
    let mut sql = String::new();
    let mut payload = String::new();
    for c in changes {
        let e = entry(c);
        if !payload.is_empty() && payload.len() + e.len() + 1 > PAYLOAD_BYTES {
            let _ = write!(sql, "; SELECT pg_notify('{chan}', '{payload}')");
            payload.clear();
        }
        if !payload.is_empty() {
            payload.push(';');
        }
        payload.push_str(&e);
    }
    if !payload.is_empty() {
        let _ = write!(sql, "; SELECT pg_notify('{chan}', '{payload}')");
    }
    // Objects whose properties were written directly (a folder's, the store object's, a read
    // flag), unless announced above: their kind and folder are read as they are now.
    let mut rest: Vec<u64> = touched
        .iter()
        .copied()
        .filter(|id| !changes.iter().any(|c| c.id == *id))
        .collect();
    rest.sort_unstable();
    rest.dedup();
    for ids in rest.chunks(TOUCHED_PER_NOTIFY) {
        let list: Vec<String> = ids.iter().map(u64::to_string).collect();
        let _ = write!(
            sql,
            "; SELECT pg_notify('{chan}', string_agg('{},' || id || ',' || kind || ',' || \
             coalesce(parent::text, ''), ';')) FROM msgstore_objects \
             WHERE store = {store} AND id IN ({}) AND kind IN (1, 3, 5) HAVING count(*) > 0",
            ChangeWhat::Modified.code(),
            list.join(", ")
        );
    }
    sql
}

/// Whether a failed commit batch failed in its announcement, after the COMMIT had succeeded:
/// the server's notification queue is full (SQLSTATE 54000, raised when the announcement's own
/// transaction commits). The save stands; listeners miss it.
pub(super) fn failed_after_commit(e: &postgres::Error) -> bool {
    e.as_db_error()
        .is_some_and(|db| db.code().code() == "54000")
}

fn parse(payload: &str) -> StorageResult<Vec<ChangeRecord>> {
    let bad = || StorageError::corrupt(format!("a change announcement is damaged: {payload:.80}"));
    let mut out = Vec::new();
    for e in payload.split(';').filter(|e| !e.is_empty()) {
        let mut f = e.split(',');
        let mut num = || f.next().ok_or_else(bad);
        let what = ChangeWhat::from_code(num()?.parse().map_err(|_| bad())?)?;
        let id = num()?.parse().map_err(|_| bad())?;
        let kind = num()?.parse().map_err(|_| bad())?;
        let parent = num()?;
        let parent = if parent.is_empty() {
            None
        } else {
            Some(parent.parse().map_err(|_| bad())?)
        };
        out.push(ChangeRecord {
            id,
            kind,
            parent,
            what,
        });
    }
    Ok(out)
}

pub(super) struct PgFeed {
    pool: Arc<Pool>,
    store: i64,
    /// The listening connection; None after it was lost, until made again.
    conn: Option<Conn>,
}

impl PgFeed {
    pub(super) fn new(pool: Arc<Pool>, store: i64) -> StorageResult<PgFeed> {
        let conn = listen(&pool, store)?;
        Ok(PgFeed {
            pool,
            store,
            conn: Some(conn),
        })
    }
}

/// A new connection listening on the store's channel.
fn listen(pool: &Pool, store: i64) -> StorageResult<Conn> {
    let mut conn = pool.connect()?;
    conn.client
        .batch_execute(&format!("LISTEN {}", channel(store)))
        .map_err(|e| pg_error(e, "listening for changes"))?;
    Ok(conn)
}

impl ChangeFeed for PgFeed {
    fn next(&mut self, timeout: Duration) -> StorageResult<FeedItem> {
        let Some(conn) = self.conn.as_mut() else {
            // Lost earlier: made again, everything meanwhile is unknown.
            let start = Instant::now();
            match listen(&self.pool, self.store) {
                Ok(conn) => {
                    self.conn = Some(conn);
                    return Ok(FeedItem::Missed);
                }
                Err(e) => {
                    // Not again at once: the server may be restarting.
                    std::thread::sleep(timeout.saturating_sub(start.elapsed()));
                    return Err(e);
                }
            }
        };
        let mut changes = Vec::new();
        let mut lost = false;
        {
            let mut notes = conn.client.notifications();
            let first = notes.timeout_iter(timeout).next();
            match first {
                Ok(Some(n)) => match parse(n.payload()) {
                    Ok(c) => changes.extend(c),
                    // A damaged announcement cannot be told: the reader missed something.
                    Err(_) => return Ok(FeedItem::Missed),
                },
                Ok(None) => {}
                Err(_) => lost = true,
            }
        }
        // Whatever else has arrived, without waiting.
        if !lost {
            let mut notes = conn.client.notifications();
            let mut ready = notes.iter();
            loop {
                match ready.next() {
                    Ok(Some(n)) => match parse(n.payload()) {
                        Ok(c) => changes.extend(c),
                        Err(_) => return Ok(FeedItem::Missed),
                    },
                    Ok(None) => break,
                    Err(_) => {
                        lost = true;
                        break;
                    }
                }
            }
        }
        if lost || conn.client.is_closed() {
            self.conn = None;
            if changes.is_empty() {
                return Err(StorageError::new(
                    ErrorKind::Network,
                    "the change listener's connection was lost",
                ));
            }
        }
        Ok(if changes.is_empty() {
            FeedItem::Nothing
        } else {
            FeedItem::Changes(changes)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn announcements_round_trip_and_stay_under_the_payload_limit() {
        let changes: Vec<ChangeRecord> = (0..1000)
            .map(|i| ChangeRecord {
                id: 1_000_000 + i,
                kind: 5,
                parent: if i % 7 == 0 { None } else { Some(2) },
                what: ChangeWhat::Modified,
            })
            .collect();
        let sql = announce_sql(3, &changes, &[1, 1_000_000]);
        let mut back = Vec::new();
        let mut touched_lookups = 0;
        for stmt in sql.split("; ").filter(|s| !s.is_empty()) {
            if let Some(rest) = stmt.strip_prefix("SELECT pg_notify('msgstore_3', '") {
                let payload = rest.strip_suffix("')").unwrap();
                assert!(payload.len() <= PAYLOAD_BYTES);
                back.extend(parse(payload).unwrap());
            } else {
                assert!(stmt.contains("id IN (1)"), "{stmt}");
                touched_lookups += 1;
            }
        }
        assert_eq!(back, changes);
        assert_eq!(touched_lookups, 1);
        assert!(announce_sql(3, &[], &[]).is_empty());
    }
}
