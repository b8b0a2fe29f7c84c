//! Attachments, recipients and embedded messages as a client edits them (reference §11). Each
//! is transacted into its parent, never into the store: an attachment's SaveChanges puts its
//! working copy into its message's (or embedded message's) children, an embedded message's
//! SaveChanges puts its own into its attachment, and only the top message's SaveChanges stores
//! them, inside its compare-and-swap (§11.3). A child holds its parent weakly: once the client
//! released the parent, a child's save has nowhere to go and says so.

use super::super::error::{check_flags, MapiError, MapiResult};
use super::super::mapidefs::*;
use super::super::props::{
    computed_problem, Problem, PropInput, PropMap, PropObject, PropView, SAVE_CHANGES_FLAGS,
};
use super::super::store::Store;
use super::super::stream::StreamOwner;
use super::super::value::{prop_id, prop_tag, PropValue};
use super::children::{
    new_token, Attach, ChildEdits, Embedded, Recipient, ID_ATTACH_NUM, ID_ROWID,
};
use super::computed::message_is_computed;
use super::copy::{self, ChildSet, ChildrenCopy, EmbeddedCopy};
use super::tables::{ChildKind, ChildTable};
use crate::core::table::view::TableView;
use parking_lot::Mutex;
use std::borrow::Cow;
use std::sync::{Arc, Weak};

/// What holds attachments and recipients while a client edits them: a message's working copy
/// or an embedded message's.
pub(crate) trait Host: Send + Sync {
    /// Whether the holder is open for writing.
    fn writable(&self) -> bool;
    /// Runs `f` on the holder's children (MAPI_E_NO_ACCESS first if `write` and the holder is
    /// read-only), under the holder's lock.
    fn edit(
        &self,
        write: bool,
        method: &str,
        f: &mut dyn FnMut(&mut ChildEdits) -> MapiResult<()>,
    ) -> MapiResult<()>;
}

/// A working copy with children: a message's or an embedded message's.
pub(crate) trait HoldsChildren: Send {
    /// Its children and whether it is open for writing.
    fn children_and_access(&mut self) -> (&mut ChildEdits, bool);
}

impl<T: HoldsChildren> Host for Mutex<T> {
    fn writable(&self) -> bool {
        self.lock().children_and_access().1
    }
    fn edit(
        &self,
        write: bool,
        method: &str,
        f: &mut dyn FnMut(&mut ChildEdits) -> MapiResult<()>,
    ) -> MapiResult<()> {
        let mut st = self.lock();
        let (kids, writable) = st.children_and_access();
        if write && !writable {
            return Err(MapiError::no_access(format!(
                "{method}: the message is open read-only"
            )));
        }
        f(kids)?;
        if write {
            kids.generation += 1;
        }
        Ok(())
    }
}

/// Where a message's children live while a client edits them: a stored message, an embedded one.
pub(crate) trait HostOf {
    fn store(&self) -> &Arc<Store>;
    fn host(&self) -> Arc<dyn Host>;
}

/// IMessage's attachment and recipient methods, for a stored message and an embedded one alike.
pub trait AttachHost {
    /// CreateAttach: a new attachment, numbered; it joins the message at its own SaveChanges.
    fn create_attach(&self, flags: u32) -> MapiResult<(u32, Attachment)>;
    /// OpenAttach: the attachment as this message's working copy holds it.
    fn open_attach(&self, num: u32, flags: u32) -> MapiResult<Attachment>;
    /// DeleteAttach: gone from the working copy now, from the store at the message's save.
    fn delete_attach(&self, num: u32, flags: u32) -> MapiResult<()>;
    /// ModifyRecipients (reference §11.2): 0 replaces the list, MODRECIP_ADD appends (the store
    /// numbers the rows: a PR_ROWID given is replaced), MODRECIP_MODIFY replaces and
    /// MODRECIP_REMOVE removes the rows named by their PR_ROWID. All or nothing.
    fn modify_recipients(&self, flags: u32, rows: Vec<Vec<PropInput>>) -> MapiResult<()>;
    /// The attachments' rows as the working copy holds them (saved attachments only), in
    /// PR_ATTACH_NUM order.
    fn attachment_rows(&self) -> MapiResult<Vec<PropMap>>;
    /// The recipients' rows, in PR_ROWID order: what a recipient table lists.
    fn recipient_rows(&self) -> MapiResult<Vec<PropMap>>;
    /// GetAttachmentTable / GetRecipientTable (`kind`): a view over this working copy's
    /// attachments or recipients, its unsaved changes included (tables.rs).
    fn child_table(&self, kind: ChildKind, flags: u32) -> MapiResult<TableView>;
    /// CopyTo / CopyProps (copy.rs): the children `which` names, as new ones for another
    /// message.
    fn copy_children(&self, which: ChildSet) -> MapiResult<ChildrenCopy>;
    /// Adds copied children to this working copy (stored by its SaveChanges).
    fn receive_children(&self, copy: ChildrenCopy, noreplace: bool) -> MapiResult<()>;
    /// MAPI_MOVE: the children `which` names leave this working copy.
    fn remove_children(&self, which: ChildSet) -> MapiResult<()>;
}

impl<T: HostOf> AttachHost for T {
    fn create_attach(&self, flags: u32) -> MapiResult<(u32, Attachment)> {
        check_flags("CreateAttach", flags, MAPI_DEFERRED_ERRORS)?;
        let host = self.host();
        let mut num = 0;
        host.edit(true, "CreateAttach", &mut |k| {
            num = k.next_attach_num;
            k.next_attach_num = num.checked_add(1).ok_or_else(|| {
                MapiError::new(
                    MAPI_E_NOT_ENOUGH_RESOURCES,
                    "CreateAttach: the message has used every attachment number",
                )
            })?;
            Ok(())
        })?;
        let mut props = PropMap::new();
        props.insert(ID_ATTACH_NUM, PropValue::Long(num as i32));
        props.insert(
            prop_id(PR_ATTACH_METHOD),
            PropValue::Long(NO_ATTACHMENT as i32),
        );
        props.insert(prop_id(PR_RENDERING_POSITION), PropValue::Long(-1));
        let attach = Attach {
            id: None,
            token: new_token(),
            props: Arc::new(props),
            embedded: None,
        };
        Ok((
            num,
            Attachment::new(self.store().clone(), &host, num, attach, true, false),
        ))
    }

    fn open_attach(&self, num: u32, flags: u32) -> MapiResult<Attachment> {
        check_flags(
            "OpenAttach",
            flags,
            MAPI_MODIFY | MAPI_DEFERRED_ERRORS | MAPI_BEST_ACCESS,
        )?;
        let host = self.host();
        let writable = match flags & (MAPI_MODIFY | MAPI_BEST_ACCESS) {
            0 => false,
            MAPI_BEST_ACCESS => host.writable(),
            _ => {
                if !host.writable() {
                    return Err(MapiError::no_access(
                        "OpenAttach with MAPI_MODIFY: the message is open read-only",
                    ));
                }
                true
            }
        };
        let mut found = None;
        host.edit(false, "OpenAttach", &mut |k| {
            found = k.current.attachments.get(&num).cloned();
            Ok(())
        })?;
        let attach = found.ok_or_else(|| no_attachment("OpenAttach", num))?;
        Ok(Attachment::new(
            self.store().clone(),
            &host,
            num,
            attach,
            writable,
            true,
        ))
    }

    fn delete_attach(&self, num: u32, flags: u32) -> MapiResult<()> {
        check_flags("DeleteAttach", flags, ATTACH_DIALOG)?;
        self.host().edit(true, "DeleteAttach", &mut |k| {
            k.current
                .attachments
                .remove(&num)
                .map(|_| ())
                .ok_or_else(|| no_attachment("DeleteAttach", num))
        })
    }

    fn modify_recipients(&self, flags: u32, rows: Vec<Vec<PropInput>>) -> MapiResult<()> {
        check_flags(
            "ModifyRecipients",
            flags,
            MODRECIP_ADD | MODRECIP_MODIFY | MODRECIP_REMOVE,
        )?;
        if flags.count_ones() > 1 {
            return Err(MapiError::invalid(
                "ModifyRecipients: MODRECIP_ADD, MODRECIP_MODIFY and MODRECIP_REMOVE exclude \
                 each other",
            ));
        }
        let store = self.store().clone();
        let mut maps = Vec::with_capacity(rows.len());
        for (i, row) in rows.into_iter().enumerate() {
            let mut rowid = None;
            let mut map = PropMap::new();
            let (accepted, problems) = store.accept_inputs(row, |_| false);
            if let Some(p) = problems.first() {
                return Err(MapiError::new(
                    p.scode,
                    format!("ModifyRecipients: entry {i}, property 0x{:08X}", p.tag),
                ));
            }
            for p in accepted {
                map.insert(prop_id(p.tag), p.value);
            }
            // PR_ROWID is the store's: read it (as a long) and keep it out of the row's values.
            if let Some(PropValue::Long(n)) = rowid_of(i, &mut map)? {
                rowid = Some(n as u32);
            }
            maps.push((rowid, map));
        }
        self.host().edit(true, "ModifyRecipients", &mut |k| {
            let mut next = k.next_rowid;
            let mut list = k.current.recipients.clone();
            if flags & (MODRECIP_MODIFY | MODRECIP_REMOVE) != 0 {
                for (i, (rowid, map)) in maps.iter().enumerate() {
                    let Some(rowid) = rowid else {
                        return Err(MapiError::invalid(format!(
                            "ModifyRecipients: entry {i} has no PR_ROWID (MODRECIP_MODIFY and \
                             MODRECIP_REMOVE name the rows they change by it)"
                        )));
                    };
                    if !list.contains_key(rowid) {
                        return Err(MapiError::new(
                            MAPI_E_NOT_FOUND,
                            format!(
                                "ModifyRecipients: entry {i}: no recipient has PR_ROWID {rowid}"
                            ),
                        ));
                    }
                    if flags & MODRECIP_REMOVE != 0 {
                        list.remove(rowid);
                    } else {
                        list.insert(*rowid, recipient(map.clone(), *rowid));
                    }
                }
            } else {
                if flags == 0 {
                    list.clear();
                }
                for (_, map) in &maps {
                    list.insert(next, recipient(map.clone(), next));
                    next = next.checked_add(1).ok_or_else(|| {
                        MapiError::new(
                            MAPI_E_NOT_ENOUGH_RESOURCES,
                            "ModifyRecipients: the message has used every PR_ROWID",
                        )
                    })?;
                }
            }
            k.current.recipients = list;
            k.next_rowid = next;
            Ok(())
        })
    }

    fn attachment_rows(&self) -> MapiResult<Vec<PropMap>> {
        let mut rows = Vec::new();
        self.host().edit(false, "GetAttachmentTable", &mut |k| {
            rows = k.current.attachment_rows();
            Ok(())
        })?;
        Ok(rows)
    }

    fn recipient_rows(&self) -> MapiResult<Vec<PropMap>> {
        let mut rows = Vec::new();
        self.host().edit(false, "GetRecipientTable", &mut |k| {
            rows = k.current.recipient_rows();
            Ok(())
        })?;
        Ok(rows)
    }

    fn child_table(&self, kind: ChildKind, flags: u32) -> MapiResult<TableView> {
        ChildTable::view(self.host(), *self.store().guid(), kind, flags)
    }

    fn copy_children(&self, which: ChildSet) -> MapiResult<ChildrenCopy> {
        copy::take(&*self.host(), self.store().clone(), which)
    }

    fn receive_children(&self, copy: ChildrenCopy, noreplace: bool) -> MapiResult<()> {
        copy::receive(&*self.host(), self.store(), copy, noreplace)
    }

    fn remove_children(&self, which: ChildSet) -> MapiResult<()> {
        copy::remove(&*self.host(), which)
    }
}

/// PR_ROWID of a recipient row, taken out of its values; any other type is refused.
fn rowid_of(i: usize, map: &mut PropMap) -> MapiResult<Option<PropValue>> {
    match map.remove(&ID_ROWID) {
        None => Ok(None),
        Some(v @ PropValue::Long(_)) => Ok(Some(v)),
        Some(_) => Err(MapiError::invalid(format!(
            "ModifyRecipients: entry {i}: PR_ROWID must be a PT_LONG"
        ))),
    }
}

fn recipient(mut props: PropMap, rowid: u32) -> Recipient {
    props.insert(ID_ROWID, PropValue::Long(rowid as i32));
    Recipient { id: None, props }
}

fn no_attachment(method: &str, num: u32) -> MapiError {
    MapiError::new(
        MAPI_E_NOT_FOUND,
        format!("{method}: the message has no attachment {num}"),
    )
}

fn released(what: &str) -> MapiError {
    MapiError::new(
        MAPI_E_INVALID_OBJECT,
        format!("SaveChanges: the {what} this object belongs to was released; its changes have nowhere to go"),
    )
}

/// Whether an attachment computes `tag` (rejected by SetProps and DeleteProps).
fn attach_is_computed(tag: u32) -> bool {
    matches!(
        prop_id(tag),
        ID_ATTACH_NUM | ID_ATTACH_SIZE | ID_OBJECT_TYPE | ID_ACCESS_LEVEL | ID_ACCESS
    )
}

const ID_OBJECT_TYPE: u16 = prop_id(PR_OBJECT_TYPE);
const ID_ATTACH_SIZE: u16 = prop_id(PR_ATTACH_SIZE);
const ID_ACCESS_LEVEL: u16 = prop_id(PR_ACCESS_LEVEL);
const ID_ACCESS: u16 = prop_id(PR_ACCESS);
const ID_HASATTACH: u16 = prop_id(PR_HASATTACH);
const ID_MESSAGE_SIZE: u16 = prop_id(PR_MESSAGE_SIZE);

fn access_props(id: u16, writable: bool) -> Option<PropValue> {
    match id {
        ID_ACCESS_LEVEL => Some(PropValue::Long(if writable {
            MAPI_MODIFY as i32
        } else {
            0
        })),
        ID_ACCESS => Some(PropValue::Long(
            (MAPI_ACCESS_READ | if writable { MAPI_ACCESS_MODIFY } else { 0 }) as i32,
        )),
        _ => None,
    }
}

/// The tags of a plain property map plus the synthesized ones, in a stable order.
fn map_tags(props: &PropMap, synthesized: &[u32]) -> Vec<u32> {
    let mut tags: Vec<u32> = props
        .iter()
        .map(|(id, v)| prop_tag(v.ptype(), *id))
        .filter(|t| !synthesized.iter().any(|s| prop_id(*s) == prop_id(*t)))
        .collect();
    tags.extend_from_slice(synthesized);
    tags
}

/// An attachment's working copy.
pub(crate) struct AttachState {
    /// Its number: the one it was created or opened with, or the one a MERGE moved it to.
    num: u32,
    attach: Attach,
    writable: bool,
    /// Whether the attachment is in its holder's children (false for a new one until its first
    /// save): a save then finds it by its token, or deleted if DeleteAttach took it out.
    in_host: bool,
}

/// IAttach: one attachment of a message, a transacted property object of its own.
pub struct Attachment {
    pub(super) store: Arc<Store>,
    pub(super) host: Weak<dyn Host>,
    pub(super) state: Arc<Mutex<AttachState>>,
}

impl Attachment {
    fn new(
        store: Arc<Store>,
        host: &Arc<dyn Host>,
        num: u32,
        attach: Attach,
        writable: bool,
        in_host: bool,
    ) -> Attachment {
        Attachment {
            store,
            host: Arc::downgrade(host),
            state: Arc::new(Mutex::new(AttachState {
                num,
                attach,
                writable,
                in_host,
            })),
        }
    }

    /// PR_ATTACH_NUM (a MERGE that met another client's attachment under it moves it).
    pub fn num(&self) -> u32 {
        self.state.lock().num
    }

    fn require_writable(st: &AttachState, method: &str) -> MapiResult<()> {
        if st.writable {
            Ok(())
        } else {
            Err(MapiError::no_access(format!(
                "{method}: the attachment is open read-only"
            )))
        }
    }

    /// CopyTo / CopyProps between attachments: the embedded message this attachment's working
    /// copy holds, as a new one for another attachment (None: it holds none).
    pub fn copy_embedded(&self) -> Option<EmbeddedCopy> {
        let st = self.state.lock();
        let e = st.attach.embedded.as_deref()?.clone();
        Some(EmbeddedCopy::new(self.store.clone(), e))
    }

    /// Puts a copied embedded message into this attachment's working copy (stored by the
    /// message's SaveChanges, after this attachment's): it replaces the one there, unless
    /// `noreplace` and there is one.
    pub fn receive_embedded(&self, copy: EmbeddedCopy, noreplace: bool) -> MapiResult<()> {
        // Renumbered (another store's named properties) before the lock is taken.
        let embedded = copy.into_embedded(&self.store)?;
        let mut st = self.state.lock();
        Self::require_writable(&st, "CopyTo")?;
        if !(noreplace && st.attach.embedded.is_some()) {
            st.attach.embedded = Some(Box::new(embedded));
        }
        Ok(())
    }

    /// MAPI_MOVE: the embedded message leaves this attachment's working copy.
    pub fn remove_embedded(&self) -> MapiResult<()> {
        let mut st = self.state.lock();
        Self::require_writable(&st, "CopyTo")?;
        st.attach.embedded = None;
        Ok(())
    }

    /// OpenProperty(PR_ATTACH_DATA_OBJ, IID_IMessage): the embedded message, created empty with
    /// MAPI_CREATE. Its SaveChanges commits into this attachment.
    pub fn open_embedded(&self, flags: u32) -> MapiResult<EmbeddedMessage> {
        let st = self.state.lock();
        let write = flags & (MAPI_MODIFY | MAPI_CREATE) != 0;
        if write {
            Self::require_writable(&st, "OpenProperty with MAPI_MODIFY or MAPI_CREATE")?;
        }
        let embedded = match (&st.attach.embedded, flags & MAPI_CREATE != 0) {
            (Some(e), _) => (**e).clone(),
            (None, true) => Embedded::default(),
            (None, false) => return Err(MapiError::new(
                MAPI_E_NOT_FOUND,
                "OpenProperty: the attachment holds no embedded message (MAPI_CREATE makes one)",
            )),
        };
        Ok(EmbeddedMessage {
            store: self.store.clone(),
            attach: Arc::downgrade(&self.state),
            state: Arc::new(Mutex::new(EmbeddedState {
                props: embedded.props,
                kids: ChildEdits::new(embedded.children),
                writable: write,
            })),
        })
    }
}

struct AttachView<'a> {
    st: &'a AttachState,
}

const ATTACH_SYNTHESIZED: &[u32] = &[PR_OBJECT_TYPE, PR_ACCESS_LEVEL, PR_ACCESS, PR_ATTACH_SIZE];

impl PropView for AttachView<'_> {
    fn get(&self, id: u16) -> Option<Cow<'_, PropValue>> {
        match id {
            ID_OBJECT_TYPE => Some(Cow::Owned(PropValue::Long(MAPI_ATTACH as i32))),
            // What the attachment adds to its message's PR_MESSAGE_SIZE.
            ID_ATTACH_SIZE => Some(Cow::Owned(PropValue::Long(
                self.st.attach.payload().min(i32::MAX as usize) as i32,
            ))),
            _ => access_props(id, self.st.writable)
                .map(Cow::Owned)
                .or_else(|| self.st.attach.props.get(&id).map(Cow::Borrowed)),
        }
    }
    fn tags(&self) -> Vec<u32> {
        map_tags(&self.st.attach.props, ATTACH_SYNTHESIZED)
    }
    fn object_tags(&self) -> Vec<u32> {
        match self.st.attach.embedded {
            Some(_) => vec![PR_ATTACH_DATA_OBJ],
            None => Vec::new(),
        }
    }
    fn is_computed(&self, tag: u32) -> bool {
        attach_is_computed(tag)
    }
}

impl PropObject for Attachment {
    /// Named properties: the store's one mapping, as for the message it belongs to.
    fn named_store(&self) -> Option<&Store> {
        Some(&self.store)
    }

    fn read(&self, f: &mut dyn FnMut(&dyn PropView)) -> MapiResult<()> {
        f(&AttachView {
            st: &self.state.lock(),
        });
        Ok(())
    }

    fn set_props(&self, props: Vec<PropInput>) -> MapiResult<Vec<Problem>> {
        let mut st = self.state.lock();
        Self::require_writable(&st, "SetProps")?;
        let (accepted, problems) = self.store.accept_inputs(props, attach_is_computed);
        for p in accepted {
            st.attach.props_mut().insert(prop_id(p.tag), p.value);
        }
        Ok(problems)
    }

    fn delete_props(&self, tags: &[u32]) -> MapiResult<Vec<Problem>> {
        let mut st = self.state.lock();
        Self::require_writable(&st, "DeleteProps")?;
        Ok(delete_from(st.attach.props_mut(), tags, attach_is_computed))
    }

    /// Puts this attachment into its message's working copy (not the store).
    fn save_changes(&self, flags: u32) -> MapiResult<()> {
        check_flags("SaveChanges", flags, SAVE_CHANGES_FLAGS)?;
        let mut st = self.state.lock();
        Self::require_writable(&st, "SaveChanges")?;
        let host = self.host.upgrade().ok_or_else(|| released("message"))?;
        let (mut num, in_host, token) = (st.num, st.in_host, st.attach.token);
        host.edit(true, "SaveChanges", &mut |k| {
            if in_host {
                // Where the attachment is now: under its number, or the one a MERGE gave it.
                num = k
                    .current
                    .attachments
                    .iter()
                    .find(|(_, a)| a.token == token)
                    .map(|(n, _)| *n)
                    .ok_or_else(|| {
                        MapiError::new(
                            MAPI_E_OBJECT_DELETED,
                            format!("SaveChanges: attachment {num} was deleted from its message"),
                        )
                    })?;
            }
            // The host's version shares the attachment's properties (no value is copied).
            let mut attach = st.attach.clone();
            attach.set_num(num);
            k.current.attachments.insert(num, attach);
            Ok(())
        })?;
        st.num = num;
        st.attach.set_num(num);
        st.in_host = true;
        st.writable = flags & KEEP_OPEN_READWRITE != 0;
        Ok(())
    }

    fn check_writable(&self, method: &str) -> MapiResult<()> {
        Self::require_writable(&self.state.lock(), method)
    }

    fn object_type(&self) -> u32 {
        MAPI_ATTACH
    }

    fn stream_owner(&self) -> Option<Arc<dyn StreamOwner>> {
        Some(Arc::new(super::streams::AttachStreams {
            store: self.store.clone(),
            host: self.host.clone(),
            state: Arc::downgrade(&self.state),
        }))
    }
}

/// DeleteProps on a plain map: computed tags become problems, the rest are removed.
fn delete_from(map: &mut PropMap, tags: &[u32], computed: impl Fn(u32) -> bool) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (i, &tag) in tags.iter().enumerate() {
        if computed(tag) {
            problems.push(computed_problem(i as u32, tag));
        } else {
            map.remove(&prop_id(tag));
        }
    }
    problems
}

pub(crate) struct EmbeddedState {
    /// Shared with the attachment's version of the embedded message once saved into it.
    props: Arc<PropMap>,
    kids: ChildEdits,
    writable: bool,
}

impl HoldsChildren for EmbeddedState {
    fn children_and_access(&mut self) -> (&mut ChildEdits, bool) {
        (&mut self.kids, self.writable)
    }
}

/// A message embedded in an attachment, opened through the attachment's OpenProperty. It has
/// properties, attachments and recipients like any message; its SaveChanges commits into the
/// attachment.
pub struct EmbeddedMessage {
    pub(super) store: Arc<Store>,
    pub(super) attach: Weak<Mutex<AttachState>>,
    pub(super) state: Arc<Mutex<EmbeddedState>>,
}

impl HostOf for EmbeddedMessage {
    fn store(&self) -> &Arc<Store> {
        &self.store
    }
    fn host(&self) -> Arc<dyn Host> {
        self.state.clone()
    }
}

struct EmbeddedView<'a> {
    st: &'a EmbeddedState,
}

const EMBEDDED_SYNTHESIZED: &[u32] = &[
    PR_OBJECT_TYPE,
    PR_ACCESS_LEVEL,
    PR_ACCESS,
    PR_HASATTACH,
    PR_MESSAGE_SIZE,
    PR_DISPLAY_TO_W,
    PR_DISPLAY_CC_W,
    PR_DISPLAY_BCC_W,
];

impl PropView for EmbeddedView<'_> {
    fn get(&self, id: u16) -> Option<Cow<'_, PropValue>> {
        let st = self.st;
        let value = match id {
            ID_OBJECT_TYPE => PropValue::Long(MAPI_MESSAGE as i32),
            ID_HASATTACH => PropValue::Boolean(!st.kids.current.attachments.is_empty()),
            ID_MESSAGE_SIZE => {
                let props: usize = st.props.values().map(PropValue::payload_size).sum();
                let total = props + st.kids.current.payload();
                PropValue::Long(total.min(i32::MAX as usize) as i32)
            }
            _ => match access_props(id, st.writable).or_else(|| st.kids.current.display_list(id)) {
                Some(v) => v,
                None => return st.props.get(&id).map(Cow::Borrowed),
            },
        };
        Some(Cow::Owned(value))
    }
    fn tags(&self) -> Vec<u32> {
        map_tags(&self.st.props, EMBEDDED_SYNTHESIZED)
    }
    fn is_computed(&self, tag: u32) -> bool {
        message_is_computed(tag)
    }
}

impl PropObject for EmbeddedMessage {
    /// Named properties: the store's one mapping, as for the message it belongs to.
    fn named_store(&self) -> Option<&Store> {
        Some(&self.store)
    }

    fn read(&self, f: &mut dyn FnMut(&dyn PropView)) -> MapiResult<()> {
        f(&EmbeddedView {
            st: &self.state.lock(),
        });
        Ok(())
    }

    fn set_props(&self, props: Vec<PropInput>) -> MapiResult<Vec<Problem>> {
        let mut st = self.state.lock();
        self.check(&st, "SetProps")?;
        let (accepted, problems) = self.store.accept_inputs(props, message_is_computed);
        for p in accepted {
            Arc::make_mut(&mut st.props).insert(prop_id(p.tag), p.value);
        }
        Ok(problems)
    }

    fn delete_props(&self, tags: &[u32]) -> MapiResult<Vec<Problem>> {
        let mut st = self.state.lock();
        self.check(&st, "DeleteProps")?;
        Ok(delete_from(
            Arc::make_mut(&mut st.props),
            tags,
            message_is_computed,
        ))
    }

    /// Puts this message (properties, attachments, recipients) into its attachment.
    fn save_changes(&self, flags: u32) -> MapiResult<()> {
        check_flags("SaveChanges", flags, SAVE_CHANGES_FLAGS)?;
        let mut st = self.state.lock();
        self.check(&st, "SaveChanges")?;
        let attach = self
            .attach
            .upgrade()
            .ok_or_else(|| released("attachment"))?;
        let mut a = attach.lock();
        Attachment::require_writable(&a, "SaveChanges of its embedded message")?;
        a.attach.embedded = Some(Box::new(Embedded {
            id: None,
            props: st.props.clone(),
            children: st.kids.current.clone(),
        }));
        st.writable = flags & KEEP_OPEN_READWRITE != 0;
        Ok(())
    }

    fn check_writable(&self, method: &str) -> MapiResult<()> {
        self.check(&self.state.lock(), method)
    }

    fn object_type(&self) -> u32 {
        MAPI_MESSAGE
    }

    fn stream_owner(&self) -> Option<Arc<dyn StreamOwner>> {
        Some(Arc::new(super::streams::EmbeddedStreams {
            store: self.store.clone(),
            attach: self.attach.clone(),
            state: Arc::downgrade(&self.state),
        }))
    }
}

impl EmbeddedMessage {
    fn check(&self, st: &EmbeddedState, method: &str) -> MapiResult<()> {
        if st.writable {
            Ok(())
        } else {
            Err(MapiError::no_access(format!(
                "{method}: the embedded message is open read-only"
            )))
        }
    }
}
