//! Entry IDs and OpenEntry across the boundary, shared by IMsgStore and IMAPIFolder.

use super::convert::slice_in;
use super::folder::FolderClass;
use super::guard;
use super::interfaces::IUnknown;
use super::message::MessageClass;
use super::object::{answers, ComObject};
use super::types::*;
use crate::core::error::{MapiError, MapiResult};
use crate::core::mapidefs::*;
use crate::core::store::{Opened, Store};
use std::sync::Arc;

/// The largest entry ID accepted (ours have 32 bytes; anything far larger is malformed).
const MAX_ENTRYID: u32 = 4096;

/// An entry ID parameter: `(0, anything)` is none; `(n>0, NULL)` is MAPI_E_INVALID_PARAMETER.
///
/// # Safety
/// A non-NULL `p` must point to `cb` readable bytes.
pub unsafe fn entry_id_in<'a>(
    cb: ULONG,
    p: *const ENTRYID,
    what: &str,
) -> MapiResult<Option<&'a [u8]>> {
    if cb == 0 {
        return Ok(None);
    }
    if cb > MAX_ENTRYID {
        return Err(MapiError::new(
            MAPI_E_INVALID_ENTRYID,
            format!("{what}: an entry ID of {cb} bytes is not one of this store's"),
        ));
    }
    // SAFETY: a non-NULL `p` points to `cb` readable bytes (the caller's contract).
    Ok(Some(unsafe { slice_in(p as *const u8, cb, what) }?))
}

/// An entry ID that must be present.
///
/// # Safety
/// As for [`entry_id_in`].
pub unsafe fn required_entry_id<'a>(
    cb: ULONG,
    p: *const ENTRYID,
    what: &str,
) -> MapiResult<&'a [u8]> {
    // SAFETY: this function's contract is entry_id_in's.
    unsafe { entry_id_in(cb, p, what) }?.ok_or_else(|| {
        MapiError::new(
            MAPI_E_INVALID_ENTRYID,
            format!("{what}: the entry ID is empty"),
        )
    })
}

/// OpenEntry for IMsgStore and IMAPIFolder: validates, opens, and hands out a new object.
///
/// # Safety
/// Pointers as the slot received them: `lpEntryID` NULL or `cbEntryID` readable bytes,
/// `lpInterface` NULL or a readable IID, `lpulObjType` and `lppUnk` NULL or writable.
pub unsafe fn open_entry(
    store: &Arc<Store>,
    cbEntryID: ULONG,
    lpEntryID: LPENTRYID,
    lpInterface: LPCIID,
    ulFlags: ULONG,
    lpulObjType: *mut ULONG,
    lppUnk: *mut *mut IUnknown,
) -> MapiResult<HRESULT> {
    // Clear both out-parameters before checking either: one NULL must not leave the other
    // holding the caller's garbage.
    // SAFETY: `lppUnk` and `lpulObjType` are NULL or writable
    // (this function's contract); each helper checks NULL before writing.
    unsafe { guard::optional_out(lppUnk) };
    // SAFETY: as above.
    if let Some(t) = unsafe { lpulObjType.as_mut() } {
        *t = 0;
    }
    // SAFETY: as above.
    let obj_type = unsafe { guard::out_ptr(lpulObjType, "OpenEntry: lpulObjType") }?;
    // SAFETY: as above.
    let out = unsafe { guard::cleared_out(lppUnk, "OpenEntry: lppUnk") }?;
    // SAFETY: `lpEntryID` is NULL or points to `cbEntryID` readable bytes (the contract).
    let entry = unsafe { entry_id_in(cbEntryID, lpEntryID, "OpenEntry: lpEntryID") }?;
    let opened = store.open_entry(entry, ulFlags)?;
    // SAFETY: `lpInterface` is NULL or a readable IID (the contract).
    let iid = unsafe { lpInterface.as_ref() };
    let check = |ok: bool| {
        if ok {
            Ok(())
        } else {
            Err(MapiError::new(
                MAPI_E_INTERFACE_NOT_SUPPORTED,
                "OpenEntry: the object does not support the requested interface",
            ))
        }
    };
    match opened {
        Opened::Folder(folder) => {
            check(iid.is_none_or(answers::<FolderClass>))?;
            *out = ComObject::as_unknown(ComObject::create(FolderClass { folder }));
            *obj_type = MAPI_FOLDER;
        }
        Opened::Message(msg) => {
            check(iid.is_none_or(answers::<MessageClass>))?;
            *out = ComObject::as_unknown(ComObject::create(MessageClass { msg: *msg }));
            *obj_type = MAPI_MESSAGE;
        }
    }
    Ok(S_OK)
}
