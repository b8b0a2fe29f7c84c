//! The PostgreSQL engine (DESIGN.md §8): stores shared by many hosts. Many stores live in one
//! database, every row keyed by its store. Each process keeps a small pool of connections per
//! server and durability (`pool.rs`); a write transaction is READ COMMITTED with its compares
//! locked or conditional in SQL (`txn.rs`), retried a bounded number of times after a
//! serialization failure or deadlock, and committed with a random token in the same
//! transaction, so that a connection lost during COMMIT is answered exactly by asking for the
//! token (`PgEngine::landed`), never with a wrong answer.

mod copy_in;
mod feed;
mod location;
mod pool;
mod schema;
mod txn;

pub use schema::SCHEMA_VERSION;

use super::{
    ChangeFeed, Engine, ErrorKind, OpenMode, ReadTxn, StorageError, StorageResult, WriteTxn,
    KIND_FOLDER, KIND_STORE, ROOT_FOLDER_ID, STORE_OBJECT_ID,
};
use pool::{Pool, Pooled};
use std::sync::Arc;
use std::time::{Duration, Instant};
use txn::PgTxn;

/// Attempts of one write transaction that meets serialization failures or deadlocks.
const MAX_ATTEMPTS: u32 = 8;
/// How long a save whose COMMIT lost its connection keeps asking whether it landed.
const COMMIT_CHECK_LIMIT: Duration = Duration::from_secs(10);
/// How long commit tokens are kept: far longer than anyone asks about one (COMMIT_CHECK_LIMIT).
const TOKEN_KEEP: &str = "1 hour";

/// One MAPI_E_* per kind of server failure (DESIGN.md §8's list).
pub(crate) fn pg_error(e: postgres::Error, what: &str) -> StorageError {
    use postgres::error::SqlState as S;
    let kind = match e.code() {
        Some(c) if *c == S::T_R_SERIALIZATION_FAILURE || *c == S::T_R_DEADLOCK_DETECTED => {
            ErrorKind::Retry
        }
        Some(c) if *c == S::QUERY_CANCELED || *c == S::LOCK_NOT_AVAILABLE => ErrorKind::Busy,
        Some(c) if *c == S::TOO_MANY_CONNECTIONS => ErrorKind::ServerBusy,
        Some(c) if *c == S::DISK_FULL => ErrorKind::Full,
        Some(c) if *c == S::OUT_OF_MEMORY => ErrorKind::OutOfMemory,
        Some(c) if *c == S::PROGRAM_LIMIT_EXCEEDED => ErrorKind::TooBig,
        Some(c)
            if *c == S::READ_ONLY_SQL_TRANSACTION
                || *c == S::INSUFFICIENT_PRIVILEGE
                || *c == S::INVALID_PASSWORD
                || *c == S::INVALID_AUTHORIZATION_SPECIFICATION =>
        {
            ErrorKind::ReadOnly
        }
        Some(c) if *c == S::INVALID_CATALOG_NAME => ErrorKind::NotFound,
        Some(c)
            if *c == S::ADMIN_SHUTDOWN
                || *c == S::CRASH_SHUTDOWN
                || *c == S::CANNOT_CONNECT_NOW
                || c.code().starts_with("08") =>
        {
            ErrorKind::Network
        }
        Some(_) => ErrorKind::Io,
        // No SQLSTATE: the connection itself failed (refused, reset, closed).
        None => ErrorKind::Network,
    };
    // A server error's own text (the client library's Display says only "db error").
    let text = match e.as_db_error() {
        Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
        None => e.to_string(),
    };
    StorageError::new(kind, format!("PostgreSQL, {what}: {text}"))
}

/// An open store in a PostgreSQL database.
pub struct PgEngine {
    pool: Arc<Pool>,
    store: i64,
    guid: [u8; 16],
    writable: bool,
    name: String,
}

/// Reads 16 random bytes from the OS.
fn random16() -> StorageResult<[u8; 16]> {
    use std::io::Read;
    let mut buf = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .map_err(|e| StorageError::new(ErrorKind::Io, format!("/dev/urandom: {e}")))?;
    Ok(buf)
}

impl PgEngine {
    /// Opens (with `create`, creates) the store a `postgresql://…?store=NAME` URI names.
    pub fn open(uri: &str, mode: OpenMode) -> StorageResult<PgEngine> {
        let loc = location::parse(uri)?;
        let pool = pool::pool(&loc.connect, mode.durable, &loc.redacted)?;
        let mut pooled = pool.get()?;
        let reused = pooled.reused();
        let (store, guid) = match open_on(&mut pooled.conn().client, &loc, mode) {
            Err(err) if reused && err.kind == ErrorKind::Network => {
                // An idle connection whose session ended unseen (as in `begin`): the idle ones
                // go, and the open — which does nothing it would not do again — is tried once
                // more on a new connection.
                pooled.discard();
                pool.clear_idle();
                pooled = pool.get()?;
                open_on(&mut pooled.conn().client, &loc, mode)?
            }
            other => other?,
        };
        drop(pooled);
        Ok(PgEngine {
            pool,
            store,
            guid,
            writable: mode.write,
            name: loc.store,
        })
    }
}

/// Opens (with `create`, creates) the store `loc` names on `client`: its number and GUID.
fn open_on(
    client: &mut postgres::Client,
    loc: &location::Location,
    mode: OpenMode,
) -> StorageResult<(i64, [u8; 16])> {
    let e = |what: &'static str| move |err| pg_error(err, what);
    if mode.write {
        let standby: bool = client
            .query_one("SELECT pg_is_in_recovery()", &[])
            .map_err(e("asking whether the server is a standby"))?
            .get(0);
        if standby {
            return Err(StorageError::new(
                ErrorKind::ReadOnly,
                format!("{}: the server is a read-only standby", loc.redacted),
            ));
        }
    }
    schema::prepare(client, mode.write, &loc.redacted)?;
    let find = |client: &mut postgres::Client| {
        client
            .query_opt(
                "SELECT store, guid FROM msgstore_stores WHERE name = $1",
                &[&loc.store],
            )
            .map_err(e("looking up the store"))
    };
    let row = match find(client)? {
        Some(row) => row,
        None if mode.create => {
            create_store(client, &loc.store)?;
            find(client)?.ok_or_else(|| {
                StorageError::corrupt(format!("{}: the new store vanished", loc.redacted))
            })?
        }
        None => {
            return Err(StorageError::new(
                ErrorKind::NotFound,
                format!(
                    "{}: the database holds no store named \"{}\" (MAPI_CREATE makes one)",
                    loc.redacted, loc.store
                ),
            ))
        }
    };
    let store: i64 = row.get(0);
    let guid: Vec<u8> = row.get(1);
    let guid: [u8; 16] = guid
        .try_into()
        .map_err(|_| StorageError::corrupt("the store GUID is damaged"))?;
    if mode.write {
        let may: bool = client
            .query_one(
                "SELECT has_table_privilege('msgstore_objects', 'UPDATE')",
                &[],
            )
            .map_err(e("checking privileges"))?
            .get(0);
        if !may {
            return Err(StorageError::new(
                ErrorKind::ReadOnly,
                format!("{}: this role may not write the store", loc.redacted),
            ));
        }
    }
    Ok((store, guid))
}

/// Creates a store (its row and its two fixed objects) unless another opener just did.
fn create_store(client: &mut postgres::Client, name: &str) -> StorageResult<()> {
    let e = |what: &'static str| move |err| pg_error(err, what);
    let mut guid = random16()?;
    guid[7] = (guid[7] & 0x0F) | 0x40;
    guid[8] = (guid[8] & 0x3F) | 0x80;
    let mut tx = client.transaction().map_err(e("creating the store"))?;
    // A racing creator waits on the name's unique index, then finds the row and does nothing.
    let made = tx
        .query_opt(
            "INSERT INTO msgstore_stores(name, guid) VALUES ($1, $2) \
             ON CONFLICT (name) DO NOTHING RETURNING store",
            &[&name, &guid.to_vec()],
        )
        .map_err(e("creating the store"))?;
    if let Some(row) = made {
        let store: i64 = row.get(0);
        tx.execute(
            "INSERT INTO msgstore_objects(store, id, kind, parent, cn, flags) \
             VALUES ($1, $2, $3, NULL, 0, 0), ($1, $4, $5, NULL, 0, 0)",
            &[
                &store,
                &(STORE_OBJECT_ID as i64),
                &(KIND_STORE as i32),
                &(ROOT_FOLDER_ID as i64),
                &(KIND_FOLDER as i32),
            ],
        )
        .map_err(e("creating the store's root folder"))?;
    }
    tx.commit().map_err(e("creating the store"))
}

/// A transaction's connection: rolled back and closed if the transaction did not end (a panic
/// in the body), so that no pooled connection is ever left inside a transaction.
struct Open {
    pooled: Option<Pooled>,
}

impl Open {
    fn conn(&mut self) -> &mut pool::Conn {
        self.pooled.as_mut().expect("open until finished").conn()
    }
    /// The transaction ended cleanly: the connection goes back to the pool.
    fn finish(mut self) {
        self.pooled.take();
    }
    /// The connection's state is unknown: close it.
    fn discard(mut self) {
        if let Some(p) = self.pooled.take() {
            p.discard();
        }
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        if let Some(p) = self.pooled.take() {
            p.discard();
        }
    }
}

impl PgEngine {
    /// Begins a transaction. An idle connection may have lost its session unseen (a server
    /// restart, a terminated backend): when BEGIN — which changes nothing — fails on one for
    /// want of a connection, the pool's idle connections are dropped and a new one tried, once,
    /// so that the first call after a restart does not fail for a connection the server is gone
    /// from.
    fn begin(&self, sql: &str) -> StorageResult<Open> {
        let mut open = Open {
            pooled: Some(self.pool.get()?),
        };
        let reused = open.pooled.as_ref().is_some_and(Pooled::reused);
        match open.conn().client.batch_execute(sql) {
            Ok(()) => return Ok(open),
            Err(e) => {
                let err = pg_error(e, "beginning a transaction");
                open.discard();
                if !reused || err.kind != ErrorKind::Network {
                    return Err(err);
                }
                self.pool.clear_idle();
            }
        }
        let mut open = Open {
            pooled: Some(self.pool.get()?),
        };
        open.conn()
            .client
            .batch_execute(sql)
            .map_err(|e| pg_error(e, "beginning a transaction"))?;
        Ok(open)
    }

    /// Ends a failed transaction: rolled back, the connection kept if it still works.
    fn abandon(open: Open) {
        let mut open = open;
        match open.conn().client.batch_execute("ROLLBACK") {
            Ok(()) => open.finish(),
            Err(_) => open.discard(),
        }
    }

    /// Whether the write transaction that committed with `token` landed, asked on fresh
    /// connections until the server answers (or COMMIT_CHECK_LIMIT passes: then the answer is
    /// unknown, an error). The question inserts the token itself, marked as the probe's: if the
    /// transaction committed, its row is there and the insert finds it (answer: landed); if it
    /// is still finishing (a terminated backend, a COMMIT still in the network), the insert
    /// waits on its unique key until it ends; if it never committed, the probe's row now holds
    /// the token, so that the lost transaction, should it still arrive, fails on it: the answer
    /// "did not land" stays true. Asked again after a lost answer, the probe finds its own row.
    fn landed(&self, token: &[u8; 16]) -> StorageResult<bool> {
        let start = Instant::now();
        loop {
            let left = COMMIT_CHECK_LIMIT
                .saturating_sub(start.elapsed())
                .as_millis();
            let answer = self.pool.connect().and_then(|mut conn| {
                let e = |err| pg_error(err, "asking whether a save landed");
                conn.client
                    .batch_execute(&format!("SET statement_timeout = {}", left.max(1)))
                    .map_err(e)?;
                conn.client
                    .query_one(
                        "INSERT INTO msgstore_commits(token, by_probe) VALUES ($1, true) \
                         ON CONFLICT (token) DO UPDATE SET by_probe = msgstore_commits.by_probe \
                         RETURNING by_probe",
                        &[&token.as_slice()],
                    )
                    .map(|row| !row.get::<_, bool>(0))
                    .map_err(e)
            });
            match answer {
                Ok(landed) => return Ok(landed),
                Err(e) if start.elapsed() >= COMMIT_CHECK_LIMIT => {
                    return Err(StorageError::new(
                        ErrorKind::Network,
                        format!(
                            "the connection was lost while a save committed, and whether it \
                             landed cannot be told ({})",
                            e.message
                        ),
                    ))
                }
                Err(_) => std::thread::sleep(Duration::from_millis(200)),
            }
        }
    }

    /// Deletes the commit tokens nobody can still ask about (about one commit in 256 does).
    fn sweep_tokens(&self) {
        let _ = self.pool.get().and_then(|mut p| {
            p.conn()
                .client
                .batch_execute(&format!(
                    "DELETE FROM msgstore_commits WHERE at < now() - interval '{TOKEN_KEEP}'"
                ))
                .map_err(|e| pg_error(e, "sweeping commit tokens"))
        });
    }
}

impl Engine for PgEngine {
    fn guid(&self) -> [u8; 16] {
        self.guid
    }

    fn writable(&self) -> bool {
        self.writable
    }

    fn name(&self) -> String {
        self.name.clone()
    }

    /// The store's row (its number and GUID) in its database: handles of one store agree.
    fn identity(&self) -> Option<Vec<u8>> {
        let mut id = b"postgres:".to_vec();
        id.extend_from_slice(&self.guid);
        id.extend_from_slice(&self.store.to_le_bytes());
        Some(id)
    }

    /// A bytea or text field holds up to 1 GiB; a save also travels in one protocol message
    /// with the rest of the change set, so the same 256 MiB as the SQLite engine.
    fn max_value_bytes(&self) -> u64 {
        256 << 20
    }

    fn read_dyn(
        &self,
        body: &mut dyn FnMut(&mut dyn ReadTxn) -> StorageResult<()>,
    ) -> StorageResult<()> {
        let mut open = self.begin("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")?;
        let result = body(&mut PgTxn {
            conn: open.conn(),
            store: self.store,
            wrote: false,
            must_retry: false,
            changes: Vec::new(),
            touched: Vec::new(),
        });
        match result {
            Ok(()) => {
                open.conn()
                    .client
                    .batch_execute("COMMIT")
                    .map_err(|e| pg_error(e, "ending a read"))?;
                open.finish();
                Ok(())
            }
            Err(e) => {
                Self::abandon(open);
                Err(e)
            }
        }
    }

    fn write_dyn(
        &self,
        body: &mut dyn FnMut(&mut dyn WriteTxn) -> StorageResult<()>,
    ) -> StorageResult<()> {
        if !self.writable {
            return Err(StorageError::new(
                ErrorKind::ReadOnly,
                "the store is open read-only",
            ));
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut open = self.begin("BEGIN ISOLATION LEVEL READ COMMITTED")?;
            let mut txn = PgTxn {
                conn: open.conn(),
                store: self.store,
                wrote: false,
                must_retry: false,
                changes: Vec::new(),
                touched: Vec::new(),
            };
            let result = body(&mut txn);
            let (wrote, must_retry) = (txn.wrote, txn.must_retry);
            let announce = feed::announce_sql(self.store, &txn.changes, &txn.touched);
            // A body that made light of a serialization failure or deadlock still ran in an
            // aborted transaction: run it again rather than commit nothing and say it landed.
            let result = match result {
                Ok(()) if must_retry => Err(StorageError::new(
                    ErrorKind::Retry,
                    "the transaction was aborted by a serialization failure or deadlock",
                )),
                other => other,
            };
            match result {
                Ok(()) if !wrote => {
                    open.conn()
                        .client
                        .batch_execute("COMMIT")
                        .map_err(|e| pg_error(e, "ending a transaction"))?;
                    open.finish();
                    return Ok(());
                }
                Ok(()) => {
                    let token = random16()?;
                    let hex: String = token.iter().map(|b| format!("{b:02x}")).collect();
                    // The token and the COMMIT in one round trip (a simple-query batch). Should
                    // the transaction have been aborted unseen, the INSERT fails and COMMIT is
                    // not run: never a silent rollback reported as a save.
                    // The announcement of the changes (feed.rs) follows in the same round
                    // trip, after the COMMIT, in a transaction of its own.
                    let commit = open.conn().client.batch_execute(&format!(
                        "INSERT INTO msgstore_commits(token) VALUES (decode('{hex}', 'hex')); \
                         COMMIT{announce}"
                    ));
                    let commit = match commit {
                        Err(e) if feed::failed_after_commit(&e) => Ok(()),
                        other => other,
                    };
                    match commit {
                        Ok(()) => {
                            open.finish();
                            if token[0] == 0 {
                                self.sweep_tokens();
                            }
                            return Ok(());
                        }
                        Err(e) => {
                            let err = pg_error(e, "committing");
                            open.discard();
                            if err.kind == ErrorKind::Network {
                                return if self.landed(&token)? {
                                    Ok(())
                                } else {
                                    Err(StorageError::new(
                                        ErrorKind::Network,
                                        format!("{}; the save did not land", err.message),
                                    ))
                                };
                            }
                            if err.kind == ErrorKind::Retry && attempt < MAX_ATTEMPTS {
                                continue;
                            }
                            return Err(err);
                        }
                    }
                }
                Err(e) => {
                    Self::abandon(open);
                    if (must_retry || e.kind == ErrorKind::Retry) && attempt < MAX_ATTEMPTS {
                        std::thread::sleep(Duration::from_millis(u64::from(attempt)));
                        continue;
                    }
                    return Err(e);
                }
            }
        }
    }

    fn has_change_feed(&self) -> bool {
        true
    }

    fn change_feed(&self) -> StorageResult<Box<dyn ChangeFeed>> {
        Ok(Box::new(feed::PgFeed::new(self.pool.clone(), self.store)?))
    }

    fn integrity_check(&self) -> StorageResult<bool> {
        let mut p = self.pool.get()?;
        let orphans: i64 = p
            .conn()
            .client
            .query_one(
                "SELECT count(*) FROM msgstore_props p WHERE p.store = $1 AND NOT EXISTS \
                 (SELECT 1 FROM msgstore_objects o WHERE o.store = p.store AND o.id = p.obj)",
                &[&self.store],
            )
            .map_err(|e| pg_error(e, "checking the store"))?
            .get(0);
        Ok(orphans == 0)
    }
}
