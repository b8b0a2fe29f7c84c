//! Save planning (DESIGN.md §4–§5) as plain functions: which request SaveChanges makes, what a
//! commit writes (a change set, as a pure function of the working copy and the stored version it
//! is compared with), and what the save does after each outcome and each resolver decision.
//! The driver in `mod.rs` runs them against the engine; the tests below cover every row of §4's
//! table and every resolver outcome of §5 without an engine.

use super::super::error::{check_flags, MapiError, MapiResult};
use super::super::ids::{merge_pcl, parse_pcl, xid};
use super::super::mapidefs::*;
use super::super::props::{PropMap, SAVE_CHANGES_FLAGS};
use super::super::resolve::Decision;
use super::super::value::{prop_id, prop_tag, PropValue};
use super::computed::{message_size, payload_total, ID_MESSAGE_SIZE, MAINTAINED};
use super::working::{apply_changes, size_after, Change, Changes};
use crate::storage::StoredProp;

/// The maintained properties every commit rewrites (PR_CREATION_TIME is written once, by the
/// first save, and kept).
const REWRITTEN: [u16; 3] = [
    prop_id(PR_CHANGE_KEY),
    prop_id(PR_PREDECESSOR_CHANGE_LIST),
    prop_id(PR_LAST_MODIFICATION_TIME),
];
const ID_PCL: u16 = prop_id(PR_PREDECESSOR_CHANGE_LIST);
const ID_MESSAGE_FLAGS: u16 = prop_id(PR_MESSAGE_FLAGS);

/// How a commit treats the stored version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Rules 1/2: only if the stored CN is the base CN; write this client's changes.
    Normal,
    /// Rule 3 (and the resolver's OVERWRITE): the stored message becomes this client's view.
    Force,
    /// The resolver's MERGE: the stored version plus this client's changes.
    Merge,
}

/// What SaveChanges asks for, once its flags and access are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Request {
    pub mode: Mode,
    /// KEEP_OPEN_READWRITE (alone or with KEEP_OPEN_READONLY): the object stays writable.
    pub keep_writable: bool,
}

/// Checks a SaveChanges call in DESIGN.md §4's order: flags, then access.
pub(crate) fn check_request(
    flags: u32,
    store_writable: bool,
    object_writable: bool,
) -> MapiResult<Request> {
    check_flags("SaveChanges", flags, SAVE_CHANGES_FLAGS)?;
    if !store_writable {
        return Err(MapiError::no_access(
            "SaveChanges: the store is open read-only",
        ));
    }
    if !object_writable {
        return Err(MapiError::no_access(
            "SaveChanges: the message is open read-only (or was saved without \
             KEEP_OPEN_READWRITE)",
        ));
    }
    Ok(Request {
        mode: if flags & FORCE_SAVE != 0 {
            Mode::Force
        } else {
            Mode::Normal
        },
        keep_writable: flags & KEEP_OPEN_READWRITE != 0,
    })
}

/// What a commit writes besides its maintained properties.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Plan {
    pub puts: Vec<StoredProp>,
    pub deletes: Vec<u16>,
    /// Every stored property not in `puts` goes (the stored version is replaced).
    pub replace_all: bool,
    /// The committed view without the rewritten maintained properties, when it is not the
    /// base with the changes applied.
    pub view: Option<PropMap>,
    /// The payload of the committed view without the rewritten maintained properties and
    /// PR_MESSAGE_SIZE.
    pub content_total: usize,
    /// The change keys the new PCL succeeds (besides the commit's own).
    pub predecessors: Vec<Vec<u8>>,
    /// The payload of the committed children (attachments, recipients), which PR_MESSAGE_SIZE
    /// counts too.
    pub children_total: usize,
}

fn put(id: u16, v: &PropValue) -> StoredProp {
    (prop_tag(v.ptype(), id), v.clone())
}

fn pcl_entries(map: &PropMap) -> Vec<Vec<u8>> {
    match map.get(&ID_PCL) {
        Some(PropValue::Binary(b)) => parse_pcl(b),
        _ => Vec::new(),
    }
}

/// The payload of `view` without the rewritten maintained properties and PR_MESSAGE_SIZE.
fn content_total(view: &PropMap) -> usize {
    let rewritten: usize = REWRITTEN
        .iter()
        .filter_map(|id| view.get(id))
        .map(PropValue::payload_size)
        .sum();
    payload_total(view, &[]) - rewritten
}

/// The writes of this client's changes alone.
fn change_writes(changes: &Changes) -> (Vec<StoredProp>, Vec<u16>) {
    let mut puts = Vec::new();
    let mut deletes = Vec::new();
    for (id, c) in changes {
        match c {
            Change::Set(v) => puts.push(put(*id, v)),
            Change::Delete(_) => deletes.push(*id),
        }
    }
    (puts, deletes)
}

/// Rule 1: the stored version is the base, so only this client's changes are written.
pub(crate) fn plan_normal(base: &PropMap, base_size: usize, changes: &Changes) -> Plan {
    let (puts, deletes) = change_writes(changes);
    let rewritten: usize = REWRITTEN
        .iter()
        .filter_map(|id| base.get(id))
        .map(PropValue::payload_size)
        .sum();
    Plan {
        puts,
        deletes,
        replace_all: false,
        view: None,
        content_total: size_after(base, base_size, changes, |id| REWRITTEN.contains(&id))
            - rewritten,
        predecessors: pcl_entries(base),
        children_total: 0,
    }
}

/// Rule 3: the stored message becomes this client's view. The read flag (SetReadFlag is not
/// part of the transaction) and PR_CREATION_TIME stay as stored unless this client changed them;
/// the new PCL succeeds both versions.
pub(crate) fn plan_force(base: &PropMap, changes: &Changes, stored: &PropMap) -> Plan {
    let mut target = base.clone();
    apply_changes(&mut target, changes);
    let mut keep = vec![prop_id(PR_CREATION_TIME)];
    if !changes.contains_key(&ID_MESSAGE_FLAGS) {
        keep.push(ID_MESSAGE_FLAGS);
    }
    for id in keep {
        match stored.get(&id) {
            Some(v) => target.insert(id, v.clone()),
            None => target.remove(&id),
        };
    }
    for m in MAINTAINED {
        if REWRITTEN.contains(&prop_id(*m)) || prop_id(*m) == ID_MESSAGE_SIZE {
            target.remove(&prop_id(*m));
        }
    }
    let mut predecessors = pcl_entries(base);
    predecessors.extend(pcl_entries(stored));
    Plan {
        puts: target.iter().map(|(id, v)| put(*id, v)).collect(),
        deletes: Vec::new(),
        replace_all: true,
        content_total: content_total(&target),
        view: Some(target),
        predecessors,
        children_total: 0,
    }
}

/// The resolver's MERGE: the stored version plus this client's changes (its value wins where
/// both changed a property); the new PCL succeeds both versions.
pub(crate) fn plan_merge(base: &PropMap, changes: &Changes, stored: &PropMap) -> Plan {
    let mut target = stored.clone();
    apply_changes(&mut target, changes);
    for id in REWRITTEN.iter().chain([&ID_MESSAGE_SIZE]) {
        target.remove(id);
    }
    let (puts, deletes) = change_writes(changes);
    let mut predecessors = pcl_entries(base);
    predecessors.extend(pcl_entries(stored));
    Plan {
        puts,
        deletes,
        replace_all: false,
        content_total: content_total(&target),
        view: Some(target),
        predecessors,
        children_total: 0,
    }
}

/// A message's first commit (CreateMessage's first save, or SAVE_ELSEWHERE's copy): `view`
/// without any maintained property a client could have brought, PR_MESSAGE_FLAGS defaulted,
/// PR_CREATION_TIME now.
pub(crate) fn plan_new(mut view: PropMap, associated: bool, now: u64) -> Plan {
    for m in MAINTAINED {
        view.remove(&prop_id(*m));
    }
    view.entry(ID_MESSAGE_FLAGS).or_insert_with(|| {
        PropValue::Long((MSGFLAG_UNSENT | if associated { MSGFLAG_ASSOCIATED } else { 0 }) as i32)
    });
    view.insert(prop_id(PR_CREATION_TIME), PropValue::SysTime(now));
    Plan {
        puts: view.iter().map(|(id, v)| put(*id, v)).collect(),
        deletes: Vec::new(),
        replace_all: true,
        content_total: content_total(&view),
        view: Some(view),
        predecessors: Vec::new(),
        children_total: 0,
    }
}

/// The maintained properties of a commit with change number `cn` (DESIGN.md §4): the change
/// key, the PCL (the plan's predecessors and this commit, one XID per store, the highest), the
/// modification time, and PR_MESSAGE_SIZE of the committed view.
pub(crate) fn maintained(guid: &[u8; 16], cn: u64, now: u64, plan: &Plan) -> Vec<StoredProp> {
    let change_key = xid(guid, cn);
    let pcl = merge_pcl(
        plan.predecessors
            .iter()
            .map(Vec::as_slice)
            .chain([change_key.as_slice()]),
    );
    let change_key = PropValue::Binary(change_key);
    let pcl = PropValue::Binary(pcl);
    let modified = PropValue::SysTime(now);
    let total = plan.content_total
        + plan.children_total
        + change_key.payload_size()
        + pcl.payload_size()
        + modified.payload_size();
    vec![
        (PR_CHANGE_KEY, change_key),
        (PR_PREDECESSOR_CHANGE_LIST, pcl),
        (PR_LAST_MODIFICATION_TIME, modified),
        (PR_MESSAGE_SIZE, PropValue::Long(message_size(total))),
    ]
}

/// The payload total a committed view counts for PR_MESSAGE_SIZE (`State::base_size`).
pub(crate) fn committed_size(plan: &Plan, maintained: &[StoredProp]) -> usize {
    plan.content_total
        + maintained
            .iter()
            .filter(|(tag, _)| prop_id(*tag) != ID_MESSAGE_SIZE)
            .map(|(_, v)| v.payload_size())
            .sum::<usize>()
}

/// What the save does next.
#[derive(Debug)]
pub(crate) enum Next {
    /// SaveChanges fails with this error; nothing was written; the object keeps its changes.
    Fail(MapiError),
    /// Show the conflict (or the deletion) to the registered resolver.
    AskResolver,
    /// Commit again in `mode`, compared against the version the resolver was shown.
    Retry { mode: Mode, expected: u64 },
    /// Save this client's whole view as a new message in this folder (None: "Conflicts").
    SaveElsewhere(Option<u64>),
}

pub(crate) fn object_changed(why: &str) -> MapiError {
    MapiError::new(
        MAPI_E_OBJECT_CHANGED,
        format!(
            "SaveChanges: the message was changed by another client since it was opened; {why}"
        ),
    )
}

pub(crate) fn object_deleted() -> MapiError {
    MapiError::new(
        MAPI_E_OBJECT_DELETED,
        "SaveChanges: the message was deleted since it was opened; nothing was written",
    )
}

/// The stored message is another version than the one compared with.
pub(crate) fn after_stale(has_resolver: bool) -> Next {
    if has_resolver {
        Next::AskResolver
    } else {
        Next::Fail(object_changed(
            "nothing was written (save again with FORCE_SAVE to overwrite)",
        ))
    }
}

/// The stored message is gone. Only a plain save (no FORCE_SAVE, no decision being applied)
/// asks a registered resolver, which may only save elsewhere.
pub(crate) fn after_deleted(mode: Mode, applying_decision: bool, has_resolver: bool) -> Next {
    if has_resolver && mode == Mode::Normal && !applying_decision {
        Next::AskResolver
    } else {
        Next::Fail(object_deleted())
    }
}

/// Applies a resolver's answer about the version with change number `shown_cn` (DESIGN.md §5).
pub(crate) fn after_decision(answer: MapiResult<Decision>, deleted: bool, shown_cn: u64) -> Next {
    match (answer, deleted) {
        (Ok(Decision::SaveElsewhere { dest_folder }), _) => Next::SaveElsewhere(dest_folder),
        (_, true) => Next::Fail(object_deleted()),
        (Err(e), false) => Next::Fail(object_changed(&format!(
            "the conflict resolver failed ({}); nothing was written",
            e.message
        ))),
        (Ok(Decision::KeepOriginal), false) => Next::Fail(object_changed(
            "the resolver chose to keep the original; nothing was written",
        )),
        (Ok(Decision::Overwrite), false) => Next::Retry {
            mode: Mode::Force,
            expected: shown_cn,
        },
        (Ok(Decision::Merge), false) => Next::Retry {
            mode: Mode::Merge,
            expected: shown_cn,
        },
        (Ok(Decision::Unknown(action)), false) => Next::Fail(object_changed(&format!(
            "the resolver returned unknown action {action}; nothing was written"
        ))),
    }
}

/// Tags whose values differ between two versions (maintained properties left out: they change
/// on every commit and are nobody's edit).
pub(crate) fn differing_tags(before: &PropMap, after: &PropMap) -> Vec<u32> {
    let maintained = |id: &u16| MAINTAINED.iter().any(|m| prop_id(*m) == *id);
    let mut tags = Vec::new();
    for (id, v) in after {
        if before.get(id) != Some(v) && !maintained(id) {
            tags.push(prop_tag(v.ptype(), *id));
        }
    }
    for (id, v) in before {
        if !after.contains_key(id) && !maintained(id) {
            tags.push(prop_tag(v.ptype(), *id));
        }
    }
    tags.sort_by_key(|t| prop_id(*t));
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    const GUID: [u8; 16] = [0xAB; 16];
    const SUBJECT: u16 = prop_id(PR_SUBJECT_W);
    const BODY: u16 = prop_id(PR_BODY_W);

    fn map(entries: &[(u16, PropValue)]) -> PropMap {
        entries.iter().cloned().collect()
    }
    fn text(s: &str) -> PropValue {
        PropValue::Unicode(s.into())
    }
    /// A committed version as a commit with `cn` leaves it.
    fn committed(cn: u64, props: &[(u16, PropValue)]) -> PropMap {
        let plan = plan_new(map(props), false, 1);
        let mut view = plan.view.clone().unwrap();
        for (tag, v) in maintained(&GUID, cn, 1, &plan) {
            view.insert(prop_id(tag), v);
        }
        view
    }
    fn size_of(view: &PropMap) -> usize {
        payload_total(view, &[])
    }
    fn final_view(base: &PropMap, changes: &Changes, plan: &Plan, cn: u64) -> PropMap {
        let mut view = plan.view.clone().unwrap_or_else(|| {
            let mut v = base.clone();
            apply_changes(&mut v, changes);
            v
        });
        for (tag, v) in maintained(&GUID, cn, 2, plan) {
            view.insert(prop_id(tag), v);
        }
        view
    }

    #[test]
    fn flags_then_access_are_checked_in_order() {
        assert_eq!(
            check_request(0x100, false, false).unwrap_err().code,
            MAPI_E_UNKNOWN_FLAGS
        );
        assert_eq!(
            check_request(0, false, true).unwrap_err().code,
            MAPI_E_NO_ACCESS
        );
        assert_eq!(
            check_request(0, true, false).unwrap_err().code,
            MAPI_E_NO_ACCESS
        );
        let r = check_request(FORCE_SAVE | KEEP_OPEN_READONLY, true, true).unwrap();
        assert_eq!(r.mode, Mode::Force);
        assert!(!r.keep_writable);
        // Both KEEP_OPEN bits act as KEEP_OPEN_READWRITE; MAPI_DEFERRED_ERRORS is accepted.
        let r = check_request(
            KEEP_OPEN_READONLY | KEEP_OPEN_READWRITE | MAPI_DEFERRED_ERRORS,
            true,
            true,
        )
        .unwrap();
        assert_eq!(r.mode, Mode::Normal);
        assert!(r.keep_writable);
    }

    #[test]
    fn a_normal_save_writes_only_its_changes_and_maintains_the_change_properties() {
        let base = committed(5, &[(SUBJECT, text("old")), (BODY, text("body"))]);
        let mut changes = Changes::new();
        changes.insert(SUBJECT, Change::Set(text("new")));
        changes.insert(BODY, Change::Delete(PR_BODY_W));
        let plan = plan_normal(&base, size_of(&base), &changes);
        assert_eq!(plan.puts, vec![(PR_SUBJECT_W, text("new"))]);
        assert_eq!(plan.deletes, vec![BODY]);
        assert!(!plan.replace_all && plan.view.is_none());
        let view = final_view(&base, &changes, &plan, 9);
        assert_eq!(
            view.get(&prop_id(PR_CHANGE_KEY)),
            Some(&PropValue::Binary(xid(&GUID, 9)))
        );
        // One XID per store GUID, the highest: the new one.
        assert_eq!(
            view.get(&ID_PCL),
            Some(&PropValue::Binary(merge_pcl([xid(&GUID, 9).as_slice()])))
        );
        // PR_MESSAGE_SIZE is the payload of the committed view, computed from the changes.
        assert_eq!(
            view.get(&ID_MESSAGE_SIZE),
            Some(&PropValue::Long(size_of(&view) as i32))
        );
        assert_eq!(
            committed_size(&plan, &maintained(&GUID, 9, 2, &plan)),
            size_of(&view)
        );
        assert_eq!(view.get(&BODY), None);
    }

    #[test]
    fn a_forced_save_replaces_the_stored_version_but_keeps_the_read_flag_and_creation_time() {
        let base = committed(
            5,
            &[
                (SUBJECT, text("mine")),
                (ID_MESSAGE_FLAGS, PropValue::Long(0)),
            ],
        );
        let mut stored = committed(
            7,
            &[
                (SUBJECT, text("theirs")),
                (BODY, text("their body")),
                (ID_MESSAGE_FLAGS, PropValue::Long(MSGFLAG_READ as i32)),
            ],
        );
        stored.insert(prop_id(PR_CREATION_TIME), PropValue::SysTime(77));
        let mut changes = Changes::new();
        changes.insert(0x6001, Change::Set(PropValue::Long(1)));
        let plan = plan_force(&base, &changes, &stored);
        assert!(plan.replace_all);
        let view = final_view(&base, &changes, &plan, 9);
        assert_eq!(view.get(&SUBJECT), Some(&text("mine")));
        assert_eq!(view.get(&BODY), None, "their property is replaced away");
        assert_eq!(view.get(&0x6001), Some(&PropValue::Long(1)));
        assert_eq!(
            view.get(&ID_MESSAGE_FLAGS),
            Some(&PropValue::Long(MSGFLAG_READ as i32))
        );
        assert_eq!(
            view.get(&prop_id(PR_CREATION_TIME)),
            Some(&PropValue::SysTime(77))
        );
        assert_eq!(
            view.get(&ID_MESSAGE_SIZE),
            Some(&PropValue::Long(size_of(&view) as i32))
        );
        // It succeeds both versions: the PCL holds the highest XID, the new change key.
        assert!(plan.predecessors.contains(&xid(&GUID, 5)));
        assert!(plan.predecessors.contains(&xid(&GUID, 7)));
        // A client that set the read flag itself wins over the stored one.
        changes.insert(ID_MESSAGE_FLAGS, Change::Set(PropValue::Long(0)));
        let plan = plan_force(&base, &changes, &stored);
        assert_eq!(
            plan.view.unwrap().get(&ID_MESSAGE_FLAGS),
            Some(&PropValue::Long(0))
        );
    }

    #[test]
    fn a_merge_is_the_stored_version_plus_my_changes_where_mine_win() {
        let base = committed(5, &[(SUBJECT, text("old")), (BODY, text("old body"))]);
        let stored = committed(7, &[(SUBJECT, text("theirs")), (BODY, text("their body"))]);
        let mut changes = Changes::new();
        changes.insert(SUBJECT, Change::Set(text("mine")));
        changes.insert(0x6001, Change::Set(PropValue::Long(3)));
        let plan = plan_merge(&base, &changes, &stored);
        assert!(!plan.replace_all);
        assert_eq!(plan.puts.len(), 2, "only my changes are written");
        let view = final_view(&base, &changes, &plan, 9);
        assert_eq!(view.get(&SUBJECT), Some(&text("mine")));
        assert_eq!(view.get(&BODY), Some(&text("their body")));
        assert_eq!(
            view.get(&ID_MESSAGE_SIZE),
            Some(&PropValue::Long(size_of(&view) as i32))
        );
        assert!(plan.predecessors.contains(&xid(&GUID, 7)));
    }

    #[test]
    fn a_first_save_defaults_the_flags_and_drops_maintained_values_a_client_brought() {
        let view = map(&[
            (SUBJECT, text("new")),
            (prop_id(PR_CHANGE_KEY), PropValue::Binary(vec![1])),
        ]);
        let plan = plan_new(view.clone(), true, 42);
        let v = plan.view.as_ref().unwrap();
        assert_eq!(v.get(&prop_id(PR_CHANGE_KEY)), None);
        assert_eq!(
            v.get(&ID_MESSAGE_FLAGS),
            Some(&PropValue::Long(
                (MSGFLAG_UNSENT | MSGFLAG_ASSOCIATED) as i32
            ))
        );
        assert_eq!(
            v.get(&prop_id(PR_CREATION_TIME)),
            Some(&PropValue::SysTime(42))
        );
        let full = final_view(&PropMap::new(), &Changes::new(), &plan, 3);
        assert_eq!(
            full.get(&ID_MESSAGE_SIZE),
            Some(&PropValue::Long(size_of(&full) as i32))
        );
    }

    #[test]
    fn every_outcome_row_of_the_save_table() {
        // Stale, no resolver: MAPI_E_OBJECT_CHANGED. With one: ask it.
        assert!(matches!(after_stale(false), Next::Fail(e) if e.code == MAPI_E_OBJECT_CHANGED));
        assert!(matches!(after_stale(true), Next::AskResolver));
        // Deleted: MAPI_E_OBJECT_DELETED, with or without FORCE_SAVE; a resolver is asked only
        // by a plain save.
        for (mode, deciding, resolver, asks) in [
            (Mode::Normal, false, false, false),
            (Mode::Force, false, false, false),
            (Mode::Normal, false, true, true),
            (Mode::Force, false, true, false),
            (Mode::Force, true, true, false),
            (Mode::Merge, true, true, false),
        ] {
            match after_deleted(mode, deciding, resolver) {
                Next::AskResolver => assert!(asks, "{mode:?}"),
                Next::Fail(e) => {
                    assert!(!asks, "{mode:?}");
                    assert_eq!(e.code, MAPI_E_OBJECT_DELETED);
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn every_resolver_outcome() {
        let changed = |n: Next| matches!(n, Next::Fail(e) if e.code == MAPI_E_OBJECT_CHANGED);
        let deleted = |n: Next| matches!(n, Next::Fail(e) if e.code == MAPI_E_OBJECT_DELETED);
        assert!(changed(after_decision(
            Ok(Decision::KeepOriginal),
            false,
            7
        )));
        assert!(matches!(
            after_decision(Ok(Decision::Overwrite), false, 7),
            Next::Retry {
                mode: Mode::Force,
                expected: 7
            }
        ));
        assert!(matches!(
            after_decision(Ok(Decision::Merge), false, 7),
            Next::Retry {
                mode: Mode::Merge,
                expected: 7
            }
        ));
        assert!(matches!(
            after_decision(
                Ok(Decision::SaveElsewhere {
                    dest_folder: Some(4)
                }),
                false,
                7
            ),
            Next::SaveElsewhere(Some(4))
        ));
        assert!(matches!(
            after_decision(Ok(Decision::SaveElsewhere { dest_folder: None }), true, 0),
            Next::SaveElsewhere(None)
        ));
        assert!(changed(after_decision(Ok(Decision::Unknown(99)), false, 7)));
        assert!(changed(after_decision(
            Err(MapiError::invalid("x")),
            false,
            7
        )));
        // On a deleted message only SAVE_ELSEWHERE is honoured.
        for d in [
            Decision::KeepOriginal,
            Decision::Overwrite,
            Decision::Merge,
            Decision::Unknown(0),
        ] {
            assert!(deleted(after_decision(Ok(d), true, 0)));
        }
        assert!(deleted(after_decision(
            Err(MapiError::invalid("x")),
            true,
            0
        )));
    }

    #[test]
    fn their_changes_leave_out_maintained_properties() {
        let before = committed(5, &[(SUBJECT, text("a")), (BODY, text("b"))]);
        let after = committed(6, &[(SUBJECT, text("z")), (0x6001, PropValue::Long(1))]);
        assert_eq!(
            differing_tags(&before, &after),
            vec![PR_SUBJECT_W, PR_BODY_W, prop_tag(PT_LONG, 0x6001)]
        );
    }
}
