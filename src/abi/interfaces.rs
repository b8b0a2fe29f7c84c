//! Every interface's vtable, flattened in MAPI's exact slot order (reference §1; DESIGN.md §2).
//! Generated once from a slot table and committed: written out so that cbindgen sees every slot.
//! The receiver is named `This`; every slot is `unsafe extern "C"` (the COM convention on 64-bit).

use super::types::*;
use std::ffi::c_void;

/// The conflict a resolver is asked to decide (DESIGN.md §5). Everything it points to is
/// borrowed for the call; the resolver AddRefs `lpStored` to keep it.
#[repr(C)]
pub struct MSGCONFLICT {
    /// MSGCONFLICT_DELETED (0x1): the stored message is gone.
    pub ulFlags: ULONG,
    pub cbEntryID: ULONG,
    /// The message in conflict.
    pub lpEntryID: LPENTRYID,
    /// Tags changed or deleted in the store since this client opened the message.
    pub lpTheirChanges: LPSPropTagArray,
    /// Tags this client changed or deleted.
    pub lpMyChanges: LPSPropTagArray,
    /// A read-only object on the stored version (NULL if deleted).
    pub lpStored: *mut IMessage,
}

/// The root of every interface.
#[repr(C)]
pub struct IUnknown {
    pub lpVtbl: *const IUnknownVtbl,
}

#[repr(C)]
pub struct IUnknownVtbl {
    pub QueryInterface: unsafe extern "C" fn(
        This: *mut IUnknown,
        riid: *const IID,
        ppvObj: *mut *mut c_void,
    ) -> HRESULT,
    pub AddRef: unsafe extern "C" fn(This: *mut IUnknown) -> ULONG,
    pub Release: unsafe extern "C" fn(This: *mut IUnknown) -> ULONG,
}

/// Properties of any MAPI object (slots 0–13).
#[repr(C)]
pub struct IMAPIProp {
    pub lpVtbl: *const IMAPIPropVtbl,
}

#[repr(C)]
pub struct IMAPIPropVtbl {
    pub QueryInterface: unsafe extern "C" fn(
        This: *mut IMAPIProp,
        riid: *const IID,
        ppvObj: *mut *mut c_void,
    ) -> HRESULT,
    pub AddRef: unsafe extern "C" fn(This: *mut IMAPIProp) -> ULONG,
    pub Release: unsafe extern "C" fn(This: *mut IMAPIProp) -> ULONG,
    pub GetLastError: unsafe extern "C" fn(
        This: *mut IMAPIProp,
        hResult: HRESULT,
        ulFlags: ULONG,
        lppMAPIError: *mut LPMAPIERROR,
    ) -> HRESULT,
    pub SaveChanges: unsafe extern "C" fn(This: *mut IMAPIProp, ulFlags: ULONG) -> HRESULT,
    pub GetProps: unsafe extern "C" fn(
        This: *mut IMAPIProp,
        lpPropTagArray: LPSPropTagArray,
        ulFlags: ULONG,
        lpcValues: *mut ULONG,
        lppPropArray: *mut LPSPropValue,
    ) -> HRESULT,
    pub GetPropList: unsafe extern "C" fn(
        This: *mut IMAPIProp,
        ulFlags: ULONG,
        lppPropTagArray: *mut LPSPropTagArray,
    ) -> HRESULT,
    pub OpenProperty: unsafe extern "C" fn(
        This: *mut IMAPIProp,
        ulPropTag: ULONG,
        lpiid: LPCIID,
        ulInterfaceOptions: ULONG,
        ulFlags: ULONG,
        lppUnk: *mut *mut IUnknown,
    ) -> HRESULT,
    pub SetProps: unsafe extern "C" fn(
        This: *mut IMAPIProp,
        cValues: ULONG,
        lpPropArray: LPSPropValue,
        lppProblems: *mut LPSPropProblemArray,
    ) -> HRESULT,
    pub DeleteProps: unsafe extern "C" fn(
        This: *mut IMAPIProp,
        lpPropTagArray: LPSPropTagArray,
        lppProblems: *mut LPSPropProblemArray,
    ) -> HRESULT,
    pub CopyTo: unsafe extern "C" fn(
        This: *mut IMAPIProp,
        ciidExclude: ULONG,
        rgiidExclude: LPCIID,
        lpExcludeProps: LPSPropTagArray,
        ulUIParam: ULONG_PTR,
        lpProgress: *mut IMAPIProgress,
        lpInterface: LPCIID,
        lpDestObj: LPVOID,
        ulFlags: ULONG,
        lppProblems: *mut LPSPropProblemArray,
    ) -> HRESULT,
    pub CopyProps: unsafe extern "C" fn(
        This: *mut IMAPIProp,
        lpIncludeProps: LPSPropTagArray,
        ulUIParam: ULONG_PTR,
        lpProgress: *mut IMAPIProgress,
        lpInterface: LPCIID,
        lpDestObj: LPVOID,
        ulFlags: ULONG,
        lppProblems: *mut LPSPropProblemArray,
    ) -> HRESULT,
    pub GetNamesFromIDs: unsafe extern "C" fn(
        This: *mut IMAPIProp,
        lppPropTags: *mut LPSPropTagArray,
        lpPropSetGuid: LPGUID,
        ulFlags: ULONG,
        lpcPropNames: *mut ULONG,
        lpppPropNames: *mut *mut LPMAPINAMEID,
    ) -> HRESULT,
    pub GetIDsFromNames: unsafe extern "C" fn(
        This: *mut IMAPIProp,
        cPropNames: ULONG,
        lppPropNames: *mut LPMAPINAMEID,
        ulFlags: ULONG,
        lppPropTags: *mut LPSPropTagArray,
    ) -> HRESULT,
}

/// MAPI's in-memory property object from `CreateIProp` (slots 14–17 after IMAPIProp).
#[repr(C)]
pub struct IPropData {
    pub lpVtbl: *const IPropDataVtbl,
}

#[repr(C)]
pub struct IPropDataVtbl {
    pub QueryInterface: unsafe extern "C" fn(
        This: *mut IPropData,
        riid: *const IID,
        ppvObj: *mut *mut c_void,
    ) -> HRESULT,
    pub AddRef: unsafe extern "C" fn(This: *mut IPropData) -> ULONG,
    pub Release: unsafe extern "C" fn(This: *mut IPropData) -> ULONG,
    pub GetLastError: unsafe extern "C" fn(
        This: *mut IPropData,
        hResult: HRESULT,
        ulFlags: ULONG,
        lppMAPIError: *mut LPMAPIERROR,
    ) -> HRESULT,
    pub SaveChanges: unsafe extern "C" fn(This: *mut IPropData, ulFlags: ULONG) -> HRESULT,
    pub GetProps: unsafe extern "C" fn(
        This: *mut IPropData,
        lpPropTagArray: LPSPropTagArray,
        ulFlags: ULONG,
        lpcValues: *mut ULONG,
        lppPropArray: *mut LPSPropValue,
    ) -> HRESULT,
    pub GetPropList: unsafe extern "C" fn(
        This: *mut IPropData,
        ulFlags: ULONG,
        lppPropTagArray: *mut LPSPropTagArray,
    ) -> HRESULT,
    pub OpenProperty: unsafe extern "C" fn(
        This: *mut IPropData,
        ulPropTag: ULONG,
        lpiid: LPCIID,
        ulInterfaceOptions: ULONG,
        ulFlags: ULONG,
        lppUnk: *mut *mut IUnknown,
    ) -> HRESULT,
    pub SetProps: unsafe extern "C" fn(
        This: *mut IPropData,
        cValues: ULONG,
        lpPropArray: LPSPropValue,
        lppProblems: *mut LPSPropProblemArray,
    ) -> HRESULT,
    pub DeleteProps: unsafe extern "C" fn(
        This: *mut IPropData,
        lpPropTagArray: LPSPropTagArray,
        lppProblems: *mut LPSPropProblemArray,
    ) -> HRESULT,
    pub CopyTo: unsafe extern "C" fn(
        This: *mut IPropData,
        ciidExclude: ULONG,
        rgiidExclude: LPCIID,
        lpExcludeProps: LPSPropTagArray,
        ulUIParam: ULONG_PTR,
        lpProgress: *mut IMAPIProgress,
        lpInterface: LPCIID,
        lpDestObj: LPVOID,
        ulFlags: ULONG,
        lppProblems: *mut LPSPropProblemArray,
    ) -> HRESULT,
    pub CopyProps: unsafe extern "C" fn(
        This: *mut IPropData,
        lpIncludeProps: LPSPropTagArray,
        ulUIParam: ULONG_PTR,
        lpProgress: *mut IMAPIProgress,
        lpInterface: LPCIID,
        lpDestObj: LPVOID,
        ulFlags: ULONG,
        lppProblems: *mut LPSPropProblemArray,
    ) -> HRESULT,
    pub GetNamesFromIDs: unsafe extern "C" fn(
        This: *mut IPropData,
        lppPropTags: *mut LPSPropTagArray,
        lpPropSetGuid: LPGUID,
        ulFlags: ULONG,
        lpcPropNames: *mut ULONG,
        lpppPropNames: *mut *mut LPMAPINAMEID,
    ) -> HRESULT,
    pub GetIDsFromNames: unsafe extern "C" fn(
        This: *mut IPropData,
        cPropNames: ULONG,
        lppPropNames: *mut LPMAPINAMEID,
        ulFlags: ULONG,
        lppPropTags: *mut LPSPropTagArray,
    ) -> HRESULT,
    pub HrSetObjAccess: unsafe extern "C" fn(This: *mut IPropData, ulAccess: ULONG) -> HRESULT,
    pub HrSetPropAccess: unsafe extern "C" fn(
        This: *mut IPropData,
        lpPropTagArray: LPSPropTagArray,
        rgulAccess: *mut ULONG,
    ) -> HRESULT,
    pub HrGetPropAccess: unsafe extern "C" fn(
        This: *mut IPropData,
        lppPropTagArray: *mut LPSPropTagArray,
        lprgulAccess: *mut *mut ULONG,
    ) -> HRESULT,
    pub HrAddObjProps: unsafe extern "C" fn(
        This: *mut IPropData,
        lpPropTagArray: LPSPropTagArray,
        lppProblems: *mut LPSPropProblemArray,
    ) -> HRESULT,
}

/// A container of objects (slots 14–18 after IMAPIProp).
#[repr(C)]
pub struct IMAPIContainer {
    pub lpVtbl: *const IMAPIContainerVtbl,
}

#[repr(C)]
pub struct IMAPIContainerVtbl {
    pub QueryInterface: unsafe extern "C" fn(
        This: *mut IMAPIContainer,
        riid: *const IID,
        ppvObj: *mut *mut c_void,
    ) -> HRESULT,
    pub AddRef: unsafe extern "C" fn(This: *mut IMAPIContainer) -> ULONG,
    pub Release: unsafe extern "C" fn(This: *mut IMAPIContainer) -> ULONG,
    pub GetLastError: unsafe extern "C" fn(
        This: *mut IMAPIContainer,
        hResult: HRESULT,
        ulFlags: ULONG,
        lppMAPIError: *mut LPMAPIERROR,
    ) -> HRESULT,
    pub SaveChanges: unsafe extern "C" fn(This: *mut IMAPIContainer, ulFlags: ULONG) -> HRESULT,
    pub GetProps: unsafe extern "C" fn(
        This: *mut IMAPIContainer,
        lpPropTagArray: LPSPropTagArray,
        ulFlags: ULONG,
        lpcValues: *mut ULONG,
        lppPropArray: *mut LPSPropValue,
    ) -> HRESULT,
    pub GetPropList: unsafe extern "C" fn(
        This: *mut IMAPIContainer,
        ulFlags: ULONG,
        lppPropTagArray: *mut LPSPropTagArray,
    ) -> HRESULT,
    pub OpenProperty: unsafe extern "C" fn(
        This: *mut IMAPIContainer,
        ulPropTag: ULONG,
        lpiid: LPCIID,
        ulInterfaceOptions: ULONG,
        ulFlags: ULONG,
        lppUnk: *mut *mut IUnknown,
    ) -> HRESULT,
    pub SetProps: unsafe extern "C" fn(
        This: *mut IMAPIContainer,
        cValues: ULONG,
        lpPropArray: LPSPropValue,
        lppProblems: *mut LPSPropProblemArray,
    ) -> HRESULT,
    pub DeleteProps: unsafe extern "C" fn(
        This: *mut IMAPIContainer,
        lpPropTagArray: LPSPropTagArray,
        lppProblems: *mut LPSPropProblemArray,
    ) -> HRESULT,
    pub CopyTo: unsafe extern "C" fn(
        This: *mut IMAPIContainer,
        ciidExclude: ULONG,
        rgiidExclude: LPCIID,
        lpExcludeProps: LPSPropTagArray,
        ulUIParam: ULONG_PTR,
        lpProgress: *mut IMAPIProgress,
        lpInterface: LPCIID,
        lpDestObj: LPVOID,
        ulFlags: ULONG,
        lppProblems: *mut LPSPropProblemArray,
    ) -> HRESULT,
    pub CopyProps: unsafe extern "C" fn(
        This: *mut IMAPIContainer,
        lpIncludeProps: LPSPropTagArray,
        ulUIParam: ULONG_PTR,
        lpProgress: *mut IMAPIProgress,
        lpInterface: LPCIID,
        lpDestObj: LPVOID,
        ulFlags: ULONG,
        lppProblems: *mut LPSPropProblemArray,
    ) -> HRESULT,
    pub GetNamesFromIDs: unsafe extern "C" fn(
        This: *mut IMAPIContainer,
        lppPropTags: *mut LPSPropTagArray,
        lpPropSetGuid: LPGUID,
        ulFlags: ULONG,
        lpcPropNames: *mut ULONG,
        lpppPropNames: *mut *mut LPMAPINAMEID,
    ) -> HRESULT,
    pub GetIDsFromNames: unsafe extern "C" fn(
        This: *mut IMAPIContainer,
        cPropNames: ULONG,
        lppPropNames: *mut LPMAPINAMEID,
        ulFlags: ULONG,
        lppPropTags: *mut LPSPropTagArray,
    ) -> HRESULT,
    pub GetContentsTable: unsafe extern "C" fn(
        This: *mut IMAPIContainer,
        ulFlags: ULONG,
        lppTable: *mut *mut IMAPITable,
    ) -> HRESULT,
    pub GetHierarchyTable: unsafe extern "C" fn(
        This: *mut IMAPIContainer,
        ulFlags: ULONG,
        lppTable: *mut *mut IMAPITable,
    ) -> HRESULT,
    pub OpenEntry: unsafe extern "C" fn(
        This: *mut IMAPIContainer,
        cbEntryID: ULONG,
        lpEntryID: LPENTRYID,
        lpInterface: LPCIID,
        ulFlags: ULONG,
        lpulObjType: *mut ULONG,
        lppUnk: *mut *mut IUnknown,
    ) -> HRESULT,
    pub SetSearchCriteria: unsafe extern "C" fn(
        This: *mut IMAPIContainer,
        lpRestriction: *mut SRestriction,
        lpContainerList: LPENTRYLIST,
        ulSearchFlags: ULONG,
    ) -> HRESULT,
    pub GetSearchCriteria: unsafe extern "C" fn(
        This: *mut IMAPIContainer,
        ulFlags: ULONG,
        lppRestriction: *mut *mut SRestriction,
        lppContainerList: *mut LPENTRYLIST,
        lpulSearchState: *mut ULONG,
    ) -> HRESULT,
}

/// A folder: non-transacted; holds messages and folders (slots 19–29 after IMAPIContainer).
#[repr(C)]
pub struct IMAPIFolder {
    pub lpVtbl: *const IMAPIFolderVtbl,
}

#[repr(C)]
pub struct IMAPIFolderVtbl {
    pub QueryInterface: unsafe extern "C" fn(
        This: *mut IMAPIFolder,
        riid: *const IID,
        ppvObj: *mut *mut c_void,
    ) -> HRESULT,
    pub AddRef: unsafe extern "C" fn(This: *mut IMAPIFolder) -> ULONG,
    pub Release: unsafe extern "C" fn(This: *mut IMAPIFolder) -> ULONG,
    pub GetLastError: unsafe extern "C" fn(
        This: *mut IMAPIFolder,
        hResult: HRESULT,
        ulFlags: ULONG,
        lppMAPIError: *mut LPMAPIERROR,
    ) -> HRESULT,
    pub SaveChanges: unsafe extern "C" fn(This: *mut IMAPIFolder, ulFlags: ULONG) -> HRESULT,
    pub GetProps: unsafe extern "C" fn(
        This: *mut IMAPIFolder,
        lpPropTagArray: LPSPropTagArray,
        ulFlags: ULONG,
        lpcValues: *mut ULONG,
        lppPropArray: *mut LPSPropValue,
    ) -> HRESULT,
    pub GetPropList: unsafe extern "C" fn(
        This: *mut IMAPIFolder,
        ulFlags: ULONG,
        lppPropTagArray: *mut LPSPropTagArray,
    ) -> HRESULT,
    pub OpenProperty: unsafe extern "C" fn(
        This: *mut IMAPIFolder,
        ulPropTag: ULONG,
        lpiid: LPCIID,
        ulInterfaceOptions: ULONG,
        ulFlags: ULONG,
        lppUnk: *mut *mut IUnknown,
    ) -> HRESULT,
    pub SetProps: unsafe extern "C" fn(
        This: *mut IMAPIFolder,
        cValues: ULONG,
        lpPropArray: LPSPropValue,
        lppProblems: *mut LPSPropProblemArray,
    ) -> HRESULT,
    pub DeleteProps: unsafe extern "C" fn(
        This: *mut IMAPIFolder,
        lpPropTagArray: LPSPropTagArray,
        lppProblems: *mut LPSPropProblemArray,
    ) -> HRESULT,
    pub CopyTo: unsafe extern "C" fn(
        This: *mut IMAPIFolder,
        ciidExclude: ULONG,
        rgiidExclude: LPCIID,
        lpExcludeProps: LPSPropTagArray,
        ulUIParam: ULONG_PTR,
        lpProgress: *mut IMAPIProgress,
        lpInterface: LPCIID,
        lpDestObj: LPVOID,
        ulFlags: ULONG,
        lppProblems: *mut LPSPropProblemArray,
    ) -> HRESULT,
    pub CopyProps: unsafe extern "C" fn(
        This: *mut IMAPIFolder,
        lpIncludeProps: LPSPropTagArray,
        ulUIParam: ULONG_PTR,
        lpProgress: *mut IMAPIProgress,
        lpInterface: LPCIID,
        lpDestObj: LPVOID,
        ulFlags: ULONG,
        lppProblems: *mut LPSPropProblemArray,
    ) -> HRESULT,
    pub GetNamesFromIDs: unsafe extern "C" fn(
        This: *mut IMAPIFolder,
        lppPropTags: *mut LPSPropTagArray,
        lpPropSetGuid: LPGUID,
        ulFlags: ULONG,
        lpcPropNames: *mut ULONG,
        lpppPropNames: *mut *mut LPMAPINAMEID,
    ) -> HRESULT,
    pub GetIDsFromNames: unsafe extern "C" fn(
        This: *mut IMAPIFolder,
        cPropNames: ULONG,
        lppPropNames: *mut LPMAPINAMEID,
        ulFlags: ULONG,
        lppPropTags: *mut LPSPropTagArray,
    ) -> HRESULT,
    pub GetContentsTable: unsafe extern "C" fn(
        This: *mut IMAPIFolder,
        ulFlags: ULONG,
        lppTable: *mut *mut IMAPITable,
    ) -> HRESULT,
    pub GetHierarchyTable: unsafe extern "C" fn(
        This: *mut IMAPIFolder,
        ulFlags: ULONG,
        lppTable: *mut *mut IMAPITable,
    ) -> HRESULT,
    pub OpenEntry: unsafe extern "C" fn(
        This: *mut IMAPIFolder,
        cbEntryID: ULONG,
        lpEntryID: LPENTRYID,
        lpInterface: LPCIID,
        ulFlags: ULONG,
        lpulObjType: *mut ULONG,
        lppUnk: *mut *mut IUnknown,
    ) -> HRESULT,
    pub SetSearchCriteria: unsafe extern "C" fn(
        This: *mut IMAPIFolder,
        lpRestriction: *mut SRestriction,
        lpContainerList: LPENTRYLIST,
        ulSearchFlags: ULONG,
    ) -> HRESULT,
    pub GetSearchCriteria: unsafe extern "C" fn(
        This: *mut IMAPIFolder,
        ulFlags: ULONG,
        lppRestriction: *mut *mut SRestriction,
        lppContainerList: *mut LPENTRYLIST,
        lpulSearchState: *mut ULONG,
    ) -> HRESULT,
    pub CreateMessage: unsafe extern "C" fn(
        This: *mut IMAPIFolder,
        lpInterface: LPCIID,
        ulFlags: ULONG,
        lppMessage: *mut *mut IMessage,
    ) -> HRESULT,
    pub CopyMessages: unsafe extern "C" fn(
        This: *mut IMAPIFolder,
        lpMsgList: LPENTRYLIST,
        lpInterface: LPCIID,
        lpDestFolder: LPVOID,
        ulUIParam: ULONG_PTR,
        lpProgress: *mut IMAPIProgress,
        ulFlags: ULONG,
    ) -> HRESULT,
    pub DeleteMessages: unsafe extern "C" fn(
        This: *mut IMAPIFolder,
        lpMsgList: LPENTRYLIST,
        ulUIParam: ULONG_PTR,
        lpProgress: *mut IMAPIProgress,
        ulFlags: ULONG,
    ) -> HRESULT,
    pub CreateFolder: unsafe extern "C" fn(
        This: *mut IMAPIFolder,
        ulFolderType: ULONG,
        lpszFolderName: LPTSTR,
        lpszFolderComment: LPTSTR,
        lpInterface: LPCIID,
        ulFlags: ULONG,
        lppFolder: *mut *mut IMAPIFolder,
    ) -> HRESULT,
    pub CopyFolder: unsafe extern "C" fn(
        This: *mut IMAPIFolder,
        cbEntryID: ULONG,
        lpEntryID: LPENTRYID,
        lpInterface: LPCIID,
        lpDestFolder: LPVOID,
        lpszNewFolderName: LPTSTR,
        ulUIParam: ULONG_PTR,
        lpProgress: *mut IMAPIProgress,
        ulFlags: ULONG,
    ) -> HRESULT,
    pub DeleteFolder: unsafe extern "C" fn(
        This: *mut IMAPIFolder,
        cbEntryID: ULONG,
        lpEntryID: LPENTRYID,
        ulUIParam: ULONG_PTR,
        lpProgress: *mut IMAPIProgress,
        ulFlags: ULONG,
    ) -> HRESULT,
    pub SetReadFlags: unsafe extern "C" fn(
        This: *mut IMAPIFolder,
        lpMsgList: LPENTRYLIST,
        ulUIParam: ULONG_PTR,
        lpProgress: *mut IMAPIProgress,
        ulFlags: ULONG,
    ) -> HRESULT,
    pub GetMessageStatus: unsafe extern "C" fn(
        This: *mut IMAPIFolder,
        cbEntryID: ULONG,
        lpEntryID: LPENTRYID,
        ulFlags: ULONG,
        lpulMessageStatus: *mut ULONG,
    ) -> HRESULT,
    pub SetMessageStatus: unsafe extern "C" fn(
        This: *mut IMAPIFolder,
        cbEntryID: ULONG,
        lpEntryID: LPENTRYID,
        ulNewStatus: ULONG,
        ulNewStatusMask: ULONG,
        lpulOldStatus: *mut ULONG,
    ) -> HRESULT,
    pub SaveContentsSort: unsafe extern "C" fn(
        This: *mut IMAPIFolder,
        lpSortCriteria: *mut SSortOrderSet,
        ulFlags: ULONG,
    ) -> HRESULT,
    pub EmptyFolder: unsafe extern "C" fn(
        This: *mut IMAPIFolder,
        ulUIParam: ULONG_PTR,
        lpProgress: *mut IMAPIProgress,
        ulFlags: ULONG,
    ) -> HRESULT,
}

/// An attachment of a message (reference §11.1): IMAPIProp's slots and no others. Its
/// SaveChanges puts its changes into its message, which stores them at its own SaveChanges.
#[repr(C)]
pub struct IAttach {
    pub lpVtbl: *const IAttachVtbl,
}

#[repr(C)]
pub struct IAttachVtbl {
    pub QueryInterface: unsafe extern "C" fn(
        This: *mut IAttach,
        riid: *const IID,
        ppvObj: *mut *mut c_void,
    ) -> HRESULT,
    pub AddRef: unsafe extern "C" fn(This: *mut IAttach) -> ULONG,
    pub Release: unsafe extern "C" fn(This: *mut IAttach) -> ULONG,
    pub GetLastError: unsafe extern "C" fn(
        This: *mut IAttach,
        hResult: HRESULT,
        ulFlags: ULONG,
        lppMAPIError: *mut LPMAPIERROR,
    ) -> HRESULT,
    pub SaveChanges: unsafe extern "C" fn(This: *mut IAttach, ulFlags: ULONG) -> HRESULT,
    pub GetProps: unsafe extern "C" fn(
        This: *mut IAttach,
        lpPropTagArray: LPSPropTagArray,
        ulFlags: ULONG,
        lpcValues: *mut ULONG,
        lppPropArray: *mut LPSPropValue,
    ) -> HRESULT,
    pub GetPropList: unsafe extern "C" fn(
        This: *mut IAttach,
        ulFlags: ULONG,
        lppPropTagArray: *mut LPSPropTagArray,
    ) -> HRESULT,
    pub OpenProperty: unsafe extern "C" fn(
        This: *mut IAttach,
        ulPropTag: ULONG,
        lpiid: LPCIID,
        ulInterfaceOptions: ULONG,
        ulFlags: ULONG,
        lppUnk: *mut *mut IUnknown,
    ) -> HRESULT,
    pub SetProps: unsafe extern "C" fn(
        This: *mut IAttach,
        cValues: ULONG,
        lpPropArray: LPSPropValue,
        lppProblems: *mut LPSPropProblemArray,
    ) -> HRESULT,
    pub DeleteProps: unsafe extern "C" fn(
        This: *mut IAttach,
        lpPropTagArray: LPSPropTagArray,
        lppProblems: *mut LPSPropProblemArray,
    ) -> HRESULT,
    pub CopyTo: unsafe extern "C" fn(
        This: *mut IAttach,
        ciidExclude: ULONG,
        rgiidExclude: LPCIID,
        lpExcludeProps: LPSPropTagArray,
        ulUIParam: ULONG_PTR,
        lpProgress: *mut IMAPIProgress,
        lpInterface: LPCIID,
        lpDestObj: LPVOID,
        ulFlags: ULONG,
        lppProblems: *mut LPSPropProblemArray,
    ) -> HRESULT,
    pub CopyProps: unsafe extern "C" fn(
        This: *mut IAttach,
        lpIncludeProps: LPSPropTagArray,
        ulUIParam: ULONG_PTR,
        lpProgress: *mut IMAPIProgress,
        lpInterface: LPCIID,
        lpDestObj: LPVOID,
        ulFlags: ULONG,
        lppProblems: *mut LPSPropProblemArray,
    ) -> HRESULT,
    pub GetNamesFromIDs: unsafe extern "C" fn(
        This: *mut IAttach,
        lppPropTags: *mut LPSPropTagArray,
        lpPropSetGuid: LPGUID,
        ulFlags: ULONG,
        lpcPropNames: *mut ULONG,
        lpppPropNames: *mut *mut LPMAPINAMEID,
    ) -> HRESULT,
    pub GetIDsFromNames: unsafe extern "C" fn(
        This: *mut IAttach,
        cPropNames: ULONG,
        lppPropNames: *mut LPMAPINAMEID,
        ulFlags: ULONG,
        lppPropTags: *mut LPSPropTagArray,
    ) -> HRESULT,
}

pub type LPATTACH = *mut IAttach;

/// A message: transacted; each open is an independent client (slots 14–21 after IMAPIProp).
#[repr(C)]
pub struct IMessage {
    pub lpVtbl: *const IMessageVtbl,
}

#[repr(C)]
pub struct IMessageVtbl {
    pub QueryInterface: unsafe extern "C" fn(
        This: *mut IMessage,
        riid: *const IID,
        ppvObj: *mut *mut c_void,
    ) -> HRESULT,
    pub AddRef: unsafe extern "C" fn(This: *mut IMessage) -> ULONG,
    pub Release: unsafe extern "C" fn(This: *mut IMessage) -> ULONG,
    pub GetLastError: unsafe extern "C" fn(
        This: *mut IMessage,
        hResult: HRESULT,
        ulFlags: ULONG,
        lppMAPIError: *mut LPMAPIERROR,
    ) -> HRESULT,
    pub SaveChanges: unsafe extern "C" fn(This: *mut IMessage, ulFlags: ULONG) -> HRESULT,
    pub GetProps: unsafe extern "C" fn(
        This: *mut IMessage,
        lpPropTagArray: LPSPropTagArray,
        ulFlags: ULONG,
        lpcValues: *mut ULONG,
        lppPropArray: *mut LPSPropValue,
    ) -> HRESULT,
    pub GetPropList: unsafe extern "C" fn(
        This: *mut IMessage,
        ulFlags: ULONG,
        lppPropTagArray: *mut LPSPropTagArray,
    ) -> HRESULT,
    pub OpenProperty: unsafe extern "C" fn(
        This: *mut IMessage,
        ulPropTag: ULONG,
        lpiid: LPCIID,
        ulInterfaceOptions: ULONG,
        ulFlags: ULONG,
        lppUnk: *mut *mut IUnknown,
    ) -> HRESULT,
    pub SetProps: unsafe extern "C" fn(
        This: *mut IMessage,
        cValues: ULONG,
        lpPropArray: LPSPropValue,
        lppProblems: *mut LPSPropProblemArray,
    ) -> HRESULT,
    pub DeleteProps: unsafe extern "C" fn(
        This: *mut IMessage,
        lpPropTagArray: LPSPropTagArray,
        lppProblems: *mut LPSPropProblemArray,
    ) -> HRESULT,
    pub CopyTo: unsafe extern "C" fn(
        This: *mut IMessage,
        ciidExclude: ULONG,
        rgiidExclude: LPCIID,
        lpExcludeProps: LPSPropTagArray,
        ulUIParam: ULONG_PTR,
        lpProgress: *mut IMAPIProgress,
        lpInterface: LPCIID,
        lpDestObj: LPVOID,
        ulFlags: ULONG,
        lppProblems: *mut LPSPropProblemArray,
    ) -> HRESULT,
    pub CopyProps: unsafe extern "C" fn(
        This: *mut IMessage,
        lpIncludeProps: LPSPropTagArray,
        ulUIParam: ULONG_PTR,
        lpProgress: *mut IMAPIProgress,
        lpInterface: LPCIID,
        lpDestObj: LPVOID,
        ulFlags: ULONG,
        lppProblems: *mut LPSPropProblemArray,
    ) -> HRESULT,
    pub GetNamesFromIDs: unsafe extern "C" fn(
        This: *mut IMessage,
        lppPropTags: *mut LPSPropTagArray,
        lpPropSetGuid: LPGUID,
        ulFlags: ULONG,
        lpcPropNames: *mut ULONG,
        lpppPropNames: *mut *mut LPMAPINAMEID,
    ) -> HRESULT,
    pub GetIDsFromNames: unsafe extern "C" fn(
        This: *mut IMessage,
        cPropNames: ULONG,
        lppPropNames: *mut LPMAPINAMEID,
        ulFlags: ULONG,
        lppPropTags: *mut LPSPropTagArray,
    ) -> HRESULT,
    pub GetAttachmentTable: unsafe extern "C" fn(
        This: *mut IMessage,
        ulFlags: ULONG,
        lppTable: *mut *mut IMAPITable,
    ) -> HRESULT,
    pub OpenAttach: unsafe extern "C" fn(
        This: *mut IMessage,
        ulAttachmentNum: ULONG,
        lpInterface: LPCIID,
        ulFlags: ULONG,
        lppAttach: *mut *mut IAttach,
    ) -> HRESULT,
    pub CreateAttach: unsafe extern "C" fn(
        This: *mut IMessage,
        lpInterface: LPCIID,
        ulFlags: ULONG,
        lpulAttachmentNum: *mut ULONG,
        lppAttach: *mut *mut IAttach,
    ) -> HRESULT,
    pub DeleteAttach: unsafe extern "C" fn(
        This: *mut IMessage,
        ulAttachmentNum: ULONG,
        ulUIParam: ULONG_PTR,
        lpProgress: *mut IMAPIProgress,
        ulFlags: ULONG,
    ) -> HRESULT,
    pub GetRecipientTable: unsafe extern "C" fn(
        This: *mut IMessage,
        ulFlags: ULONG,
        lppTable: *mut *mut IMAPITable,
    ) -> HRESULT,
    pub ModifyRecipients:
        unsafe extern "C" fn(This: *mut IMessage, ulFlags: ULONG, lpMods: *mut ADRLIST) -> HRESULT,
    pub SubmitMessage: unsafe extern "C" fn(This: *mut IMessage, ulFlags: ULONG) -> HRESULT,
    pub SetReadFlag: unsafe extern "C" fn(This: *mut IMessage, ulFlags: ULONG) -> HRESULT,
}

/// A message store: non-transacted (slots 14–26 after IMAPIProp).
#[repr(C)]
pub struct IMsgStore {
    pub lpVtbl: *const IMsgStoreVtbl,
}

#[repr(C)]
pub struct IMsgStoreVtbl {
    pub QueryInterface: unsafe extern "C" fn(
        This: *mut IMsgStore,
        riid: *const IID,
        ppvObj: *mut *mut c_void,
    ) -> HRESULT,
    pub AddRef: unsafe extern "C" fn(This: *mut IMsgStore) -> ULONG,
    pub Release: unsafe extern "C" fn(This: *mut IMsgStore) -> ULONG,
    pub GetLastError: unsafe extern "C" fn(
        This: *mut IMsgStore,
        hResult: HRESULT,
        ulFlags: ULONG,
        lppMAPIError: *mut LPMAPIERROR,
    ) -> HRESULT,
    pub SaveChanges: unsafe extern "C" fn(This: *mut IMsgStore, ulFlags: ULONG) -> HRESULT,
    pub GetProps: unsafe extern "C" fn(
        This: *mut IMsgStore,
        lpPropTagArray: LPSPropTagArray,
        ulFlags: ULONG,
        lpcValues: *mut ULONG,
        lppPropArray: *mut LPSPropValue,
    ) -> HRESULT,
    pub GetPropList: unsafe extern "C" fn(
        This: *mut IMsgStore,
        ulFlags: ULONG,
        lppPropTagArray: *mut LPSPropTagArray,
    ) -> HRESULT,
    pub OpenProperty: unsafe extern "C" fn(
        This: *mut IMsgStore,
        ulPropTag: ULONG,
        lpiid: LPCIID,
        ulInterfaceOptions: ULONG,
        ulFlags: ULONG,
        lppUnk: *mut *mut IUnknown,
    ) -> HRESULT,
    pub SetProps: unsafe extern "C" fn(
        This: *mut IMsgStore,
        cValues: ULONG,
        lpPropArray: LPSPropValue,
        lppProblems: *mut LPSPropProblemArray,
    ) -> HRESULT,
    pub DeleteProps: unsafe extern "C" fn(
        This: *mut IMsgStore,
        lpPropTagArray: LPSPropTagArray,
        lppProblems: *mut LPSPropProblemArray,
    ) -> HRESULT,
    pub CopyTo: unsafe extern "C" fn(
        This: *mut IMsgStore,
        ciidExclude: ULONG,
        rgiidExclude: LPCIID,
        lpExcludeProps: LPSPropTagArray,
        ulUIParam: ULONG_PTR,
        lpProgress: *mut IMAPIProgress,
        lpInterface: LPCIID,
        lpDestObj: LPVOID,
        ulFlags: ULONG,
        lppProblems: *mut LPSPropProblemArray,
    ) -> HRESULT,
    pub CopyProps: unsafe extern "C" fn(
        This: *mut IMsgStore,
        lpIncludeProps: LPSPropTagArray,
        ulUIParam: ULONG_PTR,
        lpProgress: *mut IMAPIProgress,
        lpInterface: LPCIID,
        lpDestObj: LPVOID,
        ulFlags: ULONG,
        lppProblems: *mut LPSPropProblemArray,
    ) -> HRESULT,
    pub GetNamesFromIDs: unsafe extern "C" fn(
        This: *mut IMsgStore,
        lppPropTags: *mut LPSPropTagArray,
        lpPropSetGuid: LPGUID,
        ulFlags: ULONG,
        lpcPropNames: *mut ULONG,
        lpppPropNames: *mut *mut LPMAPINAMEID,
    ) -> HRESULT,
    pub GetIDsFromNames: unsafe extern "C" fn(
        This: *mut IMsgStore,
        cPropNames: ULONG,
        lppPropNames: *mut LPMAPINAMEID,
        ulFlags: ULONG,
        lppPropTags: *mut LPSPropTagArray,
    ) -> HRESULT,
    pub Advise: unsafe extern "C" fn(
        This: *mut IMsgStore,
        cbEntryID: ULONG,
        lpEntryID: LPENTRYID,
        ulEventMask: ULONG,
        lpAdviseSink: *mut IMAPIAdviseSink,
        lpulConnection: *mut ULONG_PTR,
    ) -> HRESULT,
    pub Unadvise: unsafe extern "C" fn(This: *mut IMsgStore, ulConnection: ULONG_PTR) -> HRESULT,
    pub CompareEntryIDs: unsafe extern "C" fn(
        This: *mut IMsgStore,
        cbEntryID1: ULONG,
        lpEntryID1: LPENTRYID,
        cbEntryID2: ULONG,
        lpEntryID2: LPENTRYID,
        ulFlags: ULONG,
        lpulResult: *mut ULONG,
    ) -> HRESULT,
    pub OpenEntry: unsafe extern "C" fn(
        This: *mut IMsgStore,
        cbEntryID: ULONG,
        lpEntryID: LPENTRYID,
        lpInterface: LPCIID,
        ulFlags: ULONG,
        lpulObjType: *mut ULONG,
        lppUnk: *mut *mut IUnknown,
    ) -> HRESULT,
    pub SetReceiveFolder: unsafe extern "C" fn(
        This: *mut IMsgStore,
        lpszMessageClass: LPTSTR,
        ulFlags: ULONG,
        cbEntryID: ULONG,
        lpEntryID: LPENTRYID,
    ) -> HRESULT,
    pub GetReceiveFolder: unsafe extern "C" fn(
        This: *mut IMsgStore,
        lpszMessageClass: LPTSTR,
        ulFlags: ULONG,
        lpcbEntryID: *mut ULONG,
        lppEntryID: *mut LPENTRYID,
        lppszExplicitClass: *mut LPTSTR,
    ) -> HRESULT,
    pub GetReceiveFolderTable: unsafe extern "C" fn(
        This: *mut IMsgStore,
        ulFlags: ULONG,
        lppTable: *mut *mut IMAPITable,
    ) -> HRESULT,
    pub StoreLogoff: unsafe extern "C" fn(This: *mut IMsgStore, lpulFlags: *mut ULONG) -> HRESULT,
    pub AbortSubmit: unsafe extern "C" fn(
        This: *mut IMsgStore,
        cbEntryID: ULONG,
        lpEntryID: LPENTRYID,
        ulFlags: ULONG,
    ) -> HRESULT,
    pub GetOutgoingQueue: unsafe extern "C" fn(
        This: *mut IMsgStore,
        ulFlags: ULONG,
        lppTable: *mut *mut IMAPITable,
    ) -> HRESULT,
    pub SetLockState: unsafe extern "C" fn(
        This: *mut IMsgStore,
        lpMessage: *mut IMessage,
        ulLockState: ULONG,
    ) -> HRESULT,
    pub FinishedMsg: unsafe extern "C" fn(
        This: *mut IMsgStore,
        ulFlags: ULONG,
        cbEntryID: ULONG,
        lpEntryID: LPENTRYID,
    ) -> HRESULT,
    pub NotifyNewMail:
        unsafe extern "C" fn(This: *mut IMsgStore, lpNotification: *mut NOTIFICATION) -> HRESULT,
}

/// An OLE stream (declared for OpenProperty; slots 3–13 after IUnknown).
#[repr(C)]
pub struct IStream {
    pub lpVtbl: *const IStreamVtbl,
}

#[repr(C)]
pub struct IStreamVtbl {
    pub QueryInterface: unsafe extern "C" fn(
        This: *mut IStream,
        riid: *const IID,
        ppvObj: *mut *mut c_void,
    ) -> HRESULT,
    pub AddRef: unsafe extern "C" fn(This: *mut IStream) -> ULONG,
    pub Release: unsafe extern "C" fn(This: *mut IStream) -> ULONG,
    pub Read: unsafe extern "C" fn(
        This: *mut IStream,
        pv: *mut c_void,
        cb: ULONG,
        pcbRead: *mut ULONG,
    ) -> HRESULT,
    pub Write: unsafe extern "C" fn(
        This: *mut IStream,
        pv: *const c_void,
        cb: ULONG,
        pcbWritten: *mut ULONG,
    ) -> HRESULT,
    pub Seek: unsafe extern "C" fn(
        This: *mut IStream,
        dlibMove: LARGE_INTEGER,
        dwOrigin: DWORD,
        plibNewPosition: *mut ULARGE_INTEGER,
    ) -> HRESULT,
    pub SetSize: unsafe extern "C" fn(This: *mut IStream, libNewSize: ULARGE_INTEGER) -> HRESULT,
    pub CopyTo: unsafe extern "C" fn(
        This: *mut IStream,
        pstm: *mut IStream,
        cb: ULARGE_INTEGER,
        pcbRead: *mut ULARGE_INTEGER,
        pcbWritten: *mut ULARGE_INTEGER,
    ) -> HRESULT,
    pub Commit: unsafe extern "C" fn(This: *mut IStream, grfCommitFlags: DWORD) -> HRESULT,
    pub Revert: unsafe extern "C" fn(This: *mut IStream) -> HRESULT,
    pub LockRegion: unsafe extern "C" fn(
        This: *mut IStream,
        libOffset: ULARGE_INTEGER,
        cb: ULARGE_INTEGER,
        dwLockType: DWORD,
    ) -> HRESULT,
    pub UnlockRegion: unsafe extern "C" fn(
        This: *mut IStream,
        libOffset: ULARGE_INTEGER,
        cb: ULARGE_INTEGER,
        dwLockType: DWORD,
    ) -> HRESULT,
    pub Stat: unsafe extern "C" fn(
        This: *mut IStream,
        pstatstg: *mut STATSTG,
        grfStatFlag: DWORD,
    ) -> HRESULT,
    pub Clone: unsafe extern "C" fn(This: *mut IStream, ppstm: *mut *mut IStream) -> HRESULT,
}

/// Client-implemented: receives notifications (declared; Advise is not implemented yet).
#[repr(C)]
pub struct IMAPIAdviseSink {
    pub lpVtbl: *const IMAPIAdviseSinkVtbl,
}

#[repr(C)]
pub struct IMAPIAdviseSinkVtbl {
    pub QueryInterface: unsafe extern "C" fn(
        This: *mut IMAPIAdviseSink,
        riid: *const IID,
        ppvObj: *mut *mut c_void,
    ) -> HRESULT,
    pub AddRef: unsafe extern "C" fn(This: *mut IMAPIAdviseSink) -> ULONG,
    pub Release: unsafe extern "C" fn(This: *mut IMAPIAdviseSink) -> ULONG,
    pub OnNotify: unsafe extern "C" fn(
        This: *mut IMAPIAdviseSink,
        cNotif: ULONG,
        lpNotifications: *mut NOTIFICATION,
    ) -> ULONG,
}

/// Client-implemented: decides a save conflict (DESIGN.md §5). The store AddRefs it when registered and Releases it when cleared, replaced, or when the store is released; it never calls QueryInterface.
#[repr(C)]
pub struct IMsgStoreConflictResolver {
    pub lpVtbl: *const IMsgStoreConflictResolverVtbl,
}

#[repr(C)]
pub struct IMsgStoreConflictResolverVtbl {
    pub QueryInterface: unsafe extern "C" fn(
        This: *mut IMsgStoreConflictResolver,
        riid: *const IID,
        ppvObj: *mut *mut c_void,
    ) -> HRESULT,
    pub AddRef: unsafe extern "C" fn(This: *mut IMsgStoreConflictResolver) -> ULONG,
    pub Release: unsafe extern "C" fn(This: *mut IMsgStoreConflictResolver) -> ULONG,
    pub ResolveConflict: unsafe extern "C" fn(
        This: *mut IMsgStoreConflictResolver,
        lpMessage: *mut IMessage,
        lpConflict: *const MSGCONFLICT,
        lpulAction: *mut ULONG,
        lppDestFolder: *mut *mut IMAPIFolder,
    ) -> HRESULT,
}

/// A table: rows with a column set, a sort order, a restriction, a cursor and bookmarks
/// (reference §10.1; slots 3–25 in MAPI's order).
#[repr(C)]
pub struct IMAPITable {
    pub lpVtbl: *const IMAPITableVtbl,
}

#[repr(C)]
pub struct IMAPITableVtbl {
    pub QueryInterface: unsafe extern "C" fn(This: *mut IMAPITable, riid: *const IID, ppvObj: *mut *mut c_void) -> HRESULT,
    pub AddRef: unsafe extern "C" fn(This: *mut IMAPITable) -> ULONG,
    pub Release: unsafe extern "C" fn(This: *mut IMAPITable) -> ULONG,
    pub GetLastError: unsafe extern "C" fn(This: *mut IMAPITable, hResult: HRESULT, ulFlags: ULONG, lppMAPIError: *mut LPMAPIERROR) -> HRESULT,
    pub Advise: unsafe extern "C" fn(This: *mut IMAPITable, ulEventMask: ULONG, lpAdviseSink: *mut IMAPIAdviseSink, lpulConnection: *mut ULONG_PTR) -> HRESULT,
    pub Unadvise: unsafe extern "C" fn(This: *mut IMAPITable, ulConnection: ULONG_PTR) -> HRESULT,
    pub GetStatus: unsafe extern "C" fn(This: *mut IMAPITable, lpulTableStatus: *mut ULONG, lpulTableType: *mut ULONG) -> HRESULT,
    pub SetColumns: unsafe extern "C" fn(This: *mut IMAPITable, lpPropTagArray: LPSPropTagArray, ulFlags: ULONG) -> HRESULT,
    pub QueryColumns: unsafe extern "C" fn(This: *mut IMAPITable, ulFlags: ULONG, lpPropTagArray: *mut LPSPropTagArray) -> HRESULT,
    pub GetRowCount: unsafe extern "C" fn(This: *mut IMAPITable, ulFlags: ULONG, lpulCount: *mut ULONG) -> HRESULT,
    pub SeekRow: unsafe extern "C" fn(This: *mut IMAPITable, bkOrigin: BOOKMARK, lRowCount: LONG, lplRowsSought: *mut LONG) -> HRESULT,
    pub SeekRowApprox: unsafe extern "C" fn(This: *mut IMAPITable, ulNumerator: ULONG, ulDenominator: ULONG) -> HRESULT,
    pub QueryPosition: unsafe extern "C" fn(This: *mut IMAPITable, lpulRow: *mut ULONG, lpulNumerator: *mut ULONG, lpulDenominator: *mut ULONG) -> HRESULT,
    pub FindRow: unsafe extern "C" fn(This: *mut IMAPITable, lpRestriction: LPSRestriction, bkOrigin: BOOKMARK, ulFlags: ULONG) -> HRESULT,
    pub Restrict: unsafe extern "C" fn(This: *mut IMAPITable, lpRestriction: LPSRestriction, ulFlags: ULONG) -> HRESULT,
    pub CreateBookmark: unsafe extern "C" fn(This: *mut IMAPITable, lpbkPosition: *mut BOOKMARK) -> HRESULT,
    pub FreeBookmark: unsafe extern "C" fn(This: *mut IMAPITable, bkPosition: BOOKMARK) -> HRESULT,
    pub SortTable: unsafe extern "C" fn(This: *mut IMAPITable, lpSortCriteria: LPSSortOrderSet, ulFlags: ULONG) -> HRESULT,
    pub QuerySortOrder: unsafe extern "C" fn(This: *mut IMAPITable, lppSortCriteria: *mut LPSSortOrderSet) -> HRESULT,
    pub QueryRows: unsafe extern "C" fn(This: *mut IMAPITable, lRowCount: LONG, ulFlags: ULONG, lppRows: *mut LPSRowSet) -> HRESULT,
    pub Abort: unsafe extern "C" fn(This: *mut IMAPITable) -> HRESULT,
    pub ExpandRow: unsafe extern "C" fn(This: *mut IMAPITable, cbInstanceKey: ULONG, pbInstanceKey: LPBYTE, ulRowCount: ULONG, ulFlags: ULONG, lppRows: *mut LPSRowSet, lpulMoreRows: *mut ULONG) -> HRESULT,
    pub CollapseRow: unsafe extern "C" fn(This: *mut IMAPITable, cbInstanceKey: ULONG, pbInstanceKey: LPBYTE, ulFlags: ULONG, lpulRowCount: *mut ULONG) -> HRESULT,
    pub WaitForCompletion: unsafe extern "C" fn(This: *mut IMAPITable, ulFlags: ULONG, ulTimeout: ULONG, lpulTableStatus: *mut ULONG) -> HRESULT,
    pub GetCollapseState: unsafe extern "C" fn(This: *mut IMAPITable, ulFlags: ULONG, cbInstanceKey: ULONG, lpbInstanceKey: LPBYTE, lpcbCollapseState: *mut ULONG, lppbCollapseState: *mut LPBYTE) -> HRESULT,
    pub SetCollapseState: unsafe extern "C" fn(This: *mut IMAPITable, ulFlags: ULONG, cbCollapseState: ULONG, pbCollapseState: LPBYTE, lpbkLocation: *mut BOOKMARK) -> HRESULT,
}

/// Called when a view made by ITableData::HrGetView is released (a pointer to MAPI's
/// `CALLERRELEASE`; NULL for none).
pub type LPCALLERRELEASE = Option<unsafe extern "C" fn(ulCallerData: ULONG_PTR, lpTblData: *mut ITableData, lpVue: *mut IMAPITable)>;

/// An in-memory table a client fills (CreateTable, reference §12.1) and views through
/// IMAPITable (HrGetView).
#[repr(C)]
pub struct ITableData {
    pub lpVtbl: *const ITableDataVtbl,
}

#[repr(C)]
pub struct ITableDataVtbl {
    pub QueryInterface: unsafe extern "C" fn(This: *mut ITableData, riid: *const IID, ppvObj: *mut *mut c_void) -> HRESULT,
    pub AddRef: unsafe extern "C" fn(This: *mut ITableData) -> ULONG,
    pub Release: unsafe extern "C" fn(This: *mut ITableData) -> ULONG,
    pub HrGetView: unsafe extern "C" fn(This: *mut ITableData, lpSSortOrderSet: LPSSortOrderSet, lpfCallerRelease: LPCALLERRELEASE, ulCallerData: ULONG_PTR, lppMAPITable: *mut *mut IMAPITable) -> HRESULT,
    pub HrModifyRow: unsafe extern "C" fn(This: *mut ITableData, lpSRow: LPSRow) -> HRESULT,
    pub HrDeleteRow: unsafe extern "C" fn(This: *mut ITableData, lpSPropValue: LPSPropValue) -> HRESULT,
    pub HrQueryRow: unsafe extern "C" fn(This: *mut ITableData, lpsPropValue: LPSPropValue, lppSRow: *mut LPSRow, lpuliRow: *mut ULONG) -> HRESULT,
    pub HrEnumRow: unsafe extern "C" fn(This: *mut ITableData, ulRowNumber: ULONG, lppSRow: *mut LPSRow) -> HRESULT,
    pub HrNotify: unsafe extern "C" fn(This: *mut ITableData, ulFlags: ULONG, cValues: ULONG, lpSPropValue: LPSPropValue) -> HRESULT,
    pub HrInsertRow: unsafe extern "C" fn(This: *mut ITableData, uliRow: ULONG, lpSRow: LPSRow) -> HRESULT,
    pub HrModifyRows: unsafe extern "C" fn(This: *mut ITableData, ulFlags: ULONG, lpSRowSet: LPSRowSet) -> HRESULT,
    pub HrDeleteRows: unsafe extern "C" fn(This: *mut ITableData, ulFlags: ULONG, lprowsetToDelete: LPSRowSet, cRowsDeleted: *mut ULONG) -> HRESULT,
}

pub type LPUNKNOWN = *mut IUnknown;
pub type LPMAPIPROP = *mut IMAPIProp;
pub type LPPROPDATA = *mut IPropData;
pub type LPMAPICONTAINER = *mut IMAPIContainer;
pub type LPMAPIFOLDER = *mut IMAPIFolder;
pub type LPMESSAGE = *mut IMessage;
pub type LPMDB = *mut IMsgStore;
pub type LPSTREAM = *mut IStream;
pub type LPMAPIADVISESINK = *mut IMAPIAdviseSink;
pub type LPMSGSTORECONFLICTRESOLVER = *mut IMsgStoreConflictResolver;
pub type LPTABLEDATA = *mut ITableData;

const _: () = assert!(std::mem::size_of::<MSGCONFLICT>() == 40);
const _: () = assert!(std::mem::size_of::<IUnknownVtbl>() == 3 * 8);
const _: () = assert!(std::mem::size_of::<IMAPIPropVtbl>() == 14 * 8);
const _: () = assert!(std::mem::size_of::<IAttachVtbl>() == 14 * 8);
const _: () = assert!(std::mem::size_of::<IPropDataVtbl>() == 18 * 8);
const _: () = assert!(std::mem::size_of::<IMAPIContainerVtbl>() == 19 * 8);
const _: () = assert!(std::mem::size_of::<IMAPIFolderVtbl>() == 30 * 8);
const _: () = assert!(std::mem::size_of::<IMessageVtbl>() == 22 * 8);
const _: () = assert!(std::mem::size_of::<IMsgStoreVtbl>() == 27 * 8);
const _: () = assert!(std::mem::size_of::<IStreamVtbl>() == 14 * 8);
const _: () = assert!(std::mem::size_of::<IMAPIAdviseSinkVtbl>() == 4 * 8);
const _: () = assert!(std::mem::size_of::<IMsgStoreConflictResolverVtbl>() == 4 * 8);
const _: () = assert!(std::mem::size_of::<IMAPITableVtbl>() == 26 * 8);
const _: () = assert!(std::mem::size_of::<ITableDataVtbl>() == 12 * 8);
