//! IMAPIFolder::CopyMessages (slot 20) and CopyFolder (slot 23): validate, convert, delegate to
//! `core::copy`. The destination must be one of our folders of the same store (core says why).

use super::convert::{slice_in, tstring_in};
use super::entry::required_entry_id;
use super::folder::{self, FolderClass};
use super::guard;
use super::interfaces::*;
use super::object::check_interface;
use super::types::*;
use crate::core::error::{MapiError, MapiResult};
use crate::core::folder::Folder;
use crate::core::mapidefs::*;
use crate::core::value::{try_map_result, try_to_vec};

type I = IMAPIFolder;

/// An ENTRYLIST's entry IDs, copied fallibly (the list and its entries are as big as the caller
/// made them). NULL is MAPI_E_INVALID_PARAMETER.
///
/// # Safety
/// `list` must be NULL or a readable ENTRYLIST whose `lpbin` holds `cValues` readable SBinary.
pub(super) unsafe fn entry_list_in(list: LPENTRYLIST, method: &str) -> MapiResult<Vec<Vec<u8>>> {
    // SAFETY: NULL or readable (the contract).
    let list = unsafe { list.as_ref() }
        .ok_or_else(|| MapiError::invalid(format!("{method}: lpMsgList is NULL")))?;
    // SAFETY: as above.
    let bins = unsafe { slice_in(list.lpbin, list.cValues, &format!("{method}: lpMsgList")) }?;
    try_map_result(bins, |b| {
        // SAFETY: each SBinary's `lpb` is NULL or holds `cb` readable bytes (the contract).
        try_to_vec(unsafe { slice_in(b.lpb, b.cb, &format!("{method}: entry ID")) }?)
    })
}

/// The destination folder: required, named by an interface a folder answers, and ours.
///
/// # Safety
/// `lpInterface` must be NULL or a readable IID; `lpDestFolder` NULL or a live COM object.
unsafe fn dest_folder<'a>(
    lpInterface: LPCIID,
    lpDestFolder: LPVOID,
    method: &str,
) -> MapiResult<&'a Folder> {
    // SAFETY: NULL or readable (the contract).
    unsafe { check_interface::<FolderClass>(lpInterface, method) }?;
    if lpDestFolder.is_null() {
        return Err(MapiError::invalid(format!(
            "{method}: lpDestFolder is NULL"
        )));
    }
    // SAFETY: a live COM object (the contract).
    unsafe { folder::ours(lpDestFolder) }.ok_or_else(|| {
        MapiError::new(
            MAPI_E_NO_SUPPORT,
            format!("{method}: the destination is not a folder of this provider"),
        )
    })
}

/// Slot 20.
///
/// # Safety
/// Called through our folder vtable only.
pub(super) unsafe extern "C" fn copy_messages(
    This: *mut I,
    lpMsgList: LPENTRYLIST,
    lpInterface: LPCIID,
    lpDestFolder: LPVOID,
    _ulUIParam: ULONG_PTR,
    _lpProgress: *mut IMAPIProgress,
    ulFlags: ULONG,
) -> HRESULT {
    // SAFETY: `This` came through `FolderClass`'s vtable, so it is NULL (guard::method checks) or
    // a live object of that class; `lpMsgList`, `lpInterface`, `lpDestFolder` are NULL or valid
    // for the reads that CopyMessages's signature declares (the caller's side of the contract,
    // DESIGN.md §2), and NULL is checked before any use.
    unsafe {
        guard::method::<FolderClass>(This, "CopyMessages", |obj| {
            let entries = entry_list_in(lpMsgList, "CopyMessages")?;
            let dest = dest_folder(lpInterface, lpDestFolder, "CopyMessages")?;
            Ok(
                if obj.inner.folder.copy_messages(&entries, dest, ulFlags)? {
                    S_OK
                } else {
                    MAPI_W_PARTIAL_COMPLETION
                },
            )
        })
    }
}

/// Slot 23.
///
/// # Safety
/// Called through our folder vtable only.
pub(super) unsafe extern "C" fn copy_folder(
    This: *mut I,
    cbEntryID: ULONG,
    lpEntryID: LPENTRYID,
    lpInterface: LPCIID,
    lpDestFolder: LPVOID,
    lpszNewFolderName: LPTSTR,
    _ulUIParam: ULONG_PTR,
    _lpProgress: *mut IMAPIProgress,
    ulFlags: ULONG,
) -> HRESULT {
    // SAFETY: `This` came through `FolderClass`'s vtable, so it is NULL (guard::method checks) or
    // a live object of that class; `lpEntryID`, `lpInterface`, `lpDestFolder`,
    // `lpszNewFolderName` are NULL or valid for the reads that CopyFolder's signature declares
    // (the caller's side of the contract, DESIGN.md §2), and NULL is checked before any use.
    unsafe {
        guard::method::<FolderClass>(This, "CopyFolder", |obj| {
            let entry = required_entry_id(cbEntryID, lpEntryID, "CopyFolder: lpEntryID")?;
            let dest = dest_folder(lpInterface, lpDestFolder, "CopyFolder")?;
            let name = if lpszNewFolderName.is_null() {
                None
            } else {
                let unicode = ulFlags & MAPI_UNICODE != 0;
                Some(tstring_in(
                    lpszNewFolderName,
                    unicode,
                    "CopyFolder: lpszNewFolderName",
                )?)
            };
            obj.inner
                .folder
                .copy_folder(entry, dest, name.as_deref(), ulFlags)?;
            Ok(S_OK)
        })
    }
}
