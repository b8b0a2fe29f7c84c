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
