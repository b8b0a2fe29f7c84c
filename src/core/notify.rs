//! Notifications (IMsgStore::Advise, IMAPITable::Advise; DESIGN.md §9).
//!
//! A store handle has one [`Notifier`]. Its advise connections each have a bounded queue and a
//! delivery thread of their own, so a sink that blocks holds up only itself; a sink may call
//! back into the store (Unadvise included) because nothing is locked while it runs. Events come
//! from one place, the engine's change feed (every commit by this process, other processes and
//! other hosts), read by a watcher thread that runs while the handle has connections; the
//! copy/move code publishes the events the feed cannot tell (moved, copied) with
//! [`Notifier::publish`]. Saves never wait for any of it: a commit only wakes the watcher.
//!
//! Events are hints: when some cannot be told (the log was pruned past a slow reader, a server
//! connection was lost, a sink's queue overflowed) the connection gets [`EventKind::Resync`]
//! instead, which the binary layer delivers as fnevObjectModified on the store object (and as
//! TABLE_RELOAD to a table).

use super::error::{MapiError, MapiResult};
use super::mapidefs::*;
use crate::storage::{
    ChangeFeed, ChangeRecord, ChangeWhat, FeedItem, KIND_FOLDER, KIND_MESSAGE, KIND_STORE,
    STORE_OBJECT_ID,
};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Weak};
use std::time::Duration;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    Created,
    Modified,
    Deleted,
    /// The object now lives under `parent`, before under `old_parent` (same ID).
    Moved,
    /// The object is a new copy of `old_id` (under `old_parent`).
    Copied,
    /// Some events could not be told: assume anything changed.
    Resync,
    /// The message was announced as new mail (IMsgStore::NotifyNewMail).
    NewMail,
}

impl EventKind {
    /// The fnev* bit a connection asks for to get this event.
    pub fn mask_bit(self) -> u32 {
        match self {
            EventKind::Created => fnevObjectCreated,
            EventKind::Modified | EventKind::Resync => fnevObjectModified,
            EventKind::Deleted => fnevObjectDeleted,
            EventKind::Moved => fnevObjectMoved,
            EventKind::Copied => fnevObjectCopied,
            EventKind::NewMail => fnevNewMail,
        }
    }
}

/// One event about one object (store object, folder or message; IDs are the engine's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Event {
    pub kind: EventKind,
    pub id: u64,
    /// The object's kind (storage::KIND_*).
    pub obj_kind: u32,
    pub parent: Option<u64>,
    pub old_id: Option<u64>,
    pub old_parent: Option<u64>,
}

impl Event {
    /// The event a logged change stands for.
    pub fn from_change(c: &ChangeRecord) -> Event {
        Event {
            kind: match c.what {
                ChangeWhat::Created => EventKind::Created,
                ChangeWhat::Modified => EventKind::Modified,
                ChangeWhat::Deleted => EventKind::Deleted,
                ChangeWhat::NewMail => EventKind::NewMail,
            },
            id: c.id,
            obj_kind: c.kind,
            parent: c.parent,
            old_id: None,
            old_parent: None,
        }
    }

    /// The object's MAPI type (OBJECT_NOTIFICATION's ulObjType; the engine's kinds are
    /// PR_OBJECT_TYPE numbers, an embedded message never makes an event).
    pub fn object_type(&self) -> u32 {
        match self.obj_kind {
            KIND_STORE => MAPI_STORE,
            KIND_FOLDER => MAPI_FOLDER,
            _ => MAPI_MESSAGE,
        }
    }

    /// "Something may have changed anywhere in the store."
    pub fn resync() -> Event {
        Event {
            kind: EventKind::Resync,
            id: STORE_OBJECT_ID,
            obj_kind: KIND_STORE,
            parent: None,
            old_id: None,
            old_parent: None,
        }
    }

    /// A message or folder moved from `old_parent` to `parent` (for the copy/move code).
    pub fn moved(id: u64, obj_kind: u32, parent: u64, old_parent: u64) -> Event {
        Event {
            kind: EventKind::Moved,
            id,
            obj_kind,
            parent: Some(parent),
            old_id: Some(id),
            old_parent: Some(old_parent),
        }
    }

    /// `id` under `parent` is a new copy of `old_id` under `old_parent` (for the copy/move code).
    pub fn copied(id: u64, obj_kind: u32, parent: u64, old_id: u64, old_parent: u64) -> Event {
        Event {
            kind: EventKind::Copied,
            id,
            obj_kind,
            parent: Some(parent),
            old_id: Some(old_id),
            old_parent: Some(old_parent),
        }
    }
}

/// The MAPI type of the parent `id`: the store object above the root folder, else a folder.
pub fn parent_type(id: u64) -> u32 {
    if id == STORE_OBJECT_ID {
        MAPI_STORE
    } else {
        MAPI_FOLDER
    }
}

/// Which events a connection wants, besides its mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    /// Every object of the store (Advise with a NULL entry ID).
    Store,
    /// One object (Advise with its entry ID): events naming it, as it is or as it was.
    Object(u64),
    /// A table over the children of `folder` of one kind (contents: messages; hierarchy:
    /// folders, at any depth when `deep`).
    Table { folder: u64, kind: u32, deep: bool },
}

impl Filter {
    fn is_table(&self) -> bool {
        matches!(self, Filter::Table { .. })
    }

    fn wants(&self, e: &Event) -> bool {
        if e.kind == EventKind::Resync {
            return true;
        }
        match *self {
            Filter::Store => true,
            Filter::Object(id) => {
                e.id == id
                    || e.old_id == Some(id)
                    // New mail is told to its folder's connections too (the receive folder's).
                    || (e.kind == EventKind::NewMail && e.parent == Some(id))
            }
            Filter::Table { folder, kind, deep } => {
                e.obj_kind == kind
                    && (deep || e.parent == Some(folder) || e.old_parent == Some(folder))
            }
        }
    }
}

/// Where a connection's events go (the binary layer wraps the client's IMAPIAdviseSink).
pub trait Sink: Send + Sync {
    /// Called on the connection's own thread with one batch, in commit order.
    fn notify(&self, events: &[Event]);
}

/// The event bits IMsgStore::Advise accepts. fnevNewMail is sent for what NotifyNewMail
/// announces; fnevCriticalError and fnevSearchComplete are accepted and never sent: this store
/// has no searches, and reports trouble as a resync.
pub const STORE_EVENTS: u32 = fnevCriticalError
    | fnevNewMail
    | fnevObjectCreated
    | fnevObjectDeleted
    | fnevObjectModified
    | fnevObjectMoved
    | fnevObjectCopied
    | fnevSearchComplete;

/// Checks an event mask against what a kind of object sends.
pub fn check_mask(method: &str, mask: u32, allowed: u32) -> MapiResult<()> {
    if mask == 0 {
        return Err(MapiError::invalid(format!(
            "{method}: the event mask is 0 (no event asked for)"
        )));
    }
    if mask & !allowed != 0 {
        return Err(MapiError::new(
            MAPI_E_UNKNOWN_FLAGS,
            format!(
                "{method}: event bits {:#x} are not events this object sends",
                mask & !allowed
            ),
        ));
    }
    Ok(())
}

/// Events waiting for a slow sink, per connection; past that the connection gets a resync.
const QUEUE: usize = 256;
/// How long the watcher waits on the feed before it looks whether it is still wanted.
const WATCH_WAIT: Duration = Duration::from_millis(100);

struct Conn {
    mask: u32,
    filter: Filter,
    queue: SyncSender<Vec<Event>>,
    state: Arc<ConnState>,
}

/// What a connection and its delivery thread share.
#[derive(Default)]
struct ConnState {
    /// A batch did not fit in the queue: the delivery thread sends a resync.
    overflowed: AtomicBool,
    /// Unadvised (or the handle released): batches still queued are dropped, not delivered.
    closed: AtomicBool,
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.state.closed.store(true, Ordering::Release);
    }
}

#[derive(Default)]
struct Registry {
    conns: HashMap<u64, Conn>,
    next: u64,
    /// A watcher thread is running (it stops, under this lock, when no connection is left).
    watching: bool,
}

#[derive(Default)]
struct Shared {
    registry: Mutex<Registry>,
}

/// One store handle's notifications.
#[derive(Default)]
pub struct Notifier {
    shared: Arc<Shared>,
}

impl Notifier {
    /// Adds a connection; returns its number (never 0). `feed` makes the change feed when no
    /// watcher runs yet (made before this returns, so every commit after it is seen).
    pub fn advise(
        &self,
        mask: u32,
        filter: Filter,
        sink: Arc<dyn Sink>,
        feed: impl FnOnce() -> MapiResult<Box<dyn ChangeFeed>>,
    ) -> MapiResult<u64> {
        let mut reg = self.shared.registry.lock();
        if !reg.watching {
            let feed = feed()?;
            let weak = Arc::downgrade(&self.shared);
            std::thread::Builder::new()
                .name("msgstore-notify-watch".into())
                .spawn(move || watch(weak, feed))
                .map_err(|e| MapiError::new(MAPI_E_CALL_FAILED, format!("Advise: {e}")))?;
            reg.watching = true;
        }
        let (queue, events) = sync_channel(QUEUE);
        let state = Arc::new(ConnState::default());
        let shared_state = state.clone();
        std::thread::Builder::new()
            .name("msgstore-notify-sink".into())
            .spawn(move || deliver(events, sink, shared_state))
            .map_err(|e| MapiError::new(MAPI_E_CALL_FAILED, format!("Advise: {e}")))?;
        reg.next += 1;
        let id = reg.next;
        reg.conns.insert(
            id,
            Conn {
                mask,
                filter,
                queue,
                state,
            },
        );
        Ok(id)
    }

    /// Removes a connection. Its sink is released by its delivery thread once a delivery in
    /// progress returns (at once if none is), never waited for here: Unadvise may be called from
    /// inside that very delivery.
    /// `table`: whether the caller is a table (which removes only table connections) or the
    /// store (only store connections).
    pub fn unadvise(&self, connection: u64, table: bool) -> MapiResult<()> {
        let removed = {
            let mut reg = self.shared.registry.lock();
            match reg.conns.get(&connection) {
                Some(c) if c.filter.is_table() == table => reg.conns.remove(&connection),
                _ => None,
            }
        };
        // Dropped outside the lock (it only closes the queue; the sink goes on its thread).
        match removed {
            Some(conn) => {
                drop(conn);
                Ok(())
            }
            None => Err(MapiError::new(
                MAPI_E_NOT_FOUND,
                format!(
                    "Unadvise: no advise connection {connection} on this {}",
                    if table { "table" } else { "store" }
                ),
            )),
        }
    }

    /// Removes every connection that is not a table's.
    pub fn unadvise_all_store_connections(&self) {
        let removed: Vec<Conn> = {
            let mut reg = self.shared.registry.lock();
            let ids: Vec<u64> = reg
                .conns
                .iter()
                .filter(|(_, c)| !c.filter.is_table())
                .map(|(id, _)| *id)
                .collect();
            ids.iter().filter_map(|id| reg.conns.remove(id)).collect()
        };
        drop(removed);
    }

    /// Hands `events` to every connection that wants them (never blocks: each connection's
    /// queue is bounded, and a full one gets a resync instead).
    pub fn publish(&self, events: &[Event]) {
        publish(&self.shared, events);
    }

    /// How many connections are open.
    pub fn connections(&self) -> usize {
        self.shared.registry.lock().conns.len()
    }
}

fn publish(shared: &Shared, events: &[Event]) {
    let reg = shared.registry.lock();
    for conn in reg.conns.values() {
        let wanted: Vec<Event> = events
            .iter()
            .filter(|e| conn.mask & e.kind.mask_bit() != 0 && conn.filter.wants(e))
            .copied()
            .collect();
        if wanted.is_empty() {
            continue;
        }
        match conn.queue.try_send(wanted) {
            Ok(()) | Err(TrySendError::Disconnected(_)) => {}
            Err(TrySendError::Full(_)) => conn.state.overflowed.store(true, Ordering::Release),
        }
    }
}

/// A connection's delivery thread: runs until the connection is removed (its queue's sender
/// dropped), then releases the sink.
fn deliver(events: Receiver<Vec<Event>>, sink: Arc<dyn Sink>, state: Arc<ConnState>) {
    while let Ok(batch) = events.recv() {
        if state.closed.load(Ordering::Acquire) {
            break;
        }
        sink.notify(&batch);
        if state.overflowed.swap(false, Ordering::AcqRel) && !state.closed.load(Ordering::Acquire) {
            sink.notify(&[Event::resync()]);
        }
    }
    // The sink is released here, on this thread, after any call into it has returned.
    drop(sink);
}

/// The watcher: reads the change feed and publishes what it reads while the handle lives and
/// has connections.
fn watch(shared: Weak<Shared>, mut feed: Box<dyn ChangeFeed>) {
    loop {
        let item = feed.next(WATCH_WAIT);
        let Some(shared) = shared.upgrade() else {
            return;
        };
        {
            let mut reg = shared.registry.lock();
            if reg.conns.is_empty() {
                reg.watching = false;
                return;
            }
        }
        let events = match item {
            Ok(FeedItem::Changes(changes)) => events_of(&changes),
            Ok(FeedItem::Missed) => vec![Event::resync()],
            // A failed read is read again next time from the same point: nothing is lost.
            Ok(FeedItem::Nothing) | Err(_) => continue,
        };
        publish(&shared, &events);
    }
}

/// The events of a run of logged changes: one per object and kind, in first-seen order (a save
/// that writes a message in several statements logs it more than once).
pub fn events_of(changes: &[ChangeRecord]) -> Vec<Event> {
    let mut seen = std::collections::HashSet::new();
    changes
        .iter()
        .filter(|c| matches!(c.kind, KIND_STORE | KIND_FOLDER | KIND_MESSAGE))
        .map(Event::from_change)
        .filter(|e| seen.insert((e.kind, e.id)))
        .collect()
}

#[cfg(test)]
mod tests;
