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
use super::computed::{message_size, ID_MESSAGE_SIZE, MAINTAINED};
use super::working::{apply_changes_owned, size_after, Change, Changes};
use crate::storage::{PropRef, StoredProp};
use std::collections::BTreeMap;

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

/// What the committed view starts from, before this client's changes are applied.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Start {
    /// The working copy's base.
    Base,
    /// The stored version read under the lock (MERGE), owned by the plan.
    Stored(PropMap),
}

/// Small values set (Some) or removed (None) after the changes are applied.
pub(crate) type Edits = BTreeMap<u16, Option<PropValue>>;

/// What a commit writes besides its maintained properties. It owns no value of the working
/// copy: the writes borrow them ([`Plan::puts`]), and the committed view is made by moving them
/// once the commit is done ([`Plan::into_view`]), so a large value is never held twice.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Plan {
    /// The committed view without the rewritten maintained properties is `start` with the
    /// changes applied, then `edits`.
    pub start: Start,
    pub edits: Edits,
    pub deletes: Vec<u16>,
    /// The whole committed view is written and every stored property not in it goes (the
    /// stored version is replaced); otherwise only the changes' sets are written.
    pub replace_all: bool,
    /// The payload of the committed view without the rewritten maintained properties and
    /// PR_MESSAGE_SIZE.
    pub content_total: usize,
    /// The change keys the new PCL succeeds (besides the commit's own).
    pub predecessors: Vec<Vec<u8>>,
    /// The payload of the committed children (attachments, recipients), which PR_MESSAGE_SIZE
    /// counts too.
    pub children_total: usize,
}

impl Plan {
    fn start<'a>(&'a self, base: &'a PropMap) -> &'a PropMap {
        match &self.start {
            Start::Base => base,
            Start::Stored(stored) => stored,
        }
    }

    /// The committed view (without the maintained properties), lent from `base`, `changes` and
    /// the plan.
    pub(crate) fn lent_view<'a>(
        &'a self,
        base: &'a PropMap,
        changes: &'a Changes,
    ) -> BTreeMap<u16, &'a PropValue> {
        lend_view(self.start(base), changes, &self.edits)
    }

    /// The property rows the commit writes, lent from `base`, `changes` and the plan.
    pub(crate) fn puts<'a>(&'a self, base: &'a PropMap, changes: &'a Changes) -> Vec<PropRef<'a>> {
        if self.replace_all {
            self.lent_view(base, changes)
                .into_iter()
                .map(|(id, v)| (prop_tag(v.ptype(), id), v))
                .collect()
        } else {
            changes
                .iter()
                .filter_map(|(id, c)| match c {
                    Change::Set(v) => Some((prop_tag(v.ptype(), *id), v)),
                    Change::Delete(_) => None,
                })
                .collect()
        }
    }

    /// Leaves the properties `ids` out of the view this plan commits (values whose bytes are
    /// gone: `store::without_gone_large`), its size following.
    pub(crate) fn leave_out(&mut self, base: &PropMap, changes: &Changes, ids: &[u16]) {
        for id in ids {
            self.edits.insert(*id, None);
        }
        self.content_total = content_total(&self.lent_view(base, changes));
    }

    /// The committed view (without the maintained properties) once the commit is done, made by
    /// moving the values of `base` and `changes` (no longer needed) and of the plan.
    pub(crate) fn into_view(self, base: PropMap, changes: Changes) -> PropMap {
        let mut view = match self.start {
            Start::Base => base,
            Start::Stored(stored) => stored,
        };
        apply_changes_owned(&mut view, changes);
        for (id, edit) in self.edits {
            match edit {
                Some(v) => view.insert(id, v),
                None => view.remove(&id),
            };
        }
        view
    }
}

/// `start` with `changes` and then `edits` applied, every value lent.
fn lend_view<'a>(
    start: &'a PropMap,
    changes: &'a Changes,
    edits: &'a Edits,
) -> BTreeMap<u16, &'a PropValue> {
    let mut view: BTreeMap<u16, &PropValue> = start.iter().map(|(id, v)| (*id, v)).collect();
    let sets = changes.iter().map(|(id, c)| match c {
        Change::Set(v) => (id, Some(v)),
        Change::Delete(_) => (id, None),
    });
    for (id, value) in sets.chain(edits.iter().map(|(id, e)| (id, e.as_ref()))) {
        match value {
            Some(v) => view.insert(*id, v),
            None => view.remove(id),
        };
    }
    view
}

fn pcl_entries(map: &PropMap) -> Vec<Vec<u8>> {
    match map.get(&ID_PCL) {
        Some(PropValue::Binary(b)) => parse_pcl(b),
        _ => Vec::new(),
    }
}

/// The payload of `view` without the rewritten maintained properties and PR_MESSAGE_SIZE.
fn content_total(view: &BTreeMap<u16, &PropValue>) -> usize {
    view.iter()
        .filter(|(id, _)| !REWRITTEN.contains(id) && **id != ID_MESSAGE_SIZE)
        .map(|(_, v)| v.payload_size())
        .sum()
}

/// The IDs this client's changes delete.
fn change_deletes(changes: &Changes) -> Vec<u16> {
    changes
        .iter()
        .filter(|(_, c)| matches!(c, Change::Delete(_)))
        .map(|(id, _)| *id)
        .collect()
}

/// A plan writing the whole view `start` + `changes` + `edits` in place of the stored version.
fn replacing(
    start: Start,
    base: &PropMap,
    changes: &Changes,
    edits: Edits,
    predecessors: Vec<Vec<u8>>,
) -> Plan {
    let mut plan = Plan {
        start,
        edits,
        deletes: Vec::new(),
        replace_all: true,
        content_total: 0,
        predecessors,
        children_total: 0,
    };
    plan.content_total = content_total(&plan.lent_view(base, changes));
    plan
}

/// Rule 1: the stored version is the base, so only this client's changes are written.
pub(crate) fn plan_normal(base: &PropMap, base_size: usize, changes: &Changes) -> Plan {
    let rewritten: usize = REWRITTEN
        .iter()
        .filter_map(|id| base.get(id))
        .map(PropValue::payload_size)
        .sum();
    Plan {
        start: Start::Base,
        edits: Edits::new(),
        deletes: change_deletes(changes),
        replace_all: false,
        content_total: size_after(base, base_size, changes, |id| REWRITTEN.contains(&id))
            - rewritten,
        predecessors: pcl_entries(base),
        children_total: 0,
    }
}

/// The edits that drop the rewritten maintained properties and PR_MESSAGE_SIZE.
fn without_rewritten() -> Edits {
    REWRITTEN
        .iter()
        .chain([&ID_MESSAGE_SIZE])
        .map(|id| (*id, None))
        .collect()
}

/// Rule 3: the stored message becomes this client's view. The read flag (SetReadFlag is not
/// part of the transaction) and PR_CREATION_TIME stay as stored unless this client changed them;
/// the new PCL succeeds both versions.
pub(crate) fn plan_force(base: &PropMap, changes: &Changes, stored: &PropMap) -> Plan {
    let mut edits = without_rewritten();
    let mut keep = vec![prop_id(PR_CREATION_TIME)];
    if !changes.contains_key(&ID_MESSAGE_FLAGS) {
        keep.push(ID_MESSAGE_FLAGS);
    }
    for id in keep {
        edits.insert(id, stored.get(&id).cloned());
    }
    // A large value this client neither changed nor holds (left in the store when it opened,
    // PropValue::Large) stays as stored: if another client replaced it, its bytes are gone and
    // the stored ones are the only ones there are (DESIGN.md §7; docs/BAD_INPUT.md).
    for (id, value) in base.iter() {
        if value.is_large() && !changes.contains_key(id) {
            edits.insert(*id, stored.get(id).cloned());
        }
    }
    let mut predecessors = pcl_entries(base);
    predecessors.extend(pcl_entries(stored));
    replacing(Start::Base, base, changes, edits, predecessors)
}

/// The resolver's MERGE: the stored version plus this client's changes (its value wins where
/// both changed a property); the new PCL succeeds both versions. Only the changes are written.
pub(crate) fn plan_merge(base: &PropMap, changes: &Changes, stored: PropMap) -> Plan {
    let mut predecessors = pcl_entries(base);
    predecessors.extend(pcl_entries(&stored));
    let mut plan = replacing(
        Start::Stored(stored),
        base,
        changes,
        without_rewritten(),
        predecessors,
    );
    plan.replace_all = false;
    plan.deletes = change_deletes(changes);
    plan
}

/// A message's first commit (CreateMessage's first save, or SAVE_ELSEWHERE's copy): the view
/// `base` + `changes` + `extra`, without any maintained property a client could have brought,
/// PR_MESSAGE_FLAGS defaulted, PR_CREATION_TIME now.
pub(crate) fn plan_new(
    base: &PropMap,
    changes: &Changes,
    extra: Edits,
    associated: bool,
    now: u64,
) -> Plan {
    let mut edits = extra;
    for m in MAINTAINED {
        edits.insert(prop_id(*m), None);
    }
    if !lend_view(base, changes, &edits).contains_key(&ID_MESSAGE_FLAGS) {
        let flags = MSGFLAG_UNSENT | if associated { MSGFLAG_ASSOCIATED } else { 0 };
        edits.insert(ID_MESSAGE_FLAGS, Some(PropValue::Long(flags as i32)));
    }
    edits.insert(prop_id(PR_CREATION_TIME), Some(PropValue::SysTime(now)));
    replacing(Start::Base, base, changes, edits, Vec::new())
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
    use super::super::computed::payload_total;
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
        let base = map(props);
        let plan = plan_new(&base, &Changes::new(), Edits::new(), false, 1);
        let m = maintained(&GUID, cn, 1, &plan);
        let mut view = plan.into_view(base, Changes::new());
        for (tag, v) in m {
            view.insert(prop_id(tag), v);
        }
        view
    }
    fn size_of(view: &PropMap) -> usize {
        payload_total(view, &[])
    }
    /// The view a commit of `plan` with `cn` leaves; it checks that the rows the plan writes
    /// are that view's (all of them when it replaces the stored version, else the changes').
    fn final_view(base: &PropMap, changes: &Changes, plan: &Plan, cn: u64) -> PropMap {
        let lent: PropMap = plan
            .lent_view(base, changes)
            .into_iter()
            .map(|(id, v)| (id, v.clone()))
            .collect();
        let mut view = plan.clone().into_view(base.clone(), changes.clone());
        assert_eq!(lent, view, "the lent view is the one the commit leaves");
        if plan.replace_all {
            let puts: Vec<(u16, PropValue)> = plan
                .puts(base, changes)
                .into_iter()
                .map(|(tag, v)| (prop_id(tag), v.clone()))
                .collect();
            assert_eq!(
                puts,
                view.iter()
                    .map(|(id, v)| (*id, v.clone()))
                    .collect::<Vec<_>>()
            );
        }
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
        assert_eq!(
            plan.puts(&base, &changes),
            vec![(PR_SUBJECT_W, &text("new"))]
        );
        assert_eq!(plan.deletes, vec![BODY]);
        assert!(!plan.replace_all && plan.start == Start::Base && plan.edits.is_empty());
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
            final_view(&base, &changes, &plan, 9).get(&ID_MESSAGE_FLAGS),
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
        let plan = plan_merge(&base, &changes, stored.clone());
        assert!(!plan.replace_all);
        assert_eq!(
            plan.puts(&base, &changes).len(),
            2,
            "only my changes are written"
        );
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
        let plan = plan_new(&view, &Changes::new(), Edits::new(), true, 42);
        let v = &final_view(&view, &Changes::new(), &plan, 3);
        assert_eq!(
            v.get(&prop_id(PR_CHANGE_KEY)),
            Some(&PropValue::Binary(xid(&GUID, 3))),
            "the brought change key is replaced by the commit's"
        );
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
        assert_eq!(
            v.get(&ID_MESSAGE_SIZE),
            Some(&PropValue::Long(size_of(v) as i32))
        );
    }

    #[test]
    fn every_plan_lends_the_values_it_writes_instead_of_copying_them() {
        const BLOB: u16 = 0x6701;
        let base = committed(5, &[(SUBJECT, text("old")), (BODY, text("body"))]);
        let stored = committed(7, &[(SUBJECT, text("theirs"))]);
        let mut changes = Changes::new();
        changes.insert(BLOB, Change::Set(PropValue::Binary(vec![7; 4096])));
        let Some(Change::Set(blob)) = changes.get(&BLOB) else {
            unreachable!()
        };
        let plans = [
            plan_normal(&base, size_of(&base), &changes),
            plan_force(&base, &changes, &stored),
            plan_merge(&base, &changes, stored.clone()),
            plan_new(&base, &changes, Edits::new(), false, 3),
        ];
        for plan in &plans {
            let puts = plan.puts(&base, &changes);
            let lent = puts.iter().find(|(tag, _)| prop_id(*tag) == BLOB).unwrap();
            assert!(std::ptr::eq(lent.1, blob), "{:?}", plan.start);
            if plan.replace_all {
                let body = puts.iter().find(|(tag, _)| prop_id(*tag) == BODY).unwrap();
                assert!(std::ptr::eq(body.1, base.get(&BODY).unwrap()));
            }
            final_view(&base, &changes, plan, 9);
        }
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
