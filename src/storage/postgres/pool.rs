//! A small per-process pool of connections per (server URI, durability), so that the threads of
//! one process saving at once do not queue behind one connection. Each connection keeps its
//! prepared statements. Fork-safe: a child process never uses (or closes) a connection it
//! inherited — closing would end the parent's session — it forgets them and connects anew.

use super::super::{ErrorKind, StorageError, StorageResult};
use super::pg_error;
use parking_lot::Mutex;
use postgres::{Client, Config, NoTls, Statement};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, LazyLock};

/// Idle connections kept per pool; more are closed when returned.
const MAX_IDLE: usize = 16;

/// One connection and its prepared statements.
pub struct Conn {
    pub client: Client,
    statements: HashMap<&'static str, Statement>,
}

impl Conn {
    /// `sql` prepared once per connection.
    pub fn prepared(&mut self, sql: &'static str) -> StorageResult<Statement> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self
            .client
            .prepare(sql)
            .map_err(|e| pg_error(e, "preparing a statement"))?;
        self.statements.insert(sql, s.clone());
        Ok(s)
    }
}

pub struct Pool {
    config: Config,
    /// `synchronous_commit` stays on (MSGSTORE_NO_SYNC turns it off for the pool's sessions).
    durable: bool,
    redacted: String,
    idle: Mutex<Vec<Conn>>,
    /// The process the idle connections belong to.
    owner: AtomicU32,
}

/// A pool's key: the server URI and whether its sessions commit durably.
type PoolKey = (String, bool);

static POOLS: LazyLock<Mutex<HashMap<PoolKey, Arc<Pool>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The pool for `uri` (a URI the client library accepts) and durability.
pub fn pool(uri: &str, durable: bool, redacted: &str) -> StorageResult<Arc<Pool>> {
    let mut pools = POOLS.lock();
    if let Some(p) = pools.get(&(uri.to_string(), durable)) {
        return Ok(p.clone());
    }
    let config: Config = uri.parse().map_err(|e: postgres::Error| {
        StorageError::new(
            ErrorKind::NotFound,
            format!("{redacted}: not a PostgreSQL URI this client reads ({e})"),
        )
    })?;
    let pool = Arc::new(Pool {
        config,
        durable,
        redacted: redacted.to_string(),
        idle: Mutex::new(Vec::new()),
        owner: AtomicU32::new(std::process::id()),
    });
    pools.insert((uri.to_string(), durable), pool.clone());
    Ok(pool)
}

impl Pool {
    /// Forgets the connections a parent process left (after a fork): they are the parent's.
    fn forget_inherited(&self) {
        let me = std::process::id();
        if self.owner.load(Ordering::Acquire) != me {
            let mut idle = self.idle.lock();
            for conn in idle.drain(..) {
                std::mem::forget(conn);
            }
            self.owner.store(me, Ordering::Release);
        }
    }

    /// A connection of this pool (an idle one, or a new one).
    pub fn get(self: &Arc<Self>) -> StorageResult<Pooled> {
        self.forget_inherited();
        let idle = self.idle.lock().pop();
        let (conn, reused) = match idle {
            Some(c) if !c.client.is_closed() => (c, true),
            _ => (self.connect()?, false),
        };
        Ok(Pooled {
            pool: self.clone(),
            conn: Some(conn),
            pid: std::process::id(),
            reused,
        })
    }

    /// Closes every idle connection: one was found dead, and the others, of the same server,
    /// likely died with it (a restart) though the client cannot know until it uses them.
    pub fn clear_idle(&self) {
        self.forget_inherited();
        self.idle.lock().clear();
    }

    pub fn connect(&self) -> StorageResult<Conn> {
        let mut client = connect(&self.config)
            .map_err(|e| pg_error(e, &format!("connecting to {}", self.redacted)))?;
        if !self.durable {
            client
                .batch_execute("SET synchronous_commit = off")
                .map_err(|e| pg_error(e, "setting synchronous_commit"))?;
        }
        Ok(Conn {
            client,
            statements: HashMap::new(),
        })
    }
}

/// A new session: over TLS where the URI's `sslmode` asks for it and the build has TLS.
#[cfg(feature = "tls")]
fn connect(config: &Config) -> Result<Client, postgres::Error> {
    if config.get_ssl_mode() == postgres::config::SslMode::Disable {
        return config.connect(NoTls);
    }
    match native_tls::TlsConnector::new() {
        Ok(tls) => config.connect(postgres_native_tls::MakeTlsConnector::new(tls)),
        // No TLS library to be had: connect as a build without TLS would (sslmode=prefer
        // falls back to plain; require fails).
        Err(_) => config.connect(NoTls),
    }
}

/// A new session (this build has no TLS: `sslmode=require` fails to connect; build with the
/// "tls" feature for it).
#[cfg(not(feature = "tls"))]
fn connect(config: &Config) -> Result<Client, postgres::Error> {
    config.connect(NoTls)
}

/// A connection lent by a pool; back to the pool when dropped, unless it broke.
pub struct Pooled {
    pool: Arc<Pool>,
    conn: Option<Conn>,
    pid: u32,
    /// Taken from the idle list (its session may have ended unseen), not newly connected.
    reused: bool,
}

impl Pooled {
    pub fn conn(&mut self) -> &mut Conn {
        self.conn
            .as_mut()
            .expect("a pooled connection until dropped")
    }

    /// Whether the connection was idle in the pool (rather than connected for this use).
    pub fn reused(&self) -> bool {
        self.reused
    }

    /// Closes this connection instead of returning it (its session is in an unknown state).
    pub fn discard(mut self) {
        self.conn.take();
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        if self.pid != std::process::id() {
            // Taken before a fork: the parent's session; never closed from here.
            std::mem::forget(conn);
            return;
        }
        if conn.client.is_closed() {
            return;
        }
        let mut idle = self.pool.idle.lock();
        if idle.len() < MAX_IDLE {
            idle.push(conn);
        }
    }
}
