//! A message's children (DESIGN.md §9, reference §11): its attachments (each with its
//! properties and, for an embedded message, that message with its own children) and its
//! recipients (rows keyed by PR_ROWID), as one version holds them. A working copy carries them
//! beside its properties and a save writes them as child change sets inside the message's
//! compare-and-swap: the writes are a pure function (`writes`) of the version stored and the
//! version wanted, so a conflict loses them with the property changes, FORCE_SAVE stores this
//! client's children, and MERGE the stored children with this client's child changes (`merge`).

use super::super::error::MapiResult;
use super::super::mapidefs::*;
use super::super::props::PropMap;
use super::super::store::{load_props, load_props_deferring, without_gone_large};
use super::super::value::{prop_id, prop_tag, PropValue};
use crate::storage::{
    maintains_nothing, ChangeSet, ObjectRow, PropRef, ReadTxn, Target, KIND_ATTACHMENT,
    KIND_EMBEDDED_MESSAGE, KIND_RECIPIENT,
};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

pub(crate) const ID_ATTACH_NUM: u16 = prop_id(PR_ATTACH_NUM);
pub(crate) const ID_ROWID: u16 = prop_id(PR_ROWID);
pub(crate) const ID_DISPLAY_TO: u16 = prop_id(PR_DISPLAY_TO_W);
pub(crate) const ID_DISPLAY_CC: u16 = prop_id(PR_DISPLAY_CC_W);
pub(crate) const ID_DISPLAY_BCC: u16 = prop_id(PR_DISPLAY_BCC_W);
const ID_RECIPIENT_TYPE: u16 = prop_id(PR_RECIPIENT_TYPE);
const ID_DISPLAY_NAME: u16 = prop_id(PR_DISPLAY_NAME_W);

/// Attachments by PR_ATTACH_NUM and recipients by PR_ROWID. Equality compares content only,
/// never the stored object IDs.
#[derive(Debug, Clone, Default)]
pub(crate) struct Children {
    pub attachments: BTreeMap<u32, Attach>,
    pub recipients: BTreeMap<u32, Recipient>,
}

#[derive(Debug, Clone)]
pub(crate) struct Attach {
    /// The stored object (None: not stored yet).
    pub id: Option<u64>,
    /// Which attachment this is while the working copy lives, whatever its number: an IAttach
    /// finds its attachment by it after a MERGE renumbered it (not content: equality ignores
    /// it).
    pub token: u64,
    /// Its properties, PR_ATTACH_NUM included: shared by the versions that hold it unchanged
    /// (base and current children, an open attachment), so that an attachment's data is held
    /// once however many versions hold it; a change is made on a copy (`Arc::make_mut`).
    pub props: Arc<PropMap>,
    pub embedded: Option<Box<Embedded>>,
}

/// A message inside an attachment (PR_ATTACH_DATA_OBJ).
#[derive(Debug, Clone, Default)]
pub(crate) struct Embedded {
    pub id: Option<u64>,
    /// Shared like an attachment's properties (the embedded message's working copy, its
    /// attachment's versions).
    pub props: Arc<PropMap>,
    pub children: Children,
}

#[derive(Debug, Clone)]
pub(crate) struct Recipient {
    pub id: Option<u64>,
    /// Its properties, PR_ROWID included.
    pub props: PropMap,
}

impl PartialEq for Children {
    fn eq(&self, other: &Self) -> bool {
        self.attachments == other.attachments && self.recipients == other.recipients
    }
}
impl PartialEq for Attach {
    fn eq(&self, other: &Self) -> bool {
        self.props == other.props && self.embedded == other.embedded
    }
}
impl PartialEq for Embedded {
    fn eq(&self, other: &Self) -> bool {
        self.props == other.props && self.children == other.children
    }
}
impl PartialEq for Recipient {
    fn eq(&self, other: &Self) -> bool {
        self.props == other.props
    }
}

impl Children {
    /// The payload of every property of every child (what PR_MESSAGE_SIZE adds for them).
    pub(crate) fn payload(&self) -> usize {
        let props = |m: &PropMap| m.values().map(PropValue::payload_size).sum::<usize>();
        let attachments: usize = self
            .attachments
            .values()
            .map(|a| {
                props(&a.props)
                    + a.embedded
                        .as_ref()
                        .map_or(0, |e| props(&e.props) + e.children.payload())
            })
            .sum();
        attachments
            + self
                .recipients
                .values()
                .map(|r| props(&r.props))
                .sum::<usize>()
    }

    /// The number a new attachment gets: one past every number in use.
    pub(crate) fn next_attach_num(&self) -> u32 {
        next_key(&self.attachments)
    }

    pub(crate) fn next_rowid(&self) -> u32 {
        next_key(&self.recipients)
    }

    /// The attachments' rows (their properties), in PR_ATTACH_NUM order: what an attachment
    /// table lists.
    pub(crate) fn attachment_rows(&self) -> Vec<PropMap> {
        self.attachments
            .values()
            .map(|a| PropMap::clone(&a.props))
            .collect()
    }

    /// The recipients' rows, in PR_ROWID order: what a recipient table lists.
    pub(crate) fn recipient_rows(&self) -> Vec<PropMap> {
        self.recipients.values().map(|r| r.props.clone()).collect()
    }

    /// PR_DISPLAY_TO / _CC / _BCC: the display names of the recipients of `id`'s type (MAPI_TO,
    /// MAPI_CC, MAPI_BCC; MAPI_SUBMITTED ignored), joined by "; ", in PR_ROWID order; None for
    /// another ID.
    pub(crate) fn display_list(&self, id: u16) -> Option<PropValue> {
        let wanted = match id {
            ID_DISPLAY_TO => MAPI_TO,
            ID_DISPLAY_CC => MAPI_CC,
            ID_DISPLAY_BCC => MAPI_BCC,
            _ => return None,
        };
        let names: Vec<String> = self
            .recipients
            .values()
            .filter(|r| {
                matches!(r.props.get(&ID_RECIPIENT_TYPE),
                    Some(PropValue::Long(t)) if *t as u32 & !MAPI_SUBMITTED == wanted)
            })
            .filter_map(|r| match r.props.get(&ID_DISPLAY_NAME) {
                Some(PropValue::Unicode(s)) => Some(s.clone()),
                Some(PropValue::String8(b)) => Some(String::from_utf8_lossy(b).into_owned()),
                _ => None,
            })
            .collect();
        Some(PropValue::Unicode(names.join("; ")))
    }

    /// The tag a conflict names for each kind of child that differs between two versions
    /// (PR_MESSAGE_ATTACHMENTS, PR_MESSAGE_RECIPIENTS).
    pub(crate) fn differing_tags(&self, other: &Children) -> Vec<u32> {
        let mut tags = Vec::new();
        if self.recipients != other.recipients {
            tags.push(PR_MESSAGE_RECIPIENTS);
        }
        if self.attachments != other.attachments {
            tags.push(PR_MESSAGE_ATTACHMENTS);
        }
        tags
    }
}

/// A working copy's children: the current version and the numbers handed out so far (a number
/// CreateAttach gave is not given again while the object is open, saved or not).
#[derive(Debug, Clone, Default)]
pub(crate) struct ChildEdits {
    pub current: Children,
    pub next_attach_num: u32,
    pub next_rowid: u32,
    /// Moves at every change of `current` (an edit through its host, a save's rebase): what an
    /// open attachment or recipient table compares to know it must select again.
    pub generation: u64,
}

impl ChildEdits {
    pub(crate) fn new(current: Children) -> ChildEdits {
        ChildEdits {
            next_attach_num: current.next_attach_num(),
            next_rowid: current.next_rowid(),
            current,
            generation: 0,
        }
    }

    /// After a save: `committed` is current, and no number given before is given again. An
    /// attachment keeps its token under its number, or under the one `renumbered` (a MERGE's
    /// old number → new number) gave it; one that took a renumbered attachment's old number is
    /// another attachment.
    pub(crate) fn rebase(&mut self, mut committed: Children, renumbered: &BTreeMap<u32, u32>) {
        self.next_attach_num = self.next_attach_num.max(committed.next_attach_num());
        self.next_rowid = self.next_rowid.max(committed.next_rowid());
        for (num, a) in committed.attachments.iter_mut() {
            let old = match renumbered.iter().find(|(_, new)| *new == num) {
                Some((old, _)) => Some(old),
                None => (!renumbered.contains_key(num)).then_some(num),
            };
            if let Some(prev) = old.and_then(|old| self.current.attachments.get(old)) {
                a.token = prev.token;
            }
        }
        self.current = committed;
        self.generation += 1;
    }
}

fn payload_of(props: &PropMap) -> usize {
    props.values().map(PropValue::payload_size).sum()
}

impl Attach {
    /// Its properties, to change: copied first if another version shares them.
    pub(crate) fn props_mut(&mut self) -> &mut PropMap {
        Arc::make_mut(&mut self.props)
    }

    /// Gives it PR_ATTACH_NUM `num` (its properties are copied only if the number changes).
    pub(crate) fn set_num(&mut self, num: u32) {
        let key = PropValue::Long(num as i32);
        if self.props.get(&ID_ATTACH_NUM) != Some(&key) {
            self.props_mut().insert(ID_ATTACH_NUM, key);
        }
    }

    /// The payload of its properties and of its embedded message (PR_ATTACH_SIZE).
    pub(crate) fn payload(&self) -> usize {
        payload_of(&self.props)
            + self
                .embedded
                .as_ref()
                .map_or(0, |e| payload_of(&e.props) + e.children.payload())
    }
}

/// A token no attachment had before.
pub(crate) fn new_token() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

fn next_key<T>(map: &BTreeMap<u32, T>) -> u32 {
    map.keys().next_back().map_or(0, |k| k.saturating_add(1))
}

fn with_key(mut props: PropMap, id: u16, key: u32) -> PropMap {
    props.insert(id, PropValue::Long(key as i32));
    props
}

fn key_of(props: &PropMap, id: u16) -> Option<u32> {
    match props.get(&id) {
        Some(PropValue::Long(n)) => Some(*n as u32),
        _ => None,
    }
}

/// The children of a stored object (a message or an embedded message), with their IDs.
pub(crate) fn load(t: &mut dyn ReadTxn, parent: u64) -> MapiResult<Children> {
    let mut children = Children::default();
    // One query for both kinds: it runs at every open, for most messages to find nothing.
    let rows = t.children_of_kinds(parent, &[KIND_ATTACHMENT, KIND_RECIPIENT])?;
    for row in rows.iter().filter(|r| r.kind == KIND_ATTACHMENT) {
        let props = load_props_deferring(t, row.id)?;
        let num = key_of(&props, ID_ATTACH_NUM).unwrap_or_else(|| children.next_attach_num());
        let embedded = match t.children(row.id, KIND_EMBEDDED_MESSAGE)?.first() {
            Some(e) => Some(Box::new(Embedded {
                id: Some(e.id),
                props: Arc::new(load_props_deferring(t, e.id)?),
                children: load(t, e.id)?,
            })),
            None => None,
        };
        children.attachments.insert(
            num,
            Attach {
                id: Some(row.id),
                token: new_token(),
                props: Arc::new(with_key(props, ID_ATTACH_NUM, num)),
                embedded,
            },
        );
    }
    add_recipients(
        t,
        rows.iter().filter(|r| r.kind == KIND_RECIPIENT),
        &mut children,
    )?;
    Ok(children)
}

/// The stored IDs of an object's children by key (PR_ATTACH_NUM, PR_ROWID), each attachment's
/// with its embedded message's: what a commit gave the children it wrote, read without their
/// values (a save does not read back a large attachment it has just written).
#[derive(Debug, Default)]
pub(crate) struct ChildIds {
    attachments: BTreeMap<u32, (u64, Option<(u64, ChildIds)>)>,
    recipients: BTreeMap<u32, u64>,
}

/// The children of a stored object as [`ChildIds`]; None when a child has no key (not one this
/// crate wrote: `load` numbers it).
pub(crate) fn load_ids(t: &mut dyn ReadTxn, parent: u64) -> MapiResult<Option<ChildIds>> {
    let mut ids = ChildIds::default();
    for row in t.children_of_kinds(parent, &[KIND_ATTACHMENT, KIND_RECIPIENT])? {
        let attachment = row.kind == KIND_ATTACHMENT;
        let key_id = if attachment { ID_ATTACH_NUM } else { ID_ROWID };
        let Some((_, PropValue::Long(key))) = t.prop(row.id, key_id)? else {
            return Ok(None);
        };
        let key = key as u32;
        if !attachment {
            ids.recipients.insert(key, row.id);
            continue;
        }
        let embedded = match t.children(row.id, KIND_EMBEDDED_MESSAGE)?.first() {
            Some(e) => match load_ids(t, e.id)? {
                Some(inner) => Some((e.id, inner)),
                None => return Ok(None),
            },
            None => None,
        };
        ids.attachments.insert(key, (row.id, embedded));
    }
    Ok(Some(ids))
}

impl Children {
    /// Whether `ids` has exactly these children (by key, embedded messages included).
    pub(crate) fn matches_ids(&self, ids: &ChildIds) -> bool {
        self.recipients.keys().eq(ids.recipients.keys())
            && self.attachments.len() == ids.attachments.len()
            && self.attachments.iter().all(|(num, a)| {
                match (ids.attachments.get(num), &a.embedded) {
                    (Some((_, None)), None) => true,
                    (Some((_, Some((_, inner)))), Some(e)) => e.children.matches_ids(inner),
                    _ => false,
                }
            })
    }

    /// Whether any of these children (or their embedded messages') holds a value left in the
    /// store.
    pub(crate) fn holds_large(&self) -> bool {
        let holds = |props: &PropMap| props.values().any(|v| v.is_large());
        self.attachments.values().any(|a| {
            holds(&a.props)
                || a.embedded
                    .as_ref()
                    .is_some_and(|e| holds(&e.props) || e.children.holds_large())
        })
    }

    /// These children without the values left in the store whose version is gone (another
    /// client replaced or deleted them, or the attachment holding them), in the children a
    /// commit over `stored` inserts as new objects (FORCE_SAVE and MERGE bringing back an
    /// attachment another client deleted, SAVE_ELSEWHERE's copy): their bytes exist nowhere any
    /// more, so the stored state of those values stays as the other client left it, as for the
    /// message's own large values (save.rs `plan_force`). Children rewritten in place keep their
    /// stored rows and are not probed. None: nothing to leave out.
    pub(crate) fn without_gone_large(
        &self,
        stored: &Children,
        t: &mut dyn ReadTxn,
    ) -> MapiResult<Option<Children>> {
        let mut out: Option<Children> = None;
        for (num, a) in &self.attachments {
            if stored.attachments.contains_key(num) {
                continue;
            }
            if let Some(fixed) = attach_without_gone(a, t)? {
                out.get_or_insert_with(|| self.clone())
                    .attachments
                    .insert(*num, fixed);
            }
        }
        Ok(out)
    }

    /// Whether every value these children left in the store (`PropValue::Large`) is stored
    /// under the child `ids` gives it: not so for one a commit copied from another object (a
    /// SAVE_ELSEWHERE's new children), whose reference would still name the original.
    pub(crate) fn large_values_name(&self, ids: &ChildIds) -> bool {
        let names = |props: &PropMap, id: u64| {
            props
                .values()
                .all(|v| !matches!(v, PropValue::Large(at) if at.obj != id))
        };
        self.attachments
            .iter()
            .all(|(num, a)| match (ids.attachments.get(num), &a.embedded) {
                (Some((id, None)), None) => names(&a.props, *id),
                (Some((id, Some((e_id, inner)))), Some(e)) => {
                    names(&a.props, *id)
                        && names(&e.props, *e_id)
                        && e.children.large_values_name(inner)
                }
                _ => false,
            })
    }

    /// These children as stored with `ids` (which [`Children::matches_ids`]): each gets its
    /// stored ID and its key as written.
    pub(crate) fn take_ids(&mut self, ids: &ChildIds) {
        for (num, a) in self.attachments.iter_mut() {
            let Some((id, embedded)) = ids.attachments.get(num) else {
                continue;
            };
            a.id = Some(*id);
            a.set_num(*num);
            if let (Some(e), Some((id, inner))) = (a.embedded.as_mut(), embedded) {
                e.id = Some(*id);
                e.children.take_ids(inner);
            }
        }
        for (rowid, r) in self.recipients.iter_mut() {
            if let Some(id) = ids.recipients.get(rowid) {
                r.id = Some(*id);
                r.props.insert(ID_ROWID, PropValue::Long(*rowid as i32));
            }
        }
    }
}

/// Only the recipients of a stored message (what its PR_DISPLAY_TO / _CC / _BCC are made of,
/// for a contents table's row), without reading its attachments.
pub(crate) fn load_recipients(t: &mut dyn ReadTxn, parent: u64) -> MapiResult<Children> {
    let mut children = Children::default();
    let rows = t.children(parent, KIND_RECIPIENT)?;
    add_recipients(t, rows.iter(), &mut children)?;
    Ok(children)
}

fn add_recipients<'a>(
    t: &mut dyn ReadTxn,
    rows: impl Iterator<Item = &'a ObjectRow>,
    children: &mut Children,
) -> MapiResult<()> {
    for row in rows {
        let props = load_props(t, row.id)?;
        let rowid = key_of(&props, ID_ROWID).unwrap_or_else(|| children.next_rowid());
        children.recipients.insert(
            rowid,
            Recipient {
                id: Some(row.id),
                props: with_key(props, ID_ROWID, rowid),
            },
        );
    }
    Ok(())
}

/// One child write. Its properties are lent by the wanted children (no value is copied to be
/// written); only its key (PR_ATTACH_NUM, PR_ROWID) is its own.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ChildWrite<'a> {
    target: Target,
    /// The child's whole property set (None: its properties are unchanged).
    props: Option<&'a PropMap>,
    /// Written in place of the set's own value for that ID.
    key: Option<(u16, PropValue)>,
    children: Vec<ChildWrite<'a>>,
}

impl ChildWrite<'_> {
    pub(crate) fn change_set(&self) -> ChangeSet<'_> {
        ChangeSet {
            target: self.target,
            puts: self
                .props
                .map(|p| rows(p, self.key.as_ref()))
                .unwrap_or_default(),
            deletes: &[],
            replace_all: self.props.is_some(),
            maintained: &maintains_nothing,
            children: self.children.iter().map(ChildWrite::change_set).collect(),
        }
    }
}

/// The change sets of a list of child writes.
pub(crate) fn change_sets<'a>(writes: &'a [ChildWrite]) -> Vec<ChangeSet<'a>> {
    writes.iter().map(ChildWrite::change_set).collect()
}

/// A child's rows: `props`, with `key` in place of the value it has for that ID (if any).
fn rows<'a>(props: &'a PropMap, key: Option<&'a (u16, PropValue)>) -> Vec<PropRef<'a>> {
    let key_id = key.map(|(id, _)| *id);
    let mut rows: Vec<PropRef> = props
        .iter()
        .filter(|(id, _)| Some(**id) != key_id)
        .chain(key.map(|(id, v)| (id, v)))
        .map(|(id, v)| (prop_tag(v.ptype(), *id), v))
        .collect();
    rows.sort_by_key(|(tag, _)| prop_id(*tag));
    rows
}

/// A child's key as it is written.
fn key(id: u16, key: u32) -> Option<(u16, PropValue)> {
    Some((id, PropValue::Long(key as i32)))
}

/// Whether a stored child's properties differ from `props` with `key`.
fn differs(stored: &PropMap, props: &PropMap, key: &Option<(u16, PropValue)>) -> bool {
    rows(stored, None) != rows(props, key.as_ref())
}

fn new_embedded(e: &Embedded) -> ChildWrite<'_> {
    ChildWrite {
        target: Target::NewChild {
            kind: KIND_EMBEDDED_MESSAGE,
        },
        props: Some(&e.props),
        key: None,
        children: writes(&Children::default(), &e.children),
    }
}

/// `a` (inserted as a new object, with its embedded message) without its gone large values.
fn attach_without_gone(a: &Attach, t: &mut dyn ReadTxn) -> MapiResult<Option<Attach>> {
    let props = without_gone_large(t, &a.props)?;
    let embedded = match &a.embedded {
        Some(e) => {
            let props = without_gone_large(t, &e.props)?;
            let children = e.children.without_gone_large(&Children::default(), t)?;
            (props.is_some() || children.is_some()).then(|| Embedded {
                id: e.id,
                props: props.map(Arc::new).unwrap_or_else(|| e.props.clone()),
                children: children.unwrap_or_else(|| e.children.clone()),
            })
        }
        None => None,
    };
    if props.is_none() && embedded.is_none() {
        return Ok(None);
    }
    let mut a = a.clone();
    if let Some(p) = props {
        a.props = Arc::new(p);
    }
    if let Some(e) = embedded {
        a.embedded = Some(Box::new(e));
    }
    Ok(Some(a))
}

/// What turns the stored children `stored` (with their IDs) into `wanted`: new children
/// created, changed ones rewritten, missing ones deleted (with their own children).
pub(crate) fn writes<'a>(stored: &Children, wanted: &'a Children) -> Vec<ChildWrite<'a>> {
    let mut out = Vec::new();
    for (num, a) in &wanted.attachments {
        let key = key(ID_ATTACH_NUM, *num);
        match stored.attachments.get(num) {
            Some(s) if s == a => {}
            Some(Attach { id: Some(id), .. }) => {
                let s = &stored.attachments[num];
                let mut children = Vec::new();
                match (&s.embedded, &a.embedded) {
                    (Some(se), Some(ae)) if se == ae => {}
                    (Some(se), Some(ae)) if se.id.is_some() => children.push(ChildWrite {
                        target: Target::Child {
                            id: se.id.expect("checked"),
                        },
                        props: (se.props != ae.props).then_some(&ae.props),
                        key: None,
                        children: writes(&se.children, &ae.children),
                    }),
                    (se, ae) => {
                        if let Some(id) = se.as_ref().and_then(|e| e.id) {
                            children.push(ChildWrite {
                                target: Target::DeletedChild { id },
                                props: None,
                                key: None,
                                children: Vec::new(),
                            });
                        }
                        if let Some(ae) = ae {
                            children.push(new_embedded(ae));
                        }
                    }
                }
                out.push(ChildWrite {
                    target: Target::Child { id: *id },
                    props: differs(&s.props, &a.props, &key).then_some(&a.props),
                    key,
                    children,
                });
            }
            _ => out.push(ChildWrite {
                target: Target::NewChild {
                    kind: KIND_ATTACHMENT,
                },
                props: Some(&a.props),
                key,
                children: a.embedded.iter().map(|e| new_embedded(e)).collect(),
            }),
        }
    }
    for (rowid, r) in &wanted.recipients {
        let key = key(ID_ROWID, *rowid);
        match stored.recipients.get(rowid) {
            Some(s) if !differs(&s.props, &r.props, &key) => {}
            Some(Recipient { id: Some(id), .. }) => out.push(ChildWrite {
                target: Target::Child { id: *id },
                props: Some(&r.props),
                key,
                children: Vec::new(),
            }),
            _ => out.push(ChildWrite {
                target: Target::NewChild {
                    kind: KIND_RECIPIENT,
                },
                props: Some(&r.props),
                key,
                children: Vec::new(),
            }),
        }
    }
    let gone_attachments = stored
        .attachments
        .iter()
        .filter(|(num, _)| !wanted.attachments.contains_key(num))
        .filter_map(|(_, a)| a.id);
    let gone_recipients = stored
        .recipients
        .iter()
        .filter(|(rowid, _)| !wanted.recipients.contains_key(rowid))
        .filter_map(|(_, r)| r.id);
    for id in gone_attachments.chain(gone_recipients) {
        out.push(ChildWrite {
            target: Target::DeletedChild { id },
            props: None,
            key: None,
            children: Vec::new(),
        });
    }
    out
}

/// The resolver's MERGE for children: the stored children plus this client's child changes
/// since `base` (a child it changed or added wins; one it deleted goes). A child it added under
/// a number another client took meanwhile is renumbered past every number in use.
/// Returns the merged children and the attachments renumbered (old number → new number).
pub(crate) fn merge(
    base: &Children,
    mine: &Children,
    stored: &Children,
) -> (Children, BTreeMap<u32, u32>) {
    let mut out = stored.clone();
    let renumbered = merge_map(
        &base.attachments,
        &mine.attachments,
        &mut out.attachments,
        |a, num| {
            a.props_mut()
                .insert(ID_ATTACH_NUM, PropValue::Long(num as i32))
        },
    );
    merge_map(
        &base.recipients,
        &mine.recipients,
        &mut out.recipients,
        |r, rowid| r.props.insert(ID_ROWID, PropValue::Long(rowid as i32)),
    );
    (out, renumbered)
}

fn merge_map<T: Clone + PartialEq>(
    base: &BTreeMap<u32, T>,
    mine: &BTreeMap<u32, T>,
    out: &mut BTreeMap<u32, T>,
    renumber: impl Fn(&mut T, u32) -> Option<PropValue>,
) -> BTreeMap<u32, u32> {
    let mut renumbered = BTreeMap::new();
    for (key, b) in base {
        match mine.get(key) {
            None => {
                out.remove(key);
            }
            Some(m) if m != b => {
                out.insert(*key, m.clone());
            }
            Some(_) => {}
        }
    }
    let mut next = next_key(out).max(next_key(mine));
    for (key, m) in mine.iter().filter(|(k, _)| !base.contains_key(k)) {
        if out.contains_key(key) {
            let mut m = m.clone();
            renumber(&mut m, next);
            out.insert(next, m);
            renumbered.insert(*key, next);
            next = next.saturating_add(1);
        } else {
            out.insert(*key, m.clone());
        }
    }
    renumbered
}

/// A copy of `children` as new, never stored.
#[cfg(test)]
fn unstored(children: &Children) -> Children {
    let mut out = children.clone();
    forget_ids(&mut out);
    out
}

/// Makes `children` new: none of them stored (a copy's).
pub(crate) fn forget_ids(children: &mut Children) {
    for a in children.attachments.values_mut() {
        a.id = None;
        if let Some(e) = a.embedded.as_mut() {
            e.id = None;
            forget_ids(&mut e.children);
        }
    }
    for r in children.recipients.values_mut() {
        r.id = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attach(id: Option<u64>, num: u32, data: &[u8]) -> Attach {
        let mut props = PropMap::new();
        props.insert(ID_ATTACH_NUM, PropValue::Long(num as i32));
        props.insert(
            prop_id(PR_ATTACH_DATA_BIN),
            PropValue::Binary(data.to_vec()),
        );
        Attach {
            id,
            token: new_token(),
            props: Arc::new(props),
            embedded: None,
        }
    }

    fn recipient(id: Option<u64>, rowid: u32, name: &str) -> Recipient {
        let mut props = PropMap::new();
        props.insert(ID_ROWID, PropValue::Long(rowid as i32));
        props.insert(prop_id(PR_DISPLAY_NAME_W), PropValue::Unicode(name.into()));
        Recipient { id, props }
    }

    fn stored() -> Children {
        let mut c = Children::default();
        c.attachments.insert(0, attach(Some(10), 0, b"zero"));
        c.attachments.insert(1, attach(Some(11), 1, b"one"));
        c.recipients.insert(0, recipient(Some(20), 0, "ann"));
        c
    }

    fn targets(w: &[ChildWrite]) -> Vec<Target> {
        w.iter().map(|w| w.target).collect()
    }

    #[test]
    fn writes_create_rewrite_and_delete_only_what_differs() {
        let s = stored();
        assert!(
            writes(&s, &s).is_empty(),
            "nothing differs, nothing written"
        );
        let mut wanted = unstored(&s);
        assert!(writes(&s, &wanted).is_empty(), "IDs are not content");
        wanted.attachments.remove(&0);
        wanted
            .attachments
            .get_mut(&1)
            .unwrap()
            .props_mut()
            .insert(0x6001, PropValue::Long(1));
        wanted.attachments.insert(2, attach(None, 2, b"two"));
        wanted.recipients.insert(1, recipient(None, 1, "bob"));
        let w = writes(&s, &wanted);
        assert_eq!(
            targets(&w),
            vec![
                Target::Child { id: 11 },
                Target::NewChild {
                    kind: KIND_ATTACHMENT
                },
                Target::NewChild {
                    kind: KIND_RECIPIENT
                },
                Target::DeletedChild { id: 10 },
            ]
        );
        assert!(w[0]
            .change_set()
            .puts
            .contains(&(0x6001_0003, &PropValue::Long(1))));
    }

    #[test]
    fn an_embedded_message_is_written_as_a_child_of_its_attachment() {
        let s = stored();
        let mut wanted = s.clone();
        let mut inner = Children::default();
        inner.recipients.insert(0, recipient(None, 0, "inner"));
        wanted.attachments.get_mut(&0).unwrap().embedded = Some(Box::new(Embedded {
            id: None,
            props: Arc::default(),
            children: inner,
        }));
        let w = writes(&s, &wanted);
        assert_eq!(targets(&w), vec![Target::Child { id: 10 }]);
        assert_eq!(
            w[0].props, None,
            "the attachment's own properties are unchanged"
        );
        assert_eq!(
            targets(&w[0].children),
            vec![Target::NewChild {
                kind: KIND_EMBEDDED_MESSAGE
            }]
        );
        assert_eq!(
            targets(&w[0].children[0].children),
            vec![Target::NewChild {
                kind: KIND_RECIPIENT
            }]
        );
        assert!(wanted.payload() > s.payload());
    }

    #[test]
    fn merge_keeps_their_children_and_mine_renumbering_a_taken_number() {
        let base = stored();
        // They added attachment 2 and changed recipient 0.
        let mut theirs = base.clone();
        theirs.attachments.insert(2, attach(Some(12), 2, b"theirs"));
        theirs
            .recipients
            .insert(0, recipient(Some(20), 0, "ann (theirs)"));
        // I added attachment 2 too, deleted attachment 0 and added a recipient.
        let mut mine = base.clone();
        mine.attachments.insert(2, attach(None, 2, b"mine"));
        mine.attachments.remove(&0);
        mine.recipients.insert(1, recipient(None, 1, "bob"));
        let (merged, renumbered) = merge(&base, &mine, &theirs);
        assert_eq!(renumbered, BTreeMap::from([(2, 3)]));
        assert_eq!(
            merged.attachments.keys().copied().collect::<Vec<_>>(),
            [1, 2, 3]
        );
        assert_eq!(merged.attachments[&2], theirs.attachments[&2]);
        assert_eq!(
            merged.attachments[&3]
                .props
                .get(&prop_id(PR_ATTACH_DATA_BIN)),
            Some(&PropValue::Binary(b"mine".to_vec()))
        );
        assert_eq!(
            key_of(&merged.attachments[&3].props, ID_ATTACH_NUM),
            Some(3)
        );
        assert_eq!(merged.recipients[&0], theirs.recipients[&0], "theirs kept");
        assert_eq!(merged.recipients[&1], mine.recipients[&1], "mine added");
    }
}
