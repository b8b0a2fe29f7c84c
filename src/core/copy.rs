//! IMAPIFolder::CopyMessages and CopyFolder (issue 15 item 3): each call one write transaction,
//! all of it or nothing of it, on every engine.
//!
//! A move is a change of parent, never a copy and a delete: the object keeps its ID — so its
//! entry ID, which encodes the ID and not the folder (ids.rs) — its change number and its
//! properties. A move is therefore not a new version of a moved message: a client that has it
//! open keeps saving it under the save rules as before (the first save wins, a stale one gets
//! MAPI_E_OBJECT_CHANGED), and its save lands where the message now is. (Its PR_PARENT_ENTRYID
//! is its working copy's, as of its open, until it is opened again.) A copy is a new object
//! with new IDs and change keys (message/copy.rs says what a copied message keeps).
//!
//! Both work within one store: a destination folder of another store (or a folder that is not
//! ours) is MAPI_E_NO_SUPPORT; a client copies across stores through CopyTo.

use super::error::{check_flags, MapiError, MapiResult};
use super::folder::{child_folder_named, deleted_folder, folder_name, Folder};
use super::ids::{filetime_now, parse_entry_id, EntryRef};
use super::mapidefs::*;
use super::message::copy_stored;
use super::named::{is_named_id, names_from_ids, NameFilter, PropName};
use super::props::PropMap;
use super::store::load_props;
use super::store::Store;
use super::value::{prop_id, PropValue};
use crate::storage::{WriteTxn, KIND_FOLDER, KIND_MESSAGE, STORE_OBJECT_ID};
use std::collections::{BTreeMap, BTreeSet};

/// How a copy from `from` to `to` renumbers named properties (IDs 0x8000–0xFFFE): each of `ids`
/// to the ID its name has in `to` (given there if new: the copy keeps what a named property
/// means, not its number), None for an ID `from` has no name for (or `to` cannot give, a
/// read-only or full store). Within one store nothing is renumbered: the map is empty.
pub fn named_renumbering(
    from: &Store,
    to: &Store,
    ids: impl IntoIterator<Item = u16>,
) -> MapiResult<Renumbering> {
    if from.same_store(to) {
        return Ok(Renumbering::default());
    }
    let ids: Vec<u16> = ids
        .into_iter()
        .filter(|id| is_named_id(*id))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if ids.is_empty() {
        return Ok(Renumbering::default());
    }
    let names = names_from_ids(from.storage(), &ids, NameFilter::default())?;
    let known: Vec<PropName> = names.iter().flatten().cloned().collect();
    let mut given = to.ids_from_names(&known, true)?.into_iter();
    let mut map = BTreeMap::new();
    for (id, name) in ids.into_iter().zip(names) {
        map.insert(id, name.and_then(|_| given.next().flatten()));
    }
    Ok(Renumbering(map))
}

/// A [`named_renumbering`]: IDs it does not list stay as they are.
#[derive(Debug, Default)]
pub struct Renumbering(BTreeMap<u16, Option<u16>>);

impl Renumbering {
    /// The ID `id` has in the destination; None: it has none there (drop the value).
    pub fn id(&self, id: u16) -> Option<u16> {
        self.0.get(&id).copied().unwrap_or(Some(id))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A property map with its named properties renumbered (those without a number there
    /// dropped).
    pub(crate) fn map(&self, props: &mut PropMap) {
        if self.is_empty() {
            return;
        }
        *props = std::mem::take(props)
            .into_iter()
            .filter_map(|(id, v)| self.id(id).map(|n| (n, v)))
            .collect();
    }
}

/// CopyMessages' flags (MAPI_DECLINE_OK is MAPI's own; we delegate nothing to decline).
const COPY_MESSAGES_FLAGS: u32 = MESSAGE_MOVE | MESSAGE_DIALOG | MAPI_DECLINE_OK;
const COPY_FOLDER_FLAGS: u32 =
    FOLDER_MOVE | FOLDER_DIALOG | MAPI_DECLINE_OK | COPY_SUBFOLDERS | MAPI_UNICODE;

fn other_store(method: &str) -> MapiError {
    MapiError::new(
        MAPI_E_NO_SUPPORT,
        format!(
            "{method}: the destination folder is not a folder of this store (copy across stores \
         with CopyTo)"
        ),
    )
}

fn dest_gone(method: &str) -> MapiError {
    MapiError::new(
        MAPI_E_NOT_FOUND,
        format!("{method}: the destination folder no longer exists"),
    )
}

/// Locks a folder the call writes under; an error if it is gone.
fn lock_folder(t: &mut dyn WriteTxn, id: u64, gone: impl Fn() -> MapiError) -> MapiResult<()> {
    match t.lock_object(id)? {
        Some(row) if row.kind == KIND_FOLDER => Ok(()),
        _ => Err(gone()),
    }
}

impl Folder {
    /// CopyMessages: the messages of this folder that `entries` name, copied (or with
    /// MESSAGE_MOVE moved) into `dest`. An entry that names no message of this folder is
    /// skipped and the call returns MAPI_W_PARTIAL_COMPLETION (Ok(false)), as DeleteMessages
    /// does; a malformed entry ID, or another store's, fails the call before anything is done.
    pub fn copy_messages(
        &self,
        entries: &[Vec<u8>],
        dest: &Folder,
        flags: u32,
    ) -> MapiResult<bool> {
        const METHOD: &str = "CopyMessages";
        check_flags(METHOD, flags, COPY_MESSAGES_FLAGS)?;
        let moving = flags & MESSAGE_MOVE != 0;
        if !self.store().same_store(dest.store()) {
            return Err(other_store(METHOD));
        }
        dest.require_writable(METHOD)?;
        if moving {
            self.require_writable(METHOD)?;
        }
        let guid = *self.store().guid();
        let mut refs = Vec::with_capacity(entries.len());
        for e in entries {
            refs.push(parse_entry_id(&guid, e)?);
        }
        let now = filetime_now();
        self.store().storage().write(|t| {
            lock_folder(t, dest.id(), || dest_gone(METHOD))?;
            lock_folder(t, self.id(), deleted_folder)?;
            let mut all = true;
            for EntryRef { kind, id } in &refs {
                // Each message is locked before it is read or moved.
                let here = match t.lock_object(*id)? {
                    Some(row) => {
                        *kind == MAPI_MESSAGE
                            && row.kind == KIND_MESSAGE
                            && row.parent == Some(self.id())
                    }
                    None => false,
                };
                if !here {
                    all = false;
                } else if moving {
                    if dest.id() != self.id() {
                        t.set_parent(*id, dest.id())?;
                        // notify: moved (message `id` from `self.id()` to `dest.id()`)
                    }
                } else {
                    copy_stored(t, &guid, *id, dest.id(), now)?;
                    // notify: copied (message `id` to the new message in `dest.id()`)
                }
            }
            Ok::<_, MapiError>(all)
        })
    }

    /// CopyFolder: the subfolder of this folder that `entry` names, copied (with its messages,
    /// and with COPY_SUBFOLDERS its subtree) or with FOLDER_MOVE moved under `dest`, named
    /// `new_name` there if given. MAPI_E_FOLDER_CYCLE if `dest` is the folder or lies below it;
    /// MAPI_E_COLLISION if `dest` has another subfolder of that name (case-insensitive).
    pub fn copy_folder(
        &self,
        entry: &[u8],
        dest: &Folder,
        new_name: Option<&str>,
        flags: u32,
    ) -> MapiResult<()> {
        const METHOD: &str = "CopyFolder";
        check_flags(METHOD, flags, COPY_FOLDER_FLAGS)?;
        let moving = flags & FOLDER_MOVE != 0;
        if !self.store().same_store(dest.store()) {
            return Err(other_store(METHOD));
        }
        if new_name == Some("") {
            return Err(MapiError::invalid("CopyFolder: lpszNewFolderName is empty"));
        }
        dest.require_writable(METHOD)?;
        if moving {
            self.require_writable(METHOD)?;
        }
        let guid = *self.store().guid();
        let target = parse_entry_id(&guid, entry)?;
        if target.kind != MAPI_FOLDER {
            return Err(MapiError::new(
                MAPI_E_INVALID_ENTRYID,
                "CopyFolder: the entry ID does not name a folder",
            ));
        }
        let now = filetime_now();
        self.store().storage().write(|t| {
            // CopyFolder calls are serialised by the store object's lock: two moves whose
            // folders share no lock (A under D, C under B, with B below A and D below C) could
            // each pass its cycle check and make a cycle together on an engine whose writers
            // run concurrently, and a move landing in a subtree being copied could bring the
            // copy into the walk.
            t.lock_object(STORE_OBJECT_ID)?;
            lock_folder(t, dest.id(), || dest_gone(METHOD))?;
            lock_folder(t, self.id(), deleted_folder)?;
            match t.lock_object(target.id)? {
                Some(row) if row.kind == KIND_FOLDER && row.parent == Some(self.id()) => {}
                _ => {
                    return Err(MapiError::new(
                        MAPI_E_NOT_FOUND,
                        "CopyFolder: the entry ID names no subfolder of this folder",
                    ))
                }
            }
            check_no_cycle(t, target.id, dest.id())?;
            let name = match new_name {
                Some(n) => Some(n.to_owned()),
                None => folder_name(&load_props(t, target.id)?),
            };
            if let Some(name) = &name {
                // Moved to where it is, a folder meets its own name; a copy would be a second.
                match child_folder_named(t, dest.id(), name)? {
                    Some(other) if !(moving && other == target.id) => {
                        return Err(MapiError::new(
                            MAPI_E_COLLISION,
                            format!("CopyFolder: a folder named \"{name}\" already exists there"),
                        ))
                    }
                    _ => {}
                }
            }
            let renamed = new_name.map(|n| (PR_DISPLAY_NAME_W, PropValue::Unicode(n.into())));
            if moving {
                t.set_parent(target.id, dest.id())?;
                if let Some(r) = renamed {
                    t.put_props(target.id, &[r])?;
                }
                // notify: moved (folder `target.id` from `self.id()` to `dest.id()`)
            } else {
                let subfolders = flags & COPY_SUBFOLDERS != 0;
                copy_tree(t, &guid, target.id, dest.id(), renamed, subfolders, now)?;
                // notify: copied (folder `target.id` to its copy under `dest.id()`)
            }
            Ok::<_, MapiError>(())
        })
    }
}

/// MAPI_E_FOLDER_CYCLE if `dest` is `folder` or below it: the walk up from `dest` meets it. A
/// folder met twice on the way up is a damaged tree (MAPI_E_CORRUPT_STORE, nothing written).
fn check_no_cycle(t: &mut dyn WriteTxn, folder: u64, dest: u64) -> MapiResult<()> {
    let mut seen = BTreeSet::new();
    let mut at = Some(dest);
    while let Some(f) = at {
        if f == folder {
            return Err(MapiError::new(
                MAPI_E_FOLDER_CYCLE,
                "CopyFolder: the destination is the folder itself or one of its subfolders",
            ));
        }
        if !seen.insert(f) {
            return Err(MapiError::new(
                MAPI_E_CORRUPT_STORE,
                format!("CopyFolder: the folder tree is damaged (folder {f} is met twice)"),
            ));
        }
        at = t.object(f)?.and_then(|r| r.parent);
    }
    Ok(())
}

/// Copies `folder` (its properties, `renamed` over its name, and its messages) as a new folder
/// under `dest`, and with `subfolders` its subtree the same way. Walked without recursion; the
/// copies are made outside the subtree (no cycle), and a folder met twice is damage.
fn copy_tree(
    t: &mut dyn WriteTxn,
    guid: &[u8; 16],
    folder: u64,
    dest: u64,
    renamed: Option<(u32, PropValue)>,
    subfolders: bool,
    now: u64,
) -> MapiResult<()> {
    let mut seen = BTreeSet::new();
    let mut made = BTreeSet::new();
    let mut pending = vec![(folder, dest, renamed)];
    while let Some((from, under, renamed)) = pending.pop() {
        if !seen.insert(from) {
            return Err(MapiError::new(
                MAPI_E_CORRUPT_STORE,
                format!("CopyFolder: the folder tree is damaged (folder {from} is met twice)"),
            ));
        }
        t.lock_object(from)?;
        let cn = t.alloc_cn()?;
        let copy = t.insert_object(KIND_FOLDER, under, cn, 0)?;
        made.insert(copy);
        let mut props: Vec<_> = t.props(from)?;
        if let Some((tag, value)) = renamed {
            props.retain(|(p, _)| prop_id(*p) != prop_id(tag));
            props.push((tag, value));
        }
        t.put_props(copy, &props)?;
        for msg in t.children(from, KIND_MESSAGE)? {
            copy_stored(t, guid, msg.id, copy, now)?;
        }
        if subfolders {
            // A copy is never copied again (it is outside the subtree unless the tree changed
            // under the walk, which the store object's lock rules out).
            for sub in t.children(from, KIND_FOLDER)? {
                if !made.contains(&sub.id) {
                    pending.push((sub.id, copy, None));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::props::{PropInput, PropObject, PropView};
    use super::super::store::{Opened, Store};
    use super::*;
    use crate::storage::memory::MemoryEngine;
    use std::sync::Arc;

    fn store() -> Arc<Store> {
        Store::on_engine(Box::new(MemoryEngine::default()))
    }

    fn root(s: &Arc<Store>) -> Folder {
        let Opened::Folder(f) = s.open_entry(None, MAPI_MODIFY).unwrap() else {
            unreachable!()
        };
        f
    }

    fn subject(m: &dyn PropObject) -> Option<PropValue> {
        let mut out = None;
        m.read(&mut |v: &dyn PropView| out = v.get(prop_id(PR_SUBJECT_W)).map(|c| c.into_owned()))
            .unwrap();
        out
    }

    /// A saved message in `f` with subject `s`; its entry ID.
    fn message(f: &Folder, s: &str) -> Vec<u8> {
        let m = f.create_message(0).unwrap();
        m.set_props(vec![PropInput {
            index: 0,
            tag: PR_SUBJECT_W,
            value: PropValue::Unicode(s.into()),
        }])
        .unwrap();
        m.save_changes(0).unwrap();
        m.entry_id().unwrap()
    }

    fn count(f: &Folder) -> usize {
        f.store()
            .storage()
            .read(|t| t.children(f.id(), KIND_MESSAGE))
            .unwrap()
            .len()
    }

    fn open_message(s: &Arc<Store>, eid: &[u8]) -> MapiResult<Box<super::super::message::Message>> {
        match s.open_entry(Some(eid), MAPI_MODIFY)? {
            Opened::Message(m) => Ok(m),
            Opened::Folder(_) => unreachable!(),
        }
    }

    #[test]
    fn a_move_keeps_the_entry_id_and_the_version_a_copy_is_new() {
        let s = store();
        let r = root(&s);
        let a = r.create_folder(FOLDER_GENERIC, "a", None, 0).unwrap();
        let b = r.create_folder(FOLDER_GENERIC, "b", None, 0).unwrap();
        let one = message(&a, "one");
        let two = message(&a, "two");
        let before = open_message(&s, &one).unwrap().base_cn();
        assert!(a.copy_messages(std::slice::from_ref(&two), &b, 0).unwrap());
        assert_eq!((count(&a), count(&b)), (2, 1));
        assert!(a
            .copy_messages(std::slice::from_ref(&one), &b, MESSAGE_MOVE)
            .unwrap());
        assert_eq!((count(&a), count(&b)), (1, 2));
        let moved = open_message(&s, &one).unwrap();
        assert_eq!(moved.base_cn(), before, "a move is not a new version");
        assert_eq!(subject(&*moved), Some(PropValue::Unicode("one".into())));
        // Already moved: skipped, the rest done, partial completion.
        assert!(!a
            .copy_messages(&[one.clone(), two.clone()], &b, MESSAGE_MOVE)
            .unwrap());
        assert_eq!((count(&a), count(&b)), (0, 3));
    }

    #[test]
    fn an_open_client_of_a_moved_message_saves_under_the_save_rules() {
        let s = store();
        let r = root(&s);
        let a = r.create_folder(FOLDER_GENERIC, "a", None, 0).unwrap();
        let eid = message(&r, "x");
        let first = open_message(&s, &eid).unwrap();
        let second = open_message(&s, &eid).unwrap();
        assert!(r
            .copy_messages(std::slice::from_ref(&eid), &a, MESSAGE_MOVE)
            .unwrap());
        for m in [&first, &second] {
            m.set_props(vec![PropInput {
                index: 0,
                tag: PR_SUBJECT_W,
                value: PropValue::Unicode("y".into()),
            }])
            .unwrap();
        }
        first.save_changes(0).unwrap();
        assert_eq!(
            second.save_changes(0).unwrap_err().code,
            MAPI_E_OBJECT_CHANGED
        );
        assert_eq!(
            (count(&r), count(&a)),
            (0, 1),
            "the save landed in the new folder"
        );
    }

    #[test]
    fn named_properties_are_renumbered_by_name_between_stores_only() {
        let (a, b) = (store(), store());
        let name = |lid| PropName::id([3; 16], lid);
        let in_a = a.ids_from_names(&[name(1), name(2)], true).unwrap();
        let in_b = b.ids_from_names(&[name(2), name(1)], true).unwrap();
        let (a1, a2) = (in_a[0].unwrap(), in_a[1].unwrap());
        let unnamed = a2 + 1;
        let r = named_renumbering(&a, &b, [a1, a2, unnamed, 0x0037]).unwrap();
        assert_eq!(r.id(a1), in_b[1]);
        assert_eq!(r.id(a2), in_b[0]);
        assert_eq!(r.id(unnamed), None, "no name in the source: left out");
        assert_eq!(r.id(0x0037), Some(0x0037), "not a named property");
        assert!(named_renumbering(&a, &a, [a1]).unwrap().is_empty());
        let mut props = PropMap::new();
        props.insert(a1, PropValue::Long(1));
        props.insert(unnamed, PropValue::Long(2));
        r.map(&mut props);
        assert_eq!(
            props.into_iter().collect::<Vec<_>>(),
            vec![(in_b[1].unwrap(), PropValue::Long(1))]
        );
    }

    #[test]
    fn read_only_handles_and_a_deleted_destination_refuse_and_do_nothing() {
        let s = store();
        let r = root(&s);
        let a = r.create_folder(FOLDER_GENERIC, "a", None, 0).unwrap();
        let b = r.create_folder(FOLDER_GENERIC, "b", None, 0).unwrap();
        let eid = message(&a, "m");
        let a_eid = s.entry_id(MAPI_FOLDER, a.id());
        let a_read_only = Folder::open(s.clone(), a.id(), false).unwrap();
        let b_read_only = Folder::open(s.clone(), b.id(), false).unwrap();
        let refused = |r: MapiResult<bool>| r.unwrap_err().code;
        // A copy may come out of a read-only folder, never into one; a move needs both.
        assert!(a_read_only
            .copy_messages(std::slice::from_ref(&eid), &b, 0)
            .unwrap());
        assert_eq!(
            refused(a.copy_messages(std::slice::from_ref(&eid), &b_read_only, 0)),
            MAPI_E_NO_ACCESS
        );
        assert_eq!(
            refused(a_read_only.copy_messages(std::slice::from_ref(&eid), &b, MESSAGE_MOVE)),
            MAPI_E_NO_ACCESS
        );
        let r_read_only = Folder::open(s.clone(), r.id(), false).unwrap();
        assert_eq!(
            r_read_only
                .copy_folder(&a_eid, &b, None, FOLDER_MOVE)
                .unwrap_err()
                .code,
            MAPI_E_NO_ACCESS
        );
        // The destination deleted meanwhile: the whole call fails, nothing moved.
        let b_eid = s.entry_id(MAPI_FOLDER, b.id());
        r.delete_folder(&b_eid, DEL_MESSAGES).unwrap();
        assert_eq!(
            refused(a.copy_messages(std::slice::from_ref(&eid), &b, MESSAGE_MOVE)),
            MAPI_E_NOT_FOUND
        );
        assert_eq!(count(&a), 1);
        assert_eq!(
            r.copy_folder(&a_eid, &b, None, 0).unwrap_err().code,
            MAPI_E_NOT_FOUND
        );
    }

    #[test]
    fn copy_folder_copies_the_subtree_and_move_refuses_cycles_and_collisions() {
        let s = store();
        let r = root(&s);
        let a = r.create_folder(FOLDER_GENERIC, "a", None, 0).unwrap();
        let sub = a.create_folder(FOLDER_GENERIC, "sub", None, 0).unwrap();
        message(&a, "m");
        message(&sub, "n");
        let a_eid = s.entry_id(MAPI_FOLDER, a.id());
        let sub_eid = s.entry_id(MAPI_FOLDER, sub.id());
        // Into itself or below it.
        for dest in [&a, &sub] {
            let e = r.copy_folder(&a_eid, dest, None, FOLDER_MOVE).unwrap_err();
            assert_eq!(e.code, MAPI_E_FOLDER_CYCLE);
        }
        // A copy beside it needs another name.
        let e = r
            .copy_folder(&a_eid, &r, None, COPY_SUBFOLDERS)
            .unwrap_err();
        assert_eq!(e.code, MAPI_E_COLLISION);
        r.copy_folder(&a_eid, &r, Some("a2"), COPY_SUBFOLDERS)
            .unwrap();
        let a2 = Folder::open(s.clone(), r.find_child("a2").unwrap().unwrap(), true).unwrap();
        assert_eq!(count(&a2), 1);
        let sub2 = a2
            .find_child("sub")
            .unwrap()
            .expect("the subtree came along");
        assert_ne!(sub2, sub.id());
        assert_eq!(count(&Folder::open(s.clone(), sub2, true).unwrap()), 1);
        // Without COPY_SUBFOLDERS only the folder and its messages.
        r.copy_folder(&a_eid, &r, Some("a3"), 0).unwrap();
        let a3 = Folder::open(s.clone(), r.find_child("a3").unwrap().unwrap(), true).unwrap();
        assert_eq!(a3.find_child("sub").unwrap(), None);
        // A move keeps IDs; a renamed move is found by its new name.
        a.copy_folder(&sub_eid, &r, Some("moved"), FOLDER_MOVE)
            .unwrap();
        assert_eq!(r.find_child("moved").unwrap(), Some(sub.id()));
        assert_eq!(a.find_child("sub").unwrap(), None);
        // Not a subfolder of the source (any more).
        let e = a.copy_folder(&sub_eid, &r, None, FOLDER_MOVE).unwrap_err();
        assert_eq!(e.code, MAPI_E_NOT_FOUND);
        assert_eq!(
            r.copy_folder(&a_eid, &r, None, 0x100).unwrap_err().code,
            MAPI_E_UNKNOWN_FLAGS
        );
    }
}
