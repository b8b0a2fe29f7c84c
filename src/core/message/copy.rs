//! Copying messages (issue 15 item 3): a stored message copied inside a write transaction
//! (CopyMessages, CopyFolder), and a working copy's children taken for another one (CopyTo,
//! CopyProps).
//!
//! A copy is a new message: new entry ID, record key, change number, change key and a PCL of
//! its own commit alone, a new PR_CREATION_TIME; everything else the original stores is kept,
//! PR_SEARCH_KEY included (MAPI: a copy has its original's search key), and its attachments and
//! recipients (with their embedded messages) are copied as new children in the same commit.

use super::super::copy::{named_renumbering, Renumbering};
use super::super::error::{MapiError, MapiResult};
use super::super::folder::OBJ_FLAG_ASSOCIATED;
use super::super::mapidefs::*;
use super::super::store::{load_props_deferring, Store};
use super::super::value::PropValue;
use super::attach::Host;
use super::children::{
    self, forget_ids, new_token, Attach, Children, Embedded, Recipient, ID_ROWID,
};
use super::insert_new;
use super::save::{plan_new, Edits};
use super::working::Changes;
use crate::storage::{WriteTxn, KIND_MESSAGE};
use std::collections::BTreeSet;
use std::sync::Arc;

/// Copies the stored message `id` into the folder `dest` in the caller's transaction (the
/// message is locked first, so its properties and children are one version on every engine).
/// None: `id` is not a stored message. Returns the copy's ID.
pub(crate) fn copy_stored(
    t: &mut dyn WriteTxn,
    guid: &[u8; 16],
    id: u64,
    dest: u64,
    now: u64,
) -> MapiResult<Option<u64>> {
    let Some(row) = t.lock_object(id)?.filter(|r| r.kind == KIND_MESSAGE) else {
        return Ok(None);
    };
    // Large values stay in the store: the engine copies them (same transaction, same version).
    let props = load_props_deferring(t, id)?;
    let mut kids = children::load(t, id)?;
    forget_ids(&mut kids);
    let associated = row.flags & OBJ_FLAG_ASSOCIATED != 0;
    // The maintained properties (change key, PCL, times, size) are the copy's own.
    let none = Changes::new();
    let mut plan = plan_new(&props, &none, Edits::new(), associated, now);
    plan.children_total = kids.payload();
    let writes = children::writes(&Children::default(), &kids);
    let puts = plan.puts(&props, &none);
    let (copy, _cn) = insert_new(t, guid, (dest, associated), (&plan, puts), &writes, now)?;
    Ok(Some(copy))
}

/// Which children a CopyTo or CopyProps brings along: PR_MESSAGE_ATTACHMENTS and
/// PR_MESSAGE_RECIPIENTS, the PT_OBJECT properties that stand for them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChildSet {
    pub attachments: bool,
    pub recipients: bool,
    /// An attachment's embedded message (PR_ATTACH_DATA_OBJ, whose ID PR_ATTACH_DATA_BIN
    /// shares).
    pub embedded: bool,
}

impl ChildSet {
    /// CopyTo: every kind whose property `excluded` does not name.
    pub fn all_but(excluded: &[u32]) -> ChildSet {
        let named = |tag: u32| excluded.iter().any(|e| e >> 16 == tag >> 16);
        ChildSet {
            attachments: !named(PR_MESSAGE_ATTACHMENTS),
            recipients: !named(PR_MESSAGE_RECIPIENTS),
            embedded: !named(PR_ATTACH_DATA_OBJ),
        }
    }

    /// CopyProps: the kinds whose property `included` names.
    pub fn named_in(included: &[u32]) -> ChildSet {
        let named = |tag: u32| included.iter().any(|e| e >> 16 == tag >> 16);
        ChildSet {
            attachments: named(PR_MESSAGE_ATTACHMENTS),
            recipients: named(PR_MESSAGE_RECIPIENTS),
            embedded: named(PR_ATTACH_DATA_OBJ),
        }
    }

    pub fn is_empty(self) -> bool {
        !self.attachments && !self.recipients && !self.embedded
    }

    /// Whether `tag` is one of the PT_OBJECT properties that stand for children (copied as
    /// objects, never as values).
    pub fn stands_for_children(tag: u32) -> bool {
        matches!(tag >> 16, 0x0E12 | 0x0E13) || tag == PR_ATTACH_DATA_OBJ
    }
}

/// Children taken from one working copy for another: new there (no stored IDs).
pub struct ChildrenCopy {
    /// The store they come from (whose named-property numbers they carry).
    from: Arc<Store>,
    attachments: Vec<Attach>,
    /// None: recipients were not taken.
    recipients: Option<Vec<Recipient>>,
}

impl ChildrenCopy {
    /// Every property ID of every child, embedded messages' included.
    fn prop_ids(&self) -> BTreeSet<u16> {
        let mut out = BTreeSet::new();
        self.attachments
            .iter()
            .for_each(|a| attach_prop_ids(a, &mut out));
        for r in self.recipients.iter().flatten() {
            out.extend(r.props.keys());
        }
        out
    }
}

/// Reads whole every value of `a` (and of its embedded message) that was left in `from`: a copy
/// carries bytes, so that it stands whatever becomes of its source and whichever store it
/// lands in.
fn read_attach_values(a: &mut Attach, from: &Store) -> MapiResult<()> {
    if a.props.values().any(|v| v.is_large()) {
        from.read_whole_values(Arc::make_mut(&mut a.props))?;
    }
    if let Some(e) = &mut a.embedded {
        read_embedded_values(e, from)?;
    }
    Ok(())
}

fn read_embedded_values(e: &mut Embedded, from: &Store) -> MapiResult<()> {
    if e.props.values().any(|v| v.is_large()) {
        from.read_whole_values(Arc::make_mut(&mut e.props))?;
    }
    for a in e.children.attachments.values_mut() {
        read_attach_values(a, from)?;
    }
    Ok(())
}

/// Renumbers the named properties of an attachment and everything in it.
fn renumber_attach(a: &mut Attach, r: &Renumbering) {
    r.map(a.props_mut());
    if let Some(e) = a.embedded.as_mut() {
        renumber_embedded(e, r);
    }
}

fn renumber_embedded(e: &mut Embedded, r: &Renumbering) {
    r.map(Arc::make_mut(&mut e.props));
    e.children
        .attachments
        .values_mut()
        .for_each(|a| renumber_attach(a, r));
    e.children
        .recipients
        .values_mut()
        .for_each(|x| r.map(&mut x.props));
}

/// The property IDs of a message's children and of what they hold.
fn children_prop_ids(c: &Children, out: &mut BTreeSet<u16>) {
    c.attachments.values().for_each(|a| attach_prop_ids(a, out));
    c.recipients
        .values()
        .for_each(|r| out.extend(r.props.keys()));
}

fn attach_prop_ids(a: &Attach, out: &mut BTreeSet<u16>) {
    out.extend(a.props.keys());
    if let Some(e) = &a.embedded {
        out.extend(e.props.keys());
        children_prop_ids(&e.children, out);
    }
}

/// An attachment's embedded message taken for another attachment: new there (no stored IDs).
pub struct EmbeddedCopy {
    from: Arc<Store>,
    embedded: Embedded,
}

impl EmbeddedCopy {
    pub(super) fn new(from: Arc<Store>, mut embedded: Embedded) -> EmbeddedCopy {
        embedded.id = None;
        forget_ids(&mut embedded.children);
        EmbeddedCopy { from, embedded }
    }

    /// The embedded message as `to` numbers named properties, its values whole.
    pub(super) fn into_embedded(mut self, to: &Store) -> MapiResult<Embedded> {
        read_embedded_values(&mut self.embedded, &self.from)?;
        let mut ids: BTreeSet<u16> = self.embedded.props.keys().copied().collect();
        children_prop_ids(&self.embedded.children, &mut ids);
        let renumbering = named_renumbering(&self.from, to, ids)?;
        let mut e = self.embedded;
        renumber_embedded(&mut e, &renumbering);
        Ok(e)
    }
}

/// The children `which` names of `host`'s working copy (a message of `from`), its unsaved
/// changes included.
pub(super) fn take(host: &dyn Host, from: Arc<Store>, which: ChildSet) -> MapiResult<ChildrenCopy> {
    let mut taken = Children::default();
    host.edit(false, "CopyTo", &mut |k| {
        if which.attachments {
            taken.attachments = k.current.attachments.clone();
        }
        if which.recipients {
            taken.recipients = k.current.recipients.clone();
        }
        Ok(())
    })?;
    forget_ids(&mut taken);
    Ok(ChildrenCopy {
        from,
        attachments: taken.attachments.into_values().collect(),
        recipients: which
            .recipients
            .then(|| taken.recipients.into_values().collect()),
    })
}

fn numbers_used(what: &str) -> MapiError {
    MapiError::new(
        MAPI_E_NOT_ENOUGH_RESOURCES,
        format!("CopyTo: the destination message has used every {what}"),
    )
}

/// Puts copied children into `host`'s working copy (stored by its SaveChanges): attachments
/// are added, numbered after every number the destination has given; recipients replace the
/// destination's list (ModifyRecipients' replace), unless `noreplace` and it has recipients.
/// A copy from another store has its named properties renumbered to `to`'s (copy.rs in core).
pub(super) fn receive(
    host: &dyn Host,
    to: &Store,
    mut copy: ChildrenCopy,
    noreplace: bool,
) -> MapiResult<()> {
    for a in &mut copy.attachments {
        read_attach_values(a, &copy.from)?;
    }
    let renumbering = named_renumbering(&copy.from, to, copy.prop_ids())?;
    if !renumbering.is_empty() {
        copy.attachments
            .iter_mut()
            .for_each(|a| renumber_attach(a, &renumbering));
        for r in copy.recipients.iter_mut().flatten() {
            renumbering.map(&mut r.props);
        }
    }
    host.edit(true, "CopyTo", &mut |k| {
        let mut next = k.next_attach_num;
        let mut added = Vec::with_capacity(copy.attachments.len());
        for a in &copy.attachments {
            let mut a = a.clone();
            a.token = new_token();
            a.set_num(next);
            added.push((next, a));
            next = next
                .checked_add(1)
                .ok_or_else(|| numbers_used("attachment number"))?;
        }
        let mut next_row = k.next_rowid;
        let mut recipients = None;
        if let Some(list) = &copy.recipients {
            if !noreplace || k.current.recipients.is_empty() {
                let mut replaced = std::collections::BTreeMap::new();
                for r in list {
                    let mut r = r.clone();
                    r.props.insert(ID_ROWID, PropValue::Long(next_row as i32));
                    replaced.insert(next_row, r);
                    next_row = next_row
                        .checked_add(1)
                        .ok_or_else(|| numbers_used("PR_ROWID"))?;
                }
                recipients = Some(replaced);
            }
        }
        // Nothing changes unless everything fits.
        k.current.attachments.extend(added);
        k.next_attach_num = next;
        if let Some(r) = recipients {
            k.current.recipients = r;
            k.next_rowid = next_row;
        }
        Ok(())
    })
}

/// MAPI_MOVE: the children `which` names leave `host`'s working copy.
pub(super) fn remove(host: &dyn Host, which: ChildSet) -> MapiResult<()> {
    host.edit(true, "CopyTo", &mut |k| {
        if which.attachments {
            k.current.attachments.clear();
        }
        if which.recipients {
            k.current.recipients.clear();
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::super::super::props::{PropInput, PropObject, PropView};
    use super::super::super::store::{Opened, Store};
    use super::super::children::ID_ATTACH_NUM;
    use super::super::{AttachHost, Message};
    use super::*;
    use crate::storage::memory::MemoryEngine;

    const SUBJECT: u32 = PR_SUBJECT_W;

    fn store() -> Arc<Store> {
        Store::on_engine(Box::new(MemoryEngine::default()))
    }

    fn input(tag: u32, value: PropValue) -> PropInput {
        PropInput {
            index: 0,
            tag,
            value,
        }
    }

    fn get(m: &dyn PropObject, tag: u32) -> Option<PropValue> {
        let mut out = None;
        m.read(&mut |v: &dyn PropView| out = v.get((tag >> 16) as u16).map(|c| c.into_owned()))
            .unwrap();
        out
    }

    fn root(s: &Arc<Store>) -> crate::core::folder::Folder {
        let Opened::Folder(f) = s.open_entry(None, MAPI_MODIFY).unwrap() else {
            unreachable!()
        };
        f
    }

    /// A message with a subject, two attachments and one recipient, not yet saved.
    fn with_children(s: &Arc<Store>) -> Message {
        let m = root(s).create_message(0).unwrap();
        m.set_props(vec![input(SUBJECT, PropValue::Unicode("hello".into()))])
            .unwrap();
        for data in [b"one".to_vec(), b"two".to_vec()] {
            let (_, a) = m.create_attach(0).unwrap();
            a.set_props(vec![input(PR_ATTACH_DATA_BIN, PropValue::Binary(data))])
                .unwrap();
            a.save_changes(0).unwrap();
        }
        m.modify_recipients(
            0,
            vec![vec![input(
                PR_DISPLAY_NAME_W,
                PropValue::Unicode("Ann".into()),
            )]],
        )
        .unwrap();
        m
    }

    fn open(s: &Arc<Store>, eid: &[u8]) -> Box<Message> {
        match s.open_entry(Some(eid), MAPI_MODIFY).unwrap() {
            Opened::Message(m) => m,
            Opened::Folder(_) => unreachable!(),
        }
    }

    #[test]
    fn child_sets_follow_the_exclude_and_include_lists() {
        let all = ChildSet::all_but(&[]);
        assert!(all.attachments && all.recipients);
        let no_attach = ChildSet::all_but(&[PR_MESSAGE_ATTACHMENTS]);
        assert!(!no_attach.attachments && no_attach.recipients);
        assert!(ChildSet::named_in(&[PR_SUBJECT_W]).is_empty());
        assert_eq!(
            ChildSet::named_in(&[PR_MESSAGE_RECIPIENTS]),
            ChildSet {
                attachments: false,
                recipients: true,
                embedded: false,
            }
        );
        assert!(ChildSet::stands_for_children(PR_MESSAGE_ATTACHMENTS));
        assert!(!ChildSet::stands_for_children(PR_SUBJECT_W));
    }

    #[test]
    fn children_copied_into_a_working_copy_are_stored_by_its_save() {
        let s = store();
        let src = with_children(&s);
        src.save_changes(KEEP_OPEN_READWRITE).unwrap();
        let dest = root(&s).create_message(0).unwrap();
        // The destination has an attachment of its own: the copies come after it.
        let (_, own) = dest.create_attach(0).unwrap();
        own.save_changes(0).unwrap();
        let copy = src.copy_children(ChildSet::all_but(&[])).unwrap();
        dest.receive_children(copy, false).unwrap();
        dest.save_changes(KEEP_OPEN_READWRITE).unwrap();
        let reopened = open(&s, &dest.entry_id().unwrap());
        let rows = reopened.attachment_rows().unwrap();
        assert_eq!(rows.len(), 3);
        let nums: Vec<_> = rows
            .iter()
            .map(|r| r.get(&ID_ATTACH_NUM).cloned())
            .collect();
        assert_eq!(
            nums,
            vec![
                Some(PropValue::Long(0)),
                Some(PropValue::Long(1)),
                Some(PropValue::Long(2))
            ]
        );
        let data = crate::core::value::prop_id(PR_ATTACH_DATA_BIN);
        assert_eq!(
            rows[2].get(&data),
            Some(&PropValue::Binary(b"two".to_vec()))
        );
        assert_eq!(reopened.recipient_rows().unwrap().len(), 1);
        // The source is untouched.
        assert_eq!(
            open(&s, &src.entry_id().unwrap())
                .attachment_rows()
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn noreplace_keeps_the_destinations_recipients_and_move_empties_the_source() {
        let s = store();
        let src = with_children(&s);
        let dest = root(&s).create_message(0).unwrap();
        dest.modify_recipients(
            0,
            vec![vec![input(
                PR_DISPLAY_NAME_W,
                PropValue::Unicode("Bob".into()),
            )]],
        )
        .unwrap();
        let which = ChildSet::named_in(&[PR_MESSAGE_RECIPIENTS]);
        dest.receive_children(src.copy_children(which).unwrap(), true)
            .unwrap();
        let rows = dest.recipient_rows().unwrap();
        assert_eq!(rows.len(), 1);
        let name = crate::core::value::prop_id(PR_DISPLAY_NAME_W);
        assert_eq!(rows[0].get(&name), Some(&PropValue::Unicode("Bob".into())));
        assert!(dest.attachment_rows().unwrap().is_empty(), "not named");
        dest.receive_children(src.copy_children(which).unwrap(), false)
            .unwrap();
        let rows = dest.recipient_rows().unwrap();
        assert_eq!(rows[0].get(&name), Some(&PropValue::Unicode("Ann".into())));
        src.remove_children(ChildSet::all_but(&[])).unwrap();
        assert!(src.attachment_rows().unwrap().is_empty());
        assert!(src.recipient_rows().unwrap().is_empty());
    }

    #[test]
    fn a_stored_copy_is_a_new_message_with_its_children_and_search_key() {
        let s = store();
        let src = with_children(&s);
        src.set_props(vec![input(PR_SEARCH_KEY, PropValue::Binary(vec![7; 16]))])
            .unwrap();
        src.save_changes(KEEP_OPEN_READWRITE).unwrap();
        let id = crate::core::ids::parse_entry_id(s.guid(), &src.entry_id().unwrap())
            .unwrap()
            .id;
        let guid = *s.guid();
        let copy = s
            .storage()
            .write(|t| copy_stored(t, &guid, id, crate::storage::ROOT_FOLDER_ID, 1))
            .unwrap()
            .expect("a message");
        assert_ne!(copy, id);
        let c = open(&s, &s.entry_id(MAPI_MESSAGE, copy));
        assert_eq!(get(&*c, SUBJECT), get(&src, SUBJECT));
        assert_eq!(
            get(&*c, PR_SEARCH_KEY),
            Some(PropValue::Binary(vec![7; 16]))
        );
        assert_ne!(get(&*c, PR_CHANGE_KEY), get(&src, PR_CHANGE_KEY));
        assert_ne!(get(&*c, PR_RECORD_KEY), get(&src, PR_RECORD_KEY));
        assert_eq!(c.attachment_rows().unwrap().len(), 2);
        assert_eq!(c.recipient_rows().unwrap().len(), 1);
        assert_eq!(get(&*c, PR_MESSAGE_SIZE), get(&src, PR_MESSAGE_SIZE));
        // Not a message: nothing copied.
        assert_eq!(
            s.storage()
                .write(|t| copy_stored(t, &guid, crate::storage::ROOT_FOLDER_ID, 2, 1))
                .unwrap(),
            None
        );
    }
}
