//! Messages: transacted. Each open is an independent client with a private working copy — the
//! committed properties as of its base change number plus its own sets and deletes — and
//! SaveChanges applies the multi-client rules of DESIGN.md §4 with the compare and the write in
//! one storage transaction, so racing savers (threads or processes) can never both win.

use super::error::{check_flags, MapiError, MapiResult};
use super::folder::OBJ_FLAG_ASSOCIATED;
use super::ids::{filetime_now, merge_pcl, parse_pcl, xid};
use super::mapidefs::*;
use super::props::{computed_problem, Problem, PropInput, PropMap, PropObject, PropView};
use super::resolve::{Ask, Conflict, Decision};
use super::store::{load_props, Store};
use super::value::{prop_id, prop_tag, PropValue};
use crate::storage::{Txn, KIND_FOLDER, KIND_MESSAGE, ROOT_FOLDER_ID};
use parking_lot::Mutex;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The name of the folder SAVE_ELSEWHERE uses when the resolver names none.
pub const CONFLICTS_FOLDER_NAME: &str = "Conflicts";

/// One pending change of a working copy.
#[derive(Debug, Clone)]
enum Change {
    Set(PropValue),
    /// Deleted; the tag it had, for the conflict detail.
    Delete(u32),
}

struct State {
    /// None until the first save of a message made by CreateMessage.
    id: Option<u64>,
    parent: u64,
    associated: bool,
    /// The change number the working copy is based on (0 for a new message).
    base_cn: u64,
    /// The committed properties as of `base_cn` (change properties included).
    base: Arc<PropMap>,
    /// The payload of every property in `base` but PR_MESSAGE_SIZE: what PR_MESSAGE_SIZE is
    /// computed from, kept so that a save computes it from its changes alone.
    base_size: usize,
    changes: BTreeMap<u16, Change>,
    writable: bool,
    /// The synthesized binary properties, made once per location (id, parent).
    ids: Ids,
}

/// PR_ENTRYID, PR_RECORD_KEY (once saved), PR_PARENT_ENTRYID, PR_STORE_ENTRYID and
/// PR_STORE_RECORD_KEY of a message, so that GetProps lends them instead of building them.
struct Ids {
    entry_id: Option<PropValue>,
    record_key: Option<PropValue>,
    parent_entry_id: PropValue,
    store_entry_id: PropValue,
    store_record_key: PropValue,
}

impl Ids {
    fn new(store: &Store, id: Option<u64>, parent: u64) -> Ids {
        Ids {
            entry_id: id.map(|id| PropValue::Binary(store.entry_id(MAPI_MESSAGE, id))),
            record_key: id.map(|id| PropValue::Binary(store.record_key(id))),
            parent_entry_id: PropValue::Binary(store.entry_id(MAPI_FOLDER, parent)),
            store_entry_id: PropValue::Binary(store.store_entry_id()),
            store_record_key: PropValue::Binary(store.guid().to_vec()),
        }
    }
}

pub struct Message {
    store: Arc<Store>,
    state: Mutex<State>,
}

/// Properties the provider computes or maintains: readable, rejected by SetProps/DeleteProps
/// with MAPI_E_COMPUTED, never copied by CopyTo.
const SYNTHESIZED: &[u32] = &[
    PR_ENTRYID,
    PR_RECORD_KEY,
    PR_PARENT_ENTRYID,
    PR_STORE_ENTRYID,
    PR_STORE_RECORD_KEY,
    PR_OBJECT_TYPE,
    PR_ACCESS,
    PR_ACCESS_LEVEL,
    PR_STORE_SUPPORT_MASK,
];
const MAINTAINED: &[u32] = &[
    PR_CHANGE_KEY,
    PR_PREDECESSOR_CHANGE_LIST,
    PR_LAST_MODIFICATION_TIME,
    PR_CREATION_TIME,
    PR_MESSAGE_SIZE,
];

/// One bit per property ID: SYNTHESIZED and MAINTAINED, for a lookup without a scan.
static COMPUTED_IDS: [u64; 1024] = {
    let mut bits = [0u64; 1024];
    let mut i = 0;
    while i < SYNTHESIZED.len() {
        let id = prop_id(SYNTHESIZED[i]) as usize;
        bits[id / 64] |= 1 << (id % 64);
        i += 1;
    }
    let mut i = 0;
    while i < MAINTAINED.len() {
        let id = prop_id(MAINTAINED[i]) as usize;
        bits[id / 64] |= 1 << (id % 64);
        i += 1;
    }
    bits
};

pub fn message_is_computed(tag: u32) -> bool {
    let id = prop_id(tag) as usize;
    COMPUTED_IDS[id / 64] & (1 << (id % 64)) != 0
}

const ID_ENTRYID: u16 = prop_id(PR_ENTRYID);
const ID_RECORD_KEY: u16 = prop_id(PR_RECORD_KEY);
const ID_PARENT_ENTRYID: u16 = prop_id(PR_PARENT_ENTRYID);
const ID_STORE_ENTRYID: u16 = prop_id(PR_STORE_ENTRYID);
const ID_STORE_RECORD_KEY: u16 = prop_id(PR_STORE_RECORD_KEY);
const ID_OBJECT_TYPE: u16 = prop_id(PR_OBJECT_TYPE);
const ID_ACCESS: u16 = prop_id(PR_ACCESS);
const ID_ACCESS_LEVEL: u16 = prop_id(PR_ACCESS_LEVEL);
const ID_STORE_SUPPORT_MASK: u16 = prop_id(PR_STORE_SUPPORT_MASK);
const ID_MESSAGE_SIZE: u16 = prop_id(PR_MESSAGE_SIZE);

const SAVE_FLAGS: u32 =
    KEEP_OPEN_READONLY | KEEP_OPEN_READWRITE | FORCE_SAVE | MAPI_DEFERRED_ERRORS;

/// How a commit treats the stored version.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Rule 1/2: only if the stored CN is the expected one; write this client's changes.
    Normal,
    /// Rule 3 (and the resolver's OVERWRITE): the stored message becomes this client's view.
    Force,
    /// The resolver's MERGE: the stored version plus this client's changes.
    Merge,
}

enum Outcome {
    Committed {
        id: u64,
        parent: u64,
        cn: u64,
        /// The whole new view when it was built in the transaction; None: base + changes.
        view: Option<PropMap>,
        maintained: Vec<(u16, PropValue)>,
        /// The new base's payload without PR_MESSAGE_SIZE (`State::base_size`).
        total: usize,
    },
    NothingToSave,
    Deleted,
    Conflict {
        stored_cn: u64,
        stored: PropMap,
    },
}

fn object_changed(why: &str) -> MapiError {
    MapiError::new(
        MAPI_E_OBJECT_CHANGED,
        format!(
            "SaveChanges: the message was changed by another client since it was opened; {why}"
        ),
    )
}

fn object_deleted() -> MapiError {
    MapiError::new(
        MAPI_E_OBJECT_DELETED,
        "SaveChanges: the message was deleted since it was opened; nothing was written",
    )
}

impl State {
    fn value(&self, id: u16) -> Option<&PropValue> {
        match self.changes.get(&id) {
            Some(Change::Set(v)) => Some(v),
            Some(Change::Delete(_)) => None,
            None => self.base.get(&id),
        }
    }

    /// This client's whole view of its stored (non-synthesized) properties.
    fn full_view(&self) -> PropMap {
        let mut view = (*self.base).clone();
        apply_changes(&mut view, &self.changes);
        view
    }

    /// Moves the message to (`id`, `parent`), refreshing the synthesized identifiers.
    fn locate(&mut self, store: &Store, id: Option<u64>, parent: u64) {
        if self.id != id || self.parent != parent {
            self.ids = Ids::new(store, id, parent);
        }
        self.id = id;
        self.parent = parent;
    }

    /// PR_MESSAGE_SIZE's payload total after this client's changes and then `maintained` are
    /// applied to the base, from the changed properties alone (DESIGN.md §7: a small change to a
    /// big message costs what the change costs).
    fn total_after(&self, maintained: &[(u16, PropValue)]) -> usize {
        let size_of = |v: Option<&PropValue>| v.map_or(0, PropValue::payload_size);
        let mut total = self.base_size;
        for (pid, c) in &self.changes {
            if *pid == ID_MESSAGE_SIZE || maintained.iter().any(|(m, _)| m == pid) {
                continue;
            }
            let new = match c {
                Change::Set(v) => v.payload_size(),
                Change::Delete(_) => 0,
            };
            total = total + new - size_of(self.base.get(pid));
        }
        for (pid, v) in maintained {
            if *pid != ID_MESSAGE_SIZE {
                total = total + v.payload_size() - size_of(self.base.get(pid));
            }
        }
        total
    }

    fn my_change_tags(&self) -> Vec<u32> {
        self.changes
            .iter()
            .map(|(id, c)| match c {
                Change::Set(v) => prop_tag(v.ptype(), *id),
                Change::Delete(tag) => *tag,
            })
            .collect()
    }
}

fn apply_changes(map: &mut PropMap, changes: &BTreeMap<u16, Change>) {
    for (id, c) in changes {
        match c {
            Change::Set(v) => {
                map.insert(*id, v.clone());
            }
            Change::Delete(_) => {
                map.remove(id);
            }
        }
    }
}

/// Applies changes that are no longer needed, moving their values.
fn apply_changes_owned(map: &mut PropMap, changes: BTreeMap<u16, Change>) {
    for (id, c) in changes {
        match c {
            Change::Set(v) => {
                map.insert(id, v);
            }
            Change::Delete(_) => {
                map.remove(&id);
            }
        }
    }
}

/// The payload of every stored property but PR_MESSAGE_SIZE itself, with `overrides` in place
/// of the view's values.
fn payload_total(view: &PropMap, overrides: &[(u16, PropValue)]) -> usize {
    let overridden = |id: &u16| overrides.iter().any(|(o, _)| o == id);
    let stored: usize = view
        .iter()
        .filter(|(id, _)| **id != ID_MESSAGE_SIZE && !overridden(id))
        .map(|(_, v)| v.payload_size())
        .sum();
    let new: usize = overrides
        .iter()
        .filter(|(id, _)| *id != ID_MESSAGE_SIZE)
        .map(|(_, v)| v.payload_size())
        .sum();
    stored + new
}

/// PR_MESSAGE_SIZE from a payload total (a PT_LONG: capped).
fn message_size(total: usize) -> i32 {
    total.min(i32::MAX as usize) as i32
}

/// Tags whose values differ between two versions (maintained properties left out: they change
/// on every commit and are nobody's edit).
fn differing_tags(before: &PropMap, after: &PropMap) -> Vec<u32> {
    let mut tags = Vec::new();
    for (id, v) in after {
        if before.get(id) != Some(v) && !message_is_computed(prop_tag(0, *id)) {
            tags.push(prop_tag(v.ptype(), *id));
        }
    }
    for (id, v) in before {
        if !after.contains_key(id) && !message_is_computed(prop_tag(0, *id)) {
            tags.push(prop_tag(v.ptype(), *id));
        }
    }
    tags.sort_by_key(|t| prop_id(*t));
    tags
}

/// Writes the difference between what is stored and what should be.
fn write_diff(t: &Txn, id: u64, stored: &PropMap, target: &PropMap) -> MapiResult<()> {
    let rows: Vec<(u32, Vec<u8>)> = target
        .iter()
        .filter(|(pid, v)| stored.get(pid) != Some(v))
        .map(|(pid, v)| (prop_tag(v.ptype(), *pid), v.encode()))
        .collect();
    put_encoded(t, id, &rows)?;
    for pid in stored.keys() {
        if !target.contains_key(pid) {
            t.delete_prop(id, *pid)?;
        }
    }
    Ok(())
}

/// Writes pending changes only (the stored version is the base: rule 1).
fn write_changes(t: &Txn, id: u64, changes: &BTreeMap<u16, Change>) -> MapiResult<()> {
    let mut sets = Vec::new();
    for (pid, c) in changes {
        match c {
            Change::Set(v) => sets.push((prop_tag(v.ptype(), *pid), v.encode())),
            Change::Delete(_) => t.delete_prop(id, *pid)?,
        }
    }
    put_encoded(t, id, &sets)
}

/// Writes encoded property rows of one object in as few statements as storage allows.
fn put_encoded(t: &Txn, id: u64, rows: &[(u32, Vec<u8>)]) -> MapiResult<()> {
    let rows: Vec<(u32, &[u8])> = rows.iter().map(|(tag, v)| (*tag, v.as_slice())).collect();
    Ok(t.put_props(id, &rows)?)
}

impl Message {
    /// Opens a stored message: a new, independent client of it.
    pub fn open(store: Arc<Store>, id: u64, writable: bool) -> MapiResult<Message> {
        let (row, props) = store.storage().read(|t| {
            let row = t.object(id)?;
            let props = match row {
                Some(r) if r.kind == KIND_MESSAGE => load_props(t, id)?,
                _ => PropMap::new(),
            };
            Ok::<_, MapiError>((row, props))
        })?;
        let row = row.filter(|r| r.kind == KIND_MESSAGE).ok_or_else(|| {
            MapiError::new(
                MAPI_E_NOT_FOUND,
                "the message this entry ID names no longer exists",
            )
        })?;
        Ok(Self::from_snapshot(
            store,
            id,
            row.parent.unwrap_or(ROOT_FOLDER_ID),
            row.flags & OBJ_FLAG_ASSOCIATED != 0,
            row.cn,
            props,
            writable,
        ))
    }

    fn from_snapshot(
        store: Arc<Store>,
        id: u64,
        parent: u64,
        associated: bool,
        cn: u64,
        props: PropMap,
        writable: bool,
    ) -> Message {
        let ids = Ids::new(&store, Some(id), parent);
        Message {
            store,
            state: Mutex::new(State {
                id: Some(id),
                parent,
                associated,
                base_cn: cn,
                base_size: payload_total(&props, &[]),
                base: Arc::new(props),
                changes: BTreeMap::new(),
                writable,
                ids,
            }),
        }
    }

    /// A new message (CreateMessage): nothing is stored until its first save.
    pub fn create(store: Arc<Store>, parent: u64, associated: bool) -> Message {
        let ids = Ids::new(&store, None, parent);
        Message {
            store,
            state: Mutex::new(State {
                id: None,
                parent,
                associated,
                base_cn: 0,
                base: Arc::new(PropMap::new()),
                base_size: 0,
                changes: BTreeMap::new(),
                writable: true,
                ids,
            }),
        }
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// The message's entry ID, once it has been saved.
    pub fn entry_id(&self) -> Option<Vec<u8>> {
        let id = self.state.lock().id?;
        Some(self.store.entry_id(MAPI_MESSAGE, id))
    }

    /// The change number this client's view is based on.
    pub fn base_cn(&self) -> u64 {
        self.state.lock().base_cn
    }

    /// SaveChanges (DESIGN.md §4). Order of checks: flags → access → deleted → CN. `ask`, when
    /// a resolver is registered, decides a conflict (DESIGN.md §5); it runs with no lock held.
    pub fn save_changes(&self, flags: u32, ask: Option<Ask>) -> MapiResult<()> {
        check_flags("SaveChanges", flags, SAVE_FLAGS)?;
        self.store.require_writable("SaveChanges")?;
        let keep_writable = flags & KEEP_OPEN_READWRITE != 0;
        let mut mode = if flags & FORCE_SAVE != 0 {
            Mode::Force
        } else {
            Mode::Normal
        };
        // The stored CN a resolver's decision was made against (compare-and-swap target).
        let mut expected: Option<u64> = None;
        loop {
            let mut st = self.state.lock();
            if !st.writable {
                return Err(MapiError::no_access(
                    "SaveChanges: the message is open read-only (or was saved without \
                     KEEP_OPEN_READWRITE)",
                ));
            }
            match self.commit(&st, mode, expected)? {
                Outcome::Committed {
                    id,
                    parent,
                    cn,
                    view,
                    maintained,
                    total,
                } => {
                    let changes = std::mem::take(&mut st.changes);
                    match view {
                        Some(v) => st.base = Arc::new(v),
                        None => apply_changes_owned(Arc::make_mut(&mut st.base), changes),
                    }
                    let base = Arc::make_mut(&mut st.base);
                    for (pid, v) in maintained {
                        base.insert(pid, v);
                    }
                    st.base_size = total;
                    st.locate(&self.store, Some(id), parent);
                    st.base_cn = cn;
                    st.writable = keep_writable;
                    return Ok(());
                }
                Outcome::NothingToSave => {
                    st.writable = keep_writable;
                    return Ok(());
                }
                Outcome::Deleted => {
                    let entry_id = st.id.map(|id| self.store.entry_id(MAPI_MESSAGE, id));
                    let my_changes = st.my_change_tags();
                    drop(st);
                    let (Some(ask), Mode::Normal) = (ask, mode) else {
                        return Err(object_deleted());
                    };
                    let decision = ask(Conflict {
                        deleted: true,
                        entry_id: entry_id.unwrap_or_default(),
                        their_changes: Vec::new(),
                        my_changes,
                        stored: None,
                    });
                    match decision {
                        Ok(Decision {
                            action: MSGSTORE_RESOLVE_SAVE_ELSEWHERE,
                            dest_folder,
                        }) => return self.save_elsewhere(dest_folder, keep_writable),
                        _ => return Err(object_deleted()),
                    }
                }
                Outcome::Conflict { stored_cn, stored } => {
                    let id = st.id.expect("only saved messages conflict");
                    let conflict = Conflict {
                        deleted: false,
                        entry_id: self.store.entry_id(MAPI_MESSAGE, id),
                        their_changes: differing_tags(&st.base, &stored),
                        my_changes: st.my_change_tags(),
                        stored: Some(Message::from_snapshot(
                            self.store.clone(),
                            id,
                            st.parent,
                            st.associated,
                            stored_cn,
                            stored,
                            false,
                        )),
                    };
                    drop(st);
                    let Some(ask) = ask else {
                        return Err(object_changed(
                            "nothing was written (save again with FORCE_SAVE to overwrite)",
                        ));
                    };
                    let decision = ask(conflict).map_err(|e| {
                        object_changed(&format!(
                            "the conflict resolver failed ({}); nothing was written",
                            e.message
                        ))
                    })?;
                    match decision.action {
                        MSGSTORE_RESOLVE_KEEP_ORIGINAL => {
                            return Err(object_changed(
                                "the resolver chose to keep the original; nothing was written",
                            ))
                        }
                        MSGSTORE_RESOLVE_OVERWRITE => mode = Mode::Force,
                        MSGSTORE_RESOLVE_MERGE => mode = Mode::Merge,
                        MSGSTORE_RESOLVE_SAVE_ELSEWHERE => {
                            return self.save_elsewhere(decision.dest_folder, keep_writable)
                        }
                        other => {
                            return Err(object_changed(&format!(
                                "the resolver returned unknown action {other}; nothing was written"
                            )))
                        }
                    }
                    // Apply against the version the resolver was shown; if another save lands
                    // meanwhile the commit reports a conflict again and the resolver is re-asked.
                    expected = Some(stored_cn);
                }
            }
        }
    }

    /// One storage transaction: the compare and the write together.
    fn commit(&self, st: &State, mode: Mode, expected: Option<u64>) -> MapiResult<Outcome> {
        let store = &self.store;
        let guid = *store.guid();
        let now = filetime_now();
        store.storage().write(|t| {
            let Some(id) = st.id else {
                return self.commit_new(t, st, now).map(|(id, cn, view, total)| {
                    Outcome::Committed {
                        id,
                        parent: st.parent,
                        cn,
                        view: Some(view),
                        maintained: Vec::new(),
                        total,
                    }
                });
            };
            let Some(row) = t.object(id)?.filter(|r| r.kind == KIND_MESSAGE) else {
                return Ok(Outcome::Deleted);
            };
            if st.changes.is_empty() {
                return Ok(Outcome::NothingToSave);
            }
            let stale = row.cn != expected.unwrap_or(st.base_cn);
            // FORCE_SAVE overrides the compare; a resolver's decision never does.
            let compare = mode != Mode::Force || expected.is_some();
            if stale && compare {
                return Ok(Outcome::Conflict {
                    stored_cn: row.cn,
                    stored: load_props(t, id)?,
                });
            }
            let (mut view, stored_pcl) = match mode {
                Mode::Normal => {
                    write_changes(t, id, &st.changes)?;
                    (None, None)
                }
                Mode::Force => {
                    let stored = load_props(t, id)?;
                    let mut target = st.full_view();
                    // The read flag is not part of the transaction (SetReadFlag): keep the
                    // stored value unless this client changed PR_MESSAGE_FLAGS itself.
                    let flags_id = prop_id(PR_MESSAGE_FLAGS);
                    if !st.changes.contains_key(&flags_id) {
                        match stored.get(&flags_id) {
                            Some(v) => target.insert(flags_id, v.clone()),
                            None => target.remove(&flags_id),
                        };
                    }
                    for m in MAINTAINED {
                        match stored.get(&prop_id(*m)) {
                            Some(v) => target.insert(prop_id(*m), v.clone()),
                            None => target.remove(&prop_id(*m)),
                        };
                    }
                    write_diff(t, id, &stored, &target)?;
                    let pcl = stored.get(&prop_id(PR_PREDECESSOR_CHANGE_LIST)).cloned();
                    (Some(target), pcl)
                }
                Mode::Merge => {
                    let mut target = load_props(t, id)?;
                    let pcl = target.get(&prop_id(PR_PREDECESSOR_CHANGE_LIST)).cloned();
                    apply_changes(&mut target, &st.changes);
                    write_changes(t, id, &st.changes)?;
                    (Some(target), pcl)
                }
            };
            let cn = t.alloc_cn()?;
            let change_key = xid(&guid, cn);
            // The new PCL succeeds this client's base and, for a forced or merged save, the
            // stored version it replaced.
            let mut pcls: Vec<Vec<u8>> = Vec::new();
            for pcl in [
                st.base.get(&prop_id(PR_PREDECESSOR_CHANGE_LIST)),
                stored_pcl.as_ref(),
            ]
            .into_iter()
            .flatten()
            {
                if let PropValue::Binary(b) = pcl {
                    pcls.extend(parse_pcl(b));
                }
            }
            pcls.push(change_key.clone());
            let pcl = merge_pcl(pcls.iter().map(Vec::as_slice));
            let mut maintained = vec![
                (prop_id(PR_CHANGE_KEY), PropValue::Binary(change_key)),
                (prop_id(PR_PREDECESSOR_CHANGE_LIST), PropValue::Binary(pcl)),
                (prop_id(PR_LAST_MODIFICATION_TIME), PropValue::SysTime(now)),
            ];
            let total = match &view {
                Some(v) => payload_total(v, &maintained),
                None => st.total_after(&maintained),
            };
            maintained.push((ID_MESSAGE_SIZE, PropValue::Long(message_size(total))));
            let rows: Vec<(u32, Vec<u8>)> = maintained
                .iter()
                .map(|(pid, v)| (prop_tag(v.ptype(), *pid), v.encode()))
                .collect();
            put_encoded(t, id, &rows)?;
            t.set_cn(id, cn)?;
            if let Some(v) = view.as_mut() {
                for (pid, val) in maintained.drain(..) {
                    v.insert(pid, val);
                }
            }
            Ok(Outcome::Committed {
                id,
                parent: row.parent.unwrap_or(ROOT_FOLDER_ID),
                cn,
                view,
                maintained,
                total,
            })
        })
    }

    /// The first save of a message made by CreateMessage: never a conflict.
    fn commit_new(&self, t: &Txn, st: &State, now: u64) -> MapiResult<(u64, u64, PropMap, usize)> {
        self.insert_message(t, st.parent, st.associated, st.full_view(), now)
    }

    /// Inserts a message with `view` (plus the maintained properties) into `parent`; returns
    /// its ID, CN, stored view and payload total (`State::base_size`).
    fn insert_message(
        &self,
        t: &Txn,
        parent: u64,
        associated: bool,
        mut view: PropMap,
        now: u64,
    ) -> MapiResult<(u64, u64, PropMap, usize)> {
        match t.object(parent)? {
            Some(r) if r.kind == KIND_FOLDER => {}
            _ => {
                return Err(MapiError::new(
                    MAPI_E_NOT_FOUND,
                    "SaveChanges: the message's folder no longer exists",
                ))
            }
        }
        let cn = t.alloc_cn()?;
        let obj_flags = if associated { OBJ_FLAG_ASSOCIATED } else { 0 };
        let id = t.insert_object(KIND_MESSAGE, parent, cn, obj_flags)?;
        let change_key = xid(self.store.guid(), cn);
        for m in MAINTAINED {
            view.remove(&prop_id(*m));
        }
        view.entry(prop_id(PR_MESSAGE_FLAGS)).or_insert_with(|| {
            PropValue::Long(
                (MSGFLAG_UNSENT | if associated { MSGFLAG_ASSOCIATED } else { 0 }) as i32,
            )
        });
        view.insert(prop_id(PR_CREATION_TIME), PropValue::SysTime(now));
        view.insert(prop_id(PR_LAST_MODIFICATION_TIME), PropValue::SysTime(now));
        view.insert(
            prop_id(PR_PREDECESSOR_CHANGE_LIST),
            PropValue::Binary(merge_pcl([change_key.as_slice()])),
        );
        view.insert(prop_id(PR_CHANGE_KEY), PropValue::Binary(change_key));
        let total = payload_total(&view, &[]);
        view.insert(ID_MESSAGE_SIZE, PropValue::Long(message_size(total)));
        let rows: Vec<(u32, Vec<u8>)> = view
            .iter()
            .map(|(pid, v)| (prop_tag(v.ptype(), *pid), v.encode()))
            .collect();
        put_encoded(t, id, &rows)?;
        Ok((id, cn, view, total))
    }

    /// SAVE_ELSEWHERE: this client's whole view becomes a new message in `dest` (None: the
    /// store's Conflicts folder, created on demand), with PR_CONFLICT_ITEMS naming the original.
    /// The original is untouched; this object now is the new message.
    fn save_elsewhere(&self, dest: Option<u64>, keep_writable: bool) -> MapiResult<()> {
        let mut st = self.state.lock();
        let now = filetime_now();
        let original = st.id.map(|id| self.store.entry_id(MAPI_MESSAGE, id));
        let mut view = st.full_view();
        if let Some(orig) = original {
            view.insert(prop_id(PR_CONFLICT_ITEMS), PropValue::MvBinary(vec![orig]));
        }
        let (id, cn, view, total, parent) = self.store.storage().write(|t| {
            let parent = match dest {
                Some(f) => f,
                None => conflicts_folder(t, &self.store)?,
            };
            let (id, cn, view, total) = self.insert_message(t, parent, st.associated, view, now)?;
            Ok::<_, MapiError>((id, cn, view, total, parent))
        })?;
        st.locate(&self.store, Some(id), parent);
        st.base = Arc::new(view);
        st.base_size = total;
        st.base_cn = cn;
        st.changes.clear();
        st.writable = keep_writable;
        Ok(())
    }

    /// SetReadFlag: applied at once, outside the transaction; no new change number, so it never
    /// makes another client's save conflict (DESIGN.md §4).
    pub fn set_read_flag(&self, flags: u32) -> MapiResult<()> {
        check_flags(
            "SetReadFlag",
            flags,
            SUPPRESS_RECEIPT
                | CLEAR_READ_FLAG
                | MAPI_DEFERRED_ERRORS
                | GENERATE_RECEIPT_ONLY
                | CLEAR_RN_PENDING
                | CLEAR_NRN_PENDING,
        )?;
        if flags & SUPPRESS_RECEIPT != 0 && flags & CLEAR_READ_FLAG != 0 {
            return Err(MapiError::invalid(
                "SetReadFlag: SUPPRESS_RECEIPT and CLEAR_READ_FLAG contradict each other",
            ));
        }
        self.store.require_writable("SetReadFlag")?;
        let update = |old: u32| -> u32 {
            let mut f = old;
            if flags & GENERATE_RECEIPT_ONLY == 0 {
                if flags & CLEAR_READ_FLAG != 0 {
                    f &= !MSGFLAG_READ;
                } else {
                    f |= MSGFLAG_READ;
                }
            }
            if flags & CLEAR_RN_PENDING != 0 {
                f &= !MSGFLAG_RN_PENDING;
            }
            if flags & CLEAR_NRN_PENDING != 0 {
                f &= !MSGFLAG_NRN_PENDING;
            }
            f
        };
        let as_flags = |v: Option<&PropValue>| match v {
            Some(PropValue::Long(l)) => *l as u32,
            _ => 0,
        };
        let fid = prop_id(PR_MESSAGE_FLAGS);
        let mut st = self.state.lock();
        if let Some(Change::Set(v)) = st.changes.get(&fid) {
            let pending = update(as_flags(Some(v)));
            st.changes
                .insert(fid, Change::Set(PropValue::Long(pending as i32)));
        }
        let Some(id) = st.id else {
            if !st.changes.contains_key(&fid) {
                let now = update(as_flags(st.value(fid)));
                st.changes
                    .insert(fid, Change::Set(PropValue::Long(now as i32)));
            }
            return Ok(());
        };
        let stored_flags = self.store.storage().write(|t| {
            t.object(id)?
                .filter(|r| r.kind == KIND_MESSAGE)
                .ok_or_else(|| {
                    MapiError::new(
                        MAPI_E_OBJECT_DELETED,
                        "SetReadFlag: the message was deleted",
                    )
                })?;
            let stored = t
                .prop(id, fid)?
                .map(|(tag, b)| PropValue::decode(tag & 0xFFFF, &b))
                .transpose()?;
            let new = update(as_flags(stored.as_ref()));
            t.put_prop(id, PR_MESSAGE_FLAGS, &PropValue::Long(new as i32).encode())?;
            Ok::<_, MapiError>(new)
        })?;
        let new = PropValue::Long(stored_flags as i32);
        let old_size = st.base.get(&fid).map_or(0, PropValue::payload_size);
        st.base_size = st.base_size + new.payload_size() - old_size;
        Arc::make_mut(&mut st.base).insert(fid, new);
        Ok(())
    }
}

/// Finds or creates the "Conflicts" folder under the root, and records it at index 0 of the
/// root's PR_ADDITIONAL_REN_ENTRYIDS, as Outlook does.
fn conflicts_folder(t: &Txn, store: &Store) -> MapiResult<u64> {
    for row in t.children(ROOT_FOLDER_ID, KIND_FOLDER)? {
        let props = load_props(t, row.id)?;
        if let Some(PropValue::Unicode(name)) = props.get(&prop_id(PR_DISPLAY_NAME_W)) {
            if name.eq_ignore_ascii_case(CONFLICTS_FOLDER_NAME) {
                return Ok(row.id);
            }
        }
    }
    let cn = t.alloc_cn()?;
    let id = t.insert_object(KIND_FOLDER, ROOT_FOLDER_ID, cn, 0)?;
    t.put_prop(
        id,
        PR_DISPLAY_NAME_W,
        &PropValue::Unicode(CONFLICTS_FOLDER_NAME.into()).encode(),
    )?;
    let ren_id = prop_id(PR_ADDITIONAL_REN_ENTRYIDS);
    let mut ren = match t.prop(ROOT_FOLDER_ID, ren_id)? {
        Some((tag, b)) => match PropValue::decode(tag & 0xFFFF, &b)? {
            PropValue::MvBinary(v) => v,
            _ => Vec::new(),
        },
        None => Vec::new(),
    };
    let eid = store.entry_id(MAPI_FOLDER, id);
    if ren.is_empty() {
        ren.push(eid);
    } else {
        ren[0] = eid;
    }
    t.put_prop(
        ROOT_FOLDER_ID,
        PR_ADDITIONAL_REN_ENTRYIDS,
        &PropValue::MvBinary(ren).encode(),
    )?;
    Ok(id)
}

/// The working copy as GetProps sees it.
struct MessageView<'a> {
    st: &'a State,
    store: &'a Store,
}

impl MessageView<'_> {
    fn synthesized(&self, id: u16) -> Option<Cow<'_, PropValue>> {
        let st = self.st;
        let store = self.store;
        let writable = || st.writable && store.writable();
        let long = |l: u32| Some(Cow::Owned(PropValue::Long(l as i32)));
        match id {
            ID_ENTRYID => st.ids.entry_id.as_ref().map(Cow::Borrowed),
            ID_RECORD_KEY => st.ids.record_key.as_ref().map(Cow::Borrowed),
            ID_PARENT_ENTRYID => Some(Cow::Borrowed(&st.ids.parent_entry_id)),
            ID_STORE_ENTRYID => Some(Cow::Borrowed(&st.ids.store_entry_id)),
            ID_STORE_RECORD_KEY => Some(Cow::Borrowed(&st.ids.store_record_key)),
            ID_OBJECT_TYPE => long(MAPI_MESSAGE),
            ID_ACCESS => long(if writable() {
                MAPI_ACCESS_READ | MAPI_ACCESS_MODIFY | MAPI_ACCESS_DELETE
            } else {
                MAPI_ACCESS_READ
            }),
            ID_ACCESS_LEVEL => long(if writable() { MAPI_MODIFY } else { 0 }),
            ID_STORE_SUPPORT_MASK => long(store.support_mask()),
            _ => None,
        }
    }
}

impl PropView for MessageView<'_> {
    fn get(&self, id: u16) -> Option<Cow<'_, PropValue>> {
        if let Some(v) = self.synthesized(id) {
            return Some(v);
        }
        self.st.value(id).map(Cow::Borrowed)
    }
    fn tags(&self) -> Vec<u32> {
        let mut tags: Vec<u32> = self
            .st
            .base
            .iter()
            .filter(|(id, _)| !self.st.changes.contains_key(id))
            .map(|(id, v)| prop_tag(v.ptype(), *id))
            .collect();
        for (id, c) in &self.st.changes {
            if let Change::Set(v) = c {
                tags.push(prop_tag(v.ptype(), *id));
            }
        }
        tags.sort_by_key(|t| prop_id(*t));
        for t in SYNTHESIZED {
            if self.synthesized(prop_id(*t)).is_some() {
                tags.push(*t);
            }
        }
        tags
    }
    fn is_computed(&self, tag: u32) -> bool {
        message_is_computed(tag)
    }
}

impl PropObject for Message {
    fn read(&self, f: &mut dyn FnMut(&dyn PropView)) -> MapiResult<()> {
        let st = self.state.lock();
        f(&MessageView {
            st: &st,
            store: &self.store,
        });
        Ok(())
    }

    fn set_props(&self, props: Vec<PropInput>) -> MapiResult<Vec<Problem>> {
        let mut st = self.state.lock();
        if !st.writable || !self.store.writable() {
            return Err(MapiError::no_access(
                "SetProps: the message is open read-only",
            ));
        }
        let mut problems = Vec::new();
        for p in props {
            if message_is_computed(p.tag) {
                problems.push(computed_problem(p.index, p.tag));
            } else {
                st.changes.insert(prop_id(p.tag), Change::Set(p.value));
            }
        }
        Ok(problems)
    }

    fn delete_props(&self, tags: &[u32]) -> MapiResult<Vec<Problem>> {
        let mut st = self.state.lock();
        if !st.writable || !self.store.writable() {
            return Err(MapiError::no_access(
                "DeleteProps: the message is open read-only",
            ));
        }
        let mut problems = Vec::new();
        for (i, &tag) in tags.iter().enumerate() {
            let id = prop_id(tag);
            if message_is_computed(tag) {
                problems.push(computed_problem(i as u32, tag));
            } else if let Some(old) = st.base.get(&id) {
                let old_tag = prop_tag(old.ptype(), id);
                st.changes.insert(id, Change::Delete(old_tag));
            } else {
                // Not stored: forgetting a pending set is all there is to do.
                st.changes.remove(&id);
            }
        }
        Ok(problems)
    }

    fn save_changes(&self, flags: u32) -> MapiResult<()> {
        Message::save_changes(self, flags, None)
    }

    fn check_writable(&self, method: &str) -> MapiResult<()> {
        let st = self.state.lock();
        if !st.writable || !self.store.writable() {
            return Err(MapiError::no_access(format!(
                "{method}: the message is open read-only"
            )));
        }
        Ok(())
    }

    fn object_type(&self) -> u32 {
        MAPI_MESSAGE
    }
}
