//! The save rules of DESIGN.md §4–§5 driven end to end through the engine trait, on the
//! in-memory engine (`storage/memory.rs`): no engine on disk, no C. Each test is a row of §4's
//! table or an outcome of §5; `save.rs` tests the plans and decisions one by one.

use super::super::error::MapiResult;
use super::super::mapidefs::*;
use super::super::props::{PropInput, PropObject, PropView};
use super::super::resolve::{Conflict, ConflictResolver, Decision};
use super::super::store::{Opened, Store};
use super::super::value::PropValue;
use super::Message;
use crate::storage::memory::MemoryEngine;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

const COUNT: u32 = 0x6701_0003;
const NOTE: u32 = 0x6702_001F;

fn store() -> Arc<Store> {
    Store::on_engine(Box::new(MemoryEngine::default()))
}

fn set(m: &Message, tag: u32, v: PropValue) {
    assert!(m
        .set_props(vec![PropInput {
            index: 0,
            tag,
            value: v
        }])
        .unwrap()
        .is_empty());
}

fn get(m: &Message, tag: u32) -> Option<PropValue> {
    let mut out = None;
    m.read(&mut |v: &dyn PropView| out = v.get((tag >> 16) as u16).map(|c| c.into_owned()))
        .unwrap();
    out
}

fn open(store: &Arc<Store>, eid: &[u8], flags: u32) -> Box<Message> {
    match store.open_entry(Some(eid), flags).unwrap() {
        Opened::Message(m) => m,
        Opened::Folder(_) => unreachable!(),
    }
}

/// A saved message with COUNT = 0.
fn saved(store: &Arc<Store>) -> Vec<u8> {
    let Opened::Folder(root) = store.open_entry(None, MAPI_MODIFY).unwrap() else {
        unreachable!()
    };
    let m = root.create_message(0).unwrap();
    set(&m, COUNT, PropValue::Long(0));
    m.save_changes(0).unwrap();
    m.entry_id().unwrap()
}

#[test]
fn stale_save_writes_nothing_keeps_the_object_writable_and_force_replaces() {
    let s = store();
    let eid = saved(&s);
    let a = open(&s, &eid, MAPI_MODIFY);
    let b = open(&s, &eid, MAPI_MODIFY);
    set(&a, COUNT, PropValue::Long(1));
    a.save_changes(KEEP_OPEN_READWRITE).unwrap();
    set(&b, NOTE, PropValue::Unicode("b".into()));
    let before = open(&s, &eid, 0).base_cn();
    assert_eq!(b.save_changes(0).unwrap_err().code, MAPI_E_OBJECT_CHANGED);
    let stored = open(&s, &eid, 0);
    assert_eq!(stored.base_cn(), before, "untouched");
    assert_eq!(get(&stored, NOTE), None);
    // Still open, read-write, its changes kept: a forced save replaces the stored version.
    assert_eq!(get(&b, NOTE), Some(PropValue::Unicode("b".into())));
    b.save_changes(FORCE_SAVE).unwrap();
    let stored = open(&s, &eid, 0);
    assert_eq!(
        get(&stored, COUNT),
        Some(PropValue::Long(0)),
        "a's change replaced"
    );
    assert_eq!(get(&stored, NOTE), Some(PropValue::Unicode("b".into())));
    // Without KEEP_OPEN_READWRITE the object is read-only after its save.
    set(&a, NOTE, PropValue::Unicode("a".into()));
    assert_eq!(a.save_changes(FORCE_SAVE).map(|_| ()), Ok(()));
    assert_eq!(a.save_changes(0).unwrap_err().code, MAPI_E_NO_ACCESS);
}

#[test]
fn keep_open_readwrite_rebases_and_a_save_without_changes_writes_nothing() {
    let s = store();
    let eid = saved(&s);
    let a = open(&s, &eid, MAPI_MODIFY);
    set(&a, COUNT, PropValue::Long(1));
    a.save_changes(KEEP_OPEN_READWRITE).unwrap();
    let cn = a.base_cn();
    set(&a, COUNT, PropValue::Long(2));
    a.save_changes(KEEP_OPEN_READWRITE).unwrap();
    assert!(
        a.base_cn() > cn,
        "its next save conflicts only with later saves"
    );
    let cn = a.base_cn();
    a.save_changes(KEEP_OPEN_READWRITE).unwrap();
    assert_eq!(a.base_cn(), cn, "nothing to save: no new change number");
    assert_eq!(open(&s, &eid, 0).base_cn(), cn);
}

#[test]
fn deleted_message_is_object_deleted_with_or_without_force() {
    let s = store();
    let eid = saved(&s);
    let a = open(&s, &eid, MAPI_MODIFY);
    set(&a, COUNT, PropValue::Long(1));
    let Opened::Folder(root) = s.open_entry(None, MAPI_MODIFY).unwrap() else {
        unreachable!()
    };
    assert!(root.delete_messages(std::slice::from_ref(&eid), 0).unwrap());
    for flags in [0, FORCE_SAVE] {
        assert_eq!(
            a.save_changes(flags).unwrap_err().code,
            MAPI_E_OBJECT_DELETED
        );
    }
}

struct Answer(Decision, AtomicUsize);

impl ConflictResolver for Answer {
    fn resolve(&self, _saving: &Message, c: Conflict) -> MapiResult<Decision> {
        self.1.fetch_add(1, Ordering::Relaxed);
        assert_eq!(c.their_changes, vec![COUNT]);
        assert_eq!(c.my_changes, vec![NOTE]);
        assert!(c.stored.is_some());
        Ok(self.0)
    }
}

#[test]
fn every_resolver_decision_end_to_end() {
    for (decision, code, count, note) in [
        (Decision::KeepOriginal, Some(MAPI_E_OBJECT_CHANGED), 5, None),
        (Decision::Overwrite, None, 0, Some("mine")),
        (Decision::Merge, None, 5, Some("mine")),
        (Decision::SaveElsewhere { dest_folder: None }, None, 5, None),
        (Decision::Unknown(77), Some(MAPI_E_OBJECT_CHANGED), 5, None),
    ] {
        let s = store();
        let eid = saved(&s);
        let theirs = open(&s, &eid, MAPI_MODIFY);
        let mine = open(&s, &eid, MAPI_MODIFY);
        set(&theirs, COUNT, PropValue::Long(5));
        theirs.save_changes(0).unwrap();
        set(&mine, NOTE, PropValue::Unicode("mine".into()));
        let r = Arc::new(Answer(decision, AtomicUsize::new(0)));
        s.set_resolver(Some(r.clone()));
        let result = mine.save_changes(KEEP_OPEN_READWRITE);
        assert_eq!(result.err().map(|e| e.code), code, "{decision:?}");
        assert_eq!(r.1.load(Ordering::Relaxed), 1);
        let stored = open(&s, &eid, 0);
        assert_eq!(
            get(&stored, COUNT),
            Some(PropValue::Long(count)),
            "{decision:?}"
        );
        assert_eq!(
            get(&stored, NOTE),
            note.map(|n| PropValue::Unicode(n.into())),
            "{decision:?}"
        );
        if matches!(decision, Decision::SaveElsewhere { .. }) {
            let copy = mine.entry_id().unwrap();
            assert_ne!(copy, eid);
            let copy = open(&s, &copy, 0);
            assert_eq!(get(&copy, NOTE), Some(PropValue::Unicode("mine".into())));
            assert_eq!(
                get(&copy, PR_CONFLICT_ITEMS),
                Some(PropValue::MvBinary(vec![eid.clone()]))
            );
        }
    }
}

/// A resolver whose decision meets another save before it is applied is asked again.
#[test]
fn a_decision_applied_to_a_version_that_changed_again_asks_again() {
    struct Racing(Arc<Store>, Vec<u8>, AtomicUsize);
    impl ConflictResolver for Racing {
        fn resolve(&self, _saving: &Message, _c: Conflict) -> MapiResult<Decision> {
            if self.2.fetch_add(1, Ordering::Relaxed) == 0 {
                let other = open(&self.0, &self.1, MAPI_MODIFY);
                set(&other, COUNT, PropValue::Long(9));
                other.save_changes(0).unwrap();
            }
            Ok(Decision::Merge)
        }
    }
    let s = store();
    let eid = saved(&s);
    let theirs = open(&s, &eid, MAPI_MODIFY);
    let mine = open(&s, &eid, MAPI_MODIFY);
    set(&theirs, COUNT, PropValue::Long(5));
    theirs.save_changes(0).unwrap();
    set(&mine, NOTE, PropValue::Unicode("mine".into()));
    let r = Arc::new(Racing(s.clone(), eid.clone(), AtomicUsize::new(0)));
    s.set_resolver(Some(r.clone()));
    mine.save_changes(0).unwrap();
    s.set_resolver(None);
    assert_eq!(r.2.load(Ordering::Relaxed), 2);
    let stored = open(&s, &eid, 0);
    assert_eq!(
        get(&stored, COUNT),
        Some(PropValue::Long(9)),
        "the newest version merged"
    );
    assert_eq!(get(&stored, NOTE), Some(PropValue::Unicode("mine".into())));
}

// ---- attachments and recipients: part of the message's transaction (reference §11.3) ----

use super::super::props::PropMap;
use super::AttachHost;

const DATA: u32 = PR_ATTACH_DATA_BIN;

fn input(tag: u32, value: PropValue) -> PropInput {
    PropInput {
        index: 0,
        tag,
        value,
    }
}

/// Adds a saved attachment holding `data` to `m`'s working copy; returns its number.
fn add_attachment(m: &dyn AttachHost, data: &[u8]) -> u32 {
    let (num, a) = m.create_attach(0).unwrap();
    assert!(a
        .set_props(vec![
            input(PR_ATTACH_METHOD, PropValue::Long(ATTACH_BY_VALUE as i32)),
            input(DATA, PropValue::Binary(data.to_vec())),
        ])
        .unwrap()
        .is_empty());
    a.save_changes(0).unwrap();
    num
}

fn add_recipient(m: &dyn AttachHost, name: &str) {
    m.modify_recipients(
        MODRECIP_ADD,
        vec![vec![
            input(PR_DISPLAY_NAME_W, PropValue::Unicode(name.into())),
            input(PR_RECIPIENT_TYPE, PropValue::Long(MAPI_TO as i32)),
        ]],
    )
    .unwrap();
}

fn datas(m: &Message) -> Vec<Vec<u8>> {
    m.attachment_rows()
        .unwrap()
        .iter()
        .map(|r| match r.get(&((DATA >> 16) as u16)) {
            Some(PropValue::Binary(b)) => b.clone(),
            other => panic!("{other:?}"),
        })
        .collect()
}

fn names(m: &Message) -> Vec<String> {
    m.recipient_rows()
        .unwrap()
        .iter()
        .map(
            |r: &PropMap| match r.get(&((PR_DISPLAY_NAME_W >> 16) as u16)) {
                Some(PropValue::Unicode(s)) => s.clone(),
                other => panic!("{other:?}"),
            },
        )
        .collect()
}

#[test]
fn attachments_and_recipients_are_stored_by_the_message_save_only() {
    let s = store();
    let eid = saved(&s);
    let m = open(&s, &eid, MAPI_MODIFY);
    let num = add_attachment(&*m, b"data");
    add_recipient(&*m, "ann");
    assert_eq!(get(&m, PR_HASATTACH), Some(PropValue::Boolean(true)));
    assert!(datas(&open(&s, &eid, 0)).is_empty(), "not stored yet");
    let size_before = get(&open(&s, &eid, 0), PR_MESSAGE_SIZE);
    m.save_changes(KEEP_OPEN_READWRITE).unwrap();
    let stored = open(&s, &eid, 0);
    assert_eq!(datas(&stored), vec![b"data".to_vec()]);
    assert_eq!(names(&stored), vec!["ann".to_string()]);
    assert_eq!(get(&stored, PR_HASATTACH), Some(PropValue::Boolean(true)));
    let (Some(PropValue::Long(a)), Some(PropValue::Long(b))) =
        (size_before, get(&stored, PR_MESSAGE_SIZE))
    else {
        panic!()
    };
    assert!(b > a + 4, "PR_MESSAGE_SIZE counts the attachment");
    // Deleting the attachment and saving again removes it from the store.
    m.delete_attach(num, 0).unwrap();
    assert_eq!(
        m.open_attach(num, 0).err().map(|e| e.code),
        Some(MAPI_E_NOT_FOUND)
    );
    m.save_changes(0).unwrap();
    let stored = open(&s, &eid, 0);
    assert!(datas(&stored).is_empty());
    assert_eq!(get(&stored, PR_HASATTACH), Some(PropValue::Boolean(false)));
}

/// Another client saved first: a plain save stores none of this client's attachment and
/// recipient changes, FORCE_SAVE stores all of them (and no longer the other client's).
/// A saved message to which "theirs" added an attachment (saved) and "mine", opened before, an
/// attachment and a recipient (not saved yet): mine is stale.
fn child_conflict() -> (Arc<Store>, Vec<u8>, Box<Message>) {
    let s = store();
    let eid = saved(&s);
    let theirs = open(&s, &eid, MAPI_MODIFY);
    let mine = open(&s, &eid, MAPI_MODIFY);
    add_attachment(&*theirs, b"theirs");
    theirs.save_changes(0).unwrap();
    add_attachment(&*mine, b"mine");
    add_recipient(&*mine, "bob");
    (s, eid, mine)
}

#[test]
fn a_conflict_loses_child_changes_and_force_save_keeps_them() {
    let (s, eid, mine) = child_conflict();
    let cn = open(&s, &eid, 0).base_cn();
    assert_eq!(
        mine.save_changes(KEEP_OPEN_READWRITE).unwrap_err().code,
        MAPI_E_OBJECT_CHANGED
    );
    let stored = open(&s, &eid, 0);
    assert_eq!(stored.base_cn(), cn, "nothing written");
    assert_eq!(datas(&stored), vec![b"theirs".to_vec()]);
    assert!(names(&stored).is_empty());
    // Kept in the working copy, and stored by FORCE_SAVE.
    assert_eq!(datas(&mine), vec![b"mine".to_vec()]);
    mine.save_changes(FORCE_SAVE | KEEP_OPEN_READWRITE).unwrap();
    let stored = open(&s, &eid, 0);
    assert_eq!(datas(&stored), vec![b"mine".to_vec()]);
    assert_eq!(names(&stored), vec!["bob".to_string()]);
    // The working copy is the stored version now: a further save conflicts with nobody.
    add_recipient(&*mine, "cy");
    mine.save_changes(0).unwrap();
    assert_eq!(names(&open(&s, &eid, 0)), vec!["bob", "cy"]);
}

#[test]
fn the_resolvers_merge_and_save_elsewhere_keep_child_changes() {
    struct Decide(Decision);
    impl ConflictResolver for Decide {
        fn resolve(&self, _saving: &Message, c: Conflict) -> MapiResult<Decision> {
            assert_eq!(c.their_changes, vec![PR_MESSAGE_ATTACHMENTS]);
            assert_eq!(
                c.my_changes,
                vec![PR_MESSAGE_RECIPIENTS, PR_MESSAGE_ATTACHMENTS]
            );
            Ok(self.0)
        }
    }
    for decision in [
        Decision::Merge,
        Decision::SaveElsewhere { dest_folder: None },
    ] {
        let (s, eid, mine) = child_conflict();
        s.set_resolver(Some(Arc::new(Decide(decision))));
        mine.save_changes(KEEP_OPEN_READWRITE).unwrap();
        s.set_resolver(None);
        let original = open(&s, &eid, 0);
        if decision == Decision::Merge {
            // Both attachments took number 0: mine was renumbered past theirs.
            assert_eq!(datas(&original), vec![b"theirs".to_vec(), b"mine".to_vec()]);
            assert_eq!(names(&original), vec!["bob".to_string()]);
        } else {
            assert_eq!(datas(&original), vec![b"theirs".to_vec()]);
            assert!(names(&original).is_empty());
            let copy = open(&s, &mine.entry_id().unwrap(), 0);
            assert_eq!(datas(&copy), vec![b"mine".to_vec()]);
            assert_eq!(names(&copy), vec!["bob".to_string()]);
        }
    }
}

#[test]
fn a_new_message_stores_its_children_with_its_first_save() {
    let s = store();
    let Opened::Folder(root) = s.open_entry(None, MAPI_MODIFY).unwrap() else {
        unreachable!()
    };
    let m = root.create_message(0).unwrap();
    add_attachment(&m, b"new");
    add_recipient(&m, "ann");
    m.save_changes(KEEP_OPEN_READWRITE).unwrap();
    let stored = open(&s, &m.entry_id().unwrap(), 0);
    assert_eq!(datas(&stored), vec![b"new".to_vec()]);
    assert_eq!(names(&stored), vec!["ann".to_string()]);
    // The next save writes only what changed since (nothing: no new change number).
    let cn = m.base_cn();
    m.save_changes(KEEP_OPEN_READWRITE).unwrap();
    assert_eq!(m.base_cn(), cn);
}

/// An IAttach the client holds across its message's saves keeps writing to its attachment,
/// also after a MERGE moved it to another number (another client's attachment took its own).
#[test]
fn an_open_attachment_follows_its_attachment_across_saves_and_merges() {
    struct Merge;
    impl ConflictResolver for Merge {
        fn resolve(&self, _saving: &Message, _c: Conflict) -> MapiResult<Decision> {
            Ok(Decision::Merge)
        }
    }
    let (s, eid, mine) = child_conflict();
    let a = mine.open_attach(0, MAPI_MODIFY).unwrap();
    s.set_resolver(Some(Arc::new(Merge)));
    mine.save_changes(KEEP_OPEN_READWRITE).unwrap();
    s.set_resolver(None);
    assert_eq!(
        a.num(),
        0,
        "not saved since: it learns its number at its save"
    );
    a.set_props(vec![input(DATA, PropValue::Binary(b"mine again".to_vec()))])
        .unwrap();
    a.save_changes(KEEP_OPEN_READWRITE).unwrap();
    assert_eq!(a.num(), 1, "mine was renumbered past theirs");
    mine.save_changes(KEEP_OPEN_READWRITE).unwrap();
    assert_eq!(
        datas(&open(&s, &eid, 0)),
        vec![b"theirs".to_vec(), b"mine again".to_vec()]
    );
    // And across a plain save too.
    a.set_props(vec![input(DATA, PropValue::Binary(b"third".to_vec()))])
        .unwrap();
    a.save_changes(0).unwrap();
    mine.save_changes(0).unwrap();
    assert_eq!(
        datas(&open(&s, &eid, 0)),
        vec![b"theirs".to_vec(), b"third".to_vec()]
    );
}

#[test]
fn recipients_are_added_modified_and_removed_by_rowid() {
    let s = store();
    let eid = saved(&s);
    let m = open(&s, &eid, MAPI_MODIFY);
    add_recipient(&*m, "ann");
    add_recipient(&*m, "bob");
    let rowid = |n: i32| input(PR_ROWID, PropValue::Long(n));
    let name = |n: &str| input(PR_DISPLAY_NAME_W, PropValue::Unicode(n.into()));
    m.modify_recipients(MODRECIP_MODIFY, vec![vec![rowid(1), name("bea")]])
        .unwrap();
    assert_eq!(names(&m), vec!["ann", "bea"]);
    // All or nothing: an unknown row ID fails the call and changes nothing.
    let e = m
        .modify_recipients(MODRECIP_REMOVE, vec![vec![rowid(0)], vec![rowid(9)]])
        .unwrap_err();
    assert_eq!(e.code, MAPI_E_NOT_FOUND);
    assert_eq!(names(&m), vec!["ann", "bea"]);
    assert_eq!(
        m.modify_recipients(MODRECIP_REMOVE, vec![vec![name("x")]])
            .unwrap_err()
            .code,
        MAPI_E_INVALID_PARAMETER
    );
    assert_eq!(
        m.modify_recipients(MODRECIP_ADD | MODRECIP_REMOVE, vec![])
            .unwrap_err()
            .code,
        MAPI_E_INVALID_PARAMETER
    );
    assert_eq!(
        m.modify_recipients(1, vec![]).unwrap_err().code,
        MAPI_E_UNKNOWN_FLAGS
    );
    m.modify_recipients(MODRECIP_REMOVE, vec![vec![rowid(0)]])
        .unwrap();
    m.save_changes(KEEP_OPEN_READWRITE).unwrap();
    assert_eq!(names(&open(&s, &eid, 0)), vec!["bea"]);
    // A removed row ID is not given again while the message is open.
    add_recipient(&*m, "cy");
    let rows = m.recipient_rows().unwrap();
    assert_eq!(
        rows[1].get(&((PR_ROWID >> 16) as u16)),
        Some(&PropValue::Long(2))
    );
    // 0 replaces the whole list.
    m.modify_recipients(0, vec![vec![name("dee")]]).unwrap();
    m.save_changes(0).unwrap();
    assert_eq!(names(&open(&s, &eid, 0)), vec!["dee"]);
}

#[test]
fn embedded_messages_nest_and_commit_through_their_attachments() {
    let s = store();
    let eid = saved(&s);
    let m = open(&s, &eid, MAPI_MODIFY);
    // m ⊃ attachment ⊃ embedded message e1 ⊃ attachment ⊃ embedded message e2.
    let (_, a1) = m.create_attach(0).unwrap();
    let e1 = a1.open_embedded(MAPI_CREATE | MAPI_MODIFY).unwrap();
    e1.set_props(vec![input(NOTE, PropValue::Unicode("one".into()))])
        .unwrap();
    add_recipient(&e1, "inner");
    let (_, a2) = e1.create_attach(0).unwrap();
    let e2 = a2.open_embedded(MAPI_CREATE | MAPI_MODIFY).unwrap();
    e2.set_props(vec![input(NOTE, PropValue::Unicode("two".into()))])
        .unwrap();
    e2.save_changes(0).unwrap();
    a2.save_changes(0).unwrap();
    e1.save_changes(0).unwrap();
    a1.save_changes(0).unwrap();
    m.save_changes(0).unwrap();
    let stored = open(&s, &eid, 0);
    let a1 = stored.open_attach(0, 0).unwrap();
    let e1 = a1.open_embedded(0).unwrap();
    let note = |o: &dyn PropObject| {
        let mut out = None;
        o.read(&mut |v: &dyn PropView| out = v.get((NOTE >> 16) as u16).map(|c| c.into_owned()))
            .unwrap();
        out
    };
    assert_eq!(note(&e1), Some(PropValue::Unicode("one".into())));
    assert_eq!(e1.recipient_rows().unwrap().len(), 1);
    let e2 = e1.open_attach(0, 0).unwrap().open_embedded(0).unwrap();
    assert_eq!(note(&e2), Some(PropValue::Unicode("two".into())));
    // Deleting the message deletes its whole tree (nothing of it can be reached or stays).
    let Opened::Folder(root) = s.open_entry(None, MAPI_MODIFY).unwrap() else {
        unreachable!()
    };
    assert!(root.delete_messages(std::slice::from_ref(&eid), 0).unwrap());
}

#[test]
fn a_child_of_a_released_parent_or_a_deleted_attachment_cannot_save() {
    let s = store();
    let eid = saved(&s);
    let m = open(&s, &eid, MAPI_MODIFY);
    let num = add_attachment(&*m, b"x");
    let a = m.open_attach(num, MAPI_MODIFY).unwrap();
    m.delete_attach(num, 0).unwrap();
    assert_eq!(a.save_changes(0).unwrap_err().code, MAPI_E_OBJECT_DELETED);
    let (_, b) = m.create_attach(0).unwrap();
    let e = b.open_embedded(MAPI_CREATE).unwrap();
    drop(m);
    assert_eq!(b.save_changes(0).unwrap_err().code, MAPI_E_INVALID_OBJECT);
    drop(b);
    assert_eq!(e.save_changes(0).unwrap_err().code, MAPI_E_INVALID_OBJECT);
    // A read-only message hands out read-only attachments.
    let ro = open(&s, &eid, 0);
    assert_eq!(
        ro.create_attach(0).err().map(|e| e.code),
        Some(MAPI_E_NO_ACCESS)
    );
    assert_eq!(
        ro.open_attach(0, MAPI_MODIFY).err().map(|e| e.code),
        Some(MAPI_E_NO_ACCESS)
    );
}

// ---- attachment and recipient tables (tables.rs) -----------------------------------------

use super::super::table::restriction::{Relop, Restriction};
use super::super::table::view::{Origin, TableView};
use super::super::table::{Cell, SortKey};
use super::{stored_children_match, ChildKind};

/// The rows a view returns from its start, `tag`'s cell of each.
fn column(v: &mut TableView, tag: u32) -> Vec<Cell> {
    v.seek_row(Origin::Beginning, 0).unwrap();
    let mut out = Vec::new();
    loop {
        let rows = v.query_rows(10, false).unwrap();
        if rows.is_empty() {
            return out;
        }
        for r in rows {
            let (_, c) = r
                .props
                .into_iter()
                .find(|(t, _)| *t >> 16 == tag >> 16)
                .unwrap();
            out.push(c);
        }
    }
}

fn longs(cells: Vec<Cell>) -> Vec<i32> {
    cells
        .into_iter()
        .map(|c| match c {
            Cell::Value(PropValue::Long(n)) => n,
            other => panic!("{other:?}"),
        })
        .collect()
}

fn texts(cells: Vec<Cell>) -> Vec<String> {
    cells
        .into_iter()
        .map(|c| match c {
            Cell::Value(PropValue::Unicode(s)) => s,
            Cell::Value(PropValue::String8(b)) => String::from_utf8(b).unwrap(),
            other => panic!("{other:?}"),
        })
        .collect()
}

fn set_attach(m: &dyn AttachHost, num: u32, tag: u32, v: PropValue) {
    let a = m.open_attach(num, MAPI_MODIFY).unwrap();
    assert!(a.set_props(vec![input(tag, v)]).unwrap().is_empty());
    a.save_changes(0).unwrap();
}

#[test]
fn an_attachment_table_lists_the_working_copy_in_rendering_position_order() {
    let s = store();
    let eid = saved(&s);
    let m = open(&s, &eid, MAPI_MODIFY);
    let mut v = m.child_table(ChildKind::Attachments, MAPI_UNICODE).unwrap();
    assert_eq!(v.row_count().unwrap(), 0);
    let a0 = add_attachment(&*m, b"zero");
    let a1 = add_attachment(&*m, b"one");
    // Created but not saved into the message: not listed (reference §11.3).
    let (_, unsaved) = m.create_attach(0).unwrap();
    assert_eq!(v.row_count().unwrap(), 2, "the open view sees the new rows");
    assert_eq!(longs(column(&mut v, PR_ATTACH_NUM)), [a0 as i32, a1 as i32]);
    // Unsorted: PR_RENDERING_POSITION (signed; -1, the default, first), then PR_ATTACH_NUM.
    set_attach(&*m, a0, PR_RENDERING_POSITION, PropValue::Long(5));
    assert_eq!(longs(column(&mut v, PR_ATTACH_NUM)), [a1 as i32, a0 as i32]);
    unsaved.save_changes(0).unwrap();
    assert_eq!(longs(column(&mut v, PR_ATTACH_NUM)), [1, 2, 0]);
    assert_eq!(
        v.query_columns(false).unwrap()[..4],
        [
            PR_ATTACH_NUM,
            PR_INSTANCE_KEY,
            PR_RECORD_KEY,
            PR_RENDERING_POSITION
        ]
    );
    assert!(v
        .query_columns(false)
        .unwrap()
        .contains(&PR_ATTACH_LONG_FILENAME_W));
    // Sort, restrict, and the cursor kept on its row when another row goes.
    v.sort_table(vec![SortKey {
        tag: PR_ATTACH_NUM,
        descending: true,
    }])
    .unwrap();
    assert_eq!(longs(column(&mut v, PR_ATTACH_NUM)), [2, 1, 0]);
    v.restrict(Some(Restriction::Exist { tag: DATA })).unwrap();
    assert_eq!(longs(column(&mut v, PR_ATTACH_NUM)), [1, 0]);
    v.seek_row(Origin::Beginning, 1).unwrap();
    m.delete_attach(1, 0).unwrap();
    let rows = v.query_rows(5, false).unwrap();
    assert_eq!(
        rows.len(),
        1,
        "the cursor stayed on attachment 0, now the first row"
    );
    assert_eq!(rows[0].props[0].1, Cell::Value(PropValue::Long(0)));
    // PR_ATTACH_SIZE as IAttach computes it; PR_OBJECT_TYPE.
    v.restrict(None).unwrap();
    v.set_columns(vec![PR_ATTACH_SIZE, PR_OBJECT_TYPE]).unwrap();
    let rows = v.query_rows(1, false).unwrap();
    assert_eq!(
        rows[0].props[1].1,
        Cell::Value(PropValue::Long(MAPI_ATTACH as i32))
    );
    // Sub-restrictions are refused: attachments are not messages.
    let sub = Restriction::Sub {
        object: PR_MESSAGE_RECIPIENTS,
        restriction: Box::new(Restriction::Exist { tag: DATA }),
    };
    assert_eq!(v.restrict(Some(sub)).unwrap_err().code, MAPI_E_TOO_COMPLEX);
    assert_eq!(
        m.child_table(ChildKind::Attachments, MAPI_MODIFY)
            .err()
            .map(|e| e.code),
        Some(MAPI_E_UNKNOWN_FLAGS)
    );
}

#[test]
fn keys_survive_saves_and_record_keys_survive_reopening() {
    let s = store();
    let eid = saved(&s);
    let m = open(&s, &eid, MAPI_MODIFY);
    add_attachment(&*m, b"zero");
    let keys = |m: &Message| {
        let mut v = m.child_table(ChildKind::Attachments, 0).unwrap();
        (
            column(&mut v, PR_INSTANCE_KEY),
            column(&mut v, PR_RECORD_KEY),
        )
    };
    let (instance, provisional) = keys(&m);
    m.save_changes(KEEP_OPEN_READWRITE).unwrap();
    let (instance_after, record) = keys(&m);
    assert_eq!(
        instance, instance_after,
        "PR_INSTANCE_KEY is kept by the save"
    );
    assert_ne!(
        provisional, record,
        "the stored attachment has its stored key"
    );
    let reopened = open(&s, &eid, 0);
    assert_eq!(
        keys(&reopened).1,
        record,
        "PR_RECORD_KEY survives reopening"
    );
}

#[test]
fn a_recipient_table_follows_modify_recipients_in_rowid_order() {
    let s = store();
    let eid = saved(&s);
    let m = open(&s, &eid, MAPI_MODIFY);
    for n in ["cy", "ann", "bob"] {
        add_recipient(&*m, n);
    }
    let mut narrow = m.child_table(ChildKind::Recipients, 0).unwrap();
    assert_eq!(
        narrow.query_columns(false).unwrap()[..3],
        [PR_ROWID, PR_DISPLAY_NAME_A, PR_RECIPIENT_TYPE]
    );
    let rows = narrow.query_rows(1, true).unwrap();
    assert_eq!(
        rows[0].props[1],
        (
            PR_DISPLAY_NAME_A,
            Cell::Value(PropValue::String8(b"cy".to_vec()))
        )
    );
    let mut v = m.child_table(ChildKind::Recipients, MAPI_UNICODE).unwrap();
    assert_eq!(
        texts(column(&mut v, PR_DISPLAY_NAME_W)),
        ["cy", "ann", "bob"]
    );
    assert_eq!(longs(column(&mut v, PR_ROWID)), [0, 1, 2]);
    v.sort_table(vec![SortKey {
        tag: PR_DISPLAY_NAME_W,
        descending: false,
    }])
    .unwrap();
    assert_eq!(
        texts(column(&mut v, PR_DISPLAY_NAME_W)),
        ["ann", "bob", "cy"]
    );
    m.modify_recipients(
        MODRECIP_REMOVE,
        vec![vec![input(PR_ROWID, PropValue::Long(1))]],
    )
    .unwrap();
    assert_eq!(texts(column(&mut v, PR_DISPLAY_NAME_W)), ["bob", "cy"]);
    v.restrict(Some(Restriction::Property {
        relop: Relop::Eq,
        tag: PR_DISPLAY_NAME_W,
        value: PropValue::Unicode("CY".into()),
    }))
    .unwrap();
    assert_eq!(longs(column(&mut v, PR_ROWID)), [0]);
}

#[test]
fn a_table_of_a_conflict_loser_shows_its_own_copy_as_its_properties_do() {
    let (s, eid, mine) = child_conflict();
    let mut v = mine
        .child_table(ChildKind::Recipients, MAPI_UNICODE)
        .unwrap();
    let mut a = mine.child_table(ChildKind::Attachments, 0).unwrap();
    assert_eq!(
        mine.save_changes(KEEP_OPEN_READWRITE).unwrap_err().code,
        MAPI_E_OBJECT_CHANGED
    );
    assert_eq!(
        texts(column(&mut v, PR_DISPLAY_NAME_W)),
        ["bob"],
        "still this client's"
    );
    assert_eq!(a.row_count().unwrap(), 1);
    let stored = open(&s, &eid, 0);
    let mut theirs = stored.child_table(ChildKind::Recipients, 0).unwrap();
    assert_eq!(
        theirs.row_count().unwrap(),
        0,
        "the winner's version has no recipient"
    );
}

#[test]
fn an_embedded_message_has_its_own_tables() {
    let s = store();
    let eid = saved(&s);
    let m = open(&s, &eid, MAPI_MODIFY);
    let (_, a) = m.create_attach(0).unwrap();
    let e = a.open_embedded(MAPI_CREATE | MAPI_MODIFY).unwrap();
    let mut v = e.child_table(ChildKind::Recipients, MAPI_UNICODE).unwrap();
    add_recipient(&e, "inner");
    add_attachment(&e, b"nested");
    assert_eq!(texts(column(&mut v, PR_DISPLAY_NAME_W)), ["inner"]);
    assert_eq!(
        e.child_table(ChildKind::Attachments, 0)
            .unwrap()
            .row_count()
            .unwrap(),
        1
    );
    assert_eq!(
        m.child_table(ChildKind::Recipients, 0)
            .unwrap()
            .row_count()
            .unwrap(),
        0
    );
}

#[test]
fn subrestrictions_match_a_stored_messages_children() {
    let s = store();
    let eid = saved(&s);
    let m = open(&s, &eid, MAPI_MODIFY);
    add_recipient(&*m, "ann");
    add_attachment(&*m, b"report");
    m.save_changes(0).unwrap();
    let id = super::super::ids::parse_entry_id(s.guid(), &eid)
        .unwrap()
        .id;
    let named = |n: &str| Restriction::Property {
        relop: Relop::Eq,
        tag: PR_DISPLAY_NAME_W,
        value: PropValue::Unicode(n.into()),
    };
    let data = Restriction::Property {
        relop: Relop::Eq,
        tag: DATA,
        value: PropValue::Binary(b"report".to_vec()),
    };
    let guid = *s.guid();
    let check = |object, r: &Restriction| {
        s.storage()
            .read(|t| stored_children_match(t, &guid, id, object, r))
    };
    assert!(check(PR_MESSAGE_RECIPIENTS, &named("ANN")).unwrap());
    assert!(!check(PR_MESSAGE_RECIPIENTS, &named("bob")).unwrap());
    assert!(check(PR_MESSAGE_ATTACHMENTS, &data).unwrap());
    assert!(
        !check(PR_MESSAGE_RECIPIENTS, &data).unwrap(),
        "recipients have no data"
    );
    assert!(
        check(
            PR_MESSAGE_ATTACHMENTS,
            &Restriction::Exist {
                tag: PR_ATTACH_SIZE
            }
        )
        .unwrap(),
        "a child is seen as its table row (computed columns too)"
    );
    assert_eq!(
        check(PR_SUBJECT_W, &data).unwrap_err().code,
        MAPI_E_TOO_COMPLEX
    );
    let nested = Restriction::Sub {
        object: PR_MESSAGE_RECIPIENTS,
        restriction: Box::new(named("ann")),
    };
    assert_eq!(
        check(PR_MESSAGE_ATTACHMENTS, &nested).unwrap_err().code,
        MAPI_E_TOO_COMPLEX
    );
}

/// GetPropList and GetProps(NULL) list a tag exactly when GetProps finds a value for it: the
/// list is made without computing the synthesized values, so it must agree with them.
#[test]
fn a_messages_tag_list_is_exactly_its_readable_properties() {
    let store = store();
    let Opened::Folder(root) = store.open_entry(None, MAPI_MODIFY).unwrap() else {
        unreachable!()
    };
    let fresh = root.create_message(0).unwrap();
    set(&fresh, NOTE, PropValue::Unicode("n".into()));
    let eid = saved(&store);
    let stored = open(&store, &eid, MAPI_MODIFY);
    set(&stored, COUNT, PropValue::Long(5));
    // Changes before, between and after the stored IDs, and a deleted stored property: the
    // walk of GetProps(NULL) merges them with the stored values.
    let edited = open(&store, &eid, MAPI_MODIFY);
    set(&edited, PR_SUBJECT_W, PropValue::Unicode("s".into()));
    set(&edited, NOTE, PropValue::Unicode("later".into()));
    set(&edited, 0x7FF0_0003, PropValue::Long(1));
    edited.delete_props(&[PR_CREATION_TIME, COUNT]).unwrap();
    let clean = open(&store, &eid, MAPI_MODIFY);
    let mut plain_views = 0;
    for m in [&fresh, &stored, &edited, &clean] {
        m.read(&mut |v: &dyn PropView| {
            let tags = v.tags();
            for id in 1..=0xFFFFu16 {
                let listed = tags.iter().any(|t| (t >> 16) as u16 == id);
                assert_eq!(listed, v.get(id).is_some(), "property 0x{id:04X}");
            }
            let mut ids: Vec<u32> = tags.iter().map(|t| t >> 16).collect();
            ids.dedup();
            assert_eq!(ids.len(), tags.len(), "a property listed twice");
            let mut walked = Vec::new();
            v.for_each_value(&mut |tag, value| walked.push((tag, value.map(|c| c.into_owned()))));
            let looked_up: Vec<_> = tags
                .iter()
                .map(|&t| (t, v.get((t >> 16) as u16).map(|c| c.into_owned())))
                .collect();
            assert_eq!(walked, looked_up, "the walk is the tags with their values");
            // A view that lends its map walks it, then its computed-only values (how GetProps
            // with a NULL list reads it).
            if let Some(plain) = v.plain() {
                plain_views += 1;
                let mut lent: Vec<_> = plain
                    .values
                    .iter()
                    .map(|(&id, _)| {
                        let value = v.get(id).map(|c| c.into_owned()).unwrap();
                        (((id as u32) << 16) | value.ptype(), Some(value))
                    })
                    .collect();
                v.for_each_computed(&mut |tag, value| {
                    lent.push((tag, value.map(|c| c.into_owned())))
                });
                assert_eq!(walked, lent, "the lent map and its computed values");
                for (&id, stored) in plain.values.iter() {
                    if !super::computed::message_is_computed((id as u32) << 16) {
                        assert_eq!(
                            v.get(id).as_deref(),
                            Some(stored),
                            "0x{id:04X} read as stored"
                        );
                    }
                }
            }
        })
        .unwrap();
    }
    assert_eq!(
        plain_views, 1,
        "only the message with no pending change lends its map"
    );
}

/// Every stored ID of a version's children, embedded messages' included, in key order.
fn child_ids(c: &super::children::Children) -> Vec<Option<u64>> {
    let mut out = Vec::new();
    for a in c.attachments.values() {
        out.push(a.id);
        if let Some(e) = &a.embedded {
            out.push(e.id);
            out.extend(child_ids(&e.children));
        }
    }
    out.extend(c.recipients.values().map(|r| r.id));
    out
}

#[test]
fn a_save_knows_the_ids_of_the_children_it_stored_without_reading_their_values() {
    let s = store();
    let eid = saved(&s);
    let m = open(&s, &eid, MAPI_MODIFY);
    add_attachment(&*m, b"plain");
    let (_, a) = m.create_attach(0).unwrap();
    let e = a.open_embedded(MAPI_CREATE | MAPI_MODIFY).unwrap();
    add_recipient(&e, "inner");
    add_attachment(&e, b"inner data");
    e.save_changes(0).unwrap();
    a.save_changes(0).unwrap();
    add_recipient(&*m, "outer");
    let stored_children = |m: &Message| {
        let id = m.state.lock().id.unwrap();
        s.storage().read(|t| super::children::load(t, id)).unwrap()
    };
    for round in 0..2 {
        if round > 0 {
            // The next save rewrites the stored children in place (none is made twice).
            add_recipient(&*m, "another");
        }
        m.save_changes(KEEP_OPEN_READWRITE).unwrap();
        let stored = stored_children(&m);
        let st = m.state.lock();
        assert_eq!(*st.base_children, stored, "round {round}");
        assert_eq!(st.kids.current, stored, "round {round}");
        let ids = child_ids(&stored);
        assert_eq!(ids.len(), 6 + round);
        assert!(ids.iter().all(Option::is_some));
        assert_eq!(child_ids(&st.base_children), ids, "round {round}");
        assert_eq!(child_ids(&st.kids.current), ids, "round {round}");
    }
}

#[test]
fn the_committed_and_current_children_share_an_attachments_properties() {
    let s = store();
    let eid = saved(&s);
    let shared = |m: &Message, num: u32| {
        let st = m.state.lock();
        Arc::ptr_eq(
            &st.base_children.attachments[&num].props,
            &st.kids.current.attachments[&num].props,
        )
    };
    let m = open(&s, &eid, MAPI_MODIFY);
    let num = add_attachment(&*m, b"data");
    m.save_changes(KEEP_OPEN_READWRITE).unwrap();
    assert!(shared(&m, num), "after a save");
    assert!(shared(&open(&s, &eid, 0), num), "after an open");
    // A change is made on a copy: the committed version keeps its value.
    let a = m.open_attach(num, MAPI_MODIFY).unwrap();
    a.set_props(vec![input(DATA, PropValue::Binary(b"new".to_vec()))])
        .unwrap();
    a.save_changes(0).unwrap();
    assert!(!shared(&m, num));
    assert_eq!(datas(&m), vec![b"new".to_vec()]);
    let st = m.state.lock();
    assert_eq!(
        st.base_children.attachments[&num]
            .props
            .get(&((DATA >> 16) as u16)),
        Some(&PropValue::Binary(b"data".to_vec()))
    );
}

#[test]
fn an_embedded_messages_properties_are_shared_by_the_versions_that_hold_them() {
    let s = store();
    let eid = saved(&s);
    let m = open(&s, &eid, MAPI_MODIFY);
    let (num, a) = m.create_attach(0).unwrap();
    let e = a.open_embedded(MAPI_CREATE | MAPI_MODIFY).unwrap();
    e.set_props(vec![input(NOTE, PropValue::Unicode("body".into()))])
        .unwrap();
    e.save_changes(0).unwrap();
    a.save_changes(0).unwrap();
    m.save_changes(KEEP_OPEN_READWRITE).unwrap();
    let st = m.state.lock();
    let props = |c: &super::children::Children| {
        c.attachments[&num].embedded.as_ref().unwrap().props.clone()
    };
    assert!(Arc::ptr_eq(
        &props(&st.base_children),
        &props(&st.kids.current)
    ));
    assert_eq!(
        props(&st.base_children).get(&((NOTE >> 16) as u16)),
        Some(&PropValue::Unicode("body".into()))
    );
}
