//! IAttach: one attachment of a message (reference §11.1), IMAPIProp's slots only. Its
//! SaveChanges puts its changes into the message; OpenProperty(PR_ATTACH_DATA_OBJ, IID_IMessage)
//! opens the message embedded in it, whose SaveChanges commits into the attachment.

use super::iids::*;
use super::interfaces::*;
use super::message::new_embedded_object;
use super::object::{self, ComClass, ComObject};
use super::prop::{self, PropClass};
use super::types::*;
use crate::core::error::{MapiError, MapiResult};
use crate::core::mapidefs::*;
use crate::core::message::Attachment;
use crate::core::props::PropObject;

/// cbindgen:ignore
pub struct AttachClass {
    pub att: Attachment,
}

impl ComClass for AttachClass {
    type Interface = IAttach;
    const IIDS: &'static [&'static GUID] = &[&IID_IMAPIProp, &IID_IAttachment];
    fn vtbl() -> &'static IAttachVtbl {
        &ATTACH_VTBL
    }
}

impl PropClass for AttachClass {
    fn prop(&self) -> &dyn PropObject {
        &self.att
    }

    fn attachment(&self) -> Option<&Attachment> {
        Some(&self.att)
    }

    unsafe fn open_object(
        &self,
        tag: u32,
        iid: *const IID,
        flags: u32,
    ) -> MapiResult<Option<*mut IUnknown>> {
        if tag != PR_ATTACH_DATA_OBJ {
            return Ok(None);
        }
        // SAFETY: `iid` is readable (this function's contract).
        if unsafe { *iid } != IID_IMessage {
            return Err(MapiError::new(
                MAPI_E_INTERFACE_NOT_SUPPORTED,
                "OpenProperty: PR_ATTACH_DATA_OBJ opens as IID_IMessage only (an embedded \
                 message)",
            ));
        }
        let msg = self.att.open_embedded(flags)?;
        Ok(Some(new_embedded_object(msg).cast()))
    }
}

type C = AttachClass;

/// The attachment behind `p` if it is one of ours.
///
/// # Safety
/// `p` must be NULL or a live COM interface pointer.
pub unsafe fn ours<'a>(p: *mut std::ffi::c_void) -> Option<&'a Attachment> {
    // SAFETY: `p` is NULL or a live COM interface pointer (this function's contract), all
    // that ComObject::ours needs.
    unsafe { ComObject::<C>::ours(p) }.map(|o| &o.inner.att)
}

const _: () = object::assert_com_layout::<C>();

static ATTACH_VTBL: IAttachVtbl = prop::prop_vtbl!(IAttachVtbl<C> {
    SaveChanges: prop::save_changes::<C>,
});

/// A new COM object (one reference, owned by the caller) around an attachment.
pub fn new_object(att: Attachment) -> *mut IAttach {
    ComObject::as_interface(ComObject::create(AttachClass { att }))
}
