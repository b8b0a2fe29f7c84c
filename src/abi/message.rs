//! IMessage: the vtable of a message object. Each OpenEntry of a message makes a new one, and
//! each is a client of the multi-client save rules (DESIGN.md §4).

use super::guard;
use super::iids::*;
use super::interfaces::*;
use super::object::{self, ComClass, ComObject};
use super::prop::{self, not_supported, PropClass};
use super::resolver;
use super::types::*;
use crate::core::mapidefs::*;
use crate::core::message::Message;
use crate::core::props::PropObject;
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
}

type C = MessageClass;
type I = <C as ComClass>::Interface;

const _: () = object::assert_com_layout::<C>();

static MESSAGE_VTBL: IMessageVtbl = prop::prop_vtbl!(IMessageVtbl<C> {
    SaveChanges: save_changes,
    GetAttachmentTable: get_attachment_table,
    OpenAttach: open_attach,
    CreateAttach: create_attach,
    DeleteAttach: delete_attach,
    GetRecipientTable: get_recipient_table,
    ModifyRecipients: modify_recipients,
    SubmitMessage: submit_message,
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

unsafe extern "C" fn get_attachment_table(
    This: *mut I,
    _ulFlags: ULONG,
    lppTable: *mut *mut IMAPITable,
) -> HRESULT {
    // SAFETY: `This` came through `MessageClass`'s vtable, so it is NULL (guard::method checks)
    // or a live object of that class; `lppTable` is NULL or valid for the reads and writes that
    // GetAttachmentTable's signature declares (the caller's side of the contract, DESIGN.md §2),
    // and NULL is checked before any use.
    unsafe {
        guard::method::<C>(This, "GetAttachmentTable", |_| {
            guard::optional_out(lppTable);
            not_supported("GetAttachmentTable")
        })
    }
}

unsafe extern "C" fn open_attach(
    This: *mut I,
    _ulAttachmentNum: ULONG,
    _lpInterface: LPCIID,
    _ulFlags: ULONG,
    lppAttach: *mut *mut IAttach,
) -> HRESULT {
    // SAFETY: `This` came through `MessageClass`'s vtable, so it is NULL (guard::method checks)
    // or a live object of that class; `lppAttach` is NULL or valid for the reads and writes that
    // OpenAttach's signature declares (the caller's side of the contract, DESIGN.md §2), and NULL
    // is checked before any use.
    unsafe {
        guard::method::<C>(This, "OpenAttach", |_| {
            guard::optional_out(lppAttach);
            not_supported("OpenAttach")
        })
    }
}

unsafe extern "C" fn create_attach(
    This: *mut I,
    _lpInterface: LPCIID,
    _ulFlags: ULONG,
    lpulAttachmentNum: *mut ULONG,
    lppAttach: *mut *mut IAttach,
) -> HRESULT {
    // SAFETY: `This` came through `MessageClass`'s vtable, so it is NULL (guard::method checks)
    // or a live object of that class; `lpulAttachmentNum`, `lppAttach` are NULL or valid for the
    // reads and writes that CreateAttach's signature declares (the caller's side of the contract,
    // DESIGN.md §2), and NULL is checked before any use.
    unsafe {
        guard::method::<C>(This, "CreateAttach", |_| {
            if let Some(n) = lpulAttachmentNum.as_mut() {
                *n = 0;
            }
            guard::optional_out(lppAttach);
            not_supported("CreateAttach")
        })
    }
}

unsafe extern "C" fn delete_attach(
    This: *mut I,
    _ulAttachmentNum: ULONG,
    _ulUIParam: ULONG_PTR,
    _lpProgress: *mut IMAPIProgress,
    _ulFlags: ULONG,
) -> HRESULT {
    // SAFETY: `This` came through `MessageClass`'s vtable, so it is NULL (guard::method checks)
    // or a live object of that class.
    unsafe { guard::method::<C>(This, "DeleteAttach", |_| not_supported("DeleteAttach")) }
}

unsafe extern "C" fn get_recipient_table(
    This: *mut I,
    _ulFlags: ULONG,
    lppTable: *mut *mut IMAPITable,
) -> HRESULT {
    // SAFETY: `This` came through `MessageClass`'s vtable, so it is NULL (guard::method checks)
    // or a live object of that class; `lppTable` is NULL or valid for the reads and writes that
    // GetRecipientTable's signature declares (the caller's side of the contract, DESIGN.md §2),
    // and NULL is checked before any use.
    unsafe {
        guard::method::<C>(This, "GetRecipientTable", |_| {
            guard::optional_out(lppTable);
            not_supported("GetRecipientTable")
        })
    }
}

unsafe extern "C" fn modify_recipients(
    This: *mut I,
    _ulFlags: ULONG,
    _lpMods: *mut ADRLIST,
) -> HRESULT {
    // SAFETY: `This` came through `MessageClass`'s vtable, so it is NULL (guard::method checks)
    // or a live object of that class.
    unsafe {
        guard::method::<C>(This, "ModifyRecipients", |_| {
            not_supported("ModifyRecipients")
        })
    }
}

unsafe extern "C" fn submit_message(This: *mut I, _ulFlags: ULONG) -> HRESULT {
    // SAFETY: `This` came through `MessageClass`'s vtable, so it is NULL (guard::method checks)
    // or a live object of that class.
    unsafe { guard::method::<C>(This, "SubmitMessage", |_| not_supported("SubmitMessage")) }
}
