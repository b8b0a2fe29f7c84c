//! Persistence behind one seam (DESIGN.md §6). Core decides, engines persist: core talks to the
//! [`Engine`] trait and its transactions and to nothing else; each engine lives in its own folder
//! (`sqlite/`, the embedded default) with its schema, migrations and compare-and-swap commit.
//!
//! What an engine sees of MAPI is the value vocabulary only: property tags and typed values
//! (`core::value`, the `PT_*` numbers). It owns how a value is stored (typed, so that it can sort
//! and filter), never sees a rule, and reports typed errors that core maps to MAPI_E_* in one
//! table.
//!
//! Correctness never rests on a global writer lock: every read-compare-write in core says what
//! it compares — a row lock ([`ReadTxn`]'s `lock_object`), a conditional write ([`WriteTxn::apply`]
//! with [`Expect::Cn`]) — so an engine whose transactions run concurrently (PostgreSQL at READ
//! COMMITTED) is correct by construction. Transaction bodies are `FnMut`: an engine may run one
//! again after a serialization failure, so a body must not leave effects outside the transaction.

use crate::core::named::{NameKind, PropName};
use crate::core::value::{LargeRef, PropValue};
pub use children::{ChildQuery, ChildRow, Cmp, Narrow};
use std::fmt;

pub mod children;
#[cfg(test)]
pub mod memory;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod sqlite;
mod typed;

/// Object kinds, as PR_OBJECT_TYPE numbers them.
pub const KIND_STORE: u32 = 1;
pub const KIND_FOLDER: u32 = 3;
pub const KIND_MESSAGE: u32 = 5;
/// A recipient of a message (PR_OBJECT_TYPE's MAPI_MAILUSER).
pub const KIND_RECIPIENT: u32 = 6;
/// An attachment of a message (MAPI_ATTACH).
pub const KIND_ATTACHMENT: u32 = 7;
/// A message embedded in an attachment (PR_OBJECT_TYPE says MAPI_MESSAGE for it too; a kind of
/// its own keeps it out of everything that lists or opens a folder's messages).
pub const KIND_EMBEDDED_MESSAGE: u32 = 0x105;
/// The kinds of object that live under a message or an attachment (DESIGN.md §9).
const CHILD_KINDS: [u32; 3] = [KIND_ATTACHMENT, KIND_RECIPIENT, KIND_EMBEDDED_MESSAGE];
/// The fixed objects every store has.
pub const STORE_OBJECT_ID: u64 = 1;
pub const ROOT_FOLDER_ID: u64 = 2;
/// Change numbers are 48-bit (they travel as 6 bytes in change keys).
pub const MAX_CN: u64 = (1 << 48) - 1;

/// What went wrong, as core needs to tell it apart (one MAPI_E_* each, mapped in core).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The store does not exist (and was not to be created).
    NotFound,
    /// Not a store, or a damaged one.
    Corrupt,
    /// Written by a newer schema, or an older one that a read-only open cannot upgrade.
    Version,
    /// Another writer held a lock past the wait limit.
    Busy,
    /// A serialization failure or deadlock: the engine runs the transaction again (a bounded
    /// number of times; past that it is reported as `Busy`'s MAPI_E_TIMEOUT).
    Retry,
    /// The server refuses more connections now.
    ServerBusy,
    /// The store (or this handle) is read-only, or access was refused.
    ReadOnly,
    /// The disk is full.
    Full,
    /// A value larger than the engine stores.
    TooBig,
    /// The engine ran out of memory.
    OutOfMemory,
    /// The server could not be reached or the connection was lost.
    Network,
    /// Something this engine deliberately does not do (a store file with several names).
    Unsupported,
    /// A value left in the store (`PropValue::Large`) was replaced or deleted since it was
    /// read: its version is no longer stored.
    Changed,
    /// Any other I/O or engine failure.
    Io,
    /// The transaction body gave up with an error of its own (carried by the caller, see
    /// [`run_read`]); the engine rolls back and passes this through.
    Aborted,
}

#[derive(Debug, Clone)]
pub struct StorageError {
    pub kind: ErrorKind,
    pub message: String,
}

impl StorageError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        StorageError {
            kind,
            message: message.into(),
        }
    }
    pub fn corrupt(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Corrupt, message)
    }
    fn aborted() -> Self {
        Self::new(ErrorKind::Aborted, "the transaction body failed")
    }
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)
    }
}

pub type StorageResult<T> = Result<T, StorageError>;

/// How to open a store.
#[derive(Debug, Clone, Copy)]
pub struct OpenMode {
    /// Create the store (and its schema) if absent.
    pub create: bool,
    /// Open for writing; otherwise read-only.
    pub write: bool,
    /// A commit survives a machine crash (SQLite `synchronous=FULL`) instead of a process crash.
    pub durable: bool,
}

/// One object: the store object, a folder or a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectRow {
    pub id: u64,
    pub kind: u32,
    pub parent: Option<u64>,
    /// The change number of its last commit (0: never committed as a whole).
    pub cn: u64,
    pub flags: u32,
}

/// A stored property: its full tag and its value (whose type is the tag's).
pub type StoredProp = (u32, PropValue);

/// A property to write, its value lent by its owner (a save borrows the working copy's values:
/// a large one is never copied to be written).
pub type PropRef<'a> = (u32, &'a PropValue);

/// Owned properties as rows to write.
pub fn lend(props: &[StoredProp]) -> Vec<PropRef<'_>> {
    props.iter().map(|(tag, v)| (*tag, v)).collect()
}

/// Reads, inside one consistent snapshot (or inside a write transaction).
pub trait ReadTxn {
    fn object(&mut self, id: u64) -> StorageResult<Option<ObjectRow>>;
    /// Children of one kind, in ID order.
    fn children(&mut self, parent: u64, kind: u32) -> StorageResult<Vec<ObjectRow>>;
    /// Children of any of `kinds`, in ID order: one query where the engine can (a message's
    /// attachments and recipients, read at every open).
    fn children_of_kinds(&mut self, parent: u64, kinds: &[u32]) -> StorageResult<Vec<ObjectRow>> {
        let mut all = Vec::new();
        for &kind in kinds {
            all.extend(self.children(parent, kind)?);
        }
        all.sort_unstable_by_key(|r| r.id);
        Ok(all)
    }
    /// Children of one kind whose flags, masked, equal `flags`.
    fn count_children(
        &mut self,
        parent: u64,
        kind: u32,
        mask: u32,
        flags: u32,
    ) -> StorageResult<u64>;
    /// Every stored property of an object, in property-ID order.
    fn props(&mut self, id: u64) -> StorageResult<Vec<StoredProp>>;
    /// One stored property by ID.
    fn prop(&mut self, id: u64, prop_id: u16) -> StorageResult<Option<StoredProp>>;
    /// `id`'s properties as [`ReadTxn::props`] reads them, except that PT_BINARY and PT_STRING8
    /// values longer than `above` bytes stay in the store: they come back as
    /// `PropValue::Large`, read later with [`ReadTxn::read_large`]. An engine that cannot read
    /// a value piecewise returns every value whole.
    fn props_deferring(&mut self, id: u64, _above: u64) -> StorageResult<Vec<StoredProp>> {
        self.props(id)
    }
    /// Up to `buf.len()` bytes of the value `at` names, from `offset` (0 past its end);
    /// `ErrorKind::Changed` when that version of it is no longer stored.
    fn read_large(&mut self, at: &LargeRef, _offset: u64, _buf: &mut [u8]) -> StorageResult<usize> {
        Err(large_changed(at))
    }
    /// The store's named-property mapping (one per store): the ID given to a name, if any. Names
    /// are equal exactly when their GUIDs, kinds and numbers or strings (byte for byte) are.
    fn named_id(&mut self, name: &PropName) -> StorageResult<Option<u16>>;
    /// The name an ID was given, if any.
    fn named_name(&mut self, id: u16) -> StorageResult<Option<PropName>>;
    /// Every mapping, in ID order.
    fn named_all(&mut self) -> StorageResult<Vec<(u16, PropName)>>;
    /// The highest ID given so far.
    fn named_max_id(&mut self) -> StorageResult<Option<u16>>;
    /// The children a [`ChildQuery`] selects, in ID order, each with the fetched properties it
    /// stores: at least every child the narrowing keeps (children.rs says why a superset).
    fn select_children(&mut self, q: &ChildQuery) -> StorageResult<Vec<ChildRow>>;
    /// A number that differs from any earlier reading whenever a write has been committed since
    /// (by this client, another process or another host; it may also move without one): a
    /// table's cheap check before it selects again.
    fn change_stamp(&mut self) -> StorageResult<u64>;
}

/// A name's columns as both engines store it: `(kind, lid, name)`, MNID_ID's number in `lid`
/// with an empty `name`, MNID_STRING's string in `name` with a `lid` of 0, so that one
/// uniqueness constraint over (GUID, kind, lid, name) — no NULLs, which SQL takes as distinct —
/// says when two names are one.
pub(crate) fn named_columns(name: &PropName) -> (i32, i32, &str) {
    match &name.kind {
        NameKind::Id(lid) => (0, *lid, ""),
        NameKind::String(s) => (1, 0, s.as_str()),
    }
}

/// A stored mapping row back as an ID and a name, range-checked (anything else is damage).
pub(crate) fn named_from_columns(
    id: i64,
    guid: &[u8],
    kind: i64,
    lid: i64,
    name: String,
) -> StorageResult<(u16, PropName)> {
    let id = u16::try_from(id)
        .ok()
        .filter(|id| crate::core::named::is_named_id(*id))
        .ok_or_else(|| StorageError::corrupt(format!("named-property ID {id} out of range")))?;
    let guid: [u8; 16] = guid
        .try_into()
        .map_err(|_| StorageError::corrupt("a named property's GUID is damaged"))?;
    let kind = match (kind, i32::try_from(lid)) {
        (0, Ok(lid)) => NameKind::Id(lid),
        (1, _) => NameKind::String(name),
        _ => {
            return Err(StorageError::corrupt(format!(
                "named property {id:#06x} has an unknown kind {kind}"
            )))
        }
    };
    Ok((id, PropName { guid, kind }))
}

/// What a save compares before it writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// The object's stored change number must still be this one (compare-and-swap).
    Cn(u64),
}

/// Which object a change set writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A stored object, written only if `Expect` still holds.
    Existing { id: u64, expect: Expect },
    /// A new object under `parent` (which the engine locks and checks is a folder).
    New { parent: u64, kind: u32, flags: u32 },
    /// A new child (attachment, recipient, embedded message) of the object whose change set
    /// holds this one. Children are compared by their parent's compare-and-swap, not their own.
    NewChild { kind: u32 },
    /// A stored child of that object, written under its compare-and-swap.
    Child { id: u64 },
    /// A stored child of that object, deleted with its own children.
    DeletedChild { id: u64 },
}

/// Everything one save writes, computed by core as a pure function of the working copy and the
/// stored version; applied by the engine atomically, with the compare of [`Target::Existing`].
pub struct ChangeSet<'a> {
    pub target: Target,
    /// Properties written (replacing any stored value with the same ID, whatever its type).
    pub puts: Vec<PropRef<'a>>,
    /// Property IDs deleted.
    pub deletes: &'a [u16],
    /// Every stored property not in `puts` is deleted too (the stored version is replaced).
    pub replace_all: bool,
    /// The maintained properties for the change number the engine allocates under its lock
    /// (change key, PCL, times, size): written after `puts`, they win over them.
    pub maintained: &'a dyn Fn(u64) -> Vec<StoredProp>,
    /// Child objects' change sets (attachments, recipients), applied in the same transaction
    /// (their targets are the `*Child` ones).
    pub children: Vec<ChangeSet<'a>>,
}

/// The `maintained` of a change set that maintains nothing (a child's).
/// The error for a read or copy of a large value whose version is no longer stored.
pub fn large_changed(at: &LargeRef) -> StorageError {
    StorageError::new(
        ErrorKind::Changed,
        format!(
            "property 0x{:04X} of object {} was replaced or deleted by another client since this \
             object was opened: reopen it to read the stored value",
            at.prop, at.obj
        ),
    )
}

/// Whether a value to write under (`obj`, `prop`) is that property's own stored value, left in
/// the store (`PropValue::Large`): the row is kept as it is, nothing is written.
pub fn keeps_stored(obj: u64, prop: u16, value: &PropValue) -> bool {
    matches!(value, PropValue::Large(at) if at.obj == obj && at.prop == prop)
}

/// The property IDs among `puts` that keep their stored value ([`keeps_stored`]): a write that
/// replaces all of `id`'s properties leaves their rows.
pub fn kept_ids(id: u64, puts: &[PropRef]) -> Vec<u16> {
    puts.iter()
        .map(|(tag, v)| ((tag >> 16) as u16, *v))
        .filter(|(pid, v)| keeps_stored(id, *pid, v))
        .map(|(pid, _)| pid)
        .collect()
}

pub fn maintains_nothing(_cn: u64) -> Vec<StoredProp> {
    Vec::new()
}

fn child_alone() -> StorageError {
    StorageError::corrupt("a child change set was applied without its parent")
}

/// What an engine's `apply` answers for a child target given to it directly: children are
/// applied only by their parent's change set ([`apply_children`]).
pub(crate) fn reject_child_target() -> StorageResult<Applied> {
    Err(child_alone())
}

/// A change set's new object: `parent` is locked and must be a folder (None when it is not, or
/// is gone), a change number is taken under that lock, and the object is inserted under it.
/// Returns the new object's ID and change number.
pub(crate) fn insert_under_folder(
    t: &mut dyn WriteTxn,
    parent: u64,
    kind: u32,
    flags: u32,
) -> StorageResult<Option<(u64, u64)>> {
    match t.lock_object(parent)? {
        Some(row) if row.kind == KIND_FOLDER => {}
        _ => return Ok(None),
    }
    let cn = t.alloc_cn()?;
    Ok(Some((t.insert_object(kind, parent, cn, flags)?, cn)))
}

/// Applies the child change sets of the object `parent` (attachments, recipients, embedded
/// messages) in the same transaction, under the lock and compare of `parent`'s own change set:
/// one implementation for every engine, made of the [`WriteTxn`] primitives. `cn` is the
/// parent's new change number, which new children are stamped with.
pub(crate) fn apply_children(
    t: &mut dyn WriteTxn,
    parent: u64,
    cn: u64,
    children: &[ChangeSet],
) -> StorageResult<()> {
    for child in children {
        let id = match child.target {
            Target::NewChild { kind } => t.insert_object(kind, parent, cn, 0)?,
            Target::Child { id } | Target::DeletedChild { id } => {
                match t.object(id)? {
                    Some(row) if row.parent == Some(parent) => {}
                    _ => {
                        return Err(StorageError::corrupt(format!(
                            "object {id} is not a child of {parent}"
                        )))
                    }
                }
                if let Target::DeletedChild { .. } = child.target {
                    delete_tree(t, id)?;
                    continue;
                }
                id
            }
            Target::Existing { .. } | Target::New { .. } => return Err(child_alone()),
        };
        if child.replace_all {
            let kept = kept_ids(id, &child.puts);
            let stored: Vec<u16> = t
                .props_deferring(id, 0)?
                .iter()
                .map(|(tag, _)| (tag >> 16) as u16)
                .filter(|pid| !kept.contains(pid))
                .collect();
            t.delete_props(id, &stored)?;
        }
        t.delete_props(id, child.deletes)?;
        t.put_prop_refs(id, &child.puts)?;
        t.put_props(id, &(child.maintained)(cn))?;
        apply_children(t, id, cn, &child.children)?;
    }
    Ok(())
}

/// Deletes an object with its children (attachments, recipients, embedded messages, theirs).
pub(crate) fn delete_tree(t: &mut dyn WriteTxn, id: u64) -> StorageResult<()> {
    for kind in CHILD_KINDS {
        for child in t.children(id, kind)? {
            delete_tree(t, child.id)?;
        }
    }
    t.delete_object(id)
}

/// What applying a change set did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// Written: the object's ID (new or as given) and its new change number.
    Committed { id: u64, cn: u64 },
    /// Nothing written: the stored change number is another one now.
    Stale { stored_cn: u64 },
    /// Nothing written: the object (or, for a new one, its parent folder) no longer exists.
    Gone,
}

/// Writes, inside one atomic transaction; every read of [`ReadTxn`] sees the writes before it.
pub trait WriteTxn: ReadTxn {
    /// Reads the object and locks it until the transaction ends: a compare made on what it
    /// returns (and on its properties and children, which every writer reaches through it) still
    /// holds at the commit.
    fn lock_object(&mut self, id: u64) -> StorageResult<Option<ObjectRow>>;
    /// Applies one change set with its compare-and-swap (all of it or nothing of it).
    fn apply(&mut self, change: &ChangeSet) -> StorageResult<Applied>;
    /// Takes the next change number from the store-wide counter.
    fn alloc_cn(&mut self) -> StorageResult<u64>;
    /// Inserts an object under a parent the caller has locked; its ID is never one given before.
    fn insert_object(&mut self, kind: u32, parent: u64, cn: u64, flags: u32) -> StorageResult<u64>;
    /// Deletes an object and its properties (not its children: callers walk the tree).
    fn delete_object(&mut self, id: u64) -> StorageResult<()>;
    /// Writes properties of an object (replacing values with the same IDs, whatever their type).
    fn put_props(&mut self, id: u64, props: &[StoredProp]) -> StorageResult<()> {
        self.put_prop_refs(id, &lend(props))
    }
    /// [`WriteTxn::put_props`] with lent values.
    fn put_prop_refs(&mut self, id: u64, props: &[PropRef]) -> StorageResult<()>;
    fn delete_props(&mut self, id: u64, prop_ids: &[u16]) -> StorageResult<()>;
    /// Moves an object (with everything under it) to `parent`: its ID, change number and
    /// properties stay, so a move is not a change to the object's stored version. The caller
    /// locks both and checks what may move where (core: folders only, no cycles).
    fn set_parent(&mut self, id: u64, parent: u64) -> StorageResult<()>;
    /// Gives `name` the ID `id` unless either is taken already (by a concurrent transaction
    /// too: the engine's uniqueness constraints decide, without failing the transaction);
    /// returns whether it did.
    fn named_insert(&mut self, id: u16, name: &PropName) -> StorageResult<bool>;
    /// Announces message `id` as new mail (IMsgStore::NotifyNewMail) to every advise
    /// connection on the store, in this process and others: a change-log record committed with
    /// the transaction. The caller checks the message exists.
    fn log_new_mail(&mut self, id: u64) -> StorageResult<()>;
}

/// What happened to an object, as a store's change log records it (notifications, DESIGN.md §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeWhat {
    Created,
    Modified,
    Deleted,
    /// Announced as new mail (not a change of the message itself).
    NewMail,
}

impl ChangeWhat {
    /// The number both engines store.
    pub(crate) fn code(self) -> i64 {
        match self {
            ChangeWhat::Created => 1,
            ChangeWhat::Modified => 2,
            ChangeWhat::Deleted => 3,
            ChangeWhat::NewMail => 4,
        }
    }
    pub(crate) fn from_code(code: i64) -> StorageResult<Self> {
        match code {
            1 => Ok(ChangeWhat::Created),
            2 => Ok(ChangeWhat::Modified),
            3 => Ok(ChangeWhat::Deleted),
            4 => Ok(ChangeWhat::NewMail),
            _ => Err(StorageError::corrupt(format!(
                "change log: unknown change {code}"
            ))),
        }
    }
}

/// One committed change to a folder, a message or the store object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangeRecord {
    pub id: u64,
    pub kind: u32,
    pub parent: Option<u64>,
    pub what: ChangeWhat,
}

/// The kinds of object whose changes are logged: what a notification can name (a child's change
/// is its message's).
pub(crate) fn logged_kind(kind: u32) -> bool {
    matches!(kind, KIND_STORE | KIND_FOLDER | KIND_MESSAGE)
}

/// What a [`ChangeFeed`] has for its reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedItem {
    /// Changes committed since the last item, in commit order.
    Changes(Vec<ChangeRecord>),
    /// Some changes could not be told (the log was pruned past them, a connection was lost):
    /// the reader should assume anything changed.
    Missed,
    /// Nothing within the wait.
    Nothing,
}

/// Changes committed to one store by anyone (this process, other processes, other hosts), from
/// the moment the feed was made.
pub trait ChangeFeed: Send {
    /// Waits up to `timeout` for changes.
    fn next(&mut self, timeout: std::time::Duration) -> StorageResult<FeedItem>;
}

/// One open store, whatever the engine.
pub trait Engine: Send + Sync {
    /// The store's GUID (its identity in entry IDs and change keys).
    fn guid(&self) -> [u8; 16];
    fn writable(&self) -> bool;
    /// The name the store is known by where nothing else names it (the store object's default
    /// PR_DISPLAY_NAME): a file's name without its extension, a database store's own name.
    fn name(&self) -> String;
    /// Runs `body` in one read transaction: a consistent snapshot.
    fn read_dyn(
        &self,
        body: &mut dyn FnMut(&mut dyn ReadTxn) -> StorageResult<()>,
    ) -> StorageResult<()>;
    /// Runs `body` in one write transaction, committed (durably, per the open mode) when it
    /// succeeds and rolled back when it fails or panics. The engine may run `body` again after a
    /// serialization failure or deadlock (a bounded number of times).
    fn write_dyn(
        &self,
        body: &mut dyn FnMut(&mut dyn WriteTxn) -> StorageResult<()>,
    ) -> StorageResult<()>;
    /// Bytes that are equal for two handles exactly when both are handles of one store (the
    /// SQLite engine: the store file's device and inode), so that an object of another store is
    /// told apart by identity rather than by its GUID. None (the default): the engine cannot
    /// tell, and only objects of the very same handle are taken for this store's.
    fn identity(&self) -> Option<Vec<u8>> {
        None
    }
    /// The largest property value this engine stores, in bytes as
    /// [`PropValue::stored_size`](crate::core::value::PropValue::stored_size) measures it: every
    /// value up to it is stored (whatever the engine's own encoding adds), and core refuses a
    /// larger one where it is set, with MAPI_E_TOO_BIG (docs/BAD_INPUT.md). Each engine states
    /// its own.
    fn max_value_bytes(&self) -> u64;
    /// The engine's own consistency check (a full scan: for tests and tools, never on open).
    fn integrity_check(&self) -> StorageResult<bool>;
    /// Whether [`Engine::change_feed`] works (PR_STORE_SUPPORT_MASK's STORE_NOTIFY_OK).
    fn has_change_feed(&self) -> bool {
        false
    }
    /// A feed of the changes committed to this store from now on (notifications). The default:
    /// the engine has none (MAPI_E_NO_SUPPORT).
    fn change_feed(&self) -> StorageResult<Box<dyn ChangeFeed>> {
        Err(StorageError::new(
            ErrorKind::Unsupported,
            "this engine has no change feed",
        ))
    }
}

impl dyn Engine + '_ {
    /// Runs `f` in one read transaction and returns what it returns; `f`'s own errors pass
    /// through unchanged.
    pub fn read<T, E: From<StorageError>>(
        &self,
        mut f: impl FnMut(&mut dyn ReadTxn) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut out = None;
        let mut failed = None;
        let result = self.read_dyn(&mut |t| match f(t) {
            Ok(v) => {
                out = Some(v);
                Ok(())
            }
            Err(e) => {
                failed = Some(e);
                Err(StorageError::aborted())
            }
        });
        finish(result, out, failed)
    }

    /// Runs `f` in one write transaction (see [`Engine::write_dyn`]: `f` may run more than once).
    pub fn write<T, E: From<StorageError>>(
        &self,
        mut f: impl FnMut(&mut dyn WriteTxn) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut out = None;
        let mut failed = None;
        let result = self.write_dyn(&mut |t| {
            failed = None;
            match f(t) {
                Ok(v) => {
                    out = Some(v);
                    Ok(())
                }
                Err(e) => {
                    failed = Some(e);
                    Err(StorageError::aborted())
                }
            }
        });
        finish(result, out, failed)
    }
}

/// The result of a transaction whose body returned `out` or `failed`.
fn finish<T, E: From<StorageError>>(
    result: StorageResult<()>,
    out: Option<T>,
    failed: Option<E>,
) -> Result<T, E> {
    match result {
        Ok(()) => Ok(out.expect("a committed body returned a value")),
        Err(e) if e.kind == ErrorKind::Aborted => match failed {
            Some(f) => Err(f),
            None => Err(StorageError::new(ErrorKind::Io, e.message).into()),
        },
        Err(e) => Err(e.into()),
    }
}

/// Whether `location` names a PostgreSQL store (a `postgresql://` or `postgres://` URI) rather
/// than a file (known in every build, so that one without the engine can say so).
pub fn is_postgres_location(location: &str) -> bool {
    location.starts_with("postgresql://") || location.starts_with("postgres://")
}

/// Opens a store at `location` with the engine the location names: a PostgreSQL URI
/// ([`is_postgres_location`]), or else an SQLite file path.
pub fn open(location: &str, mode: OpenMode) -> StorageResult<Box<dyn Engine>> {
    if is_postgres_location(location) {
        #[cfg(feature = "postgres")]
        return Ok(Box::new(postgres::PgEngine::open(location, mode)?));
        #[cfg(not(feature = "postgres"))]
        return Err(StorageError::new(
            ErrorKind::NotFound,
            "this build has no PostgreSQL engine (built without the \"postgres\" feature)",
        ));
    }
    Ok(Box::new(sqlite::SqliteEngine::open(
        std::path::Path::new(location),
        mode,
    )?))
}

#[cfg(test)]
mod tests {
    use super::is_postgres_location;

    #[test]
    fn postgres_locations_are_told_from_paths() {
        assert!(is_postgres_location("postgres://x"));
        assert!(is_postgres_location("postgresql:///mail?store=a"));
        assert!(!is_postgres_location("/tmp/postgres://x"));
        assert!(!is_postgres_location("mail.db"));
    }
}
