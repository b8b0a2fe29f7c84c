//! The store: one open store file, its identity and access, the objects it can open, and the
//! properties of the store object itself (non-transacted).

use super::error::{check_flags, MapiError, MapiResult};
use super::folder::Folder;
use super::ids::{entry_id, parse_entry_id, record_key, EntryRef};
use super::mapidefs::*;
use super::message::Message;
use super::named::PropName;
use super::notify::{check_mask, Filter, Notifier, Sink, STORE_EVENTS};
use super::props::{
    computed_problem, read_only_error, too_big_problem, Problem, PropInput, PropMap, PropObject,
    PropView,
};
use super::value::{
    id_listed, out_of_memory, prop_id, prop_tag, LargeRef, PropValue, DEFER_ABOVE_BYTES,
};
use crate::storage::{self, Engine, ErrorKind, OpenMode, ReadTxn, StorageError, KIND_MESSAGE};
use parking_lot::Mutex;
use std::borrow::Cow;
use std::sync::Arc;

impl From<StorageError> for MapiError {
    fn from(e: StorageError) -> Self {
        let code = match e.kind {
            ErrorKind::NotFound => MAPI_E_NOT_FOUND,
            ErrorKind::Corrupt => MAPI_E_CORRUPT_STORE,
            ErrorKind::Version => MAPI_E_VERSION,
            ErrorKind::Busy | ErrorKind::Retry => MAPI_E_TIMEOUT,
            ErrorKind::ServerBusy => MAPI_E_BUSY,
            ErrorKind::ReadOnly => MAPI_E_NO_ACCESS,
            ErrorKind::Full => MAPI_E_NOT_ENOUGH_DISK,
            ErrorKind::TooBig => MAPI_E_TOO_BIG,
            ErrorKind::OutOfMemory => MAPI_E_NOT_ENOUGH_MEMORY,
            ErrorKind::Network => MAPI_E_NETWORK_ERROR,
            ErrorKind::Unsupported => MAPI_E_NO_SUPPORT,
            ErrorKind::Changed => MAPI_E_OBJECT_CHANGED,
            ErrorKind::Io => MAPI_E_DISK_ERROR,
            // A transaction body's own error is returned as itself (storage::finish); one that
            // reaches here lost its error on the way.
            ErrorKind::Aborted => MAPI_E_CALL_FAILED,
        };
        MapiError::new(code, e.message)
    }
}

/// MsgStoreOpen's accepted flags (DESIGN.md §2).
pub const OPEN_FLAGS: u32 = MDB_NO_DIALOG
    | MAPI_CREATE
    | MDB_WRITE
    | MAPI_DEFERRED_ERRORS
    | MAPI_BEST_ACCESS
    | MDB_NO_MAIL
    | MSGSTORE_NO_SYNC;

use super::resolve::ConflictResolver;

pub struct Store {
    storage: Box<dyn Engine>,
    guid: [u8; 16],
    resolver: Mutex<Option<Arc<dyn ConflictResolver>>>,
    /// The last named-property ID this handle gives (core/named.rs; read at open).
    named_last_id: u16,
    /// Advise connections of this handle and of its tables (core/notify.rs).
    notifier: Notifier,
}

/// Something OpenEntry opened.
pub enum Opened {
    Folder(Folder),
    /// Boxed: a message carries its cached identifiers and is far larger than a folder.
    Message(Box<Message>),
}

impl Store {
    /// Opens a store file (MsgStoreOpen).
    pub fn open(path: &str, flags: u32) -> MapiResult<Arc<Store>> {
        check_flags("MsgStoreOpen", flags, OPEN_FLAGS)?;
        if path.is_empty() {
            return Err(MapiError::invalid("MsgStoreOpen: the path is empty"));
        }
        let location = path;
        let create = flags & MAPI_CREATE != 0;
        let durable = flags & MSGSTORE_NO_SYNC == 0;
        let want_write = flags & MDB_WRITE != 0;
        let read_only = OpenMode {
            create: false,
            write: false,
            durable,
        };
        let storage = if want_write || create {
            if !want_write && create {
                return Err(MapiError::invalid(
                    "MsgStoreOpen: MAPI_CREATE needs MDB_WRITE (a new store must be writable)",
                ));
            }
            storage::open(
                location,
                OpenMode {
                    create,
                    write: true,
                    durable,
                },
            )?
        } else if flags & MAPI_BEST_ACCESS != 0 {
            let read_write = OpenMode {
                write: true,
                ..read_only
            };
            match storage::open(location, read_write) {
                Err(e) if e.kind == ErrorKind::ReadOnly || e.kind == ErrorKind::Io => {
                    storage::open(location, read_only)?
                }
                other => other?,
            }
        } else {
            storage::open(location, read_only)?
        };
        Ok(Self::on_engine(storage))
    }

    /// A store on an engine already open (MsgStoreOpen picks the engine by its location).
    pub fn on_engine(storage: Box<dyn Engine>) -> Arc<Store> {
        Arc::new(Store {
            guid: storage.guid(),
            storage,
            resolver: Mutex::new(None),
            named_last_id: super::named::last_id_from_env(),
            notifier: Notifier::default(),
        })
    }

    /// IMsgStore::Advise: `entry` None for the whole store, else one object of this store.
    pub fn advise(&self, entry: Option<&[u8]>, mask: u32, sink: Arc<dyn Sink>) -> MapiResult<u64> {
        check_mask("Advise", mask, STORE_EVENTS)?;
        let filter = match entry {
            None => Filter::Store,
            Some(bytes) => Filter::Object(self.resolve_entry(bytes)?.id),
        };
        self.advise_filtered(mask, filter, sink)
    }

    /// An advise connection for a table (core/contents.rs says which rows it shows).
    pub fn advise_table(&self, filter: Filter, sink: Arc<dyn Sink>) -> MapiResult<u64> {
        let rows = fnevObjectCreated
            | fnevObjectModified
            | fnevObjectDeleted
            | fnevObjectMoved
            | fnevObjectCopied;
        self.advise_filtered(rows, filter, sink)
    }

    fn advise_filtered(&self, mask: u32, filter: Filter, sink: Arc<dyn Sink>) -> MapiResult<u64> {
        self.notifier.advise(mask, filter, sink, || {
            self.storage.change_feed().map_err(|e| {
                let e = MapiError::from(e);
                MapiError::new(e.code, format!("Advise: {}", e.message))
            })
        })
    }

    /// IMsgStore::NotifyNewMail: announces the stored message `entry` as new mail, as fnevNewMail
    /// to the advise connections on the store or on the message's folder, in every process and
    /// host that has the store open (through the change log, like a save's events). Needs write
    /// access: the announcement is committed.
    pub fn notify_new_mail(&self, entry: &[u8]) -> MapiResult<()> {
        self.require_writable("NotifyNewMail")?;
        // Whether it exists is checked once, in the transaction that logs it.
        let target = parse_entry_id(&self.guid, entry)?;
        if target.kind != KIND_MESSAGE {
            return Err(MapiError::invalid(
                "NotifyNewMail: the entry ID names a folder or the store, not a message",
            ));
        }
        self.storage().write(|t| -> MapiResult<()> {
            match t.object(target.id)? {
                Some(row) if row.kind == KIND_MESSAGE => Ok(t.log_new_mail(target.id)?),
                _ => Err(MapiError::new(
                    MAPI_E_NOT_FOUND,
                    "NotifyNewMail: the message no longer exists",
                )),
            }
        })
    }

    /// What a new-mail notification tells of message `id` besides its IDs: its stored
    /// PR_MESSAGE_CLASS (as 8-bit text) and PR_MESSAGE_FLAGS ("" and 0 when gone or unset).
    pub fn new_mail_details(&self, id: u64) -> (Vec<u8>, u32) {
        let read = self.storage().read(|t| -> MapiResult<_> {
            Ok((
                t.prop(id, prop_id(PR_MESSAGE_CLASS))?,
                t.prop(id, prop_id(PR_MESSAGE_FLAGS))?,
            ))
        });
        let Ok((class, flags)) = read else {
            return (Vec::new(), 0);
        };
        let class = match class.map(|(_, v)| v) {
            Some(PropValue::String8(s)) => s,
            Some(PropValue::Unicode(s)) => s.into_bytes(),
            _ => Vec::new(),
        };
        let flags = match flags.map(|(_, v)| v) {
            Some(PropValue::Long(l)) => l as u32,
            _ => 0,
        };
        (class, flags)
    }

    /// IMsgStore::Unadvise (a table's connections are not the store's to remove).
    pub fn unadvise(&self, connection: u64) -> MapiResult<()> {
        self.notifier.unadvise(connection, false)
    }

    /// IMAPITable::Unadvise of a table's own connection.
    pub fn unadvise_table(&self, connection: u64) -> MapiResult<()> {
        self.notifier.unadvise(connection, true)
    }

    /// Removes every store connection (the store object is released).
    pub fn unadvise_all(&self) {
        self.notifier.unadvise_all_store_connections();
    }

    /// This handle's notifications: [`Notifier::publish`] hands events that the change feed
    /// cannot tell (moved, copied) to its connections.
    pub fn notifier(&self) -> &Notifier {
        &self.notifier
    }

    /// PR_MAPPING_SIGNATURE: which named-property mapping the store's objects share. There is
    /// one per store, so the store's GUID names it (stable for the store's life).
    pub fn mapping_signature(&self) -> Vec<u8> {
        self.guid.to_vec()
    }

    /// GetIDsFromNames on any object of this store (core/named.rs).
    pub fn ids_from_names(&self, names: &[PropName], create: bool) -> MapiResult<Vec<Option<u16>>> {
        super::named::ids_from_names(self.storage(), names, create, self.named_last_id)
    }

    pub fn guid(&self) -> &[u8; 16] {
        &self.guid
    }

    pub fn writable(&self) -> bool {
        self.storage.writable()
    }

    /// Whether `other` is a handle of this very store: the same handle, or one the engine
    /// identifies as the same store. Never by GUID alone (a copy of a store file made before
    /// stores recorded their file had the original's GUID).
    pub fn same_store(&self, other: &Store) -> bool {
        if std::ptr::eq(self, other) {
            return true;
        }
        self.guid == other.guid
            && matches!(
                (self.storage.identity(), other.storage.identity()),
                (Some(a), Some(b)) if a == b
            )
    }

    pub fn storage(&self) -> &dyn Engine {
        &*self.storage
    }

    /// Up to `buf.len()` bytes of a value left in this store, from `offset` (0 past its end);
    /// MAPI_E_OBJECT_CHANGED once another client replaced or deleted it.
    pub fn read_large(&self, at: &LargeRef, offset: u64, buf: &mut [u8]) -> MapiResult<usize> {
        Ok(self.storage().read(|t| t.read_large(at, offset, buf))?)
    }

    /// `value` whole: a value left in this store is read (in one snapshot); any other is
    /// returned as it is. For copies to other objects, which need the bytes.
    pub fn whole_value(&self, value: PropValue) -> MapiResult<PropValue> {
        let PropValue::Large(at) = &value else {
            return Ok(value);
        };
        self.storage()
            .read(|t| read_whole(at, |offset, buf| Ok(t.read_large(at, offset, buf)?)))
    }

    /// Every value of `props` left in this store, read whole.
    pub fn read_whole_values(&self, props: &mut PropMap) -> MapiResult<()> {
        for value in props.values_mut() {
            if value.is_large() {
                // A clone of a value left in the store is its reference: cheap.
                *value = self.whole_value(value.clone())?;
            }
        }
        Ok(())
    }

    pub fn entry_id(&self, kind: u32, id: u64) -> Vec<u8> {
        entry_id(&self.guid, kind, id)
    }

    pub fn store_entry_id(&self) -> Vec<u8> {
        self.entry_id(MAPI_STORE, storage::STORE_OBJECT_ID)
    }

    pub fn record_key(&self, id: u64) -> Vec<u8> {
        record_key(&self.guid, id)
    }

    /// PR_STORE_SUPPORT_MASK: what is true now (DESIGN.md §2).
    pub fn support_mask(&self) -> u32 {
        let mut mask = STORE_ENTRYID_UNIQUE
            | STORE_MODIFY_OK
            | STORE_CREATE_OK
            | STORE_ATTACH_OK
            | STORE_MV_PROPS_OK
            | STORE_UNICODE_OK;
        if !self.writable() {
            mask |= STORE_READONLY;
        }
        if self.storage.has_change_feed() {
            mask |= STORE_NOTIFY_OK;
        }
        mask
    }

    pub fn require_writable(&self, what: &str) -> MapiResult<()> {
        if self.writable() {
            Ok(())
        } else {
            Err(MapiError::no_access(format!(
                "{what}: the store is open read-only"
            )))
        }
    }

    /// Parses an entry ID and checks the object exists with that kind.
    pub fn resolve_entry(&self, bytes: &[u8]) -> MapiResult<EntryRef> {
        let entry = parse_entry_id(&self.guid, bytes)?;
        let row = self.storage().read(|t| t.object(entry.id))?;
        match row {
            Some(r) if r.kind == entry.kind => Ok(entry),
            _ => Err(MapiError::new(
                MAPI_E_NOT_FOUND,
                "the object this entry ID names no longer exists",
            )),
        }
    }

    /// OpenEntry (store or folder): `None` opens the root folder. `MAPI_MODIFY` asks for write
    /// access (refused on a read-only store); `MAPI_BEST_ACCESS` takes it where it can.
    pub fn open_entry(self: &Arc<Self>, entry: Option<&[u8]>, flags: u32) -> MapiResult<Opened> {
        check_flags(
            "OpenEntry",
            flags,
            MAPI_MODIFY | MAPI_DEFERRED_ERRORS | MAPI_BEST_ACCESS,
        )?;
        if flags & MAPI_MODIFY != 0 {
            self.require_writable("OpenEntry with MAPI_MODIFY")?;
        }
        let writable = flags & (MAPI_MODIFY | MAPI_BEST_ACCESS) != 0 && self.writable();
        let target = match entry {
            None => EntryRef {
                kind: MAPI_FOLDER,
                id: storage::ROOT_FOLDER_ID,
            },
            Some(bytes) => parse_entry_id(&self.guid, bytes)?,
        };
        match target.kind {
            MAPI_FOLDER => Ok(Opened::Folder(Folder::open(
                self.clone(),
                target.id,
                writable,
            )?)),
            MAPI_MESSAGE => Ok(Opened::Message(Box::new(Message::open(
                self.clone(),
                target.id,
                writable,
            )?))),
            _ => Err(MapiError::new(
                MAPI_E_INVALID_ENTRYID,
                "OpenEntry: the entry ID names the store itself; use the store object",
            )),
        }
    }

    /// CompareEntryIDs: whether two entry IDs name the same object of this store.
    pub fn compare_entry_ids(&self, a: &[u8], b: &[u8], flags: u32) -> MapiResult<bool> {
        check_flags("CompareEntryIDs", flags, 0)?;
        let a = parse_entry_id(&self.guid, a)?;
        let b = parse_entry_id(&self.guid, b)?;
        Ok(a == b)
    }

    pub fn resolver(&self) -> Option<Arc<dyn ConflictResolver>> {
        self.resolver.lock().clone()
    }

    /// Registers (Some) or clears (None) the resolver; the previous one is returned so the
    /// caller drops it outside any lock (dropping it may call into client code).
    pub fn set_resolver(
        &self,
        resolver: Option<Arc<dyn ConflictResolver>>,
    ) -> Option<Arc<dyn ConflictResolver>> {
        std::mem::replace(&mut *self.resolver.lock(), resolver)
    }

    /// Removes the registered resolver (the store handle is going away).
    pub fn take_resolver(&self) -> Option<Arc<dyn ConflictResolver>> {
        self.resolver.lock().take()
    }
}

/// An object's stored properties as a property map.
pub fn load_props(txn: &mut dyn ReadTxn, id: u64) -> MapiResult<PropMap> {
    Ok(txn
        .props(id)?
        .into_iter()
        .map(|(tag, value)| (prop_id(tag), value))
        .collect())
}

/// An object's stored properties as a property map, its large binaries and 8-bit strings left
/// in the store (`PropValue::Large`, DESIGN.md §7): what a message, an attachment or an embedded
/// message opens with.
pub fn load_props_deferring(txn: &mut dyn ReadTxn, id: u64) -> MapiResult<PropMap> {
    Ok(txn
        .props_deferring(id, DEFER_ABOVE_BYTES)?
        .into_iter()
        .map(|(tag, value)| (prop_id(tag), value))
        .collect())
}

/// Whether the version of a value left in the store that `at` names is still stored (another
/// client has not replaced or deleted it since it was read).
pub fn large_is_stored(t: &mut dyn ReadTxn, at: &LargeRef) -> MapiResult<bool> {
    match t.read_large(at, 0, &mut []) {
        Ok(_) => Ok(true),
        Err(e) if e.kind == ErrorKind::Changed => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// `props` without its values left in the store whose version is gone (None: all are stored).
pub fn without_gone_large(t: &mut dyn ReadTxn, props: &PropMap) -> MapiResult<Option<PropMap>> {
    let mut out: Option<PropMap> = None;
    for (id, v) in props.iter() {
        if let PropValue::Large(at) = v {
            if !large_is_stored(t, at)? {
                out.get_or_insert_with(|| props.clone()).remove(id);
            }
        }
    }
    Ok(out)
}

/// The piece a value left in the store is read in when it is read whole.
const WHOLE_PIECE: usize = 1 << 20;

/// A value left in the store, read whole by `read` (offset, buffer → bytes read) piece by piece
/// into one allocation of its length (fallible: MAPI_E_NOT_ENOUGH_MEMORY).
pub fn read_whole(
    at: &LargeRef,
    mut read: impl FnMut(u64, &mut [u8]) -> MapiResult<usize>,
) -> MapiResult<PropValue> {
    let len = usize::try_from(at.len).map_err(|_| out_of_memory(usize::MAX))?;
    let mut bytes = Vec::new();
    bytes
        .try_reserve_exact(len)
        .map_err(|_| out_of_memory(len))?;
    bytes.resize(len, 0);
    let mut done = 0;
    while done < len {
        let end = (done + WHOLE_PIECE).min(len);
        let n = read(done as u64, &mut bytes[done..end])?;
        if n == 0 {
            return Err(storage::large_changed(at).into());
        }
        done += n;
    }
    Ok(match at.ptype {
        PT_STRING8 => PropValue::String8(bytes),
        _ => PropValue::Binary(bytes),
    })
}

impl Store {
    /// Splits SetProps inputs into those an object takes and the problems of the rest: computed
    /// tags (MAPI_E_COMPUTED) and values past the engine's limit (MAPI_E_TOO_BIG).
    pub fn accept_inputs(
        &self,
        props: Vec<PropInput>,
        is_computed: impl Fn(u32) -> bool,
    ) -> (Vec<PropInput>, Vec<Problem>) {
        let mut problems = Vec::new();
        let refusal = self.refusal(is_computed);
        // Filtered in place: SetProps is hot, and a second vector grown push by push cost more
        // than the checks themselves.
        let mut accepted = props;
        accepted.retain(|p| match refusal(p) {
            Some(problem) => {
                problems.push(problem);
                false
            }
            None => true,
        });
        (accepted, problems)
    }

    /// What [`Store::accept_inputs`] checks, one input at a time: the problem of an input an
    /// object refuses, None for one it takes (for objects that apply inputs as they check
    /// them).
    pub fn refusal(
        &self,
        is_computed: impl Fn(u32) -> bool,
    ) -> impl Fn(&PropInput) -> Option<Problem> {
        let limit = self.storage().max_value_bytes();
        move |p| {
            if is_computed(p.tag) {
                Some(computed_problem(p.index, p.tag))
            } else if p.value.stored_size() > limit {
                Some(too_big_problem(p.index, p.tag))
            } else {
                None
            }
        }
    }
}

/// Writes validated inputs to a non-transacted object at once, refusing computed tags; returns
/// the problems.
pub fn write_through(
    store: &Store,
    id: u64,
    props: Vec<PropInput>,
    is_computed: impl Fn(u32) -> bool,
) -> MapiResult<Vec<Problem>> {
    let (accepted, problems) = store.accept_inputs(props, is_computed);
    if !accepted.is_empty() {
        let rows: Vec<_> = accepted
            .into_iter()
            .map(|p| (prop_tag(p.value.ptype(), prop_id(p.tag)), p.value))
            .collect();
        store
            .storage()
            .write(|t| -> MapiResult<()> { Ok(t.put_props(id, &rows)?) })?;
    }
    Ok(problems)
}

/// Deletes from a non-transacted object at once, refusing computed tags.
pub fn delete_through(
    store: &Store,
    id: u64,
    tags: &[u32],
    is_computed: impl Fn(u32) -> bool,
) -> MapiResult<Vec<Problem>> {
    let mut problems = Vec::new();
    let mut ids = Vec::new();
    for (i, &tag) in tags.iter().enumerate() {
        if is_computed(tag) {
            problems.push(computed_problem(i as u32, tag));
        } else {
            ids.push(prop_id(tag));
        }
    }
    if !ids.is_empty() {
        store
            .storage()
            .write(|t| -> MapiResult<()> { Ok(t.delete_props(id, &ids)?) })?;
    }
    Ok(problems)
}

/// The IMsgStore object's own properties.
pub struct StoreObject {
    pub store: Arc<Store>,
}

const STORE_COMPUTED: &[u32] = &[
    PR_ENTRYID,
    PR_RECORD_KEY,
    PR_STORE_ENTRYID,
    PR_STORE_RECORD_KEY,
    PR_OBJECT_TYPE,
    PR_STORE_SUPPORT_MASK,
    PR_ACCESS_LEVEL,
    PR_IPM_SUBTREE_ENTRYID,
    PR_MAPPING_SIGNATURE,
];

fn store_is_computed(tag: u32) -> bool {
    id_listed(STORE_COMPUTED, tag)
}

/// Stored properties plus the computed ones of an object (folders and the store use it).
pub struct ComputedView {
    pub stored: PropMap,
    pub computed: PropMap,
}

impl PropView for ComputedView {
    fn get(&self, id: u16) -> Option<Cow<'_, PropValue>> {
        self.computed
            .get(&id)
            .or_else(|| self.stored.get(&id))
            .map(Cow::Borrowed)
    }
    fn tags(&self) -> Vec<u32> {
        let mut tags = self.stored.tags();
        tags.retain(|t| !self.computed.contains_key(&prop_id(*t)));
        tags.extend(self.computed.tags());
        tags
    }
    fn is_computed(&self, tag: u32) -> bool {
        self.computed.contains_key(&prop_id(tag))
    }
}

impl StoreObject {
    fn view(&self) -> MapiResult<ComputedView> {
        let st = &self.store;
        let mut stored = st
            .storage()
            .read(|t| load_props(t, storage::STORE_OBJECT_ID))?;
        stored
            .entry(prop_id(PR_DISPLAY_NAME_W))
            .or_insert_with(|| PropValue::Unicode(st.storage().name()));
        let mut computed = PropMap::new();
        let eid = st.store_entry_id();
        computed.insert(prop_id(PR_ENTRYID), PropValue::Binary(eid.clone()));
        computed.insert(prop_id(PR_STORE_ENTRYID), PropValue::Binary(eid));
        computed.insert(prop_id(PR_RECORD_KEY), PropValue::Binary(st.guid.to_vec()));
        computed.insert(
            prop_id(PR_STORE_RECORD_KEY),
            PropValue::Binary(st.guid.to_vec()),
        );
        computed.insert(prop_id(PR_OBJECT_TYPE), PropValue::Long(MAPI_STORE as i32));
        computed.insert(
            prop_id(PR_STORE_SUPPORT_MASK),
            PropValue::Long(st.support_mask() as i32),
        );
        computed.insert(
            prop_id(PR_ACCESS_LEVEL),
            PropValue::Long(if st.writable() { MAPI_MODIFY as i32 } else { 0 }),
        );
        computed.insert(
            prop_id(PR_MAPPING_SIGNATURE),
            PropValue::Binary(st.mapping_signature()),
        );
        computed.insert(
            prop_id(PR_IPM_SUBTREE_ENTRYID),
            PropValue::Binary(st.entry_id(MAPI_FOLDER, storage::ROOT_FOLDER_ID)),
        );
        Ok(ComputedView { stored, computed })
    }
}

impl PropObject for StoreObject {
    fn read(&self, f: &mut dyn FnMut(&dyn PropView)) -> MapiResult<()> {
        let view = self.view()?;
        f(&view);
        Ok(())
    }
    fn set_props(&self, props: Vec<PropInput>) -> MapiResult<Vec<Problem>> {
        self.store.require_writable("SetProps")?;
        write_through(
            &self.store,
            storage::STORE_OBJECT_ID,
            props,
            store_is_computed,
        )
    }
    fn delete_props(&self, tags: &[u32]) -> MapiResult<Vec<Problem>> {
        self.store.require_writable("DeleteProps")?;
        delete_through(
            &self.store,
            storage::STORE_OBJECT_ID,
            tags,
            store_is_computed,
        )
    }
    fn save_changes(&self, flags: u32) -> MapiResult<()> {
        check_flags("SaveChanges", flags, super::props::SAVE_CHANGES_FLAGS)?;
        if !self.store.writable() {
            return Err(read_only_error("the store"));
        }
        Ok(())
    }
    fn check_writable(&self, method: &str) -> MapiResult<()> {
        self.store.require_writable(method)
    }
    fn object_type(&self) -> u32 {
        MAPI_STORE
    }
    fn named_store(&self) -> Option<&Store> {
        Some(&self.store)
    }
}
