//! Group commit. The write transactions of every handle of this process on one store file run on
//! one shared connection, one after another, inside one SQLite transaction, and share its COMMIT:
//! one fsync for the group. Each member runs in a savepoint, so a member that fails rolls back
//! only itself; each sees the members before it (a compare made by one is still true at the
//! commit, as with a transaction of its own); none returns before the commit is durable, and if
//! the commit fails every member of the group fails with it.
//!
//! A group forms while its first member works: whoever arrives meanwhile joins. The last member
//! to finish commits; arrivals during the commit wait for the next group. Other processes have
//! their own connections and meet in SQLite's write lock as before.
//!
//! Every wait of a member — for a place in a group, for the connection, for SQLite's write lock
//! (the busy handler) — ends at one deadline, the member's start plus the lock timeout, so a save
//! queued behind others returns MAPI_E_TIMEOUT that long after its own start, never after the
//! waits of those ahead of it added up (issue 12, item 4).

use super::super::{ErrorKind, StorageError, StorageResult, WriteTxn};
use super::queue::{Kept, Place, WriterQueue};
use super::txn::{step, SqlTxn};
use parking_lot::{Condvar, Mutex, MutexGuard};
use rusqlite::Connection;
use std::collections::HashMap;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// At most this many members share one commit, so that an early member's wait stays bounded
/// under a steady stream of arrivals.
const MAX_GROUP: usize = 16;

/// The WAL's length in frames past which the writer checkpoints (SQLite's own default).
const CHECKPOINT_FRAMES: i32 = 1000;

/// The shared writer of one store file (and sync mode) in this process.
pub(super) struct Writer {
    conn: Mutex<Connection>,
    /// How long each save may wait, from its start.
    timeout: Duration,
    group: Mutex<Group>,
    /// Signalled when a group has committed (its members read the result; newcomers may join).
    committed: Condvar,
    /// The WAL's length in frames after this connection's last commit (its WAL hook sets it).
    wal_frames: Arc<AtomicI32>,
    /// The WAL's length in frames when this writer last checkpointed (0: since started over).
    checkpointed_at: AtomicI32,
    /// The file's queue of writers across processes (queue.rs): a group takes a place before
    /// it asks for SQLite's write lock and leaves it once it has committed.
    queue: Option<WriterQueue>,
}

#[derive(Default)]
struct Group {
    /// The group now forming or committing.
    generation: u64,
    joined: usize,
    finished: usize,
    /// Members waiting for this group's commit.
    waiting: usize,
    /// The group's transaction has begun on the connection.
    begun: bool,
    /// The group's place in the writers' queue, from before its BEGIN to after its COMMIT.
    place: Option<Place>,
    /// A member's compare-and-swap found its object changed: the place is kept for the retry.
    found_stale: bool,
    /// The place a group with a conflict kept, for this process's next group.
    kept: Option<Kept>,
    /// The group is committing: newcomers wait for the next one.
    closed: bool,
    /// Commit results by generation, with how many waiting members have yet to read each.
    results: HashMap<u64, (StorageResult<()>, usize)>,
}

impl Writer {
    /// The writer on `conn`. Its checkpoints run once the group's members have been told their
    /// result, not inside COMMIT as SQLite's automatic ones do (the WAL hook that counts frames
    /// replaces them): the members do not wait for a checkpoint's copying and fsync.
    pub(super) fn new(
        mut conn: Connection,
        timeout: Duration,
        queue: Option<WriterQueue>,
    ) -> StorageResult<Writer> {
        let wal_frames = Arc::new(AtomicI32::new(0));
        let frames = wal_frames.clone();
        conn.wal_hook(Some(move |_: &mut rusqlite::hooks::Wal, pages: i32| {
            frames.store(pages, Ordering::Relaxed);
            Ok(())
        }))?;
        Ok(Writer {
            conn: Mutex::new(conn),
            wal_frames,
            checkpointed_at: AtomicI32::new(0),
            timeout,
            group: Mutex::new(Group::default()),
            committed: Condvar::new(),
            queue,
        })
    }

    /// Whether to checkpoint after this commit: once the WAL has grown by CHECKPOINT_FRAMES
    /// since this writer's last try. Not at every commit past the size (SQLite's own rule): with
    /// other processes reading, a PASSIVE checkpoint often cannot finish, SQLite cannot start
    /// the WAL over, and it stays past the size, so every save paid a checkpoint's copying and
    /// two fsyncs (150 checkpoints in 650 saves of two processes, measured).
    fn checkpoint_due(&self) -> bool {
        let frames = self.wal_frames.load(Ordering::Relaxed);
        let last = self.checkpointed_at.load(Ordering::Relaxed);
        // A WAL shorter than at the last try was started over since.
        let since = if frames < last { 0 } else { last };
        let due = frames - since >= CHECKPOINT_FRAMES;
        self.checkpointed_at
            .store(if due { frames } else { since }, Ordering::Relaxed);
        due
    }

    /// Members of the group now forming (for tests).
    #[cfg(test)]
    pub(super) fn members(&self) -> usize {
        self.group.lock().joined
    }

    fn timed_out(&self) -> StorageError {
        StorageError::new(
            ErrorKind::Busy,
            format!(
                "another writer held the store's write lock for this save's whole wait ({} s \
                 from its start)",
                self.timeout.as_secs_f64()
            ),
        )
    }

    /// Runs `f` as a member of the current group: committed (durably, with the group) when it
    /// succeeds, rolled back alone when it fails or panics.
    pub(super) fn run(
        &self,
        body: &mut dyn FnMut(&mut dyn WriteTxn) -> StorageResult<()>,
    ) -> StorageResult<()> {
        let deadline = Instant::now() + self.timeout;
        let _deadline = super::Deadline::set(deadline);
        let generation = {
            let mut g = self.group.lock();
            while g.closed || g.joined >= MAX_GROUP {
                if self.committed.wait_until(&mut g, deadline).timed_out()
                    && (g.closed || g.joined >= MAX_GROUP)
                {
                    return Err(self.timed_out());
                }
            }
            g.joined += 1;
            g.generation
        };
        let mut member = Member {
            writer: self,
            generation,
            conn: None,
            left: false,
            in_savepoint: false,
            deadline,
        };
        match self.conn.try_lock_until(deadline) {
            Some(conn) => member.conn = Some(conn),
            None => {
                // Never reached the connection: leave the group having done nothing.
                member.leave(false)?;
                return Err(self.timed_out());
            }
        }
        if let Err(e) = member.enter() {
            member.leave(false)?;
            return Err(e);
        }
        let mut txn = SqlTxn::new(member.conn());
        let out = body(&mut txn);
        if txn.found_stale {
            self.group.lock().found_stale = true;
        }
        if out.is_ok() {
            step(member.conn(), "RELEASE member")?;
            member.in_savepoint = false;
        }
        let group_result = member.leave(out.is_ok());
        out?;
        group_result
    }
}

/// One write transaction's place in a group. Dropped without `leave` (a panic in the member's
/// work), it leaves anyway, so the group still commits and nobody waits forever.
struct Member<'w> {
    writer: &'w Writer,
    generation: u64,
    /// Held while the member works; None before it has the connection and once it has left.
    conn: Option<MutexGuard<'w, Connection>>,
    left: bool,
    in_savepoint: bool,
    /// The end of this member's every wait.
    deadline: Instant,
}

impl Member<'_> {
    fn conn(&self) -> &Connection {
        self.conn
            .as_ref()
            .expect("a member uses the connection before it leaves")
    }

    /// Begins the group's transaction if this member is its first, then opens its savepoint.
    fn enter(&mut self) -> StorageResult<()> {
        let begun = self.writer.group.lock().begun;
        if begun && self.conn().is_autocommit() {
            // An earlier member's failure took the group's transaction down with it.
            return Err(StorageError::new(
                ErrorKind::Io,
                "the group's transaction was rolled back after a failure",
            ));
        }
        if !begun {
            if let Some(queue) = &self.writer.queue {
                // Wait for the processes that asked before this one (never past this save's
                // deadline), then ask SQLite; a place kept after a conflict goes first.
                let kept = self.writer.group.lock().kept.take();
                let place = kept
                    .and_then(|k| queue.take_up(k))
                    .or_else(|| queue.join(self.deadline));
                self.writer.group.lock().place = place;
            }
            step(self.conn(), "BEGIN IMMEDIATE")?;
            self.writer.group.lock().begun = true;
        }
        step(self.conn(), "SAVEPOINT member")?;
        self.in_savepoint = true;
        Ok(())
    }

    /// Leaves the group. The last member commits for all; with `wait`, returns the group's
    /// commit result (after waiting for it).
    fn leave(&mut self, wait: bool) -> StorageResult<()> {
        if self.left {
            return Ok(());
        }
        self.left = true;
        let conn = self.conn.take();
        if let (true, Some(conn)) = (self.in_savepoint, &conn) {
            self.in_savepoint = false;
            // Undo this member's work only; the group's transaction goes on.
            let rolled_back =
                step(conn, "ROLLBACK TO member").and_then(|_| step(conn, "RELEASE member"));
            if rolled_back.is_err() && !conn.is_autocommit() {
                // The savepoint cannot be undone alone: undo the group (its members are told).
                let _ = step(conn, "ROLLBACK");
            }
        }
        let writer = self.writer;
        let mut g = writer.group.lock();
        g.finished += 1;
        if g.finished < g.joined {
            if !wait {
                return Ok(());
            }
            g.waiting += 1;
            drop(conn);
            let generation = self.generation;
            loop {
                if let Some((result, readers)) = g.results.get_mut(&generation) {
                    let result = result.clone();
                    *readers -= 1;
                    if *readers == 0 {
                        g.results.remove(&generation);
                    }
                    return result;
                }
                writer.committed.wait(&mut g);
            }
        }
        // The last member: commit for the group.
        g.closed = true;
        let begun = g.begun;
        drop(g);
        // A member that timed out before reaching the connection may be the last: every other
        // member has finished and let go of it, so it is free now.
        let conn = conn.unwrap_or_else(|| writer.conn.lock());
        let result = if !begun {
            Ok(())
        } else if conn.is_autocommit() {
            // A failed member rolled the whole transaction back: nothing of the group stands.
            Err(StorageError::new(
                ErrorKind::Io,
                "the group's transaction was rolled back after a failure",
            ))
        } else {
            step(&conn, "COMMIT").inspect_err(|_| {
                let _ = step(&conn, "ROLLBACK");
            })
        };
        let mut g = writer.group.lock();
        let place = g.place.take();
        let found_stale = std::mem::take(&mut g.found_stale);
        if g.waiting > 0 {
            let generation = g.generation;
            let waiting = g.waiting;
            g.results.insert(generation, (result.clone(), waiting));
        }
        g.generation += 1;
        g.joined = 0;
        g.finished = 0;
        g.waiting = 0;
        g.begun = false;
        g.closed = false;
        drop(g);
        writer.committed.notify_all();
        if writer.checkpoint_due() {
            // PASSIVE: copies what no reader still needs, waits for nobody. Before the queue's
            // next writer goes on: it starts the WAL over only if the checkpoint has finished
            // by then; handed the turn first, writers kept the WAL growing (114 MB in 2.5 s
            // with two processes) and paid for every new page of it.
            let _ = conn.wal_checkpoint_v2(None::<&str>, rusqlite::wal::CheckpointMode::PASSIVE);
        }
        if let (Some(queue), Some(place)) = (&writer.queue, place) {
            // Still holding the connection: no group of this process begins meanwhile.
            if found_stale {
                writer.group.lock().kept = Some(queue.keep(place));
            } else {
                queue.leave(place);
            }
        }
        drop(conn);
        if wait {
            result
        } else {
            Ok(())
        }
    }
}

impl Drop for Writer {
    /// A place kept for a retry that will not come: its successor goes now, not when the
    /// kept time ends (the kernel drops the lock at close but wakes nobody).
    fn drop(&mut self) {
        if let (Some(queue), Some(kept)) = (&self.queue, self.group.get_mut().kept.take()) {
            queue.give_up(kept);
        }
    }
}

impl Drop for Member<'_> {
    fn drop(&mut self) {
        let _ = self.leave(false);
    }
}
