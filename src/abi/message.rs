//! IMessage: the vtable of a message object. Each OpenEntry of a message makes a new one, and
//! each is a client of the multi-client save rules (DESIGN.md §4).

use super::alloc::Allocator;
use super::attach;
use super::convert::{prop_values_in, slice_in};
use super::guard;
use super::iids::*;
use super::interfaces::*;
use super::object::{self, check_interface, ComClass, ComObject};
use super::prop::{self, not_supported, PropClass};
use super::resolver;
use super::table::new_table;
use super::types::*;
use crate::core::error::{MapiError, MapiResult};
use crate::core::mapidefs::*;
use crate::core::message::{AttachHost, ChildKind, EmbeddedMessage, Message};
use crate::core::props::{PropInput, PropObject};
use crate::core::table::view::TableView;
use std::ffi::c_void;

/// cbindgen:ignore
pub struct MessageClass {
    pub msg: Message,
}

impl ComClass for MessageClass {
    type Interface = IMessage;
    const IIDS: &'static [&'static GUID] = &[&IID_IMAPIProp, &IID_IMessage];
    fn vtbl() -> &'static IMessageVtbl {
        &MESSAGE_VTBL
    }
}

impl PropClass for MessageClass {
    fn prop(&self) -> &dyn PropObject {
        &self.msg
    }
    fn children_host(&self) -> Option<&dyn AttachHost> {
        Some(&self.msg)
    }
    unsafe fn open_object(
        &self,
        tag: u32,
        iid: *const IID,
        flags: u32,
    ) -> MapiResult<Option<*mut IUnknown>> {
        // SAFETY: `iid` is readable (this function's contract).
        unsafe { open_child_table(&self.msg, tag, iid, flags) }
    }
}

/// OpenProperty(PR_MESSAGE_ATTACHMENTS or PR_MESSAGE_RECIPIENTS, IID_IMAPITable): the table
/// GetAttachmentTable / GetRecipientTable gives (D:mapi-attachments: stores support both
/// routes). Of OpenProperty's flags only MAPI_DEFERRED_ERRORS means anything to a table; the
/// others are ignored (a table is read-only whatever the access asked for).
///
/// # Safety
/// `iid` must be a readable IID.
unsafe fn open_child_table(
    host: &dyn AttachHost,
    tag: u32,
    iid: *const IID,
    flags: u32,
) -> MapiResult<Option<*mut IUnknown>> {
    let kind = match tag {
        PR_MESSAGE_ATTACHMENTS => ChildKind::Attachments,
        PR_MESSAGE_RECIPIENTS => ChildKind::Recipients,
        _ => return Ok(None),
    };
    // SAFETY: `iid` is readable (this function's contract).
    if unsafe { *iid } != IID_IMAPITable {
        return Err(MapiError::new(
            MAPI_E_INTERFACE_NOT_SUPPORTED,
            "OpenProperty: PR_MESSAGE_ATTACHMENTS and PR_MESSAGE_RECIPIENTS open as \
             IID_IMAPITable only",
        ));
    }
    let view = host.child_table(kind, flags & MAPI_DEFERRED_ERRORS)?;
    Ok(Some(child_table_object(view).cast()))
}

/// An attachment or recipient table as a COM object (one reference, the caller's): dynamic,
/// its rows MAPIAllocateBuffer'd.
fn child_table_object(view: TableView) -> *mut IMAPITable {
    new_table(view, Allocator::MAPI, TBLTYPE_DYNAMIC, None)
}

/// A class whose objects are IMessages: a stored message, or one embedded in an attachment.
/// The attachment and recipient slots below serve both.
pub(crate) trait MessageLike: PropClass<Interface = IMessage> {
    fn attach_host(&self) -> &dyn AttachHost;
}

impl MessageLike for MessageClass {
    fn attach_host(&self) -> &dyn AttachHost {
        &self.msg
    }
}

/// cbindgen:ignore
/// A message inside an attachment (opened by IAttach::OpenProperty(PR_ATTACH_DATA_OBJ)).
pub struct EmbeddedClass {
    pub msg: EmbeddedMessage,
}

impl ComClass for EmbeddedClass {
    type Interface = IMessage;
    const IIDS: &'static [&'static GUID] = &[&IID_IMAPIProp, &IID_IMessage];
    fn vtbl() -> &'static IMessageVtbl {
        &EMBEDDED_VTBL
    }
}

impl PropClass for EmbeddedClass {
    fn prop(&self) -> &dyn PropObject {
        &self.msg
    }
    fn children_host(&self) -> Option<&dyn AttachHost> {
        Some(&self.msg)
    }
    unsafe fn open_object(
        &self,
        tag: u32,
        iid: *const IID,
        flags: u32,
    ) -> MapiResult<Option<*mut IUnknown>> {
        // SAFETY: `iid` is readable (this function's contract).
        unsafe { open_child_table(&self.msg, tag, iid, flags) }
    }
}

impl MessageLike for EmbeddedClass {
    fn attach_host(&self) -> &dyn AttachHost {
        &self.msg
    }
}

const _: () = object::assert_com_layout::<EmbeddedClass>();

/// Its SaveChanges commits into its attachment (no conflict to resolve); the rest is a
/// message's, but SubmitMessage and SetReadFlag, which concern stored messages only.
static EMBEDDED_VTBL: IMessageVtbl = prop::prop_vtbl!(IMessageVtbl<EmbeddedClass> {
    SaveChanges: prop::save_changes::<EmbeddedClass>,
    GetAttachmentTable: get_attachment_table::<EmbeddedClass>,
    OpenAttach: open_attach::<EmbeddedClass>,
    CreateAttach: create_attach::<EmbeddedClass>,
    DeleteAttach: delete_attach::<EmbeddedClass>,
    GetRecipientTable: get_recipient_table::<EmbeddedClass>,
    ModifyRecipients: modify_recipients::<EmbeddedClass>,
    SubmitMessage: submit_message::<EmbeddedClass>,
    SetReadFlag: embedded_set_read_flag,
});

/// A new COM object (one reference, owned by the caller) around an embedded message.
pub fn new_embedded_object(msg: EmbeddedMessage) -> *mut IMessage {
    ComObject::as_interface(ComObject::create(EmbeddedClass { msg }))
}

type C = MessageClass;
type I = <C as ComClass>::Interface;

const _: () = object::assert_com_layout::<C>();

static MESSAGE_VTBL: IMessageVtbl = prop::prop_vtbl!(IMessageVtbl<C> {
    SaveChanges: save_changes,
    GetAttachmentTable: get_attachment_table::<C>,
    OpenAttach: open_attach::<C>,
    CreateAttach: create_attach::<C>,
    DeleteAttach: delete_attach::<C>,
    GetRecipientTable: get_recipient_table::<C>,
    ModifyRecipients: modify_recipients::<C>,
    SubmitMessage: submit_message::<C>,
    SetReadFlag: set_read_flag,
});

/// A new COM object (one reference, owned by the caller) around a message.
pub fn new_object(msg: Message) -> *mut IMessage {
    ComObject::as_interface(ComObject::create(MessageClass { msg }))
}

/// The message behind `p` if it is one of ours.
///
/// # Safety
/// `p` must be NULL or a live COM interface pointer.
pub unsafe fn ours<'a>(p: *mut c_void) -> Option<&'a Message> {
    // SAFETY: `p` is NULL or a live COM interface pointer (this function's contract), all
    // that ComObject::ours needs.
    unsafe { ComObject::<C>::ours(p) }.map(|o| &o.inner.msg)
}

/// The embedded message behind `p` if it is one of ours.
///
/// # Safety
/// `p` must be NULL or a live COM interface pointer.
pub unsafe fn our_embedded<'a>(p: *mut c_void) -> Option<&'a EmbeddedMessage> {
    // SAFETY: `p` is NULL or a live COM interface pointer (this function's contract), all
    // that ComObject::ours needs.
    unsafe { ComObject::<EmbeddedClass>::ours(p) }.map(|o| &o.inner.msg)
}

/// The attachments and recipients behind `p` if it is one of our messages, stored or embedded
/// (a CopyTo destination).
///
/// # Safety
/// `p` must be NULL or a live COM interface pointer.
pub unsafe fn our_attach_host<'a>(p: *mut c_void) -> Option<&'a dyn AttachHost> {
    // SAFETY: `p` is NULL or a live COM interface pointer (this function's contract), all
    // that ComObject::ours needs.
    if let Some(m) = unsafe { ComObject::<C>::ours(p) } {
        return Some(&m.inner.msg);
    }
    // SAFETY: as above.
    unsafe { our_embedded(p) }.map(|e| e as &dyn AttachHost)
}

unsafe extern "C" fn save_changes(This: *mut I, ulFlags: ULONG) -> HRESULT {
    // SAFETY: `This` came through `MessageClass`'s vtable, so it is NULL (guard::method checks)
    // or a live object of that class.
    unsafe {
        guard::method::<C>(This, "SaveChanges", |obj| {
            let msg = &obj.inner.msg;
            // A conflict is handed to the store's resolver with this interface pointer.
            let _saving = resolver::Saving::enter(This, msg);
            msg.save_changes(ulFlags)?;
            Ok(S_OK)
        })
    }
}

unsafe extern "C" fn set_read_flag(This: *mut I, ulFlags: ULONG) -> HRESULT {
    // SAFETY: `This` came through `MessageClass`'s vtable, so it is NULL (guard::method checks)
    // or a live object of that class.
    unsafe {
        guard::method::<C>(This, "SetReadFlag", |obj| {
            obj.inner.msg.set_read_flag(ulFlags)?;
            Ok(S_OK)
        })
    }
}

unsafe extern "C" fn embedded_set_read_flag(This: *mut I, _ulFlags: ULONG) -> HRESULT {
    // SAFETY: `This` came through `EmbeddedClass`'s vtable, so it is NULL (guard::method
    // checks) or a live object of that class.
    unsafe { guard::method::<EmbeddedClass>(This, "SetReadFlag", |_| not_supported("SetReadFlag")) }
}

unsafe extern "C" fn get_attachment_table<T: MessageLike>(
    This: *mut I,
    ulFlags: ULONG,
    lppTable: *mut *mut IMAPITable,
) -> HRESULT {
    // SAFETY: `This` came through the vtable of class `T`, so it is NULL (guard::method checks)
    // or a live object of that class; `lppTable` is NULL or valid for the reads and writes that
    // GetAttachmentTable's signature declares (the caller's side of the contract, DESIGN.md §2),
    // and NULL is checked before any use.
    unsafe {
        guard::method::<T>(This, "GetAttachmentTable", |obj| {
            let out = guard::cleared_out(lppTable, "GetAttachmentTable: lppTable")?;
            let view = obj
                .inner
                .attach_host()
                .child_table(ChildKind::Attachments, ulFlags)?;
            *out = child_table_object(view);
            Ok(S_OK)
        })
    }
}

unsafe extern "C" fn open_attach<T: MessageLike>(
    This: *mut I,
    ulAttachmentNum: ULONG,
    lpInterface: LPCIID,
    ulFlags: ULONG,
    lppAttach: *mut *mut IAttach,
) -> HRESULT {
    // SAFETY: `This` came through the vtable of class `T`, so it is NULL (guard::method checks)
    // or a live object of that class; `lpInterface`, `lppAttach` are NULL or valid for the reads
    // and writes that OpenAttach's signature declares (the caller's side of the contract,
    // DESIGN.md §2), and NULL is checked before any use.
    unsafe {
        guard::method::<T>(This, "OpenAttach", |obj| {
            let out = guard::cleared_out(lppAttach, "OpenAttach: lppAttach")?;
            check_interface::<attach::AttachClass>(lpInterface, "OpenAttach")?;
            let att = obj
                .inner
                .attach_host()
                .open_attach(ulAttachmentNum, ulFlags)?;
            *out = attach::new_object(att);
            Ok(S_OK)
        })
    }
}

unsafe extern "C" fn create_attach<T: MessageLike>(
    This: *mut I,
    lpInterface: LPCIID,
    ulFlags: ULONG,
    lpulAttachmentNum: *mut ULONG,
    lppAttach: *mut *mut IAttach,
) -> HRESULT {
    // SAFETY: `This` came through the vtable of class `T`, so it is NULL (guard::method checks)
    // or a live object of that class; `lpInterface`, `lpulAttachmentNum`, `lppAttach` are NULL
    // or valid for the reads and writes that CreateAttach's signature declares (the caller's
    // side of the contract, DESIGN.md §2), and NULL is checked before any use.
    unsafe {
        guard::method::<T>(This, "CreateAttach", |obj| {
            // Both out-parameters are cleared before either is checked.
            if let Some(n) = lpulAttachmentNum.as_mut() {
                *n = 0;
            }
            let out = guard::cleared_out(lppAttach, "CreateAttach: lppAttach")?;
            let num_out = guard::out_ptr(lpulAttachmentNum, "CreateAttach: lpulAttachmentNum")?;
            check_interface::<attach::AttachClass>(lpInterface, "CreateAttach")?;
            let (num, att) = obj.inner.attach_host().create_attach(ulFlags)?;
            *num_out = num;
            *out = attach::new_object(att);
            Ok(S_OK)
        })
    }
}

unsafe extern "C" fn delete_attach<T: MessageLike>(
    This: *mut I,
    ulAttachmentNum: ULONG,
    _ulUIParam: ULONG_PTR,
    _lpProgress: *mut IMAPIProgress,
    ulFlags: ULONG,
) -> HRESULT {
    // SAFETY: `This` came through the vtable of class `T`, so it is NULL (guard::method checks)
    // or a live object of that class. `lpProgress` is never used: there is no progress to show.
    unsafe {
        guard::method::<T>(This, "DeleteAttach", |obj| {
            obj.inner
                .attach_host()
                .delete_attach(ulAttachmentNum, ulFlags)?;
            Ok(S_OK)
        })
    }
}

unsafe extern "C" fn get_recipient_table<T: MessageLike>(
    This: *mut I,
    ulFlags: ULONG,
    lppTable: *mut *mut IMAPITable,
) -> HRESULT {
    // SAFETY: `This` came through the vtable of class `T`, so it is NULL (guard::method checks)
    // or a live object of that class; `lppTable` is NULL or valid for the reads and writes that
    // GetRecipientTable's signature declares (the caller's side of the contract, DESIGN.md §2),
    // and NULL is checked before any use.
    unsafe {
        guard::method::<T>(This, "GetRecipientTable", |obj| {
            let out = guard::cleared_out(lppTable, "GetRecipientTable: lppTable")?;
            let view = obj
                .inner
                .attach_host()
                .child_table(ChildKind::Recipients, ulFlags)?;
            *out = child_table_object(view);
            Ok(S_OK)
        })
    }
}

/// Reads ModifyRecipients' ADRLIST: one row of inputs per entry (a "null recipient", cValues 0
/// and rgPropVals NULL, is an empty row). A value that cannot be taken fails the whole call.
///
/// # Safety
/// `mods` must be NULL or point to a readable ADRLIST whose entries point to `cValues`
/// readable SPropValues each.
unsafe fn recipients_in(mods: *const ADRLIST) -> MapiResult<Vec<Vec<PropInput>>> {
    if mods.is_null() {
        return Err(MapiError::invalid("ModifyRecipients: lpMods is NULL"));
    }
    // SAFETY: `mods` is non-NULL (checked) and readable (the contract); `aEntries` holds
    // `cEntries` entries, read through slice_in from the field's address.
    let entries = unsafe {
        let list = &*mods;
        slice_in(
            list.aEntries.as_ptr(),
            list.cEntries,
            "ModifyRecipients: lpMods->aEntries",
        )?
    };
    let mut rows = Vec::new();
    rows.try_reserve(entries.len())
        .map_err(|_| MapiError::new(MAPI_E_NOT_ENOUGH_MEMORY, "ModifyRecipients"))?;
    for (i, e) in entries.iter().enumerate() {
        if e.cValues == 0 {
            rows.push(Vec::new());
            continue;
        }
        let what = format!("ModifyRecipients: lpMods->aEntries[{i}]");
        // SAFETY: `rgPropVals` is NULL (checked there) or points to `cValues` readable values.
        let (inputs, problems) = unsafe { prop_values_in(e.cValues, e.rgPropVals, &what) }?;
        if let Some(p) = problems.first() {
            return Err(MapiError::new(
                p.scode,
                format!(
                    "{what}: property {} (0x{:08X}) cannot be stored",
                    p.index, p.tag
                ),
            ));
        }
        rows.push(inputs);
    }
    Ok(rows)
}

unsafe extern "C" fn modify_recipients<T: MessageLike>(
    This: *mut I,
    ulFlags: ULONG,
    lpMods: *mut ADRLIST,
) -> HRESULT {
    // SAFETY: `This` came through the vtable of class `T`, so it is NULL (guard::method checks)
    // or a live object of that class; `lpMods` is NULL or a readable ADRLIST (the caller's side
    // of the contract, DESIGN.md §2), and NULL is checked before any use.
    unsafe {
        guard::method::<T>(This, "ModifyRecipients", |obj| {
            let rows = recipients_in(lpMods)?;
            obj.inner.attach_host().modify_recipients(ulFlags, rows)?;
            Ok(S_OK)
        })
    }
}

unsafe extern "C" fn submit_message<T: MessageLike>(This: *mut I, _ulFlags: ULONG) -> HRESULT {
    // SAFETY: `This` came through the vtable of class `T`, so it is NULL (guard::method checks)
    // or a live object of that class.
    unsafe { guard::method::<T>(This, "SubmitMessage", |_| not_supported("SubmitMessage")) }
}
