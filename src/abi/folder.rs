//! IMAPIFolder: the vtable of a folder object (non-transacted).

use super::alloc::Allocator;
use super::convert::tstring_in;
use super::entry::{open_entry, required_entry_id};
use super::guard;
use super::iids::*;
use super::interfaces::*;
use super::message::{self, MessageClass};
use super::object::{self, check_interface, ComClass, ComObject};
use super::prop::{self, not_supported, PropClass};
use super::table::new_table;
use super::types::*;
use crate::core::folder::Folder;
use crate::core::mapidefs::*;
use crate::core::props::PropObject;
use std::ffi::c_void;

/// cbindgen:ignore
pub struct FolderClass {
    pub folder: Folder,
}

impl ComClass for FolderClass {
    type Interface = IMAPIFolder;
    const IIDS: &'static [&'static GUID] = &[&IID_IMAPIProp, &IID_IMAPIContainer, &IID_IMAPIFolder];
    fn vtbl() -> &'static IMAPIFolderVtbl {
        &FOLDER_VTBL
    }
}

impl PropClass for FolderClass {
    fn prop(&self) -> &dyn PropObject {
        &self.folder
    }
}

type C = FolderClass;
type I = <C as ComClass>::Interface;

const _: () = object::assert_com_layout::<C>();

static FOLDER_VTBL: IMAPIFolderVtbl = prop::prop_vtbl!(IMAPIFolderVtbl<C> {
    SaveChanges: prop::save_changes::<C>,
    GetContentsTable: get_contents_table,
    GetHierarchyTable: get_hierarchy_table,
    OpenEntry: folder_open_entry,
    SetSearchCriteria: set_search_criteria,
    GetSearchCriteria: get_search_criteria,
    CreateMessage: create_message,
    CopyMessages: super::copy::copy_messages,
    DeleteMessages: delete_messages,
    CreateFolder: create_folder,
    CopyFolder: super::copy::copy_folder,
    DeleteFolder: delete_folder,
    SetReadFlags: set_read_flags,
    GetMessageStatus: get_message_status,
    SetMessageStatus: set_message_status,
    SaveContentsSort: save_contents_sort,
    EmptyFolder: empty_folder,
});

/// The folder behind `p` if it is one of ours.
///
/// # Safety
/// `p` must be NULL or a live COM interface pointer.
pub unsafe fn ours<'a>(p: *mut c_void) -> Option<&'a Folder> {
    // SAFETY: `p` is NULL or a live COM interface pointer (this function's contract), all
    // that ComObject::ours needs.
    unsafe { ComObject::<C>::ours(p) }.map(|o| &o.inner.folder)
}

/// A new COM object (one reference, owned by the caller) around a folder.
pub fn new_object(folder: Folder) -> *mut IMAPIFolder {
    ComObject::as_interface(ComObject::create(FolderClass { folder }))
}

unsafe extern "C" fn get_contents_table(
    This: *mut I,
    ulFlags: ULONG,
    lppTable: *mut *mut IMAPITable,
) -> HRESULT {
    // SAFETY: `This` came through `FolderClass`'s vtable, so it is NULL (guard::method checks) or
    // a live object of that class; `lppTable` is NULL or valid for the reads and writes that
    // GetContentsTable's signature declares (the caller's side of the contract, DESIGN.md §2),
    // and NULL is checked before any use.
    unsafe {
        guard::method::<C>(This, "GetContentsTable", |obj| {
            let out = guard::cleared_out(lppTable, "GetContentsTable: lppTable")?;
            let view = obj.inner.folder.contents_table(ulFlags)?;
            *out = new_table(view, Allocator::MAPI, TBLTYPE_DYNAMIC, None);
            Ok(S_OK)
        })
    }
}

unsafe extern "C" fn get_hierarchy_table(
    This: *mut I,
    ulFlags: ULONG,
    lppTable: *mut *mut IMAPITable,
) -> HRESULT {
    // SAFETY: `This` came through `FolderClass`'s vtable, so it is NULL (guard::method checks) or
    // a live object of that class; `lppTable` is NULL or valid for the reads and writes that
    // GetHierarchyTable's signature declares (the caller's side of the contract, DESIGN.md §2),
    // and NULL is checked before any use.
    unsafe {
        guard::method::<C>(This, "GetHierarchyTable", |obj| {
            let out = guard::cleared_out(lppTable, "GetHierarchyTable: lppTable")?;
            let view = obj.inner.folder.hierarchy_table(ulFlags)?;
            *out = new_table(view, Allocator::MAPI, TBLTYPE_DYNAMIC, None);
            Ok(S_OK)
        })
    }
}

unsafe extern "C" fn folder_open_entry(
    This: *mut I,
    cbEntryID: ULONG,
    lpEntryID: LPENTRYID,
    lpInterface: LPCIID,
    ulFlags: ULONG,
    lpulObjType: *mut ULONG,
    lppUnk: *mut *mut IUnknown,
) -> HRESULT {
    // SAFETY: `This` came through `FolderClass`'s vtable, so it is NULL (guard::method checks) or
    // a live object of that class; `lpEntryID`, `lpInterface`, `lpulObjType`, `lppUnk` are NULL
    // or valid for the reads and writes that OpenEntry's signature declares (the caller's side of
    // the contract, DESIGN.md §2), and NULL is checked before any use.
    unsafe {
        guard::method::<C>(This, "OpenEntry", |obj| {
            open_entry(
                obj.inner.folder.store(),
                cbEntryID,
                lpEntryID,
                lpInterface,
                ulFlags,
                lpulObjType,
                lppUnk,
            )
        })
    }
}

unsafe extern "C" fn set_search_criteria(
    This: *mut I,
    _lpRestriction: *mut SRestriction,
    _lpContainerList: LPENTRYLIST,
    _ulSearchFlags: ULONG,
) -> HRESULT {
    // SAFETY: `This` came through `FolderClass`'s vtable, so it is NULL (guard::method checks) or
    // a live object of that class.
    unsafe {
        guard::method::<C>(This, "SetSearchCriteria", |_| {
            not_supported("SetSearchCriteria")
        })
    }
}

unsafe extern "C" fn get_search_criteria(
    This: *mut I,
    _ulFlags: ULONG,
    lppRestriction: *mut *mut SRestriction,
    lppContainerList: *mut LPENTRYLIST,
    lpulSearchState: *mut ULONG,
) -> HRESULT {
    // SAFETY: `This` came through `FolderClass`'s vtable, so it is NULL (guard::method checks) or
    // a live object of that class; `lppRestriction`, `lppContainerList`, `lpulSearchState` are
    // NULL or valid for the reads and writes that GetSearchCriteria's signature declares (the
    // caller's side of the contract, DESIGN.md §2), and NULL is checked before any use.
    unsafe {
        guard::method::<C>(This, "GetSearchCriteria", |_| {
            guard::optional_out(lppRestriction);
            guard::optional_out(lppContainerList);
            if let Some(s) = lpulSearchState.as_mut() {
                *s = 0;
            }
            not_supported("GetSearchCriteria")
        })
    }
}

unsafe extern "C" fn create_message(
    This: *mut I,
    lpInterface: LPCIID,
    ulFlags: ULONG,
    lppMessage: *mut *mut IMessage,
) -> HRESULT {
    // SAFETY: `This` came through `FolderClass`'s vtable, so it is NULL (guard::method checks) or
    // a live object of that class; `lpInterface`, `lppMessage` are NULL or valid for the reads
    // and writes that CreateMessage's signature declares (the caller's side of the contract,
    // DESIGN.md §2), and NULL is checked before any use.
    unsafe {
        guard::method::<C>(This, "CreateMessage", |obj| {
            let out = guard::cleared_out(lppMessage, "CreateMessage: lppMessage")?;
            check_interface::<MessageClass>(lpInterface, "CreateMessage")?;
            let msg = obj.inner.folder.create_message(ulFlags)?;
            *out = message::new_object(msg);
            Ok(S_OK)
        })
    }
}

unsafe extern "C" fn delete_messages(
    This: *mut I,
    lpMsgList: LPENTRYLIST,
    _ulUIParam: ULONG_PTR,
    _lpProgress: *mut IMAPIProgress,
    ulFlags: ULONG,
) -> HRESULT {
    // SAFETY: `This` came through `FolderClass`'s vtable, so it is NULL (guard::method checks) or
    // a live object of that class; `lpMsgList` is NULL or valid for the reads and writes that
    // DeleteMessages's signature declares (the caller's side of the contract, DESIGN.md §2), and
    // NULL is checked before any use.
    unsafe {
        guard::method::<C>(This, "DeleteMessages", |obj| {
            let entries = super::copy::entry_list_in(lpMsgList, "DeleteMessages")?;
            Ok(if obj.inner.folder.delete_messages(&entries, ulFlags)? {
                S_OK
            } else {
                MAPI_W_PARTIAL_COMPLETION
            })
        })
    }
}

unsafe extern "C" fn create_folder(
    This: *mut I,
    ulFolderType: ULONG,
    lpszFolderName: LPTSTR,
    lpszFolderComment: LPTSTR,
    lpInterface: LPCIID,
    ulFlags: ULONG,
    lppFolder: *mut *mut IMAPIFolder,
) -> HRESULT {
    // SAFETY: `This` came through `FolderClass`'s vtable, so it is NULL (guard::method checks) or
    // a live object of that class; `lpszFolderName`, `lpszFolderComment`, `lpInterface`,
    // `lppFolder` are NULL or valid for the reads and writes that CreateFolder's signature
    // declares (the caller's side of the contract, DESIGN.md §2), and NULL is checked before any
    // use.
    unsafe {
        guard::method::<C>(This, "CreateFolder", |obj| {
            let out = guard::cleared_out(lppFolder, "CreateFolder: lppFolder")?;
            check_interface::<FolderClass>(lpInterface, "CreateFolder")?;
            let unicode = ulFlags & MAPI_UNICODE != 0;
            let name = tstring_in(lpszFolderName, unicode, "CreateFolder: lpszFolderName")?;
            let comment = if lpszFolderComment.is_null() {
                None
            } else {
                Some(tstring_in(
                    lpszFolderComment,
                    unicode,
                    "CreateFolder: lpszFolderComment",
                )?)
            };
            let folder =
                obj.inner
                    .folder
                    .create_folder(ulFolderType, &name, comment.as_deref(), ulFlags)?;
            *out = new_object(folder);
            Ok(S_OK)
        })
    }
}

unsafe extern "C" fn delete_folder(
    This: *mut I,
    cbEntryID: ULONG,
    lpEntryID: LPENTRYID,
    _ulUIParam: ULONG_PTR,
    _lpProgress: *mut IMAPIProgress,
    ulFlags: ULONG,
) -> HRESULT {
    // SAFETY: `This` came through `FolderClass`'s vtable, so it is NULL (guard::method checks) or
    // a live object of that class; `lpEntryID` is NULL or valid for the reads and writes that
    // DeleteFolder's signature declares (the caller's side of the contract, DESIGN.md §2), and
    // NULL is checked before any use.
    unsafe {
        guard::method::<C>(This, "DeleteFolder", |obj| {
            let entry = required_entry_id(cbEntryID, lpEntryID, "DeleteFolder: lpEntryID")?;
            obj.inner.folder.delete_folder(entry, ulFlags)?;
            Ok(S_OK)
        })
    }
}

unsafe extern "C" fn set_read_flags(
    This: *mut I,
    _lpMsgList: LPENTRYLIST,
    _ulUIParam: ULONG_PTR,
    _lpProgress: *mut IMAPIProgress,
    _ulFlags: ULONG,
) -> HRESULT {
    // SAFETY: `This` came through `FolderClass`'s vtable, so it is NULL (guard::method checks) or
    // a live object of that class.
    unsafe { guard::method::<C>(This, "SetReadFlags", |_| not_supported("SetReadFlags")) }
}

unsafe extern "C" fn get_message_status(
    This: *mut I,
    _cbEntryID: ULONG,
    _lpEntryID: LPENTRYID,
    _ulFlags: ULONG,
    lpulMessageStatus: *mut ULONG,
) -> HRESULT {
    // SAFETY: `This` came through `FolderClass`'s vtable, so it is NULL (guard::method checks) or
    // a live object of that class; `lpulMessageStatus` is NULL or valid for the reads and writes
    // that GetMessageStatus's signature declares (the caller's side of the contract, DESIGN.md
    // §2), and NULL is checked before any use.
    unsafe {
        guard::method::<C>(This, "GetMessageStatus", |_| {
            if let Some(s) = lpulMessageStatus.as_mut() {
                *s = 0;
            }
            not_supported("GetMessageStatus")
        })
    }
}

unsafe extern "C" fn set_message_status(
    This: *mut I,
    _cbEntryID: ULONG,
    _lpEntryID: LPENTRYID,
    _ulNewStatus: ULONG,
    _ulNewStatusMask: ULONG,
    lpulOldStatus: *mut ULONG,
) -> HRESULT {
    // SAFETY: `This` came through `FolderClass`'s vtable, so it is NULL (guard::method checks) or
    // a live object of that class; `lpulOldStatus` is NULL or valid for the reads and writes that
    // SetMessageStatus's signature declares (the caller's side of the contract, DESIGN.md §2),
    // and NULL is checked before any use.
    unsafe {
        guard::method::<C>(This, "SetMessageStatus", |_| {
            if let Some(s) = lpulOldStatus.as_mut() {
                *s = 0;
            }
            not_supported("SetMessageStatus")
        })
    }
}

unsafe extern "C" fn save_contents_sort(
    This: *mut I,
    _lpSortCriteria: *mut SSortOrderSet,
    _ulFlags: ULONG,
) -> HRESULT {
    // SAFETY: `This` came through `FolderClass`'s vtable, so it is NULL (guard::method checks) or
    // a live object of that class.
    unsafe {
        guard::method::<C>(This, "SaveContentsSort", |_| {
            not_supported("SaveContentsSort")
        })
    }
}

unsafe extern "C" fn empty_folder(
    This: *mut I,
    _ulUIParam: ULONG_PTR,
    _lpProgress: *mut IMAPIProgress,
    _ulFlags: ULONG,
) -> HRESULT {
    // SAFETY: `This` came through `FolderClass`'s vtable, so it is NULL (guard::method checks) or
    // a live object of that class.
    unsafe { guard::method::<C>(This, "EmptyFolder", |_| not_supported("EmptyFolder")) }
}
